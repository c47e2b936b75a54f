//! Issue 13, defects 6 and 9, through the real `cryod` on TCP loopback: anonymous
//! `/cache/` traffic for blobs that are not there answers 404 from the output index (no
//! rescan), real outputs are still served, and a 500 shows a request id, never its cause.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use cryo_tests::{fixture_mirror, free_port, Daemon};

const NOW: (&str, &str) = ("CRYOD_NOW", "1795564800");

/// One plain HTTP/1.1 GET: status, headers (lower-case) and body.
fn get(addr: &str, path: &str) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP head");
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    (status, head, raw[split + 4..].to_vec())
}

/// A digest-shaped random string (64 hex digits from the kernel).
fn random_digest() -> String {
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut b)
        .unwrap();
    hex::encode(b)
}

#[test]
fn random_blob_misses_answer_404_and_real_outputs_are_served() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let d = Daemon::start_with(&[NOW], &["--listen", &addr], None);
    let snap = d.fixture_snapshot();
    let pc = fixture_mirror().join("debian-12.prjconf");
    let built = d.json(&[
        "build",
        "--snapshot",
        &snap,
        "--prjconf",
        pc.to_str().unwrap(),
        "src:base-files",
    ]);
    assert_eq!(built["status"], "built", "{built}");
    let outputs = built["outputs"].as_array().unwrap();
    let deb = outputs
        .iter()
        .find(|o| o["name"].as_str().unwrap().ends_with(".deb"))
        .unwrap()["blake3"]
        .as_str()
        .unwrap()
        .to_string();

    // 200 anonymous misses from 8 clients at once: every one a 404 naming the miss.
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|_| {
                        let r = random_digest();
                        let (status, _, body) = get(&addr, &format!("/cache/blob/{r}"));
                        (r, status, String::from_utf8_lossy(&body).into_owned())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut misses = 0;
    for t in threads {
        for (r, status, body) in t.join().unwrap() {
            assert_eq!(status, 404, "{r}: {body}");
            assert!(body.contains("not_found") && body.contains(&r), "{body}");
            misses += 1;
        }
    }
    assert_eq!(misses, 200);

    // Objects that are in the store but are not build outputs stay private too: the
    // derivation itself, and the snapshot's records.
    let drv = built["derivation"].as_str().unwrap();
    assert_eq!(get(&addr, &format!("/cache/blob/{drv}")).0, 404);
    assert_eq!(get(&addr, &format!("/cache/blob/{snap}")).0, 404);

    // The real output is still served, zstd on the wire, and decodes to the stored bytes.
    let (status, head, body) = get(&addr, &format!("/cache/blob/{deb}"));
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-encoding: zstd"), "{head}");
    assert!(head.contains(&format!("x-cryo-blake3: {deb}")), "{head}");
    let mut z = Command::new("zstd")
        .args(["-dc"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("zstd is installed");
    let mut stdin = z.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let decoded = z.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(decoded.status.success());
    let stored = d.cmd().args(["store", "cat", &deb]).output().unwrap();
    assert!(stored.status.success());
    assert_eq!(decoded.stdout, stored.stdout);
    // A range of it, from the kept compressed body.
    let (status, head, _) = get(&addr, &format!("/cache/blob/{deb}"));
    assert_eq!(status, 200, "{head}");
    let o = Command::new("curl")
        .args([
            "-s",
            "-r",
            "0-9",
            &format!("http://{addr}/cache/blob/{deb}"),
        ])
        .output()
        .unwrap();
    assert_eq!(o.stdout.len(), 10);

    // Misses after the hits: still 404, and the daemon still answers.
    for _ in 0..20 {
        assert_eq!(
            get(&addr, &format!("/cache/blob/{}", random_digest())).0,
            404
        );
    }
    assert!(d.cryo(&["daemon", "status"]).status.success());
}

#[test]
fn internal_errors_answer_a_request_id_and_log_the_detail() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let d = Daemon::start_with(&[NOW], &["--listen", &addr], None);
    // A key file the daemon cannot parse: reading the cache keys fails inside the daemon
    // (an internal error), on the anonymous TCP router.
    let keys = d.state.path().join("keys/cache");
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::write(keys.join("broken.secret"), "not a key").unwrap();

    let (status, head, body) = get(&addr, "/cache/info");
    assert_eq!(status, 500, "{head}");
    let body = String::from_utf8(body).unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "internal", "{body}");
    let id = v["request_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no request_id: {body}"))
        .to_string();
    assert!(!id.is_empty());
    assert_eq!(
        v["message"],
        format!("internal error (request id {id})").as_str()
    );
    // Nothing of the cause: no path, no file name, no parser message.
    let state = d.state.path().to_str().unwrap();
    for secret in [state, "broken.secret", "malformed", "keys/cache"] {
        assert!(!body.contains(secret), "{secret:?} leaked in {body}");
    }
    assert!(head.contains(&format!("x-request-id: {id}")), "{head}");
    // The daemon's log has the detail under the same id.
    let log = d.log();
    let line = log
        .lines()
        .find(|l| l.contains(&id) && l.contains("malformed key file"))
        .unwrap_or_else(|| panic!("no log line with request id {id} and the cause:\n{log}"));
    assert!(line.contains("broken.secret"), "{line}");

    // The same on the unix socket (the full API), through another handler.
    let sock = d.state.path().join("cryod.sock");
    let o = Command::new("curl")
        .args(["-s", "--unix-socket", sock.to_str().unwrap()])
        .arg("http://cryod/api/v1/cache/keys")
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&o.stdout).into_owned();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "internal", "{body}");
    let id2 = v["request_id"].as_str().unwrap_or_else(|| panic!("{body}"));
    assert_ne!(id2, id);
    assert!(
        !body.contains("malformed") && !body.contains(state),
        "{body}"
    );
    assert!(d
        .log()
        .lines()
        .any(|l| l.contains(id2) && l.contains("malformed key file")));
}
