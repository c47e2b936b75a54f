//! `/api/v1/store/...`: put, cat, import/export trees, roots, verify, gc, stats.
//!
//! `GET /store/blobs/{digest}` answers the blob's bytes, `GET /store/trees/{digest}` a tar
//! stream; `POST /store/blobs` and `POST /store/trees` take raw bytes and a tar stream
//! (`?root=NAME`: the GC root to create, default `put/<digest>`, empty for none).
//! `DELETE /store/roots/{name}` answers [`super::Removed`]; `POST /store/verify` a
//! [`VerifyReport`], `POST /store/gc` a [`GcReport`].

use serde::{Deserialize, Serialize};

use crate::blob::Encoding;
use crate::digest::B3Digest;
pub use crate::gc::{BadObject, GcReport, VerifyReport};

/// `POST /api/v1/store/blobs` and `POST /api/v1/store/trees` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PutResponse {
    pub digest: B3Digest,
    pub size: u64,
    pub stored_size: u64,
    pub encoding: Option<Encoding>,
    /// Root created for the object, if any.
    pub root: Option<String>,
}

/// `GET /api/v1/store/stats`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoreStats {
    pub objects: u64,
    pub blobs: u64,
    pub trees: u64,
    pub derivations: u64,
    pub records: u64,
    pub bytes: u64,
    pub stored_bytes: u64,
    pub roots: u64,
    pub realisations: u64,
}

/// One named root: an element of `GET /api/v1/store/roots`, the body and the answer of
/// `POST /api/v1/store/roots`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RootInfo {
    pub name: String,
    pub digest: B3Digest,
}
