//! The command process (forked by init, after `pivot_root`): a new session, stdin from
//! `/dev/null` and stdout+stderr on the log pipe, umask, rlimits, the requested credentials,
//! `no_new_privs`, landlock (writes only where allowed), the working directory, and finally
//! `execve` with exactly the given environment.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use landlock::{path_beneath_rules, AccessFs, Ruleset, RulesetAttr, RulesetCreatedAttr, ABI};
use nix::errno::Errno;
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};

use super::mounts::DEV_NODES;
use super::{Ctx, HelperError};
use crate::idmap::ResolvedIdMap;
use crate::spec::{RootFs, SandboxSpec};

/// Search path used when the environment has no `PATH` (as execvp does).
const DEFAULT_PATH: &str = "/usr/bin:/bin";

/// Everything the command process needs, computed before forking.
pub(super) struct Prepared {
    argv: Vec<CString>,
    env: Vec<CString>,
    /// Executables to try, in order.
    candidates: Vec<CString>,
    search: String,
    writable: Vec<PathBuf>,
    setgroups: bool,
}

fn cstr(s: &[u8], what: &str) -> Result<CString, HelperError> {
    CString::new(s).map_err(|_| HelperError::Other(format!("{what} contains a NUL byte")))
}

impl Prepared {
    pub(super) fn new(spec: &SandboxSpec, map: &ResolvedIdMap) -> Result<Self, HelperError> {
        let c = &spec.command;
        let argv = c
            .argv
            .iter()
            .map(|a| cstr(a.as_bytes(), "argument"))
            .collect::<Result<Vec<_>, _>>()?;
        let env = c
            .env
            .iter()
            .map(|(k, v)| cstr(format!("{k}={v}").as_bytes(), "environment"))
            .collect::<Result<Vec<_>, _>>()?;
        let prog = &c.argv[0];
        let (candidates, search) = if prog.contains('/') {
            (vec![cstr(prog.as_bytes(), "program")?], String::new())
        } else {
            let path = c
                .env
                .get("PATH")
                .map(String::as_str)
                .unwrap_or(DEFAULT_PATH);
            let cands = path
                .split(':')
                .filter(|d| !d.is_empty())
                .map(|d| cstr(format!("{d}/{prog}").as_bytes(), "PATH entry"))
                .collect::<Result<Vec<_>, _>>()?;
            (cands, format!(" in PATH={path}"))
        };
        let mut writable: Vec<PathBuf> = ["/tmp", "/dev/pts", "/dev/shm", "/dev/ptmx"]
            .iter()
            .map(PathBuf::from)
            .collect();
        writable.extend(DEV_NODES.iter().map(|n| Path::new("/dev").join(n)));
        writable.extend(
            spec.binds
                .iter()
                .filter(|b| b.writable)
                .map(|b| b.target.clone()),
        );
        writable.extend(spec.landlock.extra_writable.iter().cloned());
        if spec.landlock.write_root_view && matches!(spec.root, RootFs::Writable { .. }) {
            // Configuring a root may create top-level entries (bootstrapping into an empty
            // directory), which needs write rights on `/` itself and so beneath all of it.
            writable.push(PathBuf::from("/"));
        } else if spec.landlock.write_root_view {
            for e in std::fs::read_dir("/").ctx(|| "list the root view".into())? {
                let name = e.ctx(|| "list the root view".into())?.file_name();
                if !matches!(name.as_bytes(), b"proc" | b"sys" | b"dev") {
                    writable.push(Path::new("/").join(name));
                }
            }
        }
        Ok(Self {
            argv,
            env,
            candidates,
            search,
            writable,
            setgroups: map.setgroups_allowed,
        })
    }
}

/// Turns this process into the command. Returns only on failure.
pub(super) fn run_command(spec: &SandboxSpec, p: &Prepared) -> HelperError {
    match setup(spec, p) {
        Ok(()) => exec(spec, p),
        Err(e) => e,
    }
}

