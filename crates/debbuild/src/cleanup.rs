//! Removing build roots and work directories. A root daemon deletes them directly; an
//! unprivileged daemon cannot, because sandbox jobs wrote them with ids of its subordinate
//! range. It runs `rm -rf` as uid 0 inside a writable-root sandbox job on a configured root
//! (the "tools root", which the job does not modify) with the tree bind-mounted under
//! `/tmp`, hands the emptied top directory back to itself there, and removes what is left
//! (the top directory and the empty mount points of a root removing itself) from outside.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cryo_sandbox::{BindMount, ExitStatusKind, HelperCommand, RootFs, SandboxError};

use crate::job;
use crate::manifest::SANDBOX_MOUNTS;

/// Inside the removal job, where the tree to remove is bind-mounted (on the job's tmpfs, so
/// the tools root gets no mount point).
const TARGET: &str = "/tmp/cryo-remove";
/// Wall-clock limit of a removal job.
const REMOVE_TIMEOUT: Duration = Duration::from_secs(3600);

/// Errors of [`remove_tree`].
#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    #[error("{0} is not an absolute path")]
    Relative(PathBuf),
    #[error("i/o error on {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds files of the sandbox's ids besides its tools root {tools_root}, which is gone now")]
    NoTools { path: PathBuf, tools_root: PathBuf },
    #[error("the removal job for {path} could not run")]
    Sandbox { path: PathBuf, source: SandboxError },
    #[error(
        "the removal job for {path} failed ({exit:?}); log tail:\n{}",
        job::tail(log)
    )]
    Failed {
        path: PathBuf,
        exit: ExitStatusKind,
        log: Vec<u8>,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CleanupError + '_ {
    move |source| CleanupError::Io {
        path: path.into(),
        source,
    }
}

/// Removes `path` (a build root, a build's work directory, or a directory holding them)
/// and everything in it; a missing `path` is fine. As root this is `remove_dir_all`.
/// Otherwise, unless every directory in the tree belongs to the daemon (e.g. a root whose
/// host-side unpacking failed), the contents are removed by a sandbox job on
/// `tools_root`, a configured root providing `sh` and `rm`: any root, `path` itself when
/// removing a root, or a root inside `path` (it is removed first, by itself; what is left
/// must then belong to the daemon). `path`'s parent must be writable by the daemon.
/// Blocking.
pub fn remove_tree(
    path: &Path,
    tools_root: &Path,
    helper: &HelperCommand,
) -> Result<(), CleanupError> {
    if !path.is_absolute() {
        return Err(CleanupError::Relative(path.into()));
    }
    let md = match std::fs::symlink_metadata(path) {
        Ok(md) => md,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(path)(e)),
    };
    if !md.is_dir() {
        return std::fs::remove_file(path).map_err(io(path));
    }
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        if !owned_tree(path, euid) {
            let canon = |p: &Path| std::fs::canonicalize(p).map_err(io(p));
            let (p, t) = (canon(path)?, canon(tools_root)?);
            if t != p && t.starts_with(&p) {
                // A job on the tools root cannot remove the tools root's own mounts from
                // above: the root goes first, from inside itself.
                remove_tree(&t, &t, helper)?;
                if !owned_tree(path, euid) {
                    return Err(CleanupError::NoTools {
                        path: path.into(),
                        tools_root: tools_root.into(),
                    });
                }
            } else {
                run_removal_job(path, tools_root, helper)?;
            }
        }
        make_writable(path, euid)?;
    }
    std::fs::remove_dir_all(path).map_err(io(path))
}

/// True if every directory under `path` is readable and belongs to `uid`.
fn owned_tree(path: &Path, uid: u32) -> bool {
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(md) = std::fs::symlink_metadata(&p) else {
            return false;
        };
        if !md.is_dir() {
            continue;
        }
        if md.uid() != uid {
            return false;
        }
        let Ok(rd) = std::fs::read_dir(&p) else {
            return false;
        };
        for e in rd {
            let Ok(e) = e else { return false };
            stack.push(e.path());
        }
    }
    true
}

/// Gives `u+rwx` to the directories under `path` that belong to `uid` and lack it (only
/// then can their entries be removed); others are left alone.
fn make_writable(path: &Path, uid: u32) -> Result<(), CleanupError> {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let md = std::fs::symlink_metadata(&p).map_err(io(&p))?;
        if !md.is_dir() || md.uid() != uid {
            continue;
        }
        if md.mode() & 0o700 != 0o700 {
            let mode = std::fs::Permissions::from_mode(md.mode() & 0o7777 | 0o700);
            std::fs::set_permissions(&p, mode).map_err(io(&p))?;
        }
        for e in std::fs::read_dir(&p).map_err(io(&p))? {
            stack.push(e.map_err(io(&p))?.path());
        }
    }
    Ok(())
}

/// The in-sandbox half: the top directory goes back to the daemon (inside
/// `CALLER_ID_INSIDE`), then everything in it is removed except, when the tree is the
/// tools root itself, the sandbox's own mount points (busy; empty in a root).
fn run_removal_job(
    path: &Path,
    tools_root: &Path,
    helper: &HelperCommand,
) -> Result<(), CleanupError> {
    let canon = |p: &Path| std::fs::canonicalize(p).map_err(io(p));
    let is_self = canon(path)? == canon(tools_root)?;
    let skip = if is_self {
        SANDBOX_MOUNTS.join(" ")
    } else {
        String::new()
    };
    // The owner is changed first: when a root removes itself, `chown` is gone afterwards.
    let script = r#"set -eu
cd "$1"
chown "$2:$2" .
chmod u+rwx .
set --
for e in * .[!.]* ..?*; do
  if [ ! -e "$e" ] && [ ! -L "$e" ]; then continue; fi
  case " $CRYO_SKIP " in *" $e "*) continue ;; esac
  set -- "$@" "./$e"
done
if [ $# -gt 0 ]; then rm -rf --one-file-system -- "$@"; fi
"#;
    let argv = [
        "/bin/sh",
        "-c",
        script,
        "sh",
        TARGET,
        &cryo_sandbox::CALLER_ID_INSIDE.to_string(),
    ]
    .map(str::to_owned);
    let env = BTreeMap::from([
        ("PATH".to_owned(), job::PATH.to_owned()),
        ("LC_ALL".to_owned(), "C".to_owned()),
        ("CRYO_SKIP".to_owned(), skip),
    ]);
    let root = RootFs::Writable {
        dir: tools_root.into(),
    };
    let mut spec = job::spec(root, argv, env, "/", (0, 0), 0o022);
    spec.binds = vec![BindMount {
        source: path.into(),
        target: TARGET.into(),
        writable: true,
        owner: None,
    }];
    // The tools root stays untouched: only the bound tree (under /tmp) is writable.
    spec.landlock.write_root_view = false;
    spec.limits.timeout = Some(REMOVE_TIMEOUT);
    let sandbox = |source| CleanupError::Sandbox {
        path: path.into(),
        source,
    };
    let out = job::run(&spec, helper).map_err(sandbox)?;
    if out.exit != ExitStatusKind::Exited(0) {
        return Err(CleanupError::Failed {
            path: path.into(),
            exit: out.exit,
            log: out.log,
        });
    }
    Ok(())
}
