//! cryo-store: the content-addressed core of cryo, usable without the daemon.
//!
//! - [`digest`]: `B3Digest`, the BLAKE3 name of every object.
//! - [`blob`]: blob backends (trait + local filesystem), atomic writes, verified reads.
//! - [`tree`] and [`component`]: canonical directory manifests and validated names;
//!   [`name`]: `SafeName`, a client-supplied name that may become one path component.
//! - [`index`]: the redb index (object metadata, references, roots, realisations).
//! - [`store`]: the `Store` facade; `tree_fs`/`tree_tar` import/export; [`gc`] collects and
//!   verifies.
//! - [`derivation`], [`realisation`]: the build model and its canonical encoding.
//! - [`api`]: JSON wire types shared by `cryod` and `cryo`.
//!
//! This crate never depends on clap, hyper or axum.

pub mod api;
pub mod blob;
pub mod component;
pub mod derivation;
pub mod digest;
pub mod gc;
pub mod index;
pub mod name;
pub mod realisation;
pub mod store;
pub mod tree;
mod tree_fs;
mod tree_tar;

pub use digest::B3Digest;
pub use index::ObjectKind;
pub use name::{NameError, SafeName};
pub use store::{Session, Store, StoreError};
