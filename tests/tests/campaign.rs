//! `cryo campaign` end to end (docs/campaigns.md): one campaign over every source of the
//! visible fixture (the 7 sources its pool holds), killed with `kill -9` half-way and
//! resumed, its rows and summary, pause/resume, the rebuilderd export, and
//! `campaign update` to a snapshot in which one source changed: exactly one rebuild.
//! One daemon; each of the 7 sources is built once (the update builds one new version).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cryo_tests::{file_url, fixture_mirror, Daemon};
use serde_json::Value;

/// The sources of the fixture's pool (`../shared/mirror/README.md`).
const FIXTURE_SOURCES: &[&str] = &[
    "base-files",
    "debootstrap",
    "kernel-wedge",
    "libuev",
    "mxml",
    "xfpt",
    "hello",
];
const IDENTICAL: &[&str] = &[
    "base-files",
    "debootstrap",
    "kernel-wedge",
    "libuev",
    "mxml",
];

/// A signed archive `bookworm-cu` (a "stable update") holding one new source version:
/// kernel-wedge 2.106~deb12u2 = the fixture's 2.106~deb12u1 plus a changelog entry,
/// repacked with `dpkg-source -b`. No binaries. Returns the GnuPG home (keep it alive)
/// and the public keyring.
fn update_archive(root: &Path) -> (tempfile::TempDir, std::path::PathBuf) {
    let m = fixture_mirror();
    let work = root.join("work");
    fs::create_dir_all(&work).unwrap();
    let dsc = m.join("debian/pool/main/k/kernel-wedge/kernel-wedge_2.106~deb12u1.dsc");
    cryo_tests::run_ok(
        Command::new("dpkg-source")
            .current_dir(&work)
            .args(["--no-check", "-x"])
            .arg(&dsc)
            .arg("kernel-wedge-2.106~deb12u2"),
    );
    let tree = work.join("kernel-wedge-2.106~deb12u2");
    let changelog = tree.join("debian/changelog");
    let old = fs::read_to_string(&changelog).unwrap();
    fs::write(
        &changelog,
        format!(
            "kernel-wedge (2.106~deb12u2) bookworm; urgency=medium\n\n  * cryo campaign test: a new upload.\n\n -- T <t@example.org>  Mon, 02 Nov 2026 10:00:00 +0000\n\n{old}"
        ),
    )
    .unwrap();
    cryo_tests::run_ok(
        Command::new("dpkg-source")
            .current_dir(&work)
            .env("SOURCE_DATE_EPOCH", "1793613600")
            .args(["-b", "kernel-wedge-2.106~deb12u2"]),
    );
    let archive = root.join("cu");
    let pool = archive.join("pool/main/k/kernel-wedge");
    fs::create_dir_all(&pool).unwrap();
    for f in fs::read_dir(&work).unwrap() {
        let p = f.unwrap().path();
        if p.is_file() {
            fs::copy(&p, pool.join(p.file_name().unwrap())).unwrap();
        }
    }
    cryo_tests::sign_archive(&archive, "bookworm-cu")
}

fn builds_run(d: &Daemon) -> u64 {
    d.json(&["daemon", "status"])["builds_run"]
        .as_u64()
        .unwrap()
}

