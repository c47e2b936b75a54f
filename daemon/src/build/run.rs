//! Realise one derivation.
//!
//! The work directory of a build is written through directory handles (`cap_std::fs::Dir`),
//! never by joining strings: every file the daemon puts there is created new under a
//! [`SafeName`] (`O_CREAT|O_EXCL`, so an entry planted there, a symlink included, is
//! refused rather than followed), and outputs are read back through a handle on the
//! output directory that cannot be led out of it. A derivation's names are checked again
//! when it is read (it could come from the store, not from `drv::derive`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use cryo_debbuild::{BuildKind, BuildSettings, BuildSpec, SourceFiles};
use cryo_prjconf::{BuildPathTemplate, Clock};
use cryo_sandbox::JobObserver;
use cryo_store::derivation::Derivation;
use cryo_store::realisation::{OutputRef, Realisation};
use cryo_store::{B3Digest, ObjectKind, SafeName, Session};

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::ambient_authority;
use cap_std::fs::Dir;

use super::Builder;
use super::{helper_command, io, roots, BuildError};
use crate::mirror::dod::{self, PoolFile};
use crate::mirror::query;
use crate::mirror::snapshot::{self, IndexKind};

/// One output of a build, a rebuild difference and what `cryo build` answers: the API's
/// types.
pub use cryo_store::api::{BuildOutcome, BuildStatus, OutputInfo, RebuildDifference};

fn read_drv(st: &Builder, id: &B3Digest) -> Result<Derivation, BuildError> {
    let bytes = st.store.read(id)?;
    let drv = Derivation::decode(&bytes)
        .map_err(|e| BuildError::Invalid(format!("derivation {id}: {e}")))?;
    source_names(id, &drv)?;
    Ok(drv)
}

/// The derivation's source files as safe names (each becomes a file in the work dir).
fn source_names(id: &B3Digest, drv: &Derivation) -> Result<Vec<(SafeName, B3Digest)>, BuildError> {
    drv.source
        .files
        .iter()
        .map(|(name, d)| {
            SafeName::new(name).map(|n| (n, *d)).map_err(|e| {
                BuildError::Invalid(format!("derivation {id}: unsafe source file name: {e}"))
            })
        })
        .collect()
}

fn output_infos(st: &Builder, r: &Realisation) -> Result<Vec<OutputInfo>, BuildError> {
    let mut out = Vec::new();
    for (name, o) in &r.outputs {
        let sha256 = sha256_of(st, &o.digest)?;
        out.push(OutputInfo {
            name: name.clone(),
            blake3: o.digest,
            sha256,
            size: o.size,
        });
    }
    Ok(out)
}

/// BLAKE3 (hex) → SHA256 (hex) of build outputs, so that a cached outcome does not read
/// every output again to show its SHA256 (not JSON).
const OUTPUT_SHA256: redb::TableDefinition<&str, &str> =
    redb::TableDefinition::new("output_sha256");

fn known_sha256(st: &Builder, d: &B3Digest) -> Result<Option<String>, BuildError> {
    let db = st.store.index().database();
    let tx = redb::ReadableDatabase::begin_read(db.as_ref()).map_err(redb_err)?;
    let t = match tx.open_table(OUTPUT_SHA256) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(redb_err(e)),
    };
    Ok(t.get(d.to_hex().as_str())
        .map_err(redb_err)?
        .map(|v| v.value().to_owned()))
}

fn remember_sha256(st: &Builder, d: &B3Digest, sha256: &str) -> Result<(), BuildError> {
    let db = st.store.index().database();
    let tx = db.begin_write().map_err(redb_err)?;
    tx.open_table(OUTPUT_SHA256)
        .map_err(redb_err)?
        .insert(d.to_hex().as_str(), sha256)
        .map_err(redb_err)?;
    tx.commit().map_err(redb_err)
}

fn redb_err(e: impl std::fmt::Display) -> BuildError {
    BuildError::Invalid(format!("build index (table output_sha256): {e}"))
}

