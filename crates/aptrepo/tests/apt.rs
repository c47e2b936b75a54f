//! End-to-end: the real `apt-get` (and `gpgv`) accept what we publish, and refuse it when
//! an index is tampered with or the signing key is not the trusted one.

mod common;

use std::fs;
use std::process::Command;

use common::*;

fn setup(
    signer: &cryo_aptrepo::SigningKey,
    trusted: &cryo_aptrepo::SigningKey,
) -> (tempfile::TempDir, Apt) {
    let tmp = tempfile::tempdir().unwrap();
    let debs = fixture_debs();
    let tree = build(&debs, signer);
    let repo = tmp.path().join("repo");
    write_tree(&tree, &debs, &repo);
    let keyring = tmp.path().join("cryo-demo.gpg");
    fs::write(&keyring, trusted.public_keyring_bytes().unwrap()).unwrap();
    let apt = Apt::new(&tmp.path().join("apt"), &repo, &keyring, "cryo-demo");
    (tmp, apt)
}

fn assert_clean_update(apt: &Apt) {
    let out = apt.run("apt-get", &["update"]);
    let t = text(&out);
    eprintln!("{t}");
    assert!(out.status.success(), "{t}");
    let warned = t
        .lines()
        .any(|l| l.starts_with("W:") || l.starts_with("E:") || l.starts_with("Err:"));
    assert!(!warned, "apt-get update warned:\n{t}");
}

#[test]
fn apt_accepts_the_signed_repository_and_downloads_packages() {
    let k = key("demo");
    let (tmp, apt) = setup(&k, &k);
    assert_clean_update(&apt);

    let policy = apt.run("apt-cache", &["policy", "hello", "kernel-wedge"]);
    let t = text(&policy);
    assert!(policy.status.success(), "{t}");
    assert!(t.contains("Candidate: 2.10-3"), "{t}");
    assert!(t.contains("Candidate: 2.106~deb12u1"), "{t}");
    assert!(t.contains("cryo-demo/main amd64 Packages"), "{t}");

    let out = apt.run(
        "apt-get",
        &["download", "hello", "libuev3", "kernel-wedge", "base-files"],
    );
    assert!(out.status.success(), "{}", text(&out));
    for deb in fixture_debs() {
        let name = deb
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace("%3a", ":");
        let got = fs::read(apt.dir.join("download").join(&name)).unwrap();
        assert_eq!(got, fs::read(&deb).unwrap(), "{name}");
    }

    // The detached signature verifies with GnuPG too (apt uses it when InRelease is absent).
    let dists = tmp.path().join("repo/dists/cryo-demo");
    let gpgv = Command::new("gpgv")
        .arg("--keyring")
        .arg(tmp.path().join("cryo-demo.gpg"))
        .arg(dists.join("Release.gpg"))
        .arg(dists.join("Release"))
        .output()
        .unwrap();
    assert!(gpgv.status.success(), "{}", text(&gpgv));
}

#[test]
fn apt_fetches_indices_by_hash() {
    let k = key("demo");
    let (tmp, apt) = setup(&k, &k);
    // Remove every index under its canonical name: only by-hash/ copies remain.
    for arch in ["amd64", "arm64"] {
        for f in ["Packages", "Packages.gz", "Packages.xz"] {
            let p = tmp
                .path()
                .join(format!("repo/dists/cryo-demo/main/binary-{arch}/{f}"));
            fs::remove_file(p).unwrap();
        }
    }
    assert_clean_update(&apt);
    let policy = apt.run("apt-cache", &["policy", "libuev3"]);
    assert!(
        text(&policy).contains("Candidate: 2.4.0-1.1+deb12u1"),
        "{}",
        text(&policy)
    );
}

#[test]
fn apt_rejects_a_tampered_index() {
    let k = key("demo");
    let (tmp, apt) = setup(&k, &k);
    // Flip one byte of every variant (hard links: the by-hash copies change too).
    for f in ["Packages", "Packages.gz", "Packages.xz"] {
        let p = tmp
            .path()
            .join(format!("repo/dists/cryo-demo/main/binary-amd64/{f}"));
        let mut bytes = fs::read(&p).unwrap();
        let i = bytes.len() / 2;
        bytes[i] ^= 0x01;
        fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .and_then(|mut h| {
                use std::io::Write;
                h.write_all(&bytes)
            })
            .unwrap();
    }
    let out = apt.run("apt-get", &["update"]);
    let t = text(&out);
    eprintln!("{t}");
    assert!(t.contains("Hash Sum mismatch"), "{t}");
    let policy = apt.run("apt-cache", &["policy", "hello"]);
    assert!(
        !text(&policy).contains("Candidate: 2.10-3"),
        "{}",
        text(&policy)
    );
}

#[test]
fn apt_refuses_a_repository_signed_by_another_key() {
    let trusted = key("demo");
    let other = key("intruder");
    let (_tmp, apt) = setup(&other, &trusted);
    let out = apt.run("apt-get", &["update"]);
    let t = text(&out);
    eprintln!("{t}");
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("NO_PUBKEY") && t.contains(&other.fingerprint()[24..]),
        "{t}"
    );
    assert!(t.contains("is not signed"), "{t}");
    let policy = apt.run("apt-cache", &["policy", "hello"]);
    assert!(
        !text(&policy).contains("Candidate: 2.10-3"),
        "{}",
        text(&policy)
    );
}

#[test]
fn apt_downloads_published_source_packages() {
    use cryo_aptrepo::build::build_repository_with_sources;
    use cryo_aptrepo::{FileHashes, FileSource, SourceFileInput, SourceInput};

    let dir = fixture_mirror().join("debian/pool/main/h/hello");
    let names = [
        "hello_2.10.orig.tar.gz",
        "hello_2.10.orig.tar.gz.asc",
        "hello_2.10-3.debian.tar.xz",
    ];
    let src = SourceInput {
        component: "main".parse().unwrap(),
        dsc: fs::read(dir.join("hello_2.10-3.dsc")).unwrap(),
        files: names
            .iter()
            .map(|n| SourceFileInput {
                name: (*n).to_owned(),
                hashes: FileHashes::of_bytes(&fs::read(dir.join(n)).unwrap()),
            })
            .collect(),
    };
    let debs = fixture_debs();
    let k = key("demo");
    let tree = build_repository_with_sources(
        &spec(&["amd64"]),
        &inputs(&debs),
        std::slice::from_ref(&src),
        &k,
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    write_tree_with(&tree, &repo, |f| match f {
        FileSource::Package(i) => debs[*i].clone(),
        FileSource::SourceDsc(_) => dir.join("hello_2.10-3.dsc"),
        FileSource::SourceFile { file, .. } => dir.join(names[*file]),
        other => panic!("{other:?}"),
    });
    let keyring = tmp.path().join("k.gpg");
    fs::write(&keyring, k.public_keyring_bytes().unwrap()).unwrap();
    let apt = Apt::with_types(
        &tmp.path().join("apt"),
        &repo,
        &keyring,
        "cryo-demo",
        &["deb", "deb-src"],
    );
    assert_clean_update(&apt);
    let out = apt.run("apt-get", &["source", "--download-only", "hello"]);
    assert!(out.status.success(), "{}", text(&out));
    for n in names.iter().chain(&["hello_2.10-3.dsc"]) {
        let got = fs::read(apt.dir.join("download").join(n)).unwrap();
        assert_eq!(got, fs::read(dir.join(n)).unwrap(), "{n}");
    }
}
