//! `Store`: blobs + index + GC roots, the one entry point daemon subsystems use.
//!
//! Concurrency: every write takes the GC lock shared; GC takes it exclusively, so a
//! collection never sees a half-recorded object. Work in progress that is not yet reachable
//! from a named root is protected by a [`Session`], whose digests are temporary roots until
//! it is dropped.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::instrument;

use crate::blob::{BlobBackend, BlobError, LocalBlobs, PutOutcome, VerifyingReader};
use crate::digest::B3Digest;
use crate::index::{Index, IndexError, ObjectKind, ObjectMeta};
use crate::realisation::Realisation;
use crate::tree::TreeError;

/// Errors of store operations.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error(transparent)]
    Name(#[from] crate::component::ComponentError),
    #[error("{path}: {message}")]
    Fs { path: String, message: String },
    #[error("object {digest} is a {actual:?}, expected a {expected:?}")]
    WrongKind {
        digest: B3Digest,
        expected: ObjectKind,
        actual: ObjectKind,
    },
    #[error("invalid root name {0:?}: use 1-200 characters from [A-Za-z0-9._:/+-]")]
    BadRootName(String),
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    pub(crate) fn fs(path: impl AsRef<Path>, message: impl std::fmt::Display) -> Self {
        StoreError::Fs {
            path: path.as_ref().display().to_string(),
            message: message.to_string(),
        }
    }
}

/// Shared temporary roots: digest → number of sessions holding it.
type TempRoots = Arc<Mutex<HashMap<B3Digest, usize>>>;

/// The content-addressed store rooted at a state directory.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    pub(crate) blobs: Arc<dyn BlobBackend>,
    pub(crate) local: Arc<LocalBlobs>,
    pub(crate) index: Index,
    pub(crate) gc_lock: RwLock<()>,
    pub(crate) temp_roots: TempRoots,
}

/// Keeps every digest put through it alive (temporary GC roots) until dropped.
#[derive(Debug)]
pub struct Session {
    held: Mutex<Vec<B3Digest>>,
    roots: TempRoots,
}

impl Session {
    fn hold(&self, d: B3Digest) {
        *self
            .roots
            .lock()
            .expect("temp roots lock")
            .entry(d)
            .or_default() += 1;
        self.held.lock().expect("session lock").push(d);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let mut roots = self.roots.lock().expect("temp roots lock");
        for d in self.held.lock().expect("session lock").iter() {
            if let Some(n) = roots.get_mut(d) {
                *n -= 1;
                if *n == 0 {
                    roots.remove(d);
                }
            }
        }
    }
}

/// Result of storing an object.
#[derive(Debug, Clone, Copy)]
pub struct Stored {
    pub digest: B3Digest,
    pub size: u64,
    pub stored_size: u64,
    pub encoding: crate::blob::Encoding,
    pub created: bool,
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Root names are short, printable and path-safe.
pub fn validate_root_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:/+-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadRootName(name.to_string()))
    }
}

impl Store {
    /// Open (creating if needed) the store in `state_dir`: `blobs/`, `tmp/`, `index.redb`.
    /// Stray temp files from a crash are swept.
    pub fn open(state_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(state_dir).map_err(|e| StoreError::fs(state_dir, e))?;
        let local = Arc::new(LocalBlobs::open(state_dir)?);
        let index = Index::open(&state_dir.join("index.redb"))?;
        Ok(Self {
            root: state_dir.to_path_buf(),
            blobs: local.clone(),
            local,
            index,
            gc_lock: RwLock::new(()),
            temp_roots: Arc::default(),
        })
    }

    /// The state directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The index (for subsystems with their own tables).
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// A directory for temporary files on the store's filesystem (swept at open).
    pub fn tmp_dir(&self) -> &Path {
        self.local.tmp_dir()
    }

    /// Start a session whose puts stay alive until it is dropped.
    pub fn session(&self) -> Session {
        Session {
            held: Mutex::new(Vec::new()),
            roots: self.temp_roots.clone(),
        }
    }

