//! `compare_debs` with one side arbitrary and the other a fixed small valid package.
#![no_main]

use cryo_compare::{compare_debs, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_decompressed_size: 1 << 20,
        max_total_decompressed: 4 << 20,
        ..Limits::default()
    };
    let _ = compare_debs(data, data, &limits);
    if let Ok(c) = compare_debs(data, &[], &limits) {
        let _ = c.classification();
    }
});
