//! Versions, relation fields and architecture names.
#![no_main]

use cryo_debian::{arch::Arch, relation, version::Version};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = String::from_utf8_lossy(data);
    if let (Ok(a), Ok(b)) = (t.parse::<Version>(), "1.0-1".parse::<Version>()) {
        let _ = a.cmp(&b);
    }
    if let Ok(r) = relation::parse_relation(&t) {
        let _ = r.to_string();
    }
    let _ = t.parse::<Arch>();
});
