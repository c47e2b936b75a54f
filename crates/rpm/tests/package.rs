//! The reader against rpm's own view of packages built by the host's `rpmbuild` (4.18):
//! NEVRA and tags against `rpm -qp --qf`, the file list against `rpm -qp --dump`, the payload
//! against the staged files, for every payload compressor; hostile inputs are refused.

#[path = "common/rpmbuild.rs"]
mod rpmbuild;

use std::path::Path;
use std::process::Command;

use cryo_rpm::package::{tags, HeaderKind, Limits, Package, PayloadEntryKind, RpmError, Value};
use rpmbuild::{have_tools, Spec};

fn rpm_query(rpm: &Path, args: &[&str]) -> String {
    let out = Command::new("rpm")
        .args(["-qp", "--nosignature", "--nodigest"])
        .args(args)
        .arg(rpm)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn reads_what_rpm_reads_for_every_compressor() {
    if !have_tools(&["rpmbuild", "rpm", "gcc"]) {
        return;
    }
    for payload in ["w9.gzdio", "w6.xzdio", "w19.zstdio", "w9.bzdio", "w0.ufdio"] {
        let dir = tempfile::tempdir().unwrap();
        let mut spec = Spec::new("cryotest");
        spec.payload = payload.into();
        spec.program = Some((
            "/usr/bin/cryoprog".into(),
            rpmbuild::PROGRAM.into(),
            "-O2".into(),
        ));
        let path = spec.build(dir.path());
        let bytes = Package::read_file(&path, &Limits::default()).unwrap();
        let pkg = Package::parse(&bytes, &Limits::default()).unwrap();
        let nevra = pkg.nevra().unwrap();
        assert_eq!(nevra.to_string(), rpm_query(&path, &["--qf", "%{NEVRA}"]));
        assert_eq!(
            pkg.header.string(tags::BUILDHOST).unwrap(),
            "cryo-test.example"
        );
        assert_eq!(pkg.header.integer(tags::BUILDTIME), Some(1_700_000_000));
        let compressor = pkg.compressor().unwrap().to_string();
        let expected = rpm_query(&path, &["--qf", "%{PAYLOADCOMPRESSOR}"]);
        assert_eq!(
            compressor,
            if expected == "(none)" {
                "identity"
            } else {
                &expected
            },
            "{payload}"
        );
        // Every tag's typed value renders as rpm renders it (spot checks across types).
        for (tag, qf) in [
            ("SUMMARY", "%{SUMMARY}"),
            ("SIZE", "%{SIZE}"),
            ("FILEDIGESTALGO", "%{FILEDIGESTALGO}"),
            ("PAYLOADDIGEST", "%{PAYLOADDIGEST}"),
        ] {
            let t = tags::by_name(tag).unwrap();
            assert_eq!(
                pkg.header.value(t).unwrap().display(),
                rpm_query(&path, &["--qf", qf]),
                "{tag}"
            );
        }
        for e in &pkg.header.entries {
            let _ = e.value();
            assert!(!HeaderKind::Main.tag_name(e.tag).is_empty());
        }
        // The file list as `rpm --dump` prints it:
        // path size mtime digest mode owner group isconfig isdoc rdev symlink
        let dump = rpm_query(&path, &["--dump"]);
        let files = pkg.files().unwrap();
        assert_eq!(files.len(), dump.lines().count());
        for (f, line) in files.iter().zip(dump.lines()) {
            let cols: Vec<&str> = line.split(' ').collect();
            assert_eq!(f.path_display(), cols[0]);
            assert_eq!(f.size.to_string(), cols[1], "{line}");
            assert_eq!(f.mtime.to_string(), cols[2], "{line}");
            if f.is_regular() {
                assert_eq!(f.digest, cols[3], "{line}");
            }
            assert_eq!(format!("{:07o}", f.mode), cols[4], "{line}");
            assert_eq!(f.user, cols[5]);
            assert_eq!(f.group, cols[6]);
            assert_eq!(if f.flags.config() { "1" } else { "0" }, cols[7], "{line}");
            assert_eq!(if f.flags.doc() { "1" } else { "0" }, cols[8], "{line}");
            let link = String::from_utf8_lossy(&f.link_target).into_owned();
            assert_eq!(
                if link.is_empty() { "X" } else { &link },
                cols[10],
                "{line}"
            );
        }
        // The payload: every regular file's content hashes to its header digest.
        let mut seen = 0;
        for file in pkg.payload_reader().unwrap() {
            let file = file.unwrap();
            let header = file
                .entry
                .file
                .as_ref()
                .expect("payload entry listed in the header");
            match file.entry.kind {
                PayloadEntryKind::Regular => {
                    assert_eq!(header.digest_algo.hex(&file.content), header.digest);
                }
                PayloadEntryKind::Symlink => assert_eq!(file.content, header.link_target),
                _ => {}
            }
            seen += 1;
        }
        assert_eq!(seen, files.len(), "{payload}");
        let readme = pkg
            .payload_reader()
            .unwrap()
            .map(Result::unwrap)
            .find(|f| f.entry.path == b"/usr/share/doc/cryotest/README")
            .unwrap();
        assert_eq!(readme.content, b"hello\n");
        assert_eq!(readme.entry.mode, 0o100644);
    }
}

#[test]
fn hostile_inputs_are_refused_with_clear_errors() {
    if !have_tools(&["rpmbuild"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = Spec::new("cryohostile").build(dir.path());
    let good = std::fs::read(&path).unwrap();
    let limits = Limits::default();
    // Not an RPM.
    assert!(matches!(
        Package::parse(b"!<arch>\n", &limits),
        Err(RpmError::Lead { .. })
    ));
    // Truncated anywhere in the headers.
    let pkg = Package::parse(&good, &limits).unwrap();
    for cut in [
        10,
        100,
        120,
        pkg.header_offset + 20,
        pkg.header_offset + 200,
    ] {
        let err = Package::parse(&good[..cut], &limits).unwrap_err();
        assert!(matches!(err, RpmError::Truncated { .. }), "{cut}: {err}");
    }
    // An absurd data size in the main header is refused before any allocation.
    let mut huge = good.clone();
    let o = pkg.header_offset + 12;
    huge[o..o + 4].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    let err = Package::parse(&huge, &limits).unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
    // An absurd entry count too.
    let mut many = good.clone();
    let o = pkg.header_offset + 8;
    many[o..o + 4].copy_from_slice(&0x00ff_ffffu32.to_be_bytes());
    assert!(matches!(
        Package::parse(&many, &limits),
        Err(RpmError::Header { .. })
    ));
    // A truncated payload is an error while streaming, not a silent short list.
    let short = &good[..good.len() - 40];
    let pkg = Package::parse(short, &limits).unwrap();
    let result: Result<Vec<_>, _> = pkg.payload_reader().unwrap().collect();
    assert!(result.is_err());
    // A per-file cap smaller than a file.
    let small = Limits {
        max_file_size: 3,
        ..Limits::default()
    };
    let pkg = Package::parse(&good, &small).unwrap();
    let result: Result<Vec<_>, _> = pkg.payload_reader().unwrap().collect();
    assert!(
        matches!(result, Err(RpmError::PayloadLimit { .. })),
        "{result:?}"
    );
    // Types: typed values of the main header are all decodable.
    let pkg = Package::parse(&good, &limits).unwrap();
    assert!(matches!(
        pkg.header.value(tags::FILEMODES),
        Some(Value::Int16(_))
    ));
    assert!(matches!(
        pkg.header.value(tags::BASENAMES),
        Some(Value::StringArray(_))
    ));
    assert!(matches!(
        pkg.header.value(tags::NAME),
        Some(Value::String(_))
    ));
}
