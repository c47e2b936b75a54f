//! Test helpers shared by the rpm-md tests: tiny RPMs built with the host's `rpmbuild`,
//! repositories written by `createrepo_c`, loading them through cryo-rpm's parsers, and
//! [`dnf_closure`]: what Debian's `dnf --installroot … --assumeno install` would install,
//! for comparing with cryo's resolver on the same repositories and base set.
//!
//! A test that cannot run a tool skips locally and fails under `CI=true` ([`require_tools`]).

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;

use cryo_rpm::compression;
use cryo_rpm::filelists::FilelistsReader;
use cryo_rpm::primary::PrimaryReader;
use cryo_rpm::repomd::Repomd;
use cryo_rpm::resolve::{Closure, Policy};
use cryo_rpm::universe::Repo;

/// True when every tool is on PATH; otherwise skip (false) locally, panic under CI=true.
pub fn require_tools(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .map(|o| !o.status.success())
                .unwrap_or(true)
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("missing tools under CI=true: {}", missing.join(", "));
    }
    eprintln!("skipping: missing tools {}", missing.join(", "));
    false
}

/// A tiny package: `name-version-release.arch` plus spec preamble lines
/// (`Requires:`, `Provides:`, `Obsoletes:`…) and files to ship (path → content; a path
/// ending in `/` is a directory).
pub struct TinyRpm<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub release: &'a str,
    pub epoch: Option<u32>,
    pub arch: &'a str,
    pub preamble: &'a [&'a str],
    pub files: &'a [&'a str],
}

