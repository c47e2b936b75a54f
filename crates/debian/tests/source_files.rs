//! Real `.dsc`, `debian/changelog` and `debian/control` files from the fixture pool.

mod common;

use std::io::Read;

use cryo_debian::openpgp::{Keyring, OpenPgpError};
use cryo_debian::{changelog, compression, control, dsc, index};

const DSCS: [&str; 7] = [
    "b/base-files/base-files_12.4+deb12u15.dsc",
    "d/debootstrap/debootstrap_1.0.128+nmu2+deb12u2.dsc",
    "k/kernel-wedge/kernel-wedge_2.106~deb12u1.dsc",
    "libu/libuev/libuev_2.4.0-1.1+deb12u1.dsc",
    "m/mxml/mxml_3.3.1-1+deb13u1~deb12u1.dsc",
    "x/xfpt/xfpt_0.11-1+deb12u1.dsc",
    "h/hello/hello_2.10-3.dsc",
];

#[test]
fn fixture_dscs_parse_and_match_sources_index() {
    let pool = common::mirror().join("debian/pool/main");
    let keyring =
        Keyring::from_file(&common::mirror().join("keyrings/debian-archive-keyring.gpg")).unwrap();
    let sources = index::parse_sources(&common::index(common::MAIN_SOURCES), None).unwrap();
    for rel in DSCS {
        let raw = std::fs::read(pool.join(rel)).unwrap();
        let d = dsc::parse(std::str::from_utf8(&raw).unwrap(), rel).unwrap();
        let s = &d.source;
        let indexed = sources
            .iter()
            .find(|x| x.package == s.package && x.version == s.version)
            .unwrap_or_else(|| panic!("{rel} not in Sources"));
        // Sources lists the .dsc itself in addition to the files the .dsc lists.
        let listed: Vec<_> = indexed
            .files
            .iter()
            .filter(|f| !f.name.as_str().ends_with(".dsc"))
            .collect();
        assert_eq!(listed, s.files.iter().collect::<Vec<_>>(), "{rel}");
        assert_eq!(s.build_depends, indexed.build_depends, "{rel}");
        // Uploads are signed by maintainers, whose keys are not in the archive keyring.
        match dsc::parse_verified(&raw, rel, &keyring) {
            Err(dsc::DscError::OpenPgp(OpenPgpError::UnknownKeys { issuers })) => {
                assert!(!issuers.is_empty())
            }
            other => panic!("{rel}: expected UnknownKeys, got {other:?}"),
        }
    }
}

fn debian_tar_member(member: &str) -> String {
    let p = common::mirror().join("debian/pool/main/h/hello/hello_2.10-3.debian.tar.xz");
    let tar =
        compression::decompress(&std::fs::read(p).unwrap(), Some("x.tar.xz"), 64 << 20).unwrap();
    let mut archive = tar::Archive::new(&tar[..]);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some(member) {
            let mut s = String::new();
            entry.read_to_string(&mut s).unwrap();
            return s;
        }
    }
    panic!("{member} not in tarball");
}

#[test]
fn hello_changelog_gives_dpkg_source_date_epoch() {
    let e =
        changelog::parse_first_entry(&debian_tar_member("debian/changelog"), "debian/changelog")
            .unwrap();
    assert_eq!((e.source.as_str(), e.version.as_str()), ("hello", "2.10-3"));
    assert_eq!(e.maintainer, "Santiago Vila <sanvila@debian.org>");
    // `dpkg-parsechangelog -STimestamp` on this file prints 1672068600.
    assert_eq!(e.timestamp, 1_672_068_600);
    assert!(e.changes[0].starts_with("* Add some autopkgtests."));
}

#[test]
fn hello_control() {
    let c = control::parse(&debian_tar_member("debian/control"), "debian/control").unwrap();
    assert_eq!(c.source, "hello");
    assert_eq!(
        c.build_depends.to_string(),
        "debhelper-compat (= 13), help2man, texinfo"
    );
    assert_eq!(c.binaries.len(), 1);
    assert_eq!(
        c.binaries[0].get("Depends"),
        Some("${misc:Depends}, ${shlibs:Depends}")
    );
}
