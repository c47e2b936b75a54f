//! The helper process (`helper_main`): single-threaded, so it may fork and unshare freely.
//! It reads the job spec on stdin, fixes ownership of the job's writable directories, clones
//! a child into new user/mount/pid/net/ipc/uts/cgroup namespaces, installs the id maps for it,
//! enforces the wall-clock limit (killing the pid namespace's init kills everything in it),
//! and writes one [`HelperReport`] as JSON on stdout. The child is the namespace's init: see
//! `init`. The command's log goes to the helper's stderr, which the library captures.

mod exec;
mod init;
mod mounts;

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use crate::idmap::{IdMapError, MapWriter, ResolvedIdMap};
use crate::protocol::HelperReport;
use crate::spec::{Owner, RootFs, SandboxSpec, SpecError};

/// Errors inside the helper; they reach the library as text in the report.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HelperError {
    #[error("cannot read the job spec from stdin")]
    ReadSpec(#[source] std::io::Error),
    #[error("invalid job spec JSON")]
    ParseSpec(#[source] serde_json::Error),
    #[error("invalid job spec")]
    Spec(#[from] SpecError),
    #[error("user namespace id mapping")]
    IdMap(#[from] IdMapError),
    #[error("{what}")]
    Sys { what: String, source: Errno },
    #[error("{what}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

/// Context helpers for `nix` and `std::io` results.
pub(crate) trait Ctx<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, HelperError>;
}

impl<T> Ctx<T> for Result<T, Errno> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, HelperError> {
        self.map_err(|source| HelperError::Sys {
            what: what(),
            source,
        })
    }
}

impl<T> Ctx<T> for Result<T, std::io::Error> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, HelperError> {
        self.map_err(|source| HelperError::Io {
            what: what(),
            source,
        })
    }
}

/// The error and all its sources, joined with `: `.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Entry point of the sandbox helper process: call it from `main` of a binary (or of `cryod`
/// re-executed with a hidden argument). Reads the [`SandboxSpec`] as JSON on stdin, runs the
/// job, writes the report as JSON on stdout, the command's output goes to stderr. Must be
/// called while the process is still single-threaded.
pub fn helper_main() -> ! {
    let report = match run_outer() {
        Ok(r) => r,
        Err(e) => HelperReport::SetupFailed { message: chain(&e) },
    };
    let mut out = std::io::stdout().lock();
    let ok = serde_json::to_writer(&mut out, &report).is_ok() && out.flush().is_ok();
    std::process::exit(if ok { 0 } else { 2 })
}

fn run_outer() -> Result<HelperReport, HelperError> {
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .map_err(HelperError::ReadSpec)?;
    let spec: SandboxSpec = serde_json::from_slice(&input).map_err(HelperError::ParseSpec)?;
    spec.validate()?;
    let map = spec.id_mapping.resolve_for_current_process()?;
    if nix::unistd::geteuid().is_root() {
        for (path, owner) in ownership_fixes(&spec) {
            let uid = map.outside_uid(owner.uid).unwrap_or(map.uid[0].outside);
            let gid = map.outside_gid(owner.gid).unwrap_or(map.gid[0].outside);
            std::os::unix::fs::lchown(&path, Some(uid), Some(gid))
                .ctx(|| format!("chown {} to {uid}:{gid}", path.display()))?;
        }
    }
    let (sync_r, sync_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).ctx(|| "pipe".into())?;
    let (rep_r, rep_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).ctx(|| "pipe".into())?;
    let flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS
        // Hides the host's cgroup paths (`/proc/self/cgroup` shows `/`).
        | libc::CLONE_NEWCGROUP;
    // SAFETY: a fork-like clone (no new stack, no CLONE_VM) in a single-threaded process:
    // the child gets a private copy of the address space, as with fork(2).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if ret < 0 {
        return Err(HelperError::Sys {
            what: "clone into new user/mount/pid/net/ipc/uts/cgroup namespaces".into(),
            source: Errno::last(),
        });
    }
    if ret == 0 {
        drop(sync_w);
        drop(rep_r);
        let code = init::child_main(&spec, &map, sync_r, rep_w);
        // SAFETY: _exit never returns; skips atexit handlers that belong to the parent.
        unsafe { libc::_exit(code) }
    }
    drop(sync_r);
    drop(rep_w);
    let pid = Pid::from_raw(ret as libc::pid_t);
    let started = Instant::now();
    if let Err(e) = map.apply(pid.as_raw() as u32) {
        let _ = kill(pid, Signal::SIGKILL);
        let _ = waitpid(pid, None);
        return Err(e.into());
    }
    nix::unistd::write(&sync_w, b"1").ctx(|| "signalling the sandbox init".into())?;
    // `sync_w` stays open until init is reaped: init watches it for our death.
    let timed_out = wait_exit(pid, spec.limits.timeout.map(|t| started + t))?;
    if timed_out {
        let _ = kill(pid, Signal::SIGKILL);
    }
    let status = loop {
        match waitpid(pid, None) {
            Err(Errno::EINTR) => continue,
            other => break other.ctx(|| "waiting for the sandbox init".into())?,
        }
    };
    drop(sync_w);
    if timed_out {
        return Ok(HelperReport::TimedOut);
    }
    let mut report = Vec::new();
    std::fs::File::from(rep_r)
        .read_to_end(&mut report)
        .ctx(|| "reading the init report".into())?;
    match serde_json::from_slice(&report) {
        Ok(r) => Ok(r),
        Err(_) => Err(HelperError::Other(format!(
            "the sandbox init ended without a report: {status:?}"
        ))),
    }
}

