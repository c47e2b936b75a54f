//! The reader on synthetic packages: every order rule, truncation at every offset, caps.
//! Real packages are read in `tests/deb.rs` and fuzzed in `tests/fuzz.rs`.

use std::io::{Read, Write};

use super::*;
use crate::compression::{CompressionError, DecoderLimits};

/// An ar archive of `members` as dpkg-deb writes it.
fn ar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (name, data) in members {
        let header = format!(
            "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            1_700_000_000,
            0,
            0,
            "100644",
            data.len()
        );
        assert_eq!(header.len(), 60);
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const CONTROL: &[u8] = b"control tar stream stand-in";
/// Odd length, so that the data member is followed by a padding byte.
const DATA: &[u8] = b"data tar stream stand-in, a bit longer than the control one.";

fn valid() -> Vec<u8> {
    ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.xz", &xz(CONTROL)),
        ("data.tar.gz", &gz(DATA)),
    ])
}

fn limits() -> DecoderLimits {
    DecoderLimits::default()
}

/// Reads everything: control and data decoded, then the rest checked.
fn read_all(deb: &[u8], cap: u64) -> Result<(Vec<u8>, Vec<u8>), DebReadError> {
    let mut r = DebReader::new(deb)?;
    let control = r.control()?.read_decoded(cap, &limits())?;
    let data = r.data()?.read_decoded(cap, &limits())?;
    r.finish()?;
    Ok((control, data))
}

#[test]
fn reads_every_compression() {
    let plain = |d: &[u8]| d.to_vec();
    let zst = |d: &[u8]| zstd::encode_all(d, 3).unwrap();
    for (suffix, enc, fmt) in [
        ("", plain as fn(&[u8]) -> Vec<u8>, Compression::None),
        (".gz", gz, Compression::Gzip),
        (".xz", xz, Compression::Xz),
        (".zst", zst, Compression::Zstd),
    ] {
        let deb = ar(&[
            ("debian-binary", b"2.0\n"),
            (&format!("control.tar{suffix}"), &enc(CONTROL)),
            (&format!("data.tar{suffix}"), &enc(DATA)),
            ("_gpgorigin", b"signature"),
        ]);
        let mut r = DebReader::new(&deb[..]).unwrap();
        assert_eq!(r.debian_binary().version, "2.0");
        assert_eq!(r.debian_binary().contents, b"2.0\n");
        assert_eq!(r.debian_binary().header.mtime, 1_700_000_000);
        let kinds: Vec<(MemberKind, Vec<u8>)> = std::iter::from_fn(|| {
            let m = r.next_member().unwrap()?;
            let kind = m.kind();
            Some((kind, m.read_decoded(1 << 20, &limits()).unwrap()))
        })
        .collect();
        assert_eq!(
            kinds,
            [
                (MemberKind::Control(fmt), CONTROL.to_vec()),
                (MemberKind::Data(fmt), DATA.to_vec()),
                (MemberKind::Extra, b"signature".to_vec()),
            ],
            "{suffix:?}"
        );
    }
    assert_eq!(
        read_all(&valid(), 1 << 20).unwrap(),
        (CONTROL.to_vec(), DATA.to_vec())
    );
}