/// Poll `campaign show` until `done(campaign)`.
fn wait_until(d: &Daemon, name: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(3600);
    loop {
        let c = d.json(&["campaign", "show", name]);
        if done(&c) {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {c}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Rows of `source`.
fn rows_of<'a>(rows: &'a [Value], source: &str) -> Vec<&'a Value> {
    rows.iter().filter(|r| r["source"] == source).collect()
}

#[test]
fn campaign_over_the_visible_fixture_resumes_and_updates_with_one_rebuild() {
    let tools = ["gpg", "dpkg-source", "dpkg-scansources", "apt-ftparchive"];
    let missing = cryo_tests::missing_tools(&tools);
    if !cryo_tests::require(
        missing.is_empty(),
        &format!("the update archive needs {missing:?} (gnupg, dpkg-dev, apt-utils)"),
    ) {
        return;
    }
    let mut d = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800"), ("CRYOD_WORKERS", "2")]);
    let m = fixture_mirror();
    let snap = d.fixture_snapshot();
    let prjconf = m.join("debian-12.prjconf");
    let pc = prjconf.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("fixture.list");
    let text: String = FIXTURE_SOURCES
        .iter()
        .map(|s| format!("src:{s}\n"))
        .collect();
    fs::write(
        &list,
        format!("# every source of the fixture's pool\n{text}"),
    )
    .unwrap();

    // Bad input is refused clearly.
    let o = d.cryo(&[
        "campaign",
        "create",
        "Bad Name",
        "--snapshot",
        &snap,
        "--prjconf",
        pc,
        "--from-file",
        list.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid campaign name"));

    let c = d.json(&[
        "campaign",
        "create",
        "fixture",
        "--snapshot",
        &snap,
        "--prjconf",
        pc,
        "--from-file",
        list.to_str().unwrap(),
    ]);
    assert_eq!(c["name"], "fixture");
    assert_eq!(c["state"], "running", "{c}");
    assert_eq!(c["counts"]["sources"], 7, "{c}");
    assert_eq!(c["snapshot"], snap.as_str());
    let o = d.cryo(&[
        "campaign",
        "create",
        "fixture",
        "--snapshot",
        &snap,
        "--prjconf",
        pc,
        "--all",
    ]);
    assert!(!o.status.success(), "a second campaign of the same name");

    // kill -9 once at least one source has a verdict; the restarted daemon resumes.
    wait_until(&d, "fixture", "a first verdict", |c| {
        c["counts"]["pending"].as_u64().unwrap() < 7
    });
    let before = d.json(&["campaign", "results", "fixture"]);
    d.kill9();
    d.restart();
    let c = d.json(&["campaign", "show", "fixture"]);
    assert_ne!(c["state"], "paused", "{c}");
    let c = wait_until(&d, "fixture", "the campaign", |c| c["state"] == "done");
    assert_eq!(c["counts"]["pending"], 0, "{c}");
    assert_eq!(c["counts"]["sources"], 7, "{c}");
    let res = d.json(&["campaign", "results", "fixture"]);
    let rows = res["rows"].as_array().unwrap().clone();
    // Verdicts reached before the crash are kept, not redone.
    for r in before["rows"].as_array().unwrap() {
        if r["class"] != "pending" {
            let now = rows
                .iter()
                .find(|x| x["source"] == r["source"] && x["binary"] == r["binary"])
                .unwrap();
            assert_eq!(now["report"], r["report"], "{r} → {now}");
            assert_eq!(now["time"], r["time"]);
        }
    }
    // One row per source × binary, each with its report, time and derivation.
    for r in &rows {
        for f in [
            "source",
            "version",
            "binary",
            "arch",
            "class",
            "report",
            "time",
            "derivation",
        ] {
            assert!(!r[f].is_null(), "{f} missing in {r}");
        }
        assert_eq!(r["suite"], "bookworm", "{r}");
    }
    for s in IDENTICAL {
        let rs = rows_of(&rows, s);
        assert!(!rs.is_empty(), "no row for {s}: {res}");
        for r in rs {
            assert_eq!(r["class"], "identical", "{r}");
        }
    }
    assert_eq!(rows_of(&rows, "libuev").len(), 2, "libuev3 and libuev-dev");
    assert_eq!(rows_of(&rows, "mxml").len(), 2, "libmxml1 and libmxml-dev");
    for s in ["hello", "xfpt"] {
        let rs = rows_of(&rows, s);
        assert!(!rs.is_empty(), "no row for {s}");
        for r in rs {
            assert_ne!(r["class"], "identical", "{r}");
            assert_ne!(r["class"], "build-failed", "{r}");
        }
    }
    let identical = rows.iter().filter(|r| r["class"] == "identical").count();
    assert_eq!(
        c["counts"]["by_class"]["identical"], identical as u64,
        "{c}"
    );
    assert_eq!(c["counts"]["rows"], rows.len() as u64);
    // The summary: one history line, percentages per class of the verdicts.
    let h = c["history"].as_array().unwrap();
    assert_eq!(h.len(), 1, "{c}");
    assert_eq!(h[0]["event"], "create");
    let pct = h[0]["percent"]["identical"].as_f64().unwrap();
    let want = identical as f64 * 100.0 / rows.len() as f64;
    assert!((pct - want).abs() < 0.1, "{pct} vs {want}");
    assert_eq!(c["per_suite"][0]["suite"], "bookworm", "{c}");
    // A row's report is a stored verification report.
    let id = rows_of(&rows, "base-files")[0]["report"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(d.ok(&["report", "show", &id]).contains("identical"));
    // Text forms.
    let text = d.ok(&["campaign", "show", "fixture"]);
    assert!(
        text.contains("identical") && text.contains("history:"),
        "{text}"
    );
    let text = d.ok(&["campaign", "results", "fixture"]);
    assert!(text.contains("libuev-dev"), "{text}");

    // The rebuilderd export: identical → GOOD, differs → BAD.
    let e = d.json(&["campaign", "export", "fixture"]);
    assert_eq!(e["stats"]["GOOD"], identical as u64, "{e}");
    for p in e["packages"].as_array().unwrap() {
        let want = if IDENTICAL.contains(&p["base"].as_str().unwrap()) {
            "GOOD"
        } else {
            "BAD"
        };
        assert_eq!(p["status"], want, "{p}");
        assert!(p["built_at"].as_str().unwrap().ends_with('Z'));
    }

    // Pause/resume on a second campaign whose builds are all cached: nothing is built.
    let n0 = builds_run(&d);
    let small = tmp.path().join("small.list");
    fs::write(
        &small,
        "src:base-files\nsrc:debootstrap\nsrc:kernel-wedge\n",
    )
    .unwrap();
    d.json(&[
        "campaign",
        "create",
        "small",
        "--snapshot",
        &snap,
        "--prjconf",
        pc,
        "--from-file",
        small.to_str().unwrap(),
    ]);
    let p = d.cryo(&["--json", "campaign", "pause", "small"]);
    if p.status.success() {
        let v: Value = serde_json::from_slice(&p.stdout).unwrap();
        assert_eq!(v["state"], "paused");
        let pending = v["counts"]["pending"].as_u64().unwrap();
        std::thread::sleep(Duration::from_secs(3));
        let now = d.json(&["campaign", "show", "small"]);
        assert_eq!(now["state"], "paused");
        // At most the sources already started when it paused finish.
        assert!(
            now["counts"]["pending"].as_u64().unwrap() + 2 >= pending,
            "{now}"
        );
        let r = d.json(&["campaign", "resume", "small", "--wait"]);
        assert_eq!(r["state"], "done", "{r}");
    } else {
        // It finished before the pause arrived: pausing a done campaign is refused.
        assert!(String::from_utf8_lossy(&p.stderr).contains("done"));
    }
    let s = d.json(&["campaign", "show", "small", "--wait"]);
    assert_eq!(s["counts"]["by_class"]["identical"], 3, "{s}");
    assert_eq!(builds_run(&d), n0, "cached derivations are not built again");
    let l = d.json(&["campaign", "list"]);
    assert_eq!(l.as_array().unwrap().len(), 2);
    d.json(&["campaign", "delete", "small"]);
    assert_eq!(d.json(&["campaign", "list"]).as_array().unwrap().len(), 1);
    assert!(!d.cryo(&["campaign", "show", "small"]).status.success());

    // A second snapshot in which only kernel-wedge changed (a new upload in a third,
    // signed archive): the update re-verifies kernel-wedge alone, one build.
    let (_gnupg, keyring) = update_archive(tmp.path());
    d.ok(&[
        "mirror",
        "add",
        "cu",
        &file_url(&tmp.path().join("cu")),
        "--suite",
        "bookworm-cu",
        "--keyring",
        keyring.to_str().unwrap(),
    ]);
    let snap2 = d.json(&["mirror", "sync", "bookworm", "security", "cu"])["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(snap2, snap);
    let n0 = builds_run(&d);
    let u = d.json(&[
        "campaign",
        "update",
        "fixture",
        "--snapshot",
        &snap2,
        "--wait",
    ]);
    assert_eq!(u["reverify"], serde_json::json!(["kernel-wedge"]), "{u}");
    assert_eq!(u["carried"], 6, "{u}");
    assert_eq!(u["campaign"]["state"], "done", "{u}");
    assert_eq!(builds_run(&d), n0 + 1, "one rebuild, not 7");
    let h = u["campaign"]["history"].as_array().unwrap();
    assert_eq!(h.len(), 2, "one history line per pass: {u}");
    assert_eq!(h[1]["event"], "update");
    assert_eq!(h[1]["verified"], 1);
    assert_eq!(h[1]["carried"], 6);
    // kernel-wedge's new version has no official binary in any snapshot.
    let changed = h[1]["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{u}");
    assert_eq!(changed[0]["source"], "kernel-wedge");
    assert_eq!(changed[0]["old"], "identical");
    assert_eq!(changed[0]["new"], "missing-upstream");
    assert_eq!(changed[0]["new_version"], "2.106~deb12u2");
    let text = d.ok(&["campaign", "show", "fixture"]);
    assert!(text.contains("update"), "{text}");
    let res2 = d.json(&["campaign", "results", "fixture"]);
    assert_eq!(res2["campaign"]["snapshot"], snap2.as_str());
    for r in res2["rows"].as_array().unwrap() {
        let old = rows
            .iter()
            .find(|x| x["source"] == r["source"] && x["binary"] == r["binary"]);
        if r["source"] == "kernel-wedge" {
            assert_eq!(r["version"], "2.106~deb12u2", "{r}");
            assert_eq!(r["verified_on"], snap2.as_str());
            assert_ne!(
                r["derivation"],
                rows_of(&rows, "kernel-wedge")[0]["derivation"]
            );
        } else {
            // Carried over: the old report, derivation and snapshot.
            let old = old.unwrap_or_else(|| panic!("new row {r}"));
            assert_eq!(r["report"], old["report"], "{r}");
            assert_eq!(r["derivation"], old["derivation"], "{r}");
            assert_eq!(r["verified_on"], snap.as_str());
            assert_eq!(r["class"], old["class"]);
        }
    }
    // Updating to the snapshot it is on is refused.
    assert!(!d
        .cryo(&["campaign", "update", "fixture", "--snapshot", &snap2])
        .status
        .success());

    // Rows that carry a .buildinfo: base-files' own (from its cached build) is rebuilt in
    // the environment it records and compared with Debian's binary; one naming a version
    // no snapshot has is a failed row that says which.
    let bf = rows_of(&rows, "base-files")[0]["derivation"]
        .as_str()
        .unwrap()
        .to_string();
    let out = tempfile::tempdir().unwrap();
    d.json(&["build", "--drv", &bf, "--out", out.path().to_str().unwrap()]);
    let bi = out.path().join("base-files_12.4+deb12u15_amd64.buildinfo");
    let text = fs::read_to_string(&bi).unwrap();
    let (head, tail) = text.split_once("Installed-Build-Depends:\n").unwrap();
    let bad_text = format!("{head}Installed-Build-Depends:\n cryo-nonexistent (= 9.9-9),\n{tail}")
        .replace("Source: base-files", "Source: debootstrap")
        .replace("Version: 12.4+deb12u15", "Version: 1.0.128+nmu2+deb12u2");
    fs::write(out.path().join("bad.buildinfo"), bad_text).unwrap();
    fs::write(
        out.path().join("list"),
        "# rebuilt as the .buildinfo says\nbase-files_12.4+deb12u15_amd64.buildinfo\nbad.buildinfo\n",
    )
    .unwrap();
    let c = d.json(&[
        "campaign",
        "create",
        "buildinfos",
        "--snapshot",
        &snap,
        "--prjconf",
        pc,
        "--from-file",
        out.path().join("list").to_str().unwrap(),
        "--wait",
    ]);
    assert_eq!(c["state"], "done", "{c}");
    let res = d.json(&["campaign", "results", "buildinfos"]);
    let rows = res["rows"].as_array().unwrap();
    let good = rows_of(rows, "base-files");
    assert_eq!(good.len(), 1, "{res}");
    assert_eq!(good[0]["class"], "identical", "{res}");
    assert_eq!(
        good[0]["buildinfo"], "base-files_12.4+deb12u15_amd64.buildinfo",
        "{res}"
    );
    assert!(good[0]["report"].is_string(), "{res}");
    let bad = rows_of(rows, "debootstrap");
    assert_eq!(bad[0]["class"], "build-failed", "{res}");
    let note = bad[0]["note"].as_str().unwrap_or_default();
    assert!(note.contains("cryo-nonexistent 9.9-9"), "{res}");
}
