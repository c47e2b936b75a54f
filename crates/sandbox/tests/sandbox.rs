//! Integration tests of the sandbox against a real Debian root built from fixture .debs.
//! They need root (the CI runs as root); as another user they print why and return (and fail under `CI=true`).

mod common;

use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use common::{log, nix_is_root, require, sh, Job};
use cryo_sandbox::{
    BindMount, ExitStatusKind, HelperCommand, LogLimitAction, Owner, Sandbox, SandboxError,
    DEFAULT_ROOT_BASE,
};

/// True (and says why) when these tests cannot run; fails under `CI=true`.
fn skip() -> bool {
    !require(
        nix_is_root(),
        "these tests run the helper as root (see tests/unprivileged.rs otherwise)",
    )
}

fn bind(
    job: &Job,
    name: &str,
    target: &str,
    writable: bool,
    owner: Option<Owner>,
) -> (BindMount, std::path::PathBuf) {
    let src = job.dir.path().join(name);
    std::fs::create_dir_all(&src).unwrap();
    (
        BindMount {
            source: src.clone(),
            target: target.into(),
            writable,
            owner,
        },
        src,
    )
}

#[test]
fn hostname_uid_and_loopback_only_network() {
    if skip() {
        return;
    }
    let script = "cat /proc/sys/kernel/hostname; id -u; id -g; echo cwd=$(pwd); \
                  tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; \
                  bash -c 'echo > /dev/tcp/127.0.0.1/9' 2>&1; ls /dev | tr '\\n' ' '";
    let mut job = sh(script, 1000);
    job.spec.command.cwd = "/tmp".into();
    let out = job.run();
    let text = log(&out);
    assert_eq!(out.exit, ExitStatusKind::Exited(0), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        &lines[..5],
        ["cryo-build", "1000", "1000", "cwd=/tmp", "lo"],
        "{text}"
    );
    // Loopback is up: a closed port refuses instead of "Network is unreachable".
    assert!(lines[5].contains("Connection refused"), "{text}");
    let dev = lines.last().copied().unwrap_or_default();
    for node in [
        "null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "fd", "stdin",
        "stdout", "stderr",
    ] {
        assert!(
            dev.split(' ').any(|n| n == node),
            "/dev lacks {node}: {text}"
        );
    }

    let mut job = sh("cat /proc/sys/kernel/hostname; echo $$", 0);
    job.spec.hostname = "other-host".into();
    let out = job.run();
    // The shell is pid 2: init (pid 1) of a fresh pid namespace is its parent.
    assert_eq!(log(&out), "other-host\n2\n");
}

#[test]
fn chown_inside_maps_to_base_outside_and_lower_is_untouched() {
    if skip() {
        return;
    }
    let mut job = sh("touch /out/f && chown 100:101 /out/f && echo changed > /etc/motd-test && dd if=/dev/zero of=/dev/full bs=1 count=1 2>/dev/null; echo ok", 0);
    let (b, out_dir) = bind(&job, "out", "/out", true, Some(Owner { uid: 0, gid: 0 }));
    job.spec.binds.push(b);
    let out = job.run();
    assert_eq!(log(&out), "ok\n");
    let md = std::fs::metadata(out_dir.join("f")).unwrap();
    assert_eq!(
        (md.uid(), md.gid()),
        (DEFAULT_ROOT_BASE + 100, DEFAULT_ROOT_BASE + 101)
    );
    let root = common::test_root();
    assert!(!root.lower.join("etc/motd-test").exists());
    assert_eq!(
        std::fs::read_to_string(job.upper().join("etc/motd-test")).unwrap(),
        "changed\n"
    );
}

