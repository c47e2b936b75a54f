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

use cryo_debbuild::{
    prepare_base, prepare_from_base, prepare_layer, prepare_root, DebFile, DeltaPlan, Layering,
    RootPlan,
};
use cryo_prjconf::BuildUser;
use cryo_store::derivation::Derivation;
use cryo_store::B3Digest;

use super::evict::RootUse;
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

/// The configured root for `drv`, preparing it from the closure's packages (`fetch`
/// gives closure entry name → local .deb, called only when a root must be prepared) if no
/// trusted one is cached. Returns the root, marked in use until the returned
/// [`RootUse`] is dropped, and whether it was cached. After preparing a root, the least
/// recently used ones beyond `roots_max_bytes` are evicted (`super::evict`).
pub fn ensure_root(
    st: &Builder,
    drv: &Derivation,
    fetch: &mut dyn FnMut() -> Result<BTreeMap<String, PathBuf>, BuildError>,
    log: &mut Vec<u8>,
) -> Result<(RootUse, bool), BuildError> {
    let key = root_key(drv);
    // A root evicted between its check and its use is prepared again (rarely more than
    // once: eviction never takes a root in use, and this one is used at once).
    for _ in 0..3 {
        if let Some(found) = ensure_root_once(st, drv, &key, fetch, log)? {
            return Ok(found);
        }
    }
    Err(BuildError::Invalid(format!(
        "build root {key} was evicted three times while this build waited for it; \
         raise roots_max_bytes"
    )))
}

