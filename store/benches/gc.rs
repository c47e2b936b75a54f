//! Garbage collection on a store of `CRYO_BENCH_OBJECTS` objects (default 100 000) with
//! realisations, the shape a build server accumulates: derivations (each referring to a
//! source blob, each realised with two outputs) and unreferenced garbage blobs; half of
//! the derivations (`CRYO_BENCH_LIVE_EVERY=2`) are reachable from named roots through
//! records.
//!
//! `cargo bench -p cryo-store --bench gc` builds the store in `CRYO_BENCH_DIR` (default
//! `/dev/shm` when it exists, so the setup's fsyncs are cheap; else the temp dir), then
//! times the mark phase as it was before (a linear search of the realisations per live
//! object) and as it is now, then a first GC (marks and sweeps the garbage) and a second GC (nothing to delete: the
//! mark phase alone, done under the exclusive lock that blocks every store write).

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use cryo_store::realisation::{OutputRef, Realisation};
use cryo_store::{B3Digest, ObjectKind, Store};

fn bench_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CRYO_BENCH_DIR") {
        return PathBuf::from(d);
    }
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
}

/// GC's mark phase before issue 13, kept here as the baseline.
fn quadratic_mark(store: &Store, mut stack: Vec<B3Digest>) -> HashSet<B3Digest> {
    let realisations = store.index().realisations().unwrap();
    let mut live = HashSet::new();
    while let Some(d) = stack.pop() {
        if !live.insert(d) {
            continue;
        }
        stack.extend(store.index().refs(&d).unwrap());
        if let Some(r) = realisations.iter().find(|r| r.drv == d) {
            stack.extend(r.outputs.values().map(|o| o.digest));
        }
    }
    live
}

fn main() {
    let objects: usize = std::env::var("CRYO_BENCH_OBJECTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    // 1 source + 1 derivation + 2 outputs per derivation, plus as many garbage blobs as
    // derivations, plus the records: ≈ 5 objects per derivation.
    let drvs = objects / 5;
    // Every `live_every`-th derivation is reachable from a root.
    let live_every: usize = std::env::var("CRYO_BENCH_LIVE_EVERY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2)
        .max(1);
    let per_record = 100;
    let dir = tempfile::Builder::new()
        .prefix("cryo-bench-gc-")
        .tempdir_in(bench_dir())
        .unwrap();
    let store = Store::open(dir.path()).unwrap();

    let t = Instant::now();
    let mut live_drvs = Vec::new();
    for i in 0..drvs {
        let src = store
            .put_bytes(
                format!("source {i}").as_bytes(),
                ObjectKind::Blob,
                &[],
                None,
            )
            .unwrap();
        let drv = store
            .put_bytes(
                format!("derivation {i}").as_bytes(),
                ObjectKind::Derivation,
                &[src.digest],
                None,
            )
            .unwrap();
        let mut outputs = BTreeMap::new();
        for name in ["pkg.deb", "build.log"] {
            let o = store
                .put_bytes(
                    format!("{name} of {i}").as_bytes(),
                    ObjectKind::Blob,
                    &[],
                    None,
                )
                .unwrap();
            outputs.insert(
                name.to_string(),
                OutputRef {
                    digest: o.digest,
                    size: o.size,
                },
            );
        }
        store
            .set_realisation(&Realisation {
                drv: drv.digest,
                outputs,
            })
            .unwrap();
        store
            .put_bytes(
                format!("garbage {i}").as_bytes(),
                ObjectKind::Blob,
                &[],
                None,
            )
            .unwrap();
        if i % live_every == 0 {
            live_drvs.push(drv.digest);
        }
    }
    for (n, chunk) in live_drvs.chunks(per_record).enumerate() {
        let rec = store
            .put_bytes(
                format!("record {n}").as_bytes(),
                ObjectKind::Record,
                chunk,
                None,
            )
            .unwrap();
        store.add_root(&format!("bench/{n}"), &rec.digest).unwrap();
    }
    let total = store.index().object_count().unwrap();
    println!(
        "gc benchmark: {total} objects, {drvs} realisations, {} live derivations, setup {:.1}s",
        live_drvs.len(),
        t.elapsed().as_secs_f64()
    );

    // The mark phase alone, the way GC did it before (a linear search of every realisation
    // per live object, one read transaction per object), then as it does it now.
    let roots: Vec<B3Digest> = store.roots().unwrap().into_iter().map(|(_, d)| d).collect();
    let t = Instant::now();
    let old = quadratic_mark(&store, roots.clone());
    let t_old = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let new = store.index().reachable(roots).unwrap();
    let t_new = t.elapsed().as_secs_f64();
    assert_eq!(old, new);
    println!(
        "mark, linear search per object (before): {t_old:>8.3}s  live {}",
        old.len()
    );
    println!(
        "mark, keyed lookups (now):               {t_new:>8.3}s  live {}",
        new.len()
    );

    let t = Instant::now();
    let first = store.gc().unwrap();
    let t_first = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let second = store.gc().unwrap();
    let t_second = t.elapsed().as_secs_f64();
    println!(
        "first gc  (sweeps garbage): {t_first:>8.3}s  live {} deleted {}",
        first.live, first.deleted
    );
    println!(
        "second gc (mark only):      {t_second:>8.3}s  live {} deleted {}",
        second.live, second.deleted
    );
    assert_eq!(second.deleted, 0);
    assert_eq!(first.live, second.live);
}
