//! ELF comparison of an arbitrary object with itself.
#![no_main]

use cryo_compare::{elf, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = elf::compare(data, data, &Limits::default());
    let _ = elf::compare(data, &[], &Limits::default());
});