fn ensure_root_once(
    st: &Builder,
    drv: &Derivation,
    key: &str,
    fetch: &mut dyn FnMut() -> Result<BTreeMap<String, PathBuf>, BuildError>,
    log: &mut Vec<u8>,
) -> Result<Option<(RootUse, bool)>, BuildError> {
    let roots_dir = st.build_dir.join("roots");
    let final_dir = roots_dir.join(key);
    let lock = st.root_locks.lock_for(key);
    let guard = lock.lock().expect("root lock");
    match builddir::check_root(&final_dir, key) {
        Ok(Some(_)) => {
            return Ok(RootUse::acquire(&final_dir)
                .map_err(io(&final_dir))?
                .map(|u| (u, true)))
        }
        Ok(None) => {}
        Err(reason) => {
            tracing::warn!(%key, %reason, "cached build root not trusted; preparing it again");
            log.extend_from_slice(
                format!(
                    "cryo: the cached build root is not trusted ({reason}); preparing it again\n"
                )
                .as_bytes(),
            );
            discard(&roots_dir, &final_dir, key);
        }
    }
    let started = std::time::Instant::now();
    let debs = fetch()?;
    let plan = root_plan(drv, &debs)?;
    let named = prjconf_base_names(st, drv)?;
    let layering =
        cryo_debbuild::layers::split(&plan, &named, &st.tool_layer).unwrap_or_else(|e| {
            Layering::Full {
                reason: format!(
                    "the base layer could not be determined: {}",
                    super::chain(&e)
                ),
            }
        });
    let prepared = match layering {
        Layering::Layered {
            base,
            tools,
            delta,
            tools_note,
        } => {
            let base_key = base_key(drv, &base);
            let (base_use, base_cached) = ensure_layer(st, &base_key, "base layer", log, |tmp| {
                prepare_base(&base, tmp, &helper_command()?)
                    .map(|info| (info.packages.len(), info.duration, info.phases))
                    .map_err(root_error(&base_key))
            })?;
            let cached = |c: bool| if c { "cached" } else { "prepared" };
            let mut layers = format!(
                "base layer {base_key} ({}, {} packages)",
                cached(base_cached),
                base.preinstall.len() + base.install.len()
            );
            let versions = |debs: &mut dyn Iterator<Item = &DebFile>| -> BTreeMap<String, String> {
                debs.map(|d| (d.name.clone(), d.version.clone())).collect()
            };
            // The layer the root is copied from: the tool layer when there is one.
            let from = if tools.is_empty() {
                base_use
            } else {
                let tools_key = tools_key(drv, &base_key, &tools);
                let expected =
                    versions(&mut base.preinstall.iter().chain(&base.install).chain(&tools));
                let (tools_use, tools_cached) =
                    ensure_layer(st, &tools_key, "tool layer", log, |tmp| {
                        let scratch = tmp.with_file_name("copy");
                        let res = prepare_layer(
                            &base_use.root,
                            &tools,
                            &expected,
                            plan.source_date_epoch,
                            tmp,
                            &scratch,
                            &helper_command()?,
                        );
                        super::remove_work(&scratch, &base_use.root);
                        res.map(|info| (info.packages.len(), info.duration, info.phases))
                            .map_err(root_error(&tools_key))
                    })?;
                drop(base_use);
                layers.push_str(&format!(
                    " + tool layer {tools_key} ({}, {} packages)",
                    cached(tools_cached),
                    tools.len()
                ));
                tools_use
            };
            log.extend_from_slice(
                format!(
                    "cryo: build root {key}: {layers} + {} packages\n",
                    delta.len()
                )
                .as_bytes(),
            );
            if let Some(note) = tools_note {
                log.extend_from_slice(format!("cryo: no tool layer: {note}\n").as_bytes());
            }
            let expected = versions(&mut plan.preinstall.iter().chain(&plan.install));
            let delta = DeltaPlan {
                install: delta,
                expected,
                build_user: plan.build_user,
                source_date_epoch: plan.source_date_epoch,
            };
            prepare_cached(st, key, &roots_dir, log, |tmp_root| {
                let scratch = tmp_root.with_file_name("copy");
                let res =
                    prepare_from_base(&from.root, &delta, tmp_root, &scratch, &helper_command()?);
                super::remove_work(&scratch, &from.root);
                res.map(|info| (info.packages.len(), info.duration, info.phases))
                    .map_err(|source| BuildError::Root {
                        key: key.to_string(),
                        source: Box::new(source),
                    })
            })?
        }
        Layering::Full { reason } => {
            log.extend_from_slice(
                format!(
                    "cryo: build root {key}: no base layer ({reason}); preparing the whole root\n"
                )
                .as_bytes(),
            );
            prepare_cached(st, key, &roots_dir, log, |tmp_root| {
                prepare_root(&plan, tmp_root, &helper_command()?)
                    .map(|info| (info.packages.len(), info.duration, info.phases))
                    .map_err(|source| BuildError::Root {
                        key: key.to_string(),
                        source: Box::new(source),
                    })
            })?
        }
    };
    drop(guard);
    if let Some((_, false)) = &prepared {
        log.extend_from_slice(
            format!(
                "cryo: build root {key} ready in {:.1}s (its packages fetched, the base layer \
                 chosen, prepared, recorded)\n",
                started.elapsed().as_secs_f64()
            )
            .as_bytes(),
        );
        evict_now(st);
    }
    Ok(prepared)
}

/// The layer `key` (= `<roots>/<key>`; `what`: "base layer", "tool layer"), prepared by
/// `prepare` into the directory it is given if no trusted one is cached; marked in use
/// while the caller copies it.
fn ensure_layer(
    st: &Builder,
    key: &str,
    what: &str,
    log: &mut Vec<u8>,
    prepare: impl Fn(&Path) -> Result<Prepared, BuildError>,
) -> Result<(RootUse, bool), BuildError> {
    let base = st.build_dir.join("roots");
    let dir = base.join(key);
    for _ in 0..3 {
        let lock = st.root_locks.lock_for(key);
        let _guard = lock.lock().expect("root lock");
        match builddir::check_root(&dir, key) {
            Ok(Some(_)) => {
                if let Some(u) = RootUse::acquire(&dir).map_err(io(&dir))? {
                    return Ok((u, true));
                }
                continue;
            }
            Ok(None) => {}
            Err(reason) => {
                tracing::warn!(%key, %reason, "cached {what} not trusted; preparing it again");
                log.extend_from_slice(
                    format!(
                        "cryo: the cached {what} is not trusted ({reason}); preparing it again\n"
                    )
                    .as_bytes(),
                );
                discard(&base, &dir, key);
            }
        }
        let prepared = prepare_cached(st, key, &base, log, &prepare)?;
        if let Some(found) = prepared {
            return Ok(found);
        }
    }
    Err(BuildError::Invalid(format!(
        "{what} {key} was evicted three times while this build waited for it; raise \
         roots_max_bytes"
    )))
}

