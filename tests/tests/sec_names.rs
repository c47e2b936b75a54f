//! Client-supplied names at the API boundary (issue 13, defect 1): a `.dsc` name, the
//! keys of an upload's `files`, the names a `.dsc` lists, package names and export
//! targets are refused with a 400 and a clear message before anything is resolved or
//! built, through the real `cryod` over its unix socket (raw JSON, as a hostile client
//! would send it). None of these tests prepares a build root: every request is refused
//! before the build starts.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cryo_tests::{fixture_mirror, Daemon};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// `METHOD path` with a JSON body (or raw bytes) over the daemon's socket: (status, body).
fn call(d: &Daemon, method: &str, path: &str, body: &[u8], content_type: &str) -> (u16, Value) {
    let out_file = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new("curl")
        .args(["-sS", "--unix-socket"])
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
        .expect("curl is installed");
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(body).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: u16 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let text = std::fs::read_to_string(out_file.path()).unwrap_or_default();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v)
}

fn post(d: &Daemon, path: &str, body: &Value) -> (u16, Value) {
    call(
        d,
        "POST",
        path,
        body.to_string().as_bytes(),
        "application/json",
    )
}

/// Upload bytes as a blob; their digest.
fn upload(d: &Daemon, bytes: &[u8]) -> String {
    let (status, v) = call(
        d,
        "POST",
        "/api/v1/store/blobs",
        bytes,
        "application/octet-stream",
    );
    assert_eq!(status, 200, "{v}");
    v["digest"].as_str().unwrap().to_string()
}

/// A `.dsc` of a native package with debhelper's closure listing `listed` (the name its
/// Checksums-Sha256 gives the tarball) with the SHA-256 and size of `tarball`.
fn dsc_text(listed: &str, tarball: &[u8]) -> String {
    let sha = hex::encode(Sha256::digest(tarball));
    format!(
        "Format: 3.0 (native)\nSource: secnames\nBinary: secnames\nArchitecture: all\n\
         Version: 1.0\nMaintainer: T <t@example.org>\n\
         Build-Depends: debhelper-compat (= 13)\nChecksums-Sha256:\n {sha} {} {listed}\n",
        tarball.len()
    )
}

const TARBALL: &[u8] = b"not really a tarball: nothing here is ever unpacked\n";

struct Fixture {
    d: Daemon,
    snapshot: String,
    prjconf: Value,
    dsc: String,
    tar: String,
}

/// Before the fixture's Valid-Until (as the other e2e tests pin it).
const NOW: &str = "1795564800";

fn fixture() -> Fixture {
    let d = Daemon::start_with_env(&[("CRYOD_NOW", NOW)]);
    let snapshot = d.fixture_snapshot();
    let path = fixture_mirror().join("debian-12.prjconf");
    let prjconf = json!({
        "name": "debian-12.prjconf",
        "text": std::fs::read_to_string(&path).unwrap(),
    });
    let dsc = upload(&d, dsc_text("secnames_1.0.tar.xz", TARBALL).as_bytes());
    let tar = upload(&d, TARBALL);
    Fixture {
        d,
        snapshot,
        prjconf,
        dsc,
        tar,
    }
}

impl Fixture {
    fn body(&self, dsc_name: &str, files: Value) -> Value {
        json!({
            "snapshot": self.snapshot,
            "prjconf": self.prjconf,
            "source": {"kind": "dsc", "dsc": dsc_name, "files": files},
        })
    }
}

/// A fresh path under /tmp that nothing created yet.
fn target_in_tmp(tag: &str) -> PathBuf {
    let t = tempfile::Builder::new()
        .prefix(&format!("cryo-sec-{tag}-"))
        .suffix(".dsc")
        .tempfile_in("/tmp")
        .unwrap();
    let p = t.path().to_path_buf();
    drop(t);
    assert!(!p.exists());
    p
}

/// `../` repeated far past `/`, then `target` (absolute) without its leading `/`: from any
/// work directory this lands on `target`.
fn traversal_to(target: &Path) -> String {
    format!(
        "{}{}",
        "../".repeat(24),
        target.to_str().unwrap().trim_start_matches('/')
    )
}

fn assert_refused(status: u16, body: &Value, needle: &str) {
    assert_eq!(
        status, 400,
        "expected 400 naming {needle:?}, got {status}: {body}"
    );
    let msg = body["message"].as_str().unwrap_or_default();
    assert_eq!(body["code"], "bad_request", "{body}");
    assert!(
        msg.contains("invalid name") || msg.contains("unsafe file name"),
        "message does not say why: {msg}"
    );
    assert!(
        msg.contains(needle),
        "message does not name {needle:?}: {msg}"
    );
}

