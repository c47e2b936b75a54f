//! Derivations: the exact, hashed description of one build.
//!
//! The canonical encoding is compact JSON of [`Derivation`] with fields in declaration
//! order, maps sorted (`BTreeMap`) and the closure sorted by (set, name, arch, version);
//! the first field `format` names the encoding version (`cryo.drv/1`). The derivation id is
//! the BLAKE3 of those bytes. Golden files in `store/tests/golden/` pin the encoding: a
//! change to them is a change of every derivation id and needs a new format version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::B3Digest;

/// The encoding version written into every derivation.
pub const DRV_FORMAT: &str = "cryo.drv/1";

/// Which builder realises the derivation (`deb` now; `rpm` later) and its version: a new
/// builder version changes every id, on purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderSpec {
    pub kind: String,
    pub version: String,
}

/// The source package: name, version and its files by content digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInput {
    pub name: String,
    pub version: String,
    /// File name → BLAKE3 of its content (e.g. the `.dsc`, `.orig.tar.gz`, `.debian.tar.xz`).
    pub files: BTreeMap<String, B3Digest>,
}

/// One package of the resolved build environment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClosureEntry {
    /// `preinstall` (unpacked first) or `install`.
    pub set: String,
    pub name: String,
    pub arch: String,
    pub version: String,
    /// SHA256 as published by the archive (hex).
    pub sha256: String,
}

/// A build, fully described by its inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derivation {
    /// Always [`DRV_FORMAT`].
    pub format: String,
    pub builder: BuilderSpec,
    /// Host architecture in the distribution's naming (`amd64`).
    pub arch: String,
    /// Snapshot id of the package universe.
    pub snapshot: B3Digest,
    /// Hash of the normalised prjconf.
    pub prjconf: String,
    pub source: SourceInput,
    /// The exact build environment, sorted.
    pub closure: Vec<ClosureEntry>,
    /// Environment of the build (DEB_BUILD_OPTIONS, profiles, build path, clock policy,
    /// locale, umask, release counters…).
    pub env: BTreeMap<String, String>,
}

/// Errors decoding a derivation.
#[derive(Debug, thiserror::Error)]
pub enum DerivationError {
    #[error("not a derivation: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("unsupported derivation format {0:?} (this cryo reads {DRV_FORMAT})")]
    Format(String),
    #[error("derivation is not in canonical form (re-encoding changes its bytes)")]
    NotCanonical,
}

impl Derivation {
    /// Sort what must be sorted; call before hashing (encode does it too).
    pub fn normalize(&mut self) {
        self.closure.sort();
        self.closure.dedup();
    }

    /// Canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut d = self.clone();
        d.normalize();
        serde_json::to_vec(&d).expect("derivation serialises")
    }

    /// The derivation id.
    pub fn id(&self) -> B3Digest {
        B3Digest::of(&self.encode())
    }

    /// Decode canonical bytes, refusing other versions and non-canonical encodings (so
    /// that a stored derivation's digest is always its id).
    pub fn decode(bytes: &[u8]) -> Result<Self, DerivationError> {
        let d: Derivation = serde_json::from_slice(bytes)?;
        if d.format != DRV_FORMAT {
            return Err(DerivationError::Format(d.format));
        }
        if d.encode() != bytes {
            return Err(DerivationError::NotCanonical);
        }
        Ok(d)
    }
}
