//! Garbage collection and integrity verification of the store.
//!
//! GC marks from named roots, session (temporary) roots and — through the index's
//! reference table — everything they reach; a live derivation also keeps its realised
//! outputs. Everything else is swept: index entries, blob files, and files in the blob area
//! that the index does not know. The GC lock is held exclusively, so puts wait for it.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};
use tracing::info;

use crate::digest::B3Digest;
use crate::index::ObjectKind;
use crate::store::{Store, StoreError};
use crate::tree::Tree;

/// What a GC run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcReport {
    pub live: u64,
    pub deleted: u64,
    pub freed_bytes: u64,
    pub stray_removed: u64,
    /// Cached build roots and base layers the daemon evicted in the same run (least
    /// recently used beyond its `roots_max_bytes`; the store itself has none).
    #[serde(default)]
    pub roots_removed: u64,
    /// Their disk use.
    #[serde(default)]
    pub roots_bytes_freed: u64,
    /// Cached roots over the limit kept because a build is using them.
    #[serde(default)]
    pub roots_in_use: u64,
}

/// One object that failed verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadObject {
    /// The digest (or, for stray files, the file name under `blobs/`).
    pub digest: String,
    pub problem: String,
}

/// Result of `verify`: every bad object, not just the first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub checked: u64,
    pub bytes: u64,
    pub bad: Vec<BadObject>,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.bad.is_empty()
    }
}

impl Store {
    /// Mark and sweep. Safe while writers run (they wait for the lock).
    ///
    /// The mark phase is one walk of the reference graph in a single read transaction,
    /// each step a keyed lookup (references of an object, the realisation of a
    /// derivation): linear in what is live, whatever the number of realisations.
    pub fn gc(&self) -> Result<GcReport, StoreError> {
        let _g = self.gc_lock.write().expect("gc lock");
        let mut start: Vec<B3Digest> = self.index.roots()?.into_iter().map(|(_, d)| d).collect();
        start.extend(self.temp_roots.lock().expect("temp roots").keys().copied());
        let live: HashSet<B3Digest> = self.index.reachable(start)?;
        let mut report = GcReport {
            live: live.len() as u64,
            ..GcReport::default()
        };
        let mut dead = Vec::new();
        for (d, meta) in self.index.objects()? {
            if !live.contains(&d) {
                report.freed_bytes += meta.stored_size;
                dead.push(d);
            }
        }
        // Realisations first: after a crash between the two, no realisation names an
        // output the index no longer has.
        let dead_drvs: Vec<B3Digest> = self
            .index
            .realised_drvs()?
            .into_iter()
            .filter(|d| !live.contains(d))
            .collect();
        self.index.remove_realisations(&dead_drvs)?;
        self.index.remove_objects(&dead)?;
        for d in &dead {
            self.blobs.delete(d)?;
        }
        report.deleted = dead.len() as u64;
        // Files without an index entry (a crash between rename and index insert).
        let listing = self.blobs.list()?;
        for d in listing.digests {
            if !live.contains(&d) && self.index.object(&d)?.is_none() {
                self.blobs.delete(&d)?;
                report.stray_removed += 1;
            }
        }
        info!(?report, "garbage collection finished");
        Ok(report)
    }

    /// Re-hash every object and check every tree's children; report every bad one.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let mut report = VerifyReport::default();
        let objects = self.index.objects()?;
        let known: BTreeSet<B3Digest> = objects.iter().map(|(d, _)| *d).collect();
        for (d, meta) in &objects {
            report.checked += 1;
            match self.check(d) {
                Ok(n) => report.bytes += n,
                Err(e) => {
                    report.bad.push(BadObject {
                        digest: d.to_hex(),
                        problem: problem_text(d, &e),
                    });
                    continue;
                }
            }
            if meta.kind == ObjectKind::Tree {
                match self
                    .read(d)
                    .map_err(|e| e.to_string())
                    .and_then(|b| Tree::decode(&b).map_err(|e| e.to_string()))
                {
                    Ok(tree) => {
                        for c in tree.references() {
                            if !known.contains(&c) {
                                report.bad.push(BadObject {
                                    digest: d.to_hex(),
                                    problem: format!("tree refers to missing object {c}"),
                                });
                            }
                        }
                    }
                    Err(e) => report.bad.push(BadObject {
                        digest: d.to_hex(),
                        problem: format!("tree does not decode: {e}"),
                    }),
                }
            }
        }
        let listing = self.blobs.list()?;
        for s in listing.stray {
            report.bad.push(BadObject {
                digest: s,
                problem: "file in the blob area is not named by a digest".into(),
            });
        }
        Ok(report)
    }
}

fn problem_text(d: &B3Digest, e: &StoreError) -> String {
    let s = e.to_string();
    let prefix = format!("blob {d} ");
    s.strip_prefix(&prefix).unwrap_or(&s).to_string()
}
