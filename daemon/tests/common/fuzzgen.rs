//! A small deterministic input generator for the fuzz tests of the daemon's crate (the
//! daemon has no proptest): random bytes, and seeds with random edits. `CRYO_FUZZ_SEED`
//! picks the sequence, `CRYO_FUZZ_CASES` the count (`bench/fuzz.sh` raises it).
#![allow(dead_code)]

/// splitmix64: small, deterministic, good enough to pick edits.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens a JSON body parser cares about.
const TOKENS: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "null",
    "true",
    "false",
    "-1",
    "1e999",
    "0",
    "18446744073709551616",
    "\"../../x\"",
    "\"\\u0000\"",
    "\"a/b\"",
    "\"\"",
    "\\",
    "\\u",
    "{\"kind\":\"dsc\",\"dsc\":\"../x.dsc\",\"files\":{}}",
    "\"src:hello\"",
    "  ",
    "\n",
];

/// `seed` with 1..6 random edits, or random bytes.
pub fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    if rng.below(8) == 0 {
        let len = rng.below(256);
        return (0..len).map(|_| rng.next() as u8).collect();
    }
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if at < v.len() => v[at] ^= 1 << rng.below(8),
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(at..at, t.bytes());
            }
            2 if at < v.len() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at..end);
            }
            3 => v.truncate(at),
            _ if at < v.len() => v[at] = rng.next() as u8,
            _ => {}
        }
    }
    v
}

pub fn cases(default: usize) -> usize {
    std::env::var("CRYO_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn seed() -> u64 {
    std::env::var("CRYO_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x00c0_ffee)
}

/// The members of an ar archive (`!<arch>\n`, 60-byte headers, 2-byte alignment), or
/// `None` when it is not one; only for building seeds from real files.
pub fn ar_members(data: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let mut rest = data.strip_prefix(b"!<arch>\n")?;
    let mut out = Vec::new();
    while rest.len() >= 60 {
        let (head, body) = rest.split_at(60);
        let name = String::from_utf8_lossy(&head[..16])
            .trim_end()
            .trim_end_matches('/')
            .to_owned();
        let size: usize = std::str::from_utf8(&head[48..58])
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let data = body.get(..size)?.to_vec();
        rest = &body[(size + size % 2).min(body.len())..];
        out.push((name, data));
    }
    Some(out)
}

/// An ar archive of `members`, as dpkg-deb writes it.
pub fn ar_pack(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (name, data) in members {
        out.extend_from_slice(
            format!(
                "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                name,
                0,
                0,
                0,
                "100644",
                data.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

/// One ustar record: header (+ data padded to 512).
pub fn tar_entry(name: &str, kind: u8, link: &str, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}
