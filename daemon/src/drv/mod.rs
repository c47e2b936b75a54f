//! From source + snapshot + prjconf to an exact, hashed derivation.
//!
//! - [`universe`]: a snapshot's binary packages as a `cryo_resolve::Universe` (cached).
//! - [`source`]: the three ways to name a source package (`src:NAME[=VER]` from the
//!   snapshot, an uploaded `.dsc` with its files) → verified files in the store + the
//!   parsed source stanza.
//! - [`derive`]: prjconf + closure + environment → `cryo_store::derivation::Derivation`.

pub mod derive;
pub mod source;
pub mod universe;

use crate::mirror::MirrorError;

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
