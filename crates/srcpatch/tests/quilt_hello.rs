//! End to end on the real `hello` 2.10-3 source (3.0 (quilt)): patch with a CVE id,
//! new changelog entry, `dpkg-source -b`, `dpkg-source -x` of the result.

mod common;

use std::path::Path;

use common::{as_format_patch, hello_dsc, replace_patch, run, unpack};
use cryo_srcpatch::{
    add_changelog_entry, apply_patches, diff_trees, next_version, ApplyOptions, ChangelogEntry,
    DiffLimits, FailureKind, NamedPatch, PatchError, ReleaseCounters, Suffix, VersionPattern,
};

const GREETING: &str = "  greeting_msg = _(\"Hello, world!\");";
const PATCHED: &str = "  greeting_msg = _(\"Hello, patched world!\");";
const PATCHED2: &str = "  greeting_msg = _(\"Hello, twice patched world!\");";

fn field<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[test]
fn patch_changelog_rebuild_and_unpack_again() {
    let tmp = tempfile::tempdir().unwrap();
    let pristine = unpack(&hello_dsc(), tmp.path(), "pristine");
    let tree = unpack(&hello_dsc(), tmp.path(), "hello-2.10");

    // Patch 1 (git format-patch style) changes the greeting; patch 2 depends on patch 1
    // and also creates a new file.
    let p1 = as_format_patch(
        "Fix greeting (CVE-2099-0001)",
        "src/hello.c",
        &replace_patch(&tree, "src/hello.c", GREETING, PATCHED),
    );
    let mut p2 = replace_patch(&tree, "src/hello.c", GREETING, PATCHED2)
        .replace(&format!("-{GREETING}\n"), &format!("-{PATCHED}\n"));
    p2.push_str("--- /dev/null\n+++ b/doc/SECURITY-NOTE\n@@ -0,0 +1 @@\n+Patched by cryo.\n");
    let patches = [
        NamedPatch::new("CVE-2099-0001.patch", p1.clone()).unwrap(),
        NamedPatch::new("second fix.patch", p2).unwrap(),
    ];
    let applied = apply_patches(&tree, &patches, &ApplyOptions::default()).unwrap();
    assert_eq!(applied.len(), 2);
    assert_eq!(applied[1].name.as_str(), "second-fix.patch");
    assert_eq!(
        applied[1]
            .files
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>(),
        ["doc/SECURITY-NOTE", "src/hello.c"]
    );
    let read = |p: &str| std::fs::read_to_string(tree.join(p)).unwrap();
    assert_eq!(
        read("debian/patches/series"),
        "CVE-2099-0001.patch\nsecond-fix.patch\n"
    );
    assert_eq!(
        read(".pc/applied-patches"),
        "CVE-2099-0001.patch\nsecond-fix.patch\n"
    );
    assert_eq!(read("debian/patches/CVE-2099-0001.patch"), p1);
    assert!(read("src/hello.c").contains(PATCHED2));
    assert_eq!(read("doc/SECURITY-NOTE"), "Patched by cryo.\n");
    // quilt backup of the unpatched file, as dpkg-source pushes it
    assert!(
        std::fs::read_to_string(tree.join(".pc/CVE-2099-0001.patch/src/hello.c"))
            .unwrap()
            .contains(GREETING)
    );

    let pattern = VersionPattern::default_for(12);
    let counters = ReleaseCounters {
        ci_cnt: 1,
        b_cnt: 1,
    };
    let version = next_version(
        &"2.10-3".parse().unwrap(),
        Suffix::Pattern(&pattern),
        &counters,
    )
    .unwrap();
    assert_eq!(version.as_str(), "2.10-3+eol12u1");
    add_changelog_entry(
        &tree,
        &ChangelogEntry {
            source: None,
            version,
            distribution: None,
            urgency: None,
            changes: vec!["Fix the greeting.".into()],
            cves: vec!["CVE-2099-0001".parse().unwrap()],
            maintainer: "Cryo Builder <cryo@example.org>".into(),
            date: 1_783_764_997,
        },
    )
    .unwrap();
    let parsed = run(&tree, "dpkg-parsechangelog", &["-l", "debian/changelog"]);
    assert_eq!(field(&parsed, "Version"), "2.10-3+eol12u1");
    assert_eq!(field(&parsed, "Distribution"), "unstable");
    assert_eq!(field(&parsed, "Urgency"), "high");
    assert_eq!(
        field(&parsed, "Maintainer"),
        "Cryo Builder <cryo@example.org>"
    );
    assert_eq!(field(&parsed, "Date"), "Sat, 11 Jul 2026 10:16:37 +0000");
    assert_eq!(field(&parsed, "Timestamp"), "1783764997");
    assert!(
        parsed.contains("\n   * Fix the greeting.\n   * Fix CVE-2099-0001.\n"),
        "{parsed}"
    );
    // the previous entries are still there
    let all = run(
        &tree,
        "dpkg-parsechangelog",
        &["-l", "debian/changelog", "--all"],
    );
    assert!(all.contains("2.10-3)"), "{all}");

    // dpkg-source -b accepts the tree; unpacking the result re-applies our patches.
    run(tmp.path(), "dpkg-source", &["-b", "hello-2.10"]);
    let dsc = tmp.path().join("hello_2.10-3+eol12u1.dsc");
    assert!(dsc.is_file());
    let again = unpack(&dsc, tmp.path(), "again");
    let read2 = |p: &str| std::fs::read_to_string(again.join(p)).unwrap();
    assert!(read2("src/hello.c").contains(PATCHED2));
    assert_eq!(
        read2(".pc/applied-patches"),
        "CVE-2099-0001.patch\nsecond-fix.patch\n"
    );
    assert_eq!(read2("debian/patches/CVE-2099-0001.patch"), p1);

    // `cryo package diff --against upstream`
    let d = diff_trees(&pristine, &again, &DiffLimits::default()).unwrap();
    assert_eq!(d.changed_files, 6, "{}", d.text);
    assert!(
        d.text.contains(&format!("-{GREETING}\n+{PATCHED2}\n")),
        "{}",
        d.text
    );
    assert!(d.text.contains("+++ b/debian/patches/series\n"));
    assert!(d
        .text
        .contains("+hello (2.10-3+eol12u1) unstable; urgency=high\n"));
}

