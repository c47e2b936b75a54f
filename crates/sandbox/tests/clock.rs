//! The pinned clock library (`libcryo-clock.so`) run under real programs of this host:
//! everything they observe about time is shifted by one offset, consistently, and times
//! written and read back are unchanged.

use std::collections::BTreeMap;
use std::process::Command;

use cryo_sandbox::clock;

const EPOCH: i64 = 1_400_000_000;

fn run(dir: &std::path::Path, script: &str) -> String {
    let lib = clock::install(&dir.join("lib")).unwrap();
    let mut env = BTreeMap::new();
    clock::env(EPOCH, clock::now(), &mut env);
    env.insert("LD_PRELOAD".into(), lib.source.display().to_string());
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .envs(&env)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn nums(s: &str) -> Vec<i64> {
    s.split_whitespace().map(|w| w.parse().unwrap()).collect()
}

#[test]
fn clocks_start_at_the_pinned_epoch_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let v = nums(&run(dir.path(), "date +%s; sleep 1.1; date +%s"));
    assert!((EPOCH..EPOCH + 30).contains(&v[0]), "{v:?}");
    assert!(v[1] > v[0], "the pinned clock must run: {v:?}");
}

#[test]
fn a_new_file_is_never_in_the_future() {
    // What hung a Perl test suite under libfaketime with NO_FAKE_STAT: waiting for a new
    // file's mtime to fall behind time().
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        "touch f; stat -c %Y f; date +%s; \
         perl -e '$m = (stat q(f))[9]; $n = 0; until ($m < time) { sleep 1; die if ++$n > 5 } print qq(ok\\n)'",
    );
    let lines: Vec<&str> = out.lines().collect();
    let (mtime, now): (i64, i64) = (lines[0].parse().unwrap(), lines[1].parse().unwrap());
    assert!(mtime <= now && now - mtime < 30, "{out}");
    assert_eq!(lines[2], "ok");
}

#[test]
fn times_written_read_back_unchanged_and_are_stored_shifted() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        "touch -d @1300000000 a; stat -c %Y a; cp -p a b; stat -c %Y b; \
         python3 -c 'import os; print(int(os.stat(\"b\").st_mtime))'; \
         mkdir x; tar -cf t.tar a; cd x; tar -xf ../t.tar; stat -c %Y a; \
         perl -e 'utime 1200000000, 1200000000, q(a); print((stat q(a))[9], qq(\\n))'",
    );
    assert_eq!(
        nums(&out),
        [
            1_300_000_000,
            1_300_000_000,
            1_300_000_000,
            1_300_000_000,
            1_200_000_000
        ]
    );
    // Outside, the real file carries the time plus the offset.
    let real = std::fs::metadata(dir.path().join("a")).unwrap();
    let real = real
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(real > 1_300_000_000 + (clock::now() - EPOCH) - 60, "{real}");
}

#[test]
fn without_an_offset_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let lib = clock::install(&dir.path().join("lib")).unwrap();
    let out = Command::new("/bin/sh")
        .args(["-c", "date +%s"])
        .env("LD_PRELOAD", &lib.source)
        .env_remove(clock::OFFSET_VAR)
        .output()
        .unwrap();
    let t: i64 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!((t - clock::now()).abs() < 30);
}

/// fakeroot preloads itself before the clock (`dpkg-buildpackage` runs `fakeroot
/// debian/rules clean` for packages without `Rules-Requires-Root: no`): its wrappers call
/// the next definition, ours, which must not call back into fakeroot's.
#[test]
fn works_under_fakeroot() {
    if !std::path::Path::new("/usr/bin/fakeroot").exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "fakeroot is missing (.ci/packages installs it)"
        );
        eprintln!("skipped: fakeroot is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        "fakeroot sh -c 'touch -d @1300000000 f; stat -c %Y f; chown 0:0 f; ls -ln --time-style=+%s f' ",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1300000000", "{out}");
    assert!(lines[1].contains(" 0 0 0 1300000000 f"), "{out}");
}
