//! The signed binary cache: serving realisations and blobs to other cryo daemons, and
//! substituting from them before building. See `docs/cache-protocol.md`.
//!
//! - [`keys`]: ed25519 signing keys (`cryo cache keygen NAME`), kept 0600 under
//!   `<state>/keys/cache/`, and trusted public keys (`NAME:BASE64`).
//! - [`signed`]: the realisation fingerprint and its signatures.
//! - [`blobs`]: compressed bodies of public blobs, with bounded compressions, waiting
//!   requests, disk and memory.
//! - [`serve`]: `GET /cache/info`, `GET /cache/drv/<id>`, `GET|HEAD /cache/blob/<blake3>`.
//! - [`substitute`]: asking substituters before a build; every signature and blob checked.

pub mod blobs;
pub mod keys;
pub mod serve;
pub mod signed;
pub mod substitute;

/// Errors of the cache subsystem.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
