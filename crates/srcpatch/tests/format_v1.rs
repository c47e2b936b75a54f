//! A synthetic `1.0` source (orig tarball + .diff.gz, no debian/source/format): patches
//! go straight into the tree, and `dpkg-source -b` carries them in the new .diff.gz.

mod common;

use std::path::Path;

use common::{replace_patch, run, unpack};
use cryo_srcpatch::{
    add_changelog_entry, apply_patches, diff_trees, next_version, ApplyOptions, ChangelogEntry,
    DiffLimits, NamedPatch, PatchError, ReleaseCounters, SourceFormat, Suffix, Urgency,
    VersionPattern,
};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Build foo_1.0-1 (format 1.0) in `dir` and return its unpacked tree.
fn make_v1_source(dir: &Path) -> std::path::PathBuf {
    let src = dir.join("foo-1.0");
    let body: String = (1..=12).map(|i| format!("line {i}\n")).collect();
    write(&src, "hello.txt", &body);
    run(dir, "tar", &["czf", "foo_1.0.orig.tar.gz", "foo-1.0"]);
    write(
        &src,
        "debian/changelog",
        "foo (1.0-1) bookworm; urgency=low\n\n  * Initial release.\n\n -- A Maintainer <a@example.org>  Mon, 26 Dec 2022 16:30:00 +0100\n",
    );
    write(
        &src,
        "debian/control",
        "Source: foo\nMaintainer: A Maintainer <a@example.org>\n\nPackage: foo\nArchitecture: all\nDescription: test package\n test package\n",
    );
    write(&src, "debian/rules", "#!/usr/bin/make -f\n%:\n\tdh $@\n");
    run(dir, "dpkg-source", &["-b", "foo-1.0"]);
    std::fs::remove_dir_all(&src).unwrap();
    unpack(&dir.join("foo_1.0-1.dsc"), dir, "foo-1.0")
}

#[test]
fn v1_patches_are_applied_to_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = make_v1_source(tmp.path());
    let pristine = tmp.path().join("pristine");
    std::fs::create_dir(&pristine).unwrap();
    run(tmp.path(), "cp", &["-a", "foo-1.0/.", "pristine/"]);
    assert_eq!(SourceFormat::detect(&tree).unwrap(), SourceFormat::V1);

    let mut diff = replace_patch(&tree, "hello.txt", "line 6", "line six (fixed)");
    diff.push_str(
        "--- /dev/null\n+++ b/debian/README.security\n@@ -0,0 +1 @@\n+CVE-2099-0002 fixed.\n",
    );
    let p = NamedPatch::new("CVE-2099-0002.patch", diff).unwrap();
    let applied = apply_patches(&tree, &[p], &ApplyOptions::default()).unwrap();
    assert_eq!(applied[0].stored_as, None);
    assert!(!tree.join("debian/patches").exists());
    assert!(!tree.join(".pc").exists());
    let hello = std::fs::read_to_string(tree.join("hello.txt")).unwrap();
    assert!(
        hello.contains("line 5\nline six (fixed)\nline 7\n"),
        "{hello}"
    );

    // A failing patch leaves the (already patched) tree as it was.
    let before = tmp.path().join("before");
    std::fs::create_dir(&before).unwrap();
    run(tmp.path(), "cp", &["-a", "foo-1.0/.", "before/"]);
    let bad = NamedPatch::new(
        "bad.patch",
        "--- a/hello.txt\n+++ b/hello.txt\n@@ -1,2 +1,2 @@\n-line one\n+line 1!\n line 2\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+x\n",
    )
    .unwrap();
    let err = apply_patches(&tree, &[bad], &ApplyOptions::default()).unwrap_err();
    assert!(matches!(err, PatchError::DoesNotApply { .. }), "{err}");
    assert!(
        err.to_string().contains("hello.txt: hunk #1 FAILED"),
        "{err}"
    );
    let all = DiffLimits {
        exclude: Vec::new(),
        ..DiffLimits::default()
    };
    assert_eq!(diff_trees(&before, &tree, &all).unwrap().changed_files, 0);

    let pattern: VersionPattern = "+eol12u<CI_CNT>.<B_CNT>".parse().unwrap();
    let counters = ReleaseCounters {
        ci_cnt: 3,
        b_cnt: 1,
    };
    let version = next_version(
        &"1.0-1".parse().unwrap(),
        Suffix::Pattern(&pattern),
        &counters,
    )
    .unwrap();
    add_changelog_entry(
        &tree,
        &ChangelogEntry {
            source: Some("foo".into()),
            version,
            distribution: Some("bookworm-security".into()),
            urgency: Some(Urgency::Medium),
            changes: vec!["Security fix for CVE-2099-0002.".into()],
            cves: vec!["CVE-2099-0002".parse().unwrap()],
            maintainer: "Cryo Builder <cryo@example.org>".into(),
            date: 0,
        },
    )
    .unwrap();
    let parsed = run(&tree, "dpkg-parsechangelog", &["-l", "debian/changelog"]);
    assert!(parsed.contains("\nVersion: 1.0-1+eol12u3.1\n"), "{parsed}");
    assert!(
        parsed.contains("\nDistribution: bookworm-security\n"),
        "{parsed}"
    );
    assert!(parsed.contains("\nUrgency: medium\n"), "{parsed}");
    assert!(
        !parsed.contains("* Fix CVE-2099-0002."),
        "named in a change already: {parsed}"
    );

    run(tmp.path(), "dpkg-source", &["-b", "foo-1.0"]);
    let again = unpack(
        &tmp.path().join("foo_1.0-1+eol12u3.1.dsc"),
        tmp.path(),
        "again",
    );
    let d = diff_trees(&pristine, &again, &DiffLimits::default()).unwrap();
    assert_eq!(d.changed_files, 3, "{}", d.text);
    assert!(
        d.text.contains("-line 6\n+line six (fixed)\n"),
        "{}",
        d.text
    );
    assert!(
        d.text.contains("+++ b/debian/README.security\n"),
        "{}",
        d.text
    );
}