/// SHA256 of a stored output: remembered when it was stored, else read once and remembered.
fn sha256_of(st: &Builder, d: &B3Digest) -> Result<String, BuildError> {
    if let Some(s) = known_sha256(st, d)? {
        return Ok(s);
    }
    let mut r = st.store.open_blob(d)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let k = r
            .read(&mut buf)
            .map_err(|e| BuildError::Invalid(format!("{d}: {e}")))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
    }
    let sha = hex::encode(h.finalize());
    remember_sha256(st, d, &sha)?;
    Ok(sha)
}

/// A reader that hashes what passes through it (SHA256 of an output while it is stored).
struct Sha256Reader<R> {
    inner: R,
    sha: Sha256,
}

impl<R: Read> Read for Sha256Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
}

/// Write a store object as the new file `name` in `dir` (shown as `shown` in errors);
/// returns its path.
fn export(
    st: &Builder,
    d: &B3Digest,
    dir: &Dir,
    shown: &Path,
    name: &SafeName,
) -> Result<PathBuf, BuildError> {
    let mut r = st.store.open_blob(d)?;
    let path = shown.join(name.as_str());
    write_new(dir, name, &mut r).map_err(io(&path))?;
    Ok(path)
}

/// Create `name` in `dir` and copy `r` into it. Never opens an existing entry: a file or
/// symlink already there (planted by a build) is an error, and nothing is written
/// through it.
fn write_new(dir: &Dir, name: &SafeName, r: &mut dyn Read) -> std::io::Result<()> {
    let mut opts = cap_std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    let mut f = dir.open_with(name.as_str(), &opts)?;
    std::io::copy(r, &mut f)?;
    Ok(())
}

/// The work directory of one build, `<build dir>/builds/<leaf>`, created fresh, and
/// handles on its `debs/` and `src/`.
struct WorkDir {
    path: PathBuf,
    debs: Dir,
    src: Dir,
}

impl WorkDir {
    fn create(st: &Builder, leaf: &str) -> Result<Self, BuildError> {
        let builds = st.build_dir.join("builds");
        std::fs::create_dir_all(&builds).map_err(io(&builds))?;
        let path = builds.join(leaf);
        if std::fs::symlink_metadata(&path).is_ok() {
            super::remove_work(
                &path,
                &super::any_ready_root(&st.build_dir).unwrap_or_default(),
            );
        }
        let b = Dir::open_ambient_dir(&builds, ambient_authority()).map_err(io(&builds))?;
        b.create_dir(leaf).map_err(io(&path))?;
        let w = b.open_dir_nofollow(leaf).map_err(io(&path))?;
        let sub = |name: &str| -> Result<Dir, BuildError> {
            let p = path.join(name);
            w.create_dir(name).map_err(io(&p))?;
            w.open_dir_nofollow(name).map_err(io(&p))
        };
        Ok(Self {
            debs: sub("debs")?,
            src: sub("src")?,
            path,
        })
    }

    fn debs_path(&self) -> PathBuf {
        self.path.join("debs")
    }

    fn src_path(&self) -> PathBuf {
        self.path.join("src")
    }
}

/// Open an output the build left in its output directory: through a handle on that
/// directory, a regular file only (a symlink, even one pointing inside, is refused).
fn open_output(o: &cryo_debbuild::BuildOutput) -> Result<cap_std::fs::File, BuildError> {
    let bad = |why: String| BuildError::Invalid(format!("build output {:?}: {why}", o.name));
    let name = SafeName::new(&o.name).map_err(|e| bad(e.to_string()))?;
    let parent = match (o.path.parent(), o.path.file_name()) {
        (Some(p), Some(f)) if f == name.as_str() => p,
        _ => return Err(bad(format!("unexpected path {}", o.path.display()))),
    };
    let dir = Dir::open_ambient_dir(parent, ambient_authority()).map_err(io(parent))?;
    let md = dir.symlink_metadata(name.as_str()).map_err(io(&o.path))?;
    if !md.is_file() {
        return Err(bad("not a regular file".into()));
    }
    let mut opts = cap_std::fs::OpenOptions::new();
    opts.read(true).follow(FollowSymlinks::No);
    let f = dir.open_with(name.as_str(), &opts).map_err(io(&o.path))?;
    if !f.metadata().map_err(io(&o.path))?.is_file() {
        return Err(bad("not a regular file".into()));
    }
    Ok(f)
}

