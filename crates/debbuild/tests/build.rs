//! Integration tests on real data: one root prepared from the fixture's build environment,
//! shared by every test of this binary; builds of fixture sources compared byte for byte
//! with Debian's binaries, and synthetic sources. They need root (the CI runs as root).

mod common;

use common::{shared_root, skip};
use cryo_debbuild::{RootError, RootPhase};

#[test]
fn root_is_configured() {
    if skip() {
        return;
    }
    let root = shared_root();
    eprintln!("root prepared in {:?}", root.prepare_time);
    // The README's pool: the 190-package closure (12 of them in their security versions)
    // plus the RPM toolchain's 21 packages; `common::closure` installs every pool package.
    assert_eq!(
        root.info.packages.len(),
        211,
        "{:?}",
        root.info.packages.keys()
    );
    assert_eq!(root.info.packages["perl-base"], "5.36.0-7+deb12u4");
    assert_eq!(root.info.packages["libfaketime"], "0.9.10-2.1");
    let phases: Vec<RootPhase> = root.info.phases.iter().map(|p| p.phase).collect();
    use RootPhase::*;
    // The recorded owners and modes are applied inside the user namespace as root too.
    assert_eq!(
        phases,
        [Unpack, Ownership, Runscripts, Preinstall, Install, Finish]
    );
    let runscripts = String::from_utf8_lossy(&root.info.phases[2].log);
    assert!(
        runscripts.contains("cryo: running base-passwd postinst"),
        "{runscripts}"
    );
    // Set-id files exist, with the archive's modes, and belong to the sandbox's ids only.
    use std::os::unix::fs::MetadataExt;
    let su = std::fs::symlink_metadata(root.dir.join("bin/su")).unwrap();
    assert_eq!(su.mode() & 0o7777, 0o4755);
    assert_eq!(su.uid(), cryo_sandbox::DEFAULT_ROOT_BASE);
    let mut setid = 0;
    for p in walk(&root.dir) {
        let md = std::fs::symlink_metadata(&p).unwrap();
        if md.is_file() && md.mode() & 0o6000 != 0 {
            setid += 1;
            let range = cryo_sandbox::DEFAULT_ROOT_BASE
                ..cryo_sandbox::DEFAULT_ROOT_BASE + cryo_sandbox::RANGE_SIZE;
            assert!(
                range.contains(&md.uid()) && range.contains(&md.gid()),
                "set-id file {} is owned by host ids {}:{}",
                p.display(),
                md.uid(),
                md.gid()
            );
        }
    }
    assert!(setid >= 5, "only {setid} set-id files in the root");
    let passwd = std::fs::read_to_string(root.dir.join("etc/passwd")).unwrap();
    assert!(passwd.starts_with("root:x:0:0:"), "{passwd}");
    assert!(
        passwd.contains("\nbuildd:x:1000:1000:cryo build user:/nonexistent:/bin/sh\n"),
        "{passwd}"
    );
    let group = std::fs::read_to_string(root.dir.join("etc/group")).unwrap();
    assert!(group.contains("\nbuildd:x:1000:\n"), "{group}");
    // tzdata's default answer: the root's local time is UTC, and no TZ is needed.
    let localtime = std::fs::read_link(root.dir.join("etc/localtime")).unwrap();
    assert_eq!(localtime.to_str(), Some("/usr/share/zoneinfo/Etc/UTC"));
    for gone in ["usr/sbin/policy-rc.d", ".cryo-debs", ".cryo-bootstrap"] {
        assert!(!root.dir.join(gone).exists(), "{gone} left in the root");
    }
    // Nothing of cryo's is in the root: a pinned clock is mounted from outside per build.
    assert!(!root.dir.join("run/cryo").exists());
    // A root is never reused or overwritten.
    let err = cryo_debbuild::prepare_root(&common::plan(), &root.dir, &common::helper());
    assert!(matches!(err, Err(RootError::DestNotEmpty(_))), "{err:?}");
}

#[test]
fn plans_that_disagree_with_their_files_are_refused() {
    if skip() {
        return;
    }
    let dest = common::work_dir();
    let mut plan = common::plan();
    plan.install[0].version = "0.0-cryo".into();
    let err = cryo_debbuild::prepare_root(&plan, &dest.path().join("r"), &common::helper());
    assert!(matches!(err, Err(RootError::Mismatch { .. })), "{err:?}");
    let mut plan = common::plan();
    plan.runscripts.push("gcc".into());
    let err = cryo_debbuild::prepare_root(&plan, &dest.path().join("r"), &common::helper());
    assert!(
        matches!(&err, Err(RootError::RunscriptNotPreinstalled(n)) if n == "gcc"),
        "{err:?}"
    );
    assert!(!dest.path().join("r").exists());
}