/// Waits until `pid` exits or `deadline` passes; true if the deadline passed.
fn wait_exit(pid: Pid, deadline: Option<Instant>) -> Result<bool, HelperError> {
    // SAFETY: pidfd_open takes a pid and flags; returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(HelperError::Sys {
            what: "pidfd_open".into(),
            source: Errno::last(),
        });
    }
    // SAFETY: fresh fd from the kernel, owned by nobody else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    loop {
        let left = match deadline {
            None => PollTimeout::NONE,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(true);
                }
                let ms = left.min(Duration::from_secs(3600)).as_millis().max(1);
                PollTimeout::try_from(ms as i32).unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, left) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => return Ok(false),
            Err(source) => {
                return Err(HelperError::Sys {
                    what: format!("poll pidfd {}", pidfd.as_raw_fd()),
                    source,
                })
            }
        }
    }
}

/// Directories whose top level must belong to a given inside owner before the job runs.
fn ownership_fixes(spec: &SandboxSpec) -> Vec<(PathBuf, Owner)> {
    let root = Owner { uid: 0, gid: 0 };
    let mut v = match &spec.root {
        RootFs::Overlay { upper, work, .. } => vec![(upper.clone(), root), (work.clone(), root)],
        RootFs::Writable { dir } => vec![(dir.clone(), root)],
    };
    v.extend(
        spec.binds
            .iter()
            .filter_map(|b| Some((b.source.clone(), b.owner?))),
    );
    v
}

/// Applies [`ownership_fixes`] from inside the namespace (unprivileged helper: the caller's
/// own ids are mapped, so root inside may chown the caller's directories).
pub(crate) fn fix_ownership_inside(
    spec: &SandboxSpec,
    map: &ResolvedIdMap,
) -> Result<(), HelperError> {
    if map.writer != MapWriter::NewIdMap {
        return Ok(());
    }
    for (path, owner) in ownership_fixes(spec) {
        std::os::unix::fs::lchown(&path, Some(owner.uid), Some(owner.gid)).ctx(|| {
            format!(
                "chown {} to {}:{} inside the namespace",
                path.display(),
                owner.uid,
                owner.gid
            )
        })?;
    }
    Ok(())
}
