//! Teams and the release flow end to end: users, tokens and roles; a security patch to
//! hello in staging (real patch, CVE id, version 2.10-3+eol12u1); a submit request that
//! the wrong maintainer cannot accept and the right one does; prod's build is a cache hit
//! with identical binaries and its published repository serves the new version to the
//! real apt-get; expired/revoked tokens and readers are refused; release numbers from the
//! prjconf; the audit log.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use cryo_tests::{
    file_url, fixture_mirror, free_port, keyring, output_text, Apt, Daemon, NativeTree,
};
use serde_json::Value;

/// Run `cryo` as the holder of `token`.
fn as_user(d: &Daemon, token: &str, args: &[&str]) -> Output {
    d.cmd()
        .env("CRYO_TOKEN", token)
        .env("SOURCE_DATE_EPOCH", "1795564800")
        .args(args)
        .output()
        .unwrap()
}

fn ok_as(d: &Daemon, token: &str, args: &[&str]) -> Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let o = as_user(d, token, &a);
    assert!(o.status.success(), "cryo {args:?}: {}", output_text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or(Value::Null)
}

fn token(d: &Daemon, user: &str, extra: &[&str]) -> String {
    let mut a = vec!["token", "create", "--user", user];
    a.extend_from_slice(extra);
    d.json(&a)["token"].as_str().unwrap().to_string()
}

