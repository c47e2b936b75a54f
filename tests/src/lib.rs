//! Harness for end-to-end tests: starts the real `cryod` on a temporary state directory
//! and runs the real `cryo` against it.
//!
//! The binaries are taken from the cargo target directory this test binary lives in
//! (`target/<profile>/`), or from `$CRYO_BIN_DIR`. `cargo test --workspace` builds them,
//! because the client and daemon crates have integration tests of their own.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Directory holding `cryo` and `cryod`.
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CRYO_BIN_DIR") {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test-binary>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf();
    for b in ["cryo", "cryod"] {
        assert!(
            dir.join(b).is_file(),
            "{} not found in {}: run `cargo build --workspace --bins` (or `cargo test --workspace`)",
            b,
            dir.display()
        );
    }
    dir
}

/// The fixture mirror (`../shared/mirror` next to the repository), or `$CRYO_FIXTURE_MIRROR`.
pub fn fixture_mirror() -> PathBuf {
    if let Some(d) = std::env::var_os("CRYO_FIXTURE_MIRROR") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/mirror")
}

/// A running `cryod` on a private state directory; killed on drop.
/// One build directory for every test daemon: build roots are keyed by the hash of their
/// closure, so daemons share them safely and the suite prepares each root once
/// (`CRYO_E2E_BUILD_DIR` overrides; it survives between runs under `target/`).
pub fn shared_build_dir() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    if let Some(d) = std::env::var_os("CRYO_E2E_BUILD_DIR") {
        return PathBuf::from(d);
    }
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    // Build sandboxes run as mapped ids: every ancestor must be searchable by others (a
    // checkout under a 0700 home is not); then share a directory in /tmp instead.
    let reachable = target.canonicalize().is_ok_and(|t| {
        t.ancestors()
            .all(|a| std::fs::metadata(a).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
    });
    if reachable {
        target.join("cryo-e2e-build")
    } else {
        std::env::temp_dir().join("cryo-e2e-build")
    }
}

pub struct Daemon {
    pub state: tempfile::TempDir,
    child: Option<Child>,
    env: Vec<(String, String)>,
    args: Vec<String>,
}

impl Daemon {
    /// Start a daemon on a fresh state directory and wait until it answers.
    pub fn start() -> Self {
        Self::start_with_env(&[])
    }

    /// Start a daemon with extra environment (e.g. `CRYOD_NOW` to pin the clock).
    pub fn start_with_env(env: &[(&str, &str)]) -> Self {
        Self::start_with(env, &[], None)
    }

    /// Start a daemon with extra environment, extra `cryod` arguments and an optional
    /// `cryod.toml` written into its state directory first.
    pub fn start_with(env: &[(&str, &str)], args: &[&str], config: Option<&str>) -> Self {
        let state = tempfile::Builder::new()
            .prefix("cryo-e2e-")
            .tempdir()
            .unwrap();
        if let Some(c) = config {
            std::fs::write(state.path().join("cryod.toml"), c).unwrap();
        }
        let mut d = Daemon {
            state,
            child: None,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        d.restart();
        d
    }

    /// (Re)start the daemon process on the same state directory.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "daemon already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.state.path().join("e2e-cryod.log"))
            .unwrap();
        let child = Command::new(bin_dir().join("cryod"))
            .arg("--state")
            .arg(self.state.path())
            .args(&self.args)
            .env("CRYOD_LOG", "info")
            .env("CRYOD_BUILD_DIR", shared_build_dir())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start cryod");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.cryo(&["daemon", "status"]).status.success() {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("cryod exited with {status}: {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("cryod did not answer: {}", self.log());
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.state.path().join("e2e-cryod.log")).unwrap_or_default()
    }

    /// Pid of the daemon process.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL the daemon (a crash).
    pub fn kill9(&mut self) {
        let mut c = self.child.take().expect("running");
        c.kill().unwrap();
        c.wait().unwrap();
    }

    /// SIGTERM and wait for a clean exit; returns whether it exited successfully.
    pub fn terminate(&mut self) -> bool {
        let mut c = self.child.take().expect("running");
        Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap();
        c.wait().unwrap().success()
    }

    /// A `cryo` command aimed at this daemon (never autostarts).
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(bin_dir().join("cryo"));
        c.arg("--state")
            .arg(self.state.path())
            .arg("--no-autostart")
            .env_remove("CRYO_SOCKET");
        c
    }

    /// Run `cryo ARGS` and return its output.
    pub fn cryo(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run cryo")
    }

    /// Run `cryo ARGS`, assert success, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.cryo(args);
        assert!(
            o.status.success(),
            "cryo {args:?} failed ({}):\nstdout: {}\nstderr: {}\ndaemon log:\n{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
            self.log()
        );
        String::from_utf8(o.stdout).expect("utf-8 output")
    }

    /// Run `cryo --json ARGS` and parse the output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let out = self.ok(&a);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}\n{out}"))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The fixture's archive keyring.
