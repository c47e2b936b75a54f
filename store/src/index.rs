//! The redb index: object metadata, references between objects, named roots and
//! realisations (derivation → outputs), with the reverse map output → derivations that
//! answers "is this blob a build output?" in one lookup (the binary cache's public set).
//!
//! redb is embedded (no server). All methods are blocking; async callers run them in
//! `spawn_blocking`. Later subsystems (snapshots, projects) keep their own tables in the
//! same database through [`Index::database`].

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use redb::{
    Database, MultimapTableDefinition, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition,
};
use serde::{Deserialize, Serialize};

use crate::blob::Encoding;
use crate::digest::B3Digest;
use crate::realisation::Realisation;

const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");
const REFS: MultimapTableDefinition<&[u8], &[u8]> = MultimapTableDefinition::new("refs");
const ROOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("roots");
const REALISATIONS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("realisations");
/// Output digest → the derivations whose realisation lists it. Written in the same
/// transaction as `realisations`, so the two never disagree, even after `kill -9`.
const OUTPUT_OF: MultimapTableDefinition<&[u8], &[u8]> =
    MultimapTableDefinition::new("realisation_outputs");
/// Small facts about the index itself (format upgrades done).
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("store_meta");
/// `META` key set once `OUTPUT_OF` holds every realisation (filled at open for databases
/// written before the table existed).
const OUTPUT_OF_BUILT: &str = "realisation_outputs_v1";

/// What an object is; decides how GC follows its references and how verify checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    /// Opaque bytes.
    Blob,
    /// A canonical directory manifest (see `tree`).
    Tree,
    /// A canonical derivation encoding.
    Derivation,
    /// Any other structured object owned by a daemon subsystem (snapshot, report, …).
    Record,
}

/// Index entry for one stored object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub kind: ObjectKind,
    pub size: u64,
    pub stored_size: u64,
    pub encoding: Encoding,
    /// Unix seconds when first stored.
    pub created: u64,
}

/// Errors of the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index database error: {0}")]
    Db(String),
    #[error("index entry for {digest} is unreadable: {reason}")]
    BadEntry { digest: String, reason: String },
    #[error("derivation {drv} already has different outputs recorded; refusing to record another realisation")]
    RealisationConflict { drv: B3Digest },
}

macro_rules! db_err {
    ($($t:ty),*) => {$(
        impl From<$t> for IndexError {
            fn from(e: $t) -> Self { IndexError::Db(e.to_string()) }
        }
    )*};
}
db_err!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Handle to the index database.
#[derive(Clone, Debug)]
pub struct Index {
    db: Arc<Database>,
    epochs: Arc<RealisationEpochs>,
}

/// Counters of realisations recorded and removed through this handle (and its clones), so
/// that a cache in front of the index knows when a "not realised" or a served
/// realisation may have changed without asking the database.
#[derive(Debug, Default)]
struct RealisationEpochs {
    added: std::sync::atomic::AtomicU64,
    removed: std::sync::atomic::AtomicU64,
}

fn decode_digest(b: &[u8]) -> Result<B3Digest, IndexError> {
    B3Digest::try_from(b).map_err(|e| IndexError::BadEntry {
        digest: hex::encode(b),
        reason: e.to_string(),
    })
}

impl Index {
    /// Open or create `path` and make sure every table exists. The file is created 0600
    /// (it holds users, token digests, the audit log and private projects), and an existing
    /// file written by an older version with wider permissions is narrowed to 0600.
    pub fn open(path: &Path) -> Result<Self, IndexError> {
        private_file(path)?;
        let db = Database::create(path)?;
        let tx = db.begin_write()?;
        {
            tx.open_table(OBJECTS)?;
            tx.open_multimap_table(REFS)?;
            tx.open_table(ROOTS)?;
            let realisations = tx.open_table(REALISATIONS)?;
            let mut output_of = tx.open_multimap_table(OUTPUT_OF)?;
            let mut meta = tx.open_table(META)?;
            if meta.get(OUTPUT_OF_BUILT)?.is_none() {
                for item in realisations.iter()? {
                    let (k, v) = item?;
                    let r = decode_realisation(k.value(), v.value())?;
                    for o in r.outputs.values() {
                        output_of.insert(&o.digest.as_bytes()[..], &r.drv.as_bytes()[..])?;
                    }
                }
                meta.insert(OUTPUT_OF_BUILT, &b"1"[..])?;
            }
        }
        tx.commit()?;
        Ok(Self {
            db: Arc::new(db),
            epochs: Arc::default(),
        })
    }

    /// The underlying database, for subsystems that keep their own tables.
    pub fn database(&self) -> &Arc<Database> {
        &self.db
    }

