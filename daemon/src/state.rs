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
    /// Realising derivations (build dir, slots, logs, substituters).
    pub builder: Arc<crate::build::Builder>,
    /// Verification against the snapshot's official binaries.
    pub verifier: Arc<crate::verify::Verifier>,
    /// Compressed bodies served by the binary cache (bounded; see `cache::blobs`).
    pub blob_cache: Arc<crate::cache::blobs::BlobCache>,
    /// Decoded manifests of published generations.
    pub publish_manifests: Arc<crate::publish::manifest::ManifestCache>,
    /// Projects' build queue, workers and events.
    pub scheduler: Arc<crate::project::scheduler::Scheduler>,
    /// Cancelled to shut the daemon down gracefully.
    pub shutdown: CancellationToken,
}