/// Build the packages with `rpmbuild -bb` (no automatic dependencies, so the metadata is
/// exactly the preamble) and copy the RPMs into `repo`.
pub fn build_rpms(work: &Path, repo: &Path, pkgs: &[TinyRpm<'_>]) {
    fs::create_dir_all(repo).unwrap();
    for p in pkgs {
        let top = work.join(format!("top-{}-{}-{}", p.name, p.version, p.release));
        fs::create_dir_all(top.join("SPECS")).unwrap();
        let mut spec = format!(
            "Name: {}\nVersion: {}\nRelease: {}\nSummary: tiny {}\nLicense: MIT\nAutoReqProv: no\n",
            p.name, p.version, p.release, p.name
        );
        if let Some(e) = p.epoch {
            spec.push_str(&format!("Epoch: {e}\n"));
        }
        if p.arch == "noarch" {
            spec.push_str("BuildArch: noarch\n");
        }
        for l in p.preamble {
            spec.push_str(l);
            spec.push('\n');
        }
        spec.push_str("%description\ntiny test package\n%install\n");
        for f in p.files {
            if let Some(d) = f.strip_suffix('/') {
                spec.push_str(&format!("mkdir -p %{{buildroot}}{d}\n"));
            } else {
                let parent = Path::new(f).parent().unwrap().display().to_string();
                spec.push_str(&format!(
                    "mkdir -p %{{buildroot}}{parent}\necho {} > %{{buildroot}}{f}\n",
                    p.name
                ));
            }
        }
        spec.push_str("%files\n");
        for f in p.files {
            match f.strip_suffix('/') {
                Some(d) => spec.push_str(&format!("%dir {d}\n")),
                None => spec.push_str(&format!("{f}\n")),
            }
        }
        let spec_path = top.join("SPECS").join(format!("{}.spec", p.name));
        fs::write(&spec_path, spec).unwrap();
        let mut cmd = Command::new("rpmbuild");
        cmd.arg("-bb")
            .arg("--define")
            .arg(format!("_topdir {}", top.display()))
            .args(["--define", "_build_id_links none"])
            .args(["--define", "__os_install_post %{nil}"]);
        if p.arch != "noarch" {
            cmd.arg("--target").arg(p.arch);
        }
        let o = cmd.arg(&spec_path).output().unwrap();
        assert!(
            o.status.success(),
            "rpmbuild {}: {}",
            p.name,
            String::from_utf8_lossy(&o.stderr)
        );
        for entry in walk(&top.join("RPMS")) {
            fs::copy(&entry, repo.join(entry.file_name().unwrap())).unwrap();
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `createrepo_c` with the given metadata compression (`gz`, `xz`, `bz2`).
pub fn createrepo(repo: &Path, compress: &str) {
    let o = Command::new("createrepo_c")
        .arg("-q")
        .arg(format!("--general-compress-type={compress}"))
        .arg(repo)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "createrepo_c: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// What a mirror does: repomd.xml → verify and parse primary and filelists.
pub fn load_repo(name: &str, repo: &Path) -> Repo {
    let repomd_path = repo.join("repodata/repomd.xml");
    let md = Repomd::parse(
        BufReader::new(fs::File::open(&repomd_path).unwrap()),
        "repodata/repomd.xml",
    )
    .unwrap();
    let read = |kind: &str| {
        let d = md.get(kind).unwrap_or_else(|| panic!("no {kind}"));
        let bytes = fs::read(repo.join(&d.href)).unwrap();
        d.verify(&bytes).unwrap();
        let plain = compression::decompress(&bytes, &d.href, compression::DEFAULT_LIMIT).unwrap();
        d.verify_open(&plain).unwrap();
        (d.href.clone(), plain)
    };
    let (href, primary) = read("primary");
    let packages = PrimaryReader::new(&primary[..], &href)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let (href, filelists) = read("filelists");
    let filelists = FilelistsReader::new(&filelists[..], &href)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    Repo {
        name: name.to_owned(),
        packages,
        filelists,
    }
}

/// The packages (`name-[E:]V-R.arch`) Debian's dnf would install into an empty root from
/// `repos` (name, directory with `repodata/`) for `specs` (package names, provides
/// with versions such as `foo >= 1.0`, file paths), weak dependencies off.
pub fn dnf_closure(repos: &[(&str, &Path)], specs: &[String]) -> BTreeSet<String> {
    let root = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("dnf");
    cmd.arg("--installroot")
        .arg(root.path())
        .args([
            "--releasever=7",
            "--setopt=reposdir=/dev/null",
            "--setopt=install_weak_deps=False",
            "--setopt=skip_if_unavailable=False",
            "--nogpgcheck",
            "--disableplugin=*",
            "--assumeno",
        ])
        .arg(format!("--setopt=cachedir={}/cache", root.path().display()))
        .env("LC_ALL", "C")
        .env("COLUMNS", "250");
    for (name, dir) in repos {
        cmd.arg(format!("--repofrompath={name},file://{}", dir.display()));
    }
    cmd.arg("install").args(specs);
    let o = cmd.output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        out.contains("Operation aborted") || err.contains("Operation aborted"),
        "dnf did not reach a transaction:\n{out}\n{err}"
    );
    parse_transaction(&out, &repos.iter().map(|(n, _)| *n).collect::<Vec<_>>())
}

/// The `Installing:` / `Installing dependencies:` rows of a dnf transaction table:
/// ` name arch [epoch:]version-release repo size`, long names wrapped onto two lines.
pub fn parse_transaction(out: &str, repos: &[&str]) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    let mut in_install = false;
    let mut carry: Vec<String> = Vec::new();
    for line in out.lines() {
        if line.starts_with("Installing") && line.trim_end().ends_with(':') {
            in_install = true;
            continue;
        }
        if !line.starts_with(' ') {
            in_install = false;
            carry.clear();
            continue;
        }
        if !in_install {
            continue;
        }
        let mut words: Vec<String> = std::mem::take(&mut carry);
        words.extend(line.split_whitespace().map(str::to_owned));
        if words.len() >= 4 && repos.contains(&words[3].as_str()) {
            let (name, arch, evr) = (&words[0], &words[1], &words[2]);
            let evr = evr.strip_prefix("0:").unwrap_or(evr);
            set.insert(format!("{name}-{evr}.{arch}"));
        } else {
            carry = words;
        }
    }
    set
}

/// What cryo's resolver should pass to dnf for the same request: the base set, the
/// build requirements, and the names cryo chose through `Prefer:` (dnf reads no prjconf,
/// so the preferred providers are named explicitly; a preferred name that cryo did not
/// install is left out).
pub fn dnf_request(policy: &Policy, build_requires: &[&str], closure: &Closure) -> Vec<String> {
    let mut specs: Vec<String> = policy
        .preinstall
        .iter()
        .chain(&policy.required)
        .chain(&policy.support)
        .cloned()
        .collect();
    specs.extend(build_requires.iter().map(|s| s.to_string()));
    for p in &policy.prefer {
        if !p.negative && closure.get(p.name.as_str()).is_some() {
            specs.push(p.name.as_str().to_owned());
        }
    }
    specs
}

/// Compare cryo's closure with dnf's on the same repositories; panics with both sets
/// and the differences.
pub fn assert_same_as_dnf(
    repos: &[(&str, &Path)],
    policy: &Policy,
    build_requires: &[&str],
    closure: &Closure,
) {
    let ours: BTreeSet<String> = closure.all().map(|s| s.nevra()).collect();
    let specs = dnf_request(policy, build_requires, closure);
    let dnf = dnf_closure(repos, &specs);
    let only_ours: Vec<_> = ours.difference(&dnf).collect();
    let only_dnf: Vec<_> = dnf.difference(&ours).collect();
    assert!(
        only_ours.is_empty() && only_dnf.is_empty(),
        "closures differ for {specs:?}\nonly cryo: {only_ours:?}\nonly dnf: {only_dnf:?}\ncryo: {ours:?}\ndnf: {dnf:?}"
    );
}
