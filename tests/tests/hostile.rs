//! The hostile-build suite through the real `cryod` (issue 13): the attacks of the library
//! suite (`crates/debbuild/tests/hostile.rs`) as source packages built with `cryo build`,
//! plus the attacks only a daemon faces (a `.dsc` naming `../` files, a tarball with
//! absolute paths and links out of the tree, symlinks planted where the daemon reads and
//! removes). For every case:
//!
//! - the build is reported `failed` (or, for an attack that is contained rather than
//!   failing, succeeds without effect) and the reason is in `cryo build --json` and
//!   `cryo log`;
//! - the daemon keeps answering (`cryo daemon status` is polled while the build runs);
//! - nothing outside the build's own directories changed: a before/after listing (path,
//!   type, size, mode, mtime) of the daemon's state directory (new store objects, the
//!   index and the daemon's log excepted), of a canary directory under `/tmp` the attacks
//!   aim at, of the shared build directory (no leftover work dir, roots unchanged), and of
//!   `/etc`, `/root`, `/tmp` and `/var/tmp` (nothing named after the attack appeared).
//!
//! Every hostile source has debhelper's closure (the same build root as every other e2e
//! test), so one root serves the whole file. The daemon has no setting for the process and
//! file-size limits of builds: like an operator's `LimitNPROC=`/`LimitFSIZE=`, the test
//! lowers the running daemon's hard limits (`prlimit --pid`), which the sandbox applies to
//! every build. Needs root, like the library suite (fails under `CI=true` without it).

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cryo_tests::{fixture_mirror, free_port, require, shared_build_dir, Daemon, NativeTree};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// RLIMIT_NPROC given to the daemon's builds.
const NPROC: u64 = 256;
/// RLIMIT_FSIZE given to the daemon's builds. The daemon is bound by it too, and its
/// `index.redb` holds the synced fixture snapshot (~170 MB): the start checks that every
/// state file is below half of it.
const FSIZE: u64 = 512 << 20;
/// `Cryo-Timeout` of the timeout case.
const TIMEOUT_SECS: u64 = 15;
/// How long any one hostile build may take before the test gives up on it.
const BUILD_DEADLINE: Duration = Duration::from_secs(300);
/// The slowest answer to `cryo daemon status` accepted while a hostile build runs.
const STATUS_LATENCY: Duration = Duration::from_secs(5);

/// Functions every attack script starts with (as in the library suite). `try NAME CMD...`
/// runs CMD and reports `ESCAPED` if it succeeded, `ATTEMPT NAME: blocked (...)` with its
/// error otherwise; `note NAME TEXT` reports an observation; `finish` fails the build.
const PRELUDE: &str = include_str!("../../crates/debbuild/tests/hostile/prelude.sh");

fn random_hex() -> String {
    let mut b = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("read /dev/urandom");
    hex::encode(b)
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

// ---------------------------------------------------------------------------------------
// Listings: what must not change.

/// One entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Meta {
    kind: char,
    size: u64,
    mode: u32,
    mtime: (i64, i64),
    uid: u32,
}

fn meta(md: &std::fs::Metadata) -> Meta {
    let ft = md.file_type();
    let kind = if ft.is_dir() {
        'd'
    } else if ft.is_symlink() {
        'l'
    } else if ft.is_file() {
        'f'
    } else {
        'o'
    };
    Meta {
        kind,
        // A directory's size changes with its entries; entries are listed themselves.
        size: if kind == 'd' { 0 } else { md.len() },
        mode: md.mode(),
        mtime: if kind == 'd' {
            (0, 0)
        } else {
            (md.mtime(), md.mtime_nsec())
        },
        uid: md.uid(),
    }
}

/// Every path under `dir` (relative, not following symlinks), `skip` pruned.
fn listing(dir: &Path, skip: &dyn Fn(&Path) -> bool) -> BTreeMap<PathBuf, Meta> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let rel = p.strip_prefix(dir).unwrap().to_path_buf();
        if skip(&rel) {
            continue;
        }
        let Ok(md) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if md.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
        }
        out.insert(rel, meta(&md));
    }
    out
}

/// Differences between two listings, as text (empty when equal). Store objects are named
/// by their digest: storing one again may touch its mtime, nothing else.
fn diff(
    before: &BTreeMap<PathBuf, Meta>,
    after: &BTreeMap<PathBuf, Meta>,
    new_ok: &dyn Fn(&Path) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for (p, m) in before {
        // `roots/<key>/used` is the daemon's record of a root's last use (eviction): every
        // build touches it.
        let root_use_record = p.components().count() == 2 && p.ends_with("used");
        let same = |n: &Meta| {
            if state_new_ok(p) || root_use_record {
                Meta {
                    mtime: m.mtime,
                    ..n.clone()
                } == *m
            } else {
                n == m
            }
        };
        match after.get(p) {
            None => out.push(format!("removed {}", p.display())),
            Some(n) if !same(n) => out.push(format!("changed {}: {m:?} -> {n:?}", p.display())),
            _ => {}
        }
    }
    for (p, m) in after {
        if !before.contains_key(p) && !new_ok(p) {
            out.push(format!("new {} {m:?}", p.display()));
        }
    }
    out
}

/// Names under `dir` (`depth` levels) that contain `needle`.
fn named(dir: &Path, needle: &str, depth: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0)];
    while let Some((p, d)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&p) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().contains(needle) {
                out.push(e.path());
            }
            if d + 1 < depth && e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push((e.path(), d + 1));
            }
        }
    }
    out
}

