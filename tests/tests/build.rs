//! `cryo build` end to end: a real Debian package rebuilt bit-for-bit in the sandbox, the
//! cache, `--rebuild`, logs, and a failing build. One daemon (one build root) for all.

use std::fs;

use cryo_tests::{fixture_mirror, Daemon};

fn failing_tree(dir: &std::path::Path) {
    rules_tree(
        dir,
        "#!/usr/bin/make -f\n%:\n\t@echo \"cryo-installed: $$(dpkg-query -W -f '$${Package} ')\"\n\
         \t@echo cryo-test: this build fails on purpose\n\texit 1\n",
    );
}

/// A native tree named `broken` whose `debian/rules` is `rules`.
fn rules_tree(dir: &std::path::Path, rules: &str) {
    fs::create_dir_all(dir.join("debian/source")).unwrap();
    fs::write(dir.join("debian/source/format"), "3.0 (native)\n").unwrap();
    fs::write(
        dir.join("debian/changelog"),
        "broken (1.0) bookworm; urgency=medium\n\n  * Fails.\n\n -- T <t@example.org>  Mon, 02 Jan 2023 10:00:00 +0000\n",
    )
    .unwrap();
    // Same build dependencies as base-files: the same closure, hence the same build root.
    fs::write(
        dir.join("debian/control"),
        "Source: broken\nMaintainer: T <t@example.org>\nBuild-Depends: debhelper-compat (= 13)\n\nPackage: broken\nArchitecture: all\nDescription: fails\n always fails to build\n",
    )
    .unwrap();
    fs::write(dir.join("debian/rules"), rules).unwrap();
    let mut perm = fs::metadata(dir.join("debian/rules"))
        .unwrap()
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    fs::set_permissions(dir.join("debian/rules"), perm).unwrap();
}

