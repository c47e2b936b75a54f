//! Mirrors, snapshots and download on demand (Debian archives).
//!
//! - [`config`]: registered archives (`cryo mirror add`), kept in redb.
//! - [`fetch`]: `file://` and `http(s)://` fetching with bounded retries.
//! - [`sync`]: verify `InRelease` → check `Valid-Until` → fetch and hash-check indices →
//!   store raw bytes + a queryable form → an immutable snapshot.
//! - [`snapshot`]: the snapshot record, its id, and queries (list, show, diff, pkg).
//! - [`dod`]: package files fetched from the mirror the first time something needs them,
//!   verified against the snapshot's SHA256/size, then served from the store.
//!
//! Archive formats are parameters: everything Debian-specific goes through `cryo-debian`;
//! an rpm-md format will sit beside it.

pub mod config;
pub mod dod;
pub mod fetch;
pub mod indexstore;
pub mod query;
pub mod snapshot;
pub mod sync;
pub mod tables;

use cryo_store::{B3Digest, StoreError};

/// Errors of the mirror subsystem. Messages name the archive, URL and expected hash.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error("{0}")]
    Invalid(String),
    #[error("unknown mirror {0:?} (see `cryo mirror list`)")]
    UnknownMirror(String),
    #[error("unknown snapshot {0:?} (see `cryo snapshot list`)")]
    UnknownSnapshot(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{url}: {message}")]
    Fetch { url: String, message: String },
    #[error("{url}: {source}")]
    Download {
        url: String,
        #[source]
        source: fetch::FetchFailure,
    },
    #[error("{archive}: signature check of {file} failed: {message}")]
    Signature {
        archive: String,
        file: String,
        message: String,
    },
    #[error("{archive}: {message}")]
    Expired { archive: String, message: String },
    #[error("{archive}: {path}: {message}")]
    Integrity {
        archive: String,
        path: String,
        message: String,
    },
    #[error("{archive}: {path}: {message}")]
    Parse {
        archive: String,
        path: String,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("index database: {0}")]
    Redb(#[source] redb::Error),
    #[error(transparent)]
    Table(#[from] crate::table::TableError),
    /// An index has no queryable form (yet).
    #[error("index database: index {0} has no queryable form; run `cryo mirror sync` again")]
    NotIndexed(B3Digest),
    /// A stored index stanza does not parse.
    #[error("index database: {0}")]
    Stanza(#[from] cryo_debian::deb822::Deb822Error),
    /// An empty stanza where one was expected.
    #[error("index database: empty stanza")]
    EmptyStanza,
    /// A sha256 map entry is not a BLAKE3 digest.
    #[error("index database: sha256 map entry: {0}")]
    Sha256Map(#[source] cryo_store::digest::DigestError),
}

macro_rules! db_err {
    ($($t:ty),*) => {$(
        impl From<$t> for MirrorError {
            fn from(e: $t) -> Self { MirrorError::Redb(e.into()) }
        }
    )*};
}
db_err!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);
