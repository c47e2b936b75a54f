//! Build roots: turns the `.deb` files of a resolved build environment into a configured
//! Debian root directory, usable afterwards as the read-only lower layer of build sandboxes.
//! The procedure follows obs-build's `init_buildsystem` for Debian (see `docs/builder.md`):
//! the Preinstall set's data is unpacked on the host (no package code runs there), the
//! Runscripts' maintainer scripts and then `dpkg --install` of every package run inside a
//! writable-root sandbox as uid 0, and the build user is added last. The host-side unpack
//! keeps no owners and no set-id bits (a package, e.g. one a project built itself, can
//! hold any set-uid file): it unpacks as the daemon's user, a root daemon then shifts that
//! tree to the sandbox's inside root, and the archive's owners and modes (set-id bits
//! included) are applied inside the user namespace by the first sandbox job, so no set-id
//! file ever belongs to a host user.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cryo_prjconf::BuildUser;
use cryo_sandbox::{HelperCommand, IdMapping, RootFs, SandboxError};

use crate::deb::{self, DebError, DebFile};
use crate::job::{self, JobLog};

/// The build user's name in every root (Debian's build daemons run sbuild as `buildd`).
pub const BUILD_USER_NAME: &str = "buildd";

/// Inside the root, where the `.deb`s are bind-mounted (read-only) during installation.
const DEB_DIR: &str = "/.cryo-debs";
/// Inside the root, where the Runscripts' maintainer scripts wait to be run.
const SCRIPT_DIR: &str = ".cryo-bootstrap";
/// Under [`SCRIPT_DIR`], the lists of owners and modes the unpack recorded.
const OWNERSHIP_DIR: &str = "ownership";
/// Forbids starting services while the root is installed (written by the Unpack phase).
const POLICY_RC_D: &str = "/usr/sbin/policy-rc.d";
/// Wall-clock limit of each installation phase.
const PHASE_TIMEOUT: Duration = Duration::from_secs(3600);

/// What to install into a new root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootPlan {
    /// Unpacked first without maintainer scripts (prjconf `Preinstall`, expanded to its
    /// dependency closure), then installed properly with `dpkg --force-depends`.
    pub preinstall: Vec<DebFile>,
    /// The rest of the build environment. A package also listed in `preinstall` (same
    /// name and version) is installed once.
    pub install: Vec<DebFile>,
    /// Preinstall packages whose `preinst`/`postinst` run right after unpacking (prjconf
    /// `Runscripts`, e.g. base-passwd, which creates `/etc/passwd`).
    pub runscripts: Vec<String>,
    /// The unprivileged user builds run as; added as [`BUILD_USER_NAME`].
    pub build_user: BuildUser,
    /// Exported as `SOURCE_DATE_EPOCH` to the maintainer scripts, so that tools honouring
    /// it (e.g. shadow's password-change dates) write the same root every time.
    pub source_date_epoch: Option<u64>,
}

/// The installation phases, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RootPhase {
    /// Host side: unpack the Preinstall data, create the dpkg database.
    Unpack,
    /// Sandbox: apply the owners and modes (set-id bits included) recorded while
    /// unpacking (see `manifest.rs`).
    Ownership,
    /// Sandbox: the Runscripts' `preinst install` / `postinst configure`.
    Runscripts,
    /// Sandbox: `dpkg --install --force-depends` of the Preinstall set.
    Preinstall,
    /// Sandbox: a copy of a base layer ([`prepare_from_base`]), instead of the four phases
    /// above.
    Copy,
    /// Sandbox: `dpkg --install --force-depends` of the rest, `dpkg --configure --pending`.
    Install,
    /// Sandbox: `dpkg --audit` must be clean; the build user is added.
    Finish,
}

/// One phase's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseLog {
    pub phase: RootPhase,
    pub log: Vec<u8>,
    pub duration: Duration,
}

/// A configured root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootInfo {
    /// Installed packages (name → version), read back from the root's dpkg status file.
    pub packages: BTreeMap<String, String>,
    pub phases: Vec<PhaseLog>,
    pub duration: Duration,
}

