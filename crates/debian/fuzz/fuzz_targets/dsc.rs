//! `.dsc` files: parsed without verification and verified against the fixture keyring.
#![no_main]

use std::sync::OnceLock;

use cryo_debian::{dsc, openpgp::Keyring};
use libfuzzer_sys::fuzz_target;

fn keyring() -> &'static Keyring {
    static K: OnceLock<Keyring> = OnceLock::new();
    K.get_or_init(|| {
        let mirror = std::env::var_os("CRYO_FIXTURE_MIRROR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/mirror")
            });
        Keyring::from_file(&mirror.join("keyrings/debian-archive-keyring.gpg")).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = std::str::from_utf8(data) {
        if let Err(e) = dsc::parse(t, "fuzz.dsc") {
            assert!(!e.to_string().is_empty());
        }
    }
    if let Err(e) = dsc::parse_verified(data, "fuzz.dsc", keyring()) {
        assert!(!e.to_string().is_empty());
    }
});
