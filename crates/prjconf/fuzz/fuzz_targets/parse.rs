//! Fuzz target: any input, parsed for two architectures, must not panic; what parses must give
//! the same canonical hash when parsed again.
#![no_main]

use cryo_prjconf::{ParseContext, Prjconf};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for arch in ["x86_64", "aarch64"] {
        let ctx = ParseContext::new(arch);
        if let Ok(c) = Prjconf::parse(text, "fuzz.prjconf", &ctx) {
            let again = Prjconf::parse(text, "fuzz.prjconf", &ctx).map(|c| c.normalized_hash());
            assert_eq!(again.ok(), Some(c.normalized_hash()));
        }
    }
});
