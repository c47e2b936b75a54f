//! Build roots cached by closure: `<state>/roots/<key>/root`.
//!
//! The key is the BLAKE3 of the root's inputs (closure entries with their SHA256, build
//! user, runscripts, architecture, builder version): two derivations that need the same
//! environment share one configured root. A root is prepared in a temporary directory and
//! renamed into place when complete, so a crash never leaves a half-prepared root under a
//! key. Roots are read-only lower layers: every build writes to its own overlay.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use cryo_debbuild::{prepare_root, DebFile, RootPlan};
use cryo_prjconf::BuildUser;
use cryo_store::derivation::Derivation;
use cryo_store::B3Digest;

use super::{helper_command, io, BuildError};

use crate::state::AppState;

/// One lock per root key, so that two builds needing the same new root prepare it once.
#[derive(Default)]
pub struct RootLocks {
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl RootLocks {
    fn lock_for(&self, key: &str) -> Arc<Mutex<()>> {
        self.locks
            .lock()
            .expect("root locks")
            .entry(key.to_string())
            .or_default()
            .clone()
    }
}

#[derive(Serialize)]
struct RootKey<'a> {
    format: &'static str,
    builder: (&'a str, &'a str),
    arch: &'a str,
    closure: &'a [cryo_store::derivation::ClosureEntry],
    build_user: &'a str,
    runscripts: &'a str,
}

/// The cache key of the root a derivation needs.
pub fn root_key(drv: &Derivation) -> String {
    let mut closure = drv.closure.clone();
    closure.sort();
    let k = RootKey {
        format: "cryo.root/1",
        builder: (&drv.builder.kind, &drv.builder.version),
        arch: &drv.arch,
        closure: &closure,
        build_user: drv
            .env
            .get("CRYO_BUILD_USER")
            .map(String::as_str)
            .unwrap_or(""),
        runscripts: drv
            .env
            .get("CRYO_RUNSCRIPTS")
            .map(String::as_str)
            .unwrap_or(""),
    };
    B3Digest::of(&serde_json::to_vec(&k).expect("serialises")).to_hex()
}

/// Parse `uid:gid`.
pub fn build_user(drv: &Derivation) -> Result<BuildUser, BuildError> {
    let s = drv
        .env
        .get("CRYO_BUILD_USER")
        .map(String::as_str)
        .unwrap_or("1000:1000");
    let (u, g) = s
        .split_once(':')
        .ok_or_else(|| BuildError::Invalid(format!("bad CRYO_BUILD_USER {s:?}")))?;
    let parse = |x: &str| {
        x.parse::<u32>()
            .map_err(|_| BuildError::Invalid(format!("bad CRYO_BUILD_USER {s:?}")))
    };
    Ok(BuildUser {
        uid: parse(u)?,
        gid: parse(g)?,
    })
}

