//! Issue 13, defect 8: nothing the daemon keeps in its state directory is readable by
//! other local users (users, token digests, audit, private projects live in `index.redb`),
//! also when an older version left wider modes behind; the socket has `socket_mode`.
//!
//! Exceptions, listed here on purpose:
//! - the state directory itself is 0711 (others may traverse it, not list it: build
//!   sandboxes run as mapped ids and reach their roots below it when the build dir is the
//!   state dir; the e2e suite uses a separate build dir, so `roots/` and `builds/` are not
//!   here);
//! - the socket has exactly `socket_mode` (default 0600);
//! - `e2e-cryod.log` is created by this test harness, and `cryod.toml` by the admin; the
//!   daemon writes neither.
//!
//! Published repositories are served from the store over HTTP and exported to directories
//! the admin names outside the state directory; none are under it.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use cryo_tests::{fixture_mirror, Daemon};

const NOW: (&str, &str) = ("CRYOD_NOW", "1795564800");

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Every entry below `dir` (not following symlinks).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        out.push(p.clone());
        if std::fs::symlink_metadata(&p).unwrap().is_dir() {
            walk(&p, out);
        }
    }
}

/// Assert the state directory's modes; returns the files checked.
fn check_state(state: &Path, socket_mode: u32) -> Vec<String> {
    assert_eq!(mode(state), 0o711, "state dir");
    let mut all = Vec::new();
    walk(state, &mut all);
    let mut bad = Vec::new();
    let mut seen = Vec::new();
    for p in &all {
        let rel = p.strip_prefix(state).unwrap().display().to_string();
        let md = std::fs::symlink_metadata(p).unwrap();
        let m = mode(p);
        if rel == "e2e-cryod.log" || rel == "cryod.toml" {
            continue;
        }
        assert!(
            !rel.starts_with(".cb"),
            "a socket bind dir was left behind: {rel}"
        );
        if md.file_type().is_socket() {
            assert_eq!(rel, "cryod.sock");
            assert_eq!(m, socket_mode, "socket mode");
        } else if m & 0o077 != 0 {
            bad.push(format!("{rel} {m:o}"));
        }
        seen.push(rel);
    }
    assert!(bad.is_empty(), "readable by group/others: {bad:#?}");
    seen
}

#[test]
fn state_files_are_private_and_old_modes_are_narrowed() {
    let mut d = Daemon::start_with(&[NOW], &[], None);
    let state = d.state.path().to_path_buf();
    // Fill every kind of state: index + blobs (mirror sync), cache signing key, project
    // signing key, users.
    let snap = d.fixture_snapshot();
    d.ok(&["cache", "keygen", "files-test-1"]);
    let pc = fixture_mirror().join("debian-12.prjconf");
    let p = "eol:12:files";
    d.ok(&[
        "project",
        "create",
        p,
        "--snapshot",
        &snap,
        "--prjconf",
        pc.to_str().unwrap(),
    ]);
    let out = tempfile::tempdir().unwrap();
    d.ok(&[
        "project",
        "key",
        p,
        "--out",
        out.path().join("k.asc").to_str().unwrap(),
    ]);
    d.ok(&["user", "add", "alice"]);

    let seen = check_state(&state, 0o600);
    for must in [
        "index.redb",
        "cryod.lock",
        "cryod.sock",
        "blobs",
        "tmp",
        "keys/cache/files-test-1.secret",
        &format!("keys/projects/{p}.asc"),
    ] {
        assert!(
            seen.iter().any(|s| s == must),
            "{must} not found in {seen:?}"
        );
    }
    assert!(seen.iter().any(|s| s.starts_with("blobs/") && s.len() > 70));

    // What an older version (and `cryo`'s autostart log) left: wide modes.
    assert!(d.terminate());
    for (rel, m) in [
        ("index.redb", 0o644),
        ("blobs", 0o755),
        ("tmp", 0o755),
        ("keys", 0o755),
        ("keys/cache", 0o755),
        ("cryod.lock", 0o644),
    ] {
        std::fs::set_permissions(state.join(rel), std::fs::Permissions::from_mode(m)).unwrap();
    }
    std::fs::write(state.join("cryod.log"), "log of an autostarted daemon\n").unwrap();
    std::fs::set_permissions(
        state.join("cryod.log"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    d.restart();
    let seen = check_state(&state, 0o600);
    assert!(seen.iter().any(|s| s == "cryod.log"));
    assert_eq!(mode(&state.join("index.redb")), 0o600);
}

#[test]
fn socket_has_the_configured_mode() {
    let d = Daemon::start_with(&[NOW], &[], Some("socket_mode = \"0660\"\n"));
    check_state(d.state.path(), 0o660);
}
