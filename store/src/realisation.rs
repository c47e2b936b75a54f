//! Realisations: which outputs a derivation produced.
//!
//! A derivation is realised at most once per store; the index refuses a second, different
//! set of outputs for the same derivation id ("no derivation has two different outputs").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::B3Digest;

/// One output file of a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputRef {
    pub digest: B3Digest,
    pub size: u64,
}

/// Derivation id → named outputs (e.g. `hello_2.10-3_amd64.deb`, `build.log`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Realisation {
    pub drv: B3Digest,
    pub outputs: BTreeMap<String, OutputRef>,
}