#[test]
fn failing_hunk_is_reported_and_tree_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let pristine = unpack(&hello_dsc(), tmp.path(), "pristine");
    let tree = unpack(&hello_dsc(), tmp.path(), "hello-2.10");
    let good = replace_patch(&tree, "src/hello.c", GREETING, PATCHED);
    // Hunk 1 applies; hunk 2's context does not exist in src/system.h.
    let bad = format!(
        "{}@@ -37,3 +37,3 @@ HELLO_SYSTEM_H\n /* Internationalization.  */\n-# include \"no-such-gettext.h\"\n+# include \"gettext.h\"\n # define _(str) gettext (str)\n",
        replace_patch(&tree, "src/system.h", "# include <unistd.h>", "# include <unistd.h> /* ok */")
    );
    let patches = [
        NamedPatch::new("good.patch", good.clone()).unwrap(),
        NamedPatch::new("bad.patch", bad).unwrap(),
    ];
    let err = apply_patches(&tree, &patches, &ApplyOptions::default()).unwrap_err();
    let PatchError::DoesNotApply {
        patch, failures, ..
    } = &err
    else {
        panic!("unexpected error {err}");
    };
    assert_eq!(patch.as_str(), "bad.patch");
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].file.as_deref(), Some("src/system.h"));
    assert!(matches!(
        failures[0].kind,
        FailureKind::HunkFailed {
            number: 2,
            at: Some(37)
        }
    ));
    let msg = err.to_string();
    assert!(msg.contains("bad.patch"), "{msg}");
    assert!(msg.contains("src/system.h: hunk #2 FAILED"), "{msg}");
    assert!(msg.contains("@@ -37,3 +37,3 @@ HELLO_SYSTEM_H\n /* Internationalization.  */\n-# include \"no-such-gettext.h\""), "{msg}");
    assert_unchanged(&pristine, &tree);

    // A patch that is already applied is named as such.
    apply_patches(&tree, &patches[..1], &ApplyOptions::default()).unwrap();
    let again = NamedPatch::new("good-again.patch", good).unwrap();
    let err = apply_patches(&tree, &[again], &ApplyOptions::default()).unwrap_err();
    assert!(
        matches!(&err, PatchError::DoesNotApply { failures, .. } if failures[0].kind == FailureKind::AlreadyApplied),
        "{err}"
    );
}