    /// Stream bytes into the store as an object of `kind` referring to `refs`.
    #[instrument(skip(self, reader, refs, session))]
    pub fn put_reader(
        &self,
        reader: &mut dyn Read,
        kind: ObjectKind,
        refs: &[B3Digest],
        session: Option<&Session>,
    ) -> Result<Stored, StoreError> {
        let _g = self.gc_lock.read().expect("gc lock");
        let PutOutcome {
            digest,
            size,
            stored_size,
            encoding,
            created,
        } = self.blobs.put(reader)?;
        let meta = ObjectMeta {
            kind,
            size,
            stored_size,
            encoding,
            created: now_unix(),
        };
        self.index.insert_object(&digest, &meta, refs)?;
        if let Some(s) = session {
            s.hold(digest);
        }
        Ok(Stored {
            digest,
            size,
            stored_size,
            encoding,
            created,
        })
    }

    /// Store an in-memory byte string.
    pub fn put_bytes(
        &self,
        bytes: &[u8],
        kind: ObjectKind,
        refs: &[B3Digest],
        session: Option<&Session>,
    ) -> Result<Stored, StoreError> {
        let mut r = bytes;
        self.put_reader(&mut r, kind, refs, session)
    }

    /// Protect an object that is already stored with `session` (a temporary root), e.g.
    /// an index reused by a sync. Fails if the object is gone.
    pub fn hold(&self, session: &Session, digest: &B3Digest) -> Result<(), StoreError> {
        let _g = self.gc_lock.read().expect("gc lock");
        if !self.contains(digest)? {
            return Err(BlobError::NotFound(*digest).into());
        }
        session.hold(*digest);
        Ok(())
    }

    /// A verifying reader over an object's content.
    pub fn open_blob(
        &self,
        digest: &B3Digest,
    ) -> Result<VerifyingReader<Box<dyn Read + Send>>, StoreError> {
        Ok(self.blobs.open(digest)?)
    }

    /// Read a whole object, verified. Use `open` for large objects.
    pub fn read(&self, digest: &B3Digest) -> Result<Vec<u8>, StoreError> {
        let mut r = self.open_blob(digest)?;
        let mut out = Vec::with_capacity(r.size().min(1 << 30) as usize);
        r.read_to_end(&mut out).map_err(|e| BlobError::Corrupt {
            digest: *digest,
            reason: e.to_string(),
        })?;
        Ok(out)
    }

    /// Hash-check a whole object without keeping it.
    pub fn check(&self, digest: &B3Digest) -> Result<u64, StoreError> {
        let mut r = self.open_blob(digest)?;
        std::io::copy(&mut r, &mut std::io::sink()).map_err(|e| {
            StoreError::Blob(BlobError::Corrupt {
                digest: *digest,
                reason: e
                    .to_string()
                    .trim_start_matches(&format!("blob {digest} is corrupt: "))
                    .to_string(),
            })
        })
    }

    /// Index metadata of an object.
    pub fn meta(&self, digest: &B3Digest) -> Result<Option<ObjectMeta>, StoreError> {
        Ok(self.index.object(digest)?)
    }

    /// Whether the object is indexed and its file exists.
    pub fn contains(&self, digest: &B3Digest) -> Result<bool, StoreError> {
        Ok(self.index.object(digest)?.is_some() && self.blobs.contains(digest)?)
    }

    /// Create or move a named GC root. The object must exist.
    pub fn add_root(&self, name: &str, digest: &B3Digest) -> Result<(), StoreError> {
        validate_root_name(name)?;
        let _g = self.gc_lock.read().expect("gc lock");
        if !self.contains(digest)? {
            return Err(BlobError::NotFound(*digest).into());
        }
        Ok(self.index.set_root(name, digest)?)
    }

    /// Remove a named root; returns whether it existed.
    pub fn remove_root(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.index.remove_root(name)?)
    }

    /// All named roots.
    pub fn roots(&self) -> Result<Vec<(String, B3Digest)>, StoreError> {
        Ok(self.index.roots()?)
    }

    /// Record a derivation's outputs (all output objects must be in the store). Holds the
    /// GC lock shared, so a collection cannot delete an output between the check and the
    /// record.
    pub fn set_realisation(&self, r: &Realisation) -> Result<(), StoreError> {
        let _g = self.gc_lock.read().expect("gc lock");
        for o in r.outputs.values() {
            if !self.contains(&o.digest)? {
                return Err(BlobError::NotFound(o.digest).into());
            }
        }
        Ok(self.index.set_realisation(r)?)
    }

    /// Outputs of a derivation, if realised.
    pub fn realisation(&self, drv: &B3Digest) -> Result<Option<Realisation>, StoreError> {
        Ok(self.index.realisation(drv)?)
    }
}
