//! Starting and stopping the daemon: state directory lock, unix socket (0600), optional
//! TCP listener, graceful shutdown.

use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Instant;

use cryo_store::Store;
use tokio::net::{TcpListener, UnixListener};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::Config;
use crate::http::{self, Peer};
use crate::state::AppState;

/// Errors starting or running the daemon.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("state directory {path}: {source}")]
    StateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("another cryod already uses state directory {0} (lock file cryod.lock is held)")]
    AlreadyRunning(String),
    #[error("opening the store: {0}")]
    Store(#[from] cryo_store::StoreError),
    #[error("binding {what} {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Serve(#[source] std::io::Error),
}

fn io_state(path: &std::path::Path) -> impl Fn(std::io::Error) -> ServerError + '_ {
    move |source| ServerError::StateDir {
        path: path.display().to_string(),
        source,
    }
}

/// Run the daemon until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), ServerError> {
    let state_dir = config.state.clone();
    fs::create_dir_all(&state_dir).map_err(io_state(&state_dir))?;
    // Others may traverse (not list) the state dir: build sandboxes run as mapped ids and
    // must reach their roots below it. The socket is 0600; secrets are 0600 files.
    fs::set_permissions(&state_dir, fs::Permissions::from_mode(0o711))
        .map_err(io_state(&state_dir))?;
    let lock_path = state_dir.join("cryod.lock");
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_state(&lock_path))?;
    if lock.try_lock().is_err() {
        return Err(ServerError::AlreadyRunning(state_dir.display().to_string()));
    }
    let store = {
        let dir = state_dir.clone();
        tokio::task::spawn_blocking(move || Store::open(&dir))
            .await
            .map_err(|e| ServerError::Serve(std::io::Error::other(e)))??
    };

    // We hold the lock, so a socket file left behind is stale.
    let sock = config.socket.clone();
    if sock.exists() {
        fs::remove_file(&sock).map_err(io_state(&sock))?;
    }
    if let Some(parent) = sock.parent() {
        fs::create_dir_all(parent).map_err(io_state(parent))?;
    }
    let unix = UnixListener::bind(&sock).map_err(|source| ServerError::Bind {
        what: "unix socket",
        addr: sock.display().to_string(),
        source,
    })?;
    fs::set_permissions(&sock, fs::Permissions::from_mode(config.socket_mode))
        .map_err(io_state(&sock))?;

    let build_dir = crate::build::roots::choose_build_dir(&state_dir);
    crate::build::roots::sweep(&build_dir);
    let store = Arc::new(store);
    let state = AppState {
        config: Arc::new(config.clone()),
        store: store.clone(),
        root_locks: Arc::default(),
        build_dir,
        substituters: Arc::new(crate::cache::substitute::Substituters::new(
            config
                .substituters
                .iter()
                .map(|s| crate::cache::substitute::Substituter {
                    url: s.url.clone(),
                    trusted: s
                        .trusted_keys
                        .iter()
                        .filter_map(|k| k.parse().ok())
                        .collect(),
                })
                .collect(),
        )),
        builds_run: Arc::default(),
        build_slots: Arc::new(crate::build::slots::BuildSlots::new(config.workers)),
        build_logs: Arc::new(crate::build::slots::BuildLogs::new(store.clone())),
        started: Instant::now(),
        universes: Arc::default(),
        clock: crate::clock::Clock::from_env()
            .map_err(|e| ServerError::Serve(std::io::Error::other(e)))?,
        host_arch: cryo_debian::arch::Arch::host()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "amd64".into()),
        shutdown: shutdown.clone(),
        publish_manifests: Arc::default(),
        scheduler: Arc::new(crate::project::scheduler::Scheduler::new(config.workers)),
    };
    state.scheduler.start(state.clone());
    let app = http::router(state.clone());
    info!(socket = %sock.display(), state = %state_dir.display(), "cryod listening");

    let tcp_task = match config.listen {
        Some(addr) => {
            let l = TcpListener::bind(addr)
                .await
                .map_err(|source| ServerError::Bind {
                    what: "TCP address",
                    addr: addr.to_string(),
                    source,
                })?;
            info!(%addr, "serving HTTP on TCP");
            let public = http::public_router(state.clone());
            let sd = shutdown.clone();
            Some(tokio::spawn(async move {
                axum::serve(l, public.into_make_service_with_connect_info::<Peer>())
                    .with_graceful_shutdown(sd.cancelled_owned())
                    .await
            }))
        }
        None => None,
    };

    let res = axum::serve(unix, app.into_make_service_with_connect_info::<Peer>())
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await;
    shutdown.cancel();
    if let Some(t) = tcp_task {
        match t.await {
            Ok(Err(e)) => warn!("TCP server ended with an error: {e}"),
            Err(e) => warn!("TCP server task failed: {e}"),
            Ok(Ok(())) => {}
        }
    }
    let _ = fs::remove_file(&sock);
    info!("cryod stopped");
    // Keep the state-dir lock until the process exits: background tasks may still hold the
    // store (and redb's own lock) for a moment, and a new daemon must not start before.
    std::mem::forget(lock);
    res.map_err(ServerError::Serve)
}
