//! User-namespace id mapping: which ids inside the sandbox correspond to which ids outside,
//! how that is decided from the helper's own credentials and `/etc/subuid`/`/etc/subgid`,
//! and how the maps are written (directly by root, through `newuidmap`/`newgidmap`
//! otherwise). Pure resolution is separated from the side effects so it can be unit-tested.

use std::path::PathBuf;
use std::process::Command;

use serde::{Deserialize, Serialize};

/// Default first outside id for inside id 0 when the helper runs as root.
pub const DEFAULT_ROOT_BASE: u32 = 1_000_000_000;
/// Number of ids mapped by [`IdMapping::Range`] (what dpkg's system users and groups need).
pub const RANGE_SIZE: u32 = 65536;
/// Where the caller's own uid and gid appear inside when an unprivileged helper maps a range
/// (so root inside can use directories the caller created, e.g. overlay upper/work dirs).
pub const CALLER_ID_INSIDE: u32 = RANGE_SIZE;

const SUBUID: &str = "/etc/subuid";
const SUBGID: &str = "/etc/subgid";

/// Errors of id-map resolution and installation.
#[derive(Debug, thiserror::Error)]
pub enum IdMapError {
    #[error(
        "user {user} (uid {uid}) has no subordinate {kind} range of at least {RANGE_SIZE} ids in {file}; \
         add one, e.g. `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}`, \
         and install the `uidmap` package (newuidmap/newgidmap); or use IdMapping::SingleUser for \
         simple jobs that never change file ownership"
    )]
    NoSubordinateRange {
        kind: &'static str,
        user: String,
        uid: u32,
        file: &'static str,
    },
    #[error("root_base {0} is invalid: it must be at least 1 and leave room for {RANGE_SIZE} ids")]
    BadRootBase(u32),
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot run {program} (is the `uidmap` package installed?)")]
    Spawn {
        program: &'static str,
        source: std::io::Error,
    },
    #[error("{program} failed ({status}): {stderr}")]
    Tool {
        program: &'static str,
        status: std::process::ExitStatus,
        stderr: String,
    },
}

/// How ids inside the sandbox are mapped to ids outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum IdMapping {
    /// 65536 ids, inside `n` ↔ outside `base + n`. As root, `base` is `root_base` and the
    /// maps are written directly; otherwise `base` is the start of the caller's subordinate
    /// range (`/etc/subuid`, `/etc/subgid`, via `newuidmap`/`newgidmap`) and the caller's own
    /// uid/gid are added at inside id [`CALLER_ID_INSIDE`]. Fails if no range is configured.
    Range { root_base: u32 },
    /// Exactly one inside uid/gid, mapped to the caller's ids (or `root_base + id` as root).
    /// `setgroups` is denied. For simple jobs that never chown.
    SingleUser { uid: u32, gid: u32, root_base: u32 },
}

impl Default for IdMapping {
    fn default() -> Self {
        Self::Range {
            root_base: DEFAULT_ROOT_BASE,
        }
    }
}

/// One line of a `uid_map`/`gid_map`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdExtent {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

/// Who writes the maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MapWriter {
    /// The helper writes `/proc/PID/{uid,gid}_map` itself.
    Direct,
    /// The setuid helpers `newuidmap`/`newgidmap` write them.
    NewIdMap,
}

/// The helper's own credentials, as needed for resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub uid: u32,
    pub gid: u32,
    pub user_name: Option<String>,
}

/// A concrete mapping for one sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedIdMap {
    pub uid: Vec<IdExtent>,
    pub gid: Vec<IdExtent>,
    pub writer: MapWriter,
    /// Whether `setgroups(2)` works inside.
    pub setgroups_allowed: bool,
}

fn lookup(extents: &[IdExtent], inside: u32) -> Option<u32> {
    extents
        .iter()
        .find(|e| inside >= e.inside && inside - e.inside < e.count)
        .map(|e| e.outside + (inside - e.inside))
}

fn map_text(extents: &[IdExtent]) -> String {
    extents
        .iter()
        .map(|e| format!("{} {} {}\n", e.inside, e.outside, e.count))
        .collect()
}

fn map_args(pid: u32, extents: &[IdExtent]) -> Vec<String> {
    let mut args = vec![pid.to_string()];
    for e in extents {
        args.extend([
            e.inside.to_string(),
            e.outside.to_string(),
            e.count.to_string(),
        ]);
    }
    args
}

