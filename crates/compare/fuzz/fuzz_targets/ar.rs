//! The ar container of a `.deb`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cryo_compare::ar::parse(data, 16);
});
