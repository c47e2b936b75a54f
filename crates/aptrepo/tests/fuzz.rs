//! Property test standing in for the fuzzer in normal test runs (cargo-fuzz target in
//! `crates/aptrepo/fuzz`, long runs in `bench/fuzz.sh`): publishing scans `.deb` files a
//! build produced, so `scan_deb` gets arbitrary bytes and mutated real packages (whole-file
//! edits and edits inside one member, compressed and uncompressed). The property: no
//! panic, bounded time per input, and a rejected input is an error with a message; what
//! scans has a file name that is one path component.

mod common;

// One copy of the mutators for every crate's fuzz properties (test support, not a crate).
#[path = "../../debian/tests/common/mutate.rs"]
mod mutate;

#[path = "../../compare/tests/common/debseed.rs"]
mod debseed;

use cryo_aptrepo::{scan_deb, scan_deb_bytes};
use mutate::{bounded, cases, check_err};
use proptest::prelude::*;

fn debs() -> Vec<Vec<u8>> {
    common::fixture_debs()
        .iter()
        .take(2)
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display())))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    #[test]
    fn scan_deb_never_panics(deb in debseed::input(debs()), lie in 0u64..3) {
        bounded("scan_deb", || {
            if let Some(s) = check_err("scan_deb_bytes", scan_deb_bytes(&deb)) {
                let name = s.file_name();
                assert!(!name.contains('/') && name != ".." && name != ".", "{name:?}");
            }
            // A reader that yields a different size than declared is an error.
            let declared = deb.len() as u64 + lie;
            let r = check_err("scan_deb", scan_deb(deb.as_slice(), declared));
            assert!(lie == 0 || r.is_none(), "size mismatch accepted");
        });
    }
}
