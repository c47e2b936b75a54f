//! Shared test fixture: the build-environment closure taken from the fixture pool (without
//! the resolver crate), ONE configured root per test binary, synthetic source packages and
//! a snapshot of the root to prove builds never change it.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use cryo_debbuild::{deb, BuildSettings, DebFile, RootInfo, RootPlan};
use cryo_prjconf::{ParseContext, Prjconf};
use cryo_sandbox::HelperCommand;

pub fn mirror() -> PathBuf {
    match std::env::var_os("CRYO_FIXTURE_MIRROR") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mirror"),
    }
}

pub fn helper() -> HelperCommand {
    HelperCommand::new(env!("CARGO_BIN_EXE_cryo-debbuild-helper"))
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Whether this run is CI's (`CI=true`), where a test that cannot do its job must fail.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A test's precondition (root, a tool, user namespaces). When it does not hold, the
/// test is skipped locally (returns `false` after saying why) but **fails** under
/// `CI=true`: a green CI run that tested nothing is a defect.
pub fn require(cond: bool, why: &str) -> bool {
    if cond {
        return true;
    }
    assert!(!in_ci(), "CI=true and this test cannot run: {why}");
    eprintln!("skipping: {why} (this fails under CI=true)");
    false
}

/// True (and says why) when the real-data tests cannot run; fails under `CI=true`.
pub fn skip() -> bool {
    !require(
        is_root(),
        "these tests run as root (the CI does); tests/unprivileged.rs covers ordinary users",
    )
}

pub fn prjconf() -> Prjconf {
    let path = mirror().join("debian-12.prjconf");
    let text = std::fs::read_to_string(&path).expect("read prjconf");
    Prjconf::parse(&text, "debian-12.prjconf", &ParseContext::new("x86_64")).expect("prjconf")
}

pub fn settings() -> BuildSettings {
    BuildSettings::from_prjconf(&prjconf())
}

fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read pool dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            collect(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

pub struct Pkg {
    pub deb: DebFile,
    pub depends: String,
    pub provides: String,
}

/// The closure: every pool .deb (security versions replacing main ones), minus the Debian
/// binaries of the fixture's source packages that the prjconf does not name.
pub fn closure() -> BTreeMap<String, Pkg> {
    let m = mirror();
    let conf = prjconf();
    let named: BTreeSet<&str> = conf
        .preinstall()
        .iter()
        .chain(conf.required())
        .chain(conf.support())
        .map(|n| n.as_str())
        .collect();
    let mut dscs = Vec::new();
    collect(&m.join("debian/pool"), "dsc", &mut dscs);
    let mut fixture_binaries = BTreeSet::new();
    for d in dscs {
        let text = std::fs::read_to_string(&d).expect("read dsc");
        let dsc = cryo_debian::dsc::parse(&text, "x.dsc").expect("dsc");
        fixture_binaries.extend(dsc.source.binaries);
    }
    let mut pkgs = BTreeMap::new();
    for (pool, security) in [("debian/pool", false), ("debian-security/pool", true)] {
        let mut debs = Vec::new();
        collect(&m.join(pool), "deb", &mut debs);
        for path in debs {
            let c = deb::read_control(&path).expect("control");
            let get = |f: &str| c.get(f).unwrap_or_default().to_owned();
            let name = get("Package");
            if fixture_binaries.contains(&name) && !named.contains(name.as_str()) {
                continue;
            }
            if !security && pkgs.contains_key(&name) {
                continue;
            }
            let depends = [get("Pre-Depends"), get("Depends")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            let deb = DebFile {
                name: name.clone(),
                version: get("Version"),
                path: path.canonicalize().expect("canonical path"),
            };
            let provides = get("Provides");
            pkgs.insert(
                name,
                Pkg {
                    deb,
                    depends,
                    provides,
                },
            );
        }
    }
    pkgs
}

/// The prjconf's Preinstall names and their Depends/Pre-Depends closure.
pub fn preinstall_names(pkgs: &BTreeMap<String, Pkg>) -> BTreeSet<String> {
    let mut provided: BTreeMap<String, String> = BTreeMap::new();
    for (name, p) in pkgs {
        let rels: cryo_debian::relation::Relations = p.provides.parse().expect("provides");
        for alt in rels.0 {
            for r in alt.0 {
                provided.entry(r.name).or_insert_with(|| name.clone());
            }
        }
    }
    let mut todo: Vec<String> = prjconf()
        .preinstall()
        .iter()
        .map(|n| n.as_str().to_owned())
        .collect();
    let mut out = BTreeSet::new();
    while let Some(n) = todo.pop() {
        if !out.insert(n.clone()) {
            continue;
        }
        let p = &pkgs[&n];
        let rels: cryo_debian::relation::Relations = p.depends.parse().expect("depends");
        for alt in rels.0 {
            let chosen = alt.0.iter().find_map(|r| {
                if pkgs.contains_key(&r.name) {
                    Some(r.name.clone())
                } else {
                    provided.get(&r.name).cloned()
                }
            });
            let chosen = chosen.unwrap_or_else(|| panic!("{n}: unsatisfiable {alt:?}"));
            todo.push(chosen);
        }
    }
    out
}

pub fn plan() -> RootPlan {
    let pkgs = closure();
    let pre = preinstall_names(&pkgs);
    let (preinstall, install): (Vec<_>, Vec<_>) =
        pkgs.into_values().partition(|p| pre.contains(&p.deb.name));
    RootPlan {
        preinstall: preinstall.into_iter().map(|p| p.deb).collect(),
        install: install.into_iter().map(|p| p.deb).collect(),
        runscripts: prjconf()
            .runscripts()
            .iter()
            .map(|n| n.as_str().to_owned())
            .collect(),
        build_user: settings().build_user,
        source_date_epoch: Some(1_700_000_000),
    }
}

pub struct SharedRoot {
    pub dir: PathBuf,
    pub info: RootInfo,
    pub prepare_time: Duration,
    /// Listing of the whole root right after preparation.
    pub snapshot: String,
}

/// Path, type, mode, owner, size and mtime of every inode, plus the content of a few files.
pub fn snapshot(root: &Path) -> String {
    let mut lines = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let md = std::fs::symlink_metadata(&p).expect("lstat");
        let rel = p.strip_prefix(root).expect("prefix").display().to_string();
        lines.push(format!(
            "{rel} {:o} {}:{} {} {}",
            md.mode(),
            md.uid(),
            md.gid(),
            md.len(),
            md.mtime()
        ));
        if md.is_dir() {
            for e in std::fs::read_dir(&p).expect("readdir") {
                stack.push(e.expect("entry").path());
            }
        }
    }
    lines.sort();
    for f in ["etc/passwd", "etc/group", "var/lib/dpkg/status"] {
        lines.push(std::fs::read_to_string(root.join(f)).expect("read root file"));
    }
    lines.join("\n")
}

/// Prepared once per test binary; rebuilt on every run.
pub fn shared_root() -> &'static SharedRoot {
    static ROOT: OnceLock<SharedRoot> = OnceLock::new();
    ROOT.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(concat!("cryo-debbuild-", env!("CARGO_CRATE_NAME")));
        if base.exists() {
            std::fs::remove_dir_all(&base).expect("remove the previous test root");
        }
        std::fs::create_dir_all(&base).expect("mkdir");
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let dir = base.join("root");
        let started = std::time::Instant::now();
        let info = cryo_debbuild::prepare_root(&plan(), &dir, &helper())
            .unwrap_or_else(|e| panic!("prepare_root: {}", chain(&e)));
        let prepare_time = started.elapsed();
        eprintln!("prepared the shared root in {prepare_time:?}");
        for p in &info.phases {
            eprintln!("  phase {:?}: {:?}", p.phase, p.duration);
        }
        let snapshot = snapshot(&dir);
        SharedRoot {
            dir,
            info,
            prepare_time,
            snapshot,
        }
    })
}

