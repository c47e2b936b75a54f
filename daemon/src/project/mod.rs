//! Projects, packages, revisions and the scheduler that builds them (OBS's workflow on
//! pure derivations): `model` (types), `tables` (redb), `ops` (create, configure,
//! commit…), `eval` (what each package × repository × arch needs), `outputs` (built
//! files), `scheduler` (queue, workers, events, live logs, aborts).

pub mod eval;
pub mod model;
pub mod ops;
pub mod outputs;
pub mod scheduler;
pub mod tables;

use crate::drv::DrvError;
use crate::mirror::MirrorError;

/// Errors of the project subsystem.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The caller (or a maintainer of the project) lacks a role (403).
    #[error("{0}")]
    Forbidden(String),
    #[error("project database: {0}")]
    Db(String),
    #[error(transparent)]
    Table(#[from] crate::table::TableError),
    #[error(transparent)]
    Drv(#[from] DrvError),
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error(transparent)]
    Store(#[from] cryo_store::StoreError),
}
