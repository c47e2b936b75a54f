//! Golden files pin the canonical derivation encoding (format `cryo.drv/1`).

use std::collections::BTreeMap;
use std::path::Path;

use cryo_store::derivation::{BuilderSpec, ClosureEntry, Derivation, SourceInput, DRV_FORMAT};
use cryo_store::B3Digest;

fn sample() -> Derivation {
    let mut files = BTreeMap::new();
    files.insert("hello_2.10-3.dsc".to_string(), B3Digest::of(b"dsc"));
    files.insert("hello_2.10.orig.tar.gz".to_string(), B3Digest::of(b"orig"));
    let mut env = BTreeMap::new();
    env.insert("LC_ALL".to_string(), "C.UTF-8".to_string());
    env.insert("DEB_BUILD_OPTIONS".to_string(), "parallel=2".to_string());
    Derivation {
        format: DRV_FORMAT.to_string(),
        builder: BuilderSpec {
            kind: "deb".into(),
            version: "1".into(),
        },
        arch: "amd64".into(),
        snapshot: B3Digest::of(b"snapshot"),
        prjconf: B3Digest::of(b"prjconf").to_hex(),
        source: SourceInput {
            name: "hello".into(),
            version: "2.10-3".into(),
            files,
        },
        closure: vec![
            ClosureEntry {
                set: "install".into(),
                name: "make".into(),
                arch: "amd64".into(),
                version: "4.3-4.1".into(),
                sha256: "00".repeat(32),
            },
            ClosureEntry {
                set: "preinstall".into(),
                name: "bash".into(),
                arch: "amd64".into(),
                version: "5.2.15-2+b2".into(),
                sha256: "11".repeat(32),
            },
        ],
        env,
    }
}

fn golden(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

#[test]
fn encoding_matches_golden_file() {
    let d = sample();
    let enc = d.encode();
    if std::env::var_os("CRYO_BLESS").is_some() {
        std::fs::write(golden("derivation-v1.json"), &enc).unwrap();
        std::fs::write(golden("derivation-v1.id"), format!("{}\n", d.id())).unwrap();
    }
    let expected = std::fs::read(golden("derivation-v1.json")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&enc),
        String::from_utf8_lossy(&expected),
        "canonical encoding changed: that changes every derivation id"
    );
    let id = std::fs::read_to_string(golden("derivation-v1.id")).unwrap();
    assert_eq!(d.id().to_hex(), id.trim());
    assert_eq!(Derivation::decode(&enc).unwrap(), {
        let mut n = d.clone();
        n.normalize();
        n
    });
}

#[test]
fn order_of_closure_does_not_matter_but_every_input_does() {
    let a = sample();
    let mut b = sample();
    b.closure.reverse();
    assert_eq!(a.id(), b.id());
    let mut c = sample();
    c.env.insert("TZ".into(), "UTC".into());
    assert_ne!(a.id(), c.id());
    let mut e = sample();
    e.arch = "arm64".into();
    assert_ne!(a.id(), e.id());
}

#[test]
fn decode_refuses_other_formats_and_non_canonical_bytes() {
    let enc = String::from_utf8(sample().encode()).unwrap();
    let other = enc.replace("cryo.drv/1", "cryo.drv/9");
    assert!(Derivation::decode(other.as_bytes()).is_err());
    let spaced = enc.replacen(',', ", ", 1);
    assert!(Derivation::decode(spaced.as_bytes()).is_err());
}