#[test]
fn build_base_files_identical_cached_rebuild_and_failure() {
    let d = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800")]);
    let m = fixture_mirror();
    let snap = d.fixture_snapshot();
    let prjconf = m.join("debian-12.prjconf");
    let pc = prjconf.to_str().unwrap();
    let out = tempfile::tempdir().unwrap();

    let built = d.json(&[
        "build",
        "--snapshot",
        &snap,
        "--prjconf",
        pc,
        "src:base-files",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(built["status"], "built", "{built}");
    let drv = built["derivation"].as_str().unwrap().to_string();
    // A root this build prepared came from the base and the tool layer (debhelper is in
    // base-files' closure). The unprivileged CI run (`.ci/unprivileged-e2e.sh`) starts from
    // an empty build directory and says so with CRYO_E2E_NEW_ROOT=1: there the layers are
    // prepared and copied inside the user namespace.
    if std::env::var("CRYO_E2E_NEW_ROOT").as_deref() == Ok("1") {
        assert_eq!(built["root_cached"], false, "{built}");
    }
    if built["root_cached"] == false {
        let log = d.ok(&["log", &drv]);
        assert!(
            log.contains(" base layer ") && log.contains(" tool layer "),
            "{log}"
        );
    }
    let names: Vec<&str> = built["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    for n in [
        "base-files_12.4+deb12u15_amd64.deb",
        "base-files_12.4+deb12u15_amd64.buildinfo",
        "base-files_12.4+deb12u15_amd64.changes",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    // Bit for bit what Debian shipped.
    let ours = fs::read(out.path().join("base-files_12.4+deb12u15_amd64.deb")).unwrap();
    let theirs =
        fs::read(m.join("debian/pool/main/b/base-files/base-files_12.4+deb12u15_amd64.deb"))
            .unwrap();
    assert!(ours == theirs, "base-files differs from Debian's binary");

    // Same inputs: cached, no sandbox.
    let again = d.json(&[
        "build",
        "--snapshot",
        &snap,
        "--prjconf",
        pc,
        "src:base-files",
    ]);
    assert_eq!(again["status"], "cached");
    assert_eq!(again["derivation"], drv.as_str());
    assert_eq!(again["outputs"], built["outputs"]);
    // --rebuild builds again (reusing the cached root) and compares bit for bit. With the
    // real clock (the default) only the .buildinfo's Build-Date (and so the .changes'
    // checksums of it) differ, which is no difference: exit 0.
    let re = d.json(&["build", "--drv", &drv, "--rebuild"]);
    assert_eq!(re["status"], "built");
    assert_eq!(re["root_cached"], true);
    assert_eq!(re["rebuild_differences"], serde_json::json!([]), "{re}");
    let log = d.ok(&["log", &drv]);
    assert!(log.contains("dpkg-buildpackage"), "{log}");
    // -f on a derivation that is not building: its latest log.
    assert_eq!(d.ok(&["log", &drv, "-f"]), log);

    // --check: rebuild with deliberate variations (as reprotest does) and compare each
    // .deb with the recorded one; one section per variation in the stored report.
    let o = d.cryo(&[
        "--json",
        "build",
        "--check",
        &drv,
        "--vary",
        "umask,hostname,build-path",
    ]);
    let check: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let code = o.status.code();
    assert!(code == Some(0) || code == Some(1), "{check}");
    let report: serde_json::Value = serde_json::from_str(&d.ok(&[
        "report",
        "show",
        check["report"].as_str().unwrap(),
        "--format",
        "json",
    ]))
    .unwrap();
    let sections: Vec<&str> = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sections,
        [
            "base-files [vary umask]",
            "base-files [vary hostname]",
            "base-files [vary build-path]"
        ],
        "{report}"
    );
    for s in report["sources"].as_array().unwrap() {
        let b = &s["binaries"][0];
        assert_eq!(b["package"], "base-files", "{s}");
        let class = b["classification"]["kind"].as_str().unwrap_or("");
        assert!(
            !class.is_empty() && class != "build-failed" && class != "inconclusive",
            "{s}"
        );
    }
    let bad = d.cryo(&["build", "--check", &drv, "--vary", "moon-phase"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("hostname"));

    // A failing build: status, exit 1, the log tail, no outputs; the daemon survives.
    let src = tempfile::tempdir().unwrap();
    let tree = src.path().join("broken");
    failing_tree(&tree);
    let o = d.cryo(&[
        "--json",
        "build",
        "--snapshot",
        &snap,
        "--prjconf",
        pc,
        tree.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "failed");
    assert_eq!(
        v["root_cached"], true,
        "same closure as base-files: the root is shared"
    );
    assert!(v["outputs"].as_array().unwrap().is_empty());
    assert!(
        v["log_tail"]
            .as_str()
            .unwrap()
            .contains("this build fails on purpose"),
        "{v}"
    );
    // The root holds the resolved closure and nothing else (no builder tools).
    let failed = v["derivation"].as_str().unwrap();
    let log = d.ok(&["log", failed]);
    let line = log
        .lines()
        .find_map(|l| l.strip_prefix("cryo-installed: "))
        .unwrap_or_else(|| panic!("{log}"));
    let mut installed: Vec<&str> = line.split_whitespace().collect();
    installed.sort();
    let drv_json = d.json(&["drv", "show", failed]);
    let mut closure: Vec<&str> = drv_json["closure"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    closure.sort();
    closure.dedup();
    assert_eq!(installed, closure);
    assert!(!installed.contains(&"libfaketime"));

    // Cryo-IdleTimeout: a build silent for a minute is killed and says so, with the last
    // lines it printed (same closure: the cached root).
    let quiet = src.path().join("quiet");
    rules_tree(
        &quiet,
        "#!/usr/bin/make -f\n%:\n\t@echo cryo-test: going quiet now\n\tsleep 600\n",
    );
    let idle_pc = src.path().join("idle.prjconf");
    fs::write(
        &idle_pc,
        format!(
            "{}\nCryo-IdleTimeout: 1\n",
            fs::read_to_string(&prjconf).unwrap()
        ),
    )
    .unwrap();
    let o = d.cryo(&[
        "--json",
        "build",
        "--snapshot",
        &snap,
        "--prjconf",
        idle_pc.to_str().unwrap(),
        quiet.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "failed", "{v}");
    let tail = v["log_tail"].as_str().unwrap();
    assert!(
        tail.contains("timed out: no output for 1 min (Cryo-IdleTimeout)")
            && tail.contains("cryo-test: going quiet now"),
        "{tail}"
    );
    d.ok(&["daemon", "status"]);
    assert!(d.cryo(&["store", "verify"]).status.success());
}

/// `cryo verify` on the fixture's ground truth (see ../shared/mirror/README.md).
#[test]
fn verify_matches_the_measured_ground_truth() {
    let d = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800"), ("CRYOD_WORKERS", "2")]);
    let m = fixture_mirror();
    let snap = d.fixture_snapshot();
    let prjconf = m.join("debian-12.prjconf");
    let pc = prjconf.to_str().unwrap();
    let verify = |pc: &str, sources: &[&str]| {
        let mut args = vec!["--json", "verify", "--snapshot", &snap, "--prjconf", pc];
        args.extend_from_slice(sources);
        let o = d.cryo(&args);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
        (o.status.code(), v)
    };

    // Identical: every binary, exit 0.
    let list = tempfile::NamedTempFile::new().unwrap();
    fs::write(
        list.path(),
        "# identical in a faithful env\nsrc:debootstrap\nsrc:kernel-wedge\n",
    )
    .unwrap();
    let mut args = vec![
        "--json",
        "verify",
        "--snapshot",
        &snap,
        "--prjconf",
        pc,
        "src:base-files",
        "src:libuev",
        "src:mxml",
        "--from-file",
    ];
    args.push(list.path().to_str().unwrap());
    let o = d.cryo(&args);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert_eq!(v["summary"]["total"]["analysed"], 7, "{v}");
    assert_eq!(v["summary"]["total"]["identical"], 7, "{v}");
    assert_eq!(v["summary"]["per_source"].as_array().unwrap().len(), 5);

    // xfpt: build-id only, naming the file and the sections.
    let (code, v) = verify(pc, &["src:xfpt"]);
    assert_eq!(code, Some(1));
    let id = v["report"].as_str().unwrap().to_string();
    let json: serde_json::Value =
        serde_json::from_str(&d.ok(&["report", "show", &id, "--format", "json"])).unwrap();
    let bin = &json["sources"][0]["binaries"];
    let xfpt = bin
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["package"] == "xfpt")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(xfpt["classification"]["kind"], "build-id-only", "{xfpt}");
    let text = d.ok(&["report", "show", &id]);
    for needle in [
        "usr/bin/xfpt",
        ".note.gnu.build-id",
        ".gnu_debuglink",
        "build-id-only",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    let html = tempfile::NamedTempFile::new().unwrap();
    d.ok(&[
        "report",
        "show",
        &id,
        "--format",
        "html",
        "--out",
        html.path().to_str().unwrap(),
    ]);
    let page = fs::read_to_string(html.path()).unwrap();
    assert!(
        page.contains(".note.gnu.build-id") && page.contains("<details"),
        "html report"
    );
    open_in_chromium(html.path());

    // hello: with the default real clock (what Debian's buildds run), code differs in
    // .text (configure embeds `date +%Y`); pinned to the changelog date, only the build-id.
    let (code, v) = verify(pc, &["src:hello"]);
    assert_eq!(code, Some(1), "{v}");
    let hello = d.ok(&["report", "show", v["report"].as_str().unwrap()]);
    assert!(hello.contains("hello 2.10-3 amd64: content"), "{hello}");
    assert!(hello.contains("usr/bin/hello (.text)"), "{hello}");
    let dir = tempfile::tempdir().unwrap();
    let pinned = dir.path().join("pinned-clock.prjconf");
    fs::write(
        &pinned,
        format!(
            "{}\nCryo-Clock: changelog\n",
            fs::read_to_string(&prjconf).unwrap()
        ),
    )
    .unwrap();
    let (code, v) = verify(pinned.to_str().unwrap(), &["src:hello"]);
    assert_eq!(code, Some(1), "{v}");
    let hello = d.ok(&["report", "show", v["report"].as_str().unwrap()]);
    assert!(
        hello.contains("hello 2.10-3 amd64: build-id-only"),
        "{hello}"
    );

    // Failures give exit 2: a source that is not in the snapshot.
    let (code, v) = verify(pc, &["src:no-such-source"]);
    assert_eq!(code, Some(2), "{v}");
    assert_eq!(d.json(&["report", "list"]).as_array().unwrap().len(), 5);
}

/// The HTML report in a real browser: headless Chromium (Debian's `chromium`) loads it and
/// the rendered DOM names the differing sections. Required in CI (`.ci/packages` installs
/// chromium); elsewhere a missing chromium is reported and the check skipped.
fn open_in_chromium(html: &std::path::Path) {
    let have_chromium = std::process::Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !cryo_tests::require(
        have_chromium,
        "chromium is not installed: no real-browser check (apt-get install chromium)",
    ) {
        return;
    }
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains(".note.gnu.build-id") && dom.contains(".gnu_debuglink"),
        "rendered DOM:\n{dom}"
    );
    assert!(dom.contains("build-id-only"), "rendered DOM:\n{dom}");
}
