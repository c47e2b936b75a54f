//! Shared test fixture: a small Debian root built once per test binary from real fixture
//! .debs (`dpkg-deb -x`), shifted into the root-mode id range, plus job builders.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use cryo_sandbox::{CommandSpec, IdMapping, Outcome, RootFs, Sandbox, SandboxSpec};
use tempfile::TempDir;

/// Packages extracted into the test root (enough for sh, bash, coreutils, grep, sed).
const PACKAGES: &[&str] = &[
    "base-files",
    "libc6",
    "bash",
    "dash",
    "coreutils",
    "grep",
    "sed",
    "libselinux1",
    "libpcre2-8-0",
    "libacl1",
    "libattr1",
    "libgmp10",
    "libtinfo6",
    "libcap2",
];

pub const PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";

pub fn mirror() -> PathBuf {
    match std::env::var_os("CRYO_FIXTURE_MIRROR") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mirror"),
    }
}

pub fn helper() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cryo-sandbox-helper"))
}

fn collect_debs(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read pool dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            collect_debs(&p, out);
        } else if p.extension().is_some_and(|x| x == "deb") {
            out.push(p);
        }
    }
}

/// The .deb of `name`, preferring the security archive's version.
fn find_deb(all: &[PathBuf], name: &str) -> PathBuf {
    let prefix = format!("{name}_");
    let mut hits: Vec<&PathBuf> = all
        .iter()
        .filter(|p| {
            p.file_name().and_then(|f| f.to_str()).is_some_and(|f| {
                f.starts_with(&prefix) && (f.ends_with("_amd64.deb") || f.ends_with("_all.deb"))
            })
        })
        .collect();
    hits.sort_by_key(|p| !p.to_string_lossy().contains("debian-security"));
    hits.first()
        .map(|p| (*p).clone())
        .unwrap_or_else(|| panic!("{name} not in the fixture mirror"))
}

pub struct TestRoot {
    /// The shared read-only lower directory.
    pub lower: PathBuf,
}

/// Built once per test binary.
pub fn test_root() -> &'static TestRoot {
    static ROOT: OnceLock<TestRoot> = OnceLock::new();
    ROOT.get_or_init(|| {
        // A static is never dropped, so a TempDir would leak: use a fixed per-test-binary
        // directory under the target dir, rebuilt on every run.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(concat!("cryo-sandbox-root-", env!("CARGO_CRATE_NAME")));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove the previous test root");
        }
        std::fs::create_dir_all(&dir).expect("mkdir test root");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let lower = dir.join("lower");
        std::fs::create_dir(&lower).expect("mkdir lower");
        let m = mirror();
        let mut all = Vec::new();
        collect_debs(&m.join("debian/pool"), &mut all);
        collect_debs(&m.join("debian-security/pool"), &mut all);
        for name in PACKAGES {
            let deb = find_deb(&all, name);
            let st = Command::new("dpkg-deb")
                .arg("-x")
                .arg(&deb)
                .arg(&lower)
                .status()
                .expect("run dpkg-deb");
            assert!(st.success(), "dpkg-deb -x {}", deb.display());
        }
        // Owners in the .debs are inside ids; move them into the root-mode range.
        if nix_is_root() {
            let map = IdMapping::default()
                .resolve_for_current_process()
                .expect("resolve id map");
            cryo_sandbox::shift_ownership(&lower, &map).expect("shift ownership");
        }
        TestRoot { lower }
    })
}

/// Whether this run is CI's (`CI=true`), where a test that cannot do its job must fail.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A test's precondition (root, a tool, user namespaces). When it does not hold, the
/// test is skipped locally (returns `false` after saying why) but **fails** under
/// `CI=true`: a green CI run that tested nothing is a defect.
pub fn require(cond: bool, why: &str) -> bool {
    if cond {
        return true;
    }
    assert!(!in_ci(), "CI=true and this test cannot run: {why}");
    eprintln!("skipping: {why} (this fails under CI=true)");
    false
}

pub fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A job on a private overlay over the shared test root.
pub struct Job {
    pub dir: TempDir,
    pub spec: SandboxSpec,
}

impl Job {
    pub fn upper(&self) -> PathBuf {
        self.dir.path().join("upper")
    }

    pub fn run(&self) -> Outcome {
        Sandbox::run(&self.spec, helper()).expect("sandbox run")
    }
}

pub fn env() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("PATH".to_owned(), PATH.to_owned()),
        ("LC_ALL".to_owned(), "C".to_owned()),
    ])
}

pub fn overlay_job(argv: &[&str], uid: u32) -> Job {
    let root = test_root();
    let dir = tempfile::Builder::new()
        .prefix("cryo-sbx-job")
        .tempdir()
        .expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for d in ["upper", "work"] {
        std::fs::create_dir(dir.path().join(d)).expect("mkdir");
    }
    let rootfs = RootFs::Overlay {
        lower: root.lower.clone(),
        upper: dir.path().join("upper"),
        work: dir.path().join("work"),
    };
    let command = CommandSpec {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        env: env(),
        cwd: "/".into(),
        uid,
        gid: uid,
        groups: vec![],
        umask: 0o022,
    };
    let mut spec = SandboxSpec::new(rootfs, command);
    spec.limits.timeout = Some(std::time::Duration::from_secs(60));
    Job { dir, spec }
}

pub fn sh(script: &str, uid: u32) -> Job {
    overlay_job(&["/bin/sh", "-c", script], uid)
}

pub fn log(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.log).into_owned()
}
