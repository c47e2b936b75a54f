//! The sandbox job specification: what the caller asks for (root filesystem, mounts, the
//! command with its exact environment and credentials, limits), serialised as JSON to the
//! helper process, plus its validation. Nothing here is Debian-specific.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::idmap::IdMapping;

/// Default hostname seen inside the sandbox.
pub const DEFAULT_HOSTNAME: &str = "cryo-build";

/// Errors found while validating a [`SandboxSpec`].
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("the command line is empty")]
    EmptyCommand,
    #[error("argument {index} contains a NUL byte")]
    NulInArgument { index: usize },
    #[error("invalid environment variable name {0:?}")]
    BadEnvName(String),
    #[error("environment variable {0} has a value containing a NUL byte")]
    NulInEnvValue(String),
    #[error("{what} must be an absolute path without `..`: {path}")]
    BadPath { what: &'static str, path: PathBuf },
    #[error("overlay path {0} contains `,`, `:` or `\\`, which overlayfs options cannot carry")]
    BadOverlayPath(PathBuf),
    #[error("invalid hostname {0:?} (1-64 characters of [A-Za-z0-9.-])")]
    BadHostname(String),
    #[error("umask {0:#o} is not a permission mask")]
    BadUmask(u32),
    #[error("bind mount target {0} is reserved by the sandbox")]
    ReservedTarget(PathBuf),
}

/// The build root the command sees as `/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RootFs {
    /// A read-only, shared `lower` directory with a private copy-on-write view: overlayfs
    /// (mounted inside the user namespace with `userxattr`) whose `upper` and `work`
    /// directories belong to this job alone. `lower` is never written.
    Overlay {
        lower: PathBuf,
        upper: PathBuf,
        work: PathBuf,
    },
    /// The directory itself is the root and is written directly (creating or configuring a
    /// root, e.g. installing packages with dpkg inside).
    Writable { dir: PathBuf },
}

/// An owner given as ids INSIDE the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

/// A host directory or file made visible inside the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindMount {
    /// Absolute host path.
    pub source: PathBuf,
    /// Absolute path inside the sandbox; missing directories are created.
    pub target: PathBuf,
    /// Read-write if true, read-only otherwise.
    pub writable: bool,
    /// If set, the top-level `source` is chowned to this inside owner before the job runs
    /// (e.g. an output directory for the uid-1000 build user).
    #[serde(default)]
    pub owner: Option<Owner>,
}

/// The command run inside the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandSpec {
    /// argv; `argv[0]` without a `/` is looked up in the given `PATH` (or `/usr/bin:/bin`).
    pub argv: Vec<String>,
    /// The exact environment: nothing else is inherited.
    pub env: BTreeMap<String, String>,
    /// Working directory inside the sandbox.
    pub cwd: PathBuf,
    /// uid inside the sandbox.
    pub uid: u32,
    /// gid inside the sandbox.
    pub gid: u32,
    /// Supplementary groups inside the sandbox (ignored with a single-id mapping).
    #[serde(default)]
    pub groups: Vec<u32>,
    /// File mode creation mask, e.g. `0o022`.
    pub umask: u32,
}

/// What happens when the log reaches [`Limits::max_log_bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLimitAction {
    /// Keep running; further output is read and dropped, the log says it was truncated.
    #[default]
    Truncate,
    /// Kill the sandbox and report [`crate::ExitStatusKind::OutputLimit`].
    Kill,
}

/// Resource limits. `None` keeps the limit inherited from the helper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Wall-clock limit; the whole pid namespace is killed when it expires.
    pub timeout: Option<Duration>,
    /// Inactivity limit (sbuild's "stalled package" timeout): when the job writes nothing to
    /// its log for this long, the whole pid namespace is killed
    /// ([`crate::ExitStatusKind::IdleTimedOut`]). Watched by the library side, which reads
    /// the log.
    pub idle_timeout: Option<Duration>,
    /// RLIMIT_NPROC (counted per outside uid, so shared by sandboxes using the same ids).
    pub max_processes: Option<u64>,
    /// RLIMIT_FSIZE in bytes.
    pub max_file_size: Option<u64>,
    /// RLIMIT_NOFILE.
    pub max_open_files: Option<u64>,
    /// RLIMIT_CORE in bytes. The default 0 means no core files in build directories and,
    /// with a pipe `core_pattern`, tells the host's handler (systemd-coredump, apport) not
    /// to store the dump; the build cannot raise it.
    pub max_core_size: Option<u64>,
    /// Cap on the captured log (stdout and stderr interleaved).
    pub max_log_bytes: u64,
    pub on_log_limit: LogLimitAction,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Some(Duration::from_secs(6 * 3600)),
            idle_timeout: None,
            max_processes: Some(8192),
            max_file_size: Some(64 << 30),
            max_open_files: Some(8192),
            max_core_size: Some(0),
            max_log_bytes: 64 << 20,
            on_log_limit: LogLimitAction::Truncate,
        }
    }
}

/// Landlock policy: reads are unrestricted, writes only where listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LandlockSpec {
    pub enabled: bool,
    /// Make the root view writable. With [`RootFs::Overlay`]: beneath every top-level entry
    /// except `/proc`, `/sys` and `/dev` (which get their own rules), so new top-level
    /// entries cannot be created. With [`RootFs::Writable`]: beneath `/` as a whole.
    pub write_root_view: bool,
    /// More writable paths inside the sandbox (e.g. the build directory).
    pub extra_writable: Vec<PathBuf>,
}

