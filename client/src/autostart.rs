//! Finding the daemon, and starting one on the default state directory when none answers
//! (the embedded default a newcomer gets with no set-up).

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::cli::Global;
use crate::conn::Conn;

/// How long to wait for a freshly started daemon.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// State dir and socket the client uses.
pub struct Target {
    pub state: PathBuf,
    pub socket: PathBuf,
}

/// Resolve `--state`/`--socket` and their defaults (same rules as `cryod`).
pub fn target(g: &Global) -> Result<Target> {
    let state = match &g.state {
        Some(s) => s.clone(),
        None => cryo_default_state()
            .context("no state directory: set --state, $CRYO_STATE, $XDG_STATE_HOME or $HOME")?,
    };
    let state = if state.is_absolute() {
        state
    } else {
        std::env::current_dir()?.join(state)
    };
    let socket = g.socket.clone().unwrap_or_else(|| state.join("cryod.sock"));
    Ok(Target { state, socket })
}

fn cryo_default_state() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|s| !s.is_empty()) {
        return Some(PathBuf::from(x).join("cryo"));
    }
    std::env::var_os("HOME")
        .filter(|s| !s.is_empty())
        .map(|h| PathBuf::from(h).join(".local/state/cryo"))
}

/// The `cryod` next to this `cryo`, else the one on PATH.
fn cryod_path() -> PathBuf {
    if let Ok(me) = std::env::current_exe() {
        let sibling = me.with_file_name("cryod");
        if sibling.is_file() {
            return sibling;
        }
    }
    PathBuf::from("cryod")
}

/// A connection to a live daemon, starting one if allowed.
pub async fn connect(g: &Global) -> Result<Conn> {
    let t = target(g)?;
    let conn = Conn::new(&t.socket);
    if conn.alive().await {
        return Ok(conn);
    }
    if g.no_autostart {
        bail!(
            "no cryod answers on {} (autostart disabled); start one with `cryod --state {}`",
            t.socket.display(),
            t.state.display()
        );
    }
    start(&t, g.socket.is_some())?;
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if conn.alive().await {
            return Ok(conn);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!(
        "started cryod for {} but it did not answer within {}s; see {}",
        t.state.display(),
        START_TIMEOUT.as_secs(),
        t.state.join("cryod.log").display()
    )
}

fn start(t: &Target, explicit_socket: bool) -> Result<()> {
    std::fs::create_dir_all(&t.state)
        .with_context(|| format!("creating state directory {}", t.state.display()))?;
    let log_path = t.state.join("cryod.log");
    // The log can name users, projects and paths: private to the daemon's user, like
    // every other state file (docs/security.md).
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&log_path)
        .with_context(|| format!("opening {}", log_path.display()))?;
    let mut cmd = Command::new(cryod_path());
    cmd.arg("--state").arg(&t.state);
    if explicit_socket {
        cmd.arg("--socket").arg(&t.socket);
    }
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // Detach from our session so that the daemon outlives this command and its terminal.
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    eprintln!(
        "cryo: starting cryod for {} (log: {})",
        t.state.display(),
        log_path.display()
    );
    cmd.spawn()
        .with_context(|| format!("starting {}", cryod_path().display()))?;
    Ok(())
}

/// Wait until the daemon is gone (after a stop request): its socket stops answering and
/// the process has released the state directory's lock.
pub async fn wait_gone(socket: &Path, state: &Path, timeout: Duration) -> bool {
    let conn = Conn::new(socket);
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !conn.alive().await && lock_free(state) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn lock_free(state: &Path) -> bool {
    match std::fs::File::open(state.join("cryod.lock")) {
        Ok(f) => f.try_lock().is_ok(),
        Err(_) => true,
    }
}
