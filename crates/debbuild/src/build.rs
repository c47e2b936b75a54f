//! One build: in a private overlay over a configured root, `dpkg-source -x` and then
//! `dpkg-buildpackage` run as the unprivileged build user with an exact environment, the
//! clock pinned as the settings ask, and the outputs (`.deb`, `.udeb`, `.buildinfo`,
//! `.changes`) collected from the build directory's parent. A failed build returns its
//! status and log and no outputs.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cryo_sandbox::{
    BindMount, ExitStatusKind, HelperCommand, JobObserver, Owner, RootFs, SandboxError,
};

use crate::clock::{pinned_epoch, ClockError};
use crate::job::{self, JobLog};
use crate::settings::BuildSpec;
use crate::source::{build_path, check_source, SourceError};

/// Inside the sandbox, where the source files are bind-mounted read-only.
const SOURCE_DIR: &str = "/cryo-source";
/// File name endings collected as outputs.
const OUTPUT_SUFFIXES: &[&str] = &[".deb", ".udeb", ".buildinfo", ".changes"];

/// One produced file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOutput {
    pub name: String,
    pub path: PathBuf,
}

/// The result of a build that ran (successfully or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildResult {
    /// How the last command that ran ended (`dpkg-source` if unpacking failed).
    pub status: ExitStatusKind,
    /// Sorted by name; empty unless the build succeeded.
    pub outputs: Vec<BuildOutput>,
    /// cryo's header (commands, environment) and both commands' output.
    pub log: Vec<u8>,
    pub log_truncated: bool,
    pub duration: Duration,
    /// The date of the top `debian/changelog` entry (what dpkg exports as
    /// `SOURCE_DATE_EPOCH`); `None` if unpacking failed.
    pub source_date_epoch: Option<i64>,
    /// The build directory inside the sandbox.
    pub build_path: String,
}

impl BuildResult {
    pub fn success(&self) -> bool {
        self.status == ExitStatusKind::Exited(0)
    }
}

