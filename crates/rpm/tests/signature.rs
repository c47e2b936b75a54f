//! Digest and signature verdicts against `rpmkeys --checksig -v` (temp rpmdb with the key
//! imported) on packages built by `rpmbuild`, signed by `rpmsign` with a throw-away GnuPG
//! key, and tampered copies: a byte flipped in the header, in the payload, the signature
//! stripped, signed by a key not in the keyring.

#[path = "common/rpmbuild.rs"]
mod rpmbuild;

use std::path::Path;
use std::process::Command;

use cryo_debian::openpgp::Keyring;
use cryo_rpm::package::{Limits, Package, SignatureCheck, VerifyError};
use rpmbuild::{have_tools, rpmkeys_checksig, Gpg, Spec};

/// The verdict families both sides must agree on.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Signed,
    Unsigned,
    UnknownKey,
    BadSignature,
    DigestMismatch,
}

fn ours(rpm: &Path, keyring: &Keyring) -> (Verdict, Option<String>) {
    let bytes = std::fs::read(rpm).unwrap();
    let pkg = Package::parse(&bytes, &Limits::default()).unwrap();
    let v = pkg.verify(keyring);
    match v.result() {
        Ok(keys) => (Verdict::Signed, Some(keys[0].0.clone())),
        Err(VerifyError::Unsigned) => (Verdict::Unsigned, None),
        Err(VerifyError::UnknownKey { issuer, .. }) => (Verdict::UnknownKey, Some(issuer)),
        Err(VerifyError::BadSignature { .. }) => (Verdict::BadSignature, None),
        Err(VerifyError::DigestMismatch { .. }) => (Verdict::DigestMismatch, None),
        Err(other) => panic!("unexpected verdict {other} for {}", rpm.display()),
    }
}

fn theirs(rpm: &Path, key: &[u8]) -> (Verdict, String) {
    let (ok, text) = rpmkeys_checksig(rpm, &[key]);
    let verdict = if text.contains("digest: BAD") {
        Verdict::DigestMismatch
    } else if text.contains("NOKEY") {
        Verdict::UnknownKey
    } else if text
        .lines()
        .any(|l| l.contains("Signature") && l.ends_with(": BAD"))
    {
        Verdict::BadSignature
    } else if ok && text.contains("Signature") {
        Verdict::Signed
    } else if ok {
        Verdict::Unsigned
    } else {
        panic!("unclassified rpmkeys output for {}:\n{text}", rpm.display());
    };
    (verdict, text)
}

fn flip(src: &Path, dst: &Path, offset: usize) {
    let mut bytes = std::fs::read(src).unwrap();
    bytes[offset] ^= 0x20;
    std::fs::write(dst, bytes).unwrap();
}

#[test]
fn verdicts_agree_with_rpmkeys_checksig() {
    if !have_tools(&["rpmbuild", "rpmsign", "rpmkeys", "gpg", "gpgconf"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let vendor = Gpg::new("cryo vendor <vendor@example.org>");
    let stranger = Gpg::new("cryo stranger <stranger@example.org>");
    let vendor_key = vendor.public_key();
    let keyring = Keyring::from_bytes(&vendor_key).unwrap();

    let unsigned = Spec::new("cryosig").build(&dir.path().join("build"));
    let signed = dir.path().join("signed.rpm");
    std::fs::copy(&unsigned, &signed).unwrap();
    vendor.sign(&signed);
    let foreign = dir.path().join("foreign.rpm");
    std::fs::copy(&unsigned, &foreign).unwrap();
    stranger.sign(&foreign);
    let stripped = dir.path().join("stripped.rpm");
    std::fs::copy(&signed, &stripped).unwrap();
    let out = Command::new("rpmsign")
        .arg("--delsign")
        .arg(&stripped)
        .output()
        .unwrap();
    assert!(out.status.success());

    // Offsets to tamper with: a byte of the description text in the main header, and a
    // byte in the middle of the compressed payload.
    let bytes = std::fs::read(&signed).unwrap();
    let pkg = Package::parse(&bytes, &Limits::default()).unwrap();
    let in_header = bytes
        .windows(14)
        .position(|w| w == b"A test package")
        .unwrap();
    assert!(in_header > pkg.header_offset);
    let in_payload = bytes.len() - pkg.payload.len() / 2;
    let header_flipped = dir.path().join("header-flipped.rpm");
    flip(&signed, &header_flipped, in_header);
    let payload_flipped = dir.path().join("payload-flipped.rpm");
    flip(&signed, &payload_flipped, in_payload);
    let unsigned_payload_flipped = dir.path().join("unsigned-payload-flipped.rpm");
    let ubytes = std::fs::read(&unsigned).unwrap();
    let upkg = Package::parse(&ubytes, &Limits::default()).unwrap();
    flip(
        &unsigned,
        &unsigned_payload_flipped,
        ubytes.len() - upkg.payload.len() / 2,
    );

    let cases = [
        (&unsigned, Verdict::Unsigned),
        (&signed, Verdict::Signed),
        (&foreign, Verdict::UnknownKey),
        (&stripped, Verdict::Unsigned),
        (&header_flipped, Verdict::DigestMismatch),
        (&payload_flipped, Verdict::DigestMismatch),
        (&unsigned_payload_flipped, Verdict::DigestMismatch),
    ];
    for (rpm, expected) in cases {
        let (mine, who) = ours(rpm, &keyring);
        let (rpmkeys, text) = theirs(rpm, &vendor_key);
        assert_eq!(mine, rpmkeys, "{}: rpmkeys said\n{text}", rpm.display());
        assert_eq!(mine, expected, "{}", rpm.display());
        match mine {
            Verdict::Signed => {
                assert_eq!(who.as_deref(), Some(vendor.fingerprint.as_str()));
                let key_id = vendor.fingerprint[32..].to_lowercase();
                assert!(text.contains(&key_id), "{text}");
            }
            Verdict::UnknownKey => {
                assert_eq!(who.as_deref(), Some(stranger.fingerprint.as_str()));
            }
            _ => {}
        }
    }

    // The header flip also breaks the signature, seen apart from the digest.
    let hb = std::fs::read(&header_flipped).unwrap();
    let v = Package::parse(&hb, &Limits::default())
        .unwrap()
        .verify(&keyring);
    assert!(matches!(
        v.signatures.as_slice(),
        [(_, SignatureCheck::Bad { .. })]
    ));
    // The payload flip leaves the header signature good: only the payload digest fails.
    let pb = std::fs::read(&payload_flipped).unwrap();
    let v = Package::parse(&pb, &Limits::default())
        .unwrap()
        .verify(&keyring);
    assert!(matches!(
        v.signatures.as_slice(),
        [(_, SignatureCheck::Good { .. })]
    ));
    assert!(v.any_digest_failed());
}