/// A fresh work directory (mode 0755) under the target dir, removed when dropped.
pub fn work_dir() -> tempfile::TempDir {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let d = tempfile::Builder::new()
        .prefix("cryo-debbuild-work")
        .tempdir_in(base)
        .expect("tempdir");
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    d
}

/// An error with its sources, for panic messages.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(&format!(": {c}"));
        cur = c.source();
    }
    s
}

/// The fixture source `name` (`.dsc` and the files it lists, from the same pool dir).
pub fn fixture_source(dir: &str, dsc: &str) -> cryo_debbuild::SourceFiles {
    let d = mirror().join("debian/pool/main").join(dir);
    let dsc_path = d.join(dsc);
    let text = std::fs::read_to_string(&dsc_path).expect("read dsc");
    let parsed = cryo_debian::dsc::parse(&text, dsc).expect("dsc");
    cryo_debbuild::SourceFiles {
        files: parsed
            .source
            .files
            .iter()
            .map(|f| d.join(f.name.as_str()))
            .collect(),
        dsc: dsc_path,
    }
}

/// Builds `source` on the shared root with the faithful settings; checks that the root
/// is unchanged afterwards.
pub fn build_on_shared_root(
    source: cryo_debbuild::SourceFiles,
    settings: BuildSettings,
    kind: cryo_debbuild::BuildKind,
) -> (cryo_debbuild::BuildResult, tempfile::TempDir) {
    let root = shared_root();
    let work = work_dir();
    let spec = cryo_debbuild::BuildSpec {
        root_dir: root.dir.clone(),
        source,
        settings,
        kind,
        work_dir: work.path().join("w"),
    };
    let result =
        cryo_debbuild::build(&spec, &helper()).unwrap_or_else(|e| panic!("build: {}", chain(&e)));
    eprintln!(
        "built {} in {:?}: {:?}",
        spec.source.dsc.display(),
        result.duration,
        result.status
    );
    assert!(
        snapshot(&root.dir) == root.snapshot,
        "the shared root changed during a build"
    );
    (result, work)
}

