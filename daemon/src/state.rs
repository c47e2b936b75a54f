//! Shared state of a running daemon, handed to every HTTP handler.

use std::sync::Arc;
use std::time::Instant;

use cryo_store::Store;
use tokio_util::sync::CancellationToken;

use crate::config::Config;

/// Everything a handler may need. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<Store>,
    pub started: Instant,
    /// The clock for validity checks (`CRYOD_NOW` in tests).
    pub clock: crate::clock::Clock,
    /// Resolution and derivation (universes, host architecture).
    pub deriver: Arc<crate::drv::Deriver>,
    /// Build roots being prepared (one lock per root key).
    pub root_locks: Arc<crate::build::roots::RootLocks>,
    /// At most `workers` builds at once.
    pub build_slots: Arc<crate::build::slots::BuildSlots>,
    /// Latest build log of each derivation.
    pub build_logs: Arc<crate::build::slots::BuildLogs>,
    /// Where build roots (`roots/`) and work directories (`builds/`) live.
    pub build_dir: std::path::PathBuf,
    /// Compressed bodies served by the binary cache (bounded; see `cache::blobs`).
    pub blob_cache: Arc<crate::cache::blobs::BlobCache>,
    /// Binary caches asked before building.
    pub substituters: Arc<crate::cache::substitute::Substituters>,
    /// Sandbox builds run since start (substitutions and cache hits do not count).
    pub builds_run: Arc<std::sync::atomic::AtomicU64>,
    /// Decoded manifests of published generations.
    pub publish_manifests: Arc<crate::publish::manifest::ManifestCache>,
    /// Projects' build queue, workers and events.
    pub scheduler: Arc<crate::project::scheduler::Scheduler>,
    /// Cancelled to shut the daemon down gracefully.
    pub shutdown: CancellationToken,
}