/// A real patch to hello's src/hello.c, made with diff -u from the fixture's source.
fn hello_patch(dir: &Path) -> std::path::PathBuf {
    let dsc = fixture_mirror().join("debian/pool/main/h/hello/hello_2.10-3.dsc");
    let a = dir.join("a");
    let o = Command::new("dpkg-source")
        .args(["--no-check", "-x"])
        .arg(&dsc)
        .arg(&a)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    let b = dir.join("b");
    fs::create_dir_all(b.join("src")).unwrap();
    let orig = fs::read_to_string(a.join("src/hello.c")).unwrap();
    let first = orig.lines().next().unwrap().to_string();
    assert!(first.starts_with("/* hello.c"), "{first}");
    fs::create_dir_all(dir.join("a2/src")).unwrap();
    fs::write(dir.join("a2/src/hello.c"), &orig).unwrap();
    // A comment: the upstream test suite (which checks the greeting) keeps passing.
    fs::write(
        b.join("src/hello.c"),
        orig.replacen(
            &first,
            &format!("{first}\n   Patched by cryo for CVE-2026-12345."),
            1,
        ),
    )
    .unwrap();
    let o = Command::new("diff")
        .args(["-u", "a2/src/hello.c", "b/src/hello.c"])
        .current_dir(dir)
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout)
        .unwrap()
        .replace("--- a2/", "--- a/");
    assert!(text.contains("+++ b/src/hello.c"), "{text}");
    let p = dir.join("greeting.patch");
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn staging_to_prod_security_patch_with_roles_requests_and_identical_binaries() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let d = Daemon::start_with(
        &[("CRYOD_NOW", "1795564800"), ("CRYOD_WORKERS", "2")],
        &["--listen", &addr],
        None,
    );
    let m = fixture_mirror();
    let snap = d.fixture_snapshot();
    let prjconf = m.join("debian-12.prjconf");
    let pc = prjconf.to_str().unwrap();
    let (staging, prod) = ("eol:12:staging", "eol:12:prod");
    for p in [staging, prod] {
        d.ok(&[
            "project",
            "create",
            p,
            "--snapshot",
            &snap,
            "--prjconf",
            pc,
            "--publish",
        ]);
    }
    for u in ["alice", "bob", "carol"] {
        d.ok(&["user", "add", u]);
    }
    d.ok(&["group", "add", "security-team"]);
    d.ok(&["group", "member", "add", "security-team", "carol"]);
    d.ok(&["role", "add", staging, "alice", "maintainer"]);
    d.ok(&["role", "add", prod, "bob", "maintainer"]);
    d.ok(&["role", "add", staging, "@security-team", "reader"]);
    let (alice, bob, carol) = (
        token(&d, "alice", &[]),
        token(&d, "bob", &[]),
        token(&d, "carol", &[]),
    );

    // alice imports hello and patches it (a CVE fix) in staging.
    ok_as(&d, &alice, &["package", "add", staging, "src:hello"]);
    let work = tempfile::tempdir().unwrap();
    let patch = hello_patch(work.path());
    let p = ok_as(
        &d,
        &alice,
        &[
            "patch",
            staging,
            "hello",
            patch.to_str().unwrap(),
            "--cve",
            "CVE-2026-12345",
            "-m",
            "Fix the greeting",
        ],
    );
    assert_eq!(p["version"], "2.10-3+eol12u1", "{p}");
    // A patch that does not apply fails at commit time with the hunk.
    let bad = work.path().join("bad.patch");
    fs::write(&bad, "--- a/src/hello.c\n+++ b/src/hello.c\n@@ -1,3 +1,3 @@\n-this line is not there\n+neither is this\n context\n context\n").unwrap();
    let o = as_user(
        &d,
        &alice,
        &[
            "patch",
            staging,
            "hello",
            bad.to_str().unwrap(),
            "-m",
            "broken",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.patch") && err.contains("src/hello.c") && err.contains("@@ -1,3 +1,3 @@"),
        "{err}"
    );

    let w = as_user(&d, &alice, &["wait", staging, "--timeout", "1500"]);
    assert!(w.status.success(), "{}\n{}", output_text(&w), d.log());
    let srows = ok_as(&d, &alice, &["results", staging]);
    let srow = srows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["package"] == "hello")
        .unwrap()
        .clone();
    assert_eq!(srow["state"], "succeeded", "{srow}");
    let deb_of = |row: &Value| {
        row["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == "hello_2.10-3+eol12u1_amd64.deb")
            .cloned()
            .unwrap_or_else(|| panic!("no patched .deb in {row}"))
    };
    let sdeb = deb_of(&srow);
    let diff = as_user(&d, &alice, &["package", "diff", staging, "hello"]);
    let diff_text = String::from_utf8_lossy(&diff.stdout);
    assert!(
        diff.status.success()
            && diff_text.contains("+   Patched by cryo for CVE-2026-12345.")
            && diff_text.contains("CVE-2026-12345"),
        "{}",
        output_text(&diff)
    );

    // carol (reader via her group) can read staging but not commit; nobody else may write.
    ok_as(&d, &carol, &["results", staging]);
    let o = as_user(
        &d,
        &carol,
        &["commit", staging, "hello", "src:hello", "-m", "nope"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("lacks the role maintainer"),
        "{}",
        output_text(&o)
    );

    // Submit to prod: alice cannot accept (403), bob can.
    let r = ok_as(
        &d,
        &alice,
        &[
            "request",
            "submit",
            staging,
            "hello",
            prod,
            "-m",
            "CVE-2026-12345",
        ],
    );
    let id = r["id"].as_u64().unwrap().to_string();
    assert_eq!(r["state"], "new");
    let o = as_user(&d, &alice, &["request", "accept", &id]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("alice lacks the role maintainer on project eol:12:prod"),
        "{e}"
    );
    let acc = ok_as(&d, &bob, &["request", "accept", &id, "-m", "ship it"]);
    assert_eq!(acc["state"], "accepted", "{acc}");
    let w = as_user(&d, &bob, &["wait", prod, "--timeout", "900"]);
    assert!(w.status.success(), "{}", output_text(&w));
    let prows = ok_as(&d, &bob, &["results", prod]);
    let prow = prows[0].clone();
    assert_eq!(
        prow["state"], "cached",
        "prod should reuse staging's build: {prow}"
    );
    assert_eq!(prow["derivation"], srow["derivation"]);
    assert_eq!(deb_of(&prow)["blake3"], sdeb["blake3"]);
    let shown = ok_as(&d, &bob, &["request", "show", &id]);
    assert_eq!(
        shown["comparison"][0]["verdict"], "identical-derivation",
        "{shown}"
    );

    // prod's published repository serves the new version to the real apt-get.
    let key = work.path().join("prod.asc");
    d.ok(&["project", "key", prod, "--out", key.to_str().unwrap()]);
    let apt = Apt::new(
        &work.path().join("apt"),
        &format!(
            "deb [signed-by={}] http://{addr}/repos/{prod}/debian bookworm main",
            key.display()
        ),
    );
    let up = apt.run("apt-get", &["update"]);
    assert!(
        up.status.success() && !output_text(&up).contains("W:"),
        "{}",
        output_text(&up)
    );
    let pol = apt.run("apt-cache", &["policy", "hello"]);
    assert!(
        String::from_utf8_lossy(&pol.stdout).contains("Candidate: 2.10-3+eol12u1"),
        "{}",
        output_text(&pol)
    );
    let dl = apt.run("apt-get", &["download", "hello"]);
    assert!(dl.status.success(), "{}", output_text(&dl));

    // Only admins choose where the daemon writes an export; absurd expiries are refused.
    let o = as_user(
        &d,
        &bob,
        &[
            "publish",
            prod,
            "--export",
            work.path().join("x").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not an admin"),
        "{}",
        output_text(&o)
    );
    let o = d.cryo(&[
        "token",
        "create",
        "--user",
        "bob",
        "--expires",
        "18446744073709551615",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("too many days"),
        "{}",
        output_text(&o)
    );

    // Tokens: expired and revoked ones are refused; over HTTP a write needs one.
    let expired = token(&d, "alice", &["--expires", "0"]);
    let o = as_user(&d, &expired, &["results", staging]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("has expired"),
        "{}",
        output_text(&o)
    );
    let tid = ok_as(&d, &carol, &["token", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok_as(&d, &carol, &["token", "revoke", &tid]);
    let o = as_user(&d, &carol, &["results", staging]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("was revoked"),
        "{}",
        output_text(&o)
    );
    let anon = Command::new("curl")
        .args([
            "-s",
            "--noproxy",
            "*",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "-d",
            "{}",
        ])
        .arg(format!("http://{addr}/api/v1/projects/{staging}/rebuild"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&anon.stdout), "401");
    let authed = Command::new("curl")
        .args([
            "-s",
            "--noproxy",
            "*",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "-H",
            &format!("Authorization: Bearer {bob}"),
            "-d",
            "{}",
        ])
        .arg(format!("http://{addr}/api/v1/projects/{staging}/rebuild"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&authed.stdout),
        "403",
        "bob is no maintainer of staging"
    );

    // The audit log names who did what.
    let audit = d.json(&["audit", prod]);
    let entries = audit.as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["user"] == "bob" && e["action"] == "request accept"),
        "{audit}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["user"] == "alice" && e["action"] == "request submit"),
        "{audit}"
    );
    assert!(
        entries.iter().any(|e| e["action"] == "project create"),
        "{audit}"
    );
    let staging_audit = d.json(&["audit", staging]);
    assert!(
        staging_audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["user"] == "alice"
                && e["action"]
                    .as_str()
                    .unwrap()
                    .starts_with("POST projects/eol:12:staging/packages")),
        "{staging_audit}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "role add" && e["detail"] == "bob maintainer"),
        "{audit}"
    );
}

#[test]
fn release_numbers_from_the_prjconf_become_version_suffixes() {
    let d = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800")]);
    let m = fixture_mirror();
    d.ok(&[
        "mirror",
        "add",
        "bookworm",
        &file_url(&m.join("debian")),
        "--suite",
        "bookworm",
        "--keyring",
        keyring().to_str().unwrap(),
    ]);
    let snap = d.json(&["mirror", "sync", "bookworm"])["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    let work = tempfile::tempdir().unwrap();
    let pc = work.path().join("rel.prjconf");
    let base = fs::read_to_string(m.join("debian-12.prjconf")).unwrap();
    fs::write(
        &pc,
        format!("{base}\nRelease: <CI_CNT>.<B_CNT>\nCryo-ReleasePattern: +eol12u<CI_CNT>\n"),
    )
    .unwrap();
    let p = "eol:12:rel";
    d.ok(&[
        "project",
        "create",
        p,
        "--snapshot",
        &snap,
        "--prjconf",
        pc.to_str().unwrap(),
    ]);
    let src = work.path().join("relpkg");
    let relpkg = |changes: &str, dir: &Path| {
        NativeTree {
            source: "relpkg",
            version: "1.0",
            build_depends: "",
            binary: "relpkg",
            changes,
            files: &[],
        }
        .write(dir)
    };
    relpkg("First.", &src);
    d.ok(&["package", "add", p, src.to_str().unwrap()]);
    assert!(
        d.cryo(&["wait", p, "--timeout", "900"]).status.success(),
        "{}",
        d.log()
    );
    let names = |d: &Daemon| -> Vec<String> {
        d.json(&["results", p])[0]["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        names(&d).contains(&"relpkg_1.0+eol12u1_all.deb".to_string()),
        "{:?}",
        names(&d)
    );
    let drv = d.json(&["results", p])[0]["derivation"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = d.json(&["drv", "show", &drv]);
    assert_eq!(
        shown["env"]["CRYO_RELEASE_SUFFIX"], "+eol12u1",
        "the counter is a derivation input"
    );
    relpkg("Second.", &src);
    d.ok(&[
        "commit",
        p,
        "relpkg",
        src.to_str().unwrap(),
        "-m",
        "second",
        "--wait",
        "--timeout",
        "900",
    ]);
    assert!(
        names(&d).contains(&"relpkg_1.0+eol12u2_all.deb".to_string()),
        "{:?}",
        names(&d)
    );
    // A source whose version already carries a suffix of the same pattern (as `cryo
    // patch` makes them): the suffix is replaced, not stacked.
    NativeTree {
        source: "relpkg",
        version: "1.0+eol12u1",
        build_depends: "",
        binary: "relpkg",
        changes: "Patched.",
        files: &[],
    }
    .write(&src);
    d.ok(&[
        "commit",
        p,
        "relpkg",
        src.to_str().unwrap(),
        "-m",
        "patched",
        "--wait",
    ]);
    assert!(
        names(&d).contains(&"relpkg_1.0+eol12u3_all.deb".to_string()),
        "{:?}",
        names(&d)
    );
}
