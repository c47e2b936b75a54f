//! Crash injection (issue 13): `kill -9` of the real `cryod` at seeded random points during
//! commits, build completion, publishing and garbage collection, 20 rounds. After every
//! kill the daemon is restarted on the same state directory and:
//!
//! - `cryo store verify` is clean;
//! - no committed revision is lost: every commit that answered success before the kill
//!   is in `cryo package log`, with the same digest, and revisions are numbered 1..n;
//! - no row of `cryo results` names an output the store cannot produce;
//! - the published tree served under `/repos/` is one complete generation: `Release` is
//!   the signed text of `InRelease`, and every index it lists is served with the size
//!   and SHA256 it gives (under its name and under `by-hash/`);
//! - every generation a successful `publish` answered is still kept.
//!
//! The kill points are drawn from a xorshift generator seeded by `CRYO_CRASH_SEED`
//! (default fixed, so CI is reproducible); the seed and every delay are printed. Builds are
//! tiny native packages on the shared build root (debhelper's closure).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cryo_tests::{fixture_mirror, free_port, output_text, Daemon, NativeTree};
use serde_json::Value;
use sha2::{Digest, Sha256};

const ROUNDS: usize = 20;
const PROJECT: &str = "eol:12:crash";
const PACKAGE: &str = "crashdemo";
/// Bound on the whole loop (the rounds stop early, and the test fails, past it).
const LOOP_BUDGET: Duration = Duration::from_secs(1200);

/// xorshift64*: small, seeded, good enough to spread kill points.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A delay in `0..max_ms` milliseconds.
    fn delay(&mut self, max_ms: u64) -> Duration {
        Duration::from_millis(self.next() % max_ms)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Commit,
    BuildCompletion,
    Publish,
    Gc,
}

/// What succeeded before the kills, to be found after them.
#[derive(Default)]
struct Record {
    /// rev → digest of every commit that answered success.
    revisions: BTreeMap<u64, String>,
    /// Every generation a `publish` answered as current.
    generations: Vec<u64>,
    published: bool,
}

fn tree(dir: &Path, n: u64) {
    let version = format!("1.{n}");
    let file = format!("{version}\n");
    NativeTree {
        source: PACKAGE,
        version: &version,
        build_depends: "",
        binary: PACKAGE,
        changes: &format!("Version {version}."),
        files: &[
            ("version", &file),
            ("debian/crashdemo.install", "version usr/share/crashdemo/\n"),
        ],
    }
    .write(dir);
}