/// Host pids whose environment holds `needle` (e.g. `CRYO_HOSTILE_TAG=...`).
fn processes_with_env(needle: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
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

/// The last `n` bytes of `s` (or a little more, at a character boundary).
fn tail(s: &str, n: usize) -> &str {
    let mut i = s.len().saturating_sub(n);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    &s[i..]
}

fn host_machine_id() -> Option<String> {
    let id = std::fs::read_to_string("/etc/machine-id").ok()?;
    let id = id.trim();
    (id.len() >= 16).then(|| id.to_owned())
}

// ---------------------------------------------------------------------------------------
// The daemon and its snapshot, shared by every case.

struct Suite {
    d: Daemon,
    snapshot: String,
    prjconf: PathBuf,
    /// The same prjconf with `Cryo-Timeout: TIMEOUT_SECS`.
    short_prjconf: PathBuf,
    /// The daemon's TCP listener (the build must not reach it either).
    listen_port: u16,
    /// A host directory the attacks aim at, with a secret in it.
    canary: tempfile::TempDir,
    secret: String,
    work: tempfile::TempDir,
    build_dir: PathBuf,
    /// Deep listing of every ready build root, taken before the first hostile build.
    roots: BTreeMap<PathBuf, Meta>,
    /// The tag of the attack being built.
    current_tag: std::cell::RefCell<String>,
}

/// The parts of the state directory that may change during a build.
fn state_skip(rel: &Path) -> bool {
    let s = rel.to_string_lossy();
    s == "e2e-cryod.log" || s.ends_with(".redb") || s.contains("tmp")
}

/// New state entries a build may add: store objects (by digest) and their fan-out dirs.
fn state_new_ok(rel: &Path) -> bool {
    let s = rel.to_string_lossy();
    s.contains("blobs")
}

impl Suite {
    fn start() -> Suite {
        let listen_port = free_port();
        let d = Daemon::start_with(
            &[("CRYOD_NOW", "1795564800"), ("CRYOD_WORKERS", "2")],
            &["--listen", &format!("127.0.0.1:{listen_port}")],
            None,
        );
        let snapshot = d.fixture_snapshot();
        let work = tempfile::Builder::new()
            .prefix("cryo-hostile-e2e-")
            .tempdir()
            .unwrap();
        let prjconf = fixture_mirror().join("debian-12.prjconf");
        let short_prjconf = work.path().join("short-timeout.prjconf");
        std::fs::write(
            &short_prjconf,
            format!(
                "{}\nCryo-Timeout: {TIMEOUT_SECS}\n",
                std::fs::read_to_string(&prjconf).unwrap()
            ),
        )
        .unwrap();
        // World-readable on purpose: only the sandbox keeps the build out.
        let canary = tempfile::Builder::new()
            .prefix("cryo-hostile-canary-")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(canary.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let secret = format!("cryo-secret-{}{}", random_hex(), random_hex());
        std::fs::write(canary.path().join("secret"), &secret).unwrap();
        std::fs::set_permissions(
            canary.path().join("secret"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        std::fs::create_dir(canary.path().join("subdir")).unwrap();
        std::fs::write(canary.path().join("subdir/keep"), "keep me\n").unwrap();
        let mut s = Suite {
            d,
            snapshot,
            prjconf,
            short_prjconf,
            listen_port,
            canary,
            secret,
            work,
            build_dir: shared_build_dir(),
            roots: BTreeMap::new(),
            current_tag: Default::default(),
        };
        // A benign build first: prepares (or reuses) the shared root before the limits
        // are lowered, and shows the suite's plumbing works.
        let tree = s.work.path().join("benign");
        NativeTree {
            source: "hostile-benign",
            version: "1.0",
            build_depends: "",
            binary: "hostile-benign",
            changes: "A benign build.",
            files: &[],
        }
        .write(&tree);
        let (code, v) = s.build(&tree, &s.prjconf);
        assert_eq!(code, Some(0), "{v}\n{}", s.d.log());
        assert!(v["status"] == "built" || v["status"] == "cached", "{v}");
        s.roots = s.root_listing();
        // The limits every later build gets (clamped by the sandbox to these hard limits).
        let o = Command::new("prlimit")
            .arg(format!("--pid={}", s.d.pid()))
            .arg(format!("--nproc={NPROC}:{NPROC}"))
            .arg(format!("--fsize={FSIZE}:{FSIZE}"))
            .output()
            .expect("prlimit (util-linux)");
        assert!(o.status.success(), "{}", cryo_tests::output_text(&o));
        for e in std::fs::read_dir(s.d.state.path()).unwrap().flatten() {
            let len = e.metadata().unwrap().len();
            assert!(
                len < FSIZE / 2,
                "{} is {len} bytes: too close to the file-size limit given to the daemon",
                e.path().display()
            );
        }
        s
    }

    /// Deep listing of the ready build roots (they must never change).
    fn root_listing(&self) -> BTreeMap<PathBuf, Meta> {
        let roots = self.build_dir.join("roots");
        let mut out = BTreeMap::new();
        for e in std::fs::read_dir(&roots).into_iter().flatten().flatten() {
            if !e.path().join("ready").exists() {
                continue;
            }
            let name = PathBuf::from(e.file_name());
            for (p, m) in listing(&e.path(), &|_| false) {
                out.insert(name.join(p), m);
            }
        }
        out
    }

    /// `cryo --json build` of `source` (a tree or a `.dsc`), polling `cryo daemon status`
    /// while it runs: (exit code, JSON answer).
    fn build(&self, source: &Path, prjconf: &Path) -> (Option<i32>, Value) {
        let out = tempfile::NamedTempFile::new().unwrap();
        let err = tempfile::NamedTempFile::new().unwrap();
        let mut child = self
            .d
            .cmd()
            .args(["--json", "build", "--snapshot", &self.snapshot, "--prjconf"])
            .arg(prjconf)
            .arg(source)
            .stdout(out.reopen().unwrap())
            .stderr(err.reopen().unwrap())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let mut polls = 0;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            // The timeout case gives up soon after its own limit should have struck.
            let deadline = if prjconf == self.short_prjconf {
                Duration::from_secs(TIMEOUT_SECS + 90)
            } else {
                BUILD_DEADLINE
            };
            if started.elapsed() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                // Killing the daemon (on drop) does not end its builds today (see
                // crash.rs): end this one's processes, which then end their sandbox.
                let tag = self.current_tag.borrow().clone();
                for p in processes_with_env(&format!("CRYO_HOSTILE_TAG={tag}")) {
                    let _ = Command::new("kill")
                        .args(["-KILL", &p.to_string()])
                        .status();
                }
                let log = self.d.log();
                panic!(
                    "cryo build {} still running after {deadline:?}\ndaemon log (end):\n{}",
                    source.display(),
                    tail(&log, 4000)
                );
            }
            // The daemon keeps serving other requests while the build runs.
            let t = Instant::now();
            let st = self.d.cryo(&["--json", "daemon", "status"]);
            assert!(
                st.status.success(),
                "cryo daemon status failed during a hostile build: {}",
                cryo_tests::output_text(&st)
            );
            assert!(
                t.elapsed() < STATUS_LATENCY,
                "cryo daemon status took {:?} during a hostile build",
                t.elapsed()
            );
            polls += 1;
            std::thread::sleep(Duration::from_millis(300));
        };
        let text = std::fs::read_to_string(out.path()).unwrap();
        let v = serde_json::from_str(&text).unwrap_or_else(|_| {
            json!({
                "stdout": text,
                "stderr": std::fs::read_to_string(err.path()).unwrap(),
            })
        });
        eprintln!(
            "hostile: {} -> {:?} {} in {:?} ({polls} status polls answered meanwhile)",
            source.display(),
            status.code(),
            v["status"],
            started.elapsed()
        );
        (status.code(), v)
    }

    fn state_listing(&self) -> BTreeMap<PathBuf, Meta> {
        listing(self.d.state.path(), &state_skip)
    }

    /// Everything the host checks compare, before a case.
    fn before(&self) -> Before {
        Before {
            state: self.state_listing(),
            canary: listing(self.canary.path(), &|_| false),
            roots_top: self.roots_top(),
        }
    }

    fn roots_top(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.build_dir.join("roots"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            // Roots being prepared (`KEY.tmp-PID`, by other suites) come and go.
            .filter(|n| !n.contains(".tmp"))
            .collect();
        v.sort();
        v
    }

    /// The host checks after a case whose attack is tagged `tag`.
    fn check_host(&self, name: &str, tag: &str, before: &Before, log: &str) {
        let d = diff(&before.state, &self.state_listing(), &state_new_ok);
        assert!(d.is_empty(), "{name}: the state directory changed: {d:#?}");
        let d = diff(
            &before.canary,
            &listing(self.canary.path(), &|_| false),
            &|_| false,
        );
        assert!(d.is_empty(), "{name}: the canary directory changed: {d:#?}");
        // No root appeared or vanished (other suites may add theirs concurrently: only
        // those present before are compared).
        let now = self.roots_top();
        for r in &before.roots_top {
            assert!(now.contains(r), "{name}: build root {r} vanished");
        }
        // No work directory is left behind (the daemon removes it, planted links and
        // all), and no set-id file outside the roots.
        let builds = self.build_dir.join("builds");
        let left = named(&builds, "", 1)
            .into_iter()
            .filter(|p| {
                // Only this daemon's work dirs (`<drv>-<pid>`); others may be running.
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with(&format!("-{}", self.d.pid())))
            })
            .collect::<Vec<_>>();
        assert!(left.is_empty(), "{name}: work dirs left: {left:?}");
        for (p, m) in listing(self.d.state.path(), &|_| false) {
            assert!(
                m.mode & 0o6000 == 0,
                "{name}: set-id file in the state dir: {} {m:?}",
                p.display()
            );
        }
        // Nothing named after the attack on the host.
        for (dir, depth) in [
            ("/", 1),
            ("/etc", 3),
            ("/root", 2),
            ("/tmp", 2),
            ("/var/tmp", 2),
            ("/dev/shm", 1),
            ("/usr/bin", 1),
        ] {
            let found = named(Path::new(dir), tag, depth);
            assert!(found.is_empty(), "{name}: appeared on the host: {found:?}");
        }
        let found = named(&self.build_dir, tag, 3);
        assert!(
            found.is_empty(),
            "{name}: appeared in the build dir: {found:?}"
        );
        // No process of the attack survived the build.
        let procs = processes_with_env(&format!("CRYO_HOSTILE_TAG={tag}"));
        assert!(procs.is_empty(), "{name}: processes survived: {procs:?}");
        // No host secret in the log.
        assert!(
            !log.contains(&self.secret),
            "{name}: the canary secret is in the log"
        );
        if let Some(id) = host_machine_id() {
            assert!(
                !log.contains(&id),
                "{name}: the host's machine id is in the log"
            );
        }
        let st = self.d.cryo(&["daemon", "status"]);
        assert!(
            st.status.success(),
            "{name}: the daemon died:\n{}",
            self.d.log()
        );
    }

    /// A hostile source tree `hostile-NAME 1.0` whose `debian/rules` `build` target runs
    /// `body` (after the prelude) with bash; placeholders replaced.
    fn tree(&self, name: &str, tag: &str, body: &str, extra: &[(&str, String)]) -> PathBuf {
        let mut script = format!("{PRELUDE}{body}");
        for (k, v) in extra {
            script = script.replace(k, v);
        }
        let script = script
            .replace("@TAG@", tag)
            .replace("@STATE@", &self.d.state.path().display().to_string())
            .replace("@CANARY@", &self.canary.path().display().to_string())
            .replace("@BUILDDIR@", &self.build_dir.display().to_string())
            .replace("@LISTEN@", &self.listen_port.to_string());
        let source = format!("hostile-{name}");
        let control = format!(
            "Source: {source}\nMaintainer: T <t@example.org>\nRules-Requires-Root: no\n\
             Build-Depends: debhelper-compat (= 13)\n\nPackage: {source}\nArchitecture: all\n\
             Description: cryo hostile build\n tries to escape the build sandbox\n"
        );
        let rules = format!(
            "#!/usr/bin/make -f\nclean:\n\trm -rf debian/tmp debian/files\n\
             build build-arch build-indep:\n\tbash debian/attack.sh\n\
             binary binary-arch binary-indep: build\n\tmkdir -p debian/tmp/DEBIAN\n\
             \tdpkg-gencontrol -p{source}\n\
             \tdpkg-deb --root-owner-group --build debian/tmp ..\n"
        );
        let dir = self.work.path().join(&source);
        NativeTree {
            source: &source,
            version: "1.0",
            build_depends: "",
            binary: &source,
            changes: "Hostile.",
            files: &[
                ("debian/control", &control),
                ("debian/rules", &rules),
                ("debian/attack.sh", &script),
            ],
        }
        .write(&dir);
        dir
    }

    /// Builds a hostile tree and runs the host checks: the outcome and the full log.
    fn run(&self, name: &str, body: &str, extra: &[(&str, String)], prjconf: &Path) -> Run {
        let tag = format!("cryo-hostile-{name}-{}", random_hex());
        let tree = self.tree(name, &tag, body, extra);
        *self.current_tag.borrow_mut() = tag.clone();
        let before = self.before();
        let (code, outcome) = self.build(&tree, prjconf);
        let drv = outcome["derivation"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no derivation in {outcome}"))
            .to_string();
        let log = self.d.ok(&["log", &drv]);
        self.check_host(name, &tag, &before, &log);
        let mut attempts = BTreeMap::new();
        let mut escaped = Vec::new();
        for l in log.lines() {
            if let Some(rest) = l.strip_prefix("ATTEMPT ") {
                if let Some((n, text)) = rest.split_once(": ") {
                    attempts.insert(n.to_owned(), text.to_owned());
                }
            } else if l.starts_with("ESCAPED ") {
                escaped.push(l.to_owned());
            }
        }
        assert!(escaped.is_empty(), "{name}: {escaped:#?}\n{log}");
        Run {
            name: name.to_owned(),
            code,
            outcome,
            log,
            attempts,
        }
    }
}

struct Before {
    state: BTreeMap<PathBuf, Meta>,
    canary: BTreeMap<PathBuf, Meta>,
    roots_top: Vec<String>,
}

struct Run {
    name: String,
    code: Option<i32>,
    outcome: Value,
    log: String,
    attempts: BTreeMap<String, String>,
}

impl Run {
    fn blocked(&self, attempt: &str, why: &str) {
        let text = self.attempts.get(attempt).unwrap_or_else(|| {
            panic!(
                "{}: no attempt {attempt} in the log:\n{}",
                self.name, self.log
            )
        });
        assert!(
            text.starts_with("blocked") && text.contains(why),
            "{}: {attempt}: {text} (expected blocked with {why:?})",
            self.name
        );
    }

    fn note(&self, attempt: &str) -> &str {
        self.attempts
            .get(attempt)
            .unwrap_or_else(|| panic!("{}: no note {attempt} in the log:\n{}", self.name, self.log))
    }

    /// The build was reported failed, exit 1, no outputs, because the script failed it;
    /// the reason is in `cryo build --json` (the log tail) and in `cryo log`.
    fn failed_on_purpose(&self) {
        let v = &self.outcome;
        assert_eq!(self.code, Some(1), "{}: {v}", self.name);
        assert_eq!(v["status"], "failed", "{}: {v}", self.name);
        assert!(v["outputs"].as_array().is_some_and(|o| o.is_empty()), "{v}");
        let tail = v["log_tail"].as_str().unwrap_or_default();
        for text in [
            "failing the build on purpose",
            "debian/rules binary subprocess returned exit status 2",
        ] {
            assert!(
                tail.contains(text),
                "{}: {text:?} not in the log tail: {v}",
                self.name
            );
            assert!(
                self.log.contains(text),
                "{}: {text:?} not in cryo log",
                self.name
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Hand-made source packages (what `dpkg-source -b` would never produce).

fn digest_hex(tool: &str, data: &[u8]) -> String {
    let mut child = Command::new(tool)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(data).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// A `3.0 (native)` `.dsc` of `source` 1.0 with debhelper's closure listing `files`
/// (name as listed → bytes).
fn dsc_text(source: &str, files: &[(&str, &[u8])]) -> String {
    let mut sha1 = String::new();
    let mut sha256 = String::new();
    let mut md5 = String::new();
    for (name, data) in files {
        let n = data.len();
        sha1.push_str(&format!(" {} {n} {name}\n", digest_hex("sha1sum", data)));
        sha256.push_str(&format!(
            " {} {n} {name}\n",
            hex::encode(Sha256::digest(data))
        ));
        md5.push_str(&format!(" {} {n} {name}\n", digest_hex("md5sum", data)));
    }
    format!(
        "Format: 3.0 (native)\nSource: {source}\nBinary: {source}\nArchitecture: all\n\
         Version: 1.0\nMaintainer: T <t@example.org>\n\
         Build-Depends: debhelper-compat (= 13)\n\
         Package-List:\n {source} deb misc optional arch=all\n\
         Checksums-Sha1:\n{sha1}Checksums-Sha256:\n{sha256}Files:\n{md5}"
    )
}

/// A `.tar.xz` (python3's tarfile) of a small native package `hostile-tar-1.0/` whose
/// members also include an absolute path, a `../` path and a symlink out of the tree with a
/// member written through it, each aimed at `canary` and named after `tag`.
fn evil_tarball(canary: &Path, tag: &str) -> Vec<u8> {
    let script = r##"
import io, lzma, sys, tarfile, time
canary, tag = sys.argv[1], sys.argv[2]
buf = io.BytesIO()
def add(tf, name, data=b"", kind=tarfile.REGTYPE, link="", mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.mtime = 1672653600
    ti.linkname = link
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    tf.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
top = "hostile-tar-1.0/"
with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
    add(tf, top, kind=tarfile.DIRTYPE, mode=0o755)
    add(tf, top + "debian/", kind=tarfile.DIRTYPE, mode=0o755)
    add(tf, top + "debian/source/", kind=tarfile.DIRTYPE, mode=0o755)
    add(tf, top + "debian/source/format", b"3.0 (native)\n")
    add(tf, top + "debian/changelog", b"hostile-tar (1.0) bookworm; urgency=medium\n\n  * Hostile.\n\n -- T <t@example.org>  Mon, 02 Jan 2023 10:00:00 +0000\n")
    add(tf, top + "debian/control", b"Source: hostile-tar\nMaintainer: T <t@example.org>\nRules-Requires-Root: no\nBuild-Depends: debhelper-compat (= 13)\n\nPackage: hostile-tar\nArchitecture: all\nDescription: hostile\n hostile\n")
    add(tf, top + "debian/rules", b"#!/usr/bin/make -f\n%:\n\tdh $@\n", mode=0o755)
    add(tf, canary + "/" + tag + "-absolute", b"written through an absolute member name\n")
    add(tf, top + "../../../../../../.." + canary + "/" + tag + "-dotdot", b"written through ../\n")
    add(tf, top + "link-out", kind=tarfile.SYMTYPE, link=canary)
    add(tf, top + "link-out/" + tag + "-through-link", b"written through a symlink member\n")
    add(tf, top + "hard-out", kind=tarfile.LNKTYPE, link=canary + "/secret")
    add(tf, top + "debian/" + tag + "-abs-link", kind=tarfile.SYMTYPE, link="/etc")
sys.stdout.buffer.write(lzma.compress(buf.getvalue(), preset=1))
"##;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(canary)
        .arg(tag)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", cryo_tests::output_text(&out));
    out.stdout
}

/// `METHOD path` with a body over the daemon's socket (curl): (HTTP status, body).
fn call(d: &Daemon, method: &str, path: &str, body: &[u8], content_type: &str) -> (u16, Value) {
    let out_file = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new("curl")
        .args(["-sS", "--noproxy", "*", "--unix-socket"])
        .arg(d.state.path().join("cryod.sock"))
        .args(["-X", method, "-H"])
        .arg(format!("Content-Type: {content_type}"))
        .args(["--data-binary", "@-", "-o"])
        .arg(out_file.path())
        .args(["-w", "%{http_code}"])
        .arg(format!("http://cryod{path}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curl");
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(body).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "curl: {}",
        cryo_tests::output_text(&out)
    );
    let status: u16 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let text = std::fs::read_to_string(out_file.path()).unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn upload(d: &Daemon, bytes: &[u8]) -> String {
    let (status, v) = call(
        d,
        "POST",
        "/api/v1/store/blobs?root=",
        bytes,
        "application/octet-stream",
    );
    assert_eq!(status, 200, "{v}");
    v["digest"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------
// The cases.

fn network(s: &Suite) {
    let host = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = host.local_addr().unwrap().port().to_string();
    let body = "try network-host-loopback bash -c 'exec 3<>/dev/tcp/127.0.0.1/@PORT@'\n\
        try network-daemon-tcp bash -c 'exec 3<>/dev/tcp/127.0.0.1/@LISTEN@'\n\
        try network-internet bash -c 'exec 3<>/dev/tcp/1.1.1.1/443'\n\
        try network-dns getent hosts deb.debian.org\n\
        try network-daemon-socket perl -MSocket -e 'socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die \"socket: $!\\n\"; connect($s, pack_sockaddr_un(\"@STATE@/cryod.sock\")) or die \"connect: $!\\n\"'\n\
        note network-interfaces $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ')\n\
        finish\n";
    let run = s.run("network", body, &[("@PORT@", port)], &s.prjconf);
    run.failed_on_purpose();
    run.blocked("network-host-loopback", "Connection refused");
    run.blocked("network-daemon-tcp", "Connection refused");
    run.blocked("network-internet", "Network is unreachable");
    run.blocked("network-dns", "exit 2");
    run.blocked("network-daemon-socket", "No such file or directory");
    assert_eq!(run.note("network-interfaces"), "lo");
    host.set_nonblocking(true).unwrap();
    assert!(
        host.accept().is_err(),
        "network: the build connected to the host"
    );
}

fn escape_to_host_paths(s: &Suite) {
    let body = "try write-etc touch /etc/@TAG@\n\
        try write-root-top-level touch /@TAG@\n\
        try write-root-home touch /root/@TAG@\n\
        try write-canary touch @CANARY@/@TAG@\n\
        try overwrite-canary sh -c 'echo pwned > @CANARY@/secret'\n\
        try write-state touch @STATE@/@TAG@\n\
        try write-build-dir touch @BUILDDIR@/@TAG@\n\
        try write-roots mkdir @BUILDDIR@/roots/@TAG@\n\
        try write-via-proc-root touch /proc/1/root@CANARY@/@TAG@\n\
        try write-usr-bin cp /bin/true /usr/bin/@TAG@\n\
        try chmod-root-file chmod 666 /etc/passwd\n\
        try remount-root-rw mount -o remount,rw /\n\
        try nested-userns-write-etc unshare -Ur touch /etc/@TAG@\n\
        touch /tmp/@TAG@ ../@TAG@-allowed && note private-tmp written\n\
        finish\n";
    let run = s.run("escape", body, &[], &s.prjconf);
    run.failed_on_purpose();
    for a in [
        "write-root-top-level",
        "write-root-home",
        "write-usr-bin",
        "write-via-proc-root",
        "write-roots",
        "chmod-root-file",
        "remount-root-rw",
        "nested-userns-write-etc",
    ] {
        run.blocked(a, "");
    }
    run.blocked("write-etc", "Permission denied");
    // Host paths do not exist in the sandbox's mount namespace.
    for a in ["write-canary", "write-state", "write-build-dir"] {
        run.blocked(a, "No such file or directory");
    }
    run.blocked("overwrite-canary", "Directory nonexistent");
    assert_eq!(run.note("private-tmp"), "written");
}

fn host_reads(s: &Suite) {
    let body = "try read-canary-secret cat @CANARY@/secret\n\
        try read-canary-via-proc1-root cat /proc/1/root@CANARY@/secret\n\
        try read-state-index sh -c 'head -c 64 @STATE@/*.redb'\n\
        try list-state ls @STATE@\n\
        try find-secret sh -c 'grep -rl @SECRET@ /tmp /build /etc /root /home /var /run /srv /opt /mnt 2>/dev/null | grep .'\n\
        try read-shadow cat /etc/shadow\n\
        try read-host-disk sh -c 'head -c 16 /dev/sda || head -c 16 /dev/vda || head -c 16 /dev/nvme0n1'\n\
        note machine-id $(cat /etc/machine-id 2>&1)\n\
        note kernel-hostname $(cat /proc/sys/kernel/hostname)\n\
        finish\n";
    // The script names the secret only by a grep pattern that cannot match itself.
    let pattern = format!(
        "'{}[{}]{}'",
        &s.secret[..12],
        &s.secret[12..13],
        &s.secret[13..]
    );
    let run = s.run("read", body, &[("@SECRET@", pattern)], &s.prjconf);
    run.failed_on_purpose();
    run.blocked("read-canary-secret", "No such file or directory");
    run.blocked("read-canary-via-proc1-root", "Permission denied");
    run.blocked("read-state-index", "");
    run.blocked("list-state", "No such file or directory");
    run.blocked("find-secret", "exit 1");
    run.blocked("read-shadow", "Permission denied");
    run.blocked("read-host-disk", "No such file or directory");
    assert_eq!(run.note("kernel-hostname"), "cryo-build");
    if let Some(id) = host_machine_id() {
        assert!(!run.note("machine-id").contains(&id));
    }
}

fn fork_bomb(s: &Suite) {
    // Once the bomb holds every process slot the script cannot fork either: it waits and
    // counts with bash builtins only. `cryo daemon status` is polled meanwhile.
    let body = "mkfifo /tmp/wait && exec 3<>/tmp/wait\n\
        bomb() { bomb | bomb & }\n\
        ( bomb ) 2>/tmp/bomb.err &\n\
        read -t 8 -u 3\n\
        n=0; for p in /proc/[0-9]*; do n=$((n + 1)); done\n\
        err=none; while IFS= read -r l; do case $l in *fork*) err=$l; break;; esac; done < /tmp/bomb.err\n\
        note fork-bomb contained: $n processes, $err\n\
        finish\n";
    let run = s.run("forkbomb", body, &[], &s.prjconf);
    run.failed_on_purpose();
    let text = run.note("fork-bomb");
    assert!(text.contains("Resource temporarily unavailable"), "{text}");
    let n: u64 = text
        .strip_prefix("contained: ")
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(n <= NPROC + 1, "{n} processes with a limit of {NPROC}");
}

fn disk_fill(s: &Suite) {
    let body = "head -c 1G /dev/zero > ../@TAG@-big\n\
        rc=$?\n\
        note fill-disk writer exit $rc $(kill -l $((rc - 128)) 2>&1)\n\
        try fill-disk-ignoring-sigxfsz bash -c \"trap '' XFSZ; exec dd if=/dev/zero of=../@TAG@-big2 bs=1M count=1024\"\n\
        try fill-tmp bash -c \"trap '' XFSZ; exec dd if=/dev/zero of=/tmp/big bs=1M count=1024\"\n\
        finish\n";
    let run = s.run("diskfill", body, &[], &s.prjconf);
    run.failed_on_purpose();
    assert_eq!(run.note("fill-disk"), "writer exit 153 XFSZ", "{}", run.log);
    run.blocked("fill-disk-ignoring-sigxfsz", "File too large");
    run.blocked("fill-tmp", "File too large");
    // The work directory (and its big files) is gone: checked by check_host.
}

fn timeout(s: &Suite) {
    let body = "setsid bash -c 'sleep 3600' </dev/null >/dev/null 2>&1 &\n\
        note timeout sleeping past the limit\n\
        sleep 3600\n\
        finish\n";
    let started = Instant::now();
    let run = s.run("timeout", body, &[], &s.short_prjconf);
    let took = started.elapsed();
    let v = &run.outcome;
    assert_eq!(run.code, Some(1), "{v}");
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(run.note("timeout"), "sleeping past the limit");
    assert!(
        took < Duration::from_secs(TIMEOUT_SECS + 120),
        "Cryo-Timeout: {TIMEOUT_SECS} took {took:?}"
    );
    // The reason, not just a silent end of the log.
    let tail = v["log_tail"].as_str().unwrap_or_default();
    assert!(
        tail.contains("timed out") && run.log.contains("timed out"),
        "timeout: the reason is not reported: {v}"
    );
}

fn set_id(s: &Suite) {
    // Set-id files inside the build: owned by the build user's unmapped ids, never by a
    // host user; the package ships a set-uid-root file, which stays inside the .deb.
    let body = "cp /bin/bash ../@TAG@-suid && chmod 6755 ../@TAG@-suid\n\
        note setuid-inside $(stat -c '%a %u:%g' ../@TAG@-suid)\n\
        try chown-to-root chown 0:0 ../@TAG@-suid\n\
        try run-own-setuid-as-root ../@TAG@-suid -p -c 'test $(id -u) = 0'\n\
        try su-to-root su -c true root\n\
        try setpriv-to-root setpriv --reuid=0 --regid=0 --clear-groups true\n\
        try nested-userns-root unshare -Ur sh -c 'chown 0:0 ../@TAG@-suid && chmod 4755 ../@TAG@-suid'\n\
        note no-new-privs $(grep NoNewPrivs /proc/self/status)\n\
        mkdir -p debian/tmp/usr/bin && cp /bin/bash debian/tmp/usr/bin/suid-shell && chmod 4755 debian/tmp/usr/bin/suid-shell\n";
    let run = s.run("setid", body, &[], &s.prjconf);
    let v = &run.outcome;
    assert_eq!(run.code, Some(0), "{v}\n{}", run.log);
    assert_eq!(v["status"], "built", "{v}");
    assert_eq!(run.note("setuid-inside"), "6755 1000:1000");
    run.blocked("chown-to-root", "Operation not permitted");
    for a in ["run-own-setuid-as-root", "su-to-root", "setpriv-to-root"] {
        run.blocked(a, "");
    }
    run.blocked("nested-userns-root", "uid_map: Permission denied");
    assert_eq!(run.note("no-new-privs"), "NoNewPrivs: 1");
    // The .deb holds the set-uid file (as data); on the host it is a plain store object.
    let deb = v["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"].as_str().unwrap().ends_with(".deb"))
        .unwrap_or_else(|| panic!("{v}"));
    let out = s.work.path().join("setid.deb");
    let f = std::fs::File::create(&out).unwrap();
    let o =
        s.d.cmd()
            .args(["store", "cat", deb["blake3"].as_str().unwrap()])
            .stdout(f)
            .output()
            .unwrap();
    assert!(o.status.success(), "{}", cryo_tests::output_text(&o));
    let c = Command::new("dpkg-deb")
        .arg("--contents")
        .arg(&out)
        .output()
        .unwrap();
    let contents = String::from_utf8_lossy(&c.stdout);
    assert!(
        contents.contains("-rwsr-xr-x root/root") && contents.contains("./usr/bin/suid-shell"),
        "{contents}"
    );
}

fn symlinks_into_the_work_dir(s: &Suite) {
    // Links planted where the daemon looks for outputs and where it removes the work
    // directory: the outputs are the real files, the daemon follows none of the links
    // (the canary and its subdir survive the removal of the work directory).
    let body = "ln -s @CANARY@/secret ../evil_1.0_all.deb\n\
        ln -s / ../root_1.0_amd64.buildinfo\n\
        ln -s @CANARY@ ../canary-dir-link\n\
        ln -s @CANARY@/subdir ../subdir-link\n\
        ln -s @STATE@ ../state-link\n\
        mkfifo ../fifo_1.0_amd64.changes\n\
        mkdir ../dir_1.0_all.udeb\n\
        try hardlink-canary ln @CANARY@/secret ../hard-secret\n\
        mkdir -p debian/tmp/usr/share && ln -s @CANARY@ debian/tmp/usr/share/canary\n\
        note planted symlinks, a fifo and a directory named like outputs\n";
    let run = s.run("symlinks", body, &[], &s.prjconf);
    let v = &run.outcome;
    assert_eq!(run.code, Some(0), "{v}\n{}", run.log);
    let names: Vec<&str> = v["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "hostile-symlinks_1.0_all.deb",
            "hostile-symlinks_1.0_amd64.buildinfo",
            "hostile-symlinks_1.0_amd64.changes"
        ],
        "{v}"
    );
    run.blocked("hardlink-canary", "");
    for o in v["outputs"].as_array().unwrap() {
        let data =
            s.d.cmd()
                .args(["store", "cat", o["blake3"].as_str().unwrap()])
                .output()
                .unwrap();
        assert!(data.status.success());
        let text = String::from_utf8_lossy(&data.stdout);
        assert!(
            !text.contains(&s.secret),
            "{}: the canary secret was stored",
            o["name"]
        );
    }
    assert!(s.canary.path().join("subdir/keep").is_file());
    assert_eq!(
        std::fs::read_to_string(s.canary.path().join("secret")).unwrap(),
        s.secret
    );
}

fn dsc_with_dotdot_names(s: &Suite) {
    let tag = format!("cryo-hostile-dotdot-{}", random_hex());
    let before = s.before();
    let tar = b"not a tarball: a refused source is never unpacked\n".as_slice();
    let canary = s.canary.path().display().to_string();
    let up = format!("../../../../../../../..{canary}/{tag}");
    let prjconf = json!({
        "name": "debian-12.prjconf",
        "text": std::fs::read_to_string(&s.prjconf).unwrap(),
    });
    let tar_d = upload(&s.d, tar);
    let good_dsc = dsc_text("hostile-dotdot", &[("hostile-dotdot_1.0.tar.xz", tar)]);
    let good_d = upload(&s.d, good_dsc.as_bytes());
    let listing_dotdot = dsc_text("hostile-dotdot", &[(&format!("{up}.tar.xz"), tar)]);
    let listing_d = upload(&s.d, listing_dotdot.as_bytes());
    // (dsc name, files) as a hostile client sends them.
    let cases = [
        (
            format!("{up}.dsc"),
            json!({ format!("{up}.dsc"): good_d, "hostile-dotdot_1.0.tar.xz": tar_d }),
        ),
        (
            "hostile-dotdot_1.0.dsc".to_string(),
            json!({ "hostile-dotdot_1.0.dsc": good_d, format!("{up}.tar.xz"): tar_d }),
        ),
        (
            "hostile-dotdot_1.0.dsc".to_string(),
            json!({ "hostile-dotdot_1.0.dsc": listing_d, format!("{up}.tar.xz"): tar_d }),
        ),
        (
            "hostile-dotdot_1.0.dsc".to_string(),
            json!({ "hostile-dotdot_1.0.dsc": listing_d, "hostile-dotdot_1.0.tar.xz": tar_d }),
        ),
    ];
    for (dsc, files) in &cases {
        let body = json!({
            "snapshot": s.snapshot,
            "prjconf": prjconf,
            "source": {"kind": "dsc", "dsc": dsc, "files": files},
        });
        for path in ["/api/v1/build", "/api/v1/resolve"] {
            let (status, v) = call(
                &s.d,
                "POST",
                path,
                body.to_string().as_bytes(),
                "application/json",
            );
            assert_eq!(status, 400, "{path} {dsc} {files}: {v}");
            let msg = v.to_string();
            assert!(
                msg.contains("..") || msg.contains("unsafe") || msg.contains("path component"),
                "{path}: the refusal does not say why: {v}"
            );
        }
    }
    // Through the real client: a `.dsc` whose Checksums name `../` files is refused.
    let dir = s.work.path().join("dotdot");
    std::fs::create_dir_all(&dir).unwrap();
    let dsc = dir.join("hostile-dotdot_1.0.dsc");
    std::fs::write(&dsc, &listing_dotdot).unwrap();
    let (code, v) = s.build(&dsc, &s.prjconf);
    eprintln!("dotdot via cryo: {v}");
    assert_eq!(code, Some(2), "{v}");
    s.check_host("dotdot", &tag, &before, "");
}

fn tarball_out_of_tree(s: &Suite) {
    let tag = format!("cryo-hostile-tar-{}", random_hex());
    let tar = evil_tarball(s.canary.path(), &tag);
    let dir = s.work.path().join("tar");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hostile-tar_1.0.tar.xz"), &tar).unwrap();
    let dsc = dir.join("hostile-tar_1.0.dsc");
    std::fs::write(
        &dsc,
        dsc_text("hostile-tar", &[("hostile-tar_1.0.tar.xz", &tar)]),
    )
    .unwrap();
    let before = s.before();
    let (code, v) = s.build(&dsc, &s.prjconf);
    let drv = v["derivation"].as_str().unwrap_or_else(|| panic!("{v}"));
    let log = s.d.ok(&["log", drv]);
    s.check_host("tarball", &tag, &before, &log);
    // dpkg-source refuses the tarball inside the sandbox: a failed build naming the cause.
    assert_eq!(code, Some(1), "{v}\n{log}");
    assert_eq!(v["status"], "failed", "{v}");
    let tail = v["log_tail"].as_str().unwrap_or_default();
    eprintln!("tarball: {tail}");
    assert!(tail.contains("dpkg-source"), "{v}");
    assert!(s.canary.path().join("subdir/keep").is_file());
    assert_eq!(
        std::fs::read_to_string(s.canary.path().join("secret")).unwrap(),
        s.secret
    );
}

#[test]
fn hostile_sources_through_cryod() {
    if !require(
        is_root(),
        "the hostile suite needs root (the CI runs as root)",
    ) {
        return;
    }
    for tool in [
        "prlimit",
        "curl",
        "python3",
        "dpkg-source",
        "dpkg-deb",
        "sha1sum",
        "md5sum",
    ] {
        if !require(have(tool), &format!("{tool} is not installed")) {
            return;
        }
    }
    let s = Suite::start();
    type Case = (&'static str, fn(&Suite));
    let cases: [Case; 10] = [
        ("dsc with ../ names", dsc_with_dotdot_names),
        ("tarball with paths out of the tree", tarball_out_of_tree),
        ("network", network),
        ("escape to host paths", escape_to_host_paths),
        ("host reads", host_reads),
        ("set-id", set_id),
        ("symlinks into the work dir", symlinks_into_the_work_dir),
        ("disk fill", disk_fill),
        ("fork bomb", fork_bomb),
        ("timeout", timeout),
    ];
    let total = Instant::now();
    // `CRYO_HOSTILE_ONLY=network,timeout` runs a subset (while working on one case).
    let only = std::env::var("CRYO_HOSTILE_ONLY").unwrap_or_default();
    for (name, case) in cases {
        if !only.is_empty() && !only.split(',').any(|o| name.contains(o.trim())) {
            continue;
        }
        let t = Instant::now();
        eprintln!("hostile case: {name}");
        case(&s);
        eprintln!("hostile case: {name}: ok in {:?}", t.elapsed());
    }
    // The shared roots are exactly as before the first hostile build.
    let known: std::collections::BTreeSet<_> = s
        .roots
        .keys()
        .filter_map(|p| p.components().next())
        .collect();
    let d = diff(&s.roots, &s.root_listing(), &|p| {
        p.components().next().is_some_and(|c| !known.contains(&c))
    });
    assert!(d.is_empty(), "a build root changed: {d:#?}");
    let v = s.d.cryo(&["store", "verify"]);
    assert!(v.status.success(), "{}", cryo_tests::output_text(&v));
    eprintln!("hostile suite: {:?}", total.elapsed());
}
