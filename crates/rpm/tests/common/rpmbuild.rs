//! Test helper shared by cryo-rpm's and cryo-compare's tests: builds tiny RPMs with the host's
//! `rpmbuild`, signs them with `rpmsign` and a throw-away GnuPG key, and asks
//! `rpmkeys --checksig` (with a temporary rpmdb) for its verdict.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether `tools` are all on PATH. Missing tools skip the test locally but fail it when
/// `CI=true` (the project's `missing_tools` convention).
pub fn have_tools(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but the tools {missing:?} are missing (see .ci/packages)");
    }
    eprintln!("skipping: missing tools {missing:?}");
    false
}

/// The absolute path of `tool` on PATH (rpm's macros exec absolute paths).
pub fn tool_path(tool: &str) -> String {
    run(Command::new("sh").args(["-c", &format!("command -v {tool}")]))
        .trim()
        .to_owned()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A tiny spec: files (path → content, mode) installed as given, optionally a C program.
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: String,
    pub version: String,
    pub release: String,
    /// (absolute path, content, mode)
    pub files: Vec<(String, Vec<u8>, u32)>,
    /// (absolute install path, C source, CFLAGS)
    pub program: Option<(String, String, String)>,
    /// `_binary_payload`, e.g. `w9.gzdio`, `w6.xzdio`, `w19.zstdio`, `w9.bzdio`.
    pub payload: String,
    /// `SOURCE_DATE_EPOCH` (build time and clamped mtimes).
    pub epoch_time: u64,
    pub buildhost: String,
    pub config: Option<String>,
    pub symlink: Option<(String, String)>,
}

impl Spec {
    pub fn new(name: &str) -> Spec {
        Spec {
            name: name.into(),
            version: "1.0".into(),
            release: "1".into(),
            files: vec![
                (
                    "/usr/share/doc/NAME/README".into(),
                    b"hello\n".to_vec(),
                    0o644,
                ),
                (
                    "/usr/bin/NAME-tool".into(),
                    b"#!/bin/sh\necho tool\n".to_vec(),
                    0o755,
                ),
            ],
            program: None,
            payload: "w9.gzdio".into(),
            epoch_time: 1_700_000_000,
            buildhost: "cryo-test.example".into(),
            config: Some("/etc/NAME.conf".into()),
            symlink: Some(("/usr/bin/NAME-link".into(), "NAME-tool".into())),
        }
    }

    fn expand(&self, s: &str) -> String {
        s.replace("NAME", &self.name)
    }

    fn spec_text(&self, staged: &Path) -> String {
        let mut install = String::new();
        let mut files = String::new();
        install.push_str(&format!("cp -a {}/. %{{buildroot}}/\n", staged.display()));
        for (path, _, mode) in &self.files {
            let path = self.expand(path);
            files.push_str(&format!("%attr({mode:o},root,root) {path}\n"));
        }
        if let Some(conf) = &self.config {
            files.push_str(&format!("%config(noreplace) {}\n", self.expand(conf)));
        }
        if let Some((link, target)) = &self.symlink {
            let (link, target) = (self.expand(link), self.expand(target));
            install.push_str(&format!(
                "mkdir -p %{{buildroot}}$(dirname {link}) && ln -s {target} %{{buildroot}}{link}\n"
            ));
            files.push_str(&format!("{link}\n"));
        }
        let mut build = String::new();
        if let Some((path, _, cflags)) = &self.program {
            let path = self.expand(path);
            build.push_str(&format!(
                "gcc {cflags} -o prog {}/prog.c\n",
                staged.parent().unwrap().display()
            ));
            install.push_str(&format!("install -D -m 755 prog %{{buildroot}}{path}\n"));
            files.push_str(&format!("{path}\n"));
        }
        format!(
            "Name: {name}\nVersion: {version}\nRelease: {release}\nSummary: cryo test package\n\
             License: MIT\nBuildArch: {arch}\n\n%description\nA test package.\n\n\
             %build\n{build}\n%install\n{install}\n%files\n{files}",
            name = self.name,
            version = self.version,
            release = self.release,
            arch = if self.program.is_some() {
                "x86_64"
            } else {
                "noarch"
            },
        )
    }

