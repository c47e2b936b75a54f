//! Kit of the hostile-build suite (`tests/hostile.rs`): a synthetic source package per
//! attack whose `debian/rules` `build` target runs a bash script, the build on the shared
//! root under tight sandbox limits, the `ATTEMPT name: ...` / `ESCAPED name: ...` markers
//! the script prints, and the checks made from the HOST that every attack was contained
//! (no escaped marker, no leftover process, no secret in the log or the work dir, no file
//! outside the work dir, no set-id file owned by a host user, the shared root unchanged).

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use cryo_debbuild::{BuildKind, BuildResult, BuildSettings, BuildSpec, SourceFiles};
use cryo_sandbox::{HelperCommand, DEFAULT_ROOT_BASE, RANGE_SIZE};
use tempfile::TempDir;

use crate::common;

/// RLIMIT_NPROC of the hostile builds (the sandbox's default is 8192).
pub const NPROC: u64 = 256;
/// RLIMIT_FSIZE of the hostile builds (the sandbox's default is 64 GiB).
pub const FSIZE: u64 = 32 << 20;
/// Log cap of the hostile builds.
pub const LOG_CAP: u64 = 1 << 20;
/// Timeout of every hostile build that is not about the timeout: a safety net only.
pub const SAFETY_TIMEOUT: Duration = Duration::from_secs(180);

/// Functions every attack script starts with. `try NAME CMD...` runs CMD and reports
/// `ESCAPED` if it succeeded, `ATTEMPT NAME: blocked (...)` with its error otherwise;
/// `note NAME TEXT` reports an observation; `finish` ends the build with a failure.
const PRELUDE: &str = include_str!("prelude.sh");

