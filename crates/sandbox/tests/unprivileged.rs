//! The unprivileged path: the helper runs as an ordinary user with a subordinate id range and
//! maps ids with newuidmap/newgidmap. Needs root (to create a throwaway user) and the
//! `uidmap` package; otherwise it prints why it is skipped.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use common::{log, nix_is_root, sh};
use cryo_sandbox::idmap::{find_subordinate_range, Caller};
use cryo_sandbox::{BindMount, ExitStatusKind, HelperCommand, Owner, Sandbox, SandboxError};

const USER: &str = "cryo-sbx-test";
const SUB: &str = "300000000-300065535";

fn ensure_user() -> (u32, u32) {
    let id = |flag: &str| {
        Command::new("id")
            .args([flag, USER])
            .output()
            .expect("run id")
    };
    if !id("-u").status.success() {
        let st = Command::new("useradd")
            .args(["--no-create-home", "--shell", "/usr/sbin/nologin", USER])
            .status()
            .expect("useradd");
        assert!(st.success(), "useradd failed");
    }
    let subuid = std::fs::read_to_string("/etc/subuid").unwrap_or_default();
    let subgid = std::fs::read_to_string("/etc/subgid").unwrap_or_default();
    let prefix = format!("{USER}:");
    if !subuid.lines().any(|l| l.starts_with(&prefix))
        || !subgid.lines().any(|l| l.starts_with(&prefix))
    {
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

fn as_user(user: &str, group: &str) -> HelperCommand {
    HelperCommand::new("/usr/bin/setpriv")
        .arg(format!("--reuid={user}"))
        .arg(format!("--regid={group}"))
        .arg("--clear-groups")
        .arg("--")
        .arg(common::helper())
}

#[test]
fn ordinary_user_with_subordinate_range() {
    if !common::require(nix_is_root(), "creating a throwaway user needs root")
        || !common::require(
            Path::new("/usr/bin/newuidmap").exists() && Path::new("/usr/bin/setpriv").exists(),
            "newuidmap (package uidmap) or setpriv is not installed",
        )
    {
        return;
    }
    let (uid, gid) = ensure_user();
    let caller = Caller {
        uid,
        gid,
        user_name: Some(USER.into()),
    };
    let start = find_subordinate_range(&std::fs::read_to_string("/etc/subuid").unwrap(), &caller)
        .expect("subuid range");
    let gstart = find_subordinate_range(&std::fs::read_to_string("/etc/subgid").unwrap(), &caller)
        .expect("subgid range");

    let mut job = sh("id -u; touch /out/f && chown 100:100 /out/f && echo chowned; echo x > /tmp/t && cat /tmp/t; echo y > /etc/new", 0);
    let out_dir = job.dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    for d in [job.upper(), job.dir.path().join("work"), out_dir.clone()] {
        std::os::unix::fs::chown(&d, Some(uid), Some(gid)).unwrap();
    }
    job.spec.binds.push(BindMount {
        source: out_dir.clone(),
        target: "/out".into(),
        writable: true,
        owner: Some(Owner { uid: 0, gid: 0 }),
    });
    let run =
        |job: &common::Job| Sandbox::spawn(&job.spec, &as_user(USER, USER)).and_then(|r| r.wait());
    let out = run(&job).expect("unprivileged sandbox");
    // The shared lower dir belongs to the root-mode range, unmapped here: readable, but root
    // inside has no rights over it (a real unprivileged daemon prepares roots in its range).
    assert_eq!(
        log(&out),
        "0\nchowned\nx\n/bin/sh: 1: cannot create /etc/new: Permission denied\n"
    );
    let md = std::fs::metadata(out_dir.join("f")).unwrap();
    assert_eq!((md.uid(), md.gid()), (start + 100, gstart + 100));
    assert!(!common::test_root().lower.join("etc/new").exists());

    let mut job = sh("id -u; cat /proc/sys/kernel/hostname", 1000);
    for d in [job.upper(), job.dir.path().join("work")] {
        std::os::unix::fs::chown(&d, Some(uid), Some(gid)).unwrap();
    }
    job.spec.hostname = "unpriv".into();
    let out = run(&job).expect("unprivileged sandbox as uid 1000");
    assert_eq!(
        (out.exit, log(&out)),
        (ExitStatusKind::Exited(0), "1000\nunpriv\n".to_owned())
    );
}

#[test]
fn ordinary_user_without_range_gets_a_clear_error() {
    if !common::require(
        nix_is_root() && Path::new("/usr/bin/setpriv").exists(),
        "needs root and setpriv to run the helper as `nobody`",
    ) {
        return;
    }
    let job = sh("true", 0);
    match Sandbox::spawn(&job.spec, &as_user("nobody", "nogroup")).and_then(|r| r.wait()) {
        Err(SandboxError::Setup { message }) => {
            assert!(
                message.contains("no subordinate uid range")
                    && message.contains("usermod --add-subuids"),
                "{message}"
            )
        }
        other => panic!("expected a setup error, got {other:?}"),
    }
}
