//! Mirror snapshots and download on demand, end to end on the real Debian 12 fixture.

use std::fs;

use cryo_tests::{fixture_mirror, keyring, mirror_copy, Daemon, HttpServer};
use serde_json::{json, Value};

/// 2026-11-25 00:00 UTC: both suites valid.
const BEFORE_EXPIRY: &str = "1795564800";
/// 2026-12-02 00:00 UTC: the security suite (Valid-Until 2026-12-01) has expired.
const AFTER_EXPIRY: &str = "1796169600";

fn daemon() -> Daemon {
    Daemon::start_with_env(&[("CRYOD_NOW", BEFORE_EXPIRY)])
}

fn add(d: &Daemon, name: &str, url: &str, suite: &str) {
    d.ok(&[
        "mirror",
        "add",
        name,
        url,
        "--suite",
        suite,
        "--keyring",
        keyring().to_str().unwrap(),
    ]);
}

fn file_url(p: &std::path::Path) -> String {
    format!("file://{}", p.canonicalize().unwrap().display())
}

fn sync(d: &Daemon, names: &[&str]) -> Value {
    let mut args = vec!["mirror", "sync"];
    args.extend_from_slice(names);
    d.json(&args)
}

fn fail(d: &Daemon, args: &[&str]) -> String {
    let o = d.cryo(args);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{args:?} should fail: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn sync_combined_snapshot_show_pkg_diff_and_resync_is_free() {
    let d = daemon();
    let m = fixture_mirror();
    add(&d, "bookworm", &file_url(&m.join("debian")), "bookworm");
    add(
        &d,
        "security",
        &file_url(&m.join("debian-security")),
        "bookworm-security",
    );
    let main_only = sync(&d, &["bookworm"]);
    let both = sync(&d, &["bookworm", "security"]);
    let id = both["snapshot"].as_str().unwrap().to_string();
    assert_eq!(both["new"], true);
    assert!(both["binary_packages"].as_u64().unwrap() > 60_000, "{both}");
    assert!(both["source_packages"].as_u64().unwrap() > 34_000, "{both}");
    // Signed by Debian's archive keys: report the fingerprints.
    let signers = both["archives"][0]["signers"].as_array().unwrap();
    assert!(
        signers
            .iter()
            .any(|s| s == "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8"),
        "{signers:?}"
    );

    // Unchanged mirror: same id, no index fetched again.
    let again = sync(&d, &["bookworm", "security"]);
    assert_eq!(again["snapshot"], both["snapshot"]);
    assert_eq!(again["new"], false);
    assert_eq!(again["archives"][0]["indices_fetched"], 0);
    assert_eq!(again["archives"][1]["indices_fetched"], 0);

    let show = d.json(&["snapshot", "show", &id[..12]]);
    assert_eq!(
        show["record"]["archives"][1]["valid_until"],
        1_796_085_273i64
    );
    assert_eq!(show["record"]["archives"][1]["allow_expired"], false);
    let text = d.ok(&["snapshot", "show", &id]);
    assert!(
        text.contains("signed by B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8"),
        "{text}"
    );
    assert!(
        text.contains("valid until 2026-12-01 00:34:33 UTC"),
        "{text}"
    );

    // apt's rule across archives: the security version of perl-base wins.
    let pkg = d.json(&["snapshot", "pkg", &id, "perl-base"]);
    let sel: Vec<&Value> = pkg
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["selected"] == true)
        .collect();
    assert_eq!(sel.len(), 1);
    assert_eq!(sel[0]["archive"], "security");
    assert_eq!(sel[0]["version"], "5.36.0-7+deb12u4");
    let src = d.json(&["snapshot", "pkg", &id, "hello"]);
    assert!(src
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "sources" && e["version"] == "2.10-3"));

    // Diff: the security archive changes some versions.
    let diff = d.json(&[
        "snapshot",
        "diff",
        main_only["snapshot"].as_str().unwrap(),
        &id,
    ]);
    let changed = diff["changed"].as_array().unwrap();
    assert!(
        changed
            .iter()
            .any(|c| c["name"] == "perl-base" && c["new"] == "5.36.0-7+deb12u4"),
        "{diff}"
    );
    assert_eq!(d.json(&["snapshot", "list"]).as_array().unwrap().len(), 2);
}