/// The configured root for `drv`, preparing it from `debs` (closure entry name → local
/// .deb) if it is not cached yet. Returns the root directory and whether it was cached.
pub fn ensure_root(
    st: &AppState,
    drv: &Derivation,
    debs: &BTreeMap<String, PathBuf>,
    log: &mut Vec<u8>,
) -> Result<(PathBuf, bool), BuildError> {
    let key = root_key(drv);
    let base = st.build_dir.join("roots");
    let final_dir = base.join(&key);
    let root = final_dir.join("root");
    let lock = st.root_locks.lock_for(&key);
    let _guard = lock.lock().expect("root lock");
    if final_dir.join("ready").exists() {
        return Ok((root, true));
    }
    std::fs::create_dir_all(&base).map_err(io(&base))?;
    check_traversable(&base)?;
    let tmp = base.join(format!("{key}.tmp-{}", std::process::id()));
    if tmp.exists() {
        super::remove_work(&tmp, &tmp.join("root"));
    }
    let mut plan = RootPlan {
        preinstall: Vec::new(),
        install: Vec::new(),
        runscripts: drv
            .env
            .get("CRYO_RUNSCRIPTS")
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
        build_user: build_user(drv)?,
        source_date_epoch: None,
    };
    for c in &drv.closure {
        let path = debs.get(&c.name).ok_or_else(|| {
            BuildError::Invalid(format!("closure package {} was not fetched", c.name))
        })?;
        let f = DebFile {
            name: c.name.clone(),
            version: c.version.clone(),
            path: path.clone(),
        };
        match c.set.as_str() {
            "preinstall" => plan.preinstall.push(f),
            _ => plan.install.push(f),
        }
    }
    let helper = helper_command()?;
    let tmp_root = tmp.join("root");
    let info =
        prepare_root(&plan, &tmp_root, &helper).map_err(|e| BuildError::Root(super::chain(&e)));
    let info = match info {
        Ok(i) => i,
        Err(e) => {
            log.extend_from_slice(format!("cryo: {e}\n").as_bytes());
            return Err(e);
        }
    };
    for p in &info.phases {
        log.extend_from_slice(
            format!(
                "cryo: root phase {:?} ({:.1}s)\n",
                p.phase,
                p.duration.as_secs_f64()
            )
            .as_bytes(),
        );
    }
    std::fs::write(
        tmp.join("ready"),
        format!(
            "{} packages, prepared in {:.1}s\n",
            info.packages.len(),
            info.duration.as_secs_f64()
        ),
    )
    .map_err(io(&tmp))?;
    if let Err(e) = std::fs::rename(&tmp, &final_dir) {
        // Another daemon sharing this build directory finished the same root first.
        if final_dir.join("ready").exists() {
            super::remove_work(&tmp, &tmp.join("root"));
            return Ok((root, true));
        }
        return Err(io(&final_dir)(e));
    }
    tracing::info!(%key, packages = info.packages.len(), secs = info.duration.as_secs_f64(), "build root prepared");
    Ok((root, false))
}

/// Build sandboxes run as mapped ids: every ancestor of the roots directory must be
/// searchable by "others", or mounting the root fails with a bare EACCES.
fn check_traversable(dir: &Path) -> Result<(), BuildError> {
    use std::os::unix::fs::PermissionsExt;
    for a in dir.ancestors() {
        if let Ok(m) = std::fs::metadata(a) {
            if m.permissions().mode() & 0o001 == 0 {
                return Err(BuildError::Root(format!(
                    "{} is not searchable by the build sandbox (mode {:o}); build roots live below it: run `chmod o+x {}` or choose another state directory",
                    a.display(),
                    m.permissions().mode() & 0o7777,
                    a.display()
                )));
            }
        }
    }
    Ok(())
}

/// Where build roots and work directories live: below the state directory when the
/// sandbox's mapped ids can reach it, else `/var/tmp/cryo-build-<uid>` (a root daemon
/// whose state is under a 0700 home directory, e.g. `/root/.local/state/cryo`).
pub fn choose_build_dir(state: &Path) -> std::path::PathBuf {
    // An explicit choice (e.g. one directory shared by several daemons, as the test suite
    // does to share build roots: roots are keyed by the hash of their closure).
    if let Some(d) = std::env::var_os("CRYOD_BUILD_DIR").filter(|d| !d.is_empty()) {
        let dir = std::path::PathBuf::from(d);
        if std::fs::create_dir_all(&dir).is_ok() {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o711));
        }
        // The sandbox wants absolute paths without `..`.
        return std::fs::canonicalize(&dir).unwrap_or(dir);
    }
    if check_traversable(state).is_ok() {
        return state.to_path_buf();
    }
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let dir = std::path::PathBuf::from(format!("/var/tmp/cryo-build-{uid}"));
    if std::fs::create_dir_all(&dir).is_ok() {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o711));
    }
    tracing::info!(build_dir = %dir.display(), "the state directory is not reachable by build sandboxes; build roots live here");
    dir
}

/// Remove leftovers of interrupted root preparations (called at start).
pub fn sweep(build_dir: &Path) {
    let base = build_dir.join("roots");
    let Ok(rd) = std::fs::read_dir(&base) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // `<key>.tmp-<pid>`: only leftovers of daemons that are gone (a build directory
        // may be shared by several daemons).
        let alive = name
            .rsplit_once(".tmp-")
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
            .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if name.contains(".tmp-") && !alive {
            super::remove_work(&e.path(), &e.path().join("root"));
        }
    }
}
