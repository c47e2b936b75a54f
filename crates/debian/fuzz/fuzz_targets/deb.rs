//! The `.deb` container reader: every member decoded with a 1 MiB cap, which no output
//! may exceed.
#![no_main]

use cryo_debian::compression::DecoderLimits;
use cryo_debian::deb::DebReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = DebReader::new(data) else {
        return;
    };
    while let Ok(Some(member)) = reader.next_member() {
        if let Ok(out) = member.read_decoded(1 << 20, &DecoderLimits::default()) {
            assert!(out.len() <= 1 << 20);
        }
    }
});
