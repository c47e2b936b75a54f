//! Behaviour of the local store: atomic verified blobs, trees, roots, GC and verify.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{symlink, PermissionsExt};

use cryo_store::blob::Encoding;
use cryo_store::realisation::{OutputRef, Realisation};
use cryo_store::{B3Digest, ObjectKind, Store};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    (dir, s)
}

#[test]
fn put_and_read_back_compressed_and_raw() {
    let (dir, s) = store();
    let text = b"hello world\n".repeat(10_000);
    let put = s.put_bytes(&text, ObjectKind::Blob, &[], None).unwrap();
    assert_eq!(put.digest, B3Digest::of(&text));
    assert_eq!(put.encoding, Encoding::Zstd);
    assert!(put.stored_size < text.len() as u64 / 10);
    assert_eq!(s.read(&put.digest).unwrap(), text);
    // Sharded file name an operator can find.
    let hex = put.digest.to_hex();
    assert!(dir
        .path()
        .join("blobs")
        .join(&hex[..2])
        .join(&hex)
        .is_file());

    // Random bytes do not compress: stored raw.
    let mut noise = vec![0u8; 300_000];
    let mut x = 0x12345678u32;
    for b in noise.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let put = s.put_bytes(&noise, ObjectKind::Blob, &[], None).unwrap();
    assert_eq!(put.encoding, Encoding::Raw);
    assert_eq!(s.read(&put.digest).unwrap(), noise);

    // Same content again: deduplicated.
    let again = s.put_bytes(&noise, ObjectKind::Blob, &[], None).unwrap();
    assert!(!again.created);
    // Empty blob works.
    let e = s.put_bytes(b"", ObjectKind::Blob, &[], None).unwrap();
    assert_eq!(s.read(&e.digest).unwrap(), b"");
}

#[test]
fn corrupt_blob_is_never_returned_and_verify_lists_it() {
    let (dir, s) = store();
    let a = s
        .put_bytes(&b"aaaa".repeat(1000), ObjectKind::Blob, &[], None)
        .unwrap();
    let b = s
        .put_bytes(&[7u8; 5000], ObjectKind::Blob, &[], None)
        .unwrap();
    let c = s.put_bytes(b"small", ObjectKind::Blob, &[], None).unwrap();
    assert!(s.verify().unwrap().is_clean());
    // Flip one byte of a's payload and replace c's file by different valid content.
    let hex = a.digest.to_hex();
    let pa = dir.path().join("blobs").join(&hex[..2]).join(&hex);
    let mut bytes = fs::read(&pa).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0xff;
    fs::set_permissions(&pa, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&pa, &bytes).unwrap();
    let hc = c.digest.to_hex();
    let pc = dir.path().join("blobs").join(&hc[..2]).join(&hc);
    let other = Store::open(tempfile::tempdir().unwrap().path()).unwrap();
    let _ = other;
    let mut raw = fs::read(&pc).unwrap();
    let n = raw.len();
    raw[n - 1] = b'X';
    fs::write(&pc, &raw).unwrap();

    let err = s.read(&a.digest).unwrap_err().to_string();
    assert!(err.contains(&a.digest.to_hex()), "{err}");
    let err = s.read(&c.digest).unwrap_err().to_string();
    assert!(
        err.contains(&c.digest.to_hex()) && err.contains("corrupt"),
        "{err}"
    );
    assert_eq!(s.read(&b.digest).unwrap(), vec![7u8; 5000]);

    let report = s.verify().unwrap();
    let bad: Vec<_> = report.bad.iter().map(|b| b.digest.clone()).collect();
    assert_eq!(report.bad.len(), 2, "{report:?}");
    assert!(bad.contains(&a.digest.to_hex()) && bad.contains(&c.digest.to_hex()));
}

#[test]
fn stray_temp_files_are_swept_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open(dir.path()).unwrap();
        s.put_bytes(b"x", ObjectKind::Blob, &[], None).unwrap();
    }
    fs::write(dir.path().join("tmp/put-crashed"), b"partial").unwrap();
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    assert!(s.verify().unwrap().is_clean());
}

