//! rpm-md repositories written by the host's `createrepo_c` from tiny RPMs built with
//! `rpmbuild`: cryo's parsers read them (gz, xz, bz2, zstd), the universe merges primary
//! and filelists, and the resolver's closure equals what `dnf --assumeno install` chooses
//! on the same repositories (a file require only in filelists, a soname provide, a choice
//! settled by Prefer:, an obsoletes rename, an epoch, the best EVR across os + updates).

mod support;

use std::fs;
use std::path::Path;

use cryo_prjconf::{ParseContext, Prjconf};
use cryo_rpm::compression;
use cryo_rpm::deps::Op;
use cryo_rpm::name::Arch;
use cryo_rpm::primary::{FileKind, PrimaryReader};
use cryo_rpm::repomd::Repomd;
use cryo_rpm::resolve::{resolve, Policy, ResolveRequest, Unresolvable};
use cryo_rpm::universe::Universe;
use support::{assert_same_as_dnf, build_rpms, createrepo, load_repo, require_tools, TinyRpm};

fn tiny<'a>(
    name: &'a str,
    version: &'a str,
    release: &'a str,
    arch: &'a str,
    preamble: &'a [&'a str],
    files: &'a [&'a str],
) -> TinyRpm<'a> {
    TinyRpm {
        name,
        version,
        release,
        epoch: None,
        arch,
        preamble,
        files,
    }
}

fn os_packages() -> Vec<TinyRpm<'static>> {
    vec![
        tiny("shell", "1", "1", "noarch", &[], &["/bin/sh"]),
        tiny(
            "libfoo",
            "1.0",
            "1",
            "x86_64",
            &["Provides: libfoo.so.1()(64bit)"],
            &["/usr/lib64/libfoo.so.1"],
        ),
        tiny(
            "foodata",
            "1.0",
            "1",
            "noarch",
            &[],
            &["/usr/share/foo/", "/usr/share/foo/data.txt"],
        ),
        tiny(
            "foo-devel",
            "1.0",
            "1",
            "x86_64",
            &[
                "Requires: libfoo.so.1()(64bit)",
                "Requires: /usr/share/foo/data.txt",
                "Requires: compat >= 1:0.1",
            ],
            &["/usr/include/foo.h"],
        ),
        tiny(
            "postfix",
            "3.0",
            "1",
            "noarch",
            &["Provides: mta", "Requires(pre): /bin/sh"],
            &["/usr/sbin/postfix"],
        ),
        tiny(
            "sendmail",
            "8.14",
            "1",
            "noarch",
            &["Provides: mta"],
            &["/usr/sbin/sendmail.real"],
        ),
        tiny(
            "mailer",
            "1",
            "1",
            "noarch",
            &["Requires: mta"],
            &["/usr/bin/mailer"],
        ),
        tiny("oldtool", "1", "1", "noarch", &[], &["/usr/bin/oldtool"]),
        tiny(
            "newtool",
            "2",
            "1",
            "noarch",
            &["Obsoletes: oldtool < 2", "Provides: oldtool = 2"],
            &["/usr/bin/newtool"],
        ),
        TinyRpm {
            epoch: Some(1),
            ..tiny("compat", "0.5", "1", "noarch", &[], &["/usr/share/compat"])
        },
        tiny(
            "badlib",
            "1",
            "1",
            "noarch",
            &["Conflicts: libfoo"],
            &["/usr/share/badlib"],
        ),
    ]
}

struct Fixture {
    _tmp: tempfile::TempDir,
    os: std::path::PathBuf,
    updates: std::path::PathBuf,
}

/// The RPMs, built once for all tests of this file: (os, updates) directories.
fn built_rpms() -> &'static (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    static BUILT: std::sync::OnceLock<(tempfile::TempDir, std::path::PathBuf, std::path::PathBuf)> =
        std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let os = tmp.path().join("os");
        let updates = tmp.path().join("updates");
        build_rpms(&tmp.path().join("work"), &os, &os_packages());
        build_rpms(
            &tmp.path().join("work"),
            &updates,
            &[tiny(
                "libfoo",
                "1.0",
                "2",
                "x86_64",
                &["Provides: libfoo.so.1()(64bit)"],
                &["/usr/lib64/libfoo.so.1"],
            )],
        );
        (tmp, os, updates)
    })
}

