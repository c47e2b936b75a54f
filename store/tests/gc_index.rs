//! GC with many realisations present, the index of build outputs (the binary cache's public
//! set) kept in step with realisations, and the file modes of the store's state.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;

use cryo_store::realisation::{OutputRef, Realisation};
use cryo_store::{B3Digest, ObjectKind, Store};

fn put(s: &Store, bytes: &str, kind: ObjectKind, refs: &[B3Digest]) -> B3Digest {
    s.put_bytes(bytes.as_bytes(), kind, refs, None)
        .unwrap()
        .digest
}

/// A derivation referring to a source, realised with two outputs.
struct Built {
    src: B3Digest,
    drv: B3Digest,
    outs: [B3Digest; 2],
}

fn build(s: &Store, i: usize) -> Built {
    let src = put(s, &format!("source {i}"), ObjectKind::Blob, &[]);
    let drv = put(s, &format!("drv {i}"), ObjectKind::Derivation, &[src]);
    let outs = [
        put(s, &format!("deb {i}"), ObjectKind::Blob, &[]),
        put(s, &format!("log {i}"), ObjectKind::Blob, &[]),
    ];
    let outputs: BTreeMap<String, OutputRef> = outs
        .iter()
        .enumerate()
        .map(|(n, d)| {
            (
                format!("out{n}"),
                OutputRef {
                    digest: *d,
                    size: 1,
                },
            )
        })
        .collect();
    s.set_realisation(&Realisation { drv, outputs }).unwrap();
    Built { src, drv, outs }
}

fn indexed(s: &Store) -> BTreeSet<B3Digest> {
    s.index()
        .objects()
        .unwrap()
        .into_iter()
        .map(|(d, _)| d)
        .collect()
}

#[test]
fn gc_keeps_exactly_what_roots_reach_through_realisations() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let built: Vec<Built> = (0..60).map(|i| build(&s, i)).collect();
    // An output shared by a live and a dead derivation stays (and stays public).
    let shared = put(&s, "shared output", ObjectKind::Blob, &[]);
    let sharing: Vec<B3Digest> = [&built[0], &built[1]]
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut outputs = BTreeMap::new();
            outputs.insert(
                "x".into(),
                OutputRef {
                    digest: shared,
                    size: 1,
                },
            );
            let drv = put(
                &s,
                &format!("sharing drv {i}"),
                ObjectKind::Derivation,
                &[b.src],
            );
            s.set_realisation(&Realisation { drv, outputs }).unwrap();
            drv
        })
        .collect();
    let sharing_rec = put(
        &s,
        "record of sharing drv",
        ObjectKind::Record,
        &[sharing[0]],
    );
    s.add_root("keep/sharing", &sharing_rec).unwrap();
    let garbage: Vec<B3Digest> = (0..30)
        .map(|i| put(&s, &format!("garbage {i}"), ObjectKind::Blob, &[]))
        .collect();
    // Every third derivation is live: through a record (a project) or rooted directly.
    let live: Vec<&Built> = built.iter().step_by(3).collect();
    let via_record: Vec<B3Digest> = live.iter().take(10).map(|b| b.drv).collect();
    let rec = put(&s, "record", ObjectKind::Record, &via_record);
    s.add_root("keep/record", &rec).unwrap();
    for b in live.iter().skip(10) {
        s.add_root(&format!("keep/{}", b.drv), &b.drv).unwrap();
    }

    let mut expected: BTreeSet<B3Digest> = BTreeSet::new();
    expected.insert(rec);
    expected.extend([shared, sharing_rec, sharing[0], built[0].src]);
    for b in &live {
        expected.extend([b.src, b.drv, b.outs[0], b.outs[1]]);
    }
    let report = s.gc().unwrap();
    assert_eq!(indexed(&s), expected);
    assert_eq!(report.live, expected.len() as u64);
    let before = 60 * 4 + 1 + 2 + 1 + 30 + 1;
    assert_eq!(report.deleted, before - expected.len() as u64, "{report:?}");
    for g in &garbage {
        assert!(!s.contains(g).unwrap());
    }
    for (i, b) in built.iter().enumerate() {
        let keep = i % 3 == 0;
        assert_eq!(s.realisation(&b.drv).unwrap().is_some(), keep, "drv {i}");
        for o in &b.outs {
            assert_eq!(s.contains(o).unwrap(), keep, "output of drv {i}");
            assert_eq!(s.index().is_output(o).unwrap(), keep, "output of drv {i}");
        }
    }
    assert!(s.index().is_output(&shared).unwrap());
    assert_eq!(
        s.index().realisation_count().unwrap(),
        live.len() as u64 + 1
    );
    assert!(s.verify().unwrap().is_clean());

    // Nothing left to collect: a second run deletes nothing.
    let again = s.gc().unwrap();
    assert_eq!(again.deleted, 0);
    assert_eq!(indexed(&s), expected);
}