#[test]
fn unsafe_names_and_paths_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let pristine = unpack(&hello_dsc(), tmp.path(), "pristine");
    let tree = unpack(&hello_dsc(), tmp.path(), "hello-2.10");
    for name in ["../evil.patch", "debian/x.patch", ".pc", "series"] {
        assert!(NamedPatch::new(name, "x").is_err(), "{name}");
    }
    let opts = ApplyOptions::default();
    let cases = [
        "--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-root\n+evil\n",
        "--- a/src/../../outside.c\n+++ b/src/../../outside.c\n@@ -1 +1 @@\n-a\n+b\n",
        "--- /dev/null\n+++ b/debian/rules.new\n@@ -0,0 +1 @@\n+x\n",
        "--- /dev/null\n+++ b/.pc/evil\n@@ -0,0 +1 @@\n+x\n",
        "--- /dev/null\n+++ b/src/link/evil\n@@ -0,0 +1 @@\n+x\n",
    ];
    std::os::unix::fs::symlink("/tmp", tree.join("src/link")).unwrap();
    for text in cases {
        let p = NamedPatch::new("x.patch", text).unwrap();
        let err = apply_patches(&tree, &[p], &opts).unwrap_err();
        assert!(
            matches!(
                err,
                PatchError::Invalid { .. } | PatchError::ForbiddenPath { .. }
            ),
            "{text}: {err}"
        );
    }
    std::fs::remove_file(tree.join("src/link")).unwrap();
    // A name that clashes with an existing patch of the series.
    let good = replace_patch(&tree, "src/hello.c", GREETING, PATCHED);
    let p = NamedPatch::new("fix.patch", good.clone()).unwrap();
    apply_patches(&tree, std::slice::from_ref(&p), &opts).unwrap();
    let err = apply_patches(&tree, &[p], &opts).unwrap_err();
    assert!(matches!(err, PatchError::NameClash { .. }), "{err}");
    let dup = NamedPatch::new("dup.patch", good).unwrap();
    let err = apply_patches(&tree, &[dup.clone(), dup], &opts).unwrap_err();
    assert!(matches!(err, PatchError::NameClash { .. }), "{err}");
    let d = diff_trees(&pristine, &tree, &DiffLimits::default()).unwrap();
    assert_eq!(d.changed_files, 3, "only fix.patch landed: {}", d.text);
}

fn assert_unchanged(pristine: &Path, tree: &Path) {
    let all = DiffLimits {
        exclude: Vec::new(),
        ..DiffLimits::default()
    };
    let d = diff_trees(pristine, tree, &all).unwrap();
    assert_eq!(d.changed_files, 0, "tree changed:\n{}", d.text);
}

/// If GNU patch fails on the real tree after the trial run succeeded (simulated by a
/// wrapper that refuses the second patch outside the staging area), everything that was
/// already applied or recorded is undone.
#[test]
fn failure_after_trial_run_rolls_back() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let pristine = unpack(&hello_dsc(), tmp.path(), "pristine");
    let tree = unpack(&hello_dsc(), tmp.path(), "hello-2.10");
    let wrapper = tmp.path().join("flaky-patch");
    std::fs::write(
        &wrapper,
        "#!/bin/sh\ncase \"$PWD\" in\n  */cryo-srcpatch-*) ;;\n  *) for a in \"$@\"; do case \"$a\" in *second*) echo simulated failure; exit 1;; esac; done;;\nesac\nexec patch \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut p2 = replace_patch(&tree, "src/hello.c", GREETING, PATCHED2)
        .replace(&format!("-{GREETING}\n"), &format!("-{PATCHED}\n"));
    p2.push_str("--- /dev/null\n+++ b/newdir/sub/NOTE\n@@ -0,0 +1 @@\n+x\n");
    let patches = [
        NamedPatch::new(
            "first.patch",
            replace_patch(&tree, "src/hello.c", GREETING, PATCHED),
        )
        .unwrap(),
        NamedPatch::new("second.patch", p2).unwrap(),
    ];
    let opts = ApplyOptions {
        patch_program: wrapper,
    };
    let err = apply_patches(&tree, &patches, &opts).unwrap_err();
    assert!(
        matches!(&err, PatchError::DoesNotApply { patch, output, .. }
            if patch.as_str() == "second.patch" && output.contains("simulated failure")),
        "{err}"
    );
    assert_unchanged(&pristine, &tree);
}
