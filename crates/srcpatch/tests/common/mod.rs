//! Shared helpers: the fixture mirror, `dpkg-source`, and building real patches.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixture mirror (`CRYO_FIXTURE_MIRROR` overrides).
pub fn mirror() -> PathBuf {
    std::env::var_os("CRYO_FIXTURE_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mirror"))
}

pub fn hello_dsc() -> PathBuf {
    mirror().join("debian/pool/main/h/hello/hello_2.10-3.dsc")
}

/// Run a command in `cwd`, panicking with its output when it fails; returns stdout.
pub fn run(cwd: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `dpkg-source -x DSC PARENT/NAME`; returns the tree.
pub fn unpack(dsc: &Path, parent: &Path, name: &str) -> PathBuf {
    let dsc = dsc.to_str().expect("utf-8 fixture path");
    run(parent, "dpkg-source", &["-x", dsc, name]);
    parent.join(name)
}

/// A `-p1` unified diff of `rel` in `tree` replacing the first line equal to `old` by
/// `new` (three lines of context, like `diff -u`).
pub fn replace_patch(tree: &Path, rel: &str, old: &str, new: &str) -> String {
    let text = std::fs::read_to_string(tree.join(rel)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| *l == old)
        .expect("line to replace");
    let start = i.saturating_sub(3);
    let end = (i + 4).min(lines.len());
    let mut p = format!(
        "--- a/{rel}\n+++ b/{rel}\n@@ -{0},{1} +{0},{1} @@\n",
        start + 1,
        end - start
    );
    for (j, l) in lines[start..end].iter().enumerate() {
        if start + j == i {
            p.push_str(&format!("-{old}\n+{new}\n"));
        } else {
            p.push_str(&format!(" {l}\n"));
        }
    }
    p
}

/// `diff` wrapped like `git format-patch` output (mail header, diffstat, signature).
pub fn as_format_patch(subject: &str, rel: &str, diff: &str) -> String {
    format!(
        "From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nFrom: Security Team <security@example.org>\nDate: Sat, 11 Jul 2026 10:00:00 +0000\nSubject: [PATCH] {subject}\n\n---\n 1 file changed\n\ndiff --git a/{rel} b/{rel}\nindex 1111111..2222222 100644\n{diff}-- \n2.39.5\n\n"
    )
}