impl ResolvedIdMap {
    /// The outside uid of an inside uid, if mapped.
    pub fn outside_uid(&self, inside: u32) -> Option<u32> {
        lookup(&self.uid, inside)
    }

    /// The outside gid of an inside gid, if mapped.
    pub fn outside_gid(&self, inside: u32) -> Option<u32> {
        lookup(&self.gid, inside)
    }

    /// Installs the maps for the user namespace of process `pid`.
    pub fn apply(&self, pid: u32) -> Result<(), IdMapError> {
        match self.writer {
            MapWriter::Direct => {
                if !self.setgroups_allowed {
                    write_proc(pid, "setgroups", "deny")?;
                }
                write_proc(pid, "uid_map", &map_text(&self.uid))?;
                write_proc(pid, "gid_map", &map_text(&self.gid))
            }
            MapWriter::NewIdMap => {
                run_tool("newuidmap", &map_args(pid, &self.uid))?;
                run_tool("newgidmap", &map_args(pid, &self.gid))
            }
        }
    }
}

fn write_proc(pid: u32, file: &str, text: &str) -> Result<(), IdMapError> {
    let path = PathBuf::from(format!("/proc/{pid}/{file}"));
    std::fs::write(&path, text).map_err(|source| IdMapError::Write { path, source })
}

fn run_tool(program: &'static str, args: &[String]) -> Result<(), IdMapError> {
    let out = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| IdMapError::Spawn { program, source })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(IdMapError::Tool {
            program,
            status: out.status,
            stderr,
        });
    }
    Ok(())
}

/// Start of the first range of at least [`RANGE_SIZE`] ids for this user in a
/// `/etc/subuid`-format text (`name-or-id:start:count` lines).
pub fn find_subordinate_range(text: &str, caller: &Caller) -> Option<u32> {
    let uid = caller.uid.to_string();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut it = l.split(':');
            let (who, start, count) = (it.next()?, it.next()?, it.next()?);
            let start: u32 = start.trim().parse().ok()?;
            let count: u64 = count.trim().parse().ok()?;
            let me = who == uid || caller.user_name.as_deref() == Some(who);
            let fits = u64::from(start) + u64::from(RANGE_SIZE) <= u64::from(u32::MAX);
            (me && fits && count >= u64::from(RANGE_SIZE)).then_some(start)
        })
        .next()
}

fn check_base(base: u32) -> Result<u32, IdMapError> {
    if base == 0 || base.checked_add(RANGE_SIZE).is_none() {
        return Err(IdMapError::BadRootBase(base));
    }
    Ok(base)
}

impl IdMapping {
    /// Decides the concrete maps for `caller`. `subuid`/`subgid` are the contents of the
    /// subordinate id files (`None` if absent); they are only used when not root.
    pub fn resolve(
        &self,
        caller: &Caller,
        subuid: Option<&str>,
        subgid: Option<&str>,
    ) -> Result<ResolvedIdMap, IdMapError> {
        let one = |inside, outside| {
            vec![IdExtent {
                inside,
                outside,
                count: 1,
            }]
        };
        let root = caller.uid == 0;
        match *self {
            IdMapping::Range { root_base } if root => {
                let base = check_base(root_base)?;
                let ext = vec![IdExtent {
                    inside: 0,
                    outside: base,
                    count: RANGE_SIZE,
                }];
                Ok(ResolvedIdMap {
                    uid: ext.clone(),
                    gid: ext,
                    writer: MapWriter::Direct,
                    setgroups_allowed: true,
                })
            }
            IdMapping::Range { .. } => {
                let missing = |kind, file| IdMapError::NoSubordinateRange {
                    kind,
                    user: caller
                        .user_name
                        .clone()
                        .unwrap_or_else(|| caller.uid.to_string()),
                    uid: caller.uid,
                    file,
                };
                let su = subuid
                    .and_then(|t| find_subordinate_range(t, caller))
                    .ok_or_else(|| missing("uid", SUBUID))?;
                let sg = subgid
                    .and_then(|t| find_subordinate_range(t, caller))
                    .ok_or_else(|| missing("gid", SUBGID))?;
                let ext = |start, own| {
                    vec![
                        IdExtent {
                            inside: 0,
                            outside: start,
                            count: RANGE_SIZE,
                        },
                        IdExtent {
                            inside: CALLER_ID_INSIDE,
                            outside: own,
                            count: 1,
                        },
                    ]
                };
                Ok(ResolvedIdMap {
                    uid: ext(su, caller.uid),
                    gid: ext(sg, caller.gid),
                    writer: MapWriter::NewIdMap,
                    setgroups_allowed: true,
                })
            }
            IdMapping::SingleUser {
                uid,
                gid,
                root_base,
            } => {
                let (ou, og) = if root {
                    let base = check_base(root_base)?;
                    (base.saturating_add(uid), base.saturating_add(gid))
                } else {
                    (caller.uid, caller.gid)
                };
                Ok(ResolvedIdMap {
                    uid: one(uid, ou),
                    gid: one(gid, og),
                    writer: MapWriter::Direct,
                    setgroups_allowed: false,
                })
            }
        }
    }

