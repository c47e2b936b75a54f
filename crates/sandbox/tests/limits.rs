//! The sandbox's rlimits against hostile commands: a process flood stops at
//! `max_processes` (counted per job, not shared with a concurrent job using the same ids),
//! files stop at `max_file_size` (SIGXFSZ, or "File too large" when the signal is ignored),
//! and core dumps are off and cannot be turned back on. They need root (the CI runs as root).

mod common;

use std::time::Duration;

use common::{log, nix_is_root, require, sh, Job};
use cryo_sandbox::{BindMount, ExitStatusKind, Owner};

/// True (and says why) when these tests cannot run; fails under `CI=true`.
fn skip() -> bool {
    !require(nix_is_root(), "these tests run the helper as root")
}

/// dash gives up at the first failed fork ("Cannot fork"); the rest uses builtins only,
/// because every process slot may be taken.
const FLOOD: &str =
    "sh -c 'i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done' 2>/tmp/err; \
    echo status=$?; n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo pids=$n; \
    read l < /tmp/err; echo \"err=$l\"";

fn pids(text: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix("pids="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"))
}

fn flood_job(limit: u64, prefix: &str, suffix: &str, sync: &std::path::Path) -> Job {
    let mut job = sh(&format!("{prefix}{FLOOD}; {suffix}"), 1000);
    job.spec.limits.max_processes = Some(limit);
    job.spec.binds.push(BindMount {
        source: sync.into(),
        target: "/sync".into(),
        writable: true,
        owner: Some(Owner {
            uid: 1000,
            gid: 1000,
        }),
    });
    job
}

#[test]
fn process_flood_stops_at_the_limit_of_each_job() {
    if skip() {
        return;
    }
    const LIMIT: u64 = 24;
    let sync = tempfile::tempdir().unwrap();
    // A fills its quota and holds it until B has filled its own: with a limit shared by
    // both jobs (same outside uid), B could not start a single process.
    let a = flood_job(
        LIMIT,
        "",
        "touch /sync/a-full; while [ ! -e /sync/b-done ]; do :; done",
        sync.path(),
    );
    let b = flood_job(
        LIMIT,
        "while [ ! -e /sync/a-full ]; do :; done; ",
        "touch /sync/b-done",
        sync.path(),
    );
    let (oa, ob) = std::thread::scope(|s| {
        let ha = s.spawn(|| a.run());
        let hb = s.spawn(|| b.run());
        (ha.join().unwrap(), hb.join().unwrap())
    });
    for o in [&oa, &ob] {
        let text = log(o);
        assert_eq!(o.exit, ExitStatusKind::Exited(0), "{text}");
        assert!(text.contains("status=2\n"), "{text}");
        assert!(text.contains("Cannot fork"), "{text}");
        // The uid-1000 processes (the shell and its sleeps) plus init (root inside).
        let n = pids(&text);
        assert!((LIMIT - 2..=LIMIT + 1).contains(&n), "{n} pids: {text}");
    }
}

#[test]
fn files_stop_at_the_file_size_limit() {
    if skip() {
        return;
    }
    let script = "head -c 10M /dev/zero > /tmp/a; echo rc=$?; \
        (trap '' XFSZ; exec dd if=/dev/zero of=/tmp/b bs=1M count=10 status=none); echo rc=$?; \
        stat -c %s /tmp/a /tmp/b";
    let mut job = sh(script, 1000);
    job.spec.limits.max_file_size = Some(1 << 20);
    let out = job.run();
    let text = log(&out);
    assert_eq!(out.exit, ExitStatusKind::Exited(0), "{text}");
    // 153 = 128 + SIGXFSZ; with the signal ignored the write fails with EFBIG.
    assert!(text.contains("rc=153\n"), "{text}");
    assert!(text.contains("File too large\nrc=1\n"), "{text}");
    assert!(text.ends_with("1048576\n1048576\n"), "{text}");
}

#[test]
fn core_dumps_are_off_and_stay_off() {
    if skip() {
        return;
    }
    let mut job = sh(
        "ulimit -c; ulimit -H -c; ulimit -c unlimited 2>/dev/null && echo raised || echo refused",
        1000,
    );
    job.spec.limits.timeout = Some(Duration::from_secs(30));
    let out = job.run();
    assert_eq!(log(&out), "0\n0\nrefused\n");
}
