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

use std::sync::{Arc, Mutex};

use cryo_store::Store;
use tokio_util::sync::CancellationToken;

use crate::auth::{Auth, AuthError};
use crate::build::Builder;
use crate::clock::Clock;
use crate::drv::{Deriver, DrvError};
use crate::mirror::MirrorError;
use model::ProjectName;

/// What the project subsystem uses: the store, the clock, roles (auth), resolution, the
/// builder, its scheduler, the daemon's shutdown signal, and the subscriptions of the
/// subsystems above it ([`Hooks`]).
pub struct Projects {
    pub store: Arc<Store>,
    pub clock: Clock,
    pub auth: Arc<Auth>,
    pub deriver: Arc<Deriver>,
    pub builder: Arc<Builder>,
    pub scheduler: Arc<scheduler::Scheduler>,
    pub shutdown: CancellationToken,
    pub hooks: Hooks,
}

type Hook = Box<dyn Fn(&ProjectName) + Send + Sync>;

/// Reverse dependencies, wired by the composition root (`services.rs`) so that this
/// module never names the ones above it: publishing subscribes to finished evaluations
/// (automatic publish) and to deleted projects (their publications and keys go too).
#[derive(Default)]
pub struct Hooks {
    evaluated: Mutex<Vec<Hook>>,
    deleted: Mutex<Vec<Hook>>,
}

impl Hooks {
    /// Call `f` after each successful evaluation of a project (blocking context).
    pub fn on_evaluated(&self, f: impl Fn(&ProjectName) + Send + Sync + 'static) {
        self.evaluated.lock().expect("hooks").push(Box::new(f));
    }
    /// Call `f` after a project was deleted (blocking context).
    pub fn on_deleted(&self, f: impl Fn(&ProjectName) + Send + Sync + 'static) {
        self.deleted.lock().expect("hooks").push(Box::new(f));
    }
    pub(crate) fn evaluated(&self, p: &ProjectName) {
        for f in self.evaluated.lock().expect("hooks").iter() {
            f(p);
        }
    }
    pub(crate) fn deleted(&self, p: &ProjectName) {
        for f in self.deleted.lock().expect("hooks").iter() {
            f(p);
        }
    }
}

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
    #[error(transparent)]
    Table(#[from] crate::table::TableError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Drv(#[from] DrvError),
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error(transparent)]
    Store(#[from] cryo_store::StoreError),
}