fn random_hex() -> String {
    let mut b = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("read /dev/urandom");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A helper command that lowers the HARD process and file-size limits before starting the
/// real helper: the sandbox clamps `Limits` to the helper's hard limits, and
/// `BuildSettings` has no field for them (debbuild passes the sandbox defaults).
pub fn limited_helper() -> HelperCommand {
    let prlimit = ["/usr/bin/prlimit", "/bin/prlimit"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("prlimit (util-linux) is needed to lower the helper's limits");
    HelperCommand::new(prlimit)
        .arg(format!("--nproc={NPROC}"))
        .arg(format!("--fsize={FSIZE}"))
        .arg("--")
        .arg(common::helper().program)
}

/// The settings of a hostile build: the project's, with a small log cap and timeout.
pub fn settings() -> BuildSettings {
    let mut s = common::settings();
    s.max_log_bytes = LOG_CAP;
    s.timeout = SAFETY_TIMEOUT;
    s
}

/// One attack: a unique tag, a host directory that mimics cryod's state dir (holding a
/// secret the build must not read), and the work directory of its build.
pub struct Case {
    pub name: &'static str,
    /// Unique per run; names every file the attack tries to create and is exported as
    /// `CRYO_HOSTILE_TAG` to every process of the attack.
    pub tag: String,
    pub state: TempDir,
    pub secret_name: String,
    pub secret: String,
    pub work: TempDir,
}

/// A finished hostile build.
pub struct Run {
    pub result: BuildResult,
    pub log: String,
    /// `ATTEMPT` lines: name → text.
    pub attempts: BTreeMap<String, String>,
    pub escaped: Vec<String>,
}

impl Case {
    pub fn new(name: &'static str) -> Self {
        let tag = format!("cryo-hostile-{name}-{}", random_hex());
        let state = tempfile::Builder::new()
            .prefix("cryo-hostile-state")
            .tempdir()
            .expect("state dir");
        // World-readable on purpose: only the sandbox's isolation keeps the build out.
        std::fs::set_permissions(state.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let secret_name = format!("{tag}-secret");
        let secret = format!("cryo-secret-{}{}", random_hex(), random_hex());
        let p = state.path().join(&secret_name);
        std::fs::write(&p, &secret).expect("write secret");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        Self {
            name,
            tag,
            state,
            secret_name,
            secret,
            work: common::work_dir(),
        }
    }

    /// The source package name.
    pub fn source(&self) -> String {
        format!("hostile-{}", self.name)
    }

    /// `@TAG@`, `@STATE@`, `@SECRET_NAME@`, `@WORK@` and `extra` replaced in `body`.
    fn script(&self, body: &str, extra: &[(&str, String)]) -> String {
        let mut s = format!("{PRELUDE}{body}");
        for (k, v) in extra {
            s = s.replace(k, v);
        }
        let state = self.state.path().display().to_string();
        let work = self.work.path().display().to_string();
        s.replace("@TAG@", &self.tag)
            .replace("@STATE@", &state)
            .replace("@SECRET_NAME@", &self.secret_name)
            .replace("@WORK@", &work)
    }

    /// Packs the attack into a source package, builds it under the tight limits and runs
    /// the generic host checks.
    pub fn run(&self, body: &str, extra: &[(&str, String)], settings: BuildSettings) -> Run {
        let (src, _src_dir) = pack(&self.source(), &self.script(body, extra));
        let root = common::shared_root();
        let spec = BuildSpec {
            root_dir: root.dir.clone(),
            source: src,
            settings,
            kind: BuildKind::Full,
            work_dir: self.work.path().join("w"),
        };
        let result = cryo_debbuild::build(&spec, &limited_helper())
            .unwrap_or_else(|e| panic!("{}: build: {}", self.name, common::chain(&e)));
        let log = String::from_utf8_lossy(&result.log).into_owned();
        eprintln!(
            "hostile {}: {:?} in {:?}",
            self.name, result.status, result.duration
        );
        let mut attempts = BTreeMap::new();
        let mut escaped = Vec::new();
        for l in log.lines() {
            if let Some(rest) = l.strip_prefix("ATTEMPT ") {
                if let Some((name, text)) = rest.split_once(": ") {
                    attempts.insert(name.to_owned(), text.to_owned());
                }
            } else if l.starts_with("ESCAPED ") {
                escaped.push(l.to_owned());
            }
        }
        let run = Run {
            result,
            log,
            attempts,
            escaped,
        };
        self.check_host(&run);
        run
    }

    /// What must hold after every hostile build, whatever it attempted.
    fn check_host(&self, run: &Run) {
        let n = self.name;
        assert!(
            run.escaped.is_empty(),
            "{n}: {:#?}\n{}",
            run.escaped,
            run.log
        );
        // The whole pid namespace is gone: no process of the attack survives the build.
        let left = processes_with_env(&format!("CRYO_HOSTILE_TAG={}", self.tag));
        assert!(
            left.is_empty(),
            "{n}: processes survived the build: {left:?}"
        );
        // No secret of the host in the log or anywhere in the work directory.
        let mut secrets = vec![self.secret.clone()];
        if let Some(id) = host_machine_id() {
            secrets.push(id);
        }
        for s in &secrets {
            assert!(!run.log.contains(s.as_str()), "{n}: host secret in the log");
        }
        let files = walk(self.work.path());
        for f in &files {
            let md = std::fs::symlink_metadata(f).expect("lstat");
            if md.is_file() {
                let data = std::fs::read(f).expect("read work file");
                for s in &secrets {
                    assert!(
                        !contains(&data, s.as_bytes()),
                        "{n}: host secret in {}",
                        f.display()
                    );
                }
            }
            // Set-id bits may exist, but only on files owned by the sandbox's range.
            if md.mode() & 0o6000 != 0 {
                assert_in_range(f, &md);
            }
        }
        // Nothing named after the attack appeared on the host outside the work dir.
        let root = &common::shared_root().dir;
        let mut dirs: Vec<PathBuf> = ["/", "/etc", "/tmp", "/var/tmp", "/dev/shm", "/usr/bin"]
            .iter()
            .map(PathBuf::from)
            .collect();
        dirs.extend(["", "etc", "tmp", "usr/bin", "build"].map(|d| root.join(d)));
        dirs.push(self.state.path().to_path_buf());
        for d in dirs {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                assert!(
                    !name.contains(&self.tag) || name == self.secret_name,
                    "{n}: {} appeared on the host",
                    e.path().display()
                );
            }
        }
        assert!(
            common::snapshot(root) == common::shared_root().snapshot,
            "{n}: the shared root changed"
        );
    }
}

impl Run {
    /// Asserts that the attack `name` was reported blocked, with `why` in its error.
    pub fn blocked(&self, name: &str, why: &str) {
        let text = self
            .attempts
            .get(name)
            .unwrap_or_else(|| panic!("no attempt {name} in the log:\n{}", self.log));
        assert!(
            text.starts_with("blocked") && text.contains(why),
            "{name}: {text} (expected blocked with {why:?})"
        );
    }

    /// The text of the observation `name`.
    pub fn note(&self, name: &str) -> &str {
        self.attempts
            .get(name)
            .unwrap_or_else(|| panic!("no note {name} in the log:\n{}", self.log))
    }

    /// Asserts the build failed because `debian/rules build` failed (the script's
    /// `finish`), and that the log says so.
    pub fn failed_on_purpose(&self) {
        assert_eq!(
            self.result.status,
            cryo_sandbox::ExitStatusKind::Exited(2),
            "{}",
            self.log
        );
        assert!(self.result.outputs.is_empty(), "{:?}", self.result.outputs);
        // dpkg-buildpackage runs `debian/rules binary`, which runs the `build` target.
        assert!(
            self.log.contains("failing the build on purpose")
                && self.log.contains(
                    "dpkg-buildpackage: error: debian/rules binary subprocess returned exit status 2"
                ),
            "{}",
            self.log
        );
    }
}

/// A set-id file must be owned (user and group) by the sandbox's unmapped id range.
pub fn assert_in_range(path: &Path, md: &std::fs::Metadata) {
    let range = DEFAULT_ROOT_BASE..DEFAULT_ROOT_BASE + RANGE_SIZE;
    assert!(
        range.contains(&md.uid()) && range.contains(&md.gid()),
        "set-id file {} (mode {:o}) is owned by host ids {}:{}",
        path.display(),
        md.mode(),
        md.uid(),
        md.gid()
    );
}

/// Every path under `dir` (not following symlinks).
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(md) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if md.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
        }
        out.push(p);
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    hay.iter()
        .enumerate()
        .any(|(i, &b)| b == first && hay.get(i..i + needle.len()).is_some_and(|w| w == needle))
}

