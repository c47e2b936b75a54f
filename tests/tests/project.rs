//! Projects end to end: packages committed to a project on the fixture snapshot build in
//! parallel; identical commits schedule nothing; local build dependencies are built first
//! and a change rebuilds dependents only when their inputs change; cycles and bad
//! sources are reported; `kill -9` during a build and during a commit loses nothing.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use cryo_tests::{fixture_mirror, Daemon, NativeTree};
use serde_json::Value;

/// The tests share build roots (see `shared_build_dir`); run them one after the other
/// so that each root is prepared once, not three times at the same moment on 2 cores.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn prjconf() -> String {
    fixture_mirror()
        .join("debian-12.prjconf")
        .to_str()
        .unwrap()
        .to_string()
}

fn results(d: &Daemon, project: &str) -> Vec<Value> {
    d.json(&["results", project]).as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [Value], pkg: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["package"] == pkg)
        .unwrap_or_else(|| panic!("no row for {pkg}: {rows:?}"))
}

/// Wait for the project (exit code of `cryo wait`).
fn wait(d: &Daemon, project: &str) -> i32 {
    let out = d.cryo(&["wait", project, "--timeout", "1500"]);
    out.status.code().unwrap_or(-1)
}

/// A native Debian source tree built with debhelper (the closure of base-files, so it
/// shares base-files' build root). `files` are extra files relative to the tree.
fn tree(dir: &Path, source: &str, build_depends: &str, binary: &str, files: &[(&str, &str)]) {
    NativeTree {
        source,
        version: "1.0",
        build_depends,
        binary,
        changes: "Test package.",
        files,
    }
    .write(dir);
}

fn lib_tree(dir: &Path, value: &str, rules_comment: &str) {
    tree(
        dir,
        "cryodemo-lib",
        "",
        "libcryodemo-dev",
        &[
            ("value", value),
            (
                "debian/libcryodemo-dev.install",
                "value usr/share/cryodemo/\n",
            ),
            (
                "debian/rules",
                &format!("#!/usr/bin/make -f\n# {rules_comment}\n%:\n\tdh $@\n"),
            ),
        ],
    );
}

fn app_tree(dir: &Path) {
    tree(
        dir,
        "cryodemo-app",
        ", libcryodemo-dev",
        "cryodemo-app",
        &[
            (
                "debian/rules",
                "#!/usr/bin/make -f\n%:\n\tdh $@\noverride_dh_auto_build:\n\tcp /usr/share/cryodemo/value app-value\n",
            ),
            ("debian/cryodemo-app.install", "app-value usr/share/cryodemo-app/\n"),
        ],
    );
}