#[test]
fn writes_outside_permitted_places_fail() {
    if skip() {
        return;
    }
    let script = "echo x > /etc/new && echo etc-writable; \
                  echo x > /tmp/ok && echo tmp-ok; \
                  echo x > /src/new && echo src-writable; \
                  echo x > /build/ok && echo build-ok; \
                  echo x > /dev/null && echo null-ok; \
                  echo y > /proc/self/comm && echo proc-writable; true";
    let mut job = sh(script, 0);
    let (src, _) = bind(&job, "src", "/src", false, None);
    let (build, _) = bind(&job, "build", "/build", false, None);
    job.spec.binds.push(src);
    // /build is a read-only bind, so build-ok also needs the next bind to be writable:
    job.spec.binds.push(BindMount {
        writable: true,
        owner: Some(Owner { uid: 0, gid: 0 }),
        ..build
    });
    job.spec.landlock.write_root_view = false;
    let out = job.run();
    // Landlock denies /etc and /proc; the read-only bind gives EROFS.
    assert_eq!(
        log(&out),
        "/bin/sh: 1: cannot create /etc/new: Permission denied\ntmp-ok\n\
         /bin/sh: 1: cannot create /src/new: Read-only file system\nbuild-ok\nnull-ok\n\
         /bin/sh: 1: cannot create /proc/self/comm: Permission denied\n"
    );

    // With the root view writable, /etc is writable but /proc still is not.
    let job = sh(
        "echo x > /etc/new && echo etc-ok; echo y > /proc/self/comm && echo proc-writable; true",
        0,
    );
    assert_eq!(
        log(&job.run()),
        "etc-ok\n/bin/sh: 1: cannot create /proc/self/comm: Permission denied\n"
    );
}

#[test]
fn concurrent_overlays_do_not_see_each_other() {
    if skip() {
        return;
    }
    let root = common::test_root();
    let sync = tempfile::tempdir().unwrap();
    let script = |me: &str, other: &str| {
        format!("echo {me} > /etc/marker-{me} && touch /sync/{me} && while [ ! -e /sync/{other} ]; do sleep 0.05; done; ls /etc | grep marker")
    };
    let mk = |me: &str, other: &str| {
        let mut job = sh(&script(me, other), 0);
        job.spec.binds.push(BindMount {
            source: sync.path().into(),
            target: "/sync".into(),
            writable: true,
            owner: Some(Owner { uid: 0, gid: 0 }),
        });
        job
    };
    let (a, b) = (mk("a", "b"), mk("b", "a"));
    let (oa, ob) = std::thread::scope(|s| {
        let ha = s.spawn(|| a.run());
        let hb = s.spawn(|| b.run());
        (ha.join().unwrap(), hb.join().unwrap())
    });
    assert_eq!(log(&oa), "marker-a\n");
    assert_eq!(log(&ob), "marker-b\n");
    assert!(!root.lower.join("etc/marker-a").exists() && !root.lower.join("etc/marker-b").exists());
}

#[test]
fn timeout_kills_the_whole_namespace() {
    if skip() {
        return;
    }
    let mut job = sh("sleep 1000 & echo started; sleep 1000", 0);
    job.spec.limits.timeout = Some(Duration::from_secs(1));
    // Returning at all proves the background sleep died: it holds the log pipe open.
    let out = job.run();
    assert_eq!(out.exit, ExitStatusKind::TimedOut);
    assert_eq!(log(&out), "started\n");
}

#[test]
fn log_cap_truncates_without_blocking_or_kills_on_request() {
    if skip() {
        return;
    }
    let mut job = sh("yes | head -c 10M; echo done >&2", 1000);
    job.spec.limits.max_log_bytes = 1 << 20;
    let out = job.run();
    assert_eq!(out.exit, ExitStatusKind::Exited(0));
    assert!(out.log_truncated);
    assert!(out.log.starts_with(b"y\ny\n"));
    let text = log(&out);
    assert!(
        text.ends_with(&format!(
            "[cryo-sandbox: log truncated at {} bytes; {} further bytes were dropped]\n",
            1 << 20,
            10 * (1 << 20) + 5 - (1 << 20)
        )),
        "{}",
        &text[text.len() - 200..]
    );

    let mut job = sh("yes", 1000);
    job.spec.limits.max_log_bytes = 4096;
    job.spec.limits.on_log_limit = LogLimitAction::Kill;
    let out = job.run();
    assert_eq!(out.exit, ExitStatusKind::OutputLimit);
    assert!(out.log_truncated);
}

#[test]
fn exit_codes_and_signals_propagate() {
    if skip() {
        return;
    }
    assert_eq!(sh("exit 42", 1000).run().exit, ExitStatusKind::Exited(42));
    assert_eq!(
        sh("kill -TERM $$", 1000).run().exit,
        ExitStatusKind::Signaled(libc::SIGTERM)
    );
    assert!(sh("true", 1000).run().success());
}