fn copy_rpms(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

/// Fresh os + updates repositories with metadata compressed as `compress`.
fn fixture(compress: &str) -> Option<Fixture> {
    if !require_tools(&["rpmbuild", "createrepo_c"]) {
        return None;
    }
    let (_, built_os, built_updates) = built_rpms();
    let tmp = tempfile::tempdir().unwrap();
    let os = tmp.path().join("os");
    let updates = tmp.path().join("updates");
    copy_rpms(built_os, &os);
    copy_rpms(built_updates, &updates);
    createrepo(&os, compress);
    createrepo(&updates, compress);
    Some(Fixture {
        _tmp: tmp,
        os,
        updates,
    })
}

fn policy() -> Policy {
    let conf = Prjconf::parse(
        "Repotype: rpm-md\nType: spec\nSupport: shell\nPrefer: postfix\n",
        "test.prjconf",
        &ParseContext::new("x86_64"),
    )
    .unwrap();
    Policy::from_prjconf(&conf)
}

const BUILD_REQUIRES: &[&str] = &["foo-devel", "mailer", "oldtool", "compat >= 1:0.1"];

fn request(build_requires: &[&str]) -> ResolveRequest {
    ResolveRequest {
        source: "demo".into(),
        source_evr: Some("1.0-1".into()),
        build_requires: build_requires.iter().map(|s| s.to_string()).collect(),
        own_binaries: Default::default(),
    }
}

#[test]
fn createrepo_metadata_parses_with_every_compression() {
    for compress in ["gz", "xz", "bz2"] {
        let Some(f) = fixture(compress) else { return };
        let repo = load_repo("os", &f.os);
        assert_eq!(repo.packages.len(), 11, "{compress}");
        let md = Repomd::parse(
            &fs::read(f.os.join("repodata/repomd.xml")).unwrap()[..],
            "repomd.xml",
        )
        .unwrap();
        assert!(md
            .primary()
            .unwrap()
            .href
            .ends_with(&format!("primary.xml.{compress}")));
        assert!(md.get("other").is_some());
        let devel = repo
            .packages
            .iter()
            .find(|p| p.name.as_str() == "foo-devel")
            .unwrap();
        assert_eq!(devel.arch.as_str(), "x86_64");
        assert_eq!(devel.evr.epoch(), Some(0));
        let compat_req = devel.requires.iter().find(|d| d.name == "compat").unwrap();
        let c = compat_req.constraint.as_ref().unwrap();
        assert_eq!((c.op, c.evr.to_string()), (Op::Ge, "1:0.1".to_owned()));
        let postfix = repo
            .packages
            .iter()
            .find(|p| p.name.as_str() == "postfix")
            .unwrap();
        assert!(postfix
            .requires
            .iter()
            .any(|d| d.name == "/bin/sh" && d.pre));
        assert_eq!(postfix.sourcerpm.as_deref(), Some("postfix-3.0-1.src.rpm"));
        assert!(postfix.header_range.is_some());
        assert_eq!(postfix.license.as_deref(), Some("MIT"));
        // /usr/share/foo/data.txt is only in filelists; /bin/sh is in primary too.
        let foodata = repo
            .packages
            .iter()
            .find(|p| p.name.as_str() == "foodata")
            .unwrap();
        assert!(foodata.files.is_empty());
        let fl = repo
            .filelists
            .iter()
            .find(|p| p.name.as_str() == "foodata")
            .unwrap();
        assert_eq!(fl.pkgid, foodata.pkgid.hex());
        assert!(fl
            .files
            .iter()
            .any(|e| e.path == "/usr/share/foo" && e.kind == FileKind::Dir));
        assert!(fl.files.iter().any(|e| e.path == "/usr/share/foo/data.txt"));
        let shell = repo
            .packages
            .iter()
            .find(|p| p.name.as_str() == "shell")
            .unwrap();
        assert_eq!(shell.files[0].path, "/bin/sh");
        let compat = repo
            .packages
            .iter()
            .find(|p| p.name.as_str() == "compat")
            .unwrap();
        assert_eq!(compat.evr.to_string(), "1:0.5-1");
        // The pkgid is the RPM's checksum.
        let rpm = fs::read(f.os.join(&shell.location.href)).unwrap();
        assert!(shell.pkgid.verify(&rpm));
        assert_eq!(shell.size, rpm.len() as u64);
    }
}

#[test]
fn zstd_primary_streams_through_the_capped_decoder() {
    let Some(f) = fixture("gz") else { return };
    let md = Repomd::parse(
        &fs::read(f.os.join("repodata/repomd.xml")).unwrap()[..],
        "r",
    )
    .unwrap();
    let gz = fs::read(f.os.join(&md.primary().unwrap().href)).unwrap();
    let plain = compression::decompress(&gz, "p.xml.gz", 1 << 30).unwrap();
    let zst = zstd::encode_all(&plain[..], 3).unwrap();
    let reader = compression::open(&zst[..], "p.xml.zst", 1 << 30).unwrap();
    let pkgs: Vec<_> = PrimaryReader::new(std::io::BufReader::new(reader), "p.xml.zst")
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(pkgs.len(), 11);
    // Over the cap: a clear error naming the file, not a partial list.
    let reader = compression::open(&zst[..], "p.xml.zst", 100).unwrap();
    let e = PrimaryReader::new(std::io::BufReader::new(reader), "p.xml.zst")
        .collect::<Result<Vec<_>, _>>()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("p.xml.zst") && e.contains("limit of 100 bytes"),
        "{e}"
    );
    // A tampered primary fails its repomd checksum.
    let mut bad = gz.clone();
    let n = bad.len() / 2;
    bad[n] ^= 1;
    assert!(md.primary().unwrap().verify(&bad).is_err());
}