pub fn keyring() -> PathBuf {
    fixture_mirror().join("keyrings/debian-archive-keyring.gpg")
}

/// A writable copy of the fixture mirror's metadata (`dists/` of both archives) with only
/// the named pool files (paths relative to the archive root, e.g.
/// `debian/pool/main/h/hello/hello_2.10-3_amd64.deb`), for tests that tamper or delete.
pub fn mirror_copy(pool_files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("cryo-mirror-")
        .tempdir()
        .unwrap();
    let src = fixture_mirror();
    for archive in ["debian", "debian-security"] {
        copy_tree(
            &src.join(archive).join("dists"),
            &dir.path().join(archive).join("dists"),
        );
    }
    for f in pool_files {
        let dest = dir.path().join(f);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(src.join(f), &dest).unwrap();
    }
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &to.join(e.file_name()));
        } else {
            let dest = to.join(e.file_name());
            std::fs::copy(&p, &dest).unwrap();
            let mut perm = std::fs::metadata(&dest).unwrap().permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o644);
            std::fs::set_permissions(&dest, perm).unwrap();
        }
    }
}

/// A loopback HTTP server (python3, `tests/support/flaky_http.py`) serving `root`, with
/// optional fault rules; killed on drop.
pub struct HttpServer {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl HttpServer {
    pub fn start(root: &Path, rules: serde_json::Value) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let rules_file = dir.path().join("rules.json");
        std::fs::write(&rules_file, rules.to_string()).unwrap();
        let args = vec![
            root.as_os_str().to_owned(),
            dir.path().join("port").into_os_string(),
            rules_file.into_os_string(),
            dir.path().join("requests.log").into_os_string(),
        ];
        Self::spawn("flaky_http.py", args, dir)
    }

    /// A proxy to `upstream` that corrupts binary-cache blob bodies
    /// (`tests/support/tamper_proxy.py`).
    pub fn tamper_proxy(upstream: &str) -> Self {
        Self::tamper_proxy_mode(upstream, "cache")
    }

    /// A proxy to `upstream` that tampers with `mode` (`cache` or `packages`; see
    /// `tests/support/tamper_proxy.py`).
    pub fn tamper_proxy_mode(upstream: &str, mode: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let args = vec![
            upstream.into(),
            dir.path().join("port").into_os_string(),
            mode.into(),
        ];
        Self::spawn("tamper_proxy.py", args, dir)
    }

