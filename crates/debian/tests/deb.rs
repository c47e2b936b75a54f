//! The `.deb` reader on real packages of the fixture mirror: every member read, decoded
//! and (for the tar members) listed; caps and truncation on real data.

mod common;

use std::io::Read;
use std::path::PathBuf;

use cryo_debian::compression::{Compression, CompressionError, DecoderLimits};
use cryo_debian::deb::{DebReadError, DebReader, MemberKind};

/// Fixture packages: xz members (the usual), gzip members, `Architecture: all`.
const DEBS: [&str; 4] = [
    "h/hello/hello_2.10-3_amd64.deb",
    "libu/libuev/libuev3_2.4.0-1.1+deb12u1_amd64.deb",
    "b/base-files/base-files_12.4+deb12u15_amd64.deb",
    "d/debootstrap/debootstrap_1.0.128+nmu2+deb12u2_all.deb",
];

fn pool(rel: &str) -> PathBuf {
    common::mirror().join("debian/pool/main").join(rel)
}

/// The fixture packages, or `None` (skipped locally, a failure under `CI=true`).
fn debs() -> Option<Vec<(&'static str, Vec<u8>)>> {
    let present = DEBS.iter().all(|d| pool(d).is_file());
    if !common::require(present, "the fixture mirror's pool (CRYO_FIXTURE_MIRROR)") {
        return None;
    }
    Some(
        DEBS.iter()
            .map(|d| (*d, std::fs::read(pool(d)).unwrap()))
            .collect(),
    )
}

/// Paths of a tar stream.
fn tar_paths(stream: impl Read) -> Vec<String> {
    let mut archive = tar::Archive::new(stream);
    archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn real_packages_read_in_one_streaming_pass() {
    let Some(debs) = debs() else { return };
    for (rel, deb) in &debs {
        let file = std::io::BufReader::new(std::fs::File::open(pool(rel)).unwrap());
        let mut r = DebReader::new(file).unwrap();
        assert_eq!(r.debian_binary().version, "2.0", "{rel}");
        let control = r.control().unwrap();
        let format = match control.kind() {
            MemberKind::Control(c) => c,
            other => panic!("{rel}: {other:?}"),
        };
        let expected = if rel.starts_with("d/debootstrap") {
            Compression::Gzip
        } else {
            Compression::Xz
        };
        assert_eq!(format, expected, "{rel}");
        let listing = tar_paths(control.decode(1 << 20, &DecoderLimits::default()).unwrap());
        assert!(
            listing.contains(&"./control".to_owned()),
            "{rel}: {listing:?}"
        );
        let mut data = r
            .data()
            .unwrap()
            .decode(1 << 30, &DecoderLimits::default())
            .unwrap();
        let listing = tar_paths(&mut data);
        assert!(data.take_fault().is_none());
        let package = rel.rsplit('/').next().unwrap().split('_').next().unwrap();
        let doc = format!("./usr/share/doc/{package}/");
        assert!(listing.contains(&doc), "{rel}: no {doc}");
        drop(data);
        r.finish().unwrap();

        // The same from memory, member by member, raw sizes as the headers say.
        let mut r = DebReader::new(deb.as_slice()).unwrap();
        let mut total = 8 + 60 + r.debian_binary().header.size;
        while let Some(m) = r.next_member().unwrap() {
            let size = m.header().size;
            let raw = m.read_raw(u64::MAX).unwrap();
            assert_eq!(raw.len() as u64, size);
            total += 60 + size + size % 2;
        }
        assert_eq!(total, deb.len() as u64, "{rel}");
    }
}

#[test]
fn real_data_over_the_cap_is_an_error() {
    let Some(debs) = debs() else { return };
    let (_, hello) = &debs[0];
    let mut r = DebReader::new(hello.as_slice()).unwrap();
    let e = r
        .data()
        .unwrap()
        .read_decoded(64 << 10, &DecoderLimits::default())
        .unwrap_err();
    assert!(
        matches!(
            &e,
            DebReadError::Decompress {
                name,
                source: CompressionError::TooLarge { limit: 65536 }
            } if name == "data.tar.xz"
        ),
        "{e:?}"
    );
}

#[test]
fn real_packages_cut_anywhere_are_typed_errors() {
    let Some(debs) = debs() else { return };
    for (rel, deb) in &debs[..2] {
        // A spread of cuts through every region (magic, headers, members, streams).
        let cuts = (0..deb.len() - 1)
            .step_by(97)
            .chain([1, 7, 8, 67, 68, 69, deb.len() - 2]);
        for cut in cuts {
            let result = (|| -> Result<(), DebReadError> {
                let mut r = DebReader::new(&deb[..cut])?;
                while let Some(m) = r.next_member()? {
                    m.read_decoded(1 << 30, &DecoderLimits::default())?;
                }
                Ok(())
            })();
            let e = result.expect_err(&format!("{rel} cut at {cut}"));
            assert!(
                matches!(
                    e,
                    DebReadError::NotAr
                        | DebReadError::ShortMagic { .. }
                        | DebReadError::ShortHeader { .. }
                        | DebReadError::ShortMember { .. }
                        | DebReadError::Missing { .. }
                ),
                "{rel} cut at {cut}: {e:?}"
            );
        }
    }
}
