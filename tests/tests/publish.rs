//! Publishing end to end: a project's built packages as a signed apt archive served by
//! `cryod --listen` on loopback, read by the real `apt-get`; tampered indices refused;
//! generations switched atomically under a concurrent reader; rollback; static export.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use cryo_tests::{fixture_mirror, free_port, output_text, Apt, Daemon, HttpServer, NativeTree};
use sha2::{Digest, Sha256};

/// A tiny native package built with debhelper (shares base-files' build root).
fn tree(dir: &Path, version: &str) {
    let file = format!("{version}\n");
    NativeTree {
        source: "cryo-pubdemo",
        version,
        build_depends: "",
        binary: "cryo-pubdemo",
        changes: &format!("Version {version}."),
        files: &[
            ("version", &file),
            (
                "debian/cryo-pubdemo.install",
                "version usr/share/cryo-pubdemo/\n",
            ),
        ],
    }
    .write(dir);
}

fn curl(args: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["-sS", "--noproxy", "*"])
        .args(args)
        .output()
        .unwrap()
}

fn get(url: &str) -> Vec<u8> {
    let o = curl(&["-f", url]);
    assert!(o.status.success(), "GET {url}: {}", output_text(&o));
    o.stdout
}

/// Reads InRelease, then the Packages index it names by hash; checks they match.
/// Returns the package version listed.
fn consistent_read(base: &str) -> String {
    let inrelease = String::from_utf8(get(&format!("{base}/dists/bookworm/InRelease"))).unwrap();
    let mut in_sha = false;
    let mut want = None;
    for line in inrelease.lines() {
        if line.starts_with("SHA256:") {
            in_sha = true;
        } else if !line.starts_with(' ') {
            in_sha = false;
        } else if in_sha && line.ends_with(" main/binary-amd64/Packages") {
            want = line.split_whitespace().next().map(str::to_string);
        }
    }
    let want = want.expect("InRelease lists main/binary-amd64/Packages");
    let body = get(&format!(
        "{base}/dists/bookworm/main/binary-amd64/by-hash/SHA256/{want}"
    ));
    assert_eq!(
        hex::encode(Sha256::digest(&body)),
        want,
        "by-hash content does not match its name"
    );
    let text = String::from_utf8(body).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("Version: "))
        .unwrap_or("")
        .to_string()
}

