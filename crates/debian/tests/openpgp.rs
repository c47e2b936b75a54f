//! InRelease / Release.gpg verification against the fixture keyring and generated keys.

mod common;

use cryo_debian::openpgp::{self, Keyring, OpenPgpError};
use cryo_debian::release::Release;
use pgp::composed::{
    CleartextSignedMessage, DetachedSignature, KeyType, SecretKeyParamsBuilder, SignedPublicKey,
    SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::ser::Serialize;
use pgp::types::Password;
use rand::SeedableRng;

fn archive_keyring() -> Keyring {
    Keyring::from_file(&common::mirror().join("keyrings/debian-archive-keyring.gpg")).unwrap()
}

fn inrelease(suite_dir: &str) -> Vec<u8> {
    std::fs::read(common::mirror().join(suite_dir).join("InRelease")).unwrap()
}

fn test_key(seed: u64) -> SignedSecretKey {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    SecretKeyParamsBuilder::default()
        .key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .primary_user_id("cryo test <test@example.invalid>".into())
        .build()
        .unwrap()
        .generate(&mut rng)
        .unwrap()
}

fn keyring_of(key: &SignedSecretKey) -> Keyring {
    let public = SignedPublicKey::from(key.clone());
    Keyring::from_bytes(&public.to_bytes().unwrap()).unwrap()
}

#[test]
fn real_inrelease_files_verify() {
    let keyring = archive_keyring();
    // Cross-checked with `gpgv`: the signatures are made by signing subkeys; we report
    // the primary keys (bookworm + trixie archive keys and the bookworm release key;
    // bullseye + bookworm security archive keys).
    let cases = [
        (
            "debian/dists/bookworm",
            "bookworm",
            &[
                "04B54C3CDCA79751B16BC6B5225629DF75B188BD",
                "4D64FEC119C2029067D6E791F8D2585B8783D481",
                "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8",
            ][..],
        ),
        (
            "debian-security/dists/bookworm-security",
            "bookworm-security",
            &[
                "05AB90340C0C5E797F44A8C8254CF3B5AEC0A8F0",
                "AC530D520F2F3269F5E98313A48449044AAD5C5D",
            ][..],
        ),
    ];
    for (dir, codename, signers) in cases {
        let v = openpgp::verify_clearsigned(&inrelease(dir), &keyring).unwrap();
        let got: Vec<&str> = v.signers.valid.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(got, signers, "{dir}");
        assert!(v.signers.unverified.is_empty());
        let r = Release::parse(&v.text).unwrap();
        assert_eq!(r.codename.as_deref(), Some(codename));
        assert!(v.text.starts_with("Origin: Debian\n") && !v.text.contains('\r'));
    }
}

#[test]
fn tampered_byte_is_bad_signature() {
    let mut data = inrelease("debian/dists/bookworm");
    let pos = data.windows(12).position(|w| w == b"Version: 12.").unwrap() + 11;
    data[pos] = b'9';
    let e = openpgp::verify_clearsigned(&data, &archive_keyring()).unwrap_err();
    assert!(matches!(e, OpenPgpError::BadSignature { .. }), "{e}");
}

#[test]
fn unknown_keyring_names_issuers() {
    let keyring = keyring_of(&test_key(1));
    let e = openpgp::verify_clearsigned(&inrelease("debian/dists/bookworm"), &keyring).unwrap_err();
    match e {
        OpenPgpError::UnknownKeys { issuers } => assert!(issuers.len() >= 2, "{issuers:?}"),
        other => panic!("expected UnknownKeys, got {other}"),
    }
}

#[test]
fn garbage_and_unsigned_inputs() {
    let keyring = archive_keyring();
    let garbage = b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: x\n-----BEGIN PGP SIGNATURE-----\n\n!!!not base64!!!\n-----END PGP SIGNATURE-----\n";
    let e = openpgp::verify_clearsigned(garbage, &keyring).unwrap_err();
    assert!(matches!(e, OpenPgpError::Malformed(_)), "{e}");
    let e = openpgp::verify_clearsigned(b"Origin: Debian\nSuite: x\n", &keyring).unwrap_err();
    assert!(matches!(e, OpenPgpError::NotSigned(_)), "{e}");
    assert!(Keyring::from_bytes(b"not a keyring").is_err());
}

#[test]
fn generated_clearsign_roundtrip_with_dash_escaping() {
    let key = test_key(2);
    // rPGP signs the text as given (it does not trim trailing whitespace when signing), so
    // the sample has none; the final newline is part of the signed text here.
    let text = "Origin: test\n-dashed line\nLast: line\n";
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let msg =
        CleartextSignedMessage::sign(&mut rng, text, &key.primary_key, &Password::empty()).unwrap();
    let armored = msg.to_armored_string(Default::default()).unwrap();
    assert!(armored.contains("\n- -dashed line\n"));
    let v = openpgp::verify_clearsigned(armored.as_bytes(), &keyring_of(&key)).unwrap();
    assert_eq!(v.text, "Origin: test\n-dashed line\nLast: line\n");
    assert_eq!(v.signers.valid.len(), 1);
    assert_eq!(openpgp::strip_clearsign(&armored).unwrap(), v.text);
}

#[test]
fn detached_release_gpg() {
    let key = test_key(4);
    let release = b"Origin: test\nCodename: frozen\n".to_vec();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let sig = DetachedSignature::sign_binary_data(
        &mut rng,
        &key.primary_key,
        &Password::empty(),
        HashAlgorithm::Sha256,
        &release[..],
    )
    .unwrap();
    let keyring = keyring_of(&key);
    let binary = sig.to_bytes().unwrap();
    let armored = sig.to_armored_bytes(Default::default()).unwrap();
    for s in [&binary, &armored] {
        let signers = openpgp::verify_detached(&release, s, &keyring).unwrap();
        assert_eq!(signers.valid.len(), 1);
    }
    let mut tampered = release.clone();
    tampered[0] = b'o';
    let e = openpgp::verify_detached(&tampered, &binary, &keyring).unwrap_err();
    assert!(matches!(e, OpenPgpError::BadSignature { .. }), "{e}");
    let e = openpgp::verify_detached(&release, &binary, &archive_keyring()).unwrap_err();
    assert!(matches!(e, OpenPgpError::UnknownKeys { .. }), "{e}");
}