/// Errors that prevent a build from running (a build that runs and fails is a
/// [`BuildResult`]).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{0} must be an absolute path")]
    Relative(PathBuf),
    #[error("the work directory {0} is not empty")]
    WorkDirNotEmpty(PathBuf),
    #[error("i/o error on {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the build root has no user with uid {uid} (prepare the root with this build user)")]
    NoBuildUser { uid: u32 },
    #[error("cannot read the unpacked source's debian/changelog")]
    Changelog(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Clock(#[from] ClockError),
    #[error("sandbox failure")]
    Sandbox(#[from] SandboxError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.into(),
        source,
    }
}

/// Runs the build described by `spec` with the sandbox helper `helper`. Blocking.
pub fn build(spec: &BuildSpec, helper: &HelperCommand) -> Result<BuildResult, BuildError> {
    build_observed(spec, helper, None)
}

/// [`build`], with `observer` seeing each job's kill handle and the log as it is written
/// (for live log streaming and aborts).
pub fn build_observed(
    spec: &BuildSpec,
    helper: &HelperCommand,
    observer: Option<Arc<dyn JobObserver>>,
) -> Result<BuildResult, BuildError> {
    let started = Instant::now();
    for p in [&spec.root_dir, &spec.work_dir] {
        if !p.is_absolute() {
            return Err(BuildError::Relative(p.clone()));
        }
    }
    let s = &spec.settings;
    let src = check_source(&spec.source)?;
    let (build_dir, parent) = build_path(&s.build_path, &src)?;
    check_build_user(&spec.root_dir, s.build_user.uid)?;
    let [upper, work, out, tools] = prepare_work_dir(&spec.work_dir)?;
    let user = (s.build_user.uid, s.build_user.gid);

    let mut binds = vec![BindMount {
        source: out.clone(),
        target: PathBuf::from(&parent),
        writable: true,
        owner: Some(Owner {
            uid: user.0,
            gid: user.1,
        }),
    }];
    binds.extend(src.files.iter().map(|(name, path)| BindMount {
        source: path.clone(),
        target: PathBuf::from(format!("{SOURCE_DIR}/{name}")),
        writable: false,
        owner: None,
    }));
    let root = RootFs::Overlay {
        lower: spec.root_dir.clone(),
        upper,
        work,
    };
    // Writable for everyone on a buildd (1777 in the root): `/var/tmp`, `/run/lock`.
    let buildd_writable: Vec<&str> = ["/var/tmp", "/run/lock"]
        .into_iter()
        .filter(|d| {
            // Not followed: a symlink would be resolved against the host here.
            std::fs::symlink_metadata(spec.root_dir.join(&d[1..])).is_ok_and(|m| m.is_dir())
        })
        .collect();
    let mut base_env: BTreeMap<String, String> = [
        ("PATH", job::PATH),
        ("LANG", s.locale.as_str()),
        ("LC_ALL", s.locale.as_str()),
        ("HOME", "/nonexistent"),
        // What sbuild's build user has too (docs/builder.md, "The build environment").
        ("SHELL", "/bin/sh"),
        ("USER", crate::root::BUILD_USER_NAME),
        ("LOGNAME", crate::root::BUILD_USER_NAME),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in [
        ("DEB_BUILD_OPTIONS", &s.deb_build_options),
        ("DEB_BUILD_PROFILES", &s.deb_build_profiles),
    ] {
        if let Some(v) = v {
            base_env.insert(k.to_owned(), v.clone());
        }
    }
    let run = |argv: Vec<String>,
               env: BTreeMap<String, String>,
               cwd: &str,
               log: &mut Vec<u8>,
               extra: Option<&BindMount>| {
        let head = header(&argv, &env, cwd);
        if let Some(o) = &observer {
            o.log(head.as_bytes());
        }
        log.extend(head.bytes());
        let mut job = job::spec(root.clone(), argv, env, cwd, user, s.umask);
        job.binds = binds.clone();
        job.binds.extend(extra.cloned());
        job.landlock.write_root_view = false;
        // The build directory and, as on a buildd, `/var/tmp` and `/run/lock` (writes land
        // in this job's overlay layer). `/tmp` and `/dev/shm` are the sandbox's tmpfs.
        job.landlock.extra_writable = vec![PathBuf::from(&parent)];
        job.landlock
            .extra_writable
            .extend(buildd_writable.iter().map(PathBuf::from));
        job.limits.timeout = Some(s.timeout);
        job.limits.idle_timeout = Some(s.idle_timeout);
        job.limits.max_log_bytes = s.max_log_bytes;
        if let Some(h) = &s.hostname {
            job.hostname = h.clone();
        }
        let out = job::run_observed(&job, helper, observer.clone())?;
        log.extend_from_slice(&out.log);
        Ok::<JobLog, SandboxError>(out)
    };

    let mut log = Vec::new();
    let unpack = vec![
        "dpkg-source".to_owned(),
        "--no-copy".to_owned(),
        "-x".to_owned(),
        format!("{SOURCE_DIR}/{}", src.dsc_name),
        build_dir.clone(),
    ];
    let first = run(unpack, base_env.clone(), &parent, &mut log, None)?;
    let result = |status, log: Vec<u8>, truncated, sde, outputs| BuildResult {
        status,
        outputs,
        log_truncated: truncated,
        log,
        duration: started.elapsed(),
        source_date_epoch: sde,
        build_path: build_dir.clone(),
    };
    if first.exit != ExitStatusKind::Exited(0) {
        return Ok(result(first.exit, log, first.truncated, None, Vec::new()));
    }
    if let Some(suffix) = &s.release_suffix {
        // OBS-DCH-RELEASE: the release number becomes a version suffix through a generated
        // changelog entry, dated like the previous one (so SOURCE_DATE_EPOCH is kept).
        let mut env = base_env.clone();
        env.insert("CRYO_RELEASE_SUFFIX".into(), suffix.clone());
        if let Some(strip) = &s.release_strip {
            env.insert("CRYO_RELEASE_STRIP".into(), strip.clone());
        }
        let argv = ["/bin/sh", "-c", DCH_SCRIPT].map(str::to_owned).to_vec();
        let dch = run(argv, env, &build_dir, &mut log, None)?;
        if dch.exit != ExitStatusKind::Exited(0) {
            return Ok(result(
                dch.exit,
                log,
                first.truncated || dch.truncated,
                None,
                Vec::new(),
            ));
        }
    }
    let leaf = build_dir.rsplit('/').next().unwrap_or_default();
    let sde = changelog_date(&out.join(leaf).join("debian/changelog"))?;
    let (argv, env, cwd, clock_bind) = match pinned_epoch(s.clock, sde)? {
        None => {
            let argv = ["dpkg-buildpackage", "-us", "-uc", spec.kind.flag()]
                .map(str::to_owned)
                .to_vec();
            (argv, base_env, build_dir.as_str(), None)
        }
        Some(epoch) => {
            // The first unpack (real clock) told the changelog's date. Unpack again under
            // the pinned clock, in the same job as the build, so that every file time the
            // build sees (upstream's, the generated ones, the root's) is on one clock.
            let bind = cryo_sandbox::clock::install(&tools).map_err(io(&tools))?;
            let mut env = base_env;
            cryo_sandbox::clock::env(epoch, cryo_sandbox::clock::now(), &mut env);
            let argv = [
                "/bin/sh",
                "-c",
                PINNED_SCRIPT,
                "sh",
                &build_dir,
                &format!("{SOURCE_DIR}/{}", src.dsc_name),
                s.release_suffix.as_deref().unwrap_or(""),
                s.release_strip.as_deref().unwrap_or(""),
                DCH_SCRIPT,
                spec.kind.flag(),
            ]
            .map(str::to_owned)
            .to_vec();
            (argv, env, parent.as_str(), Some(bind))
        }
    };
    let second = run(argv, env, cwd, &mut log, clock_bind.as_ref())?;
    let truncated = first.truncated || second.truncated;
    if second.exit != ExitStatusKind::Exited(0) {
        return Ok(result(second.exit, log, truncated, Some(sde), Vec::new()));
    }
    let outputs = collect_outputs(&out)?;
    Ok(result(second.exit, log, truncated, Some(sde), outputs))
}

/// OBS-DCH-RELEASE: the release number becomes a version suffix through a generated
/// changelog entry, dated like the previous one (so SOURCE_DATE_EPOCH is kept). Run in the
/// unpacked source with `CRYO_RELEASE_SUFFIX` (and `CRYO_RELEASE_STRIP`) set.
const DCH_SCRIPT: &str = r#"set -eu
src=$(dpkg-parsechangelog -S Source); ver=$(dpkg-parsechangelog -S Version)
dist=$(dpkg-parsechangelog -S Distribution); urg=$(dpkg-parsechangelog -S Urgency)
maint=$(dpkg-parsechangelog -S Maintainer); date=$(dpkg-parsechangelog -S Date)
base=$ver
if [ -n "${CRYO_RELEASE_STRIP:-}" ]; then
  base=$(printf '%s\n' "$ver" | sed -E "s/($CRYO_RELEASE_STRIP)\$//")
fi
new="$base$CRYO_RELEASE_SUFFIX"
if [ "$new" = "$ver" ]; then
  echo "cryo: version $ver already carries the release suffix"; exit 0
fi
{ printf '%s (%s) %s; urgency=%s\n\n  * Rebuild with release suffix %s (cryo).\n\n -- %s  %s\n\n' \
    "$src" "$new" "$dist" "$urg" "$CRYO_RELEASE_SUFFIX" "$maint" "$date"
  cat debian/changelog; } > debian/changelog.cryo-new
mv debian/changelog.cryo-new debian/changelog
echo "cryo: version is now $(dpkg-parsechangelog -S Version)"
"#;

/// A pinned-clock build in one job: unpack again (the clock's offset then covers the
/// source's file times too), apply the release suffix, build.
/// `$1` build dir, `$2` .dsc, `$3` release suffix or empty, `$4` its strip regex, `$5` the
/// changelog script, `$6` the dpkg-buildpackage build flag.
const PINNED_SCRIPT: &str = r#"set -eu
echo "cryo: unpacking again under the pinned clock"
rm -rf "$1"
dpkg-source --no-copy -x "$2" "$1"
cd "$1"
if [ -n "$3" ]; then CRYO_RELEASE_SUFFIX="$3" CRYO_RELEASE_STRIP="$4" /bin/sh -c "$5"; fi
exec dpkg-buildpackage -us -uc "$6"
"#;

/// A log section header: what runs, where and with which environment.
fn header(argv: &[String], env: &BTreeMap<String, String>, cwd: &str) -> String {
    let mut h = format!("cryo: running {argv:?} in {cwd}\ncryo: environment:\n");
    for (k, v) in env {
        h.push_str(&format!("  {k}={v}\n"));
    }
    h
}

/// Creates `upper`, `work`, `out` and `tools` (the builder's own files) in an empty or missing work directory.
fn prepare_work_dir(dir: &Path) -> Result<[PathBuf; 4], BuildError> {
    match std::fs::read_dir(dir) {
        Ok(mut rd) => {
            if rd.next().is_some() {
                return Err(BuildError::WorkDirNotEmpty(dir.into()));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io(dir))?
        }
        Err(e) => return Err(io(dir)(e)),
    }
    let dirs = ["upper", "work", "out", "tools"].map(|d| dir.join(d));
    for d in &dirs {
        std::fs::create_dir(d).map_err(io(d))?;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).map_err(io(d))?;
    }
    Ok(dirs)
}

/// Fails unless the root's `/etc/passwd` has `uid` (read on the host, no code runs).
fn check_build_user(root: &Path, uid: u32) -> Result<(), BuildError> {
    let path = root.join("etc/passwd");
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let found = text
        .lines()
        .any(|l| l.split(':').nth(2).and_then(|u| u.parse::<u32>().ok()) == Some(uid));
    if found {
        Ok(())
    } else {
        Err(BuildError::NoBuildUser { uid })
    }
}

/// The date of the top changelog entry, as dpkg computes `SOURCE_DATE_EPOCH`.
fn changelog_date(path: &Path) -> Result<i64, BuildError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    cryo_debian::changelog::parse_first_entry(&text, "debian/changelog")
        .map(|e| e.timestamp)
        .map_err(|e| BuildError::Changelog(Box::new(e)))
}

/// Regular files directly in `out` whose names end with an output suffix, by name.
fn collect_outputs(out: &Path) -> Result<Vec<BuildOutput>, BuildError> {
    let mut outputs = Vec::new();
    for e in std::fs::read_dir(out).map_err(io(out))? {
        let e = e.map_err(io(out))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let is_file = e.file_type().map_err(io(out))?.is_file();
        if is_file && OUTPUT_SUFFIXES.iter().any(|s| name.ends_with(s)) {
            outputs.push(BuildOutput {
                name,
                path: e.path(),
            });
        }
    }
    outputs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(outputs)
}
