//! `POST /api/v1/resolve` (closure + derivation) and `GET /api/v1/drv/{id}`, which
//! answers the stored [`crate::derivation::Derivation`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::B3Digest;
use crate::SafeName;

/// A prjconf as sent by the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrjconfText {
    /// File name, used in error messages (`file:line`).
    pub name: String,
    pub text: String,
}

/// How a request names its source package: `{"kind": "snapshot", "request": …}` or
/// `{"kind": "dsc", "dsc": …, "files": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourceSpec {
    /// `src:NAME[=VERSION]` from the snapshot's Sources.
    Snapshot { request: String },
    /// An uploaded `.dsc` (by file name) and its files, all already in the store. The
    /// names are single path components (refused at deserialisation otherwise).
    Dsc {
        dsc: SafeName,
        files: BTreeMap<SafeName, B3Digest>,
    },
}

/// `POST /api/v1/resolve` body (also the source part of a build request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveRequest {
    /// Snapshot id or unique prefix.
    pub snapshot: String,
    pub prjconf: PrjconfText,
    pub source: SourceSpec,
    /// Default: the daemon's architecture.
    pub arch: Option<String>,
    /// `full` (dpkg-buildpackage -b, default), `arch` (-B) or `indep` (-A).
    pub build: Option<String>,
}

/// What `POST /api/v1/resolve` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    pub derivation: B3Digest,
    pub snapshot: B3Digest,
    pub source: String,
    pub version: String,
    pub arch: String,
    pub closure: Vec<ClosureItem>,
    pub preinstall: usize,
    pub install: usize,
    pub warnings: Vec<String>,
}

/// One closure entry of a [`Resolved`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureItem {
    /// `preinstall` or `install`.
    pub set: String,
    pub name: String,
    pub version: String,
    pub arch: String,
    pub sha256: String,
    pub size: u64,
    pub origin: String,
    pub filename: String,
    pub reason: String,
}
