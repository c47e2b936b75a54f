//! Release files and Packages/Sources indices.
#![no_main]

use cryo_debian::{index, release::Release};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(t) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Release::parse(t);
    let _ = index::parse_packages(t, Some("Packages"));
    let _ = index::parse_sources(t, Some("Sources"));
});