    fn spawn(script: &str, args: Vec<std::ffi::OsString>, dir: tempfile::TempDir) -> Self {
        let port_file = dir.path().join("port");
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("support")
            .join(script);
        let child = Command::new("python3")
            .arg(script)
            .args(args)
            .stdin(Stdio::null())
            .spawn()
            .expect("python3 is installed");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !port_file.exists() {
            assert!(Instant::now() < deadline, "HTTP server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        let port = std::fs::read_to_string(&port_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        HttpServer {
            child,
            port,
            _dir: dir,
        }
    }

    /// Paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self._dir.path().join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{}", self.port, path)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; fine for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private apt root for the real `apt-get`: every directory and config file apt reads
/// or writes is inside `dir`, and the system's apt.conf.d is not read.
pub struct Apt {
    pub dir: PathBuf,
}

impl Apt {
    /// `source_line` is one sources.list line (e.g. `deb [signed-by=…] http://… bookworm main`).
    pub fn new(dir: &Path, source_line: &str) -> Apt {
        for d in [
            "etc/apt.conf.d",
            "etc/trusted.gpg.d",
            "etc/preferences.d",
            "lists/partial",
            "cache/archives/partial",
            "log",
            "state",
            "download",
        ] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        std::fs::write(dir.join("state/status"), "").unwrap();
        std::fs::write(dir.join("etc/sources.list"), format!("{source_line}\n")).unwrap();
        let d = dir.display();
        let conf = format!(
            r#"Dir::Etc "{d}/etc/";
Dir::Etc::parts "{d}/etc/apt.conf.d/";
Dir::Etc::main "{d}/etc/apt.conf";
Dir::Etc::sourcelist "{d}/etc/sources.list";
Dir::Etc::sourceparts "-";
Dir::Etc::trusted "{d}/etc/trusted.gpg";
Dir::Etc::trustedparts "{d}/etc/trusted.gpg.d/";
Dir::Etc::preferences "{d}/etc/preferences";
Dir::Etc::preferencesparts "{d}/etc/preferences.d/";
Dir::State "{d}/state/";
Dir::State::lists "{d}/lists/";
Dir::State::status "{d}/state/status";
Dir::Cache "{d}/cache/";
Dir::Log "{d}/log/";
APT::Architecture "amd64";
APT::Architectures {{ "amd64"; }};
APT::Sandbox::User "root";
Debug::NoLocking "1";
Acquire::Languages "none";
Acquire::http::Proxy "DIRECT";
"#
        );
        std::fs::write(dir.join("apt.conf"), conf).unwrap();
        Apt {
            dir: dir.to_path_buf(),
        }
    }

    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        Command::new(program)
            .args(args)
            .env("APT_CONFIG", self.dir.join("apt.conf"))
            .env("LC_ALL", "C")
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY")
            .current_dir(self.dir.join("download"))
            .output()
            .unwrap()
    }
}

/// Status, stdout and stderr of a finished command, for assertion messages.
pub fn output_text(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `file://` URL of a local path.
pub fn file_url(p: &Path) -> String {
    format!("file://{}", p.canonicalize().unwrap().display())
}

impl Daemon {
    /// Register the fixture's archives as mirrors `bookworm` and `security`.
    pub fn add_fixture_mirrors(&self) {
        let m = fixture_mirror();
        for (name, dir, suite) in [
            ("bookworm", "debian", "bookworm"),
            ("security", "debian-security", "bookworm-security"),
        ] {
            self.ok(&[
                "mirror",
                "add",
                name,
                &file_url(&m.join(dir)),
                "--suite",
                suite,
                "--keyring",
                keyring().to_str().unwrap(),
            ]);
        }
    }

    /// Register both fixture archives and sync them into one snapshot; its id.
    pub fn fixture_snapshot(&self) -> String {
        self.add_fixture_mirrors();
        self.json(&["mirror", "sync", "bookworm", "security"])["snapshot"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// A synthetic native (`3.0 (native)`) Debian source tree built with debhelper, whose
/// closure is base-files' (so the tests share that build root). `build_depends` is appended
/// to `debhelper-compat (= 13)` (e.g. `", libfoo-dev"`); `changes` is the changelog bullet;
/// `files` are extra files (paths relative to the tree); `debian/rules` defaults to
/// `dh $@`. The date is fixed, so the same inputs give the same source package.
pub struct NativeTree<'a> {
    pub source: &'a str,
    pub version: &'a str,
    pub build_depends: &'a str,
    pub binary: &'a str,
    pub changes: &'a str,
    pub files: &'a [(&'a str, &'a str)],
}

impl NativeTree<'_> {
    pub fn write(&self, dir: &Path) {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir.join("debian/source")).unwrap();
        std::fs::write(dir.join("debian/source/format"), "3.0 (native)\n").unwrap();
        std::fs::write(
            dir.join("debian/changelog"),
            format!(
                "{} ({}) bookworm; urgency=medium\n\n  * {}\n\n -- T <t@example.org>  Mon, 02 Jan 2023 10:00:00 +0000\n",
                self.source, self.version, self.changes
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("debian/control"),
            format!(
                "Source: {}\nMaintainer: T <t@example.org>\nBuild-Depends: debhelper-compat (= 13){}\n\nPackage: {}\nArchitecture: all\nDescription: cryo test package\n test package\n",
                self.source, self.build_depends, self.binary
            ),
        )
        .unwrap();
        for (name, content) in self.files {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, content).unwrap();
        }
        if !self.files.iter().any(|(n, _)| *n == "debian/rules") {
            std::fs::write(
                dir.join("debian/rules"),
                "#!/usr/bin/make -f\n%:\n\tdh $@\n",
            )
            .unwrap();
        }
        let mut perm = std::fs::metadata(dir.join("debian/rules"))
            .unwrap()
            .permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        std::fs::set_permissions(dir.join("debian/rules"), perm).unwrap();
    }
}

/// Whether this run is CI's (`CI=true`), where a test that cannot do its job must fail.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A test's precondition (root, a tool, user namespaces, the fixture). When it does not
/// hold, the test is skipped locally (returns `false` after saying why) but **fails** under
/// `CI=true`: a green CI run that tested nothing is a defect.
///
/// ```ignore
/// if !cryo_tests::require(is_root(), "needs root for the build sandbox") { return; }
/// ```
pub fn require(cond: bool, why: &str) -> bool {
    if cond {
        return true;
    }
    assert!(!in_ci(), "CI=true and this test cannot run: {why}");
    eprintln!("skipping: {why} (this fails under CI=true)");
    false
}

/// Runs `cmd`, panicking with its output unless it succeeds; its stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Makes `archive` (whose `pool/` the caller filled with sources and `.deb`s) a signed
/// Debian archive for suite `suite`, component `main`, amd64: `Sources` and `Packages`
/// written by `dpkg-scansources`/`dpkg-scanpackages`, `Release` by `apt-ftparchive`,
/// `InRelease` clearsigned with a fresh ed25519 key. Returns the GnuPG home (keep it
/// alive while it is used) and the public keyring, written next to the archive as
/// `<archive>.gpg`. Needs gpg, dpkg-dev and apt-utils (the callers `require` them).
pub fn sign_archive(archive: &Path, suite: &str) -> (tempfile::TempDir, PathBuf) {
    let dists = archive.join("dists").join(suite);
    std::fs::create_dir_all(dists.join("main/source")).unwrap();
    std::fs::create_dir_all(dists.join("main/binary-amd64")).unwrap();
    let scan = |tool: &str| run_ok(Command::new(tool).current_dir(archive).arg("pool"));
    std::fs::write(dists.join("main/source/Sources"), scan("dpkg-scansources")).unwrap();
    std::fs::write(
        dists.join("main/binary-amd64/Packages"),
        scan("dpkg-scanpackages"),
    )
    .unwrap();
    let release = run_ok(Command::new("apt-ftparchive").current_dir(archive).args([
        "-o",
        &format!("APT::FTPArchive::Release::Suite={suite}"),
        "-o",
        &format!("APT::FTPArchive::Release::Codename={suite}"),
        "-o",
        "APT::FTPArchive::Release::Architectures=amd64",
        "-o",
        "APT::FTPArchive::Release::Components=main",
        "release",
        &format!("dists/{suite}"),
    ]));
    std::fs::write(dists.join("Release"), release).unwrap();
    let home = tempfile::tempdir().unwrap();
    let gpg = |args: &[&str]| {
        run_ok(
            Command::new("gpg")
                .args(["--batch", "--quiet", "--homedir"])
                .arg(home.path())
                .args(args),
        );
    };
    gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        &format!("{suite} <{suite}@example.org>"),
        "ed25519",
        "sign",
        "never",
    ]);
    let keyring = archive.with_extension("gpg");
    gpg(&["--export", "--output", keyring.to_str().unwrap()]);
    gpg(&[
        "--clearsign",
        "--output",
        dists.join("InRelease").to_str().unwrap(),
        dists.join("Release").to_str().unwrap(),
    ]);
    (home, keyring)
}