#[test]
fn published_repository_serves_real_apt_atomically() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let d = Daemon::start_with(&[("CRYOD_NOW", "1795564800")], &["--listen", &addr], None);
    let m = fixture_mirror();
    let snap = d.fixture_snapshot();
    let p = "eol:12:prod";
    let prjconf = m.join("debian-12.prjconf");
    d.ok(&[
        "project",
        "create",
        p,
        "--snapshot",
        &snap,
        "--prjconf",
        prjconf.to_str().unwrap(),
        "--publish",
    ]);
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    tree(&src, "1.0");
    d.ok(&["package", "add", p, src.to_str().unwrap()]);
    let w = d.cryo(&["wait", p, "--timeout", "1200"]);
    assert!(w.status.success(), "{}\n{}", output_text(&w), d.log());

    // Auto-published after the build: publishing again changes nothing.
    let again = d.json(&["publish", p]);
    assert_eq!(again[0]["new"], false, "{again}");
    assert_eq!(again[0]["generation"], 1);

    // The real apt-get, over HTTP on loopback, with the exported key.
    let key = work.path().join("key.asc");
    d.ok(&["project", "key", p, "--out", key.to_str().unwrap()]);
    let base = format!("http://{addr}/repos/{p}/debian");
    let apt = Apt::new(
        &work.path().join("apt"),
        &format!("deb [signed-by={}] {base} bookworm main", key.display()),
    );
    let up = apt.run("apt-get", &["update"]);
    let t = output_text(&up);
    assert!(
        up.status.success() && !t.contains("W:") && !t.contains("E:"),
        "{t}"
    );
    let dl = apt.run("apt-get", &["download", "cryo-pubdemo"]);
    assert!(dl.status.success(), "{}", output_text(&dl));
    let deb = apt.dir.join("download/cryo-pubdemo_1.0_all.deb");
    let rows = d.json(&["results", p]);
    let built = rows[0]["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "cryo-pubdemo_1.0_all.deb")
        .unwrap()
        .clone();
    assert_eq!(
        hex::encode(Sha256::digest(fs::read(&deb).unwrap())),
        built["sha256"].as_str().unwrap()
    );
    let inst = work.path().join("inst");
    let x = Command::new("dpkg")
        .args(["-x", deb.to_str().unwrap(), inst.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(x.status.success(), "{}", output_text(&x));
    assert_eq!(
        fs::read_to_string(inst.join("usr/share/cryo-pubdemo/version")).unwrap(),
        "1.0\n"
    );

    // HTTP semantics: HEAD, Range, conditional requests, content types.
    let url = format!("{base}/dists/bookworm/InRelease");
    let head = String::from_utf8(curl(&["-I", &url]).stdout)
        .unwrap()
        .to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: text/plain")
            && head.contains("etag: \"")
            && head.contains("last-modified:"),
        "{head}"
    );
    let etag = head
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .unwrap()
        .trim()
        .to_string();
    let cond = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        &format!("If-None-Match: {etag}"),
        &url,
    ]);
    assert_eq!(String::from_utf8_lossy(&cond.stdout), "304");
    let part = curl(&["-r", "0-9", "-w", "\n%{http_code}", &url]);
    let part = String::from_utf8_lossy(&part.stdout).to_string();
    assert!(
        part.ends_with("\n206") && part.starts_with("-----BEGIN"),
        "{part}"
    );
    let deb_head = String::from_utf8(
        curl(&[
            "-I",
            &format!("{base}/pool/main/c/cryo-pubdemo/cryo-pubdemo_1.0_all.deb"),
        ])
        .stdout,
    )
    .unwrap()
    .to_lowercase();
    assert!(
        deb_head.contains("application/vnd.debian.binary-package"),
        "{deb_head}"
    );
    let missing = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("{base}/dists/nothing"),
    ]);
    assert_eq!(String::from_utf8_lossy(&missing.stdout), "404");

    // A tampered index served by a proxy is refused by apt.
    let proxy = HttpServer::tamper_proxy_mode(&format!("http://{addr}"), "packages");
    let apt2 = Apt::new(
        &work.path().join("apt2"),
        &format!(
            "deb [signed-by={}] {} bookworm main",
            key.display(),
            proxy.url(&format!("/repos/{p}/debian"))
        ),
    );
    let bad = apt2.run("apt-get", &["update"]);
    let t = output_text(&bad);
    assert!(
        !bad.status.success() || t.contains("E:") || t.contains("W:"),
        "apt accepted a tampered index:\n{t}"
    );
    assert!(
        t.contains("Hash Sum mismatch")
            || t.contains("unexpected size")
            || t.contains("Failed to fetch"),
        "{t}"
    );
    let listed = apt2.run("apt-cache", &["policy", "evil"]);
    assert!(
        !String::from_utf8_lossy(&listed.stdout).contains("6.6.6"),
        "the tampered stanza was accepted"
    );

    // Version 2: a new generation. A reader running meanwhile always sees a consistent
    // InRelease + Packages pair (from one generation or the other).
    assert_eq!(consistent_read(&base), "1.0");
    let stop = Arc::new(AtomicBool::new(false));
    let (b2, s2) = (base.clone(), stop.clone());
    let reader = std::thread::spawn(move || {
        let mut seen = std::collections::BTreeSet::new();
        let mut n = 0;
        while !s2.load(Ordering::SeqCst) || n < 3 {
            seen.insert(consistent_read(&b2));
            n += 1;
        }
        (seen, n)
    });
    tree(&src, "2.0");
    d.ok(&[
        "commit",
        p,
        "cryo-pubdemo",
        src.to_str().unwrap(),
        "-m",
        "version 2",
        "--wait",
        "--timeout",
        "1200",
    ]);
    for _ in 0..3 {
        d.ok(&["publish", p, "--rollback"]);
        d.ok(&["publish", p]);
    }
    stop.store(true, Ordering::SeqCst);
    let (seen, n) = reader.join().unwrap();
    assert!(
        n >= 3 && seen.iter().all(|v| v == "1.0" || v == "2.0"),
        "{seen:?}"
    );
    let pubs = d.json(&["publish", p]);
    assert_eq!(pubs[0]["generation"], 2, "{pubs}");
    assert_eq!(consistent_read(&base), "2.0");
    let up = apt.run("apt-get", &["update"]);
    assert!(up.status.success(), "{}", output_text(&up));
    let pol = apt.run("apt-cache", &["policy", "cryo-pubdemo"]);
    assert!(
        String::from_utf8_lossy(&pol.stdout).contains("Candidate: 2.0"),
        "{}",
        output_text(&pol)
    );

    // Rollback serves generation 1 again.
    let rb = d.json(&["publish", p, "--rollback"]);
    assert_eq!(rb[0]["generation"], 1, "{rb}");
    assert_eq!(consistent_read(&base), "1.0");
    let back = d.json(&["publish", p]); // the newest content is kept as generation 2
    assert_eq!(back[0]["generation"], 2, "{back}");

    // Static export: a tree another web server can serve; by-hash entries hard-linked.
    let out = work.path().join("export");
    let e1 = d.json(&["publish", p, "--export", out.to_str().unwrap()]);
    assert!(e1["linked"].as_u64().unwrap() > 0, "{e1}");
    let idx = out.join("dists/bookworm/main/binary-amd64/Packages");
    let text = fs::read(&idx).unwrap();
    let h = hex::encode(Sha256::digest(&text));
    let alias = out.join(format!(
        "dists/bookworm/main/binary-amd64/by-hash/SHA256/{h}"
    ));
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        fs::metadata(&idx).unwrap().ino(),
        fs::metadata(&alias).unwrap().ino()
    );
    assert!(out
        .join("pool/main/c/cryo-pubdemo/cryo-pubdemo_2.0_all.deb")
        .is_file());
    let e2 = d.json(&["publish", p, "--export", out.to_str().unwrap()]);
    assert_eq!(e2["written"], 0, "an unchanged export rewrote files: {e2}");
    // apt reads the export too (file://).
    let apt3 = Apt::new(
        &work.path().join("apt3"),
        &format!(
            "deb [signed-by={}] file://{} bookworm main",
            key.display(),
            out.display()
        ),
    );
    let up = apt3.run("apt-get", &["update"]);
    assert!(
        up.status.success() && !output_text(&up).contains("W:"),
        "{}",
        output_text(&up)
    );
    let v = d.cryo(&["store", "verify"]);
    assert!(v.status.success(), "{}", output_text(&v));
}