/// Errors of [`prepare_root`].
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error("{0} is not an absolute path")]
    RelativeDest(PathBuf),
    #[error("the root directory {0} exists and is not empty")]
    DestNotEmpty(PathBuf),
    #[error("the build user {uid}:{gid} must not be root")]
    RootBuildUser { uid: u32, gid: u32 },
    #[error("invalid package name {0:?}")]
    BadName(String),
    #[error("package {name} is planned twice, as {first} and {second}")]
    Duplicate {
        name: String,
        first: String,
        second: String,
    },
    #[error("Runscripts names {0}, which is not in the Preinstall set")]
    RunscriptNotPreinstalled(String),
    #[error("{path} is {found_name} {found_version}, but the plan says {name} {version}")]
    Mismatch {
        path: PathBuf,
        name: String,
        version: String,
        found_name: String,
        found_version: String,
    },
    #[error(transparent)]
    Deb(#[from] DebError),
    #[error("i/o error on {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is a set-id file on the host after unpacking; refusing to go on")]
    SetIdOnHost(PathBuf),
    #[error("cannot shift the root into the sandbox's id range")]
    Ownership(#[from] cryo_sandbox::OwnershipError),
    #[error("cannot unpack as the daemon's user and record the owners")]
    Manifest(#[from] crate::manifest::ManifestError),
    #[error("cannot resolve the sandbox id mapping")]
    IdMap(#[from] cryo_sandbox::IdMapError),
    #[error("sandbox failure in phase {phase:?}")]
    Sandbox {
        phase: RootPhase,
        source: SandboxError,
    },
    #[error("phase {phase:?} failed ({exit:?}); log tail:\n{}", job::tail(log))]
    PhaseFailed {
        phase: RootPhase,
        exit: cryo_sandbox::ExitStatusKind,
        log: Vec<u8>,
    },
    #[error("after installation, {name} is {found:?} in the dpkg database, expected {expected}")]
    NotInstalled {
        name: String,
        expected: String,
        found: Option<String>,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RootError + '_ {
    move |source| RootError::Io {
        path: path.into(),
        source,
    }
}

/// Builds a configured root in `dest` (missing or empty; never reused) from `plan`, running
/// every maintainer script inside sandboxes started with `helper`. Works as root and as an
/// ordinary user with a subordinate id range (`docs/sandbox.md`); the root's files then
/// belong to that range, see [`crate::remove_tree`]. On error `dest` is left as it is, for
/// inspection.
pub fn prepare_root(
    plan: &RootPlan,
    dest: &Path,
    helper: &HelperCommand,
) -> Result<RootInfo, RootError> {
    let started = Instant::now();
    check_build_user(plan.build_user)?;
    let (pre, rest) = check_plan(plan)?;
    let mut phases = Vec::new();
    bootstrap(plan, &pre, dest, helper, &mut phases)?;
    let env = install_env(plan.source_date_epoch);
    install(dest, &env, &rest, helper, &mut phases)?;
    finish(dest, &env, plan.build_user, helper, &mut phases)?;
    let packages = check_installed(dest, pre.iter().chain(&rest).copied())?;
    Ok(RootInfo {
        packages,
        phases,
        duration: started.elapsed(),
    })
}

/// Prepares a **base layer** in `dest`: the phases of [`prepare_root`] up to and including
/// `Install`, without `Finish` (no build user yet; the bootstrap's temporary files stay for
/// the delta's installation). `plan.build_user` is not used. A root is then made from it
/// with [`prepare_from_base`].
pub fn prepare_base(
    plan: &RootPlan,
    dest: &Path,
    helper: &HelperCommand,
) -> Result<RootInfo, RootError> {
    let started = Instant::now();
    let (pre, rest) = check_plan(plan)?;
    let mut phases = Vec::new();
    bootstrap(plan, &pre, dest, helper, &mut phases)?;
    let env = install_env(plan.source_date_epoch);
    install(dest, &env, &rest, helper, &mut phases)?;
    let packages = check_installed(dest, pre.iter().chain(&rest).copied())?;
    Ok(RootInfo {
        packages,
        phases,
        duration: started.elapsed(),
    })
}

/// What [`prepare_from_base`] adds to a base layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaPlan {
    /// The packages of the build's closure that the base does not hold.
    pub install: Vec<DebFile>,
    /// Every package the finished root must hold (base and delta): name → version.
    pub expected: BTreeMap<String, String>,
    pub build_user: BuildUser,
    pub source_date_epoch: Option<u64>,
}

/// Makes a configured root in `dest` (missing or empty) from the base layer `base`
/// ([`prepare_base`], never written): phase `Copy` copies the base (owners, modes, times,
/// hard links and extended attributes kept, from inside a sandbox, so an unprivileged
/// daemon can read every file), `Install` installs `delta.install` with dpkg on the copy,
/// `Finish` is [`prepare_root`]'s. `scratch` (missing; removed by the caller) holds the
/// copy job's overlay layers.
pub fn prepare_from_base(
    base: &Path,
    delta: &DeltaPlan,
    dest: &Path,
    scratch: &Path,
    helper: &HelperCommand,
) -> Result<RootInfo, RootError> {
    let started = Instant::now();
    check_build_user(delta.build_user)?;
    if !base.is_absolute() {
        return Err(RootError::RelativeDest(base.into()));
    }
    let plan = RootPlan {
        preinstall: Vec::new(),
        install: delta.install.clone(),
        runscripts: Vec::new(),
        build_user: delta.build_user,
        source_date_epoch: delta.source_date_epoch,
    };
    let (_, rest) = check_plan(&plan)?;
    empty_dest(dest)?;
    let mut phases = Vec::new();
    copy_base(base, dest, scratch, helper, &mut phases)?;
    let env = install_env(delta.source_date_epoch);
    install(dest, &env, &rest, helper, &mut phases)?;
    finish(dest, &env, delta.build_user, helper, &mut phases)?;
    let packages = crate::bootstrap::installed_packages(dest)?;
    check_expected(&packages, &delta.expected)?;
    Ok(RootInfo {
        packages,
        phases,
        duration: started.elapsed(),
    })
}

/// Makes a **layer** in `dest` (missing or empty) from the layer `base` (never written):
/// phases `Copy` and `Install` of [`prepare_from_base`], without `Finish` (no build user,
/// the bootstrap's files kept), so that roots and further layers can be made from it in
/// turn. `expected` is every package the layer must hold afterwards: name → version.
pub fn prepare_layer(
    base: &Path,
    packages: &[DebFile],
    expected: &BTreeMap<String, String>,
    source_date_epoch: Option<u64>,
    dest: &Path,
    scratch: &Path,
    helper: &HelperCommand,
) -> Result<RootInfo, RootError> {
    let started = Instant::now();
    if !base.is_absolute() {
        return Err(RootError::RelativeDest(base.into()));
    }
    let plan = RootPlan {
        preinstall: Vec::new(),
        install: packages.to_vec(),
        runscripts: Vec::new(),
        // Not used: no build user is added to a layer.
        build_user: BuildUser {
            uid: 1000,
            gid: 1000,
        },
        source_date_epoch,
    };
    let (_, rest) = check_plan(&plan)?;
    empty_dest(dest)?;
    let mut phases = Vec::new();
    copy_base(base, dest, scratch, helper, &mut phases)?;
    let env = install_env(source_date_epoch);
    install(dest, &env, &rest, helper, &mut phases)?;
    let packages = crate::bootstrap::installed_packages(dest)?;
    check_expected(&packages, expected)?;
    Ok(RootInfo {
        packages,
        phases,
        duration: started.elapsed(),
    })
}

fn check_expected(
    packages: &BTreeMap<String, String>,
    expected: &BTreeMap<String, String>,
) -> Result<(), RootError> {
    for (name, version) in expected {
        let found = packages.get(name);
        if found != Some(version) {
            return Err(RootError::NotInstalled {
                name: name.clone(),
                expected: version.clone(),
                found: found.cloned(),
            });
        }
    }
    Ok(())
}

fn check_build_user(BuildUser { uid, gid }: BuildUser) -> Result<(), RootError> {
    if uid == 0 || gid == 0 {
        return Err(RootError::RootBuildUser { uid, gid });
    }
    Ok(())
}

/// `dest` must be absolute and missing or empty; it is created.
fn empty_dest(dest: &Path) -> Result<(), RootError> {
    if !dest.is_absolute() {
        return Err(RootError::RelativeDest(dest.into()));
    }
    match std::fs::read_dir(dest) {
        Ok(mut rd) => {
            if rd.next().is_some() {
                return Err(RootError::DestNotEmpty(dest.into()));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dest).map_err(io_err(dest))?
        }
        Err(e) => return Err(io_err(dest)(e)),
    }
    Ok(())
}

/// Phases `Unpack`, `Ownership`, `Runscripts`, `Preinstall` into the empty `dest`.
fn bootstrap(
    plan: &RootPlan,
    pre: &[&DebFile],
    dest: &Path,
    helper: &HelperCommand,
    phases: &mut Vec<PhaseLog>,
) -> Result<(), RootError> {
    // SAFETY: geteuid has no preconditions.
    let unprivileged = unsafe { libc::geteuid() } != 0;
    // Fails early (nothing written yet) if an unprivileged daemon has no subordinate range.
    let map = IdMapping::default().resolve_for_current_process()?;
    empty_dest(dest)?;

    let t = Instant::now();
    let mut manifest = crate::manifest::Manifest::default();
    let mut extract = |d: &DebFile| -> Result<(), RootError> {
        manifest.unpack(&d.path, dest)?;
        Ok(())
    };
    let mut unpack_log =
        crate::bootstrap::unpack(dest, pre, &plan.runscripts, SCRIPT_DIR, &mut extract)?;
    let disk = crate::manifest::scan(dest)?;
    // The unpack writes none; anything else would be a set-id file of a host user.
    if let Some((p, _)) = disk.iter().find(|(_, d)| d.is_setid_file()) {
        return Err(RootError::SetIdOnHost(dest.join(p)));
    }
    let fixup = manifest.fixup(&disk);
    let lists = dest.join(SCRIPT_DIR).join(OWNERSHIP_DIR);
    unpack_log.extend(fixup.write(&lists)?.bytes());
    if !unprivileged {
        // Every inode is root's (the daemon's): make it inside root's, so that root in
        // the sandbox owns the tree and applies the recorded owners and modes. (There is
        // no set-id file to keep: the check above refused them.)
        cryo_sandbox::shift_ownership(dest, &map)?;
    }
    phases.push(PhaseLog {
        phase: RootPhase::Unpack,
        log: unpack_log,
        duration: t.elapsed(),
    });

    let env = install_env(plan.source_date_epoch);
    let lists = format!("/{SCRIPT_DIR}/{OWNERSHIP_DIR}");
    let fixup = crate::manifest::fixup_command(&lists);
    run_phase(dest, &env, RootPhase::Ownership, fixup, &[], helper, phases)?;
    let scripts = crate::bootstrap::runscripts_command(&plan.runscripts, SCRIPT_DIR);
    run_phase(
        dest,
        &env,
        RootPhase::Runscripts,
        scripts,
        &[],
        helper,
        phases,
    )?;
    run_phase(
        dest,
        &env,
        RootPhase::Preinstall,
        dpkg_install(""),
        pre,
        helper,
        phases,
    )
}

fn dpkg_install(extra: &str) -> Vec<String> {
    vec![
        "/bin/sh".to_owned(),
        "-c".to_owned(),
        format!("set -e\ndpkg --install --force-depends --force-unsafe-io \"$@\"\n{extra}"),
        "sh".to_owned(),
    ]
}

/// Phase `Install`: `dpkg --install` of `rest`, then `dpkg --configure --pending`.
fn install(
    dest: &Path,
    env: &BTreeMap<String, String>,
    rest: &[&DebFile],
    helper: &HelperCommand,
    phases: &mut Vec<PhaseLog>,
) -> Result<(), RootError> {
    let configure = "dpkg --configure --pending\n";
    let argv = if rest.is_empty() {
        // `dpkg --install` with no file is an error; there may still be work pending.
        vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            format!("set -e\n{configure}"),
        ]
    } else {
        dpkg_install(configure)
    };
    run_phase(dest, env, RootPhase::Install, argv, rest, helper, phases)
}

/// Phase `Finish`: dpkg must be clean, the build user is added, the bootstrap's temporary
/// files go.
fn finish(
    dest: &Path,
    env: &BTreeMap<String, String>,
    BuildUser { uid, gid }: BuildUser,
    helper: &HelperCommand,
    phases: &mut Vec<PhaseLog>,
) -> Result<(), RootError> {
    let temporary = [DEB_DIR, &format!("/{SCRIPT_DIR}"), POLICY_RC_D];
    let argv = crate::bootstrap::finish_command(BUILD_USER_NAME, uid, gid, &temporary);
    run_phase(dest, env, RootPhase::Finish, argv, &[], helper, phases)
}

/// Phase `Copy`: `cp -a` of `base` into `dest`. The job's root is the empty directory
/// `scratch/root` (writable; the sandbox's mount points land there), with `base` bound
/// read-only and `dest` writable; the base's own `cp` runs through the base's dynamic
/// loader (`ld.so --library-path`), as the root holds no other tools. The base cannot be
/// the job's root: the sandbox mounts a root's view over the root's own path, so a bind
/// of the base would then show that view (with `/proc` and the binds) instead of the base.
fn copy_base(
    base: &Path,
    dest: &Path,
    scratch: &Path,
    helper: &HelperCommand,
    phases: &mut Vec<PhaseLog>,
) -> Result<(), RootError> {
    let cp = "usr/bin/cp";
    let interp = crate::layers::elf_interpreter(&base.join(cp))?;
    let loader = crate::layers::resolve_in(base, &interp)?;
    let libdir = loader.parent().map(Path::to_path_buf).unwrap_or_default();
    let job_root = scratch.join("root");
    std::fs::create_dir_all(&job_root).map_err(io_err(&job_root))?;
    std::fs::set_permissions(&job_root, std::fs::Permissions::from_mode(0o755))
        .map_err(io_err(&job_root))?;
    let (src, dst) = ("/.cryo-layer/base", "/.cryo-layer/root");
    let argv = vec![
        format!("{src}/{}", loader.display()),
        "--library-path".to_owned(),
        format!("{src}/{}", libdir.display()),
        format!("{src}/{cp}"),
        "-a".to_owned(),
        "--no-target-directory".to_owned(),
        "--".to_owned(),
        src.to_owned(),
        dst.to_owned(),
    ];
    let mut spec = job::spec(
        RootFs::Writable { dir: job_root },
        argv,
        install_env(None),
        "/",
        (0, 0),
        0o022,
    );
    spec.binds = vec![
        cryo_sandbox::BindMount {
            source: base.into(),
            target: PathBuf::from(src),
            writable: false,
            owner: None,
        },
        cryo_sandbox::BindMount {
            source: dest.into(),
            target: PathBuf::from(dst),
            writable: true,
            // Created by the daemon; root inside must own it to fill it (`cp -a` then
            // gives it the base's owner and mode).
            owner: Some(cryo_sandbox::Owner { uid: 0, gid: 0 }),
        },
    ];
    run_job(&mut spec, RootPhase::Copy, helper, phases)
}

/// Runs one installation job as root in the writable root `dest`, with `debs` bound
/// read-only under [`DEB_DIR`] and appended to `argv`.
fn run_phase(
    dest: &Path,
    env: &BTreeMap<String, String>,
    phase: RootPhase,
    argv: Vec<String>,
    debs: &[&DebFile],
    helper: &HelperCommand,
    phases: &mut Vec<PhaseLog>,
) -> Result<(), RootError> {
    let binds = deb_binds(debs);
    let mut spec = job::spec(
        RootFs::Writable { dir: dest.into() },
        argv.into_iter().chain(binds.iter().map(|(_, t)| t.clone())),
        env.clone(),
        "/",
        (0, 0),
        0o022,
    );
    spec.binds = binds.into_iter().map(|(b, _)| b).collect();
    run_job(&mut spec, phase, helper, phases)
}

/// Runs one phase's job with the phase timeout; a failure is the phase's, with its log.
fn run_job(
    spec: &mut cryo_sandbox::SandboxSpec,
    phase: RootPhase,
    helper: &HelperCommand,
    phases: &mut Vec<PhaseLog>,
) -> Result<(), RootError> {
    spec.limits.timeout = Some(PHASE_TIMEOUT);
    let JobLog {
        exit,
        log,
        duration,
        ..
    } = job::run(spec, helper).map_err(|source| RootError::Sandbox { phase, source })?;
    if exit != cryo_sandbox::ExitStatusKind::Exited(0) {
        return Err(RootError::PhaseFailed { phase, exit, log });
    }
    phases.push(PhaseLog {
        phase,
        log,
        duration,
    });
    Ok(())
}

/// Every package of `planned` must be installed at its version; returns what is.
fn check_installed<'a>(
    dest: &Path,
    planned: impl Iterator<Item = &'a DebFile>,
) -> Result<BTreeMap<String, String>, RootError> {
    let packages = crate::bootstrap::installed_packages(dest)?;
    for d in planned {
        let found = packages.get(&d.name);
        if found != Some(&d.version) {
            return Err(RootError::NotInstalled {
                name: d.name.clone(),
                expected: d.version.clone(),
                found: found.cloned(),
            });
        }
    }
    Ok(packages)
}

/// Validates the plan against the files; returns (preinstall, rest), each sorted by name.
fn check_plan(plan: &RootPlan) -> Result<(Vec<&DebFile>, Vec<&DebFile>), RootError> {
    let mut seen: BTreeMap<&str, &DebFile> = BTreeMap::new();
    let mut pre = Vec::new();
    let mut rest = Vec::new();
    for (is_pre, d) in plan
        .preinstall
        .iter()
        .map(|d| (true, d))
        .chain(plan.install.iter().map(|d| (false, d)))
    {
        if !valid_package_name(&d.name) {
            return Err(RootError::BadName(d.name.clone()));
        }
        if let Some(prev) = seen.get(d.name.as_str()) {
            if prev.version != d.version || is_pre {
                return Err(RootError::Duplicate {
                    name: d.name.clone(),
                    first: prev.version.clone(),
                    second: d.version.clone(),
                });
            }
            continue;
        }
        let control = deb::read_control(&d.path)?;
        let found_name = control.get("Package").unwrap_or_default();
        let found_version = control.get("Version").unwrap_or_default();
        if found_name != d.name || found_version != d.version {
            return Err(RootError::Mismatch {
                path: d.path.clone(),
                name: d.name.clone(),
                version: d.version.clone(),
                found_name: found_name.to_owned(),
                found_version: found_version.to_owned(),
            });
        }
        seen.insert(&d.name, d);
        if is_pre {
            pre.push(d);
        } else {
            rest.push(d);
        }
    }
    for r in &plan.runscripts {
        if !pre.iter().any(|d| &d.name == r) {
            return Err(RootError::RunscriptNotPreinstalled(r.clone()));
        }
    }
    pre.sort();
    rest.sort();
    Ok((pre, rest))
}

/// Debian policy 5.6.1: lower-case letters, digits, `+`, `-`, `.`; at least two
/// characters, starting with a letter or digit.
pub(crate) fn valid_package_name(n: &str) -> bool {
    n.len() >= 2
        && n.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
}

/// Read-only bind mounts of the `.deb`s under [`DEB_DIR`], numbered in install order.
fn deb_binds(debs: &[&DebFile]) -> Vec<(cryo_sandbox::BindMount, String)> {
    debs.iter()
        .enumerate()
        .map(|(i, d)| {
            let target = format!("{DEB_DIR}/{i:04}_{}.deb", d.name);
            let bind = cryo_sandbox::BindMount {
                source: d.path.clone(),
                target: PathBuf::from(&target),
                writable: false,
                owner: None,
            };
            (bind, target)
        })
        .collect()
}

fn install_env(source_date_epoch: Option<u64>) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = [
        ("PATH", crate::job::PATH),
        ("DEBIAN_FRONTEND", "noninteractive"),
        ("DEBCONF_NONINTERACTIVE_SEEN", "true"),
        ("DEBIAN_PRIORITY", "critical"),
        ("LC_ALL", "C"),
        ("LANG", "C"),
        ("HOME", "/root"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if let Some(t) = source_date_epoch {
        env.insert("SOURCE_DATE_EPOCH".into(), t.to_string());
    }
    env
}