/// Asserts that every official .deb named is byte-identical to the built one.
pub fn assert_identical(result: &cryo_debbuild::BuildResult, dir: &str, debs: &[&str]) {
    assert!(
        result.success(),
        "build failed: {}",
        String::from_utf8_lossy(&result.log[result.log.len().saturating_sub(4000)..])
    );
    for name in debs {
        let built = result
            .outputs
            .iter()
            .find(|o| o.name == *name)
            .unwrap_or_else(|| panic!("{name} not built: {:?}", result.outputs));
        let official = mirror().join("debian/pool/main").join(dir).join(name);
        let a = std::fs::read(&built.path).expect("read built deb");
        let b = std::fs::read(&official).expect("read official deb");
        assert!(
            a == b,
            "{name} differs from Debian's ({} vs {} bytes)",
            a.len(),
            b.len()
        );
    }
}

/// A synthetic native source package `cryotest 1.0` (arch all, Rules-Requires-Root: no)
/// whose `build` target runs `recipe` (make syntax, one shell line), packed with
/// `dpkg-source -b` inside a sandbox on the shared root. Returns the files and their dir.
pub fn synthetic_source(recipe: &str) -> (cryo_debbuild::SourceFiles, tempfile::TempDir) {
    let root = shared_root();
    let dir = work_dir();
    let pkg = dir.path().join("cryotest");
    let files: [(&str, String); 5] = [
        (
            "debian/control",
            "Source: cryotest\nSection: misc\nPriority: optional\n\
             Maintainer: cryo <cryo@example.org>\nRules-Requires-Root: no\n\
             Standards-Version: 4.6.2\n\nPackage: cryotest\nArchitecture: all\n\
             Description: cryo test package\n records facts about its build\n"
                .into(),
        ),
        (
            "debian/changelog",
            "cryotest (1.0) unstable; urgency=medium\n\n  * Test.\n\n \
             -- cryo <cryo@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n"
                .into(),
        ),
        ("debian/source/format", "3.0 (native)\n".into()),
        (
            "debian/rules",
            format!(
                "#!/usr/bin/make -f\nclean:\n\trm -rf debian/tmp debian/files\n\
                 build build-arch build-indep:\n\tmkdir -p debian/tmp/usr/share/cryotest\n\
                 \t{recipe}\n\
                 binary binary-arch binary-indep: build\n\tmkdir -p debian/tmp/DEBIAN\n\
                 \tdpkg-gencontrol -pcryotest\n\
                 \tdpkg-deb --root-owner-group --build debian/tmp ..\n"
            ),
        ),
        ("README", "cryo test\n".into()),
    ];
    for (name, text) in &files {
        let p = pkg.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
    std::fs::set_permissions(
        pkg.join("debian/rules"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("mkdir out");
    for d in [dir.path().join("upper"), dir.path().join("work")] {
        std::fs::create_dir(&d).expect("mkdir");
    }
    let mut spec = cryo_sandbox::SandboxSpec::new(
        cryo_sandbox::RootFs::Overlay {
            lower: root.dir.clone(),
            upper: dir.path().join("upper"),
            work: dir.path().join("work"),
        },
        cryo_sandbox::CommandSpec {
            argv: ["dpkg-source", "-b", "/in/cryotest"]
                .map(String::from)
                .to_vec(),
            env: BTreeMap::from([("PATH".to_owned(), cryo_debbuild::PATH.to_owned())]),
            cwd: "/out".into(),
            uid: 1000,
            gid: 1000,
            groups: vec![],
            umask: 0o022,
        },
    );
    spec.binds = vec![
        cryo_sandbox::BindMount {
            source: pkg,
            target: "/in/cryotest".into(),
            writable: false,
            owner: None,
        },
        cryo_sandbox::BindMount {
            source: out.clone(),
            target: "/out".into(),
            writable: true,
            owner: Some(cryo_sandbox::Owner {
                uid: 1000,
                gid: 1000,
            }),
        },
    ];
    let o = cryo_sandbox::Sandbox::spawn(&spec, &helper())
        .and_then(|r| r.wait())
        .unwrap_or_else(|e| panic!("dpkg-source -b: {}", chain(&e)));
    assert!(o.success(), "{}", String::from_utf8_lossy(&o.log));
    let src = cryo_debbuild::SourceFiles {
        dsc: out.join("cryotest_1.0.dsc"),
        files: vec![out.join("cryotest_1.0.tar.xz")],
    };
    (src, dir)
}

/// The changelog date of the synthetic package.
pub const SYNTHETIC_DATE: i64 = 1_704_067_200;
