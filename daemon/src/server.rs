//! Starting and stopping the daemon: state directory lock, unix socket (0600, never
//! observable wider), private state files, optional TCP listener, graceful shutdown.

use std::fs::{self, File};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use cryo_store::Store;
use tokio::net::{TcpListener, UnixListener};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::Config;
use crate::http::AppState;
use crate::http::{self, Peer};
use crate::services::Services;

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
    #[error(transparent)]
    BuildDir(crate::build::BuildError),
    #[error("serving: {0}")]
    Clock(#[from] crate::clock::ClockError),
}

fn io_state(path: &std::path::Path) -> impl Fn(std::io::Error) -> ServerError + '_ {
    move |source| ServerError::StateDir {
        path: path.display().to_string(),
        source,
    }
}

/// Files in the state directory that only the daemon may read, created before it ran (the
/// autostart log is opened by `cryo`) or by older versions: narrowed to 0600 (0700 for
/// directories). The store narrows its own (`index.redb`, `blobs/`, `tmp/`).
fn private_state(state: &Path) -> Result<(), ServerError> {
    let keys = state.join("keys");
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&keys)
        .or_else(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Ok(()),
            _ => Err(e),
        })
        .map_err(io_state(&keys))?;
    for (name, mode) in [
        ("keys", 0o700),
        ("keys/cache", 0o700),
        ("keys/projects", 0o700),
        ("cryod.log", 0o600),
        ("cryod.lock", 0o600),
    ] {
        let p = state.join(name);
        match fs::symlink_metadata(&p) {
            Ok(m) if !m.file_type().is_symlink() && m.permissions().mode() & 0o077 != 0 => {
                fs::set_permissions(&p, fs::Permissions::from_mode(mode)).map_err(io_state(&p))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Bind the API socket at `path` so that it is never reachable with a wider mode than
/// `mode`: it is bound inside a fresh 0700 directory next to `path`, given its mode there,
/// and renamed into place. (If that temporary path would be too long for a socket address,
/// it is bound in place under a umask that leaves only the owner's bits.)
fn bind_socket(path: &Path, mode: u32) -> Result<UnixListener, ServerError> {
    let bind_err = |source| ServerError::Bind {
        what: "unix socket",
        addr: path.display().to_string(),
        source,
    };
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let private = tempfile::Builder::new()
        .prefix(".cb")
        .tempdir_in(parent)
        .map_err(io_state(parent))?;
    let tmp = private.path().join("s");
    let std_listener = if tmp.as_os_str().len() < 100 {
        let l = std::os::unix::net::UnixListener::bind(&tmp).map_err(bind_err)?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(mode)).map_err(io_state(&tmp))?;
        fs::rename(&tmp, path).map_err(io_state(path))?;
        l
    } else {
        // SAFETY: umask only swaps the process's file mode mask; restored right after.
        let old = unsafe { libc::umask(0o177) };
        let l = std::os::unix::net::UnixListener::bind(path);
        unsafe { libc::umask(old) };
        let l = l.map_err(bind_err)?;
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io_state(path))?;
        l
    };
    std_listener.set_nonblocking(true).map_err(bind_err)?;
    UnixListener::from_std(std_listener).map_err(bind_err)
}

/// An opened daemon: the state dir is locked, the store open, services built and the
/// scheduler started. Serve it with [`run`], or drive [`App::router`] in-process (tests).
pub struct App {
    state: AppState,
    /// Held while the process lives (see [`run`]).
    lock: File,
}

impl App {
    /// Lock `config.state`, open the store and build every service once.
    pub async fn open(config: Config, shutdown: CancellationToken) -> Result<App, ServerError> {
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
            .mode(0o600)
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
        private_state(&state_dir)?;
        let build_dir =
            crate::build::roots::choose_build_dir(&state_dir).map_err(ServerError::BuildDir)?;
        crate::build::roots::sweep(&build_dir);
        let clock = crate::clock::Clock::from_env()?;
        let state = Services::new(config, Arc::new(store), build_dir, clock, shutdown);
        state.start();
        Ok(App { state, lock })
    }

    /// The whole API as served on the unix socket.
    pub fn router(&self) -> axum::Router {
        http::router(self.state.clone())
    }

    /// What TCP serves (binary cache, repositories, the team API for bearer tokens).
    pub fn public_router(&self) -> axum::Router {
        http::public_router(self.state.clone())
    }

    /// The daemon's configuration.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// The daemon's store (for embedding and in-process tests).
    pub fn store(&self) -> &Arc<cryo_store::Store> {
        &self.state.store
    }
}

/// The sockets a daemon serves: the API socket and, optionally, TCP.
pub struct Listeners {
    pub unix: UnixListener,
    /// Path of the unix socket, removed when serving ends.
    pub unix_path: std::path::PathBuf,
    pub tcp: Option<TcpListener>,
}

impl Listeners {
    /// Bind what `config` names: the unix socket (stale files removed: the caller holds
    /// the state-dir lock) and the TCP address, if any.
    pub async fn bind(config: &Config) -> Result<Listeners, ServerError> {
        let sock = config.socket.clone();
        if sock.exists() {
            fs::remove_file(&sock).map_err(io_state(&sock))?;
        }
        if let Some(parent) = sock.parent() {
            fs::create_dir_all(parent).map_err(io_state(parent))?;
        }
        let unix = bind_socket(&sock, config.socket_mode)?;
        let tcp = match config.listen {
            Some(addr) => {
                Some(
                    TcpListener::bind(addr)
                        .await
                        .map_err(|source| ServerError::Bind {
                            what: "TCP address",
                            addr: addr.to_string(),
                            source,
                        })?,
                )
            }
            None => None,
        };
        Ok(Listeners {
            unix,
            unix_path: sock,
            tcp,
        })
    }
}

/// Open the daemon for `config`, bind its listeners and serve until `shutdown`.
pub async fn start(config: Config, shutdown: CancellationToken) -> Result<(), ServerError> {
    let app = App::open(config, shutdown.clone()).await?;
    let listeners = Listeners::bind(app.config()).await?;
    run(app, listeners, shutdown).await
}

/// Serve `app` on `listeners` until `shutdown` is cancelled; in-flight requests are
/// drained before this returns.
pub async fn run(
    app: App,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    let Listeners {
        unix,
        unix_path,
        tcp,
    } = listeners;
    info!(socket = %unix_path.display(), state = %app.config().state.display(), "cryod listening");
    let tcp_task = tcp.map(|l| {
        if let Ok(addr) = l.local_addr() {
            info!(%addr, "serving HTTP on TCP");
        }
        let public = app.public_router();
        let sd = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(
                http::TcpListener(l),
                public.into_make_service_with_connect_info::<Peer>(),
            )
            .with_graceful_shutdown(sd.cancelled_owned())
            .await
        })
    });
    let res = axum::serve(
        unix,
        app.router().into_make_service_with_connect_info::<Peer>(),
    )
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
    let _ = fs::remove_file(&unix_path);
    info!("cryod stopped");
    // Keep the state-dir lock until the process exits: background tasks may still hold the
    // store (and redb's own lock) for a moment, and a new daemon must not start before.
    std::mem::forget(app.lock);
    res.map_err(ServerError::Serve)
}