    /// Builds the binary RPM in `dir` and returns its path.
    pub fn build(&self, dir: &Path) -> PathBuf {
        let top = dir.join("top");
        let staged = dir.join("src/root");
        std::fs::create_dir_all(&staged).unwrap();
        for (path, content, _) in &self.files {
            let p = staged.join(self.expand(path).trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, content).unwrap();
        }
        if let Some(conf) = &self.config {
            let p = staged.join(self.expand(conf).trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"key = value\n").unwrap();
        }
        if let Some((_, source, _)) = &self.program {
            std::fs::write(dir.join("src/prog.c"), source).unwrap();
        }
        let spec = dir.join(format!("{}.spec", self.name));
        std::fs::write(&spec, self.spec_text(&staged)).unwrap();
        let define = |k: &str, v: &str| format!("{k} {v}");
        let mut cmd = Command::new("rpmbuild");
        cmd.env("SOURCE_DATE_EPOCH", self.epoch_time.to_string())
            .env("TZ", "UTC")
            .arg("-bb")
            .arg("--quiet");
        for (k, v) in [
            ("_topdir", top.display().to_string()),
            ("_buildhost", self.buildhost.clone()),
            ("_binary_payload", self.payload.clone()),
            ("use_source_date_epoch_as_buildtime", "1".into()),
            ("clamp_mtime_to_source_date_epoch", "1".into()),
            ("debug_package", "%{nil}".into()),
            ("_build_id_links", "none".into()),
            ("__os_install_post", "%{nil}".into()),
            ("_binary_filedigest_algorithm", "8".into()),
        ] {
            cmd.arg("--define").arg(define(k, &v));
        }
        cmd.arg(&spec);
        run(&mut cmd);
        let arch = if self.program.is_some() {
            "x86_64"
        } else {
            "noarch"
        };
        let rpm = top.join(format!(
            "RPMS/{arch}/{}-{}-{}.{arch}.rpm",
            self.name, self.version, self.release
        ));
        assert!(rpm.exists(), "rpmbuild made no {}", rpm.display());
        rpm
    }
}

/// A throw-away GnuPG home with one RSA signing key.
pub struct Gpg {
    pub home: tempfile::TempDir,
    pub uid: String,
    pub fingerprint: String,
}

impl Gpg {
    pub fn new(uid: &str) -> Gpg {
        let home = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir_in("/tmp")
            .unwrap();
        let gpg = |args: &[&str]| {
            run(Command::new("gpg")
                .arg("--homedir")
                .arg(home.path())
                .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
                .args(args))
        };
        gpg(&["--quick-gen-key", uid, "rsa2048", "sign", "never"]);
        let listing = gpg(&["--with-colons", "--list-keys", uid]);
        let fingerprint = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .map(|l| l.trim_matches(':').to_owned())
            .expect("fingerprint");
        Gpg {
            home,
            uid: uid.into(),
            fingerprint,
        }
    }

    /// The public key, ASCII-armored (what `rpm --import` takes).
    pub fn public_key(&self) -> Vec<u8> {
        run(Command::new("gpg")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--armor", "--export", &self.uid]))
        .into_bytes()
    }

    /// Signs `rpm` in place with `rpmsign --addsign`.
    pub fn sign(&self, rpm: &Path) {
        run(Command::new("rpmsign")
            .env("GNUPGHOME", self.home.path())
            .arg("--define")
            .arg(format!("_gpg_name {}", self.uid))
            .arg("--define")
            .arg(format!("_gpg_path {}", self.home.path().display()))
            .arg("--define")
            .arg(format!("__gpg {}", tool_path("gpg")))
            .arg("--define")
            .arg("_gpg_sign_cmd_extra_args --batch --pinentry-mode loopback --passphrase ''")
            .arg("--addsign")
            .arg(rpm));
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        // Stop the agent this home started (by its socket directory, not by name).
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

/// `rpmkeys --checksig -v` on `rpm` with `keys` imported into a fresh rpmdb: (exit success,
/// output).
pub fn rpmkeys_checksig(rpm: &Path, keys: &[&[u8]]) -> (bool, String) {
    let db = tempfile::tempdir().unwrap();
    for (i, key) in keys.iter().enumerate() {
        let file = db.path().join(format!("key{i}.asc"));
        std::fs::write(&file, key).unwrap();
        run(Command::new("rpmkeys")
            .arg("--dbpath")
            .arg(db.path())
            .arg("--import")
            .arg(&file));
    }
    let out = Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(db.path())
        .args(["--checksig", "-v"])
        .arg(rpm)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A C program whose `.text` depends on the optimisation level.
pub const PROGRAM: &str = r#"#include <stdio.h>
static int work(int n) { int s = 0; for (int i = 0; i < n; i++) s += i * i; return s; }
int main(int argc, char **argv) { (void)argv; printf("%d\n", work(argc * 1000)); return 0; }
"#;
