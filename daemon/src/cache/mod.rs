//! The signed binary cache: serving realisations and blobs to other cryo daemons, and
//! substituting from them before building. See `docs/cache-protocol.md`.
//!
//! - [`keys`]: ed25519 signing keys (`cryo cache keygen NAME`), kept 0600 under
//!   `<state>/keys/cache/`, and trusted public keys (`NAME:BASE64`).
//! - [`signed`]: the realisation fingerprint and its signatures.
//! - [`blobs`]: compressed bodies of public blobs, with bounded compressions, waiting
//!   requests, disk and memory.
//! - [`substitute`]: asking substituters before a build; every signature and blob checked.
//!
//! Served over HTTP by `http/cache.rs` (`/cache/info`, `/cache/drv/<id>`,
//! `/cache/blob/<blake3>`).

pub mod blobs;
pub mod keys;
pub mod signed;
pub mod substitute;

/// Errors of the cache subsystem.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// Too many compressions are waiting; the client should retry.
    #[error("the cache is busy compressing other blobs; retry later")]
    Busy,
    #[error(transparent)]
    Store(#[from] cryo_store::StoreError),
    #[error("compression task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
