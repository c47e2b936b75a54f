//! The library side of the sandbox, safe to call from a multi-threaded program: it starts
//! the single-threaded helper process (which does all forking and namespace work), feeds it
//! the job spec, captures the build log with a size cap, and turns the helper's report into
//! an [`Outcome`]. [`KillHandle`] cancels a running job.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::protocol::HelperReport;
use crate::spec::{LogLimitAction, SandboxSpec, SpecError};

/// How a sandboxed command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatusKind {
    /// It exited with this code.
    Exited(i32),
    /// It was killed by this signal.
    Signaled(i32),
    /// The wall-clock limit expired and the whole sandbox was killed.
    TimedOut,
    /// The job wrote nothing to its log for [`crate::Limits::idle_timeout`]; the whole
    /// sandbox was killed.
    IdleTimedOut,
    /// The log limit was reached with [`LogLimitAction::Kill`]; the sandbox was killed.
    OutputLimit,
    /// [`KillHandle::kill`] was called.
    Cancelled,
}

/// The result of one sandboxed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub exit: ExitStatusKind,
    /// stdout and stderr, interleaved, at most `max_log_bytes` plus a truncation notice.
    pub log: Vec<u8>,
    /// True if output was dropped because of the cap (the log ends with a notice).
    pub log_truncated: bool,
    /// Wall-clock time from starting the helper to its end.
    pub duration: Duration,
}

impl Outcome {
    /// True if the command exited with code 0.
    pub fn success(&self) -> bool {
        self.exit == ExitStatusKind::Exited(0)
    }
}

/// Errors of running a sandbox (not of the command inside it: see [`ExitStatusKind`]).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("invalid sandbox spec")]
    InvalidSpec(#[from] SpecError),
    #[error("cannot start the sandbox helper {path}")]
    SpawnHelper {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("i/o with the sandbox helper failed")]
    Io(#[source] std::io::Error),
    #[error("sandbox setup failed: {message}")]
    Setup { message: String },
    #[error("cannot start the command: {message}")]
    Exec { message: String },
    #[error("the sandbox helper ended ({status}) without a valid report: {detail}")]
    HelperFailed {
        status: std::process::ExitStatus,
        detail: String,
    },
}

/// How to start the helper: a program and its arguments (e.g. `cryod` re-executing itself
/// with a hidden argument, or the `cryo-sandbox-helper` binary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl HelperCommand {
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }
}

/// Entry points for running jobs.
pub struct Sandbox;

impl Sandbox {
    /// Runs `spec` to completion with the helper binary `helper_exe`. Blocking.
    pub fn run(spec: &SandboxSpec, helper_exe: &Path) -> Result<Outcome, SandboxError> {
        Self::spawn(spec, &HelperCommand::new(helper_exe))?.wait()
    }

    /// Starts `spec`; use [`RunningSandbox::kill_handle`] to cancel and `wait` to finish.
    pub fn spawn(
        spec: &SandboxSpec,
        helper: &HelperCommand,
    ) -> Result<RunningSandbox, SandboxError> {
        Self::spawn_observed(spec, helper, None)
    }