/// The prjconf's `Required:` and `Support:` names (from its normalised form, a store
/// object the derivation references): with the Preinstall set and the Essential packages,
/// the roots of the base layer.
fn prjconf_base_names(st: &Builder, drv: &Derivation) -> Result<Vec<String>, BuildError> {
    let d: B3Digest = drv
        .prjconf
        .parse()
        .map_err(|e| BuildError::Invalid(format!("prjconf digest {:?}: {e}", drv.prjconf)))?;
    let norm: serde_json::Value = serde_json::from_slice(&st.store.read(&d)?)
        .map_err(|e| BuildError::Invalid(format!("normalised prjconf {d}: {e}")))?;
    Ok(["required", "support"]
        .iter()
        .flat_map(|k| norm[k].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect())
}

#[derive(Serialize)]
struct BaseKey<'a> {
    format: &'static str,
    builder: (&'a str, &'a str),
    arch: &'a str,
    /// The base's closure entries, sorted.
    closure: Vec<&'a cryo_store::derivation::ClosureEntry>,
    runscripts: &'a [String],
}

/// The cache key of the base layer `plan` of `drv`'s closure: its packages (closure
/// entries with their SHA256), runscripts, architecture and builder version. No build
/// user: it is added on top.
pub fn base_key(drv: &Derivation, plan: &RootPlan) -> String {
    let names: std::collections::BTreeSet<&str> = plan
        .preinstall
        .iter()
        .chain(&plan.install)
        .map(|d| d.name.as_str())
        .collect();
    let mut closure: Vec<_> = drv
        .closure
        .iter()
        .filter(|c| names.contains(c.name.as_str()))
        .collect();
    closure.sort();
    let k = BaseKey {
        format: "cryo.base/1",
        builder: (&drv.builder.kind, &drv.builder.version),
        arch: &drv.arch,
        closure,
        runscripts: &plan.runscripts,
    };
    B3Digest::of(&serde_json::to_vec(&k).expect("serialises")).to_hex()
}

#[derive(Serialize)]
struct ToolsKey<'a> {
    format: &'static str,
    base: &'a str,
    /// The tool layer's closure entries, sorted.
    closure: Vec<&'a cryo_store::derivation::ClosureEntry>,
}

/// The cache key of the tool layer `tools` on the base layer `base_key`: the base's key
/// and the tool packages' closure entries (with their SHA256).
pub fn tools_key(drv: &Derivation, base_key: &str, tools: &[DebFile]) -> String {
    let names: std::collections::BTreeSet<&str> = tools.iter().map(|d| d.name.as_str()).collect();
    let mut closure: Vec<_> = drv
        .closure
        .iter()
        .filter(|c| names.contains(c.name.as_str()))
        .collect();
    closure.sort();
    let k = ToolsKey {
        format: "cryo.tools/1",
        base: base_key,
        closure,
    };
    B3Digest::of(&serde_json::to_vec(&k).expect("serialises")).to_hex()
}

/// Evicts least recently used roots beyond the configured limit, logging what it did.
pub fn evict_now(st: &Builder) -> super::evict::EvictReport {
    let r = super::evict::evict(&st.build_dir, st.roots_max_bytes);
    if r.removed > 0 || r.kept_in_use > 0 {
        tracing::info!(
            removed = r.removed,
            freed = r.bytes_freed,
            kept_in_use = r.kept_in_use,
            kept_bytes = r.bytes_kept,
            limit = st.roots_max_bytes,
            "build root eviction"
        );
    }
    r
}

/// The plan of a one-shot preparation of `drv`'s root.
fn root_plan(drv: &Derivation, debs: &BTreeMap<String, PathBuf>) -> Result<RootPlan, BuildError> {
    let mut plan = RootPlan {
        preinstall: Vec::new(),
        install: Vec::new(),
        runscripts: runscripts(drv),
        build_user: build_user(drv)?,
        source_date_epoch: None,
    };
    for c in &drv.closure {
        let f = deb_file(c, debs)?;
        match c.set.as_str() {
            "preinstall" => plan.preinstall.push(f),
            _ => plan.install.push(f),
        }
    }
    Ok(plan)
}

