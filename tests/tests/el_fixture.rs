//! The EL fixture (docs/rpm.md, "The EL fixture"): the generated RPM distribution is what
//! real RPM clients accept — every RPM's signature verifies against the vendor key with
//! `rpmkeys`, createrepo_c's metadata matches its checksums and its signature, `dnf`
//! resolves the whole base set from it, the official builds carry the vendor's clock and
//! host — and the generator is deterministic.
//!
//! Determinism is tested on a representative subset (one noarch package, packages with
//! alternatives, with an `updates/` version, the C library) plus everything the vendor
//! build step makes (the SRPMs, their chroot builds, their repodata and signatures): a
//! second full repack would cost the suite the whole generation time again, and each
//! package's repack is independent of the others.

use std::path::{Path, PathBuf};
use std::process::Command;

use cryo_tests::{el_fixture, el_fixture_generator, fixture_mirror, run_ok};

fn manifest(root: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(root.join("manifest.json")).unwrap()).unwrap()
}

fn rows<'a>(m: &'a serde_json::Value, repo: &str) -> &'a Vec<serde_json::Value> {
    m["repos"][repo].as_array().unwrap()
}

fn rpms(root: &Path, repo: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root.join(repo).join("Packages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn sha256(p: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

/// `(checksum, href)` of each `<data>` of a repomd.xml.
fn repomd_entries(repomd: &str) -> Vec<(String, String, String)> {
    let between = |s: &str, a: &str, b: &str| -> String {
        let i = s.find(a).unwrap_or_else(|| panic!("no {a} in {s}")) + a.len();
        s[i..i + s[i..].find(b).unwrap()].to_string()
    };
    repomd
        .split("<data type=\"")
        .skip(1)
        .map(|d| {
            (
                d[..d.find('"').unwrap()].to_string(),
                between(d, "<checksum type=\"sha256\">", "<"),
                between(d, "<location href=\"", "\""),
            )
        })
        .collect()
}

fn zcat(p: &Path) -> String {
    run_ok(Command::new("zcat").arg(p))
}

fn metadata(repo: &Path, kind: &str) -> String {
    let repomd = std::fs::read_to_string(repo.join("repodata/repomd.xml")).unwrap();
    let (_, _, href) = repomd_entries(&repomd)
        .into_iter()
        .find(|(t, _, _)| t == kind)
        .unwrap_or_else(|| panic!("no {kind} in {}", repo.display()));
    zcat(&repo.join(href))
}

#[test]
fn manifest_lists_every_generated_file_with_its_hash() {
    let Some(root) = el_fixture() else { return };
    let m = manifest(&root);
    let counts: Vec<usize> = ["os", "updates", "srpms", "official"]
        .iter()
        .map(|r| rows(&m, r).len())
        .collect();
    assert!(counts[0] >= 170, "os/ holds the base build set: {counts:?}");
    assert_eq!(counts[1], 12, "updates/: the bookworm-security versions");
    assert_eq!(counts[2], 4, "srpms/: hello, libuev, mxml, xfpt");
    for repo in ["os", "updates", "srpms", "official"] {
        let files = rpms(&root, repo);
        assert_eq!(
            files.len(),
            rows(&m, repo).len(),
            "{repo}: manifest vs files"
        );
        for r in rows(&m, repo) {
            let p = root.join(r["path"].as_str().unwrap());
            assert_eq!(sha256(&p), r["sha256"].as_str().unwrap(), "{}", p.display());
        }
    }
    // Every repacked package names the Debian package it came from, with its index hash.
    for r in rows(&m, "os").iter().chain(rows(&m, "updates")) {
        assert!(
            r["debian"]["sha256"]
                .as_str()
                .is_some_and(|s| s.len() == 64),
            "{r}"
        );
    }
    // Epochs both ways, and a Debian revision as Release.
    let find = |n: &str| rows(&m, "os").iter().find(|r| r["name"] == n).unwrap();
    assert_eq!(find("gawk")["epoch"], 1);
    assert_eq!(find("gawk")["version"], "5.2.1");
    assert_eq!(find("gawk")["release"], "2");
    assert_eq!(find("bash")["epoch"], 0);
    assert_eq!(
        find("base-files")["release"],
        "0",
        "a native package's Release"
    );
}

#[test]
fn every_rpm_is_signed_by_the_vendor_key() {
    let Some(root) = el_fixture() else { return };
    let db = tempfile::tempdir().unwrap();
    let rpmkeys = || {
        let mut c = Command::new("rpmkeys");
        c.arg("--dbpath").arg(db.path());
        c
    };
    let all: Vec<PathBuf> = ["os", "updates", "srpms", "official"]
        .iter()
        .flat_map(|r| rpms(&root, r))
        .collect();
    // Without the key the signatures cannot be checked.
    let o = rpmkeys().arg("--checksig").arg(&all[0]).output().unwrap();
    assert!(
        !o.status.success(),
        "checksig without the vendor key must fail"
    );
    run_ok(
        rpmkeys()
            .arg("--import")
            .arg(root.join("keys/RPM-GPG-KEY-cryo-vendor")),
    );
    let out = run_ok(rpmkeys().arg("--checksig").args(&all));
    assert_eq!(out.lines().count(), all.len(), "{out}");
    for line in out.lines() {
        assert!(line.ends_with(": digests signatures OK"), "{line}");
    }
    // The signature is RSA/SHA256 by the vendor key, at the pinned signing time.
    let sig = run_ok(
        Command::new("rpm")
            .env("TZ", "UTC")
            .args(["-qp", "--nosignature", "--qf", "%{RSAHEADER:pgpsig}"])
            .arg(&all[0]),
    );
    assert_eq!(
        sig,
        "RSA/SHA256, Sat Jun  1 00:00:00 2024, Key ID a1756be73b698d68"
    );
}

#[test]
fn repodata_matches_its_checksums_and_signatures() {
    let Some(root) = el_fixture() else { return };
    for repo in ["os", "updates", "srpms", "official", "os-xmlbase"] {
        let dir = root.join(repo);
        let repomd = std::fs::read_to_string(dir.join("repodata/repomd.xml")).unwrap();
        let entries = repomd_entries(&repomd);
        let kinds: Vec<&str> = entries.iter().map(|(t, _, _)| t.as_str()).collect();
        assert_eq!(
            kinds,
            ["primary", "filelists", "other"],
            "{repo}: no sqlite"
        );
        for (_, sum, href) in &entries {
            assert_eq!(&sha256(&dir.join(href)), sum, "{repo}/{href}");
        }
        let signed = dir.join("repodata/repomd.xml.asc").is_file();
        assert_eq!(signed, ["updates", "official"].contains(&repo), "{repo}");
        if signed {
            run_ok(
                Command::new("gpgv")
                    .arg("--keyring")
                    .arg(root.join("keys/vendor.gpg"))
                    .arg(dir.join("repodata/repomd.xml.asc"))
                    .arg(dir.join("repodata/repomd.xml")),
            );
        }
    }
}

#[test]
fn metadata_has_the_details_real_el_repositories_have() {
    let Some(root) = el_fixture() else { return };
    let primary = metadata(&root.join("os"), "primary");
    let filelists = metadata(&root.join("os"), "filelists");
    // Dependencies with and without epoch, pre-install requirements, automatic ELF and
    // file provides, and the materialised alternatives.
    assert!(primary.contains(r#"<rpm:entry name="libgmp10" flags="GE" epoch="2""#));
    assert!(primary.contains(r#"<rpm:entry name="libc6" flags="GE" epoch="0" ver="2.34""#));
    assert!(
        primary.contains(r#" pre="1""#),
        "Requires(pre) from Pre-Depends"
    );
    assert!(primary.contains(r#"<rpm:entry name="libc.so.6(GLIBC_2.34)(64bit)"/>"#));
    assert!(primary.contains(r#"<rpm:entry name="/bin/sh"/>"#));
    assert!(primary.contains(r#"<rpm:entry name="rtld(GNU_HASH)"/>"#));
    for alt in [
        "/usr/bin/awk",
        "/usr/bin/cc",
        "/usr/bin/c++",
        "/lib/cpp",
        "/usr/bin/pager",
    ] {
        assert!(filelists.contains(&format!(">{alt}</file>")), "{alt}");
    }
    // primary holds only the "primary" files (bin dirs, /etc); filelists holds them all.
    assert!(primary.contains("<file>/usr/bin/gawk</file>"));
    assert!(!primary.contains(">/usr/share/doc/gawk/copyright</file>"));
    assert!(filelists.contains(">/usr/share/doc/gawk/copyright</file>"));
    let xmlbase = metadata(&root.join("os-xmlbase"), "primary");
    assert!(xmlbase.contains(r#"xml:base="http://vault.cryo-vendor.example/7/os/x86_64/""#));
    // other.xml carries each package's changelog.
    assert!(metadata(&root.join("srpms"), "other").contains("Rebuild for Cryo Vendor Linux 7"));
}

#[test]
fn dnf_resolves_the_base_set_from_the_signed_repositories() {
    let Some(root) = el_fixture() else { return };
    if !cryo_tests::require(
        cryo_tests::missing_tools(&["dnf"]).is_empty(),
        "dnf is missing (.ci/packages)",
    ) {
        return;
    }
    let installroot = tempfile::tempdir().unwrap();
    let key = format!(
        "file://{}",
        root.join("keys/RPM-GPG-KEY-cryo-vendor").display()
    );
    let dnf = |args: &[&str]| {
        let mut c = Command::new("dnf");
        c.arg("--installroot")
            .arg(installroot.path())
            .arg("--setopt=reposdir=/dev/null")
            .args(["--setopt=gpgcheck=1", "--releasever=7", "--disableplugin=*"]);
        for repo in ["os", "updates"] {
            c.arg(format!(
                "--repofrompath={repo},file://{}",
                root.join(repo).display()
            ))
            .arg(format!("--setopt={repo}.gpgkey={key}"));
        }
        // updates/ has a signed repomd.xml: dnf checks it.
        c.arg("--setopt=updates.repo_gpgcheck=1").args(args);
        c.output().unwrap()
    };
    let o = dnf(&["-y", "makecache"]);
    assert!(o.status.success(), "{}", cryo_tests::output_text(&o));
    let m = manifest(&root);
    let mut names: Vec<&str> = rows(&m, "os")
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.dedup();
    let mut args = vec!["install", "--assumeno"];
    args.extend(&names);
    let o = dnf(&args);
    let text = cryo_tests::output_text(&o);
    assert!(text.contains("Operation aborted"), "{text}");
    assert!(!text.contains("Problem"), "{text}");
    // A real installation: dnf downloads, checks the vendor signature (gpgcheck=1,
    // the key imported by -y) and installs.
    let o = dnf(&["-y", "install", "base-files"]);
    let text_install = cryo_tests::output_text(&o);
    assert!(
        o.status.success() && text_install.contains("Complete!"),
        "{text_install}"
    );
    assert!(installroot.path().join("etc/debian_version").is_file());
    // The updates win: the newer EVR of xz-utils comes from updates/.
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("xz-utils "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("5.4.1-1+deb12u2") && line.contains("updates"),
        "{line}"
    );
}

#[test]
fn official_builds_carry_the_vendor_clock_and_host() {
    let Some(root) = el_fixture() else { return };
    let m = manifest(&root);
    let official = rows(&m, "official");
    let names: Vec<&str> = official
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for n in [
        "hello",
        "libuev",
        "libuev-devel",
        "libuev-debuginfo",
        "mxml",
        "mxml-devel",
        "mxml-doc",
        "xfpt",
    ] {
        assert!(names.contains(&n), "{n} not among {names:?}");
    }
    for r in official {
        let p = root.join(r["path"].as_str().unwrap());
        let got = run_ok(
            Command::new("rpm")
                .args(["-qp", "--nosignature", "--qf", "%{BUILDHOST} %{BUILDTIME}"])
                .arg(&p),
        );
        let vendor = &r["vendor_build"];
        assert_eq!(
            got,
            format!("{} {}", vendor["host"].as_str().unwrap(), vendor["clock"])
        );
        // Payload mtimes are clamped to the newest %changelog date, before the clock.
        let mtimes = run_ok(
            Command::new("rpm")
                .args(["-qp", "--nosignature", "--qf", "[%{FILEMTIMES}\n]"])
                .arg(&p),
        );
        for t in mtimes.lines() {
            let t: i64 = t.parse().unwrap();
            assert!(t <= vendor["clock"].as_i64().unwrap(), "{}", p.display());
        }
    }
    let arch = |n: &str| official.iter().find(|r| r["name"] == n).unwrap()["arch"].clone();
    assert_eq!(arch("mxml-doc"), "noarch");
    let scripts = run_ok(
        Command::new("rpm")
            .args(["-qp", "--nosignature", "--scripts"])
            .arg(
                root.join(
                    official.iter().find(|r| r["name"] == "mxml").unwrap()["path"]
                        .as_str()
                        .unwrap(),
                ),
            ),
    );
    assert!(scripts.contains("postinstall scriptlet"), "{scripts}");
}

#[test]
fn a_second_run_is_byte_identical() {
    let Some(root) = el_fixture() else { return };
    let subset = "bash,dash,gawk,gcc,libc6,tzdata,xz-utils,liblzma5,base-files,perl-base";
    let out = tempfile::tempdir().unwrap();
    let again = out.path().join("again");
    run_ok(
        Command::new("python3")
            .arg(el_fixture_generator())
            .args(["build"])
            .arg(&again)
            .arg("--mirror")
            .arg(fixture_mirror())
            .args(["--only", subset, "--chroot-from"])
            .arg(&root),
    );
    let mut compared = 0;
    for repo in ["os", "updates", "srpms", "official"] {
        for p in rpms(&again, repo) {
            let theirs = root
                .join(repo)
                .join("Packages")
                .join(p.file_name().unwrap());
            assert_eq!(sha256(&p), sha256(&theirs), "{}", p.display());
            compared += 1;
        }
    }
    assert_eq!(compared, 10 + 4 + 4 + rpms(&root, "official").len());
    // The vendor build step's repositories are complete in the subset run: identical too.
    for repo in ["srpms", "official"] {
        let dir = |r: &Path| r.join(repo).join("repodata");
        for f in std::fs::read_dir(dir(&again)).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap();
            assert_eq!(
                sha256(&f),
                sha256(&dir(&root).join(name)),
                "{}",
                f.display()
            );
        }
    }
}