/// The tools of `tools` that are not on `PATH` (for a `require` that names them).
pub fn missing_tools<'a>(tools: &[&'a str]) -> Vec<&'a str> {
    tools
        .iter()
        .copied()
        .filter(|t| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect()
}

/// The host tools the EL fixture's generator drives (`tests/fixtures/el/generate.py`).
pub const EL_FIXTURE_TOOLS: &[&str] = &[
    "python3",
    "dpkg-deb",
    "rpm",
    "rpmbuild",
    "rpmsign",
    "rpm2cpio",
    "cpio",
    "createrepo_c",
    "gpg",
    "gpgconf",
    "unshare",
    "chroot",
];

/// The EL fixture's generator script.
pub fn el_fixture_generator() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/el/generate.py")
}

/// The EL fixture (docs/rpm.md, "The EL fixture"): an RPM distribution generated from the
/// fixture mirror, with `os/`, `updates/`, `srpms/`, `official/` (rpm-md repositories),
/// `os-xmlbase/`, `keys/` and `manifest.json`. Generated once per set of inputs into
/// `target/el-fixture/<key>/` (`$CRYO_EL_FIXTURE_CACHE` overrides) and reused; the
/// generator locks the cache, so concurrent tests wait for one generation.
///
/// `None` (after saying why) when this host cannot generate it — not root (the vendor's
/// build chroot), a tool of [`EL_FIXTURE_TOOLS`] or libfaketime missing — which fails
/// under `CI=true` like every [`require`].
pub fn el_fixture() -> Option<PathBuf> {
    static ROOT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let root = std::fs::metadata("/proc/self").is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            m.uid() == 0
        });
        if !require(root, "the EL fixture's vendor build chroot needs root") {
            return None;
        }
        let missing = missing_tools(EL_FIXTURE_TOOLS);
        let faketime = [
            "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
            "/usr/lib/faketime/libfaketime.so.1",
        ]
        .iter()
        .any(|p| Path::new(p).is_file());
        if !require(
            missing.is_empty() && faketime,
            &format!(
                "the EL fixture needs {missing:?}{} (.ci/packages)",
                if faketime { "" } else { " and libfaketime" }
            ),
        ) {
            return None;
        }
        let out = run_ok(
            Command::new("python3")
                .arg(el_fixture_generator())
                .arg("cached")
                .arg("--mirror")
                .arg(fixture_mirror()),
        );
        let root = PathBuf::from(out.trim());
        assert!(
            root.join("manifest.json").is_file(),
            "the EL fixture generator printed {out:?}, which holds no manifest.json"
        );
        Some(root)
    })
    .clone()
}
