//! Blob backends: where object bytes live.
//!
//! A backend stores byte strings under the BLAKE3 digest of their *uncompressed* content.
//! The trait is small on purpose so that an S3-compatible backend can be added next to the
//! local one (`local.rs`). Every backend MUST re-hash on read and fail on a mismatch, and
//! MUST never make a blob visible under a name that is not the hash of its content.

mod format;
mod local;
mod verify;

use std::io::Read;

pub use format::Encoding;
pub use local::LocalBlobs;
pub use verify::VerifyingReader;

use crate::digest::B3Digest;

/// What a put stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutOutcome {
    pub digest: B3Digest,
    /// Uncompressed size.
    pub size: u64,
    /// Size at rest (header included).
    pub stored_size: u64,
    pub encoding: Encoding,
    /// False when an identical blob was already present.
    pub created: bool,
}

/// Errors of blob backends.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {0} not found in the store")]
    NotFound(B3Digest),
    #[error("blob {digest} is corrupt: {reason}")]
    Corrupt { digest: B3Digest, reason: String },
    #[error("I/O error on blob storage at {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("reading the input failed: {0}")]
    Input(#[source] std::io::Error),
}

impl BlobError {
    pub(crate) fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        BlobError::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

/// A place that keeps blobs by digest.
pub trait BlobBackend: Send + Sync + std::fmt::Debug {
    /// Stream `reader` into the backend; returns its digest. Atomic: on any error nothing
    /// becomes visible.
    fn put(&self, reader: &mut dyn Read) -> Result<PutOutcome, BlobError>;
    /// A reader that yields the content and fails at the end if it does not hash to
    /// `digest` (or earlier if the stored bytes are unreadable).
    fn open(&self, digest: &B3Digest) -> Result<VerifyingReader<Box<dyn Read + Send>>, BlobError>;
    /// Whether a blob file exists (content is not checked).
    fn contains(&self, digest: &B3Digest) -> Result<bool, BlobError>;
    /// Size at rest, if present.
    fn stored_size(&self, digest: &B3Digest) -> Result<Option<u64>, BlobError>;
    /// Remove a blob (GC). Removing an absent blob is not an error.
    fn delete(&self, digest: &B3Digest) -> Result<(), BlobError>;
    /// Every blob name present; names that are not digests are returned in `stray`.
    fn list(&self) -> Result<Listing, BlobError>;
}

/// The content of a backend.
#[derive(Debug, Default)]
pub struct Listing {
    pub digests: Vec<B3Digest>,
    /// Files in the blob area that are not named by a digest (reported by verify).
    pub stray: Vec<String>,
}