fn sample_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("sub/deeper")).unwrap();
    fs::create_dir(d.path().join("empty")).unwrap();
    fs::write(d.path().join("a.txt"), b"alpha\n").unwrap();
    fs::write(d.path().join("sub/run.sh"), b"#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(
        d.path().join("sub/run.sh"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    fs::write(d.path().join("sub/deeper/b.bin"), vec![1u8; 70_000]).unwrap();
    symlink("../a.txt", d.path().join("sub/link")).unwrap();
    d
}

#[test]
fn import_export_roundtrip_and_determinism() {
    let (_d, s) = store();
    let src = sample_dir();
    let sess = s.session();
    let t1 = s.import_dir(src.path(), &sess).unwrap();
    let t2 = s.import_dir(src.path(), &sess).unwrap();
    assert_eq!(t1, t2);
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("x");
    s.export_tree(&t1, &dest).unwrap();
    assert_eq!(fs::read(dest.join("a.txt")).unwrap(), b"alpha\n");
    assert_eq!(
        fs::read_link(dest.join("sub/link")).unwrap().to_str(),
        Some("../a.txt")
    );
    let mode = fs::metadata(dest.join("sub/run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    assert!(dest.join("empty").is_dir());
    // Re-import of the export gives the same digest.
    assert_eq!(s.import_dir(&dest, &sess).unwrap(), t1);
    // Export into a non-empty directory is refused.
    assert!(s.export_tree(&t1, &dest).is_err());

    // Tar round trip gives the same tree.
    let mut tar = Vec::new();
    s.export_tar(&t1, &mut tar).unwrap();
    assert_eq!(s.import_tar(&tar[..], &sess).unwrap(), t1);
}

#[test]
fn tar_path_traversal_is_refused() {
    let (_d, s) = store();
    for evil in ["../evil", "/abs", "a/../../b"] {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // Write the raw name to bypass the builder's own checks.
        let name = h.as_gnu_mut().unwrap();
        name.name[..evil.len()].copy_from_slice(evil.as_bytes());
        h.set_cksum();
        b.append(&h, &b"x"[..]).unwrap();
        let bytes = b.into_inner().unwrap();
        let err = s.import_tar(&bytes[..], &s.session()).unwrap_err();
        assert!(err.to_string().contains("tar entry"), "{evil}: {err}");
    }
}

#[test]
fn gc_keeps_roots_sessions_and_realised_outputs() {
    let (_d, s) = store();
    let src = sample_dir();
    let sess = s.session();
    let tree = s.import_dir(src.path(), &sess).unwrap();
    s.add_root("test/tree", &tree).unwrap();
    let loose = s
        .put_bytes(b"garbage", ObjectKind::Blob, &[], None)
        .unwrap()
        .digest;
    let held = {
        let d = s
            .put_bytes(b"in flight", ObjectKind::Blob, &[], Some(&sess))
            .unwrap();
        d.digest
    };
    let out = s
        .put_bytes(b"output.deb", ObjectKind::Blob, &[], None)
        .unwrap()
        .digest;
    let drv = s
        .put_bytes(b"{\"drv\":1}", ObjectKind::Derivation, &[], None)
        .unwrap()
        .digest;
    let mut outputs = std::collections::BTreeMap::new();
    outputs.insert(
        "x.deb".to_string(),
        OutputRef {
            digest: out,
            size: 10,
        },
    );
    s.set_realisation(&Realisation { drv, outputs }).unwrap();
    s.add_root("test/drv", &drv).unwrap();

    let r = s.gc().unwrap();
    assert_eq!(r.deleted, 1, "{r:?}");
    assert!(s.read(&loose).is_err());
    assert!(s.read(&held).is_ok());
    assert!(s.read(&out).is_ok());
    let out_dir = tempfile::tempdir().unwrap();
    s.export_tree(&tree, &out_dir.path().join("t")).unwrap();

    drop(sess);
    s.remove_root("test/drv").unwrap();
    s.gc().unwrap();
    assert!(s.read(&held).is_err());
    assert!(s.read(&out).is_err());
    assert!(s.realisation(&drv).unwrap().is_none());
    assert!(s.verify().unwrap().is_clean());
}

#[test]
fn realisation_cannot_change() {
    let (_d, s) = store();
    let a = s
        .put_bytes(b"a", ObjectKind::Blob, &[], None)
        .unwrap()
        .digest;
    let b = s
        .put_bytes(b"b", ObjectKind::Blob, &[], None)
        .unwrap()
        .digest;
    let drv = B3Digest::of(b"drv");
    let mk = |d| Realisation {
        drv,
        outputs: [("o".to_string(), OutputRef { digest: d, size: 1 })].into(),
    };
    s.set_realisation(&mk(a)).unwrap();
    s.set_realisation(&mk(a)).unwrap();
    assert!(s.set_realisation(&mk(b)).is_err());
}

#[test]
fn streaming_reader_fails_at_end_on_mismatch() {
    let (dir, s) = store();
    let data = vec![3u8; 3 << 20];
    let d = s
        .put_bytes(&data, ObjectKind::Blob, &[], None)
        .unwrap()
        .digest;
    let hex = d.to_hex();
    let p = dir.path().join("blobs").join(&hex[..2]).join(&hex);
    // Replace with a valid blob file of other content: header and zstd stream are fine,
    // only the hash check can catch it.
    let other = s
        .put_bytes(&vec![4u8; 3 << 20], ObjectKind::Blob, &[], None)
        .unwrap()
        .digest;
    let ho = other.to_hex();
    fs::copy(dir.path().join("blobs").join(&ho[..2]).join(&ho), &p).unwrap();
    let mut r = s.open_blob(&d).unwrap();
    let mut buf = Vec::new();
    let err = r.read_to_end(&mut buf).unwrap_err();
    assert!(err.to_string().contains(&hex), "{err}");
}