#[test]
fn fixture_packages_build_in_parallel_and_identical_commits_schedule_nothing() {
    let _serial = serial();
    let d = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800"), ("CRYOD_WORKERS", "2")]);
    let snap = d.fixture_snapshot();
    let p = "eol:12:staging";
    d.ok(&[
        "project",
        "create",
        p,
        "--snapshot",
        &snap,
        "--prjconf",
        &prjconf(),
        "--description",
        "staging",
    ]);
    for src in ["base-files", "libuev", "mxml", "xfpt"] {
        let c = d.json(&["package", "add", p, &format!("src:{src}")]);
        assert_eq!(c["changed"], true, "{c}");
        assert_eq!(c["revision"]["rev"], 1);
    }
    let code = wait(&d, p);
    let rows = results(&d, p);
    assert_eq!(code, 0, "{rows:#?}\n{}", d.log());
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert_eq!(r["state"], "succeeded", "{r}");
        assert!(r["derivation"].as_str().unwrap().len() == 64);
        assert!(r["duration_secs"].as_f64().unwrap() > 0.0);
    }
    // Two workers: a second build started before the first finished.
    let log = d.log();
    let first_finish = log.find("build finished").expect("a build finished");
    assert!(
        log[..first_finish].matches("build started").count() >= 2,
        "builds did not overlap:\n{log}"
    );

    // The same source again: no revision, nothing scheduled, rows untouched.
    let before: Vec<u64> = rows.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    let c = d.json(&["commit", p, "libuev", "src:libuev", "-m", "same again"]);
    assert_eq!(c["changed"], false, "{c}");
    let after: Vec<u64> = results(&d, p)
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(before, after);
    let log = d.json(&["package", "log", p, "libuev"]);
    assert_eq!(log["revisions"].as_array().unwrap().len(), 1);

    // Logs and show.
    let text = d.ok(&["log", p, "base-files"]);
    assert!(text.contains("dpkg-buildpackage"), "{text}");
    let show = d.json(&["project", "show", p]);
    assert_eq!(show["packages"].as_array().unwrap().len(), 4);
    assert_eq!(show["repositories"][0]["snapshot"], snap);
    let conf = d.ok(&["project", "config", p]);
    assert_eq!(conf, fs::read_to_string(prjconf()).unwrap());

    // A second repository following the mirrors (synced on request): same snapshot and
    // prjconf, so every row of it is the same derivation, realised already: `cached`.
    d.ok(&[
        "project",
        "repo-add",
        p,
        "--repository",
        "follow",
        "--mirror",
        "bookworm",
        "--mirror",
        "security",
        "--prjconf",
        &prjconf(),
    ]);
    let show = d.json(&["project", "show", p]);
    assert_eq!(show["repositories"][1]["snapshot"], snap, "{show}");
    assert_eq!(wait(&d, p), 0);
    let rows = results(&d, p);
    assert_eq!(rows.len(), 8);
    for r in rows.iter().filter(|r| r["repository"] == "follow") {
        assert_eq!(r["state"], "cached", "{r}");
        let same = rows
            .iter()
            .find(|x| x["repository"] == "debian" && x["package"] == r["package"])
            .unwrap();
        assert_eq!(r["derivation"], same["derivation"]);
    }
    let synced = d.json(&["project", "sync", p]);
    assert_eq!(
        synced["changed_repositories"],
        serde_json::json!([]),
        "{synced}"
    );
}

