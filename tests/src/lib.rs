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
pub struct Daemon {
    pub state: tempfile::TempDir,
    child: Option<Child>,
}

impl Daemon {
    /// Start a daemon on a fresh state directory and wait until it answers.
    pub fn start() -> Self {
        let state = tempfile::Builder::new().prefix("cryo-e2e-").tempdir().unwrap();
        let mut d = Daemon { state, child: None };
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
            .env("CRYOD_LOG", "info")
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