#[test]
fn members_must_come_in_dpkg_order() {
    let c = xz(CONTROL);
    let d = xz(DATA);
    let order = |members: &[(&str, &[u8])]| read_all(&ar(members), 1 << 20).unwrap_err();
    let e = order(&[("control.tar.xz", &c), ("debian-binary", b"2.0\n")]);
    assert!(
        matches!(&e, DebReadError::Order { index: 0, expected: Role::DebianBinary, found } if found == "control.tar.xz"),
        "{e}"
    );
    let e = order(&[
        ("debian-binary", b"2.0\n"),
        ("data.tar.xz", &d),
        ("control.tar.xz", &c),
    ]);
    assert!(
        matches!(
            &e,
            DebReadError::Order {
                index: 1,
                expected: Role::Control,
                ..
            }
        ),
        "{e}"
    );
    let e = order(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.xz", &c),
        ("control.tar.xz", &c),
    ]);
    assert!(
        matches!(
            &e,
            DebReadError::Order {
                index: 2,
                expected: Role::Data,
                ..
            }
        ),
        "{e}"
    );
    let e = order(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.xz", &c),
        ("_sig", b"x"),
        ("data.tar.xz", &d),
    ]);
    assert!(
        matches!(
            &e,
            DebReadError::Order {
                index: 2,
                expected: Role::Data,
                ..
            }
        ),
        "{e}"
    );
    let e = order(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.xz", &c),
        ("data.tar.xz", &d),
        ("extra", b"x"),
    ]);
    assert!(
        matches!(
            &e,
            DebReadError::Order {
                index: 3,
                expected: Role::Extra,
                ..
            }
        ),
        "{e}"
    );
    let e = order(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.xz", &c),
        ("data.tar.xz", &d),
        ("data.tar.xz", &d),
    ]);
    assert!(matches!(&e, DebReadError::Order { index: 3, .. }), "{e}");
    let e = order(&[("debian-binary", b"2.0\n")]);
    assert!(
        matches!(
            &e,
            DebReadError::Missing {
                expected: Role::Control
            }
        ),
        "{e}"
    );
    let e = order(&[("debian-binary", b"2.0\n"), ("control.tar.xz", &c)]);
    assert!(
        matches!(
            &e,
            DebReadError::Missing {
                expected: Role::Data
            }
        ),
        "{e}"
    );
    let e = order(&[]);
    assert!(
        matches!(
            &e,
            DebReadError::Missing {
                expected: Role::DebianBinary
            }
        ),
        "{e}"
    );
    for name in ["control.tar.bz2", "control.tarx", "control.tar.gzz"] {
        let e = order(&[("debian-binary", b"2.0\n"), (name, &c), ("data.tar.xz", &d)]);
        assert!(
            matches!(&e, DebReadError::UnsupportedCompression { name: n } if n == name),
            "{e}"
        );
    }
    let e = order(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.xz", &c),
        ("data.tar.lzma", &d),
    ]);
    assert!(
        matches!(&e, DebReadError::UnsupportedCompression { .. }),
        "{e}"
    );
}

#[test]
fn format_version_is_2_x() {
    for ok in [&b"2.0\n"[..], b"2.1\n", b"2.0\nmore\n"] {
        let deb = ar(&[
            ("debian-binary", ok),
            ("control.tar", CONTROL),
            ("data.tar", DATA),
        ]);
        assert!(read_all(&deb, 1 << 20).is_ok(), "{ok:?}");
    }
    for bad in [
        &b"2.0"[..],
        b"3.0\n",
        b"2.\n",
        b"2.x\n",
        b"20\n",
        b"",
        b"0.939000\n",
    ] {
        let deb = ar(&[
            ("debian-binary", bad),
            ("control.tar", CONTROL),
            ("data.tar", DATA),
        ]);
        let e = read_all(&deb, 1 << 20).unwrap_err();
        assert!(matches!(e, DebReadError::Version { .. }), "{bad:?}: {e}");
    }
    let big = vec![b'2'; 65];
    let deb = ar(&[
        ("debian-binary", &big),
        ("control.tar", CONTROL),
        ("data.tar", DATA),
    ]);
    let e = read_all(&deb, 1 << 20).unwrap_err();
    assert!(
        matches!(e, DebReadError::MemberTooLarge { limit: 64, .. }),
        "{e}"
    );
}

#[test]
fn every_truncation_is_a_typed_error() {
    let deb = valid();
    // The last byte is the padding after the odd-sized data member, which may be missing.
    assert_eq!(deb.last(), Some(&b'\n'));
    assert!(read_all(&deb[..deb.len() - 1], 1 << 20).is_ok());
    for cut in 0..deb.len() - 1 {
        let e = read_all(&deb[..cut], 1 << 20).unwrap_err();
        let expected = match cut {
            0 => matches!(e, DebReadError::NotAr),
            1..=7 => matches!(e, DebReadError::ShortMagic { read } if read == cut),
            _ => matches!(
                e,
                DebReadError::ShortHeader { .. }
                    | DebReadError::ShortMember { .. }
                    | DebReadError::Missing { .. }
                    | DebReadError::Decompress {
                        source: CompressionError::Truncated { .. },
                        ..
                    }
            ),
        };
        assert!(expected, "cut at {cut}: {e:?}");
    }
    // A compressed stream cut short inside a complete member.
    let c = xz(CONTROL);
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.xz", &c[..c.len() - 4]),
        ("data.tar", DATA),
    ]);
    let e = read_all(&deb, 1 << 20).unwrap_err();
    assert!(
        matches!(&e, DebReadError::Decompress { name, source: CompressionError::Truncated { .. } } if name == "control.tar.xz"),
        "{e:?}"
    );
}

