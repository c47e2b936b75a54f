//! Set-id files of packages never exist on the host (issue 13, defect 4). A Preinstall
//! package (which a project can build itself) holding a set-uid-root file, and a file of an
//! id the sandbox does not map, is unpacked by a root daemon: before the fix the file was
//! unpacked with its owner and mode (a set-uid root binary on the host) and, when the
//! ownership shift then failed on the unmapped file, stayed there. Now the host tree has
//! no set-id file at any point; the modes are applied inside the user namespace.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use cryo_debbuild::{DebFile, RootError, RootPhase, RootPlan};
use cryo_prjconf::BuildUser;

/// Builds `cryo-setid_1.0_all.deb` in `dir` with `dpkg-deb`: `usr/bin/evil` 4755 root,
/// `usr/bin/evil-g` 2755 root, and (with `unmapped`) `usr/lib/cryo-setid/odd` owned by
/// 70000:70000, outside the sandbox's 65536 ids.
fn setid_deb(dir: &Path, unmapped: bool) -> PathBuf {
    let stage = dir.join("stage");
    std::fs::create_dir_all(stage.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(stage.join("usr/bin")).unwrap();
    std::fs::write(
        stage.join("DEBIAN/control"),
        "Package: cryo-setid\nVersion: 1.0\nArchitecture: all\nMaintainer: T <t@example.org>\n\
         Description: set-id test package\n a set-uid root file\n",
    )
    .unwrap();
    for (name, mode) in [("evil", 0o4755), ("evil-g", 0o2755)] {
        let p = stage.join("usr/bin").join(name);
        std::fs::write(&p, "#!/bin/sh\nid\n").unwrap();
        std::os::unix::fs::lchown(&p, Some(0), Some(0)).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    if unmapped {
        let d = stage.join("usr/lib/cryo-setid");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("odd"), "x").unwrap();
        std::os::unix::fs::lchown(d.join("odd"), Some(70000), Some(70000)).unwrap();
    }
    let deb = dir.join("cryo-setid_1.0_all.deb");
    let out = Command::new("dpkg-deb")
        .args(["-Zgzip", "--build"])
        .arg(&stage)
        .arg(&deb)
        .output()
        .expect("run dpkg-deb");
    assert!(
        out.status.success(),
        "dpkg-deb --build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    deb
}

/// Set-id regular files under `dir` (not following symlinks), with owner and mode.
fn setid_files(dir: &Path) -> Vec<(PathBuf, u32, u32, u32)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(md) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if md.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        } else if md.is_file() && md.mode() & 0o6000 != 0 {
            out.push((p, md.uid(), md.gid(), md.mode() & 0o7777));
        }
    }
    out
}

#[test]
fn a_failed_preparation_leaves_no_setid_file_on_the_host() {
    if !common::require(
        common::is_root() && Path::new("/usr/bin/dpkg-deb").exists(),
        "needs root (a root daemon's unpack; chown of the synthetic package) and dpkg-deb",
    ) {
        return;
    }
    let dir = common::work_dir();
    let deb = setid_deb(dir.path(), true);
    let plan = RootPlan {
        preinstall: vec![DebFile {
            name: "cryo-setid".into(),
            version: "1.0".into(),
            path: deb,
        }],
        install: Vec::new(),
        runscripts: Vec::new(),
        build_user: BuildUser {
            uid: 1000,
            gid: 1000,
        },
        source_date_epoch: None,
    };
    let dest = dir.path().join("root");
    // The root has no shell, so the first sandbox phase fails: everything done on the host
    // before it is what this test inspects.
    let err = cryo_debbuild::prepare_root(&plan, &dest, &common::helper())
        .expect_err("a root without a shell cannot be configured");
    assert!(
        matches!(
            err,
            RootError::Sandbox {
                phase: RootPhase::Ownership,
                ..
            } | RootError::PhaseFailed {
                phase: RootPhase::Ownership,
                ..
            }
        ),
        "{}",
        common::chain(&err)
    );
    let found = setid_files(&dest);
    assert!(
        found.is_empty(),
        "set-id files on the host outside the user namespace: {found:?}"
    );
    // The files are there, owned by the sandbox's root, with their modes minus set-id.
    let evil = std::fs::symlink_metadata(dest.join("usr/bin/evil")).unwrap();
    assert_eq!(
        (evil.uid(), evil.mode() & 0o7777),
        (cryo_sandbox::DEFAULT_ROOT_BASE, 0o755)
    );
    // The archive's modes are kept for the sandbox to apply inside the namespace.
    let lists = dest.join(".cryo-bootstrap/ownership");
    let suid = std::fs::read(lists.join("mode.4755")).unwrap();
    assert_eq!(suid, b"./usr/bin/evil\0");
    let sgid = std::fs::read(lists.join("mode.2755")).unwrap();
    assert_eq!(sgid, b"./usr/bin/evil-g\0");
    assert!(lists.join("owner.70000:70000").exists());
}

#[test]
fn the_host_unpack_strips_setid_bits_of_files() {
    if !common::require(
        common::is_root() && Path::new("/usr/bin/dpkg-deb").exists(),
        "needs root (chown of the synthetic package) and dpkg-deb",
    ) {
        return;
    }
    let dir = common::work_dir();
    let deb = setid_deb(dir.path(), false);
    let dest = dir.path().join("x");
    std::fs::create_dir(&dest).unwrap();
    let listed = cryo_debbuild::deb::extract_data_listing(&deb, &dest).unwrap();
    let evil = listed
        .iter()
        .find(|e| e.path == Path::new("usr/bin/evil"))
        .unwrap();
    assert_eq!((evil.uid, evil.mode), (0, 0o4755));
    assert!(setid_files(&dest).is_empty(), "{:?}", setid_files(&dest));
    let dest2 = dir.path().join("y");
    std::fs::create_dir(&dest2).unwrap();
    cryo_debbuild::deb::extract_data(&deb, &dest2).unwrap();
    assert!(setid_files(&dest2).is_empty(), "{:?}", setid_files(&dest2));
}
