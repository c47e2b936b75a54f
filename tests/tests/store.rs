//! Foundation end-to-end: the real cryod + cryo on the store, with the fixture mirror.

use std::fs;
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use cryo_tests::{fixture_mirror, Daemon};

fn blob_path(d: &Daemon, digest: &str) -> std::path::PathBuf {
    d.state.path().join("blobs").join(&digest[..2]).join(digest)
}

#[test]
fn put_cat_verify_the_fixture_mirror_files() {
    let d = Daemon::start();
    let mirror = fixture_mirror().join("debian/dists/bookworm");
    let inrelease = mirror.join("InRelease");
    let packages = mirror.join("main/binary-amd64/Packages.xz");
    let digest = d
        .ok(&["store", "put", inrelease.to_str().unwrap()])
        .trim()
        .to_string();
    assert_eq!(digest.len(), 64);
    let out = d.cryo(&["store", "cat", &digest]);
    assert!(out.status.success());
    assert_eq!(out.stdout, fs::read(&inrelease).unwrap());

    let put = d.json(&["store", "put", packages.to_str().unwrap()]);
    // Packages.xz is already compressed: stored raw.
    assert_eq!(put["encoding"], "raw");
    assert_eq!(
        put["size"].as_u64().unwrap(),
        fs::metadata(&packages).unwrap().len()
    );
    let pd = put["digest"].as_str().unwrap().to_string();
    let out = d.cryo(&["store", "cat", &pd]);
    assert_eq!(out.stdout, fs::read(&packages).unwrap());

    let v = d.json(&["store", "verify"]);
    assert_eq!(v["bad"].as_array().unwrap().len(), 0);
    assert!(v["checked"].as_u64().unwrap() >= 2);
    let stats = d.json(&["store", "stats"]);
    assert_eq!(stats["blobs"], 2);
    assert_eq!(stats["roots"], 2);
}

#[test]
fn corrupt_blob_cat_fails_and_verify_names_it() {
    let d = Daemon::start();
    let src = fixture_mirror().join("debian/dists/bookworm/InRelease");
    let digest = d
        .ok(&["store", "put", src.to_str().unwrap()])
        .trim()
        .to_string();
    let good = d.ok(&["store", "put", "-", "--root", "keep/good"]);
    let _ = good;
    let p = blob_path(&d, &digest);
    let mut bytes = fs::read(&p).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x55;
    fs::write(&p, &bytes).unwrap();

    let out = d.cryo(&["store", "cat", &digest]);
    assert!(!out.status.success());
    assert!(
        out.stdout.is_empty(),
        "no content of a corrupt blob may be printed"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&digest), "{err}");

    let out = d.cryo(&["store", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("BAD {digest}")), "{text}");
    assert!(text.contains("1 bad"), "{text}");
}

