//! `debian/control` and `debian/changelog` of uploaded source trees.
#![no_main]

use cryo_debian::{changelog, control};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(t) = std::str::from_utf8(data) else {
        return;
    };
    let _ = control::parse(t, "debian/control");
    if let Ok(e) = changelog::parse_first_entry(t, "debian/changelog") {
        let _ = e.render();
    }
});