fn runscripts(drv: &Derivation) -> Vec<String> {
    drv.env
        .get("CRYO_RUNSCRIPTS")
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

fn deb_file(
    c: &cryo_store::derivation::ClosureEntry,
    debs: &BTreeMap<String, PathBuf>,
) -> Result<DebFile, BuildError> {
    let path = debs.get(&c.name).ok_or_else(|| {
        BuildError::Invalid(format!("closure package {} was not fetched", c.name))
    })?;
    Ok(DebFile {
        name: c.name.clone(),
        version: c.version.clone(),
        path: path.clone(),
    })
}

/// What a preparation reports: packages, duration, phase logs.
type Prepared = (usize, std::time::Duration, Vec<cryo_debbuild::PhaseLog>);

fn root_error(key: &str) -> impl Fn(cryo_debbuild::RootError) -> BuildError + '_ {
    move |source| BuildError::Root {
        key: key.to_string(),
        source: Box::new(source),
    }
}

/// Prepares the cached root `<base>/<key>` with `prepare` (given the empty root directory
/// inside a private temporary directory), records it, marks it in use and renames it into
/// place. Call with the key's lock held. `Ok(None)`: another daemon finished the same root
/// first and it was evicted before we could use it.
fn prepare_cached(
    st: &Builder,
    key: &str,
    base: &Path,
    log: &mut Vec<u8>,
    prepare: impl FnOnce(&Path) -> Result<Prepared, BuildError>,
) -> Result<Option<(RootUse, bool)>, BuildError> {
    let final_dir = base.join(key);
    check_traversable(base)?;
    let tmp = base.join(format!("{key}.tmp-{}", std::process::id()));
    if std::fs::symlink_metadata(&tmp).is_ok() {
        super::remove_work(&tmp, &tmp.join("root"));
    }
    builddir::create_tmp_parent(&tmp)?;
    let tmp_root = tmp.join("root");
    let prepared = prepare(&tmp_root).and_then(|(packages, duration, phases)| {
        builddir::write_record(&tmp, key, packages, duration.as_secs_f64())?;
        Ok((packages, duration, phases))
    });
    let (packages, duration, phases) = match prepared {
        Ok(i) => i,
        Err(e) => {
            log.extend_from_slice(format!("cryo: {e}\n").as_bytes());
            // Never leave a half-prepared root (with whatever the packages hold) behind.
            remove_failed(&st.build_dir, &tmp);
            return Err(e);
        }
    };
    for p in &phases {
        log.extend_from_slice(
            format!(
                "cryo: root phase {:?} ({:.1}s)\n",
                p.phase,
                p.duration.as_secs_f64()
            )
            .as_bytes(),
        );
    }
    // In use before it becomes visible: no eviction can take it between the rename and
    // the build.
    let using = match RootUse::acquire(&tmp) {
        Ok(Some(u)) => u,
        Ok(None) => {
            remove_failed(&st.build_dir, &tmp);
            return Err(BuildError::Invalid(format!(
                "{}: the prepared root vanished",
                tmp.display()
            )));
        }
        Err(e) => {
            remove_failed(&st.build_dir, &tmp);
            return Err(io(&tmp)(e));
        }
    };
    if let Err(e) = std::fs::rename(&tmp, &final_dir) {
        drop(using);
        // Another daemon sharing this build directory finished the same root first.
        if matches!(builddir::check_root(&final_dir, key), Ok(Some(_))) {
            super::remove_work(&tmp, &tmp.join("root"));
            return Ok(RootUse::acquire(&final_dir)
                .map_err(io(&final_dir))?
                .map(|u| (u, true)));
        }
        remove_failed(&st.build_dir, &tmp);
        return Err(io(&final_dir)(e));
    }
    let using = using.renamed(&final_dir);
    tracing::info!(%key, packages, secs = duration.as_secs_f64(), "build root prepared");
    Ok(Some((using, false)))
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