    /// Like [`Sandbox::spawn`], and `observer` sees the kill handle once the job started
    /// and every chunk of the log (within the cap) as it is produced.
    pub fn spawn_observed(
        spec: &SandboxSpec,
        helper: &HelperCommand,
        observer: Option<Arc<dyn JobObserver>>,
    ) -> Result<RunningSandbox, SandboxError> {
        spec.validate()?;
        let json = serde_json::to_vec(spec).map_err(|e| SandboxError::Io(e.into()))?;
        let started = Instant::now();
        let mut cmd = Command::new(&helper.program);
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: only async-signal-safe calls between fork and exec. The helper dies with
        // the thread that started it (which waits for it), and with the helper the
        // sandbox's init and its whole pid namespace (init's own PR_SET_PDEATHSIG): a build
        // never outlives a killed daemon. The parent check closes the race with a parent
        // that died before the prctl.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let mut child = cmd
            .args(&helper.args)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| SandboxError::SpawnHelper {
                path: helper.program.clone(),
                source,
            })?;
        // The helper cannot be reaped before `wait`, so its pid stays valid here.
        let killer = KillHandle::open(child.id());
        let (Some(mut stdin), Some(stderr)) = (child.stdin.take(), child.stderr.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SandboxError::Io(std::io::Error::other(
                "helper pipes missing",
            )));
        };
        let killer = match killer {
            Ok(k) => k,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(SandboxError::Io(e));
            }
        };
        let write = stdin.write_all(&json);
        drop(stdin);
        let policy = LogPolicy {
            cap: spec.limits.max_log_bytes,
            action: spec.limits.on_log_limit,
            idle: spec.limits.idle_timeout,
        };
        let k2 = killer.clone();
        if let Some(o) = &observer {
            o.started(&killer);
        }
        let log_thread =
            std::thread::spawn(move || capture_log(stderr, policy, &k2, observer.as_deref()));
        let running = RunningSandbox {
            child,
            killer,
            log_thread,
            started,
        };
        if let Err(e) = write {
            // The helper ended before reading its spec (e.g. a wrapper like setpriv failed):
            // its own report or log says more than our broken pipe.
            return match running.wait() {
                Err(helper_err) => Err(helper_err),
                Ok(_) => Err(SandboxError::Io(e)),
            };
        }
        Ok(running)
    }
}

/// Watches a job while it runs (e.g. a daemon streaming a build log to a user, or offering
/// to abort it). Called from the sandbox's log thread: keep it quick.
pub trait JobObserver: Send + Sync {
    /// The job started; `kill` cancels it.
    fn started(&self, kill: &KillHandle);
    /// A chunk of the job's log, in order.
    fn log(&self, chunk: &[u8]);
}

#[repr(u8)]
#[derive(Clone, Copy)]
enum KillReason {
    None = 0,
    Cancelled = 1,
    OutputLimit = 2,
    Idle = 3,
}

/// Cancels a running sandbox: the helper is killed, and with it (parent-death signal) the
/// sandbox's init and thus every process in its pid namespace. Cheap to clone.
#[derive(Debug, Clone)]
pub struct KillHandle {
    inner: Arc<KillInner>,
}

#[derive(Debug)]
struct KillInner {
    pidfd: OwnedFd,
    reason: AtomicU8,
}

impl KillHandle {
    fn open(pid: u32) -> std::io::Result<Self> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this fd to us; nothing else owns it.
        let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        Ok(Self {
            inner: Arc::new(KillInner {
                pidfd,
                reason: AtomicU8::new(KillReason::None as u8),
            }),
        })
    }

    /// Kills the sandbox; its outcome becomes [`ExitStatusKind::Cancelled`]. Idempotent, and
    /// harmless after the job ended (a pidfd never refers to a recycled pid).
    pub fn kill(&self) {
        self.kill_for(KillReason::Cancelled);
    }

    fn kill_for(&self, reason: KillReason) {
        let _ =
            self.inner
                .reason
                .compare_exchange(0, reason as u8, Ordering::SeqCst, Ordering::SeqCst);
        // SAFETY: pidfd_send_signal on an fd we own; a null siginfo is allowed.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.inner.pidfd.as_raw_fd(),
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            );
        }
    }

    fn reason(&self) -> u8 {
        self.inner.reason.load(Ordering::SeqCst)
    }
}

/// A started job.
pub struct RunningSandbox {
    child: Child,
    killer: KillHandle,
    log_thread: JoinHandle<std::io::Result<(Vec<u8>, bool)>>,
    started: Instant,
}

impl RunningSandbox {
    /// A handle that can kill this job from another thread.
    pub fn kill_handle(&self) -> KillHandle {
        self.killer.clone()
    }

