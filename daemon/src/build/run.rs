//! Realise one derivation.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use cryo_debbuild::{BuildKind, BuildSettings, BuildSpec, SourceFiles};
use cryo_prjconf::{BuildPathTemplate, Clock};
use cryo_sandbox::JobObserver;
use cryo_store::derivation::Derivation;
use cryo_store::realisation::{OutputRef, Realisation};
use cryo_store::{B3Digest, ObjectKind, Session};

use super::{helper_command, io, roots, BuildError};
use crate::mirror::dod::{self, PoolFile};
use crate::mirror::query;
use crate::mirror::snapshot::{self, IndexKind};
use crate::state::AppState;

/// One output of a build on the wire.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutputInfo {
    pub name: String,
    pub blake3: B3Digest,
    pub sha256: String,
    pub size: u64,
}

/// An output that differs between the recorded realisation and a rebuild.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RebuildDifference {
    pub name: String,
    pub recorded: Option<B3Digest>,
    pub rebuilt: Option<B3Digest>,
}

/// What `cryo build` answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildOutcome {
    pub derivation: B3Digest,
    /// `built`, `cached` or `failed`.
    pub status: String,
    pub outputs: Vec<OutputInfo>,
    /// The build log in the store, when a build ran.
    pub log: Option<B3Digest>,
    /// Last lines of the log of a failed build.
    pub log_tail: Option<String>,
    pub duration_secs: f64,
    pub root_cached: Option<bool>,
    /// With `--rebuild`: outputs whose bytes differ from the recorded realisation.
    pub rebuild_differences: Option<Vec<RebuildDifference>>,
}

fn read_drv(st: &AppState, id: &B3Digest) -> Result<Derivation, BuildError> {
    let bytes = st.store.read(id)?;
    Derivation::decode(&bytes).map_err(|e| BuildError::Invalid(format!("derivation {id}: {e}")))
}

fn output_infos(st: &AppState, r: &Realisation) -> Result<Vec<OutputInfo>, BuildError> {
    let mut out = Vec::new();
    for (name, o) in &r.outputs {
        let (sha256, _) = sha256_of(st, &o.digest)?;
        out.push(OutputInfo {
            name: name.clone(),
            blake3: o.digest,
            sha256,
            size: o.size,
        });
    }
    Ok(out)
}