#[test]
fn output_index_follows_realisations_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let b = build(&s, 1);
    let plain = put(&s, "not an output", ObjectKind::Blob, &[]);
    assert!(s.index().is_output(&b.outs[0]).unwrap());
    assert!(s.index().is_output(&b.outs[1]).unwrap());
    // Neither a derivation, an input, an unrelated object nor an unknown digest is public.
    for d in [b.drv, b.src, plain, B3Digest::of(b"random")] {
        assert!(!s.index().is_output(&d).unwrap());
    }
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    assert!(s.index().is_output(&b.outs[0]).unwrap());
    // The realisation is collected with its derivation: its outputs stop being public.
    s.gc().unwrap();
    assert!(!s.index().is_output(&b.outs[0]).unwrap());
}

#[test]
fn output_index_is_built_for_a_database_written_before_it_existed() {
    let dir = tempfile::tempdir().unwrap();
    let out = B3Digest::of(b"an old output");
    let drv = B3Digest::of(b"an old drv");
    {
        // The layout of older versions: a realisations table and no reverse map.
        let db = redb::Database::create(dir.path().join("index.redb")).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx
                .open_table(redb::TableDefinition::<&[u8], &[u8]>::new("realisations"))
                .unwrap();
            let r = Realisation {
                drv,
                outputs: [(
                    "o".to_string(),
                    OutputRef {
                        digest: out,
                        size: 1,
                    },
                )]
                .into(),
            };
            let v = serde_json::to_vec(&r).unwrap();
            t.insert(&drv.as_bytes()[..], &v[..]).unwrap();
        }
        tx.commit().unwrap();
    }
    let s = Store::open(dir.path()).unwrap();
    assert!(s.index().is_output(&out).unwrap());
    assert!(!s.index().is_output(&drv).unwrap());
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn store_state_is_private_and_older_wide_modes_are_narrowed() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let d = put(&s, "a blob", ObjectKind::Blob, &[]);
    let hex = d.to_hex();
    assert_eq!(mode(&dir.path().join("index.redb")), 0o600);
    assert_eq!(mode(&dir.path().join("blobs")), 0o700);
    assert_eq!(mode(&dir.path().join("tmp")), 0o700);
    assert_eq!(mode(&dir.path().join("blobs").join(&hex[..2])), 0o700);
    assert_eq!(
        mode(&dir.path().join("blobs").join(&hex[..2]).join(&hex)),
        0o600
    );
    drop(s);
    // What older versions left: a world-readable database and blob area.
    for (p, m) in [("index.redb", 0o644), ("blobs", 0o755), ("tmp", 0o755)] {
        std::fs::set_permissions(dir.path().join(p), std::fs::Permissions::from_mode(m)).unwrap();
    }
    let _s = Store::open(dir.path()).unwrap();
    assert_eq!(mode(&dir.path().join("index.redb")), 0o600);
    assert_eq!(mode(&dir.path().join("blobs")), 0o700);
    assert_eq!(mode(&dir.path().join("tmp")), 0o700);
}
