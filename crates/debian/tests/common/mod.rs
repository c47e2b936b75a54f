//! Fixture access shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The read-only fixture mirror (`CRYO_FIXTURE_MIRROR` overrides).
pub fn mirror() -> PathBuf {
    match std::env::var_os("CRYO_FIXTURE_MIRROR") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mirror"),
    }
}

/// Read and xz-decompress an index of the fixture into text.
pub fn index(rel: &str) -> String {
    let data = std::fs::read(mirror().join(rel)).unwrap();
    let plain = cryo_debian::compression::decompress(&data, Some(rel), 512 << 20).unwrap();
    String::from_utf8(plain).unwrap()
}

pub const MAIN_PACKAGES: &str = "debian/dists/bookworm/main/binary-amd64/Packages.xz";
pub const MAIN_SOURCES: &str = "debian/dists/bookworm/main/source/Sources.xz";
pub const SEC_PACKAGES: &str =
    "debian-security/dists/bookworm-security/main/binary-amd64/Packages.xz";
pub const SEC_SOURCES: &str = "debian-security/dists/bookworm-security/main/source/Sources.xz";

/// Whether this run is CI (`CI=true`), where a test that cannot do its job must fail.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A test's precondition (a tool, the fixture): when it does not hold the test is skipped
/// locally (returns `false` after saying why) but **fails** under `CI=true`. The same rule
/// as `cryo_tests::require`, which format crates cannot depend on.
pub fn require(cond: bool, why: &str) -> bool {
    if cond {
        return true;
    }
    assert!(!in_ci(), "CI=true and this test cannot run: {why}");
    eprintln!("skipping: {why} (this fails under CI=true)");
    false
}