#[test]
fn bad_digest_strings_are_clear_errors() {
    let d = Daemon::start();
    for bad in ["abc", &"g".repeat(64), &"a".repeat(65)] {
        let out = d.cryo(&["store", "cat", bad]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("invalid digest"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = d.cryo(&["store", "cat", &"0".repeat(64)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
}

#[test]
fn killed_during_put_leaves_no_partial_object() {
    let mut d = Daemon::start();
    let src = fixture_mirror().join("debian/dists/bookworm/InRelease");
    d.ok(&["store", "put", src.to_str().unwrap()]);
    let before = d.json(&["store", "stats"]);

    // Stream a large input slowly so that the daemon is mid-write when it dies.
    let mut put = d
        .cmd()
        .args(["store", "put", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = put.stdin.take().unwrap();
    let chunk = vec![0x5au8; 1 << 20];
    for _ in 0..8 {
        stdin.write_all(&chunk).unwrap();
    }
    stdin.flush().unwrap();
    // Wait until the daemon has a temporary file for this put.
    let tmp = d.state.path().join("tmp");
    let mut seen = false;
    for _ in 0..200 {
        if fs::read_dir(&tmp).unwrap().next().is_some() {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(seen, "the put never reached the store");
    d.kill9();
    drop(stdin);
    let out = put.wait_with_output().unwrap();
    assert!(!out.status.success(), "a put whose daemon died must fail");

    d.restart();
    assert_eq!(
        fs::read_dir(&tmp).unwrap().count(),
        0,
        "stray temp files swept"
    );
    let after = d.json(&["store", "stats"]);
    assert_eq!(before["objects"], after["objects"]);
    let out = d.cryo(&["store", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn import_export_gc_roots() {
    let d = Daemon::start();
    let src = fixture_mirror().join("debian/dists");
    let t = d.json(&[
        "store",
        "import",
        src.to_str().unwrap(),
        "--root",
        "fixture/dists",
    ]);
    let tree = t["digest"].as_str().unwrap().to_string();
    assert_eq!(t["root"], "fixture/dists");
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("copy");
    d.ok(&["store", "export", &tree, dest.to_str().unwrap()]);
    for f in ["bookworm/InRelease", "bookworm/main/source/Sources.xz"] {
        assert_eq!(
            fs::read(src.join(f)).unwrap(),
            fs::read(dest.join(f)).unwrap(),
            "{f}"
        );
    }
    // The same content imports to the same tree.
    let again = d.json(&["store", "import", dest.to_str().unwrap(), "--root", ""]);
    assert_eq!(again["digest"].as_str().unwrap(), tree);
    // Exporting into a non-empty directory is refused.
    let o = d.cryo(&["store", "export", &tree, dest.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));

    let loose = d.json(&["store", "put", "-", "--root", ""]);
    let loose = loose["digest"].as_str().unwrap().to_string();
    let gc = d.json(&["store", "gc"]);
    assert_eq!(gc["deleted"], 1, "{gc}");
    assert!(!d.cryo(&["store", "cat", &loose]).status.success());
    // Rooted tree survives; removing its root frees it.
    d.ok(&[
        "store",
        "export",
        &tree,
        out.path().join("c2").to_str().unwrap(),
    ]);
    d.ok(&["store", "root-rm", "fixture/dists"]);
    let gc = d.json(&["store", "gc"]);
    assert!(gc["deleted"].as_u64().unwrap() >= 4, "{gc}");
    assert!(d.cryo(&["store", "verify"]).status.success());
}

#[test]
fn sigterm_is_graceful_and_stop_works() {
    let mut d = Daemon::start();
    let sock = d.state.path().join("cryod.sock");
    let mode = std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&sock).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let status = d.json(&["daemon", "status"]);
    assert_eq!(status["pid"].as_u64().unwrap() as u32, d.pid());
    assert!(status["peer_uid"].is_number());
    assert!(d.terminate(), "clean exit on SIGTERM");
    assert!(!sock.exists(), "socket removed on shutdown");
    assert_eq!(d.cryo(&["daemon", "status"]).status.code(), Some(1));

    d.restart();
    d.ok(&["daemon", "stop"]);
    assert!(!sock.exists());
}

#[test]
fn second_daemon_on_same_state_is_refused() {
    let d = Daemon::start();
    let out = std::process::Command::new(cryo_tests::bin_dir().join("cryod"))
        .arg("--state")
        .arg(d.state.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already"));
    d.ok(&["daemon", "status"]);
}

#[test]
fn cryo_autostarts_a_daemon_on_the_default_state_dir() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(cryo_tests::bin_dir().join("cryo"))
            .args(args)
            .env("HOME", home.path())
            .env_remove("CRYO_STATE")
            .env_remove("CRYO_SOCKET")
            .env_remove("XDG_STATE_HOME")
            .env_remove("CRYO_NO_AUTOSTART")
            .output()
            .unwrap()
    };
    let o = run(&["store", "stats", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let state = home.path().join(".local/state/cryo");
    assert!(state.join("cryod.sock").exists());
    assert!(state.join("index.redb").exists());
    let o = run(&["daemon", "stop"]);
    assert!(o.status.success());
    assert!(!state.join("cryod.sock").exists());
}

/// A synthetic cached root: `<build dir>/roots/<key>/{root/,ready,used}`, `kib` KiB of
/// data, last used `age` seconds ago. (Eviction reads the record's size and the `used`
/// time; it never needs a real root.)
fn synthetic_root(build_dir: &std::path::Path, key: &str, kib: usize, age: u64) {
    use std::os::unix::fs::PermissionsExt;
    let dir = build_dir.join("roots").join(key);
    std::fs::create_dir_all(dir.join("root/usr")).unwrap();
    std::fs::write(dir.join("root/usr/data"), vec![1u8; kib * 1024]).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let record = serde_json::json!({
        "format": "cryo.root-ready/1",
        "key": key,
        "manifest": "0".repeat(64),
        "packages": 1,
        "prepared_secs": 0.1,
        "bytes": kib * 1024,
    });
    std::fs::write(dir.join("ready"), record.to_string()).unwrap();
    let used = std::fs::File::create(dir.join("used")).unwrap();
    used.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(age))
        .unwrap();
}

#[test]
fn store_gc_evicts_the_least_recently_used_build_roots_beyond_the_limit() {
    // Its own build directory: the shared one holds the suite's real roots.
    let bd = tempfile::Builder::new()
        .prefix("cryo-e2e-evict-")
        .tempdir()
        .unwrap();
    std::fs::create_dir_all(bd.path().join("roots")).unwrap();
    for (key, age) in [("a1", 3000), ("b2", 2000), ("c3", 1000)] {
        synthetic_root(bd.path(), key, 64, age);
    }
    // Room for two of the three.
    let limit = (64 * 1024 * 2 + 1000).to_string();
    let d = Daemon::start_with_env(&[
        ("CRYOD_BUILD_DIR", bd.path().to_str().unwrap()),
        ("CRYOD_ROOTS_MAX_BYTES", &limit),
    ]);
    let gc = d.json(&["store", "gc"]);
    assert_eq!(gc["roots_removed"], 1, "{gc}");
    assert_eq!(gc["roots_bytes_freed"], 64 * 1024, "{gc}");
    assert_eq!(gc["roots_in_use"], 0, "{gc}");
    let roots = bd.path().join("roots");
    assert!(
        !roots.join("a1").exists(),
        "the least recently used root goes"
    );
    assert!(roots.join("b2").exists() && roots.join("c3").exists());
    let text = d.ok(&["store", "gc"]);
    assert!(text.contains("0 build roots evicted"), "{text}");
    drop(d);

    // A build holds b2 (a shared lock on its `used` file, as a running build does):
    // with no room at all, everything else goes and b2 stays.
    let held = std::fs::File::open(roots.join("b2/used")).unwrap();
    // SAFETY: flock on an open descriptor.
    assert_eq!(
        unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&held), libc::LOCK_SH) },
        0
    );
    let d = Daemon::start_with_env(&[
        ("CRYOD_BUILD_DIR", bd.path().to_str().unwrap()),
        ("CRYOD_ROOTS_MAX_BYTES", "0"),
    ]);
    let gc = d.json(&["store", "gc"]);
    assert_eq!(
        (gc["roots_removed"].as_u64(), gc["roots_in_use"].as_u64()),
        (Some(1), Some(1)),
        "{gc}"
    );
    assert!(roots.join("b2").exists() && !roots.join("c3").exists());
    drop(held);
    let gc = d.json(&["store", "gc"]);
    assert_eq!(gc["roots_removed"], 1, "{gc}");
    assert!(!roots.join("b2").exists());
}