#[test]
fn environment_is_exactly_the_given_one_and_umask_applies() {
    if skip() {
        return;
    }
    let mut job = common::overlay_job(&["/usr/bin/env"], 1000);
    job.spec
        .command
        .env
        .insert("HOME".into(), "/nonexistent".into());
    job.spec
        .command
        .env
        .insert("WITH SPACE".into(), "a b=c".into());
    let out = job.run();
    assert_eq!(
        log(&out),
        format!(
            "HOME=/nonexistent\nLC_ALL=C\nPATH={}\nWITH SPACE=a b=c\n",
            common::PATH
        )
    );

    let mut job = sh(
        "umask; touch /tmp/f; mkdir /tmp/d; stat -c %a /tmp/f /tmp/d",
        1000,
    );
    job.spec.command.umask = 0o027;
    assert_eq!(log(&job.run()), "0027\n640\n750\n");
}

#[test]
fn missing_command_and_bad_cwd_are_clear_errors() {
    if skip() {
        return;
    }
    let job = common::overlay_job(&["no-such-command", "x"], 1000);
    match Sandbox::run(&job.spec, common::helper()) {
        Err(SandboxError::Exec { message }) => {
            assert!(
                message.contains("`no-such-command` not found in PATH="),
                "{message}"
            )
        }
        other => panic!("expected an exec error, got {other:?}"),
    }
    let mut job = sh("true", 1000);
    job.spec.command.cwd = "/does/not/exist".into();
    match Sandbox::run(&job.spec, common::helper()) {
        Err(SandboxError::Exec { message }) => {
            assert!(message.contains("/does/not/exist"), "{message}")
        }
        other => panic!("expected an exec error, got {other:?}"),
    }
}

#[test]
fn kill_handle_cancels_a_running_job() {
    if skip() {
        return;
    }
    let mut job = sh("touch /flag/started; sleep 1000", 0);
    let (b, flag) = bind(&job, "flag", "/flag", true, Some(Owner { uid: 0, gid: 0 }));
    job.spec.binds.push(b);
    let running = Sandbox::spawn(&job.spec, &HelperCommand::new(common::helper())).unwrap();
    let handle = running.kill_handle();
    // Kill only once the command runs (init has changed credentials by then).
    while !flag.join("started").exists() {
        std::thread::sleep(Duration::from_millis(20));
    }
    handle.kill();
    let out = running.wait().unwrap();
    assert_eq!(out.exit, ExitStatusKind::Cancelled);
    handle.kill(); // harmless after the end
}

#[test]
fn writable_root_mode_writes_the_directory_itself() {
    if skip() {
        return;
    }
    let root = common::test_root();
    let mut job = sh(
        "mkdir /etc && echo configured > /etc/state && mkdir -p /var/lib/x && id -u",
        0,
    );
    let dir = job.dir.path().join("rootdir");
    std::fs::create_dir(&dir).unwrap();
    job.spec.root = cryo_sandbox::RootFs::Writable { dir: dir.clone() };
    for d in ["bin", "lib", "lib64", "usr"] {
        job.spec.binds.push(BindMount {
            source: root.lower.join(d),
            target: format!("/{d}").into(),
            writable: false,
            owner: None,
        });
    }
    let out = job.run();
    assert_eq!(log(&out), "0\n");
    assert_eq!(
        std::fs::read_to_string(dir.join("etc/state")).unwrap(),
        "configured\n"
    );
    let md = std::fs::metadata(dir.join("var/lib/x")).unwrap();
    assert_eq!(md.uid(), DEFAULT_ROOT_BASE);
}

#[test]
fn host_cgroup_paths_are_hidden() {
    if skip() {
        return;
    }
    let out = sh("cat /proc/self/cgroup", 1000).run();
    let text = log(&out);
    assert!(out.success(), "{text}");
    assert!(!text.is_empty());
    // A new cgroup namespace rooted at the helper's cgroup: every path is `/`.
    for line in text.lines() {
        assert!(line.ends_with(":/"), "{text}");
    }
}
