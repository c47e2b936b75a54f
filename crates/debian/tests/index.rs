//! Typed parsing of the real fixture indices and Release files.

mod common;

use cryo_debian::deb822;
use cryo_debian::index::{parse_packages, parse_sources, MultiArch};
use cryo_debian::openpgp::{self, Keyring};
use cryo_debian::release::{ExpiryPolicy, Release, Validity};

#[test]
fn main_indices_parse_fully() {
    let packages = parse_packages(&common::index(common::MAIN_PACKAGES), None).unwrap();
    let sources = parse_sources(&common::index(common::MAIN_SOURCES), None).unwrap();
    eprintln!(
        "main: {} packages, {} sources",
        packages.len(),
        sources.len()
    );
    assert_eq!(packages.len(), MAIN_PACKAGES_COUNT);
    assert_eq!(sources.len(), MAIN_SOURCES_COUNT);

    let hello = packages.iter().find(|p| p.package == "hello").unwrap();
    assert_eq!(hello.version.as_str(), "2.10-3");
    assert_eq!(hello.source_name, "hello");
    assert_eq!(
        hello.filename.as_deref(),
        Some("pool/main/h/hello/hello_2.10-3_amd64.deb")
    );
    assert!(
        hello.depends.to_string().contains("libc6 (>= 2.34)"),
        "{}",
        hello.depends
    );
    let src = sources.iter().find(|s| s.package == "hello").unwrap();
    assert_eq!(src.version.as_str(), "2.10-3");
    assert_eq!(src.binaries, ["hello"]);
    assert_eq!(src.directory.as_deref(), Some("pool/main/h/hello"));
    assert_eq!(
        src.build_depends.to_string(),
        "debhelper-compat (= 13), help2man, texinfo"
    );
    let names: Vec<&str> = src.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "hello_2.10-3.dsc",
            "hello_2.10.orig.tar.gz",
            "hello_2.10.orig.tar.gz.asc",
            "hello_2.10-3.debian.tar.xz"
        ]
    );
    assert_eq!(src.files[1].size, 725_946);

    // binNMU-style `Source: name (version)` entries exist and keep the source version.
    let binnmu = packages
        .iter()
        .filter(|p| p.source_version != p.version)
        .count();
    assert!(binnmu > 0);
    let essential = packages.iter().filter(|p| p.essential).count();
    let same = packages
        .iter()
        .filter(|p| p.multi_arch == MultiArch::Same)
        .count();
    eprintln!("binnmu/source-version differs: {binnmu}, essential: {essential}, M-A same: {same}");
    assert_eq!(essential, ESSENTIAL_COUNT);
}

#[test]
fn security_indices_and_release_hashes() {
    let mirror = common::mirror();
    let keyring = Keyring::from_file(&mirror.join("keyrings/debian-archive-keyring.gpg")).unwrap();
    let raw =
        std::fs::read(mirror.join("debian-security/dists/bookworm-security/InRelease")).unwrap();
    let release =
        Release::parse(&openpgp::verify_clearsigned(&raw, &keyring).unwrap().text).unwrap();
    for rel in [common::SEC_PACKAGES, common::SEC_SOURCES] {
        let key = rel.split_once("bookworm-security/").unwrap().1;
        let size = std::fs::metadata(mirror.join(rel)).unwrap().len();
        assert_eq!(release.sha256[key].size, size, "{key}");
    }
    assert_eq!(
        release.components,
        [
            "updates/main",
            "updates/contrib",
            "updates/non-free-firmware",
            "updates/non-free"
        ]
    );
    // Valid-Until: Tue, 01 Dec 2026 00:34:33 UTC; `now` is injected, never today's date.
    let until = release.valid_until.unwrap();
    assert_eq!(until, 1_796_085_273);
    assert!(release
        .check_valid_until(until + 1, ExpiryPolicy::Enforce)
        .is_err());
    assert_eq!(
        release
            .check_valid_until(until + 1, ExpiryPolicy::AllowExpired)
            .unwrap(),
        Validity::ExpiredAccepted {
            valid_until: until,
            now: until + 1
        }
    );
    let packages = parse_packages(&common::index(common::SEC_PACKAGES), None).unwrap();
    let sources = parse_sources(&common::index(common::SEC_SOURCES), None).unwrap();
    eprintln!(
        "security: {} packages, {} sources",
        packages.len(),
        sources.len()
    );
    assert_eq!((packages.len(), sources.len()), SECURITY_COUNTS);
}

#[test]
fn writer_reproduces_security_packages_byte_for_byte() {
    let text = common::index(common::SEC_PACKAGES);
    let owned: Vec<_> = deb822::parse(&text)
        .unwrap()
        .iter()
        .map(|p| p.to_owned_paragraph())
        .collect();
    let written = deb822::write_paragraphs(&owned);
    assert_eq!(written.len(), text.len());
    assert!(written == text);
}

// Measured on the fixture (cross-checked with `xz -dc | grep -c '^Package:'`).
const MAIN_PACKAGES_COUNT: usize = 63_440;
const MAIN_SOURCES_COUNT: usize = 34_335;
const ESSENTIAL_COUNT: usize = 23;
const SECURITY_COUNTS: (usize, usize) = (3_028, 702);
