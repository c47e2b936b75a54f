//! Wire types of the daemon's JSON API (`/api/v1/...`), shared by `cryod` and `cryo`.
//!
//! Every error response has the body [`ApiError`] and an HTTP status that says what kind of
//! failure it is (400 bad input, 404 unknown object, 409 conflict, 500 internal).

use serde::{Deserialize, Serialize};

use crate::blob::Encoding;
use crate::digest::B3Digest;
pub use crate::gc::{BadObject, GcReport, VerifyReport};

/// API version prefix.
pub const API_PREFIX: &str = "/api/v1";

/// Error body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `not_found`, `corrupt`, `bad_request`.
    pub code: String,
    pub message: String,
}

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

/// One named root.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RootInfo {
    pub name: String,
    pub digest: B3Digest,
}

/// `GET /api/v1/status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DaemonStatus {
    pub version: String,
    pub pid: u32,
    pub uptime_secs: u64,
    pub state_dir: String,
    pub socket: String,
    pub listen: Option<String>,
    /// Uid of the caller as seen through SO_PEERCRED.
    pub peer_uid: Option<u32>,
    pub workers: usize,
    /// Sandbox builds run since the daemon started.
    #[serde(default)]
    pub builds_run: u64,
}
