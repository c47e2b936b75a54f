//! From source + snapshot + prjconf to an exact, hashed derivation.
//!
//! - [`universe`]: a snapshot's binary packages as a `cryo_resolve::Universe` (cached).
//! - [`source`]: the three ways to name a source package (`src:NAME[=VER]` from the
//!   snapshot, an uploaded `.dsc` with its files) → verified files in the store + the
//!   parsed source stanza.
//! - [`request`]: a resolution request and its resolution (used by the API, verify and
//!   projects).
//! - [`derive`]: prjconf + closure + environment → `cryo_store::derivation::Derivation`.
//! - [`pinned`]: the same with the closure pinned to exact versions (a `.buildinfo`).

pub mod derive;
pub mod pinned;
pub mod request;
pub mod source;
pub mod universe;

use std::sync::Arc;

use cryo_store::Store;

use crate::mirror::MirrorError;

/// What resolution and derivation use: the store, the resolver universes of recently used
/// snapshots, and the host architecture (Debian naming).
pub struct Deriver {
    pub store: Arc<Store>,
    pub universes: universe::UniverseCache,
    pub host_arch: String,
}

impl Deriver {
    pub fn new(store: Arc<Store>) -> Deriver {
        Deriver {
            store,
            universes: universe::UniverseCache::default(),
            host_arch: cryo_debian::arch::Arch::host()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "amd64".into()),
        }
    }
}

/// Errors of resolution and derivation.
#[derive(Debug, thiserror::Error)]
pub enum DrvError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Prjconf(String),
    #[error("{0}")]
    Unresolvable(String),
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error(transparent)]
    Store(#[from] cryo_store::StoreError),
}