fn sha256_of(st: &AppState, d: &B3Digest) -> Result<(String, u64), BuildError> {
    let mut r = st.store.open_blob(d)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0;
    loop {
        let k = r
            .read(&mut buf)
            .map_err(|e| BuildError::Invalid(format!("{d}: {e}")))?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Write a store object to `path`, verified.
fn export(st: &AppState, d: &B3Digest, path: &Path) -> Result<(), BuildError> {
    let mut r = st.store.open_blob(d)?;
    let mut f = std::fs::File::create(path).map_err(io(path))?;
    std::io::copy(&mut r, &mut f).map_err(io(path))?;
    Ok(())
}

/// The pool file of a closure entry (found in the snapshot by name, version and SHA256).
fn pool_file(
    st: &AppState,
    snap: &snapshot::SnapshotInfo,
    c: &cryo_store::derivation::ClosureEntry,
) -> Result<PoolFile, BuildError> {
    let entries = query::package(st, snap, &c.name)?;
    for e in entries.iter().filter(|e| e.kind == IndexKind::Packages) {
        let field = |k: &str| {
            e.fields
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        };
        if e.version == c.version && field("SHA256").as_deref() == Some(c.sha256.as_str()) {
            let path = field("Filename").unwrap_or_default();
            let size = field("Size").and_then(|s| s.parse().ok()).unwrap_or(0);
            return Ok(PoolFile {
                package: c.name.clone(),
                version: c.version.clone(),
                archive: e.archive.clone(),
                path,
                sha256: c.sha256.clone(),
                size,
            });
        }
    }
    Err(BuildError::Invalid(format!(
        "{} {} ({}) is not in snapshot {}",
        c.name, c.version, c.sha256, snap.id
    )))
}

fn settings(drv: &Derivation) -> Result<(BuildSettings, BuildKind), BuildError> {
    let env = |k: &str| drv.env.get(k).cloned().unwrap_or_default();
    let clock = match env("CRYO_CLOCK").as_str() {
        "real" => Clock::Real,
        "changelog" | "" => Clock::Changelog,
        other => match other.strip_prefix("fixed:").and_then(|t| t.parse().ok()) {
            Some(t) => Clock::Fixed(t),
            None => return Err(BuildError::Invalid(format!("bad CRYO_CLOCK {other:?}"))),
        },
    };
    let opt = |k: &str| Some(env(k)).filter(|v| !v.trim().is_empty());
    let s = BuildSettings {
        clock,
        build_path: BuildPathTemplate::parse(&env("CRYO_BUILD_PATH"))
            .map_err(BuildError::Invalid)?,
        build_user: roots::build_user(drv)?,
        locale: env("LC_ALL"),
        umask: u32::from_str_radix(&env("CRYO_UMASK"), 8)
            .map_err(|_| BuildError::Invalid("bad CRYO_UMASK".into()))?,
        deb_build_options: opt("DEB_BUILD_OPTIONS"),
        deb_build_profiles: opt("DEB_BUILD_PROFILES"),
        release_suffix: opt("CRYO_RELEASE_SUFFIX"),
        release_strip: opt("CRYO_RELEASE_PATTERN").map(|p| release_regex(&p)),
        ..BuildSettings::default()
    };
    let kind = match env("CRYO_BUILD_KIND").as_str() {
        "arch" => BuildKind::ArchOnly,
        "indep" => BuildKind::IndepOnly,
        _ => BuildKind::Full,
    };
    Ok((s, kind))
}

fn tail(log: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(log);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Build (or return the cached outputs of) derivation `id`. Blocking.
pub fn realise(st: &AppState, id: &B3Digest, rebuild: bool) -> Result<BuildOutcome, BuildError> {
    realise_observed(st, id, rebuild, None)
}

/// [`realise`], with `observer` watching the sandbox jobs (live log, abort).
pub fn realise_observed(
    st: &AppState,
    id: &B3Digest,
    rebuild: bool,
    observer: Option<Arc<dyn JobObserver>>,
) -> Result<BuildOutcome, BuildError> {
    let started = std::time::Instant::now();
    let drv = read_drv(st, id)?;
    let existing = st.store.realisation(id)?;
    if let (Some(r), false) = (&existing, rebuild) {
        return Ok(BuildOutcome {
            derivation: *id,
            status: "cached".into(),
            outputs: output_infos(st, r)?,
            log: st.build_logs.get(id),
            log_tail: None,
            duration_secs: started.elapsed().as_secs_f64(),
            root_cached: None,
            rebuild_differences: None,
        });
    }
    if !rebuild {
        if let Some((r, from)) = crate::cache::substitute::substitute(st, id) {
            return Ok(BuildOutcome {
                derivation: *id,
                status: "substituted".into(),
                outputs: output_infos(st, &r)?,
                log: None,
                log_tail: Some(format!("substituted from {from}")),
                duration_secs: started.elapsed().as_secs_f64(),
                root_cached: None,
                rebuild_differences: None,
            });
        }
    }
    if drv.builder.kind != "deb" {
        return Err(BuildError::Invalid(format!(
            "builder {:?} is not supported by this cryod",
            drv.builder.kind
        )));
    }
    let _permit = st.build_slots.acquire();
    st.builds_run
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let session = st.store.session();
    let snap = snapshot::get(st, &drv.snapshot.to_hex())?;
    let work = st
        .build_dir
        .join("builds")
        .join(format!("{id}-{}", std::process::id()));
    if work.exists() {
        super::remove_work(
            &work,
            &super::any_ready_root(&st.build_dir).unwrap_or_default(),
        );
    }
    let debs_dir = work.join("debs");
    let src_dir = work.join("src");
    for d in [&debs_dir, &src_dir] {
        std::fs::create_dir_all(d).map_err(io(d))?;
    }
    let res = run_build(
        st, id, &drv, &snap, &work, &debs_dir, &src_dir, &session, None, observer,
    )
    .and_then(|(result, root_cached, log)| {
        // Store the outputs before the work directory goes away.
        let mut outputs = BTreeMap::new();
        if result.success() {
            for o in &result.outputs {
                let mut f = std::fs::File::open(&o.path).map_err(io(&o.path))?;
                let s = st
                    .store
                    .put_reader(&mut f, ObjectKind::Blob, &[], Some(&session))?;
                outputs.insert(
                    o.name.clone(),
                    OutputRef {
                        digest: s.digest,
                        size: s.size,
                    },
                );
            }
        }
        Ok((result, root_cached, log, outputs))
    });
    super::remove_work(
        &work,
        &super::any_ready_root(&st.build_dir).unwrap_or_default(),
    );
    let (result, root_cached, log, outputs) = res?;
    let log_digest = st
        .store
        .put_bytes(&log, ObjectKind::Blob, &[], Some(&session))?
        .digest;
    st.store.add_root(&format!("log/{id}"), &log_digest)?;
    st.build_logs.set(id, log_digest);
    if !result.success() {
        return Ok(BuildOutcome {
            derivation: *id,
            status: "failed".into(),
            outputs: Vec::new(),
            log: Some(log_digest),
            log_tail: Some(tail(&log, 40)),
            duration_secs: started.elapsed().as_secs_f64(),
            root_cached: Some(root_cached),
            rebuild_differences: None,
        });
    }
    let new = Realisation { drv: *id, outputs };
    let differences = match &existing {
        Some(old) => Some(compare(old, &new)),
        None => {
            st.store.set_realisation(&new)?;
            None
        }
    };
    let shown = existing.as_ref().unwrap_or(&new);
    Ok(BuildOutcome {
        derivation: *id,
        status: "built".into(),
        outputs: output_infos(st, shown)?,
        log: Some(log_digest),
        log_tail: None,
        duration_secs: started.elapsed().as_secs_f64(),
        root_cached: Some(root_cached),
        rebuild_differences: differences,
    })
}

fn compare(old: &Realisation, new: &Realisation) -> Vec<RebuildDifference> {
    let mut names: Vec<&String> = old.outputs.keys().chain(new.outputs.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|n| {
            let a = old.outputs.get(n).map(|o| o.digest);
            let b = new.outputs.get(n).map(|o| o.digest);
            (a != b).then(|| RebuildDifference {
                name: n.clone(),
                recorded: a,
                rebuilt: b,
            })
        })
        .collect()
}

/// A deliberate change of the build environment (as reprotest does) for `--check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variation {
    /// Another build directory.
    BuildPath,
    /// The real clock instead of the recorded policy (or a far-future pinned date when the
    /// recorded policy is already `real`).
    Time,
    /// umask 002 instead of 022.
    Umask,
    /// `LANG`/`LC_ALL=C` instead of `C.UTF-8`.
    Locale,
    /// Another hostname inside the sandbox (`cryo-varied-host` instead of `cryo-build`).
    Hostname,
}

impl Variation {
    /// Every supported variation.
    pub const ALL: [Variation; 5] = [
        Self::BuildPath,
        Self::Time,
        Self::Umask,
        Self::Locale,
        Self::Hostname,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::BuildPath => "build-path",
            Self::Time => "time",
            Self::Umask => "umask",
            Self::Locale => "locale",
            Self::Hostname => "hostname",
        }
    }

    /// Parse a name; the error lists what is supported.
    pub fn parse(s: &str) -> Result<Self, BuildError> {
        Self::ALL
            .into_iter()
            .find(|v| v.name() == s)
            .ok_or_else(|| {
                BuildError::Invalid(format!(
                    "unknown variation {s:?}: supported are {}",
                    Self::ALL.map(|v| v.name()).join(", ")
                ))
            })
    }

    fn apply(self, s: &mut BuildSettings) -> Result<(), BuildError> {
        match self {
            Self::BuildPath => {
                s.build_path =
                    BuildPathTemplate::parse("/build/cryo-varied-path/%{SRC}-%{VER}-varied")
                        .map_err(BuildError::Invalid)?
            }
            Self::Time => {
                s.clock = match s.clock {
                    Clock::Real => Clock::Fixed(4_102_444_800), // 2100-01-01
                    _ => Clock::Real,
                }
            }
            Self::Umask => s.umask = 0o002,
            Self::Locale => s.locale = "C".into(),
            Self::Hostname => s.hostname = Some("cryo-varied-host".into()),
        }
        Ok(())
    }
}

/// Build `id` again with one variation; returns the outputs (not recorded) and the log.
pub fn build_varied(
    st: &AppState,
    id: &B3Digest,
    v: Variation,
) -> Result<(cryo_debbuild::BuildResult, BTreeMap<String, Vec<u8>>), BuildError> {
    let drv = read_drv(st, id)?;
    let _permit = st.build_slots.acquire();
    st.builds_run
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let session = st.store.session();
    let snap = snapshot::get(st, &drv.snapshot.to_hex())?;
    let work =
        st.build_dir
            .join("builds")
            .join(format!("{id}-{}-{}", v.name(), std::process::id()));
    if work.exists() {
        super::remove_work(
            &work,
            &super::any_ready_root(&st.build_dir).unwrap_or_default(),
        );
    }
    let (debs_dir, src_dir) = (work.join("debs"), work.join("src"));
    for d in [&debs_dir, &src_dir] {
        std::fs::create_dir_all(d).map_err(io(d))?;
    }
    let res = run_build(
        st,
        id,
        &drv,
        &snap,
        &work,
        &debs_dir,
        &src_dir,
        &session,
        Some(v),
        None,
    )
    .and_then(|(result, _, _)| {
        let mut files = BTreeMap::new();
        if result.success() {
            for o in &result.outputs {
                files.insert(o.name.clone(), std::fs::read(&o.path).map_err(io(&o.path))?);
            }
        }
        Ok((result, files))
    });
    super::remove_work(
        &work,
        &super::any_ready_root(&st.build_dir).unwrap_or_default(),
    );
    res
}

type RunResult = (cryo_debbuild::BuildResult, bool, Vec<u8>);

#[allow(clippy::too_many_arguments)]
fn run_build(
    st: &AppState,
    id: &B3Digest,
    drv: &Derivation,
    snap: &snapshot::SnapshotInfo,
    work: &Path,
    debs_dir: &Path,
    src_dir: &Path,
    session: &Session,
    vary: Option<Variation>,
    observer: Option<Arc<dyn JobObserver>>,
) -> Result<RunResult, BuildError> {
    let mut log = format!("cryo: building derivation {id}\n").into_bytes();
    // The closure, fetched on demand and verified.
    let mut debs: BTreeMap<String, PathBuf> = BTreeMap::new();
    for c in &drv.closure {
        // Packages built by projects are not in the snapshot: they are known by SHA256.
        let local = crate::mirror::sync::known_blake3(st, &c.sha256)?
            .filter(|d| st.store.contains(d).unwrap_or(false));
        let (d, file_name) = match local {
            Some(d) => {
                st.store.hold(session, &d)?;
                (
                    d,
                    format!(
                        "{}_{}_{}.deb",
                        c.name,
                        c.version.replace(':', "%3a"),
                        c.arch
                    ),
                )
            }
            None => {
                let pf = pool_file(st, snap, c)?;
                (
                    dod::ensure(st, snap, &pf, session)?,
                    pf.file_name().to_string(),
                )
            }
        };
        let path = debs_dir.join(file_name);
        export(st, &d, &path)?;
        debs.insert(c.name.clone(), path);
    }
    let (root, root_cached) = roots::ensure_root(st, drv, &debs, &mut log)?;
    // The source files, from the store.
    let mut files = Vec::new();
    let mut dsc = None;
    for (name, d) in &drv.source.files {
        let p = src_dir.join(name);
        export(st, d, &p)?;
        if name.ends_with(".dsc") {
            dsc = Some(p);
        } else {
            files.push(p);
        }
    }
    let dsc =
        dsc.ok_or_else(|| BuildError::Invalid("the derivation's source has no .dsc".into()))?;
    let (mut settings, kind) = settings(drv)?;
    if let Some(v) = vary {
        v.apply(&mut settings)?;
        log.extend_from_slice(format!("cryo: deliberate variation: {}\n", v.name()).as_bytes());
    }
    let spec = BuildSpec {
        root_dir: root,
        source: SourceFiles { dsc, files },
        settings,
        kind,
        work_dir: work.join("build"),
    };
    let result = cryo_debbuild::build_observed(&spec, &helper_command()?, observer)
        .map_err(|e| BuildError::Run(super::chain(&e)))?;
    log.extend_from_slice(&result.log);
    if result.log_truncated {
        log.extend_from_slice(b"\ncryo: the build log was truncated at its size limit\n");
    }
    Ok((result, root_cached, log))
}

/// A release pattern (`+eol12u<CI_CNT>`) as a POSIX extended regex matching any suffix it
/// renders (`\+eol12u[0-9]+`), for the changelog step to replace rather than stack.
fn release_regex(pattern: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(r) = rest
            .strip_prefix("<CI_CNT>")
            .or_else(|| rest.strip_prefix("<B_CNT>"))
        {
            out.push_str("[0-9]+");
            rest = r;
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        if ".+*?()[]{}|^$\\/".contains(c) {
            out.push('\\');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod release_tests {
    #[test]
    fn release_regex_escapes_and_generalises_counters() {
        assert_eq!(super::release_regex("+eol12u<CI_CNT>"), "\\+eol12u[0-9]+");
        assert_eq!(
            super::release_regex("~cryo<CI_CNT>.<B_CNT>"),
            "~cryo[0-9]+\\.[0-9]+"
        );
    }
}