/// The host's machine id, a real host secret the build must never see.
pub fn host_machine_id() -> Option<String> {
    let id = std::fs::read_to_string("/etc/machine-id").ok()?;
    let id = id.trim();
    (id.len() >= 16).then(|| id.to_owned())
}

/// Host pids whose environment holds `needle` (e.g. `CRYO_HOSTILE_TAG=...`).
pub fn processes_with_env(needle: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        if env.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
            pids.push(pid);
        }
    }
    pids
}

/// A native source package `NAME 1.0` (arch all, `Rules-Requires-Root: no`) whose
/// `debian/rules` `build` target runs `script` with bash, packed with `dpkg-source -b`
/// inside a sandbox on the shared root.
pub fn pack(name: &str, script: &str) -> (SourceFiles, TempDir) {
    let root = common::shared_root();
    let dir = common::work_dir();
    let pkg = dir.path().join(name);
    let files: [(&str, String); 6] = [
        (
            "debian/control",
            format!(
                "Source: {name}\nSection: misc\nPriority: optional\n\
                 Maintainer: cryo <cryo@example.org>\nRules-Requires-Root: no\n\
                 Standards-Version: 4.6.2\n\nPackage: {name}\nArchitecture: all\n\
                 Description: cryo hostile build\n tries to escape the build sandbox\n"
            ),
        ),
        (
            "debian/changelog",
            format!(
                "{name} (1.0) unstable; urgency=medium\n\n  * Test.\n\n \
                 -- cryo <cryo@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n"
            ),
        ),
        ("debian/source/format", "3.0 (native)\n".into()),
        (
            "debian/rules",
            format!(
                "#!/usr/bin/make -f\nclean:\n\trm -rf debian/tmp debian/files\n\
                 build build-arch build-indep:\n\tbash debian/attack.sh\n\
                 binary binary-arch binary-indep: build\n\tmkdir -p debian/tmp/DEBIAN\n\
                 \tdpkg-gencontrol -p{name}\n\
                 \tdpkg-deb --root-owner-group --build debian/tmp ..\n"
            ),
        ),
        ("debian/attack.sh", script.to_owned()),
        ("README", "cryo hostile build\n".into()),
    ];
    for (file, text) in &files {
        let p = pkg.join(file);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
    std::fs::set_permissions(
        pkg.join("debian/rules"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let out = dir.path().join("out");
    for d in ["out", "upper", "work"] {
        std::fs::create_dir(dir.path().join(d)).expect("mkdir");
    }
    let mut spec = cryo_sandbox::SandboxSpec::new(
        cryo_sandbox::RootFs::Overlay {
            lower: root.dir.clone(),
            upper: dir.path().join("upper"),
            work: dir.path().join("work"),
        },
        cryo_sandbox::CommandSpec {
            argv: vec!["dpkg-source".into(), "-b".into(), format!("/in/{name}")],
            env: BTreeMap::from([("PATH".to_owned(), cryo_debbuild::PATH.to_owned())]),
            cwd: "/out".into(),
            uid: 1000,
            gid: 1000,
            groups: vec![],
            umask: 0o022,
        },
    );
    spec.binds = vec![
        cryo_sandbox::BindMount {
            source: pkg,
            target: format!("/in/{name}").into(),
            writable: false,
            owner: None,
        },
        cryo_sandbox::BindMount {
            source: out.clone(),
            target: "/out".into(),
            writable: true,
            owner: Some(cryo_sandbox::Owner {
                uid: 1000,
                gid: 1000,
            }),
        },
    ];
    let o = cryo_sandbox::Sandbox::spawn(&spec, &common::helper())
        .and_then(|r| r.wait())
        .unwrap_or_else(|e| panic!("dpkg-source -b: {}", common::chain(&e)));
    assert!(o.success(), "{}", String::from_utf8_lossy(&o.log));
    let src = SourceFiles {
        dsc: out.join(format!("{name}_1.0.dsc")),
        files: vec![out.join(format!("{name}_1.0.tar.xz"))],
    };
    (src, dir)
}
