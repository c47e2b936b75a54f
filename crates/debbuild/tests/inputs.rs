//! Input checking that needs no root: settings from the fixture prjconf, source packages
//! checked against their .dsc, build paths, the clock policy, .deb reading (also as an
//! ordinary user) and the removal of trees that need no sandbox.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use cryo_debbuild::deb::EntryKind;
use cryo_debbuild::{
    build_path, check_source, deb, pinned_epoch, BuildKind, BuildSettings, ClockError, DebError,
    SourceError, SourceFiles,
};
use cryo_prjconf::{BuildPathTemplate, Clock};

fn base_files() -> SourceFiles {
    common::fixture_source("b/base-files", "base-files_12.4+deb12u15.dsc")
}

#[test]
fn settings_come_from_the_prjconf() {
    let s = common::settings();
    assert_eq!(s.deb_build_options.as_deref(), Some("parallel=2"));
    assert_eq!(s.deb_build_profiles, None);
    assert_eq!(s.clock, Clock::Real);
    assert_eq!((s.build_user.uid, s.build_user.gid), (1000, 1000));
    assert_eq!((s.locale.as_str(), s.umask), ("C.UTF-8", 0o022));
    assert_eq!(s.build_path.as_str(), BuildPathTemplate::DEFAULT);
    let d = BuildSettings::default();
    assert_eq!(d.deb_build_options, None);
    assert_eq!(d.timeout, std::time::Duration::from_secs(10_800));
    let flags = [BuildKind::Full, BuildKind::ArchOnly, BuildKind::IndepOnly].map(BuildKind::flag);
    assert_eq!(flags, ["-b", "-B", "-A"]);
}