fn universe(f: &Fixture) -> Universe {
    Universe::new(
        &Arch::new("x86_64").unwrap(),
        vec![load_repo("os", &f.os), load_repo("updates", &f.updates)],
    )
    .unwrap()
}

#[test]
fn closure_of_a_createrepo_repository() {
    let Some(f) = fixture("gz") else { return };
    let u = universe(&f);
    let c = resolve(&u, &policy(), &request(BUILD_REQUIRES)).unwrap();
    let got: Vec<String> = c.all().map(|s| s.nevra()).collect();
    assert_eq!(
        got,
        [
            "compat-1:0.5-1.noarch",
            "foo-devel-1.0-1.x86_64",
            "foodata-1.0-1.noarch",
            "libfoo-1.0-2.x86_64",
            "mailer-1-1.noarch",
            "newtool-2-1.noarch",
            "postfix-3.0-1.noarch",
            "shell-1-1.noarch"
        ]
    );
    assert_eq!(c.get("libfoo").unwrap().repo, "updates");
    assert_eq!(
        c.get("foodata").unwrap().reason.to_string(),
        "demo 1.0-1 build-requires foo-devel -> foo-devel 0:1.0-1 requires /usr/share/foo/data.txt"
    );
    // Without Prefer: the OBS-style choice error.
    let e = resolve(&u, &Policy::default(), &request(&["mailer"])).unwrap_err();
    assert!(
        e.to_string()
            .contains("have choice for mta: postfix-3.0-1.noarch sendmail-8.14-1.noarch"),
        "{e}"
    );
    // A conflict with the chosen set is refused with a reason.
    let e = resolve(&u, &policy(), &request(&["foo-devel", "badlib"])).unwrap_err();
    assert!(matches!(e, Unresolvable::Unsatisfiable { .. }));
    assert!(e.to_string().contains("libfoo-1.0-2.x86_64 conflicts with badlib-1-1.noarch (badlib-1-1.noarch conflicts with libfoo)"), "{e}");
}

#[test]
fn closure_equals_dnf() {
    let Some(f) = fixture("gz") else { return };
    if !require_tools(&["dnf"]) {
        return;
    }
    let u = universe(&f);
    let p = policy();
    let c = resolve(&u, &p, &request(BUILD_REQUIRES)).unwrap();
    let repos: [(&str, &Path); 2] = [("os", &f.os), ("updates", &f.updates)];
    assert_same_as_dnf(&repos, &p, BUILD_REQUIRES, &c);
    // And a smaller request without the Prefer'd name.
    let c = resolve(&u, &p, &request(&["foo-devel"])).unwrap();
    assert_same_as_dnf(&repos, &p, &["foo-devel"], &c);
}

#[test]
fn dnf_transaction_table_with_wrapped_rows() {
    let out = "Dependencies resolved.\n\
================\n \
Package   Arch   Version   Repository   Size\n\
================\n\
Installing:\n \
mailer    noarch   1-1    os   6.2 k\n\
Installing dependencies:\n \
a-very-long-package-name-that-wraps\n          \
x86_64   1:2.0-3.el7   updates   100\n \
compat    noarch   0:1-1   os   1 k\n\
\n\
Transaction Summary\n \
Install  3 Packages\n";
    let got = support::parse_transaction(out, &["os", "updates"]);
    let want: std::collections::BTreeSet<String> = [
        "mailer-1-1.noarch",
        "a-very-long-package-name-that-wraps-1:2.0-3.el7.x86_64",
        "compat-1-1.noarch",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(got, want);
}
