//! xz / gzip / zstd with the output cap: a bomb is an error, not an allocation.
#![no_main]

use cryo_debian::compression;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(out) = compression::decompress(data, None, 1 << 20) {
        assert!(out.len() <= 1 << 20);
    }
});
