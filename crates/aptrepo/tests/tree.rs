//! The repository tree without apt: layout, index contents, determinism, keys, sources,
//! and clear errors for bad inputs.

mod common;

use std::fs;

use common::*;
use cryo_aptrepo::{
    build::build_repository_with_sources, build_repository, scan_deb_bytes, DebError, FileHashes,
    FileSource, PublishError, SigningKey, SourceFileInput, SourceInput,
};

const DISTS: &str = "dists/cryo-demo";

#[test]
fn layout_indices_and_aliases() {
    let debs = fixture_debs();
    let tree = build(&debs, &key("demo"));
    let pool: Vec<_> = tree
        .files
        .iter()
        .filter_map(|(p, s)| matches!(s, FileSource::Package(_)).then_some(p.as_str()))
        .collect();
    assert_eq!(
        pool,
        [
            "pool/main/b/base-files/base-files_12.4+deb12u15_amd64.deb",
            "pool/main/h/hello/hello_2.10-3_amd64.deb",
            "pool/main/k/kernel-wedge/kernel-wedge_2.106~deb12u1_all.deb",
            "pool/main/libu/libuev/libuev3_2.4.0-1.1+deb12u1_amd64.deb",
        ]
    );
    let amd64 = String::from_utf8(
        tree.generated(&format!("{DISTS}/main/binary-amd64/Packages"))
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    let arm64 = String::from_utf8(
        tree.generated(&format!("{DISTS}/main/binary-arm64/Packages"))
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    let names = |t: &str| {
        t.lines()
            .filter_map(|l| l.strip_prefix("Package: "))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&amd64),
        ["base-files", "hello", "kernel-wedge", "libuev3"]
    );
    // Architecture: all goes into every binary-<arch>; amd64 packages only into amd64.
    assert_eq!(names(&arm64), ["kernel-wedge"]);
    let hello = fs::read(&debs[0]).unwrap();
    let h = FileHashes::of_bytes(&hello);
    assert!(amd64.contains(&format!(
        "Filename: pool/main/h/hello/hello_2.10-3_amd64.deb\nSize: {}\nMD5sum: {}\nSHA256: {}\n\n",
        h.size, h.md5, h.sha256
    )));
    assert!(
        amd64.contains("Package: libuev3\nSource: libuev\n"),
        "{amd64}"
    );

    // Release lists every index, and each index has by-hash aliases for both digests.
    let release = String::from_utf8(
        tree.generated(&format!("{DISTS}/Release"))
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(release.starts_with("Origin: cryo\nLabel: cryo project demo\nSuite: stable\nCodename: cryo-demo\nDate: Tue, 14 Nov 2023 22:13:20 UTC\nAcquire-By-Hash: yes\nArchitectures: amd64 arm64\nComponents: main\nMD5Sum:\n"), "{release}");
    for arch in ["amd64", "arm64"] {
        for f in ["Packages", "Packages.gz", "Packages.xz"] {
            let rel = format!("main/binary-{arch}/{f}");
            let bytes = tree.generated(&format!("{DISTS}/{rel}")).unwrap();
            let h = FileHashes::of_bytes(bytes);
            assert!(
                release.contains(&format!(" {} {:>8} {rel}\n", h.sha256, h.size)),
                "{rel}"
            );
            assert!(
                release.contains(&format!(" {} {:>8} {rel}\n", h.md5, h.size)),
                "{rel}"
            );
            let by = format!("{DISTS}/main/binary-{arch}/by-hash/SHA256/{}", h.sha256);
            assert_eq!(tree.files[&by], FileSource::Alias(format!("{DISTS}/{rel}")));
            assert_eq!(tree.generated(&by), Some(bytes));
            assert!(tree.files.contains_key(&format!(
                "{DISTS}/main/binary-{arch}/by-hash/MD5Sum/{}",
                h.md5
            )));
        }
    }
    let in_release = String::from_utf8(
        tree.generated(&format!("{DISTS}/InRelease"))
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(
        in_release
            .starts_with("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: cryo\n"),
        "{in_release}"
    );
    let gpg = tree.generated(&format!("{DISTS}/Release.gpg")).unwrap();
    assert!(gpg.starts_with(b"-----BEGIN PGP SIGNATURE-----"));
}

#[test]
fn same_inputs_give_identical_bytes() {
    let debs = fixture_debs();
    let k = key("demo");
    let a = build(&debs, &k);
    // Input order does not matter either.
    let mut reversed = debs.clone();
    reversed.reverse();
    let b = build_repository(&spec(&["amd64", "arm64"]), &inputs(&reversed), &k).unwrap();
    let generated = |t: &cryo_aptrepo::RepoTree| {
        t.files
            .iter()
            .filter(|(_, s)| !matches!(s, FileSource::Package(_)))
            .map(|(p, s)| (p.clone(), s.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(generated(&a), generated(&b));
    // A stored-and-reloaded key signs byte-identically (Ed25519 is deterministic).
    let reloaded = SigningKey::from_armored_secret(&k.to_armored_secret().unwrap()).unwrap();
    assert_eq!(reloaded.fingerprint(), k.fingerprint());
    let c = build(&debs, &reloaded);
    assert_eq!(c, a);
    // Another date changes Release and signatures, not the indices.
    let mut later = spec(&["amd64", "arm64"]);
    later.date += 1;
    let d = build_repository(&later, &inputs(&debs), &k).unwrap();
    let p = format!("{DISTS}/main/binary-amd64/Packages.xz");
    assert_eq!(d.generated(&p), a.generated(&p));
    assert_ne!(
        d.generated(&format!("{DISTS}/Release")),
        a.generated(&format!("{DISTS}/Release"))
    );
}

#[test]
fn keys_export_and_validate() {
    let k = key("demo");
    assert_eq!(k.fingerprint().len(), 40);
    assert_eq!(k.created(), KEY_CREATED);
    let public = k.public_armored().unwrap();
    assert!(public.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    assert!(!public.contains("PRIVATE"));
    let ring = k.public_keyring_bytes().unwrap();
    // cryo-debian's verifier reads our keyring and verifies our InRelease.
    let keyring = cryo_debian::openpgp::Keyring::from_bytes(&ring).unwrap();
    assert_eq!(keyring.fingerprints()[0].0, k.fingerprint());
    let tree = build(&fixture_debs(), &k);
    let inrel = tree.generated(&format!("{DISTS}/InRelease")).unwrap();
    let verified = cryo_debian::openpgp::verify_clearsigned(inrel, &keyring).unwrap();
    assert_eq!(
        verified.text.as_bytes(),
        tree.generated(&format!("{DISTS}/Release")).unwrap()
    );

    assert!(SigningKey::generate("bad <name>", KEY_CREATED).is_err());
    assert!(SigningKey::generate("x", -1).is_err());
    assert!(SigningKey::from_armored_secret(&public).is_err());
    // Signing before the key existed would be rejected by gpgv: refuse early.
    let mut early = spec(&["amd64"]);
    early.date = KEY_CREATED - 1;
    let e = build_repository(&early, &[], &k).unwrap_err();
    assert!(matches!(e, PublishError::Signing(_)), "{e}");
}

#[test]
fn bad_inputs_fail_clearly() {
    let hello = fs::read(&fixture_debs()[0]).unwrap();
    let e = scan_deb_bytes(&hello[..hello.len() - 100]).unwrap_err();
    assert!(
        matches!(&e, DebError::Malformed(m) if m.to_string().contains("truncated")),
        "{e}"
    );
    let e = scan_deb_bytes(b"not an archive at all").unwrap_err();
    assert!(
        matches!(
            e,
            DebError::Malformed(cryo_debian::deb::DebReadError::NotAr)
        ),
        "{e}"
    );
    let e = cryo_aptrepo::scan_deb(&hello[..], hello.len() as u64 + 1).unwrap_err();
    assert!(matches!(e, DebError::SizeMismatch { .. }), "{e}");
    // An ar archive whose members are in the wrong order.
    let mut ar = ar::Builder::new(Vec::new());
    let data = b"2.0\n";
    ar.append(&ar::Header::new(b"control.tar.gz".to_vec(), 4), &data[..])
        .unwrap();
    let e = scan_deb_bytes(&ar.into_inner().unwrap()).unwrap_err();
    assert!(matches!(e, DebError::Malformed(_)), "{e}");

    let debs = fixture_debs();
    // Architecture not published.
    let e = build_repository(&spec(&["arm64"]), &inputs(&debs), &key("demo")).unwrap_err();
    assert!(matches!(e, PublishError::UnknownArchitecture { .. }), "{e}");
    // Component not in the spec.
    let mut i = inputs(&debs[..1]);
    i[0].component = "contrib".parse().unwrap();
    let e = build_repository(&spec(&["amd64"]), &i, &key("demo")).unwrap_err();
    assert!(matches!(e, PublishError::UnknownComponent { .. }), "{e}");
    // Same pool path, different bytes.
    let mut i = inputs(&debs[..1]);
    let mut other = i[0].clone();
    other.deb.hashes = FileHashes::of_bytes(b"different");
    i.push(other);
    let e = build_repository(&spec(&["amd64"]), &i, &key("demo")).unwrap_err();
    assert!(matches!(e, PublishError::Conflict { .. }), "{e}");
    // The identical package twice is published once.
    let twice = inputs(&[debs[0].clone(), debs[0].clone()]);
    let t = build_repository(&spec(&["amd64"]), &twice, &key("demo")).unwrap();
    let p = String::from_utf8(
        t.generated(&format!("{DISTS}/main/binary-amd64/Packages"))
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert_eq!(p.matches("Package: hello\n").count(), 1);
}

#[test]
fn source_packages_are_published() {
    let dir = fixture_mirror().join("debian/pool/main/h/hello");
    let names = [
        "hello_2.10.orig.tar.gz",
        "hello_2.10.orig.tar.gz.asc",
        "hello_2.10-3.debian.tar.xz",
    ];
    let files: Vec<_> = names
        .iter()
        .map(|n| SourceFileInput {
            name: (*n).to_owned(),
            hashes: FileHashes::of_bytes(&fs::read(dir.join(n)).unwrap()),
        })
        .collect();
    let dsc = fs::read(dir.join("hello_2.10-3.dsc")).unwrap();
    let src = SourceInput {
        component: "main".parse().unwrap(),
        dsc: dsc.clone(),
        files: files.clone(),
    };
    let k = key("demo");
    let tree =
        build_repository_with_sources(&spec(&["amd64"]), &[], std::slice::from_ref(&src), &k)
            .unwrap();
    assert_eq!(
        tree.files["pool/main/h/hello/hello_2.10-3.dsc"],
        FileSource::SourceDsc(0)
    );
    assert_eq!(
        tree.files["pool/main/h/hello/hello_2.10-3.debian.tar.xz"],
        FileSource::SourceFile { source: 0, file: 2 }
    );
    let sources = String::from_utf8(
        tree.generated(&format!("{DISTS}/main/source/Sources"))
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(sources.starts_with("Package: hello\n"), "{sources}");
    assert!(
        sources.contains("Directory: pool/main/h/hello\n"),
        "{sources}"
    );
    let d = FileHashes::of_bytes(&dsc);
    assert!(
        sources.contains(&format!(
            "Checksums-Sha256:\n {} {} hello_2.10-3.dsc\n",
            d.sha256, d.size
        )),
        "{sources}"
    );
    assert!(
        sources.contains(&format!(
            " {} {} hello_2.10-3.debian.tar.xz\n",
            files[2].hashes.md5, files[2].hashes.size
        )),
        "{sources}"
    );
    let release = String::from_utf8(
        tree.generated(&format!("{DISTS}/Release"))
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(release.contains(" main/source/Sources.xz\n"));

    // A supplied file that does not match the .dsc is refused.
    let mut bad = src.clone();
    bad.files[2].hashes = FileHashes::of_bytes(b"x");
    let e = build_repository_with_sources(&spec(&["amd64"]), &[], &[bad], &k).unwrap_err();
    assert!(e.to_string().contains("source package #0"), "{e}");
    let mut missing = src;
    missing.files.pop();
    assert!(build_repository_with_sources(&spec(&["amd64"]), &[], &[missing], &k).is_err());
}