impl Default for LandlockSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            write_root_view: true,
            extra_writable: Vec::new(),
        }
    }
}

/// Everything the helper needs to run one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxSpec {
    pub root: RootFs,
    #[serde(default)]
    pub binds: Vec<BindMount>,
    pub command: CommandSpec,
    #[serde(default = "default_hostname")]
    pub hostname: String,
    #[serde(default)]
    pub id_mapping: IdMapping,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub landlock: LandlockSpec,
}

fn default_hostname() -> String {
    DEFAULT_HOSTNAME.to_owned()
}

impl SandboxSpec {
    /// A spec with default hostname, id mapping, limits and landlock policy.
    pub fn new(root: RootFs, command: CommandSpec) -> Self {
        Self {
            root,
            binds: Vec::new(),
            command,
            hostname: default_hostname(),
            id_mapping: IdMapping::default(),
            limits: Limits::default(),
            landlock: LandlockSpec::default(),
        }
    }

    /// Checks everything that can be checked without touching the file system.
    pub fn validate(&self) -> Result<(), SpecError> {
        match &self.root {
            RootFs::Overlay { lower, upper, work } => {
                for (what, p) in [
                    ("overlay lower", lower),
                    ("overlay upper", upper),
                    ("overlay work", work),
                ] {
                    check_abs(what, p)?;
                    let s = p.as_os_str().as_encoded_bytes();
                    if s.iter().any(|b| matches!(b, b',' | b':' | b'\\')) {
                        return Err(SpecError::BadOverlayPath(p.clone()));
                    }
                }
            }
            RootFs::Writable { dir } => check_abs("root directory", dir)?,
        }
        for b in &self.binds {
            check_abs("bind source", &b.source)?;
            check_abs("bind target", &b.target)?;
            let first = b.target.components().nth(1);
            let reserved = match first {
                None => true,
                Some(Component::Normal(n)) => n == "proc" || n == "dev",
                Some(_) => false,
            };
            if reserved {
                return Err(SpecError::ReservedTarget(b.target.clone()));
            }
        }
        self.command.validate()?;
        for p in &self.landlock.extra_writable {
            check_abs("landlock writable path", p)?;
        }
        let h = &self.hostname;
        let ok = !h.is_empty()
            && h.len() <= 64
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !ok {
            return Err(SpecError::BadHostname(h.clone()));
        }
        Ok(())
    }
}

impl CommandSpec {
    fn validate(&self) -> Result<(), SpecError> {
        if self.argv.is_empty() || self.argv[0].is_empty() {
            return Err(SpecError::EmptyCommand);
        }
        if let Some(index) = self.argv.iter().position(|a| a.contains('\0')) {
            return Err(SpecError::NulInArgument { index });
        }
        for (k, v) in &self.env {
            if k.is_empty() || k.contains('=') || k.contains('\0') {
                return Err(SpecError::BadEnvName(k.clone()));
            }
            if v.contains('\0') {
                return Err(SpecError::NulInEnvValue(k.clone()));
            }
        }
        check_abs("working directory", &self.cwd)?;
        if self.umask > 0o777 {
            return Err(SpecError::BadUmask(self.umask));
        }
        Ok(())
    }
}

fn check_abs(what: &'static str, p: &Path) -> Result<(), SpecError> {
    let bad = !p.is_absolute()
        || p.components().any(|c| matches!(c, Component::ParentDir))
        || p.as_os_str().as_encoded_bytes().contains(&0);
    if bad {
        return Err(SpecError::BadPath {
            what,
            path: p.to_path_buf(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SandboxSpec {
        SandboxSpec::new(
            RootFs::Writable { dir: "/r".into() },
            CommandSpec {
                argv: vec!["true".into()],
                env: BTreeMap::new(),
                cwd: "/".into(),
                uid: 0,
                gid: 0,
                groups: vec![],
                umask: 0o022,
            },
        )
    }

    #[test]
    fn valid_spec_roundtrips_through_json() {
        let s = spec();
        s.validate().unwrap();
        let json = serde_json::to_string(&s).unwrap();
        let back: SandboxSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.hostname, "cryo-build");
    }

    #[test]
    fn rejects_bad_specs() {
        let mut s = spec();
        s.command.argv.clear();
        assert!(matches!(s.validate(), Err(SpecError::EmptyCommand)));
        let mut s = spec();
        s.command.env.insert("A=B".into(), "x".into());
        assert!(matches!(s.validate(), Err(SpecError::BadEnvName(_))));
        let mut s = spec();
        s.command.cwd = "rel".into();
        assert!(matches!(s.validate(), Err(SpecError::BadPath { .. })));
        let mut s = spec();
        s.root = RootFs::Overlay {
            lower: "/a,b".into(),
            upper: "/u".into(),
            work: "/w".into(),
        };
        assert!(matches!(s.validate(), Err(SpecError::BadOverlayPath(_))));
        let mut s = spec();
        s.hostname = "bad host".into();
        assert!(matches!(s.validate(), Err(SpecError::BadHostname(_))));
        let mut s = spec();
        s.binds.push(BindMount {
            source: "/x".into(),
            target: "/proc/x".into(),
            writable: false,
            owner: None,
        });
        assert!(matches!(s.validate(), Err(SpecError::ReservedTarget(_))));
        let mut s = spec();
        s.command.umask = 0o1777;
        assert!(matches!(s.validate(), Err(SpecError::BadUmask(_))));
    }
}