#[test]
fn build_with_a_traversing_dsc_name_is_refused_and_writes_nothing() {
    let f = fixture();
    let target = target_in_tmp("build");
    let evil = traversal_to(&target);
    // The exact reproduction of the issue: an otherwise valid upload (the .dsc lists the
    // tarball with its right checksum) whose .dsc name climbs out of the work directory.
    let body = f.body(
        &evil,
        json!({ evil.clone(): f.dsc, "secnames_1.0.tar.xz": f.tar }),
    );
    let (status, v) = post(&f.d, "/api/v1/build", &body);
    assert_refused(status, &v, "../");
    assert!(!target.exists(), "{} was written", target.display());
    let (status, v) = post(&f.d, "/api/v1/resolve", &body);
    assert_refused(status, &v, "../");

    // A `files` key that climbs, with an innocent .dsc name.
    let body = f.body(
        "secnames_1.0.dsc",
        json!({ "secnames_1.0.dsc": f.dsc, "../secnames_1.0.tar.xz": f.tar }),
    );
    for ep in ["/api/v1/build", "/api/v1/resolve"] {
        let (status, v) = post(&f.d, ep, &body);
        assert_refused(status, &v, "../secnames_1.0.tar.xz");
    }

    // An absolute name.
    let abs = target_in_tmp("abs");
    let name = abs.to_str().unwrap().to_string();
    let body = f.body(
        &name,
        json!({ name.clone(): f.dsc, "secnames_1.0.tar.xz": f.tar }),
    );
    let (status, v) = post(&f.d, "/api/v1/build", &body);
    assert_refused(status, &v, &name);
    assert!(!abs.exists(), "{} was written", abs.display());

    // A name with NUL (and one with a newline).
    for bad in ["secnames\u{0}.dsc", "secnames\n.dsc"] {
        let body = f.body(bad, json!({ bad: f.dsc, "secnames_1.0.tar.xz": f.tar }));
        let (status, v) = post(&f.d, "/api/v1/build", &body);
        assert_refused(status, &v, "secnames");
    }
    // The daemon still serves: the innocent upload resolves.
    let ok = f.body(
        "secnames_1.0.dsc",
        json!({ "secnames_1.0.dsc": f.dsc, "secnames_1.0.tar.xz": f.tar }),
    );
    let (status, v) = post(&f.d, "/api/v1/resolve", &ok);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["source"], "secnames", "{v}");
}

#[test]
fn a_dsc_listing_unsafe_names_is_refused() {
    let f = fixture();
    for listed in ["../secnames_1.0.tar.xz", ".secnames_1.0.tar.xz"] {
        let dsc = upload(&f.d, dsc_text(listed, TARBALL).as_bytes());
        let body = f.body(
            "secnames_1.0.dsc",
            json!({ "secnames_1.0.dsc": dsc, "secnames_1.0.tar.xz": f.tar }),
        );
        for ep in ["/api/v1/resolve", "/api/v1/build"] {
            let (status, v) = post(&f.d, ep, &body);
            assert_refused(status, &v, listed);
            let msg = v["message"].as_str().unwrap();
            assert!(msg.contains("secnames_1.0.dsc"), "names the .dsc: {msg}");
        }
    }
}

#[test]
fn package_add_and_commit_refuse_unsafe_names() {
    let f = fixture();
    let pc = fixture_mirror().join("debian-12.prjconf");
    f.d.ok(&[
        "project",
        "create",
        "sec",
        "--snapshot",
        &f.snapshot,
        "--prjconf",
        pc.to_str().unwrap(),
    ]);
    let target = target_in_tmp("pkg");
    let evil = traversal_to(&target);
    let bad_sources = [
        json!({"kind": "dsc", "dsc": evil, "files": { evil.clone(): f.dsc, "secnames_1.0.tar.xz": f.tar }}),
        json!({"kind": "dsc", "dsc": "secnames_1.0.dsc", "files": { "secnames_1.0.dsc": f.dsc, "/etc/secnames_1.0.tar.xz": f.tar }}),
        json!({"kind": "dsc", "dsc": "sec\u{0}names_1.0.dsc", "files": { "sec\u{0}names_1.0.dsc": f.dsc }}),
    ];
    for src in &bad_sources {
        let (status, v) = post(
            &f.d,
            "/api/v1/projects/sec/packages",
            &json!({ "source": src }),
        );
        assert_refused(status, &v, "");
        let (status, v) = post(
            &f.d,
            "/api/v1/projects/sec/packages/secnames",
            &json!({ "source": src, "message": "m" }),
        );
        assert_refused(status, &v, "");
    }
    assert!(!target.exists());
    // A package name that climbs is refused too (the source itself is fine).
    let good = json!({"kind": "dsc", "dsc": "secnames_1.0.dsc", "files": { "secnames_1.0.dsc": f.dsc, "secnames_1.0.tar.xz": f.tar }});
    let (status, v) = post(
        &f.d,
        "/api/v1/projects/sec/packages",
        &json!({ "source": good, "name": "../secnames" }),
    );
    assert_eq!(status, 400, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("../secnames"),
        "{v}"
    );
    // Nothing was added.
    let (status, v) = call(&f.d, "GET", "/api/v1/projects/sec", b"", "application/json");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["packages"], json!([]), "{v}");
}

#[test]
fn export_targets_must_be_absolute_without_dot_dot() {
    let d = Daemon::start();
    for (dir, why) in [
        ("relative/export", "absolute"),
        ("/tmp/cryo-sec-export/../etc", ".."),
        ("/tmp/./cryo-sec-export", "."),
        ("/", "/"),
    ] {
        let (status, v) = post(
            &d,
            "/api/v1/projects/nosuch/publish",
            &json!({ "export": dir }),
        );
        assert_eq!(status, 400, "{dir}: {v}");
        let msg = v["message"].as_str().unwrap();
        assert!(msg.contains("export directory"), "{dir}: {msg}");
        assert!(msg.contains(why), "{dir}: {msg}");
    }
}
