//! Build roots cached by closure: `<build dir>/roots/<key>/root`.
//!
//! The key is the BLAKE3 of the root's inputs (closure entries with their SHA256, build
//! user, runscripts, architecture, builder version): two derivations that need the same
//! environment share one configured root. A root is prepared in a temporary directory
//! (`<key>.tmp-<pid>`, mode 0700) and renamed into place when complete, so a crash never
//! leaves a half-prepared root under a key; a failed preparation is removed at once. A
//! cached root is used only if its `ready` record checks out (`builddir::check_root`),
//! else it is prepared again. Roots are read-only lower layers: every build writes to its
//! own overlay.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use cryo_debbuild::{prepare_root, DebFile, RootPlan};
use cryo_prjconf::BuildUser;
use cryo_store::derivation::Derivation;
use cryo_store::B3Digest;

use super::{builddir, helper_command, io, BuildError};

use super::Builder;

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
/// .deb) if no trusted one is cached. Returns the root directory and whether it was cached.
pub fn ensure_root(
    st: &Builder,
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
    match builddir::check_root(&final_dir, &key) {
        Ok(Some(_)) => return Ok((root, true)),
        Ok(None) => {}
        Err(reason) => {
            tracing::warn!(%key, %reason, "cached build root not trusted; preparing it again");
            log.extend_from_slice(
                format!(
                    "cryo: the cached build root is not trusted ({reason}); preparing it again\n"
                )
                .as_bytes(),
            );
            discard(&base, &final_dir, &key);
        }
    }
    check_traversable(&base)?;
    let tmp = base.join(format!("{key}.tmp-{}", std::process::id()));
    if std::fs::symlink_metadata(&tmp).is_ok() {
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
    builddir::create_tmp_parent(&tmp)?;
    let tmp_root = tmp.join("root");
    let prepared = prepare_root(&plan, &tmp_root, &helper)
        .map_err(|source| BuildError::Root {
            key: key.to_string(),
            source: Box::new(source),
        })
        .and_then(|info| {
            builddir::write_record(&tmp, &key, info.packages.len(), info.duration.as_secs_f64())?;
            Ok(info)
        });
    let info = match prepared {
        Ok(i) => i,
        Err(e) => {
            log.extend_from_slice(format!("cryo: {e}\n").as_bytes());
            // Never leave a half-prepared root (with whatever the packages hold) behind.
            remove_failed(&st.build_dir, &tmp);
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
    if let Err(e) = std::fs::rename(&tmp, &final_dir) {
        // Another daemon sharing this build directory finished the same root first.
        if matches!(builddir::check_root(&final_dir, &key), Ok(Some(_))) {
            super::remove_work(&tmp, &tmp.join("root"));
            return Ok((root, true));
        }
        remove_failed(&st.build_dir, &tmp);
        return Err(io(&final_dir)(e));
    }
    tracing::info!(%key, packages = info.packages.len(), secs = info.duration.as_secs_f64(), "build root prepared");
    Ok((root, false))
}

/// Removes the unfinished root `tmp`: with itself as the tools root, then (an
/// unprivileged daemon whose half-made root lacks `sh`/`rm`) with any trusted root.
fn remove_failed(build_dir: &Path, tmp: &Path) {
    super::remove_work(tmp, &tmp.join("root"));
    if std::fs::symlink_metadata(tmp).is_ok() {
        if let Some(tools) = super::any_ready_root(build_dir) {
            super::remove_work(tmp, &tools);
        }
    }
}

/// Moves an untrusted cached root out of the way (atomically, so no build picks it up
/// meanwhile) and removes it.
fn discard(base: &Path, final_dir: &Path, key: &str) {
    let aside = base.join(format!("{key}.tmp-{}-untrusted", std::process::id()));
    match std::fs::rename(final_dir, &aside) {
        Ok(()) => super::remove_work(&aside, &aside.join("root")),
        Err(e) => {
            tracing::warn!(dir = %final_dir.display(), error = %e, "could not move an untrusted root aside")
        }
    }
}

/// Build sandboxes run as mapped ids: every ancestor of the roots directory must be
/// searchable by "others", or mounting the root fails with a bare EACCES.
fn check_traversable(dir: &Path) -> Result<(), BuildError> {
    use std::os::unix::fs::PermissionsExt;
    for a in dir.ancestors() {
        if let Ok(m) = std::fs::metadata(a) {
            if m.permissions().mode() & 0o001 == 0 {
                return Err(BuildError::NotTraversable {
                    path: a.display().to_string(),
                    mode: m.permissions().mode() & 0o7777,
                });
            }
        }
    }
    Ok(())
}

/// Where build roots and work directories live: `$CRYOD_BUILD_DIR` if set (e.g. one
/// directory shared by several daemons, as the test suite does to share build roots:
/// roots are keyed by the hash of their closure), else below the state directory when the
/// sandbox's mapped ids can reach it, else `/var/tmp/cryo-build-<uid>` (a root daemon
/// whose state is under a 0700 home directory, e.g. `/root/.local/state/cryo`). The
/// directory and its `roots/` and `builds/` must be the daemon's own and not writable by
/// others (`builddir::prepare`); otherwise this fails, naming the directory, its owner
/// and mode, and the daemon does not start.
pub fn choose_build_dir(state: &Path) -> Result<PathBuf, BuildError> {
    if let Some(d) = std::env::var_os("CRYOD_BUILD_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(d);
        let dir = if dir.is_relative() {
            std::env::current_dir().map_err(io(&dir))?.join(dir)
        } else {
            dir
        };
        return builddir::prepare(&dir);
    }
    if check_traversable(state).is_ok() {
        return builddir::prepare(state);
    }
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let dir = PathBuf::from(format!("/var/tmp/cryo-build-{uid}"));
    let dir = builddir::prepare(&dir)?;
    tracing::info!(build_dir = %dir.display(), "the state directory is not reachable by build sandboxes; build roots live here");
    Ok(dir)
}

/// Remove leftovers of interrupted root preparations (called at start): `<key>.tmp-<pid>…`
/// of daemons that are gone (a build directory may be shared by several daemons).
pub fn sweep(build_dir: &Path) {
    let base = build_dir.join("roots");
    let Ok(rd) = std::fs::read_dir(&base) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some((_, rest)) = name.rsplit_once(".tmp-") else {
            continue;
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let alive = digits
            .parse::<u32>()
            .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            super::remove_work(&e.path(), &e.path().join("root"));
        }
    }
}