#[test]
fn http_sync_gives_the_same_snapshot_and_dod_survives_the_mirror() {
    let copy = mirror_copy(&[
        "debian/pool/main/h/hello/hello_2.10-3_amd64.deb",
        "debian/pool/main/h/hello/hello_2.10-3.dsc",
        "debian/pool/main/h/hello/hello_2.10-3.debian.tar.xz",
        "debian/pool/main/h/hello/hello_2.10.orig.tar.gz",
        "debian/pool/main/h/hello/hello_2.10.orig.tar.gz.asc",
    ]);
    let http = HttpServer::start(copy.path(), json!({}));
    let d = daemon();
    add(&d, "bookworm", &http.url("debian"), "bookworm");
    let via_http = sync(&d, &["bookworm"]);
    // Same content over file:// gives the same snapshot id (the URL is not an input).
    let d2 = daemon();
    add(
        &d2,
        "bookworm",
        &file_url(&copy.path().join("debian")),
        "bookworm",
    );
    assert_eq!(sync(&d2, &["bookworm"])["snapshot"], via_http["snapshot"]);

    let id = via_http["snapshot"].as_str().unwrap().to_string();
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let got = d.json(&["snapshot", "fetch", &id, "hello", "src:hello", "--out", o]);
    assert_eq!(got.as_array().unwrap().len(), 1 + 4);
    let deb = fs::read(out.path().join("hello_2.10-3_amd64.deb")).unwrap();
    assert_eq!(
        deb,
        fs::read(fixture_mirror().join("debian/pool/main/h/hello/hello_2.10-3_amd64.deb")).unwrap()
    );

    // The mirror goes away: what was fetched keeps working, the rest fails clearly.
    drop(http);
    let out2 = tempfile::tempdir().unwrap();
    d.ok(&[
        "snapshot",
        "fetch",
        &id,
        "hello",
        "--out",
        out2.path().to_str().unwrap(),
    ]);
    assert_eq!(
        fs::read(out2.path().join("hello_2.10-3_amd64.deb")).unwrap(),
        deb
    );
    let err = fail(
        &d,
        &[
            "snapshot",
            "fetch",
            &id,
            "base-files",
            "--out",
            out2.path().to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("base-files 12.4+deb12u15 could not be fetched")
            && err.contains("Connection refused"),
        "{err}"
    );
}

#[test]
fn partial_pool_and_corrupt_pool_files_fail_only_when_needed() {
    let copy = mirror_copy(&["debian/pool/main/h/hello/hello_2.10-3_amd64.deb"]);
    let deb = copy
        .path()
        .join("debian/pool/main/h/hello/hello_2.10-3_amd64.deb");
    let mut bytes = fs::read(&deb).unwrap();
    bytes[1000] ^= 1;
    fs::write(&deb, &bytes).unwrap();
    let d = daemon();
    add(
        &d,
        "bookworm",
        &file_url(&copy.path().join("debian")),
        "bookworm",
    );
    // Sync does not need pool files: it succeeds.
    let id = sync(&d, &["bookworm"])["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let err = fail(&d, &["snapshot", "fetch", &id, "hello", "--out", o]);
    assert!(
        err.contains("hello 2.10-3") && err.contains("corrupt"),
        "{err}"
    );
    assert!(
        err.contains("pool/main/h/hello/hello_2.10-3_amd64.deb"),
        "{err}"
    );
    assert!(err.contains("expected SHA256"), "{err}");
    // Indexed but absent from the partial pool.
    let err = fail(&d, &["snapshot", "fetch", &id, "0ad-data", "--out", o]);
    assert!(
        err.contains("0ad-data") && err.contains("not in the mirror") && err.contains("file://"),
        "{err}"
    );
    // Not in the index at all.
    let err = fail(
        &d,
        &["snapshot", "fetch", &id, "no-such-package", "--out", o],
    );
    assert!(err.contains("not in snapshot"), "{err}");
    assert!(
        fs::read_dir(out.path()).unwrap().next().is_none(),
        "nothing written"
    );
    assert!(d.cryo(&["store", "verify"]).status.success());
}

#[test]
fn tampered_index_is_refused_and_nothing_is_stored() {
    let copy = mirror_copy(&[]);
    let p = copy
        .path()
        .join("debian/dists/bookworm/main/binary-amd64/Packages.xz");
    let mut bytes = fs::read(&p).unwrap();
    bytes[4096] ^= 0x20;
    fs::write(&p, &bytes).unwrap();
    let d = daemon();
    add(
        &d,
        "bookworm",
        &file_url(&copy.path().join("debian")),
        "bookworm",
    );
    let before = d.json(&["store", "stats"]);
    let err = fail(&d, &["mirror", "sync", "bookworm"]);
    assert!(
        err.contains("main/binary-amd64/Packages.xz") && err.contains("SHA256"),
        "{err}"
    );
    assert_eq!(d.json(&["snapshot", "list"]).as_array().unwrap().len(), 0);
    let after = d.json(&["store", "stats"]);
    // Only the verified Release may have been added; no index, no snapshot.
    assert!(
        after["blobs"].as_u64().unwrap() <= before["blobs"].as_u64().unwrap() + 2,
        "{after}"
    );
    assert_eq!(after["records"], 0);
}

fn with_inrelease(edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let copy = mirror_copy(&[]);
    let p = copy
        .path()
        .join("debian-security/dists/bookworm-security/InRelease");
    let text = fs::read_to_string(&p).unwrap();
    fs::write(&p, edit(text)).unwrap();
    copy
}

#[test]
fn signature_failures_are_clear() {
    let d = daemon();
    let cases: Vec<(&str, tempfile::TempDir, &str)> = vec![
        (
            "tampered",
            with_inrelease(|t| t.replacen("Date: Tue, 24 Nov 2026", "Date: Wed, 25 Nov 2026", 1)),
            "signature",
        ),
        (
            "unsigned",
            with_inrelease(|t| {
                let body = t
                    .split("\n\n")
                    .nth(1)
                    .unwrap_or("")
                    .split("-----BEGIN PGP SIGNATURE")
                    .next()
                    .unwrap()
                    .to_string();
                body
            }),
            "not",
        ),
        (
            "bad-armor",
            with_inrelease(|t| {
                let i = t.find("-----BEGIN PGP SIGNATURE-----").unwrap();
                let mut s = t[..i].to_string();
                s.push_str("-----BEGIN PGP SIGNATURE-----\n\n!!!! not base64 !!!!\n-----END PGP SIGNATURE-----\n");
                s
            }),
            "",
        ),
    ];
    for (name, copy, needle) in cases {
        add(
            &d,
            name,
            &file_url(&copy.path().join("debian-security")),
            "bookworm-security",
        );
        let err = fail(&d, &["mirror", "sync", name]);
        assert!(err.contains("InRelease"), "{name}: {err}");
        assert!(err.to_lowercase().contains(needle), "{name}: {err}");
    }
    // A keyring without Debian's keys: signed only by unknown keys.
    let gnupg = tempfile::tempdir().unwrap();
    let ok = std::process::Command::new("gpg")
        .args(["--batch", "--homedir"])
        .arg(gnupg.path())
        .args([
            "--passphrase",
            "",
            "--quick-gen-key",
            "other <other@example.org>",
            "ed25519",
            "sign",
            "never",
        ])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let other = gnupg.path().join("other.gpg");
    let exp = std::process::Command::new("gpg")
        .args(["--batch", "--homedir"])
        .arg(gnupg.path())
        .args(["--export", "--output"])
        .arg(&other)
        .output()
        .unwrap();
    assert!(exp.status.success());
    let m = fixture_mirror();
    d.ok(&[
        "mirror",
        "add",
        "foreign",
        &file_url(&m.join("debian-security")),
        "--suite",
        "bookworm-security",
        "--keyring",
        other.to_str().unwrap(),
    ]);
    let err = fail(&d, &["mirror", "sync", "foreign"]);
    assert!(err.contains("InRelease"), "{err}");
    assert!(err.to_lowercase().contains("key"), "{err}");
    assert_eq!(d.json(&["snapshot", "list"]).as_array().unwrap().len(), 0);
}

#[test]
fn expired_metadata_needs_an_explicit_recorded_decision() {
    let d = Daemon::start_with_env(&[("CRYOD_NOW", AFTER_EXPIRY)]);
    let m = fixture_mirror();
    add(
        &d,
        "security",
        &file_url(&m.join("debian-security")),
        "bookworm-security",
    );
    let err = fail(&d, &["mirror", "sync", "security"]);
    assert!(
        err.contains("--allow-expired") && err.contains("2026"),
        "{err}"
    );
    let out = d.json(&["mirror", "sync", "security", "--allow-expired"]);
    assert_eq!(out["expired_accepted"][0]["mirror"], "security");
    let id = out["snapshot"].as_str().unwrap();
    let show = d.ok(&["snapshot", "show", id]);
    assert!(
        show.contains("expired metadata allowed (--allow-expired)"),
        "{show}"
    );
    assert!(
        show.contains("had expired at 2026-12-01 00:34:33 UTC"),
        "{show}"
    );
    // Before the expiry, the same mirror syncs without the flag, into another snapshot
    // (the expiry policy is an input).
    let d2 = daemon();
    add(
        &d2,
        "security",
        &file_url(&m.join("debian-security")),
        "bookworm-security",
    );
    let ok = sync(&d2, &["security"]);
    assert_ne!(ok["snapshot"].as_str().unwrap(), id);
}

#[test]
fn http_faults_retry_or_fail_clearly() {
    let copy = mirror_copy(&["debian/pool/main/h/hello/hello_2.10-3_amd64.deb"]);
    let flaky = HttpServer::start(
        copy.path(),
        json!({
            "status500_once": ["debian-security/dists/bookworm-security/InRelease"],
            "truncate_once": ["debian-security/dists/bookworm-security/main/source/Sources.xz"],
            "status500": ["debian/dists/bookworm/InRelease"],
            "truncate": ["debian/pool/main/h/hello/hello_2.10-3_amd64.deb"],
        }),
    );
    let d = daemon();
    // Transient 500 and a truncated body are retried and succeed.
    add(
        &d,
        "security",
        &flaky.url("debian-security"),
        "bookworm-security",
    );
    let out = sync(&d, &["security"]);
    assert_eq!(out["new"], true);
    let log = flaky.requests();
    let count = |p: &str| log.iter().filter(|l| l.ends_with(p)).count();
    assert_eq!(
        count("bookworm-security/InRelease"),
        2,
        "one failed attempt, one retry: {log:?}"
    );
    assert_eq!(
        count("main/source/Sources.xz"),
        2,
        "truncated once, then complete: {log:?}"
    );
    // A persistent 500 fails after retries, naming the URL.
    add(&d, "broken", &flaky.url("debian"), "bookworm");
    let err = fail(&d, &["mirror", "sync", "broken"]);
    assert!(
        err.contains("debian/dists/bookworm/InRelease") && err.contains("500"),
        "{err}"
    );
    // Connection refused.
    add(&d, "refused", "http://127.0.0.1:9/debian", "bookworm");
    let err = fail(&d, &["mirror", "sync", "refused"]);
    assert!(err.contains("127.0.0.1:9"), "{err}");
    // 404 for a whole archive.
    add(&d, "missing", &flaky.url("nothing-here"), "bookworm");
    let err = fail(&d, &["mirror", "sync", "missing"]);
    assert!(err.contains("neither InRelease nor Release"), "{err}");
    // A pool file whose body is always truncated: clear error, nothing stored.
    let good = file_url(&copy.path().join("debian"));
    add(&d, "bookworm", &good, "bookworm");
    let id = sync(&d, &["bookworm"])["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    add(&d, "bookworm", &flaky.url("debian"), "bookworm");
    let o = tempfile::tempdir().unwrap();
    let err = fail(
        &d,
        &[
            "snapshot",
            "fetch",
            &id,
            "hello",
            "--out",
            o.path().to_str().unwrap(),
        ],
    );
    assert!(err.contains("hello 2.10-3 could not be fetched"), "{err}");
    assert!(
        err.contains("pool/main/h/hello/hello_2.10-3_amd64.deb"),
        "{err}"
    );
    assert!(d.cryo(&["store", "verify"]).status.success());
}

/// Generate a signing key in a private GnuPG home; returns (home, exported public keyring).
fn gpg_key(uid: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let gpg = |args: &[&str]| {
        let o = std::process::Command::new("gpg")
            .args(["--batch", "--quiet", "--homedir"])
            .arg(home.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        uid,
        "ed25519",
        "sign",
        "never",
    ]);
    let keyring = home.path().join("pub.gpg");
    gpg(&["--export", "--output", keyring.to_str().unwrap()]);
    (home, keyring)
}

#[test]
fn release_with_detached_signature_when_there_is_no_inrelease() {
    let copy = mirror_copy(&[]);
    let dists = copy.path().join("debian-security/dists/bookworm-security");
    // Turn the clearsigned InRelease into Release + Release.gpg signed by our own key.
    let inrelease = fs::read_to_string(dists.join("InRelease")).unwrap();
    let body = inrelease
        .split_once("\n\n")
        .unwrap()
        .1
        .split("\n-----BEGIN PGP SIGNATURE-----")
        .next()
        .unwrap()
        .to_string()
        + "\n";
    fs::remove_file(dists.join("InRelease")).unwrap();
    fs::write(dists.join("Release"), &body).unwrap();
    let (home, keyring) = gpg_key("archive <archive@example.org>");
    let o = std::process::Command::new("gpg")
        .args(["--batch", "--quiet", "--homedir"])
        .arg(home.path())
        .args(["--armor", "--detach-sign", "--output"])
        .arg(dists.join("Release.gpg"))
        .arg(dists.join("Release"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d = daemon();
    d.ok(&[
        "mirror",
        "add",
        "security",
        &file_url(&copy.path().join("debian-security")),
        "--suite",
        "bookworm-security",
        "--keyring",
        keyring.to_str().unwrap(),
    ]);
    let out = sync(&d, &["security"]);
    assert_eq!(
        out["archives"][0]["signers"].as_array().unwrap().len(),
        1,
        "{out}"
    );
    let id = out["snapshot"].as_str().unwrap();
    assert_eq!(
        d.json(&["snapshot", "show", id])["record"]["archives"][0]["release_file"],
        "Release"
    );
    // Tampering with Release breaks the detached signature.
    fs::write(dists.join("Release"), body.replacen("Date:", "Date: ", 1)).unwrap();
    let err = fail(&d, &["mirror", "sync", "security"]);
    assert!(err.contains("Release.gpg"), "{err}");
}