    /// Record an object and its references (idempotent).
    pub fn insert_object(
        &self,
        digest: &B3Digest,
        meta: &ObjectMeta,
        refs: &[B3Digest],
    ) -> Result<(), IndexError> {
        let value = serde_json::to_vec(meta).expect("ObjectMeta serialises");
        let tx = self.db.begin_write()?;
        {
            let mut t = tx.open_table(OBJECTS)?;
            let existing = t.get(&digest.as_bytes()[..])?.map(|v| v.value().to_vec());
            let keep_kind = existing
                .and_then(|v| serde_json::from_slice::<ObjectMeta>(&v).ok())
                .map(|m| m.kind);
            // A blob stored again as a tree/derivation upgrades its kind, never the reverse.
            let mut meta = meta.clone();
            if let Some(k) = keep_kind {
                if k != ObjectKind::Blob {
                    meta.kind = k;
                }
            }
            let value = if keep_kind.is_some() {
                serde_json::to_vec(&meta).expect("ObjectMeta serialises")
            } else {
                value
            };
            t.insert(&digest.as_bytes()[..], &value[..])?;
            let mut r = tx.open_multimap_table(REFS)?;
            for c in refs {
                r.insert(&digest.as_bytes()[..], &c.as_bytes()[..])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Metadata of an object, if indexed.
    pub fn object(&self, digest: &B3Digest) -> Result<Option<ObjectMeta>, IndexError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(OBJECTS)?;
        let Some(v) = t.get(&digest.as_bytes()[..])? else {
            return Ok(None);
        };
        serde_json::from_slice(v.value())
            .map(Some)
            .map_err(|e| IndexError::BadEntry {
                digest: digest.to_hex(),
                reason: e.to_string(),
            })
    }

    /// All indexed objects.
    pub fn objects(&self) -> Result<Vec<(B3Digest, ObjectMeta)>, IndexError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(OBJECTS)?;
        let mut out = Vec::new();
        for item in t.iter()? {
            let (k, v) = item?;
            let d = decode_digest(k.value())?;
            let m = serde_json::from_slice(v.value()).map_err(|e| IndexError::BadEntry {
                digest: d.to_hex(),
                reason: e.to_string(),
            })?;
            out.push((d, m));
        }
        Ok(out)
    }

    /// Number of indexed objects.
    pub fn object_count(&self) -> Result<u64, IndexError> {
        let tx = self.db.begin_read()?;
        Ok(tx.open_table(OBJECTS)?.len()?)
    }

    /// Direct references of an object.
    pub fn refs(&self, digest: &B3Digest) -> Result<Vec<B3Digest>, IndexError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_multimap_table(REFS)?;
        let mut out = Vec::new();
        for v in t.get(&digest.as_bytes()[..])? {
            out.push(decode_digest(v?.value())?);
        }
        Ok(out)
    }