#[test]
fn base_files_is_identical_to_debians() {
    if skip() {
        return;
    }
    let src = common::fixture_source("b/base-files", "base-files_12.4+deb12u15.dsc");
    let (r, _work) = common::build_on_shared_root(src, common::settings(), Default::default());
    common::assert_identical(&r, "b/base-files", &["base-files_12.4+deb12u15_amd64.deb"]);
    let names: Vec<&str> = r.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "base-files_12.4+deb12u15_amd64.buildinfo",
            "base-files_12.4+deb12u15_amd64.changes",
            "base-files_12.4+deb12u15_amd64.deb"
        ]
    );
    assert_eq!(
        r.build_path,
        "/build/reproducible-path/base-files-12.4+deb12u15"
    );
    let buildinfo = std::fs::read_to_string(&r.outputs[0].path).unwrap();
    assert!(
        buildinfo.contains("Build-Path: /build/reproducible-path/base-files-12.4+deb12u15\n"),
        "{buildinfo}"
    );
    assert!(
        buildinfo.contains("DEB_BUILD_OPTIONS=\"parallel=2\""),
        "{buildinfo}"
    );
}

#[test]
fn libuev_is_identical_to_debians() {
    if skip() {
        return;
    }
    let src = common::fixture_source("libu/libuev", "libuev_2.4.0-1.1+deb12u1.dsc");
    let (r, _work) = common::build_on_shared_root(src, common::settings(), Default::default());
    common::assert_identical(
        &r,
        "libu/libuev",
        &[
            "libuev3_2.4.0-1.1+deb12u1_amd64.deb",
            "libuev-dev_2.4.0-1.1+deb12u1_amd64.deb",
        ],
    );
    assert_eq!(r.build_path, "/build/reproducible-path/libuev-2.4.0");
}

/// Records facts about the build environment into the package.
const FACTS: &str = "{ id -u; id -g; date +%s; umask; pwd; echo \"HOME=$$HOME\"; \
    echo \"LANG=$$LANG LC_ALL=$$LC_ALL\"; echo \"DBO=$$DEB_BUILD_OPTIONS\"; \
    echo \"TZ=$${TZ-unset}\"; echo \"SDE=$$SOURCE_DATE_EPOCH\"; \
    touch /etc/cryo-probe 2>/dev/null && echo etc-writable || echo etc-readonly; \
    echo \"USER=$$USER LOGNAME=$$LOGNAME SHELL=$$SHELL\"; \
    d=$$(mktemp -d /var/tmp/cryo.XXXXXX) && echo var-tmp-writable && rmdir $$d; \
    touch new; test $$(stat -c %Y new) -le $$(date +%s) && echo new-file-not-in-future; \
    stat -c %Y README; \
    } > debian/tmp/usr/share/cryotest/facts";

/// What a test suite waiting for a file's mtime to fall behind `time()` does (it hung for
/// 45 minutes under libfaketime with `NO_FAKE_STAT=1`, whose `time()` was years behind
/// every new file's mtime). Bounded, so the old behaviour fails rather than hangs.
const MTIME_WAIT: &str = "perl -e 'open F, q(>stamp) or die; close F; \
    $$m = (stat q(stamp))[9]; $$n = 0; \
    until ($$m < time) { sleep 1; die qq(mtime $$m never fell behind time()\\n) if ++$$n > 20 } \
    print qq(waited $$n s\\n)' > debian/tmp/usr/share/cryotest/facts";

fn facts(r: &cryo_debbuild::BuildResult) -> Vec<String> {
    assert!(r.success(), "{}", String::from_utf8_lossy(&r.log));
    let deb = r
        .outputs
        .iter()
        .find(|o| o.name == "cryotest_1.0_all.deb")
        .unwrap_or_else(|| panic!("no deb: {:?}", r.outputs));
    let dir = tempfile::tempdir().unwrap();
    cryo_debbuild::deb::extract_data(&deb.path, dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join("usr/share/cryotest/facts")).unwrap();
    text.lines().map(str::to_owned).collect()
}

fn pinned(clock: cryo_prjconf::Clock) -> cryo_debbuild::BuildSettings {
    let mut settings = common::settings();
    settings.clock = clock;
    settings
}

#[test]
fn builds_run_as_the_build_user_with_the_faithful_environment_and_pinned_clock() {
    if skip() {
        return;
    }
    let (src, _src_dir) = common::synthetic_source(FACTS);
    let settings = pinned(cryo_prjconf::Clock::Changelog);
    let (r, _work) = common::build_on_shared_root(src, settings, Default::default());
    let f = facts(&r);
    assert_eq!(r.source_date_epoch, Some(common::SYNTHETIC_DATE));
    assert_eq!(&f[..2], ["1000", "1000"], "{f:?}");
    let date: i64 = f[2].parse().unwrap();
    // The clock starts at the changelog date and runs from there.
    assert!(
        (common::SYNTHETIC_DATE..common::SYNTHETIC_DATE + 600).contains(&date),
        "{f:?}"
    );
    let sde = format!("SDE={}", common::SYNTHETIC_DATE);
    assert_eq!(
        &f[3..14],
        [
            "0022",
            "/build/reproducible-path/cryotest-1.0",
            "HOME=/nonexistent",
            "LANG=C.UTF-8 LC_ALL=C.UTF-8",
            "DBO=parallel=2",
            "TZ=unset",
            sde.as_str(),
            "etc-readonly",
            "USER=buildd LOGNAME=buildd SHELL=/bin/sh",
            "var-tmp-writable",
            "new-file-not-in-future",
        ]
    );
    // The source's own file times are seen on the same clock: not after the build began.
    let readme: i64 = f[14].parse().unwrap();
    assert!(readme <= date, "{f:?}");
    let log = String::from_utf8_lossy(&r.log);
    assert!(
        log.contains("LD_PRELOAD=/run/cryo/libcryo-clock.so"),
        "{log}"
    );
}

