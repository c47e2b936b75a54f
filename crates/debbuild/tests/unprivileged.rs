//! The unprivileged daemon: root preparation from the fixture's closure, a base-files build
//! that must be byte-identical to Debian's, and the removal of the work directory and the
//! root, all as an ordinary user with a subordinate id range. Running as root with the
//! `uidmap` package installed, the first test creates (or reuses) the throwaway user of the
//! sandbox crate's unprivileged test and runs the second one as that user; otherwise it
//! says why it is skipped.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{chain, helper, is_root};
use cryo_debbuild::{BuildSpec, RootPhase};
use cryo_sandbox::IdMapping;

/// The sandbox crate's throwaway user (`crates/sandbox/tests/unprivileged.rs`).
const USER: &str = "cryo-sbx-test";
/// Its subordinate range when this test has to add one.
const SUB: &str = "300000000-300065535";
/// Tells the child test which directory (owned by the user) to work in.
const DIR_ENV: &str = "CRYO_DEBBUILD_UNPRIVILEGED_DIR";
const BASE_FILES: &str = "base-files_12.4+deb12u15_amd64.deb";

fn id(flag: &str) -> std::process::Output {
    Command::new("id")
        .args([flag, USER])
        .output()
        .expect("run id")
}

/// Creates the user and its ranges if missing; returns its uid and gid.
fn ensure_user() -> (u32, u32) {
    if !id("-u").status.success() {
        let st = Command::new("useradd")
            .args(["--no-create-home", "--shell", "/usr/sbin/nologin", USER])
            .status()
            .expect("useradd");
        assert!(st.success(), "useradd failed");
    }
    let prefix = format!("{USER}:");
    let has = |f: &str| {
        std::fs::read_to_string(f)
            .unwrap_or_default()
            .lines()
            .any(|l| l.starts_with(&prefix))
    };
    if !has("/etc/subuid") || !has("/etc/subgid") {
        let st = Command::new("usermod")
            .args(["--add-subuids", SUB, "--add-subgids", SUB, USER])
            .status()
            .expect("usermod");
        assert!(st.success(), "usermod --add-subuids failed");
    }
    let num = |flag| {
        String::from_utf8_lossy(&id(flag).stdout)
            .trim()
            .parse::<u32>()
            .expect("numeric id")
    };
    (num("-u"), num("-g"))
}

#[test]
fn ordinary_user_prepares_a_root_builds_and_removes_it() {
    if !common::require(is_root(), "creating the throwaway user needs root")
        || !common::require(
            Path::new("/usr/bin/newuidmap").exists() && Path::new("/usr/bin/setpriv").exists(),
            "newuidmap (package uidmap) or setpriv is not installed",
        )
    {
        return;
    }
    let (uid, gid) = ensure_user();
    let dir = tempfile::Builder::new()
        .prefix("cryo-debbuild-unpriv")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();

    let started = Instant::now();
    let out = Command::new("/usr/bin/setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--init-groups")
        .arg("--")
        .arg(std::env::current_exe().expect("test executable"))
        .args(["--exact", "prepare_build_and_remove_as_current_user"])
        .args(["--ignored", "--nocapture", "--test-threads=1"])
        .env(DIR_ENV, dir.path())
        .output()
        .expect("run the child test as the throwaway user");
    eprintln!(
        "child test as {USER} ({uid}:{gid}) took {:?}:\n{}{}",
        started.elapsed(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the child test failed: {}",
        out.status
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the child test did not run"
    );
    let built = std::fs::read(dir.path().join(BASE_FILES)).expect("the child's copy of the deb");
    let official = common::mirror()
        .join("debian/pool/main/b/base-files")
        .join(BASE_FILES);
    assert!(
        built == std::fs::read(official).unwrap(),
        "{BASE_FILES} differs"
    );
    // Removal worked from the user's side: nothing is left but the copy.
    let left: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(left, [dir.path().join(BASE_FILES)]);
}

/// Inodes under `root` owned by `uid`, outside the sandbox's mount points and the
/// directories `uid` may not read.
fn owned_by(root: &Path, uid: u32) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let md = std::fs::symlink_metadata(&p).expect("lstat");
        if md.uid() == uid {
            found.push(p.clone());
        }
        // A directory of the range the daemon cannot read (e.g. /root, 0700) is not its own.
        if md.is_dir() && (md.uid() == uid || md.mode() & 0o005 == 0o005) {
            for e in std::fs::read_dir(&p).expect("readdir") {
                let e = e.expect("entry");
                let name = e.file_name();
                let top_mount = p == root && ["proc", "dev", "tmp"].iter().any(|m| name == *m);
                if !top_mount {
                    stack.push(e.path());
                }
            }
        }
    }
    found
}