    /// Resolves for the current process, reading `/etc/subuid` and `/etc/subgid` if needed.
    pub fn resolve_for_current_process(&self) -> Result<ResolvedIdMap, IdMapError> {
        let uid = nix::unistd::geteuid();
        let gid = nix::unistd::getegid();
        let user_name = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map(|u| u.name);
        let caller = Caller {
            uid: uid.as_raw(),
            gid: gid.as_raw(),
            user_name,
        };
        let needs_files = caller.uid != 0 && matches!(self, IdMapping::Range { .. });
        let read = |p: &'static str| -> Result<Option<String>, IdMapError> {
            if !needs_files {
                return Ok(None);
            }
            match std::fs::read_to_string(p) {
                Ok(t) => Ok(Some(t)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(IdMapError::Read {
                    path: p.into(),
                    source,
                }),
            }
        };
        let (su, sg) = (read(SUBUID)?, read(SUBGID)?);
        self.resolve(&caller, su.as_deref(), sg.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: u32) -> Caller {
        Caller {
            uid,
            gid: uid,
            user_name: Some("builder".into()),
        }
    }

    #[test]
    fn root_maps_a_direct_range() {
        let m = IdMapping::default().resolve(&user(0), None, None).unwrap();
        assert_eq!(m.writer, MapWriter::Direct);
        assert_eq!(m.outside_uid(0), Some(DEFAULT_ROOT_BASE));
        assert_eq!(m.outside_uid(100), Some(DEFAULT_ROOT_BASE + 100));
        assert_eq!(m.outside_gid(65535), Some(DEFAULT_ROOT_BASE + 65535));
        assert_eq!(m.outside_uid(65536), None);
        assert_eq!(map_text(&m.uid), "0 1000000000 65536\n");
        assert!(IdMapping::Range { root_base: 0 }
            .resolve(&user(0), None, None)
            .is_err());
    }

    #[test]
    fn unprivileged_uses_subordinate_ranges() {
        let sub = "# comment\nother:1:70000\nbuilder:100000:1000\nbuilder:200000:65536\n";
        let m = IdMapping::default()
            .resolve(&user(1001), Some(sub), Some("1001:300000:65536\n"))
            .unwrap();
        assert_eq!(m.writer, MapWriter::NewIdMap);
        assert_eq!(m.outside_uid(0), Some(200000));
        assert_eq!(m.outside_gid(1000), Some(301000));
        assert_eq!(m.outside_uid(CALLER_ID_INSIDE), Some(1001));
        assert_eq!(
            map_args(7, &m.uid),
            ["7", "0", "200000", "65536", "65536", "1001", "1"]
        );
    }

    #[test]
    fn missing_range_is_a_clear_error() {
        let err = IdMapping::default()
            .resolve(&user(1001), Some("builder:100000:1000\n"), None)
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("subordinate uid range") && msg.contains("usermod --add-subuids"),
            "{msg}"
        );
        let err = IdMapping::default()
            .resolve(&user(1001), Some("builder:100000:65536\n"), None)
            .unwrap_err();
        assert!(err.to_string().contains("/etc/subgid"));
    }

    #[test]
    fn single_user_maps_one_id() {
        let m = IdMapping::SingleUser {
            uid: 1000,
            gid: 1000,
            root_base: DEFAULT_ROOT_BASE,
        }
        .resolve(&user(1001), None, None)
        .unwrap();
        assert_eq!(m.outside_uid(1000), Some(1001));
        assert_eq!(m.outside_uid(0), None);
        assert!(!m.setgroups_allowed);
    }
}