    /// Remove objects (and their outgoing references) from the index.
    pub fn remove_objects(&self, digests: &[B3Digest]) -> Result<(), IndexError> {
        let tx = self.db.begin_write()?;
        {
            let mut t = tx.open_table(OBJECTS)?;
            let mut r = tx.open_multimap_table(REFS)?;
            for d in digests {
                t.remove(&d.as_bytes()[..])?;
                r.remove_all(&d.as_bytes()[..])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Create or move a named GC root.
    pub fn set_root(&self, name: &str, digest: &B3Digest) -> Result<(), IndexError> {
        let tx = self.db.begin_write()?;
        tx.open_table(ROOTS)?.insert(name, &digest.as_bytes()[..])?;
        tx.commit()?;
        Ok(())
    }

    /// Delete a named root; returns whether it existed.
    pub fn remove_root(&self, name: &str) -> Result<bool, IndexError> {
        let tx = self.db.begin_write()?;
        let existed = tx.open_table(ROOTS)?.remove(name)?.is_some();
        tx.commit()?;
        Ok(existed)
    }

    /// All named roots, sorted by name.
    pub fn roots(&self) -> Result<Vec<(String, B3Digest)>, IndexError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(ROOTS)?;
        let mut out = Vec::new();
        for item in t.iter()? {
            let (k, v) = item?;
            out.push((k.value().to_string(), decode_digest(v.value())?));
        }
        Ok(out)
    }

    /// Record the outputs of a derivation. Recording the same outputs again is a no-op;
    /// different outputs for an already realised derivation are refused.
    pub fn set_realisation(&self, r: &Realisation) -> Result<(), IndexError> {
        let value = serde_json::to_vec(r).expect("Realisation serialises");
        let tx = self.db.begin_write()?;
        {
            let mut t = tx.open_table(REALISATIONS)?;
            if let Some(old) = t.get(&r.drv.as_bytes()[..])? {
                let old: Realisation =
                    serde_json::from_slice(old.value()).map_err(|e| IndexError::BadEntry {
                        digest: r.drv.to_hex(),
                        reason: e.to_string(),
                    })?;
                if old.outputs != r.outputs {
                    return Err(IndexError::RealisationConflict { drv: r.drv });
                }
                return Ok(());
            }
            t.insert(&r.drv.as_bytes()[..], &value[..])?;
            let mut o = tx.open_multimap_table(OUTPUT_OF)?;
            for out in r.outputs.values() {
                o.insert(&out.digest.as_bytes()[..], &r.drv.as_bytes()[..])?;
            }
        }
        tx.commit()?;
        self.epochs
            .added
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// `(added, removed)`: how many times a realisation was recorded or removed through
    /// this index since it was opened. A lookup answered when `added` was N stays true
    /// for a miss while `added` is still N, and for a hit while `removed` is unchanged.
    pub fn realisation_epochs(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::SeqCst;
        (
            self.epochs.added.load(SeqCst),
            self.epochs.removed.load(SeqCst),
        )
    }

    /// Whether `digest` is an output of some recorded realisation: one B-tree lookup,
    /// whatever the number of realisations.
    pub fn is_output(&self, digest: &B3Digest) -> Result<bool, IndexError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_multimap_table(OUTPUT_OF)?;
        let mut drvs = t.get(&digest.as_bytes()[..])?;
        Ok(drvs.next().transpose()?.is_some())
    }

    /// Number of recorded realisations.
    pub fn realisation_count(&self) -> Result<u64, IndexError> {
        let tx = self.db.begin_read()?;
        Ok(tx.open_table(REALISATIONS)?.len()?)
    }

    /// Everything reachable from `start`: through the reference table, and from a
    /// derivation to the outputs of its realisation. One read transaction; every step is
    /// a keyed lookup, so the walk is linear in what it reaches (GC's mark phase).
    pub fn reachable(&self, start: Vec<B3Digest>) -> Result<HashSet<B3Digest>, IndexError> {
        let tx = self.db.begin_read()?;
        let refs = tx.open_multimap_table(REFS)?;
        let realisations = tx.open_table(REALISATIONS)?;
        let mut live = HashSet::new();
        let mut stack = start;
        while let Some(d) = stack.pop() {
            if !live.insert(d) {
                continue;
            }
            for c in refs.get(&d.as_bytes()[..])? {
                stack.push(decode_digest(c?.value())?);
            }
            if let Some(v) = realisations.get(&d.as_bytes()[..])? {
                let r = decode_realisation(&d.as_bytes()[..], v.value())?;
                stack.extend(r.outputs.values().map(|o| o.digest));
            }
        }
        Ok(live)
    }

    /// The derivation ids of every realisation (keys only; nothing decoded).
    pub fn realised_drvs(&self) -> Result<Vec<B3Digest>, IndexError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(REALISATIONS)?;
        let mut out = Vec::new();
        for item in t.iter()? {
            out.push(decode_digest(item?.0.value())?);
        }
        Ok(out)
    }

    /// Outputs of a realised derivation.
    pub fn realisation(&self, drv: &B3Digest) -> Result<Option<Realisation>, IndexError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(REALISATIONS)?;
        let Some(v) = t.get(&drv.as_bytes()[..])? else {
            return Ok(None);
        };
        serde_json::from_slice(v.value())
            .map(Some)
            .map_err(|e| IndexError::BadEntry {
                digest: drv.to_hex(),
                reason: e.to_string(),
            })
    }

    /// Forget realisations (GC, when their derivation is collected), and their outputs'
    /// entries in the reverse map.
    pub fn remove_realisations(&self, drvs: &[B3Digest]) -> Result<(), IndexError> {
        let tx = self.db.begin_write()?;
        {
            let mut t = tx.open_table(REALISATIONS)?;
            let mut o = tx.open_multimap_table(OUTPUT_OF)?;
            for d in drvs {
                let Some(old) = t.remove(&d.as_bytes()[..])? else {
                    continue;
                };
                let r = decode_realisation(&d.as_bytes()[..], old.value())?;
                drop(old);
                for out in r.outputs.values() {
                    o.remove(&out.digest.as_bytes()[..], &d.as_bytes()[..])?;
                }
            }
        }
        tx.commit()?;
        self.epochs
            .removed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Every realisation (GC marks their outputs as live).
    pub fn realisations(&self) -> Result<Vec<Realisation>, IndexError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(REALISATIONS)?;
        let mut out = Vec::new();
        for item in t.iter()? {
            let (k, v) = item?;
            out.push(decode_realisation(k.value(), v.value())?);
        }
        Ok(out)
    }
}

fn decode_realisation(key: &[u8], value: &[u8]) -> Result<Realisation, IndexError> {
    serde_json::from_slice(value).map_err(|e| IndexError::BadEntry {
        digest: hex::encode(key),
        reason: e.to_string(),
    })
}

/// Create `path` 0600 if it does not exist; narrow an existing file to 0600.
fn private_file(path: &Path) -> Result<(), IndexError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let fs_err = |e: std::io::Error| IndexError::Db(format!("{}: {e}", path.display()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let mode = std::fs::metadata(path)
                .map_err(fs_err)?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(fs_err)?;
            }
            Ok(())
        }
        Err(e) => Err(fs_err(e)),
    }
}
