//! Input generators for the property tests that stand in for the fuzzers in normal test
//! runs (`bench/fuzz.sh` runs them longer, or the cargo-fuzz targets when a nightly
//! toolchain with cargo-fuzz is available): arbitrary bytes, and real seed files with
//! random edits (bit flips, overwrites, insertions, deletions, duplicated spans,
//! truncation), which reach far deeper into a parser than random bytes do.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use proptest::prelude::*;

/// One edit of a byte string; positions are taken modulo the current length.
#[derive(Debug, Clone)]
pub enum Edit {
    Flip(u32, u8),
    Set(u32, u8),
    Insert(u32, Vec<u8>),
    Delete(u32, u16),
    Duplicate(u32, u16, u32),
    Truncate(u32),
}

/// Bytes a parser of text formats cares about, for inserts.
const INTERESTING: &[&[u8]] = &[
    b"\n",
    b"\n\n",
    b" ",
    b"\t",
    b":",
    b"-",
    b"/",
    b"..",
    b"../",
    b"\0",
    b"\xff",
    b"\r\n",
    b"-----BEGIN PGP SIGNATURE-----\n",
    b"-----END PGP SIGNATURE-----\n",
    b"-----BEGIN PGP SIGNED MESSAGE-----\n",
    b"- ",
    b"=",
    b"Checksums-Sha256:\n",
    b" 0 ",
    b"99999999999999999999",
    b"-1",
    b"%",
    b"(",
    b")",
    b",",
    b"|",
];

pub fn edit() -> impl Strategy<Value = Edit> {
    let insert = prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..16),
        proptest::sample::select(INTERESTING).prop_map(|b| b.to_vec()),
    ];
    prop_oneof![
        (any::<u32>(), 0u8..8).prop_map(|(p, b)| Edit::Flip(p, b)),
        (any::<u32>(), any::<u8>()).prop_map(|(p, b)| Edit::Set(p, b)),
        (any::<u32>(), insert).prop_map(|(p, b)| Edit::Insert(p, b)),
        (any::<u32>(), 1u16..64).prop_map(|(p, n)| Edit::Delete(p, n)),
        (any::<u32>(), 1u16..512, any::<u32>()).prop_map(|(p, n, t)| Edit::Duplicate(p, n, t)),
        any::<u32>().prop_map(Edit::Truncate),
    ]
}

/// Applies `edits` to a copy of `seed`.
pub fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for e in edits {
        let at = |p: u32, len: usize| if len == 0 { 0 } else { p as usize % len };
        match e {
            Edit::Flip(p, b) if !v.is_empty() => {
                let i = at(*p, v.len());
                v[i] ^= 1 << b;
            }
            Edit::Set(p, b) if !v.is_empty() => {
                let i = at(*p, v.len());
                v[i] = *b;
            }
            Edit::Insert(p, bytes) => {
                let i = at(*p, v.len() + 1);
                v.splice(i..i, bytes.iter().copied());
            }
            Edit::Delete(p, n) if !v.is_empty() => {
                let i = at(*p, v.len());
                let end = (i + *n as usize).min(v.len());
                v.drain(i..end);
            }
            Edit::Duplicate(p, n, t) if !v.is_empty() => {
                let i = at(*p, v.len());
                let end = (i + *n as usize).min(v.len());
                let span = v[i..end].to_vec();
                let to = at(*t, v.len() + 1);
                v.splice(to..to, span);
            }
            Edit::Truncate(p) => {
                let i = at(*p, v.len() + 1);
                v.truncate(i);
            }
            _ => {}
        }
    }
    v
}

/// Arbitrary bytes (up to `max` long), or one of `seeds` with 1..8 random edits.
pub fn input(seeds: Vec<Vec<u8>>, max: usize) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    let mutated = (0..n.max(1), proptest::collection::vec(edit(), 1..8))
        .prop_map(move |(i, edits)| apply(&seeds[i], &edits));
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..max),
        4 => mutated,
    ]
}

/// The time one input may take in a debug build before it counts as a hang.
pub const BOUND: Duration = Duration::from_secs(10);

/// Runs `f`, failing when it takes longer than [`BOUND`].
pub fn bounded<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    let took = t.elapsed();
    assert!(
        took < BOUND,
        "{what} took {took:?} on one input (bound {BOUND:?})"
    );
    out
}

/// "Errors are errors": a rejected input yields an error that says something.
pub fn check_err<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            assert!(
                !e.to_string().trim().is_empty(),
                "{what}: empty error message"
            );
            None
        }
    }
}

/// Cases per property: `PROPTEST_CASES` (bench/fuzz.sh raises it), else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