#[test]
fn framing_faults() {
    let mut deb = valid();
    assert_eq!(&deb[8 + 58..8 + 60], b"`\n");
    deb[8 + 58] = b'x';
    let e = read_all(&deb, 1 << 20).unwrap_err();
    assert!(
        matches!(
            e,
            DebReadError::BadHeader {
                index: 0,
                offset: 8,
                fault: HeaderFault::Terminator
            }
        ),
        "{e}"
    );
    let mut deb = valid();
    let n = deb.len();
    deb[n - 1] = b'x';
    let e = read_all(&deb, 1 << 20).unwrap_err();
    assert!(
        matches!(e, DebReadError::BadPadding { byte: b'x', .. }),
        "{e}"
    );
    // After a container error, the reader refuses to go on.
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("data.tar", DATA),
        ("control.tar", CONTROL),
    ]);
    let mut r = DebReader::new(&deb[..]).unwrap();
    assert!(r.next_member().is_err());
    assert!(matches!(r.next_member(), Err(DebReadError::Poisoned)));
    assert!(matches!(
        DebReader::new(&b"garbage!"[..]),
        Err(DebReadError::NotAr)
    ));
}

#[test]
fn decompressed_members_are_capped() {
    let bomb = xz(&vec![0u8; 4 << 20]);
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar", CONTROL),
        ("data.tar.xz", &bomb),
    ]);
    let e = read_all(&deb, 1 << 20).unwrap_err();
    assert!(
        matches!(&e, DebReadError::Decompress { source: CompressionError::TooLarge { limit }, .. } if *limit == 1 << 20),
        "{e:?}"
    );
    // Exactly at the cap is fine.
    assert!(read_all(&deb, 4 << 20).is_ok());
    // Raw reads are capped by the header's claim.
    let mut r = DebReader::new(&deb[..]).unwrap();
    let e = r.data().unwrap().read_raw(100).unwrap_err();
    assert!(
        matches!(e, DebReadError::MemberTooLarge { limit: 100, .. }),
        "{e}"
    );
    let tight = DecoderLimits {
        xz_memlimit: 1 << 10,
        ..DecoderLimits::default()
    };
    let mut r = DebReader::new(&deb[..]).unwrap();
    let e = r.data().unwrap().read_decoded(8 << 20, &tight).unwrap_err();
    assert!(
        matches!(
            &e,
            DebReadError::Decompress {
                source: CompressionError::MemoryLimit { .. },
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn streaming_and_faults_for_the_layer_above() {
    // A partly read member is skipped; the next one is still found.
    let deb = valid();
    let mut r = DebReader::new(&deb[..]).unwrap();
    let mut first = [0u8; 3];
    r.control().unwrap().read_exact(&mut first).unwrap();
    assert_eq!(&first, &xz(CONTROL)[..3]);
    let mut data = r.data().unwrap().decode(1 << 20, &limits()).unwrap();
    let mut head = [0u8; 4];
    data.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"data");
    assert!(data.take_fault().is_none());
    drop(data);
    r.finish().unwrap();

    // A layer above sees an io::Error; the stream knows the cause.
    let cut = &deb[..deb.len() - 10];
    let mut r = DebReader::new(cut).unwrap();
    let mut data = r.data().unwrap().decode(1 << 20, &limits()).unwrap();
    let layer_error = std::io::copy(&mut data, &mut std::io::sink()).unwrap_err();
    assert!(!layer_error.to_string().is_empty());
    assert!(matches!(
        data.take_fault(),
        Some(DebReadError::ShortMember { .. })
    ));
    assert!(data.take_fault().is_none());

    // Asking for a member already passed.
    let mut r = DebReader::new(&deb[..]).unwrap();
    r.data().unwrap();
    assert!(matches!(
        r.control(),
        Err(DebReadError::Passed {
            wanted: Role::Control
        })
    ));
    assert!(matches!(
        r.data(),
        Err(DebReadError::Passed { wanted: Role::Data })
    ));
}