/// The pool file of a closure entry (found in the snapshot by name, version and SHA256).
fn pool_file(
    st: &Builder,
    snap: &snapshot::SnapshotInfo,
    c: &cryo_store::derivation::ClosureEntry,
) -> Result<PoolFile, BuildError> {
    let entries = query::package(&st.store, snap, &c.name)?;
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

/// `Cryo-Timeout` and `Cryo-IdleTimeout` of the derivation's prjconf: its normalised form
/// (compact JSON, see `cryo_prjconf::normalize`) is a store object the derivation
/// references. Not inputs of their own: they decide whether a build finishes, not what it
/// produces.
fn prjconf_timeouts(
    st: &Builder,
    drv: &Derivation,
) -> Result<(std::time::Duration, std::time::Duration), BuildError> {
    let d: B3Digest = drv
        .prjconf
        .parse()
        .map_err(|e| BuildError::Invalid(format!("prjconf digest {:?}: {e}", drv.prjconf)))?;
    let norm: serde_json::Value = serde_json::from_slice(&st.store.read(&d)?)
        .map_err(|e| BuildError::Invalid(format!("normalised prjconf {d}: {e}")))?;
    // A prjconf normalised before a key existed keeps the builder's default.
    let defaults = BuildSettings::default();
    let timeout = norm["cryo"]["timeout_secs"]
        .as_u64()
        .map(std::time::Duration::from_secs)
        .unwrap_or(defaults.timeout);
    let idle = norm["cryo"]["idle_timeout_mins"]
        .as_u64()
        .map(|m| std::time::Duration::from_secs(m * 60))
        .unwrap_or(defaults.idle_timeout);
    Ok((timeout, idle))
}

/// Why a build failed, for the end of its log (the sandbox's status is not in it).
fn failure_reason(status: cryo_sandbox::ExitStatusKind, s: &BuildSettings, log: &[u8]) -> String {
    use cryo_sandbox::ExitStatusKind as K;
    match status {
        K::Exited(n) => format!("the build exited with status {n}"),
        K::Signaled(n) => format!("the build was killed by signal {n}"),
        K::TimedOut => format!(
            "the build timed out after {} s (Cryo-Timeout); everything it started was killed",
            s.timeout.as_secs()
        ),
        K::IdleTimedOut => format!(
            "timed out: no output for {} min (Cryo-IdleTimeout); everything it started was \
             killed. The last lines it printed:\n{}",
            s.idle_timeout.as_secs() / 60,
            tail(log, 15)
        ),
        K::OutputLimit => "the build was killed at the log size limit".into(),
        K::Cancelled => "the build was aborted".into(),
    }
}

fn tail(log: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(log);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Build (or return the cached outputs of) derivation `id`. Blocking.
pub fn realise(st: &Builder, id: &B3Digest, rebuild: bool) -> Result<BuildOutcome, BuildError> {
    realise_observed(st, id, rebuild, None)
}

/// [`realise`], with `observer` watching the sandbox jobs (live log, abort).
pub fn realise_observed(
    st: &Builder,
    id: &B3Digest,
    rebuild: bool,
    observer: Option<Arc<dyn JobObserver>>,
) -> Result<BuildOutcome, BuildError> {
    let started = std::time::Instant::now();
    let drv = read_drv(st, id)?;
    let existing = st.store.realisation(id)?;
    if let Some(done) = without_building(st, id, existing.as_ref(), rebuild, started)? {
        return Ok(done);
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
    let (result, root_cached, log, outputs) = build_in_workdir(st, id, &drv, &session, observer)?;
    let log_digest = st
        .store
        .put_bytes(&log, ObjectKind::Blob, &[], Some(&session))?
        .digest;
    st.store.add_root(&format!("log/{id}"), &log_digest)?;
    st.build_logs.set(id, log_digest);
    if !result.success() {
        return Ok(BuildOutcome {
            derivation: *id,
            status: BuildStatus::Failed,
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
        Some(old) => Some(compare(st, old, &new)?),
        None => {
            st.store.set_realisation(&new)?;
            None
        }
    };
    let shown = existing.as_ref().unwrap_or(&new);
    Ok(BuildOutcome {
        derivation: *id,
        status: BuildStatus::Built,
        outputs: output_infos(st, shown)?,
        log: Some(log_digest),
        log_tail: None,
        duration_secs: started.elapsed().as_secs_f64(),
        root_cached: Some(root_cached),
        rebuild_differences: differences,
    })
}

/// The outcome when nothing has to be built: the realisation exists (and no rebuild is
/// asked for), or a substituter provides it.
fn without_building(
    st: &Builder,
    id: &B3Digest,
    existing: Option<&Realisation>,
    rebuild: bool,
    started: std::time::Instant,
) -> Result<Option<BuildOutcome>, BuildError> {
    if let (Some(r), false) = (existing, rebuild) {
        return Ok(Some(BuildOutcome {
            derivation: *id,
            status: BuildStatus::Cached,
            outputs: output_infos(st, r)?,
            log: st.build_logs.get(id),
            log_tail: None,
            duration_secs: started.elapsed().as_secs_f64(),
            root_cached: None,
            rebuild_differences: None,
        }));
    }
    if !rebuild {
        if let Some((r, from)) =
            crate::cache::substitute::substitute(&st.store, &st.substituters, id)
        {
            return Ok(Some(BuildOutcome {
                derivation: *id,
                status: BuildStatus::Substituted,
                outputs: output_infos(st, &r)?,
                log: None,
                log_tail: Some(format!("substituted from {from}")),
                duration_secs: started.elapsed().as_secs_f64(),
                root_cached: None,
                rebuild_differences: None,
            }));
        }
    }
    Ok(None)
}

/// What a build in a work directory left: its result, whether the root was cached, the
/// log and the stored outputs.
type Built = (
    cryo_debbuild::BuildResult,
    bool,
    Vec<u8>,
    BTreeMap<String, OutputRef>,
);

/// Run the build in a fresh work directory, store its outputs, remove the directory.
fn build_in_workdir(
    st: &Builder,
    id: &B3Digest,
    drv: &Derivation,
    session: &Session,
    observer: Option<Arc<dyn JobObserver>>,
) -> Result<Built, BuildError> {
    let snap = snapshot::get(&st.store, &drv.snapshot.to_hex())?;
    let work = WorkDir::create(st, &format!("{id}-{}", std::process::id()))?;
    let res = run_build(st, id, drv, &snap, &work, session, None, observer).and_then(
        |(result, root_cached, log)| {
            // Store the outputs before the work directory goes away.
            let mut outputs = BTreeMap::new();
            if result.success() {
                for o in &result.outputs {
                    // Hashed once on the way in: BLAKE3 by the store, SHA256 here.
                    let mut f = Sha256Reader {
                        inner: open_output(o)?,
                        sha: Sha256::new(),
                    };
                    let s = st
                        .store
                        .put_reader(&mut f, ObjectKind::Blob, &[], Some(session))?;
                    remember_sha256(st, &s.digest, &hex::encode(f.sha.finalize()))?;
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
        },
    );
    super::remove_work(
        &work.path,
        &super::any_ready_root(&st.build_dir).unwrap_or_default(),
    );
    res
}

/// The outputs that differ between a recorded and a new realisation of one derivation.
/// A `.buildinfo` records when it was made (`Build-Date`) and a `.changes` lists the
/// `.buildinfo`'s checksums: with the real clock (the default, as on Debian's build
/// daemons) both change on every build, so they count as different only when something
/// else in them differs.
fn compare(
    st: &Builder,
    old: &Realisation,
    new: &Realisation,
) -> Result<Vec<RebuildDifference>, BuildError> {
    let mut names: Vec<&String> = old.outputs.keys().chain(new.outputs.keys()).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for n in names {
        let a = old.outputs.get(n).map(|o| o.digest);
        let b = new.outputs.get(n).map(|o| o.digest);
        if a == b {
            continue;
        }
        if let (Some(x), Some(y)) = (a, b) {
            if !build_metadata_differs(n, &st.store.read(&x)?, &st.store.read(&y)?) {
                continue;
            }
        }
        out.push(RebuildDifference {
            name: n.clone(),
            recorded: a,
            rebuilt: b,
        });
    }
    Ok(out)
}

/// Whether two versions of output `name` differ beyond the build's date (see [`compare`]).
fn build_metadata_differs(name: &str, a: &[u8], b: &[u8]) -> bool {
    let keep: fn(&str) -> bool = if name.ends_with(".buildinfo") {
        |l| !l.starts_with("Build-Date:")
    } else if name.ends_with(".changes") {
        |l| !l.ends_with(".buildinfo")
    } else {
        return true;
    };
    let strip = |x: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(x)
            .lines()
            .filter(|l| keep(l))
            .map(str::to_owned)
            .collect()
    };
    strip(a) != strip(b)
}

#[cfg(test)]
mod failure_tests {
    #[test]
    fn an_idle_build_says_how_long_it_was_silent_and_what_it_printed_last() {
        let s = cryo_debbuild::BuildSettings::default();
        let why = super::failure_reason(
            cryo_sandbox::ExitStatusKind::IdleTimedOut,
            &s,
            b"configure\nrunning tests\nt/wait.t .. 1/3\n",
        );
        assert!(
            why.starts_with("timed out: no output for 150 min (Cryo-IdleTimeout)"),
            "{why}"
        );
        assert!(why.ends_with("running tests\nt/wait.t .. 1/3"), "{why}");
    }
}

#[cfg(test)]
mod compare_tests {
    #[test]
    fn the_build_date_alone_is_no_difference() {
        let a = b"Format: 1.0\nBuild-Date: Thu, 03 Dec 2026 10:00:00 +0000\nBuild-Path: /b\n";
        let b = b"Format: 1.0\nBuild-Date: Thu, 03 Dec 2026 10:05:00 +0000\nBuild-Path: /b\n";
        let c = b"Format: 1.0\nBuild-Date: Thu, 03 Dec 2026 10:05:00 +0000\nBuild-Path: /c\n";
        assert!(!super::build_metadata_differs("x.buildinfo", a, b));
        assert!(super::build_metadata_differs("x.buildinfo", a, c));
        assert!(super::build_metadata_differs("x.deb", a, b));
        let ch1 = b"Files:\n 1 2 misc optional x.deb\n 3 4 misc optional x_amd64.buildinfo\n";
        let ch2 = b"Files:\n 1 2 misc optional x.deb\n 5 6 misc optional x_amd64.buildinfo\n";
        let ch3 = b"Files:\n 9 2 misc optional x.deb\n 5 6 misc optional x_amd64.buildinfo\n";
        assert!(!super::build_metadata_differs("x.changes", ch1, ch2));
        assert!(super::build_metadata_differs("x.changes", ch1, ch3));
    }
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
    st: &Builder,
    id: &B3Digest,
    v: Variation,
) -> Result<(cryo_debbuild::BuildResult, BTreeMap<String, Vec<u8>>), BuildError> {
    let drv = read_drv(st, id)?;
    let _permit = st.build_slots.acquire();
    st.builds_run
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let session = st.store.session();
    let snap = snapshot::get(&st.store, &drv.snapshot.to_hex())?;
    let work = WorkDir::create(st, &format!("{id}-{}-{}", v.name(), std::process::id()))?;
    let res = run_build(st, id, &drv, &snap, &work, &session, Some(v), None).and_then(
        |(result, _, _)| {
            let mut files = BTreeMap::new();
            if result.success() {
                for o in &result.outputs {
                    let mut bytes = Vec::new();
                    open_output(o)?
                        .read_to_end(&mut bytes)
                        .map_err(io(&o.path))?;
                    files.insert(o.name.clone(), bytes);
                }
            }
            Ok((result, files))
        },
    );
    super::remove_work(
        &work.path,
        &super::any_ready_root(&st.build_dir).unwrap_or_default(),
    );
    res
}

/// At most this many closure packages are fetched (downloaded on demand, verified while
/// streaming, and exported to the work directory) at once.
const FETCH_PARALLEL: usize = 8;

/// The closure's packages as files in the work directory's `debs/` (closure entry name →
/// path), fetched from the store or, on demand, from the mirror: [`FETCH_PARALLEL`] at a
/// time.
fn fetch_closure(
    st: &Builder,
    id: &B3Digest,
    drv: &Derivation,
    snap: &snapshot::SnapshotInfo,
    work: &WorkDir,
    session: &Session,
) -> Result<BTreeMap<String, PathBuf>, BuildError> {
    let debs_dir = work.debs_path();
    let one = |c: &cryo_store::derivation::ClosureEntry| -> Result<PathBuf, BuildError> {
        // Packages built by projects are not in the snapshot: they are known by SHA256.
        let local = crate::mirror::sync::known_blake3(&st.store, &c.sha256)?
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
                    dod::ensure(&st.store, snap, &pf, session)?,
                    pf.file_name().to_string(),
                )
            }
        };
        let file_name = SafeName::new(&file_name).map_err(|e| {
            BuildError::Invalid(format!(
                "derivation {id}: closure entry {} {}: unsafe file name: {e}",
                c.name, c.version
            ))
        })?;
        export(st, &d, &work.debs, &debs_dir, &file_name)
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Vec<(usize, Result<PathBuf, BuildError>)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..FETCH_PARALLEL.min(drv.closure.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(c) = drv.closure.get(i) else { break };
                        let r = one(c);
                        let failed = r.is_err();
                        out.push((i, r));
                        if failed {
                            // Stop handing out work; the others finish what they hold.
                            next.store(drv.closure.len(), std::sync::atomic::Ordering::Relaxed);
                            break;
                        }
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("fetch worker"))
            .collect()
    });
    let mut by_index: Vec<(usize, Result<PathBuf, BuildError>)> =
        results.into_iter().flatten().collect();
    by_index.sort_by_key(|(i, _)| *i);
    let mut debs = BTreeMap::new();
    for (i, r) in by_index {
        debs.insert(drv.closure[i].name.clone(), r?);
    }
    if debs.len() != drv.closure.len() {
        return Err(BuildError::Invalid(format!(
            "derivation {id}: fetched {} of {} closure packages",
            debs.len(),
            drv.closure.len()
        )));
    }
    Ok(debs)
}

type RunResult = (cryo_debbuild::BuildResult, bool, Vec<u8>);

#[allow(clippy::too_many_arguments)]
fn run_build(
    st: &Builder,
    id: &B3Digest,
    drv: &Derivation,
    snap: &snapshot::SnapshotInfo,
    work: &WorkDir,
    session: &Session,
    vary: Option<Variation>,
    observer: Option<Arc<dyn JobObserver>>,
) -> Result<RunResult, BuildError> {
    let mut log = format!("cryo: building derivation {id}\n").into_bytes();
    // Checked when the derivation was read; checked again where names become files.
    let sources = source_names(id, drv)?;
    let src_dir = work.src_path();
    // The closure's packages are fetched only when a root has to be prepared: a cached
    // root needs none of them.
    let mut fetched: Option<BTreeMap<String, PathBuf>> = None;
    let mut fetch_log = Vec::new();
    let mut fetch = || -> Result<BTreeMap<String, PathBuf>, BuildError> {
        if let Some(d) = &fetched {
            return Ok(d.clone());
        }
        let t = std::time::Instant::now();
        let d = fetch_closure(st, id, drv, snap, work, session)?;
        fetch_log.extend_from_slice(
            format!(
                "cryo: fetched the closure's {} packages in {:.1}s\n",
                d.len(),
                t.elapsed().as_secs_f64()
            )
            .as_bytes(),
        );
        fetched = Some(d.clone());
        Ok(d)
    };
    // Held until the build ends: eviction never removes a root a build mounts.
    let (root_use, root_cached) = roots::ensure_root(st, drv, &mut fetch, &mut log)?;
    log.append(&mut fetch_log);
    // The source files, from the store.
    let mut files = Vec::new();
    let mut dsc = None;
    for (name, d) in &sources {
        let p = export(st, d, &work.src, &src_dir, name)?;
        if name.ends_with(".dsc") {
            dsc = Some(p);
        } else {
            files.push(p);
        }
    }
    let dsc =
        dsc.ok_or_else(|| BuildError::Invalid("the derivation's source has no .dsc".into()))?;
    let (mut settings, kind) = settings(drv)?;
    (settings.timeout, settings.idle_timeout) = prjconf_timeouts(st, drv)?;
    if let Some(v) = vary {
        v.apply(&mut settings)?;
        log.extend_from_slice(format!("cryo: deliberate variation: {}\n", v.name()).as_bytes());
    }
    let spec = BuildSpec {
        root_dir: root_use.root.clone(),
        source: SourceFiles { dsc, files },
        settings,
        kind,
        work_dir: work.path.join("build"),
    };
    let result = cryo_debbuild::build_observed(&spec, &helper_command()?, observer)
        .map_err(|e| BuildError::Run(Box::new(e)))?;
    log.extend_from_slice(&result.log);
    if result.log_truncated {
        log.extend_from_slice(b"\ncryo: the build log was truncated at its size limit\n");
    }
    if !result.success() {
        let why = failure_reason(result.status, &spec.settings, &result.log);
        log.extend_from_slice(format!("\ncryo: build failed: {why}\n").as_bytes());
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

#[cfg(test)]
mod work_dir_tests {
    use std::os::unix::fs::symlink;

    use cap_std::ambient_authority;
    use cap_std::fs::Dir;
    use cryo_store::SafeName;

    use super::{open_output, write_new};

    #[test]
    fn exports_never_write_through_a_planted_symlink() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("target");
        std::fs::write(&target, "precious").unwrap();
        let missing = tmp.path().join("missing");
        let src = tmp.path().join("src");
        std::fs::create_dir(&src).unwrap();
        // What a hostile build (or a local user) could leave in a work directory.
        symlink(&target, src.join("x.dsc")).unwrap();
        symlink(&missing, src.join("y.tar.xz")).unwrap();
        let dir = Dir::open_ambient_dir(&src, ambient_authority()).unwrap();
        for name in ["x.dsc", "y.tar.xz"] {
            let e = write_new(&dir, &SafeName::new(name).unwrap(), &mut &b"evil"[..])
                .expect_err("must not write through a symlink");
            assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{name}: {e}");
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert!(!missing.exists(), "a dangling symlink was followed");
        write_new(&dir, &SafeName::new("z.dsc").unwrap(), &mut &b"ok"[..]).unwrap();
        assert_eq!(std::fs::read_to_string(src.join("z.dsc")).unwrap(), "ok");
    }

    #[test]
    fn outputs_are_read_only_from_regular_files_in_the_output_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let secret = tmp.path().join("secret");
        std::fs::write(&secret, "host secret").unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("good_1.0_all.deb"), "deb").unwrap();
        symlink(&secret, out.join("evil_1.0_all.deb")).unwrap();
        symlink("good_1.0_all.deb", out.join("inner_1.0_all.deb")).unwrap();
        let output = |name: &str| cryo_debbuild::BuildOutput {
            name: name.into(),
            path: out.join(name),
        };
        let mut s = String::new();
        std::io::Read::read_to_string(
            &mut open_output(&output("good_1.0_all.deb")).unwrap(),
            &mut s,
        )
        .unwrap();
        assert_eq!(s, "deb");
        for name in ["evil_1.0_all.deb", "inner_1.0_all.deb"] {
            let e = open_output(&output(name)).expect_err("a symlink is not an output");
            assert!(e.to_string().contains("not a regular file"), "{e}");
        }
        // A name that is not the path's last component, or not a safe name, is refused.
        let odd = cryo_debbuild::BuildOutput {
            name: "../secret".into(),
            path: out.join("../secret"),
        };
        assert!(open_output(&odd).is_err());
    }
}