#[test]
fn local_dependencies_build_first_and_cascade_only_on_changed_inputs() {
    let _serial = serial();
    let d = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800"), ("CRYOD_WORKERS", "2")]);
    let snap = d.fixture_snapshot();
    let p = "eol:12:local";
    d.ok(&[
        "project",
        "create",
        p,
        "--snapshot",
        &snap,
        "--prjconf",
        &prjconf(),
    ]);
    let work = tempfile::tempdir().unwrap();
    let (lib, app) = (work.path().join("lib"), work.path().join("app"));
    lib_tree(&lib, "one\n", "first");
    app_tree(&app);

    // The app alone cannot resolve: libcryodemo-dev exists nowhere yet.
    d.ok(&["package", "add", p, app.to_str().unwrap()]);
    let rows = results(&d, p);
    let r = row(&rows, "cryodemo-app");
    assert_eq!(r["state"], "unresolvable", "{r}");
    assert!(
        r["reason"].as_str().unwrap().contains("libcryodemo-dev"),
        "{r}"
    );

    // With the library in the project, the app waits for it, then builds against it.
    d.ok(&["package", "add", p, lib.to_str().unwrap()]);
    let rows = results(&d, p);
    let r = row(&rows, "cryodemo-app");
    assert_eq!(r["state"], "blocked", "{rows:#?}");
    assert!(
        r["reason"].as_str().unwrap().contains("cryodemo-lib"),
        "{r}"
    );
    assert_eq!(wait(&d, p), 0, "{:#?}\n{}", results(&d, p), d.log());
    let rows1 = results(&d, p);
    let (lib1, app1) = (
        row(&rows1, "cryodemo-lib").clone(),
        row(&rows1, "cryodemo-app").clone(),
    );
    assert_eq!(app1["state"], "succeeded");
    let drv = d.json(&["drv", "show", app1["derivation"].as_str().unwrap()]);
    assert!(
        drv["closure"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "libcryodemo-dev"),
        "the app's closure lacks the locally built library: {drv}"
    );

    // A source change that does not change the library's .deb: the library rebuilds,
    // the app's inputs are unchanged, so it is not rebuilt.
    lib_tree(&lib, "one\n", "second");
    let c = d.json(&[
        "commit",
        p,
        "cryodemo-lib",
        lib.to_str().unwrap(),
        "-m",
        "comment only",
    ]);
    assert_eq!(c["changed"], true);
    assert_eq!(wait(&d, p), 0, "{:#?}", results(&d, p));
    let rows2 = results(&d, p);
    let (lib2, app2) = (row(&rows2, "cryodemo-lib"), row(&rows2, "cryodemo-app"));
    assert_ne!(lib2["derivation"], lib1["derivation"]);
    let deb = |r: &Value| {
        r["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"].as_str().unwrap().ends_with(".deb"))
            .map(|o| o["blake3"].clone())
    };
    assert_eq!(
        deb(lib2),
        deb(&lib1),
        "the library's .deb should be reproducible"
    );
    assert_eq!(app2["derivation"], app1["derivation"]);
    assert_eq!(app2["state"], "succeeded", "{app2}");
    assert_eq!(app2["log"], app1["log"], "the app was rebuilt: {app2}");
    let app_builds = |log: &str| {
        log.matches("build started project=eol:12:local package=cryodemo-app ")
            .count()
    };
    assert_eq!(app_builds(&d.log()), 1, "{}", d.log());

    // A change of the library's content: the app's closure changes and it rebuilds.
    lib_tree(&lib, "two\n", "second");
    d.ok(&[
        "commit",
        p,
        "cryodemo-lib",
        lib.to_str().unwrap(),
        "-m",
        "new value",
    ]);
    assert_eq!(wait(&d, p), 0, "{:#?}", results(&d, p));
    let rows3 = results(&d, p);
    let app3 = row(&rows3, "cryodemo-app");
    assert_ne!(app3["derivation"], app1["derivation"]);
    assert_eq!(app3["state"], "succeeded");

    // A failing library: the app becomes unresolvable (nothing provides its build
    // dependency) but keeps its last successful build, which stays published.
    lib_tree(&lib, "two\n", "broken");
    fs::write(
        lib.join("debian/rules"),
        "#!/usr/bin/make -f\n%:\n\texit 1\n",
    )
    .unwrap();
    d.ok(&[
        "commit",
        p,
        "cryodemo-lib",
        lib.to_str().unwrap(),
        "-m",
        "broken",
    ]);
    assert_eq!(wait(&d, p), 1, "{:#?}", results(&d, p));
    let rows4 = results(&d, p);
    assert_eq!(row(&rows4, "cryodemo-lib")["state"], "failed");
    let app4 = row(&rows4, "cryodemo-app");
    assert_eq!(app4["state"], "unresolvable", "{app4}");
    assert!(
        app4["reason"]
            .as_str()
            .unwrap()
            .contains("cryodemo-lib (failed)"),
        "{app4}"
    );
    assert_eq!(app4["previous"], "succeeded", "{app4}");
    assert_eq!(app4["outputs"], app3["outputs"], "the last success is kept");
    // Fixing the library back to the last good source restores the app as it was.
    lib_tree(&lib, "two\n", "second");
    d.ok(&[
        "commit",
        p,
        "cryodemo-lib",
        lib.to_str().unwrap(),
        "-m",
        "fixed",
    ]);
    assert_eq!(wait(&d, p), 0, "{:#?}", results(&d, p));
    let app5 = row(&results(&d, p), "cryodemo-app").clone();
    assert_eq!(app5["state"], "succeeded", "{app5}");
    assert_eq!(app5["derivation"], app3["derivation"]);

    // A dependency cycle is reported, not hung.
    let (a, b) = (work.path().join("cyca"), work.path().join("cycb"));
    tree(&a, "cyc-a", ", cyc-b-bin", "cyc-a-bin", &[]);
    tree(&b, "cyc-b", ", cyc-a-bin", "cyc-b-bin", &[]);
    d.ok(&["package", "add", p, a.to_str().unwrap()]);
    d.ok(&["package", "add", p, b.to_str().unwrap()]);
    let rows = results(&d, p);
    let r = row(&rows, "cyc-a");
    assert_eq!(r["state"], "unresolvable");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("dependency cycle: cyc-a → cyc-b → cyc-a"),
        "{r}"
    );
    assert_eq!(wait(&d, p), 1, "cycles are failures for CI");

    // A malformed debian/control is refused at commit, with file:line.
    let bad = work.path().join("bad");
    tree(&bad, "bad", "", "bad", &[]);
    fs::write(
        bad.join("debian/control"),
        "Source: bad\nMaintainer: T <t@example.org>\n this line continues nothing\n\nPackage bad\n",
    )
    .unwrap();
    let out = d.cryo(&["package", "add", p, bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("debian/control:"), "{err}");

    // Removing a package removes its rows.
    d.ok(&["package", "remove", p, "cyc-a"]);
    assert!(results(&d, p).iter().all(|r| r["package"] != "cyc-a"));
}

