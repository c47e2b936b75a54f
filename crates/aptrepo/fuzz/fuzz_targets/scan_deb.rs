//! Publishing's `.deb` scanner: the control paragraph and the file hashes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = cryo_aptrepo::scan_deb_bytes(data) {
        let name = s.file_name();
        assert!(!name.contains('/'), "{name:?}");
    }
});