fn setup(spec: &SandboxSpec, p: &Prepared) -> Result<(), HelperError> {
    let c = &spec.command;
    reset_signals()?;
    nix::unistd::setsid().ctx(|| "setsid".into())?;
    let null = std::fs::File::open("/dev/null").ctx(|| "open /dev/null".into())?;
    nix::unistd::dup2_stdin(&null).ctx(|| "dup2 stdin".into())?;
    nix::unistd::dup2_stdout(std::io::stderr()).ctx(|| "dup2 stdout".into())?;
    drop(null);
    // SAFETY: close_range only flags descriptors; nothing in this process uses fds >= 3
    // after exec, and our own error pipe is already close-on-exec.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    nix::sys::stat::umask(Mode::from_bits_truncate(c.umask as libc::mode_t));
    let l = &spec.limits;
    for (res, v) in [
        (Resource::RLIMIT_NPROC, l.max_processes),
        (Resource::RLIMIT_FSIZE, l.max_file_size),
        (Resource::RLIMIT_NOFILE, l.max_open_files),
        (Resource::RLIMIT_CORE, l.max_core_size),
    ] {
        if let Some(v) = v {
            let (_, hard) = getrlimit(res).ctx(|| format!("getrlimit {res:?}"))?;
            let v = v.min(hard);
            setrlimit(res, v, v).ctx(|| format!("setrlimit {res:?} {v}"))?;
        }
    }
    if p.setgroups {
        let groups: Vec<Gid> = c.groups.iter().map(|g| Gid::from_raw(*g)).collect();
        nix::unistd::setgroups(&groups).ctx(|| format!("setgroups {:?}", c.groups))?;
    }
    let (uid, gid) = (Uid::from_raw(c.uid), Gid::from_raw(c.gid));
    nix::unistd::setresgid(gid, gid, gid).ctx(|| format!("setresgid {} (is it mapped?)", c.gid))?;
    nix::unistd::setresuid(uid, uid, uid).ctx(|| format!("setresuid {} (is it mapped?)", c.uid))?;
    nix::sys::prctl::set_no_new_privs().ctx(|| "no_new_privs".into())?;
    if spec.landlock.enabled {
        restrict_writes(&p.writable)?;
    }
    nix::unistd::chdir(&c.cwd).ctx(|| format!("working directory {}", c.cwd.display()))?;
    Ok(())
}

/// Default dispositions and an empty mask: ignored signals survive exec, and Rust's
/// runtime ignores SIGPIPE, which would make `yes | head` style pipelines misbehave.
fn reset_signals() -> Result<(), HelperError> {
    use nix::sys::signal::{signal, sigprocmask, SigHandler, SigSet, SigmaskHow, Signal};
    for sig in Signal::iterator() {
        if !matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
            // SAFETY: installing SIG_DFL has no handler code to be unsafe about.
            unsafe { signal(sig, SigHandler::SigDfl) }.ctx(|| format!("reset {sig}"))?;
        }
    }
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .ctx(|| "sigprocmask".into())?;
    Ok(())
}

/// Landlock, best effort for the running kernel's ABI: reads stay unrestricted (they are
/// not handled), every write right is denied except beneath `writable`.
fn restrict_writes(writable: &[PathBuf]) -> Result<(), HelperError> {
    let abi = ABI::V6;
    let err = |e: landlock::RulesetError| HelperError::Other(format!("landlock: {e}"));
    Ruleset::default()
        .handle_access(AccessFs::from_write(abi))
        .map_err(err)?
        .create()
        .map_err(err)?
        .add_rules(path_beneath_rules(writable, AccessFs::from_write(abi)))
        .map_err(err)?
        .restrict_self()
        .map_err(err)?;
    Ok(())
}

fn exec(spec: &SandboxSpec, p: &Prepared) -> HelperError {
    let prog = &spec.command.argv[0];
    let mut denied = None;
    for cand in &p.candidates {
        let Err(e) = nix::unistd::execve(cand, &p.argv, &p.env);
        match e {
            Errno::ENOENT | Errno::ENOTDIR => continue,
            Errno::EACCES => denied = Some(cand.to_string_lossy().into_owned()),
            other => {
                return HelperError::Sys {
                    what: format!("execve {}", cand.to_string_lossy()),
                    source: other,
                };
            }
        }
    }
    match denied {
        Some(path) => HelperError::Other(format!(
            "command `{prog}`: permission denied executing {path}"
        )),
        None => HelperError::Other(format!("command `{prog}` not found{}", p.search)),
    }
}
