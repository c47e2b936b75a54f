//! The signed binary cache between two (three) real daemons on loopback.

use std::process::Command;

use cryo_tests::{fixture_mirror, free_port, Daemon, HttpServer};

fn build(d: &Daemon, snap: &str) -> serde_json::Value {
    let pc = fixture_mirror().join("debian-12.prjconf");
    d.json(&[
        "build",
        "--snapshot",
        snap,
        "--prjconf",
        pc.to_str().unwrap(),
        "src:base-files",
    ])
}

const NOW: (&str, &str) = ("CRYOD_NOW", "1795564800");

#[test]
fn substitute_from_a_trusted_cache_and_refuse_bad_ones() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let a = Daemon::start_with(&[NOW], &["--listen", &listen], None);
    let key = a.json(&["cache", "keygen", "cache-a-1"])["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(key.starts_with("cache-a-1:"));
    let secret = a.state.path().join("keys/cache/cache-a-1.secret");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&secret).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let snap = a.fixture_snapshot();
    let built = build(&a, &snap);
    assert_eq!(built["status"], "built");
    let drv = built["derivation"].as_str().unwrap().to_string();

    // The protocol itself, with a plain HTTP client.
    let base = format!("http://{listen}");
    let info = Command::new("curl")
        .args(["-sf", &format!("{base}/cache/info")])
        .output()
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["public_keys"][0], key.as_str());
    let deb = built["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"].as_str().unwrap().ends_with(".deb"))
        .unwrap();
    let blob_url = format!("{base}/cache/blob/{}", deb["blake3"].as_str().unwrap());
    let head = Command::new("curl")
        .args(["-sfI", &blob_url])
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).to_lowercase();
    assert!(
        head.contains("content-encoding: zstd") && head.contains("accept-ranges: bytes"),
        "{head}"
    );
    let part = Command::new("curl")
        .args(["-sf", "-r", "0-9", &blob_url])
        .output()
        .unwrap();
    assert_eq!(part.stdout.len(), 10);
    let nothing = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("{base}/cache/drv/{}", "0".repeat(64)),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&nothing.stdout), "404");

    // B trusts A: gets the outputs without building.
    let trusting = format!("[[substituters]]\nurl = \"{base}\"\ntrusted_keys = [\"{key}\"]\n");
    let b = Daemon::start_with(&[NOW], &[], Some(&trusting));
    assert_eq!(b.fixture_snapshot(), snap);
    let got = build(&b, &snap);
    assert_eq!(got["status"], "substituted", "{got}");
    assert_eq!(got["derivation"], drv.as_str());
    assert_eq!(got["outputs"], built["outputs"]);
    assert_eq!(
        b.json(&["daemon", "status"])["builds_run"],
        0,
        "B never built"
    );
    assert!(b.cryo(&["store", "verify"]).status.success());

    // C: first substituter corrupts blobs (valid signature), second is A signed by a key
    // C does not trust. Both are refused and C builds itself.
    let proxy = HttpServer::tamper_proxy(&base);
    let other = {
        let k = Daemon::start_with(&[NOW], &[], None);
        k.json(&["cache", "keygen", "someone-else"])["public_key"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let cfg = format!(
        "[[substituters]]\nurl = \"http://127.0.0.1:{}\"\ntrusted_keys = [\"{key}\"]\n\n[[substituters]]\nurl = \"{base}\"\ntrusted_keys = [\"{other}\"]\n",
        proxy.port
    );
    let c = Daemon::start_with(&[NOW], &[], Some(&cfg));
    c.fixture_snapshot();
    let own = build(&c, &snap);
    assert_eq!(own["status"], "built", "{own}");
    // Its own packages are bit-for-bit A's (the .buildinfo records its own Build-Date).
    let debs = |v: &serde_json::Value| -> Vec<serde_json::Value> {
        v["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["name"].as_str().unwrap().ends_with(".deb"))
            .cloned()
            .collect()
    };
    assert!(!debs(&own).is_empty(), "{own}");
    assert_eq!(
        debs(&own),
        debs(&built),
        "and its own build is bit-for-bit A's"
    );
    assert_eq!(c.json(&["daemon", "status"])["builds_run"], 1);
    let log = c.log();
    assert!(log.contains("blob refused"), "{log}");
    assert!(log.contains("no valid signature by a trusted key"), "{log}");
    assert!(c.cryo(&["store", "verify"]).status.success());
}
