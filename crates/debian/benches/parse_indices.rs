//! Parse the full fixture Packages.xz and Sources.xz and print timings (plain
//! `harness = false` bench: `cargo bench -p cryo-debian`). Reports the best of 5 runs for
//! xz decompression, deb822 paragraph parsing, and typed index parsing.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cryo_debian::{compression, deb822, index};

fn mirror() -> PathBuf {
    match std::env::var_os("CRYO_FIXTURE_MIRROR") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mirror"),
    }
}

fn best<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..5 {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        last = Some(r);
    }
    (best, last.expect("ran at least once"))
}

fn main() {
    for rel in [
        "debian/dists/bookworm/main/binary-amd64/Packages.xz",
        "debian/dists/bookworm/main/source/Sources.xz",
    ] {
        let path = mirror().join(rel);
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (t_xz, plain) =
            best(|| compression::decompress(&data, Some(rel), 1 << 30).expect("xz"));
        let text = String::from_utf8(plain).expect("utf-8");
        let (t_822, n) = best(|| deb822::parse(&text).expect("deb822").len());
        let (t_typed, m) = best(|| {
            if rel.contains("Packages") {
                index::parse_packages(&text, None).expect("packages").len()
            } else {
                index::parse_sources(&text, None).expect("sources").len()
            }
        });
        assert_eq!(n, m);
        let mb = text.len() as f64 / 1e6;
        println!(
            "{rel}: {mb:.1} MB, {n} stanzas | xz {:.0} ms | deb822 {:.1} ms ({:.0} MB/s) | typed {:.1} ms",
            t_xz.as_secs_f64() * 1e3,
            t_822.as_secs_f64() * 1e3,
            mb / t_822.as_secs_f64(),
            t_typed.as_secs_f64() * 1e3,
        );
    }
}