#[test]
#[ignore = "slow; run as the throwaway user by the test above, or by hand as any user with a subordinate id range"]
fn prepare_build_and_remove_as_current_user() {
    let given = std::env::var_os(DIR_ENV).map(PathBuf::from);
    let own = std::env::temp_dir().join(format!("cryo-debbuild-unpriv-{}", std::process::id()));
    let dir = given.clone().unwrap_or(own);
    // Like the daemon: the root inside a directory of its own, next to a marker file.
    let (holder, work) = (dir.join("prepared"), dir.join("work"));
    let root = holder.join("root");
    let started = Instant::now();
    let info = cryo_debbuild::prepare_root(&common::plan(), &root, &helper())
        .unwrap_or_else(|e| panic!("prepare_root: {}", chain(&e)));
    eprintln!("prepared the root in {:?}", started.elapsed());
    for p in &info.phases {
        eprintln!("  phase {:?}: {:?}", p.phase, p.duration);
    }
    // The fixture pool: the 190-package closure plus the RPM toolchain's 21.
    assert_eq!(info.packages.len(), 211);
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let has_ownership_phase = info.phases.iter().any(|p| p.phase == RootPhase::Ownership);
    assert_eq!(has_ownership_phase, euid != 0);

    // The recorded owners and modes were applied (dpkg reinstalls files, not directories).
    let map = IdMapping::default().resolve_for_current_process().unwrap();
    let (root_uid, staff_gid) = (map.outside_uid(0).unwrap(), map.outside_gid(50).unwrap());
    for (path, gid, mode) in [
        ("var/local", staff_gid, 0o42775),
        ("root", map.outside_gid(0).unwrap(), 0o40700),
        ("usr/bin/su", map.outside_gid(0).unwrap(), 0o104755),
    ] {
        let md = std::fs::symlink_metadata(root.join(path)).unwrap();
        assert_eq!(
            (md.uid(), md.gid(), md.mode()),
            (root_uid, gid, mode),
            "{path}"
        );
    }
    assert_eq!(owned_by(&root, euid), Vec::<PathBuf>::new());

    let spec = BuildSpec {
        root_dir: root.clone(),
        source: common::fixture_source("b/base-files", "base-files_12.4+deb12u15.dsc"),
        settings: common::settings(),
        kind: Default::default(),
        work_dir: work.clone(),
    };
    let t = Instant::now();
    let r =
        cryo_debbuild::build(&spec, &helper()).unwrap_or_else(|e| panic!("build: {}", chain(&e)));
    eprintln!("built base-files in {:?}", t.elapsed());
    common::assert_identical(&r, "b/base-files", &[BASE_FILES]);
    let deb = r.outputs.iter().find(|o| o.name == BASE_FILES).unwrap();
    std::fs::copy(&deb.path, dir.join(BASE_FILES)).unwrap();

    let t = Instant::now();
    cryo_debbuild::remove_tree(&work, &root, &helper())
        .unwrap_or_else(|e| panic!("remove the work dir: {}", chain(&e)));
    assert!(!work.exists());
    std::fs::write(holder.join("ready"), "prepared\n").unwrap();
    cryo_debbuild::remove_tree(&holder, &root, &helper())
        .unwrap_or_else(|e| panic!("remove the root: {}", chain(&e)));
    assert!(!holder.exists());
    eprintln!("removed the work dir and the root in {:?}", t.elapsed());
    if given.is_none() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
