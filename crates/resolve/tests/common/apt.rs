//! The real apt as a peer: private apt directories over the fixture mirror (both archives,
//! binaries and sources), an empty dpkg status, lists fetched once per process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A prepared apt root.
pub struct Apt {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

/// The shared apt root (runs `apt-get update` on first use).
pub fn apt() -> &'static Apt {
    static A: OnceLock<Apt> = OnceLock::new();
    A.get_or_init(|| Apt::new(&super::mirror()))
}

impl Apt {
    pub fn new(mirror: &Path) -> Apt {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        for d in [
            "lists/partial",
            "cache/archives/partial",
            "parts",
            "prefs.d",
            "state",
        ] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("status"), "").unwrap();
        let mirror = mirror.canonicalize().unwrap();
        let key = mirror.join("keyrings/debian-archive-keyring.gpg");
        let mut list = String::new();
        for (archive, suite) in [
            ("debian", "bookworm"),
            ("debian-security", "bookworm-security"),
        ] {
            for kind in ["deb", "deb-src"] {
                list.push_str(&format!(
                    "{kind} [signed-by={}] file://{} {suite} main\n",
                    key.display(),
                    mirror.join(archive).display()
                ));
            }
        }
        std::fs::write(root.join("sources.list"), list).unwrap();
        // APT_CONFIG is read before /etc/apt/apt.conf.d, so this keeps the host's
        // configuration (appstream, translations, proxies) out of the test.
        std::fs::write(
            root.join("apt.conf"),
            format!(
                "Dir::Etc::Parts \"{0}/parts\";\nDir::Etc::main \"/dev/null\";\n",
                root.display()
            ),
        )
        .unwrap();
        let apt = Apt { _dir: dir, root };
        let out = apt.run("apt-get", &["update"]);
        assert!(out.0, "apt-get update failed:\n{}", out.1);
        // Build the package cache once so later (parallel) calls only read it.
        let out = apt.run("apt-cache", &["stats"]);
        assert!(out.0, "apt-cache stats failed:\n{}", out.1);
        apt
    }

    fn options(&self) -> Vec<String> {
        let r = self.root.display();
        [
            format!("Dir::State={r}/state"),
            format!("Dir::State::lists={r}/lists"),
            format!("Dir::State::status={r}/status"),
            format!("Dir::Cache={r}/cache"),
            format!("Dir::Etc::sourcelist={r}/sources.list"),
            format!("Dir::Etc::sourceparts={r}/parts"),
            format!("Dir::Etc::preferences={r}/preferences"),
            format!("Dir::Etc::preferencesparts={r}/prefs.d"),
            "APT::Architecture=amd64".into(),
            "APT::Architectures=amd64".into(),
            "Debug::NoLocking=1".into(),
            "Acquire::Check-Valid-Until=false".into(),
            "Acquire::Languages=none".into(),
            "APT::Sandbox::User=root".into(),
        ]
        .into_iter()
        .flat_map(|o| ["-o".to_owned(), o])
        .collect()
    }

    /// Run an apt tool with the private options; (success, stdout + stderr).
    pub fn run(&self, tool: &str, args: &[&str]) -> (bool, String) {
        let out = Command::new(tool)
            .env("APT_CONFIG", self.root.join("apt.conf"))
            .env("LC_ALL", "C")
            .args(self.options())
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// `apt-get -s --no-install-recommends ARGS`: the (name → version) it would install.
    pub fn simulate(&self, args: &[&str]) -> BTreeMap<String, String> {
        let mut all = vec!["-s", "--no-install-recommends"];
        all.extend_from_slice(args);
        let (ok, text) = self.run("apt-get", &all);
        assert!(ok, "apt-get {all:?} failed:\n{text}");
        text.lines()
            .filter_map(|l| l.strip_prefix("Inst "))
            .filter_map(|l| {
                let (name, rest) = l.split_once(" (")?;
                let version = rest.split_whitespace().next()?;
                Some((name.to_owned(), version.to_owned()))
            })
            .collect()
    }
}
