//! `/api/v1/snapshots...`: list, show, diff, package queries, fetch on demand.
//!
//! `GET /snapshots` answers `[SnapshotInfo]`, `GET /snapshots/{id}` a [`SnapshotInfo`],
//! `GET /snapshots/{a}/diff/{b}` a [`SnapshotDiff`], `GET /snapshots/{id}/packages/{name}`
//! `[PackageEntry]`, and `POST /snapshots/{id}/fetch[?dry_run=true]` takes a
//! [`FetchRequest`] and answers `[FetchedFile]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::B3Digest;

/// Kind of an index file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndexKind {
    Packages,
    Sources,
}

/// One verified index of an archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexRecord {
    pub kind: IndexKind,
    pub component: String,
    /// Architecture of a `Packages` index; `None` for `Sources`.
    pub arch: Option<String>,
    /// Path below `dists/<suite>/`.
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub blake3: B3Digest,
}

/// One archive of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveRecord {
    pub mirror: String,
    pub suite: String,
    pub codename: Option<String>,
    pub origin: Option<String>,
    pub label: Option<String>,
    pub version: Option<String>,
    /// `Date` of the Release file (unix seconds).
    pub date: Option<i64>,
    /// `Valid-Until` (unix seconds), if any.
    pub valid_until: Option<i64>,
    /// Whether expired metadata was explicitly accepted (`--allow-expired`).
    pub allow_expired: bool,
    pub priority: i32,
    /// `InRelease`, or `Release` (with `Release.gpg`).
    pub release_file: String,
    pub release: B3Digest,
    /// Primary fingerprints of the keys whose signatures verified.
    pub signers: Vec<String>,
    pub indices: Vec<IndexRecord>,
}

/// The hashed part of a snapshot (its canonical bytes are this, compact, in field order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    pub format: String,
    pub archives: Vec<ArchiveRecord>,
}

impl SnapshotRecord {
    /// Canonical bytes (field order fixed, archives in the order given).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("snapshot record serialises")
    }
    /// The snapshot id.
    pub fn id(&self) -> B3Digest {
        B3Digest::of(&self.encode())
    }
}

/// Expired metadata accepted at sync time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiredAccepted {
    pub mirror: String,
    pub valid_until: i64,
    /// The clock at the sync that accepted it.
    pub checked_at: i64,
}

/// A snapshot with its metadata (not part of its id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub id: B3Digest,
    pub record: SnapshotRecord,
    /// First time this snapshot was created (unix seconds).
    pub created: i64,
    /// Mirror name → URL at sync time.
    pub urls: BTreeMap<String, String>,
    pub expired_accepted: Vec<ExpiredAccepted>,
    pub binary_packages: u64,
    pub source_packages: u64,
}

/// One changed package between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotChange {
    pub kind: IndexKind,
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// `GET /api/v1/snapshots/{a}/diff/{b}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotDiff {
    pub from: B3Digest,
    pub to: B3Digest,
    pub added: Vec<SnapshotChange>,
    pub removed: Vec<SnapshotChange>,
    pub changed: Vec<SnapshotChange>,
}

/// One stanza of a package as found in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageEntry {
    pub kind: IndexKind,
    pub archive: String,
    pub index: String,
    pub priority: i32,
    pub version: String,
    pub arch: String,
    /// The candidate apt would pick among the entries of the same kind and arch.
    pub selected: bool,
    /// Every field, in stanza order (`[name, value]` pairs).
    pub fields: Vec<(String, String)>,
}

/// `POST /api/v1/snapshots/{id}/fetch` body: one package request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FetchRequest {
    /// `NAME[=VERSION]` or `src:NAME[=VERSION]`.
    pub request: String,
    /// Architecture for binary packages (default: the daemon's host arch).
    pub arch: Option<String>,
}

/// One file of a snapshot's package (a .deb, or a .dsc and its source files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolFile {
    /// Package (or source) name and version the file belongs to, for messages.
    pub package: String,
    pub version: String,
    /// Mirror (archive) name within the snapshot.
    pub archive: String,
    /// Path below the archive root (`pool/main/h/hello/hello_2.10-3_amd64.deb`).
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

impl PoolFile {
    /// File name (last path component).
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// A fetched file, now in the store (with `dry_run`, the digest is all zeros).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchedFile {
    #[serde(flatten)]
    pub file: PoolFile,
    pub name: String,
    pub digest: B3Digest,
}
