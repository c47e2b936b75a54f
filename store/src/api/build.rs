//! `POST /api/v1/build` (realise a derivation, resolving it first if needed) and
//! `GET /api/v1/drv/{id}/log[?follow=true]`, which answers the build log as text.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::resolve::ResolveRequest;
use crate::digest::B3Digest;

/// `POST /api/v1/build` body: a derivation id, or what `resolve` takes (flattened).
///
/// Not `#[derive(Deserialize)]`: serde's `flatten` of an `Option` turns any error of the
/// inner body (a refused file name) into `None`; here the resolve part, when present
/// (any of `snapshot`, `prjconf`, `source`), must deserialise and its error is the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildRequest {
    pub derivation: Option<String>,
    #[serde(flatten)]
    pub resolve: Option<ResolveRequest>,
    /// Build again and compare with the recorded outputs bit for bit.
    pub rebuild: bool,
}

/// Why a build request body is refused (the daemon's 400 message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BuildRequestError(pub String);

#[derive(Deserialize)]
struct BuildHead {
    derivation: Option<String>,
    #[serde(default)]
    rebuild: bool,
}

impl BuildRequest {
    /// Parse a body.
    pub fn from_json(v: serde_json::Value) -> Result<Self, BuildRequestError> {
        // As the daemon always answered: a body that is not an object fails on its head
        // (`invalid build request: invalid type: …`).
        let none = || BuildRequestError("give a derivation or a source to resolve".into());
        let bad = |e: serde_json::Error| BuildRequestError(format!("invalid build request: {e}"));
        let head: BuildHead = serde_json::from_value(v.clone()).map_err(bad)?;
        let has_source = ["snapshot", "prjconf", "source"]
            .iter()
            .any(|k| v.get(k).is_some());
        let resolve = match (has_source, &head.derivation) {
            (true, _) => Some(serde_json::from_value(v).map_err(bad)?),
            (false, Some(_)) => None,
            (false, None) => return Err(none()),
        };
        Ok(Self {
            derivation: head.derivation,
            resolve,
            rebuild: head.rebuild,
        })
    }
}

impl<'de> Deserialize<'de> for BuildRequest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Self::from_json(v).map_err(serde::de::Error::custom)
    }
}

/// How a build request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildStatus {
    /// Built now.
    Built,
    /// Already realised here.
    Cached,
    /// Fetched from a substituter (signed binary cache).
    Substituted,
    /// The build failed (see `log_tail`, `log`).
    Failed,
}

impl BuildStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Built => "built",
            BuildStatus::Cached => "cached",
            BuildStatus::Substituted => "substituted",
            BuildStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for BuildStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One output of a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputInfo {
    pub name: String,
    pub blake3: B3Digest,
    pub sha256: String,
    pub size: u64,
}

/// An output that differs between the recorded realisation and a rebuild.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebuildDifference {
    pub name: String,
    pub recorded: Option<B3Digest>,
    pub rebuilt: Option<B3Digest>,
}

/// What `POST /api/v1/build` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildOutcome {
    pub derivation: B3Digest,
    pub status: BuildStatus,
    pub outputs: Vec<OutputInfo>,
    /// The build log in the store, when a build ran.
    pub log: Option<B3Digest>,
    /// Last lines of the log of a failed build.
    pub log_tail: Option<String>,
    pub duration_secs: f64,
    pub root_cached: Option<bool>,
    /// With `rebuild`: outputs whose bytes differ from the recorded realisation.
    pub rebuild_differences: Option<Vec<RebuildDifference>>,
}