#[test]
fn kill_9_during_a_build_and_a_commit_loses_nothing() {
    let _serial = serial();
    let mut d = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800"), ("CRYOD_WORKERS", "2")]);
    let snap = d.fixture_snapshot();
    let p = "eol:12:crash";
    d.ok(&[
        "project",
        "create",
        p,
        "--snapshot",
        &snap,
        "--prjconf",
        &prjconf(),
    ]);
    let work = tempfile::tempdir().unwrap();
    let slow = work.path().join("slow");
    tree(
        &slow,
        "slow",
        "",
        "slow",
        &[(
            "debian/rules",
            "#!/usr/bin/make -f\n%:\n\tdh $@\noverride_dh_auto_build:\n\techo building slowly; sleep 8\n",
        )],
    );
    d.ok(&["package", "add", p, slow.to_str().unwrap()]);
    // Wait until it builds (the build root may have to be prepared first), then kill -9.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let rows = results(&d, p);
        let r = row(&rows, "slow");
        if r["state"] == "building"
            && String::from_utf8_lossy(&d.cryo(&["log", p, "slow"]).stdout)
                .contains("\nbuilding slowly\n")
        {
            break;
        }
        assert!(r["state"] == "scheduled" || r["state"] == "building", "{r}");
        assert!(
            Instant::now() < deadline,
            "never reached the slow step: {}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    d.kill9();
    // A commit interrupted by kill -9: start one, kill the daemon while it runs.
    d.restart();
    let other = work.path().join("other");
    tree(&other, "other", "", "other", &[]);
    let child = d
        .cmd()
        .args(["package", "add", p, other.to_str().unwrap()])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    d.kill9();
    let _ = child.wait_with_output();
    d.restart();
    // After restart: the interrupted build resumes; the commit either happened or not.
    assert_eq!(wait(&d, p), 0, "{:#?}\n{}", results(&d, p), d.log());
    let rows = results(&d, p);
    assert_eq!(row(&rows, "slow")["state"], "succeeded");
    let show = d.json(&["project", "show", p]);
    for pkg in show["packages"].as_array().unwrap() {
        assert_eq!(pkg["revisions"], 1, "{pkg}");
    }
    // No derivation has two different outputs, and the store is clean.
    let drv = row(&rows, "slow")["derivation"]
        .as_str()
        .unwrap()
        .to_string();
    let again = d.json(&["build", "--drv", &drv]);
    assert_eq!(again["status"], "cached");
    let outs: Vec<Value> = row(&rows, "slow")["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["blake3"].clone())
        .collect();
    let cached: Vec<Value> = again["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["blake3"].clone())
        .collect();
    assert_eq!(outs, cached);
    let v = d.cryo(&["store", "verify"]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}