fn wait_until(what: &str, d: &Daemon, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn curl(url: &str) -> (u16, Vec<u8>) {
    let o = Command::new("curl")
        .args(["-sS", "--noproxy", "*", "-w", "\n%{http_code}", url])
        .output()
        .expect("curl");
    assert!(o.status.success(), "GET {url}: {}", output_text(&o));
    let mut body = o.stdout;
    let pos = body.iter().rposition(|b| *b == b'\n').unwrap();
    let code = String::from_utf8_lossy(&body[pos + 1..])
        .trim()
        .parse()
        .unwrap();
    body.truncate(pos);
    (code, body)
}

/// The signed text of a clearsigned message.
fn signed_text(inrelease: &str) -> String {
    let (_, rest) = inrelease
        .split_once("\n\n")
        .expect("clearsigned header ends with a blank line");
    let (text, _) = rest
        .split_once("\n-----BEGIN PGP SIGNATURE-----")
        .expect("a signature follows the text");
    text.lines()
        .map(|l| l.strip_prefix("- ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The served repository is one complete generation (see the module doc). Returns the
/// number of indices checked.
fn check_published(base: &str) -> usize {
    let dists = format!("{base}/dists/bookworm");
    let (code, inrelease) = curl(&format!("{dists}/InRelease"));
    assert_eq!(
        code,
        200,
        "InRelease: {}",
        String::from_utf8_lossy(&inrelease)
    );
    let inrelease = String::from_utf8(inrelease).unwrap();
    let (code, release) = curl(&format!("{dists}/Release"));
    assert_eq!(code, 200);
    let release = String::from_utf8(release).unwrap();
    assert_eq!(
        signed_text(&inrelease).trim_end(),
        release.trim_end(),
        "InRelease and Release are from different generations"
    );
    let mut in_sha = false;
    let mut checked = 0;
    for line in release.lines() {
        if line.starts_with("SHA256:") {
            in_sha = true;
            continue;
        }
        if !line.starts_with(' ') {
            in_sha = false;
            continue;
        }
        if !in_sha {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let (sha, size, path) = (f[0], f[1].parse::<usize>().unwrap(), f[2]);
        let (code, body) = curl(&format!("{dists}/{path}"));
        assert_eq!(code, 200, "{path} is listed in Release but not served");
        assert_eq!(body.len(), size, "{path}: size differs from Release");
        assert_eq!(
            hex::encode(Sha256::digest(&body)),
            sha,
            "{path}: content differs from Release (half-switched generation)"
        );
        let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        if path.contains("/binary-") || path.contains("/source/") {
            let (code, by_hash) = curl(&format!("{dists}/{dir}/by-hash/SHA256/{sha}"));
            assert_eq!(code, 200, "{path}: by-hash/SHA256/{sha} not served");
            assert!(by_hash == body, "{path}: by-hash content differs");
        }
        checked += 1;
    }
    assert!(checked > 0, "Release lists no index:\n{release}");
    checked
}

/// Everything that must hold after a restart.
fn check_after_restart(d: &Daemon, rec: &Record, base: &str, round: usize) {
    let v = d.cryo(&["store", "verify"]);
    assert!(
        v.status.success(),
        "round {round}: store verify is not clean:\n{}",
        output_text(&v)
    );
    // No committed revision lost.
    let log = d.json(&["package", "log", PROJECT, PACKAGE]);
    let revs = log["revisions"].as_array().unwrap();
    for (i, r) in revs.iter().enumerate() {
        assert_eq!(
            r["rev"].as_u64(),
            Some(i as u64 + 1),
            "round {round}: {log}"
        );
    }
    let have: BTreeMap<u64, String> = revs
        .iter()
        .map(|r| {
            (
                r["rev"].as_u64().unwrap(),
                r["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (rev, digest) in &rec.revisions {
        assert_eq!(
            have.get(rev),
            Some(digest),
            "round {round}: committed revision {rev} lost or changed: {log}"
        );
    }
    // Rows name outputs the store has.
    for row in d.json(&["results", PROJECT]).as_array().unwrap() {
        for o in row["outputs"].as_array().into_iter().flatten() {
            let digest = o["blake3"].as_str().unwrap();
            let cat = d.cryo(&["store", "cat", digest]);
            assert!(
                cat.status.success(),
                "round {round}: output {} of {row} is not in the store: {}",
                o["name"],
                output_text(&cat)
            );
            assert_eq!(
                hex::encode(Sha256::digest(&cat.stdout)),
                o["sha256"].as_str().unwrap(),
                "round {round}: output {} has other bytes than recorded",
                o["name"]
            );
        }
    }
    if rec.published {
        check_published(base);
    }
}

/// `cryo ARGS` in the background, its stdout captured.
fn spawn(d: &Daemon, args: &[&str]) -> Child {
    d.cmd()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a client whose daemon was killed; its JSON answer when it succeeded.
fn finish(c: Child) -> Option<Value> {
    let o = c.wait_with_output().unwrap();
    if !o.status.success() {
        return None;
    }
    serde_json::from_slice(&o.stdout).ok()
}

/// Commits in a loop on a thread until `stop`; each success is recorded.
fn committer(
    d: &Daemon,
    dir: &Path,
    next: &Arc<Mutex<u64>>,
    stop: &Arc<AtomicBool>,
) -> Vec<(u64, String)> {
    let mut ok = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let n = {
            let mut g = next.lock().unwrap();
            *g += 1;
            *g
        };
        let t = dir.join(format!("src-{n}"));
        tree(&t, n);
        let c = spawn(
            d,
            &[
                "--json",
                "commit",
                PROJECT,
                PACKAGE,
                t.to_str().unwrap(),
                "-m",
                &format!("crash round commit {n}"),
            ],
        );
        match finish(c) {
            Some(v) => {
                assert_eq!(v["changed"], true, "{v}");
                ok.push((
                    v["revision"]["rev"].as_u64().unwrap(),
                    v["revision"]["digest"].as_str().unwrap().to_string(),
                ));
            }
            None => break,
        }
    }
    ok
}

#[test]
fn kill_9_at_random_points_loses_nothing() {
    let seed: u64 = std::env::var("CRYO_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x00c0_ffee_1313);
    eprintln!("crash: seed {seed} (set CRYO_CRASH_SEED to replay another)");
    let mut rng = Rng(seed.max(1));
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut d = Daemon::start_with(
        &[("CRYOD_NOW", "1795564800"), ("CRYOD_WORKERS", "2")],
        &["--listen", &addr],
        None,
    );
    let snap = d.fixture_snapshot();
    let prjconf = fixture_mirror().join("debian-12.prjconf");
    d.ok(&[
        "project",
        "create",
        PROJECT,
        "--snapshot",
        &snap,
        "--prjconf",
        prjconf.to_str().unwrap(),
    ]);
    let work = tempfile::tempdir().unwrap();
    let base = format!("http://{addr}/repos/{PROJECT}/debian");
    let next = Arc::new(Mutex::new(0u64));
    let mut rec = Record::default();

    // Revision 1, built and published: the baseline every round compares with.
    let first = work.path().join("src-0");
    tree(&first, 0);
    let c = d.json(&["package", "add", PROJECT, first.to_str().unwrap()]);
    rec.revisions.insert(
        c["revision"]["rev"].as_u64().unwrap(),
        c["revision"]["digest"].as_str().unwrap().to_string(),
    );
    let w = d.cryo(&["wait", PROJECT, "--timeout", "1200"]);
    assert!(w.status.success(), "{}\n{}", output_text(&w), d.log());
    let p = d.json(&["publish", PROJECT]);
    rec.generations.push(p[0]["generation"].as_u64().unwrap());
    rec.published = true;
    check_after_restart(&d, &rec, &base, 0);

    let started = Instant::now();
    let kinds = [Kind::Commit, Kind::BuildCompletion, Kind::Publish, Kind::Gc];
    for round in 1..=ROUNDS {
        assert!(
            started.elapsed() < LOOP_BUDGET,
            "crash loop over budget after {} rounds",
            round - 1
        );
        let kind = kinds[(round - 1) % kinds.len()];
        let t = Instant::now();
        let delay;
        // What the round saw before the kill, for the log.
        let note: String;
        match kind {
            Kind::Commit => {
                // Commits back to back on a thread; the kill lands in one of them.
                delay = rng.delay(2500);
                let stop = Arc::new(AtomicBool::new(false));
                let (dd, dir, nn, ss) = (&d, work.path(), &next, &stop);
                let ok = std::thread::scope(|sc| {
                    let h = sc.spawn(move || committer(dd, dir, nn, ss));
                    std::thread::sleep(delay);
                    stop.store(true, Ordering::SeqCst);
                    d_kill(dd);
                    h.join().unwrap()
                });
                note = format!("{} commits answered", ok.len());
                for (rev, digest) in ok {
                    rec.revisions.insert(rev, digest);
                }
            }
            Kind::BuildCompletion => {
                // A new revision; kill while its build finishes (after dpkg-deb ran:
                // changes, outputs into the store, the realisation, the result row).
                let n = {
                    let mut g = next.lock().unwrap();
                    *g += 1;
                    *g
                };
                let t2 = work.path().join(format!("src-{n}"));
                tree(&t2, n);
                let c = d.json(&[
                    "commit",
                    PROJECT,
                    PACKAGE,
                    t2.to_str().unwrap(),
                    "-m",
                    "build round",
                ]);
                let rev = c["revision"]["rev"].as_u64().unwrap();
                rec.revisions
                    .insert(rev, c["revision"]["digest"].as_str().unwrap().to_string());
                let version = format!("1.{n}");
                wait_until("the build to package", &d, Duration::from_secs(600), || {
                    let rows = d.json(&["results", PROJECT]);
                    let row = &rows[0];
                    if row["state"] == "succeeded" && row["revision"].as_u64() == Some(rev) {
                        return true;
                    }
                    let log = d.cryo(&["log", PROJECT, PACKAGE]);
                    String::from_utf8_lossy(&log.stdout).contains("dpkg-deb: building package")
                        && String::from_utf8_lossy(&log.stdout).contains(&version)
                });
                delay = rng.delay(3000);
                std::thread::sleep(delay);
                d_kill(&d);
                note = format!("revision {rev} was packaging");
            }
            Kind::Publish => {
                // Publish and roll back in a loop; the kill lands in one of them.
                delay = rng.delay(1500);
                let stop = Arc::new(AtomicBool::new(false));
                let dd = &d;
                let ss = &stop;
                let gens = std::thread::scope(|sc| {
                    let h = sc.spawn(move || {
                        let mut gens = Vec::new();
                        let mut rollback = false;
                        while !ss.load(Ordering::SeqCst) {
                            let mut args = vec!["--json", "publish", PROJECT];
                            if rollback {
                                args.push("--rollback");
                            }
                            match finish(spawn(dd, &args)) {
                                Some(v) => gens.push(v[0]["generation"].as_u64().unwrap()),
                                None => break,
                            }
                            rollback = !rollback;
                        }
                        gens
                    });
                    std::thread::sleep(delay);
                    stop.store(true, Ordering::SeqCst);
                    d_kill(dd);
                    h.join().unwrap()
                });
                note = format!("{} publish/rollback calls answered", gens.len());
                rec.generations.extend(gens);
            }
            Kind::Gc => {
                // Garbage to collect (unrooted blobs), then a GC killed part way.
                let g = work.path().join(format!("garbage-{round}"));
                std::fs::create_dir_all(&g).unwrap();
                for i in 0..200 {
                    std::fs::write(g.join(format!("f{i}")), format!("garbage {round} {i}\n"))
                        .unwrap();
                }
                d.ok(&["store", "import", g.to_str().unwrap(), "--root", ""]);
                delay = rng.delay(400);
                let c = spawn(&d, &["--json", "store", "gc"]);
                std::thread::sleep(delay);
                d_kill(&d);
                note = match finish(c) {
                    Some(r) => format!("gc finished first: {r}"),
                    None => "gc interrupted".to_string(),
                };
            }
        }
        d.kill9();
        d.restart();
        eprintln!(
            "crash round {round:2}: {kind:?}, kill after {delay:?}, {note} ({:?})",
            t.elapsed()
        );
        check_after_restart(&d, &rec, &base, round);
        let kept = d.json(&["publish", PROJECT]);
        let numbers: Vec<u64> = kept[0]["generations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["number"].as_u64().unwrap())
            .collect();
        let newest = *numbers.iter().max().unwrap();
        for g in &rec.generations {
            assert!(
                *g <= newest,
                "round {round}: generation {g} was answered but is gone: {kept}"
            );
        }
        rec.generations
            .push(kept[0]["generation"].as_u64().unwrap());
        check_published(&base);
    }

    // Everything that was interrupted finishes; the store stays clean.
    let w = d.cryo(&["wait", PROJECT, "--timeout", "1200"]);
    assert!(w.status.success(), "{}\n{}", output_text(&w), d.log());
    let rows = d.json(&["results", PROJECT]);
    let row = &rows[0];
    assert_eq!(row["state"], "succeeded", "{row}");
    let again = d.json(&["build", "--drv", row["derivation"].as_str().unwrap()]);
    assert_eq!(again["status"], "cached", "{again}");
    assert_eq!(again["outputs"], row["outputs"]);
    check_after_restart(&d, &rec, &base, ROUNDS + 1);
    eprintln!(
        "crash: {ROUNDS} rounds in {:?}, {} revisions kept",
        started.elapsed(),
        rec.revisions.len()
    );
}

/// SIGKILL the daemon by pid (from another thread than the one owning `Daemon`); the
/// owner reaps it with `Daemon::kill9`.
fn d_kill(d: &Daemon) {
    let s = Command::new("kill")
        .args(["-KILL", &d.pid().to_string()])
        .status()
        .unwrap();
    assert!(s.success());
}

/// Host pids whose environment holds `needle`.
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

/// A build must not outlive the daemon that started it: after `kill -9` of `cryod` the
/// sandbox (and everything in its pid namespace) goes too, instead of running on
/// unsupervised until its timeout, writing into a work directory nobody will collect.
#[test]
fn a_killed_daemon_takes_its_running_build_with_it() {
    let mut d = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800")]);
    let snap = d.fixture_snapshot();
    let prjconf = fixture_mirror().join("debian-12.prjconf");
    let work = tempfile::tempdir().unwrap();
    let mark = format!(
        "CRYO_CRASH_MARK={}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let rules = format!(
        "#!/usr/bin/make -f\nexport {mark}\n%:\n\tdh $@\noverride_dh_auto_build:\n\techo sleeping; sleep 600\n"
    );
    let dir = work.path().join("sleeper");
    NativeTree {
        source: "crash-sleeper",
        version: "1.0",
        build_depends: "",
        binary: "crash-sleeper",
        changes: "Sleeps.",
        files: &[("debian/rules", &rules)],
    }
    .write(&dir);
    let client = spawn(
        &d,
        &[
            "--json",
            "build",
            "--snapshot",
            &snap,
            "--prjconf",
            prjconf.to_str().unwrap(),
            dir.to_str().unwrap(),
        ],
    );
    wait_until("the build to sleep", &d, Duration::from_secs(600), || {
        processes_with_env(&mark).iter().any(|p| {
            std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c == b"sleep\x00600\x00")
        })
    });
    // Quiet now: nothing writes to the daemon's log pipe, so no SIGPIPE ends it either.
    std::thread::sleep(Duration::from_secs(1));
    d.kill9();
    let _ = finish(client);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut left = processes_with_env(&mark);
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        left = processes_with_env(&mark);
    }
    if !left.is_empty() {
        // Do not leave them running for 10 minutes: the test's own processes.
        for p in &left {
            let _ = Command::new("kill")
                .args(["-KILL", &p.to_string()])
                .status();
        }
    }
    assert!(
        left.is_empty(),
        "the build kept running after its daemon was killed: pids {left:?}"
    );
    d.restart();
    let v = d.cryo(&["store", "verify"]);
    assert!(v.status.success(), "{}", output_text(&v));
}