#[test]
fn real_clock_is_the_default_and_left_alone() {
    if skip() {
        return;
    }
    let (src, _src_dir) = common::synthetic_source(FACTS);
    let settings = common::settings();
    assert_eq!(settings.clock, cryo_prjconf::Clock::Real);
    let (r, _work) = common::build_on_shared_root(src, settings, Default::default());
    let f = facts(&r);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let date: i64 = f[2].parse().unwrap();
    assert!((now - 600..=now).contains(&date), "{f:?}");
    assert_eq!(f[12], "var-tmp-writable", "{f:?}");
    assert_eq!(f[13], "new-file-not-in-future", "{f:?}");
    let log = String::from_utf8_lossy(&r.log);
    assert!(!log.contains("LD_PRELOAD"), "{log}");
}

/// The regression: a test suite waiting for a new file's mtime to fall behind `time()`
/// finishes under the default clock and under both pinned clocks.
#[test]
fn waiting_for_an_mtime_to_pass_ends_under_every_clock() {
    if skip() {
        return;
    }
    use cryo_prjconf::Clock;
    for clock in [Clock::Real, Clock::Changelog, Clock::Fixed(1_000_000_000)] {
        let (src, _src_dir) = common::synthetic_source(MTIME_WAIT);
        let mut settings = pinned(clock);
        // A hang must fail the test quickly, not hold it for the default 150 minutes.
        settings.idle_timeout = std::time::Duration::from_secs(60);
        let (r, _work) = common::build_on_shared_root(src, settings, Default::default());
        let f = facts(&r);
        assert!(f[0].starts_with("waited "), "{clock:?}: {f:?}");
    }
}

#[test]
fn a_build_silent_for_the_idle_timeout_is_killed() {
    if skip() {
        return;
    }
    let (src, _src_dir) = common::synthetic_source("echo cryo-goes-quiet; sleep 600");
    let mut settings = common::settings();
    settings.idle_timeout = std::time::Duration::from_secs(3);
    let started = std::time::Instant::now();
    let (r, _work) = common::build_on_shared_root(src, settings, Default::default());
    assert_eq!(r.status, cryo_sandbox::ExitStatusKind::IdleTimedOut);
    assert!(started.elapsed() < std::time::Duration::from_secs(300));
    let log = String::from_utf8_lossy(&r.log);
    assert!(log.contains("cryo-goes-quiet"), "{log}");
}

#[test]
fn failing_build_returns_status_and_log_without_outputs() {
    if skip() {
        return;
    }
    let (src, _src_dir) = common::synthetic_source("echo cryo-rules-fails-here; exit 1");
    let (r, _work) = common::build_on_shared_root(src, common::settings(), Default::default());
    assert_eq!(
        r.status,
        cryo_sandbox::ExitStatusKind::Exited(2),
        "{:?}",
        r.status
    );
    assert!(!r.success());
    assert!(r.outputs.is_empty(), "{:?}", r.outputs);
    let log = String::from_utf8_lossy(&r.log);
    assert!(log.contains("cryo-rules-fails-here"), "{log}");
    assert!(log.contains("dpkg-buildpackage: error"), "{log}");
}

#[test]
fn mxml_is_identical_to_debians() {
    if skip() {
        return;
    }
    let src = common::fixture_source("m/mxml", "mxml_3.3.1-1+deb13u1~deb12u1.dsc");
    let (r, _work) = common::build_on_shared_root(src, common::settings(), Default::default());
    common::assert_identical(
        &r,
        "m/mxml",
        &[
            "libmxml1_3.3.1-1+deb13u1~deb12u1_amd64.deb",
            "libmxml-dev_3.3.1-1+deb13u1~deb12u1_amd64.deb",
        ],
    );
}

#[test]
fn arch_all_sources_are_identical_to_debians() {
    if skip() {
        return;
    }
    for (dir, dsc, deb) in [
        (
            "d/debootstrap",
            "debootstrap_1.0.128+nmu2+deb12u2.dsc",
            "debootstrap_1.0.128+nmu2+deb12u2_all.deb",
        ),
        (
            "k/kernel-wedge",
            "kernel-wedge_2.106~deb12u1.dsc",
            "kernel-wedge_2.106~deb12u1_all.deb",
        ),
    ] {
        let src = common::fixture_source(dir, dsc);
        let (r, _work) = common::build_on_shared_root(src, common::settings(), Default::default());
        common::assert_identical(&r, dir, &[deb]);
    }
}

/// Every path under `dir` (not following symlinks).
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let md = std::fs::symlink_metadata(&p).unwrap();
        if md.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        }
        out.push(p);
    }
    out
}