    /// Waits for the job to end and collects its outcome.
    pub fn wait(mut self) -> Result<Outcome, SandboxError> {
        let mut report = Vec::new();
        let read = match self.child.stdout.take() {
            Some(mut out) => out.read_to_end(&mut report).map(|_| ()),
            None => Ok(()),
        };
        let status = self.child.wait().map_err(SandboxError::Io)?;
        let duration = self.started.elapsed();
        let (log, log_truncated) = self
            .log_thread
            .join()
            .map_err(|_| SandboxError::Io(std::io::Error::other("log reader panicked")))?
            .map_err(SandboxError::Io)?;
        read.map_err(SandboxError::Io)?;
        let forced = match self.killer.reason() {
            r if r == KillReason::Cancelled as u8 => Some(ExitStatusKind::Cancelled),
            r if r == KillReason::OutputLimit as u8 => Some(ExitStatusKind::OutputLimit),
            r if r == KillReason::Idle as u8 => Some(ExitStatusKind::IdleTimedOut),
            _ => None,
        };
        let exit = match (forced, serde_json::from_slice::<HelperReport>(&report)) {
            (Some(kind), _) => kind,
            (None, Ok(HelperReport::Exited { code })) => ExitStatusKind::Exited(code),
            (None, Ok(HelperReport::Signaled { signal })) => ExitStatusKind::Signaled(signal),
            (None, Ok(HelperReport::TimedOut)) => ExitStatusKind::TimedOut,
            (None, Ok(HelperReport::SetupFailed { message })) => {
                return Err(SandboxError::Setup { message })
            }
            (None, Ok(HelperReport::ExecFailed { message })) => {
                return Err(SandboxError::Exec { message })
            }
            (None, Err(e)) => {
                let tail =
                    String::from_utf8_lossy(&log[log.len().saturating_sub(2000)..]).into_owned();
                let detail = format!("{e}; log tail: {tail}");
                return Err(SandboxError::HelperFailed { status, detail });
            }
        };
        Ok(Outcome {
            exit,
            log,
            log_truncated,
            duration,
        })
    }
}

/// How the log is captured: its cap, what reaching it does, and the inactivity limit.
#[derive(Clone, Copy)]
struct LogPolicy {
    cap: u64,
    action: LogLimitAction,
    idle: Option<Duration>,
}

/// Waits until `r` is readable or `idle` passes without output; false on inactivity.
fn wait_readable(r: &ChildStderr, idle: Option<Duration>) -> std::io::Result<bool> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let Some(idle) = idle else { return Ok(true) };
    let deadline = Instant::now() + idle;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        let ms = left.min(Duration::from_secs(3600)).as_millis().max(1);
        let timeout = PollTimeout::try_from(ms as i32).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(r.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => return Ok(true),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Reads the log pipe to its end, keeping at most `cap` bytes; the rest is read and dropped
/// so the writers never block. With an inactivity limit, a pipe silent for that long gets
/// the sandbox killed (reading continues to the end the kill brings).
fn capture_log(
    mut r: ChildStderr,
    policy: LogPolicy,
    killer: &KillHandle,
    observer: Option<&dyn JobObserver>,
) -> std::io::Result<(Vec<u8>, bool)> {
    let LogPolicy { cap, action, idle } = policy;
    let mut idle = idle;
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let mut log = Vec::new();
    let mut dropped: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if !wait_readable(&r, idle)? {
            killer.kill_for(KillReason::Idle);
            idle = None;
            continue;
        }
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let keep = n.min(cap.saturating_sub(log.len()));
        log.extend_from_slice(&buf[..keep]);
        if let (Some(o), true) = (observer, keep > 0) {
            o.log(&buf[..keep]);
        }
        if keep < n {
            if dropped == 0 && action == LogLimitAction::Kill {
                killer.kill_for(KillReason::OutputLimit);
            }
            dropped += (n - keep) as u64;
        }
    }
    if dropped > 0 {
        let note = format!("\n[cryo-sandbox: log truncated at {cap} bytes; {dropped} further bytes were dropped]\n");
        log.extend_from_slice(note.as_bytes());
    }
    Ok((log, dropped > 0))
}
