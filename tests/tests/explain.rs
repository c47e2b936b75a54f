//! `cryo explain` and `cryo verify --buildinfo` end to end on the fixture's ground truth
//! (../shared/mirror/README.md): hello built with the real clock differs in `.text` (the
//! year of `date +%Y`); `Cryo-Clock: changelog` explains that, and the remaining build-id
//! difference is the compiler's version string (Debian built it with gcc 12.2.0-14, the
//! snapshot has 12.2.0-14+deb12u1). xfpt differs in its build-id only. A `.buildinfo` that
//! cryo wrote for base-files rebuilds identically.
//!
//! The prjconf passed sets the clock explicitly (`Cryo-Clock: real`), so these expectations
//! hold whatever the builder's default clock is.

use std::fs;

use cryo_tests::{fixture_mirror, Daemon};

fn real_clock_prjconf(dir: &std::path::Path) -> std::path::PathBuf {
    let stock = fixture_mirror().join("debian-12.prjconf");
    let real = dir.join("real-clock.prjconf");
    fs::write(
        &real,
        format!("{}\nCryo-Clock: real\n", fs::read_to_string(stock).unwrap()),
    )
    .unwrap();
    real
}

fn binary<'a>(v: &'a serde_json::Value, package: &str) -> &'a serde_json::Value {
    v["explanations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["package"] == package)
        .unwrap_or_else(|| panic!("no explanation of {package}: {v}"))
}

#[test]
fn explain_finds_the_clock_and_names_the_compiler() {
    let d = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800"), ("CRYOD_WORKERS", "2")]);
    let snap = d.fixture_snapshot();
    let dir = tempfile::tempdir().unwrap();
    let real = real_clock_prjconf(dir.path());
    let pc = real.to_str().unwrap();

    // hello with the real clock: content (.text).
    let o = d.cryo(&[
        "--json",
        "verify",
        "--snapshot",
        &snap,
        "--prjconf",
        pc,
        "src:hello",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let report = v["report"].as_str().unwrap().to_string();
    let shown = || d.ok(&["report", "show", &report]);
    assert_eq!(o.status.code(), Some(1), "{v}\n{}", shown());
    assert_eq!(v["summary"]["total"]["by_kind"]["content"], 1, "{v}");

    // explain REPORT: the report's prjconf and snapshot are reused.
    let e = d.json(&["explain", &report, "--max-rebuilds", "4"]);
    assert_eq!(e["report"], report.as_str());
    let hello = &binary(&e, "hello")["explanation"];
    assert_eq!(hello["class_before"], "content", "{hello}");
    assert_eq!(hello["class_after"], "build-id-only", "{hello}");
    assert_eq!(hello["verdict"], "improved", "{hello}");
    assert_eq!(
        hello["explained_by"][0]["variation"], "Cryo-Clock: changelog",
        "{hello}"
    );
    assert_eq!(hello["explained_by"][0]["cause"], "clock", "{hello}");
    assert_eq!(hello["prjconf_addition"], "Cryo-Clock: changelog\n");
    let remaining = hello["remaining"].to_string();
    for needle in [
        "compiler's version string",
        "gcc-12 12.2.0-14+deb12u1",
        ".note.gnu.build-id",
        "no .comment section",
    ] {
        assert!(remaining.contains(needle), "{needle} missing: {remaining}");
    }
    assert!(hello["rebuilds"].as_u64().unwrap() <= 4, "{hello}");

    // Stored with the report: text, JSON and HTML show it.
    let text = d.ok(&["report", "show", &report]);
    assert!(
        text.contains("explained: improved (content → build-id-only)"),
        "{text}"
    );
    assert!(text.contains("by Cryo-Clock: changelog [clock]"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&d.ok(&["report", "show", &report, "--format", "json"])).unwrap();
    assert_eq!(
        json["sources"][0]["binaries"][0]["explanation"]["class_after"],
        "build-id-only"
    );
    let html = d.ok(&["report", "show", &report, "--format", "html"]);
    assert!(html.contains("class=\"explanation\""), "{html}");
    assert!(html.contains("Cryo-Clock: changelog"));

    // Explaining again costs no build: every variation is a cached derivation.
    let again = d.json(&["explain", &report, "--max-rebuilds", "4"]);
    assert_eq!(
        binary(&again, "hello")["explanation"]["class_after"],
        "build-id-only"
    );

    // xfpt (a source, verified first): build-id only, nothing to rebuild with one snapshot.
    let stock = fixture_mirror().join("debian-12.prjconf");
    let x = d.json(&[
        "explain",
        "src:xfpt",
        "--snapshot",
        &snap,
        "--prjconf",
        stock.to_str().unwrap(),
    ]);
    let xfpt = &binary(&x, "xfpt")["explanation"];
    assert_eq!(xfpt["class_before"], "build-id-only", "{xfpt}");
    assert_eq!(xfpt["verdict"], "unexplained", "{xfpt}");
    assert!(
        xfpt["remaining"]
            .to_string()
            .contains("no snapshot cryo holds offers another version"),
        "{xfpt}"
    );

    // Bad input: a source without --snapshot/--prjconf, an unknown report.
    let o = d.cryo(&["explain", "src:hello"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--snapshot and --prjconf"));
    let o = d.cryo(&["explain", "0000000000"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no report"));
}

#[test]
fn verify_buildinfo_reproduces_what_cryo_built() {
    let d = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800")]);
    let snap = d.fixture_snapshot();
    let stock = fixture_mirror().join("debian-12.prjconf");
    let pc = stock.to_str().unwrap();
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
    assert!(
        built["status"] == "built" || built["status"] == "cached",
        "{built}"
    );
    let bi = out.path().join("base-files_12.4+deb12u15_amd64.buildinfo");
    let o = d.cryo(&[
        "--json",
        "verify",
        "--buildinfo",
        bi.to_str().unwrap(),
        "--prjconf",
        pc,
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert_eq!(v["source"], "base-files");
    assert_eq!(v["snapshot"], snap.as_str());
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{v}");
    assert_eq!(files[0]["name"], "base-files_12.4+deb12u15_amd64.deb");
    assert_eq!(files[0]["identical"], true, "{v}");
    assert!(v["packages"].as_array().unwrap().len() > 10, "{v}");

    // A version no snapshot has: a clear error naming it.
    let text = fs::read_to_string(&bi).unwrap();
    let (head, tail) = text.split_once("Installed-Build-Depends:\n").unwrap();
    let bad = out.path().join("bad.buildinfo");
    fs::write(
        &bad,
        format!("{head}Installed-Build-Depends:\n cryo-nonexistent (= 9.9-9),\n{tail}"),
    )
    .unwrap();
    let o = d.cryo(&[
        "verify",
        "--buildinfo",
        bad.to_str().unwrap(),
        "--prjconf",
        pc,
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cryo-nonexistent 9.9-9") && err.contains("no snapshot"),
        "{err}"
    );
}
