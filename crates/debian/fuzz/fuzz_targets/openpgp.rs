//! OpenPGP armour and packets: keyrings, clearsigned messages, detached signatures.
#![no_main]

use std::sync::OnceLock;

use cryo_debian::openpgp::{self, Keyring};
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
    if let Ok(k) = Keyring::from_bytes(data) {
        let _ = k.fingerprints();
    }
    let _ = openpgp::verify_clearsigned(data, keyring());
    let _ = openpgp::verify_detached(b"signed data", data, keyring());
    if let Ok(t) = std::str::from_utf8(data) {
        let _ = openpgp::strip_clearsign(t);
    }
});
