//! `/api/v1/mirrors...`: register archives and sync them into snapshots.
//!
//! `GET /mirrors` answers `[MirrorConfig]`, `POST /mirrors` takes an [`AddMirror`] and
//! answers the [`MirrorConfig`] registered, `DELETE /mirrors/{name}` answers
//! [`super::Removed`], `POST /mirrors/sync` takes a [`SyncRequest`] and answers a
//! [`SyncOutcome`].

use serde::{Deserialize, Serialize};

use super::snapshot::ExpiredAccepted;
use crate::digest::B3Digest;

/// `POST /api/v1/mirrors` body. The keyring must already be in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddMirror {
    pub name: String,
    pub url: String,
    pub suite: String,
    /// Default: `main`.
    #[serde(default)]
    pub components: Vec<String>,
    /// Default: the daemon's architecture.
    #[serde(default)]
    pub arches: Vec<String>,
    pub keyring: B3Digest,
    /// Default: 500.
    pub priority: Option<i32>,
    #[serde(default = "yes")]
    pub sources: bool,
}

fn yes() -> bool {
    true
}

/// One archive as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorConfig {
    pub name: String,
    /// `file:///…` or `http(s)://…`, the archive root (contains `dists/` and `pool/`).
    pub url: String,
    pub suite: String,
    pub components: Vec<String>,
    pub arches: Vec<String>,
    /// The keyring (binary or armored OpenPGP) in the store.
    pub keyring: B3Digest,
    /// apt pin priority: higher wins before versions are compared.
    pub priority: i32,
    /// Fetch source indices (`Sources`) too.
    pub sources: bool,
}

/// `POST /api/v1/mirrors/sync` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncRequest {
    pub mirrors: Vec<String>,
    #[serde(default)]
    pub allow_expired: bool,
}

/// What a sync produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncOutcome {
    pub snapshot: String,
    /// False when an identical snapshot existed already.
    pub new: bool,
    pub archives: Vec<ArchiveSummary>,
    pub binary_packages: u64,
    pub source_packages: u64,
    pub expired_accepted: Vec<ExpiredAccepted>,
}

/// Per-archive summary of a sync.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchiveSummary {
    pub mirror: String,
    pub suite: String,
    pub signers: Vec<String>,
    pub date: Option<i64>,
    pub valid_until: Option<i64>,
    pub indices_fetched: u64,
    pub indices_reused: u64,
}
