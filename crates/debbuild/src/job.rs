//! Small shared helpers for the sandbox jobs the builder starts: one place that fills a
//! [`SandboxSpec`] the same way for root preparation and builds, runs it and keeps the log.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cryo_sandbox::{
    CommandSpec, ExitStatusKind, HelperCommand, JobObserver, RootFs, Sandbox, SandboxError,
    SandboxSpec,
};

/// `PATH` inside every job (the one sbuild and Debian's build daemons use).
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How one job ended.
pub(crate) struct JobLog {
    pub exit: ExitStatusKind,
    pub log: Vec<u8>,
    pub truncated: bool,
    pub duration: Duration,
}

/// A job with the sandbox's default limits, id mapping and landlock policy.
pub(crate) fn spec(
    root: RootFs,
    argv: impl IntoIterator<Item = String>,
    env: BTreeMap<String, String>,
    cwd: &str,
    (uid, gid): (u32, u32),
    umask: u32,
) -> SandboxSpec {
    SandboxSpec::new(
        root,
        CommandSpec {
            argv: argv.into_iter().collect(),
            env,
            cwd: PathBuf::from(cwd),
            uid,
            gid,
            groups: Vec::new(),
            umask,
        },
    )
}

/// Runs `spec` to completion (blocking).
pub(crate) fn run(spec: &SandboxSpec, helper: &HelperCommand) -> Result<JobLog, SandboxError> {
    run_observed(spec, helper, None)
}

/// Runs `spec` to completion (blocking), `observer` watching.
pub(crate) fn run_observed(
    spec: &SandboxSpec,
    helper: &HelperCommand,
    observer: Option<Arc<dyn JobObserver>>,
) -> Result<JobLog, SandboxError> {
    let out = Sandbox::spawn_observed(spec, helper, observer)?.wait()?;
    Ok(JobLog {
        exit: out.exit,
        log: out.log,
        truncated: out.log_truncated,
        duration: out.duration,
    })
}

/// The last few kilobytes of a log, as text, for error messages.
pub(crate) fn tail(log: &[u8]) -> String {
    let start = log.len().saturating_sub(3000);
    String::from_utf8_lossy(&log[start..]).into_owned()
}
