//! deb822 paragraphs (Packages, Sources, Release, .dsc, debian/control) from any bytes.
#![no_main]

use cryo_debian::deb822;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = deb822::as_text(data, Some("fuzz")) else {
        return;
    };
    for comments in [false, true] {
        let opts = deb822::ParseOptions {
            comments,
            file: Some("fuzz"),
        };
        match deb822::parse_with(text, opts) {
            Ok(ps) => {
                for p in ps {
                    let _ = p.to_owned_paragraph().to_string();
                    for f in p.fields() {
                        let _ = (f.multiline(), f.lines().count());
                    }
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});