#[test]
fn sources_are_checked_against_their_dsc() {
    let src = check_source(&base_files()).unwrap();
    assert_eq!(
        (src.name.as_str(), src.version.as_str()),
        ("base-files", "12.4+deb12u15")
    );
    assert_eq!(src.files.len(), 2);
    assert!(src.files.values().all(|p| p.is_absolute()));

    let libuev = common::fixture_source("libu/libuev", "libuev_2.4.0-1.1+deb12u1.dsc");
    let checked = check_source(&libuev).unwrap();
    assert_eq!(checked.upstream, "2.4.0");
    let t = BuildPathTemplate::parse(BuildPathTemplate::DEFAULT).unwrap();
    let (dir, parent) = build_path(&t, &checked).unwrap();
    assert_eq!(dir, "/build/reproducible-path/libuev-2.4.0");
    assert_eq!(parent, "/build/reproducible-path");
    let top = BuildPathTemplate::parse("/%{SRC}").unwrap();
    assert!(matches!(
        build_path(&top, &checked),
        Err(SourceError::BadBuildPath(_))
    ));

    let mut missing = base_files();
    missing.files.clear();
    let err = check_source(&missing);
    assert!(
        matches!(&err, Err(SourceError::Missing(n)) if n == "base-files_12.4+deb12u15.tar.xz"),
        "{err:?}"
    );

    let mut extra = base_files();
    extra.files.push(common::mirror().join("debian-12.prjconf"));
    assert!(matches!(
        check_source(&extra),
        Err(SourceError::Unlisted(_))
    ));

    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("base-files_12.4+deb12u15.tar.xz");
    let mut data = std::fs::read(&base_files().files[0]).unwrap();
    data[100] ^= 1;
    std::fs::write(&fake, &data).unwrap();
    let mut tampered = base_files();
    tampered.files = vec![fake];
    let err = check_source(&tampered);
    assert!(
        matches!(
            err,
            Err(SourceError::Mismatch {
                what: "SHA-256",
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn pinned_clocks_start_at_the_changelog_or_a_fixed_date() {
    assert_eq!(pinned_epoch(Clock::Real, 5).unwrap(), None);
    assert_eq!(pinned_epoch(Clock::Changelog, 5).unwrap(), Some(5));
    assert_eq!(pinned_epoch(Clock::Fixed(7), 5).unwrap(), Some(7));
    assert!(matches!(
        pinned_epoch(Clock::Changelog, -1),
        Err(ClockError::NegativeDate(-1))
    ));
}

#[test]
fn debs_are_read_without_running_anything() {
    let pool = common::mirror().join("debian/pool/main");
    let path = pool.join("b/base-files/base-files_12.4+deb12u15_amd64.deb");
    let control = deb::read_control(&path).unwrap();
    assert_eq!(control.get("Package"), Some("base-files"));
    assert_eq!(control.get("Essential"), Some("yes"));
    let scripts = deb::read_control_members(&path, &["postinst", "preinst"]).unwrap();
    assert_eq!(scripts.keys().collect::<Vec<_>>(), ["postinst"]);
    let dest = tempfile::tempdir().unwrap();
    deb::extract_data(&path, dest.path()).unwrap();
    let version = std::fs::read_to_string(dest.path().join("etc/debian_version")).unwrap();
    assert_eq!(version, "12.15\n");

    let not_a_deb = pool.join("b/base-files/base-files_12.4+deb12u15.dsc");
    assert!(matches!(
        deb::read_control(&not_a_deb),
        Err(DebError::Ar { .. })
    ));
    let missing = Path::new("/nonexistent/x.deb");
    assert!(matches!(
        deb::read_control(missing),
        Err(DebError::Open { .. })
    ));
}

#[test]
fn unprivileged_extraction_lists_what_the_archive_asks_for() {
    use std::os::unix::fs::MetadataExt;
    let pool = common::mirror().join("debian/pool/main");
    let dest = tempfile::tempdir().unwrap();
    let util_linux = pool.join("u/util-linux/util-linux_2.38.1-5+deb12u3_amd64.deb");
    let base_files = pool.join("b/base-files/base-files_12.4+deb12u15_amd64.deb");
    let mut entries = deb::extract_data_listing(&base_files, dest.path()).unwrap();
    entries.extend(deb::extract_data_listing(&util_linux, dest.path()).unwrap());
    let find = |p: &str| {
        entries
            .iter()
            .find(|e| e.path == Path::new(p))
            .unwrap_or_else(|| panic!("{p} not listed"))
    };
    let e = find("var/local");
    assert_eq!(
        (e.kind.clone(), e.uid, e.gid, e.mode),
        (EntryKind::Directory, 0, 50, 0o2775)
    );
    assert_eq!((find("").uid, find("").mode), (0, 0o755));
    assert_eq!(
        (find("bin/su").kind.clone(), find("bin/su").mode),
        (EntryKind::Other, 0o4755)
    );
    assert!(entries.iter().any(|e| matches!(e.kind, EntryKind::Symlink)));
    // On disk everything belongs to the current user; the modes are the archive's.
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let md = std::fs::metadata(dest.path().join("var/local")).unwrap();
    assert_eq!((md.uid(), md.mode() & 0o7777), (me, 0o2775));
    // Except set-id bits of files: those are applied inside the sandbox, never on the host.
    let su = std::fs::symlink_metadata(dest.path().join("bin/su")).unwrap();
    assert_eq!((su.uid(), su.mode() & 0o7777), (me, 0o755));
    let version = std::fs::read_to_string(dest.path().join("etc/debian_version")).unwrap();
    assert_eq!(version, "12.15\n");
}

#[test]
fn removing_missing_or_relative_trees() {
    let helper = common::helper();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    cryo_debbuild::remove_tree(&missing, dir.path(), &helper).unwrap();
    assert!(matches!(
        cryo_debbuild::remove_tree(Path::new("rel"), dir.path(), &helper),
        Err(cryo_debbuild::CleanupError::Relative(_))
    ));
    // A tree of the daemon's own, with a read-only directory, needs no sandbox.
    let tree = dir.path().join("t");
    std::fs::create_dir_all(tree.join("ro/sub")).unwrap();
    std::fs::write(tree.join("ro/sub/f"), "x").unwrap();
    std::fs::set_permissions(tree.join("ro"), std::fs::Permissions::from_mode(0o555)).unwrap();
    cryo_debbuild::remove_tree(&tree, Path::new("/nonexistent"), &helper).unwrap();
    assert!(!tree.exists());
}

#[test]
fn builds_without_the_build_user_fail_early() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("etc")).unwrap();
    std::fs::write(
        root.path().join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nbuildd:x:1000:1000::/nonexistent:/bin/sh\n",
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let spec = cryo_debbuild::BuildSpec {
        root_dir: root.path().into(),
        source: base_files(),
        settings: common::settings(),
        kind: BuildKind::Full,
        work_dir: work.path().join("w"),
    };
    let mut spec = spec;
    spec.settings.build_user.uid = 1234;
    let err = cryo_debbuild::build(&spec, &common::helper());
    assert!(
        matches!(
            err,
            Err(cryo_debbuild::BuildError::NoBuildUser { uid: 1234 })
        ),
        "{err:?}"
    );
    assert!(!work.path().join("w").exists(), "nothing ran");
}
