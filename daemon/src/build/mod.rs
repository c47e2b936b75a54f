//! Realising derivations: build roots, sandboxed builds, outputs and realisations.
//!
//! - [`builddir`]: the build directory's trust boundary: a directory only the daemon
//!   writes (refused at start otherwise) and the `ready` records that make a cached root
//!   trusted.
//! - [`roots`]: configured build roots cached under `<build dir>/roots/<key>`, keyed by the
//!   hash of the closure (plus build user and runscripts), prepared once and shared
//!   read-only by every build that needs the same environment (each build gets an overlay
//!   on top).
//! - [`evict`]: roots are a cache: their use is recorded (and locked while a build runs)
//!   and the least recently used ones beyond `roots_max_bytes` are removed.
//! - [`run`]: derivation → fetch closure and source (download on demand) → root →
//!   `cryo-debbuild` in the sandbox → outputs into the store → realisation. A realised
//!   derivation is never built again unless asked to (`--rebuild`), and then the new
//!   outputs are compared bit for bit with the recorded ones.

pub mod builddir;
pub mod evict;
pub mod roots;
pub mod run;
pub mod slots;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use cryo_store::Store;

use crate::cache::substitute::Substituters;

/// What realising derivations uses: the store, the build directory with its root locks,
/// the worker slots shared by every build, the latest build logs, the binary caches asked
/// before building, and a counter of sandbox builds run.
pub struct Builder {
    pub store: Arc<Store>,
    /// Where build roots (`roots/`) and work directories (`builds/`) live.
    pub build_dir: PathBuf,
    /// Build roots being prepared (one lock per root key).
    pub root_locks: roots::RootLocks,
    /// At most `workers` builds at once.
    pub build_slots: slots::BuildSlots,
    /// Latest build log of each derivation.
    pub build_logs: slots::BuildLogs,
    /// Binary caches asked before building.
    pub substituters: Substituters,
    /// Sandbox builds run since start (substitutions and cache hits do not count).
    pub builds_run: AtomicU64,
    /// Cached build roots and base layers beyond this many bytes are evicted, least
    /// recently used first (`roots_max_bytes` in `cryod.toml`).
    pub roots_max_bytes: u64,
    /// Seeds of the tool layer between base layers and roots (`tool_layer`).
    pub tool_layer: Vec<String>,
}

impl Builder {
    pub fn new(
        store: Arc<Store>,
        build_dir: PathBuf,
        workers: usize,
        substituters: Substituters,
    ) -> Builder {
        Builder {
            build_logs: slots::BuildLogs::new(store.clone()),
            store,
            build_dir,
            root_locks: roots::RootLocks::default(),
            build_slots: slots::BuildSlots::new(workers),
            substituters,
            builds_run: AtomicU64::new(0),
            roots_max_bytes: crate::config::DEFAULT_ROOTS_MAX_BYTES,
            tool_layer: cryo_debbuild::layers::DEFAULT_TOOL_SEEDS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }
}

/// Errors that stop a build from running (a build that runs and fails is an outcome).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Mirror(#[from] crate::mirror::MirrorError),
    #[error(transparent)]
    Store(#[from] cryo_store::StoreError),
    #[error(
        "unsafe build directory {path}: {reason}; remove it (or fix its owner and mode) or \
         choose another one with CRYOD_BUILD_DIR"
    )]
    UnsafeDir { path: String, reason: String },
    #[error("preparing the build root: root {key}: {}", chain(.source))]
    Root {
        key: String,
        #[source]
        source: Box<cryo_debbuild::RootError>,
    },
    #[error("preparing the build root: {}", chain(.0))]
    IdMap(#[source] Box<cryo_sandbox::IdMapError>),
    #[error("preparing the build root: the sandbox id map has no root inside")]
    NoRootInside,
    #[error(
        "preparing the build root: {path} is not searchable by the build sandbox (mode \
         {mode:o}); build roots live below it: run `chmod o+x {path}` or choose another \
         state directory"
    )]
    NotTraversable { path: String, mode: u32 },
    #[error("running the build: {}", chain(.0))]
    Run(#[source] Box<cryo_debbuild::BuildError>),
    #[error("running the build: locating cryod: /proc is not mounted")]
    NoProc,
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// An error and all its sources, `: `-separated (library errors keep their causes as
/// sources; users need all of them).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// The sandbox helper: `cryod` re-executes itself with this argument.
pub const SANDBOX_HELPER_ARG: &str = "__sandbox-helper";

/// How to start the sandbox helper (this very executable). `/proc/self/exe` is executed,
/// not the path it names: after an upgrade replaced the file, that path is the new binary
/// (or gone, ` (deleted)`), while the magic link still reaches this running image.
pub fn helper_command() -> Result<cryo_sandbox::HelperCommand, BuildError> {
    let exe = std::path::PathBuf::from("/proc/self/exe");
    if !exe.exists() {
        return Err(BuildError::NoProc);
    }
    Ok(cryo_sandbox::HelperCommand::new(exe).arg(SANDBOX_HELPER_ARG))
}

/// Removes a build work directory or an unfinished root. As root this is
/// `remove_dir_all`; an unprivileged daemon cannot unlink files the sandbox gave to
/// subordinate ids, so `cryo_debbuild::remove_tree` removes them from inside a sandbox
/// running on `tools_root` (any configured root, or `path` itself when it is a root).
/// Failures are logged, never fatal: a leftover directory costs disk, not correctness.
pub(crate) fn remove_work(path: &std::path::Path, tools_root: &std::path::Path) {
    let res = helper_command()
        .map_err(|e| e.to_string())
        .and_then(|h| cryo_debbuild::remove_tree(path, tools_root, &h).map_err(|e| chain(&e)));
    if let Err(e) = res {
        tracing::warn!(path = %path.display(), error = %e, "could not remove build directory");
    }
}

/// Any configured root under `build_dir` that checks out (`builddir::check_root`), to
/// run cleanup jobs on.
pub(crate) fn any_ready_root(build_dir: &std::path::Path) -> Option<std::path::PathBuf> {
    std::fs::read_dir(build_dir.join("roots"))
        .ok()?
        .flatten()
        .filter_map(|e| {
            let key = e.file_name().to_str()?.to_owned();
            let dir = e.path();
            let ok = !key.contains('.') && matches!(builddir::check_root(&dir, &key), Ok(Some(_)));
            ok.then(|| dir.join("root"))
        })
        .next()
}
