//! A `control.tar` / `data.tar` stream, listed with small limits.
#![no_main]

use cryo_compare::{tar, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_entries: 256,
        ..Limits::default()
    };
    if let Ok(l) = tar::parse(data, &limits) {
        let _ = tar::compare_order(&l, &l);
    }
});
