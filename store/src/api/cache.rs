//! The binary cache: `GET|POST /api/v1/cache/keys` (signing keys of this daemon), and the
//! cache protocol served on `cryod --listen` (`docs/cache-protocol.md`): `GET /cache/info`,
//! `GET /cache/drv/{id}` and `GET|HEAD /cache/blob/{blake3}` (zstd bytes).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::B3Digest;
use crate::realisation::OutputRef;

/// `POST /api/v1/cache/keys` body: generate a signing key named `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeygenRequest {
    pub name: String,
}

/// A key's public form (`GET /api/v1/cache/keys` lists them; `POST` answers one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub name: String,
    /// `NAME:BASE64`, as substituters list trusted keys.
    pub public_key: String,
}

/// `GET /cache/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheInfo {
    pub name: String,
    pub public_keys: Vec<String>,
    pub priority: u32,
}

/// `GET /cache/drv/{id}`: a realisation with signatures (`KEYNAME:BASE64`) over its
/// fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedRealisation {
    pub drv: B3Digest,
    pub outputs: BTreeMap<String, OutputRef>,
    pub signatures: Vec<String>,
}
