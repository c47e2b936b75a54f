//! The build directory is the daemon's own (issue 13, defects 2 and 4), through the real
//! `cryod`: a build dir another user created first (or anyone may write, or a symlink) is
//! refused at start with a message naming it, its owner and mode, including the default
//! `/var/tmp/cryo-build-<uid>`; a cached root with a `ready` file the daemon did not
//! write is not used; a failed root preparation (of a Preinstall set holding set-uid
//! files) leaves no `.tmp-*` directory and no set-id file behind.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cryo_tests::{bin_dir, fixture_mirror, require, Daemon};

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n")
}

/// A temp dir that build sandboxes can traverse (mode 0755).
fn open_tempdir() -> tempfile::TempDir {
    let t = tempfile::Builder::new()
        .prefix("cryo-sec-bd-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    t
}

/// Starts `cryod` on a fresh state dir (inside `parent` if given) with `build_dir` as
/// `CRYOD_BUILD_DIR` (none: the default choice); expects it to exit with an error within
/// 30 s and returns its stderr.
fn refused_start(build_dir: Option<&Path>, state_parent: Option<&Path>) -> String {
    let state = match state_parent {
        Some(p) => tempfile::Builder::new().tempdir_in(p).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let mut c = Command::new(bin_dir().join("cryod"));
    c.arg("--state")
        .arg(state.path())
        .env("CRYOD_LOG", "info")
        .env_remove("CRYOD_BUILD_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(d) = build_dir {
        c.env("CRYOD_BUILD_DIR", d);
    }
    let mut child = c.spawn().expect("start cryod");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                !status.success(),
                "cryod started on an unsafe build dir: {err}"
            );
            return err;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "cryod kept running on an unsafe build dir: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_build_dir_someone_else_controls_is_refused_at_start() {
    if !require(
        is_root(),
        "needs root to create directories of another user (chown)",
    ) {
        return;
    }
    let t = open_tempdir();

    // Created first by another local user (uid 65534), as a squatter would.
    let squatted = t.path().join("squatted");
    std::fs::create_dir(&squatted).unwrap();
    std::fs::set_permissions(&squatted, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::lchown(&squatted, Some(65534), Some(65534)).unwrap();
    let err = refused_start(Some(&squatted), None);
    assert!(
        err.contains(&squatted.display().to_string())
            && err.contains("owned by uid 65534")
            && err.contains("mode 0755"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&squatted).unwrap().count(), 0);

    // Writable by everyone.
    let open = t.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let err = refused_start(Some(&open), None);
    assert!(
        err.contains(&open.display().to_string()) && err.contains("mode 0777"),
        "{err}"
    );

    // A symlink (to a directory that would pass): refused, not followed.
    let good = t.path().join("good");
    std::fs::create_dir(&good).unwrap();
    let link = t.path().join("link");
    std::os::unix::fs::symlink(&good, &link).unwrap();
    let err = refused_start(Some(&link), None);
    assert!(err.contains("symbolic link"), "{err}");

    // A good build dir whose roots/ another user created.
    let sub = t.path().join("sub");
    std::fs::create_dir_all(sub.join("roots")).unwrap();
    std::os::unix::fs::lchown(sub.join("roots"), Some(65534), Some(65534)).unwrap();
    let err = refused_start(Some(&sub), None);
    assert!(
        err.contains(&sub.join("roots").display().to_string()) && err.contains("uid 65534"),
        "{err}"
    );
}

/// Removes the directory on drop.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_default_build_dir_in_var_tmp_is_refused_when_squatted() {
    if !require(
        is_root(),
        "needs root to create a directory of another user (chown)",
    ) {
        return;
    }
    // The case: a root daemon whose state dir sandboxes cannot reach builds in
    // /var/tmp/cryo-build-0, which any local user may create first.
    let default = PathBuf::from("/var/tmp/cryo-build-0");
    if !require(
        std::fs::symlink_metadata(&default).is_err(),
        "/var/tmp/cryo-build-0 exists already (a real daemon's); this test creates it",
    ) {
        return;
    }
    std::fs::create_dir(&default).unwrap();
    let _cleanup = RemoveOnDrop(default.clone());
    std::fs::set_permissions(&default, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::lchown(&default, Some(65534), Some(65534)).unwrap();
    // A state dir below a 0700 directory: not reachable by the sandbox's mapped ids.
    let private = tempfile::tempdir().unwrap();
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let err = refused_start(None, Some(private.path()));
    assert!(
        err.contains("/var/tmp/cryo-build-0") && err.contains("owned by uid 65534"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&default).unwrap().count(), 0);
}

/// Entries of `roots/` whose names contain `.tmp-`.
fn leftovers(build_dir: &Path) -> Vec<String> {
    std::fs::read_dir(build_dir.join("roots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

/// Set-id regular files under `dir`.
fn setid_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(md) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if md.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
        } else if md.is_file() && md.mode() & 0o6000 != 0 {
            out.push(format!(
                "{} {:o} {}:{}",
                p.display(),
                md.mode(),
                md.uid(),
                md.gid()
            ));
        }
    }
    out
}

#[test]
fn failed_roots_leave_nothing_behind_and_forged_roots_are_not_used() {
    if !require(
        is_root(),
        "the build sandbox needs root here (the CI runs as root)",
    ) {
        return;
    }
    let t = open_tempdir();
    let build_dir = t.path().join("bd");
    let bd = build_dir.to_str().unwrap();
    let d = Daemon::start_with_env(&[("CRYOD_BUILD_DIR", bd), ("CRYOD_NOW", "1795564800")]);
    let snap = d.fixture_snapshot();
    // A Preinstall set without a shell: the host-side unpack (util-linux brings the
    // set-uid `su`, `mount`, `umount`) works, the first sandbox phase cannot.
    let conf = std::fs::read_to_string(fixture_mirror().join("debian-12.prjconf")).unwrap();
    let conf: String = conf
        .lines()
        .filter(|l| !l.starts_with("Preinstall:") && !l.starts_with("Runscripts:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let conf = format!("Preinstall: base-files util-linux\n{conf}");
    let pc = t.path().join("noshell.prjconf");
    std::fs::write(&pc, conf).unwrap();
    let build = || {
        d.cryo(&[
            "build",
            "--snapshot",
            &snap,
            "--prjconf",
            pc.to_str().unwrap(),
            "src:base-files",
        ])
    };
    let o = build();
    assert!(!o.status.success(), "built without a shell?");
    // The reason is in the daemon's log (a 500 answers only a request id).
    let log = d.log();
    let marker = "preparing the build root: root ";
    let at = log
        .find(marker)
        .unwrap_or_else(|| panic!("no failed preparation in the log:\n{log}"));
    let key = log[at + marker.len()..][..64].to_owned();
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    // The daemon is still running: the unfinished root must be gone already, not at the
    // next start.
    assert_eq!(leftovers(&build_dir), Vec::<String>::new());
    assert_eq!(setid_files(&build_dir), Vec::<String>::new());
    let prepared = |log: &str| log.matches(&format!("{marker}{key}")).count();
    let attempts = prepared(&log);

    // Forged cached roots for exactly that key: a bare `ready` file (what the old code
    // trusted), then a well-formed record planted by another user. Neither is used: the
    // daemon prepares the root again (and fails again the same way), and the forged
    // directory is gone.
    let forged = build_dir.join("roots").join(&key);
    for round in 0..2usize {
        std::fs::create_dir_all(forged.join("root/bin")).unwrap();
        std::fs::write(forged.join("root/bin/sh"), "#!/bin/false\n").unwrap();
        std::fs::set_permissions(&forged, std::fs::Permissions::from_mode(0o700)).unwrap();
        if round == 0 {
            std::fs::write(forged.join("ready"), "190 packages, prepared in 1.0s\n").unwrap();
        } else {
            let rec = serde_json::json!({
                "format": "cryo.root-ready/1", "key": key,
                "manifest": "0".repeat(64), "packages": 190, "prepared_secs": 1.0,
            });
            std::fs::write(forged.join("ready"), rec.to_string()).unwrap();
            std::os::unix::fs::lchown(forged.join("ready"), Some(65534), Some(65534)).unwrap();
        }
        let o = build();
        assert!(!o.status.success());
        let log = d.log();
        assert_eq!(
            prepared(&log),
            attempts + round + 1,
            "round {round}: the forged root was used:\n{log}"
        );
        assert!(
            !forged.exists(),
            "round {round}: the forged root is still there"
        );
        assert_eq!(leftovers(&build_dir), Vec::<String>::new());
        // The key that failed is the base layer's when layering applies (the Preinstall
        // set is the base): the forged directory is refused as either.
        let log = d.log();
        assert!(
            log.contains("cached build root not trusted")
                || log.contains("cached base layer not trusted"),
            "{log}"
        );
    }
}

#[test]
fn a_root_another_daemon_prepared_is_checked_and_used() {
    if !require(
        is_root(),
        "the build sandbox needs root here (the CI runs as root)",
    ) {
        return;
    }
    // Two daemons (two processes, so the second recomputes the root's listing) on the
    // suite's shared build dir: builds on a cached root leave it as its record says, and
    // the second daemon trusts it.
    let build = |d: &Daemon| {
        let snap = d.fixture_snapshot();
        let pc = fixture_mirror().join("debian-12.prjconf");
        d.json(&[
            "build",
            "--snapshot",
            &snap,
            "--prjconf",
            pc.to_str().unwrap(),
            "src:base-files",
        ])
    };
    let first = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800")]);
    let b1 = build(&first);
    assert_eq!(b1["status"], "built", "{b1}");
    drop(first);
    let second = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800")]);
    let b2 = build(&second);
    assert_eq!(b2["status"], "built", "{b2}");
    assert_eq!(b2["root_cached"], true, "{b2}\n{}", second.log());
    assert!(!second.log().contains("not trusted"), "{}", second.log());
}
