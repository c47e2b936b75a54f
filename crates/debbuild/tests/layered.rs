//! Layered roots: a base layer, a tool layer on it and the rest of a closure on that give
//! the same root, byte for byte, as the one-shot preparation of the whole closure (the fixture's: every pool
//! package), apart from the documented files that record when or in which order things
//! happened (see `docs/builder.md`, "Layered roots").

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::{shared_root, skip};
use cryo_debbuild::{layers, DeltaPlan, Layering, RootPhase};

/// Files whose bytes differ between two one-shot preparations of the same closure too, or
/// that record the order dpkg ran in: their contents and sizes are left out of the
/// comparison (their presence, owners and modes are still compared).
const TIME_OR_ORDER: &[&str] = &[
    // Logs with a line per action and its time.
    "var/log/dpkg.log",
    "var/log/alternatives.log",
    // ldconfig's cache of the inode, ctime and size of every library it scanned.
    "var/cache/ldconfig/aux-cache",
    // man-db's gdbm index: the directories' mtimes (the preparation's time) and a layout
    // that follows the order pages were added in.
    "var/cache/man/index.db",
    // The state before the last write: the last write of the one-shot preparation is
    // another step than the layered one's.
    "var/lib/dpkg/status-old",
    "var/lib/dpkg/diversions-old",
    "var/cache/debconf/config.dat-old",
    "var/cache/debconf/templates.dat-old",
];

/// Files left out of the comparison altogether: `CACHEDIR.TAG` in man-db's per-language
/// cache directories, which `mandb` writes when it updates an existing index (a trigger
/// after a later layer) and not when it creates one (man-db's own postinst in the one-shot
/// root). A cache that no build reads; the directories themselves are compared.
fn left_out(rel: &str) -> bool {
    rel.starts_with("var/cache/man/") && rel.ends_with("/CACHEDIR.TAG")
}

fn tool_seeds() -> Vec<String> {
    layers::DEFAULT_TOOL_SEEDS
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

fn named() -> Vec<String> {
    let conf = common::prjconf();
    conf.required()
        .iter()
        .chain(conf.support())
        .map(|n| n.as_str().to_owned())
        .collect()
}

/// Path → (type, mode, owner, size, content digest or link target) of every inode; times
/// are left out (they are the preparation's, different on every run).
fn listing(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let md = std::fs::symlink_metadata(&p).expect("lstat");
        let rel = p.strip_prefix(root).expect("prefix").display().to_string();
        let ft = md.file_type();
        if left_out(&rel) {
            continue;
        }
        let skipped = TIME_OR_ORDER.contains(&rel.as_str());
        let what = if ft.is_symlink() {
            format!("-> {}", std::fs::read_link(&p).expect("readlink").display())
        } else if ft.is_file() {
            if skipped {
                "(content not compared)".to_owned()
            } else {
                format!(
                    "{:x}",
                    <sha2::Sha256 as sha2::Digest>::digest(std::fs::read(&p).expect("read"))
                )
            }
        } else {
            String::new()
        };
        out.insert(
            rel,
            format!(
                "{:o} {}:{} {} nlink={} {what}",
                md.mode(),
                md.uid(),
                md.gid(),
                if ft.is_dir() || skipped { 0 } else { md.len() },
                if ft.is_dir() { 0 } else { md.nlink() },
            ),
        );
        if ft.is_dir() {
            for e in std::fs::read_dir(&p).expect("readdir") {
                stack.push(e.expect("entry").path());
            }
        }
    }
    out
}

#[test]
fn the_fixture_closure_splits_into_base_tools_and_delta() {
    let plan = common::plan();
    let Layering::Layered {
        base,
        tools,
        delta,
        tools_note,
    } = layers::split(&plan, &named(), &tool_seeds()).expect("split")
    else {
        panic!("the fixture closure must be layered");
    };
    assert_eq!(tools_note, None);
    let name = |d: &cryo_debbuild::DebFile| d.name.clone();
    let mut all: Vec<String> = base
        .preinstall
        .iter()
        .chain(&base.install)
        .chain(&tools)
        .chain(&delta)
        .map(name)
        .collect();
    all.sort();
    let mut want: Vec<String> = plan
        .preinstall
        .iter()
        .chain(&plan.install)
        .map(name)
        .collect();
    want.sort();
    assert_eq!(all, want, "base, tools and delta partition the closure");
    assert_eq!(base.preinstall, {
        let mut p = plan.preinstall.clone();
        p.sort();
        p
    });
    let base_names: Vec<String> = base.install.iter().map(name).collect();
    for n in [
        "build-essential",
        "gcc",
        "make",
        "dpkg-dev",
        "tzdata",
        "fakeroot",
    ] {
        assert!(base_names.contains(&n.to_owned()), "{n} is in the base");
    }
    let tool_names: Vec<String> = tools.iter().map(name).collect();
    for n in ["debhelper", "man-db", "autoconf", "po-debconf"] {
        assert!(tool_names.contains(&n.to_owned()), "{n}: {tool_names:?}");
    }
    let delta_names: Vec<String> = delta.iter().map(name).collect();
    assert!(!delta_names.contains(&"debhelper".to_owned()));
    // Without tool seeds, the tool layer is empty and the delta holds it all.
    let Layering::Layered {
        tools: none,
        delta: all_delta,
        ..
    } = layers::split(&plan, &named(), &[]).expect("split")
    else {
        panic!("the fixture closure must be layered");
    };
    assert!(none.is_empty());
    assert_eq!(all_delta.len(), tools.len() + delta.len());
}

#[test]
fn a_root_from_a_base_and_a_tool_layer_is_the_one_shot_root() {
    if skip() {
        return;
    }
    let plan = common::plan();
    let Layering::Layered {
        base, tools, delta, ..
    } = layers::split(&plan, &named(), &tool_seeds()).expect("split")
    else {
        panic!("the fixture closure must be layered");
    };
    let one_shot = shared_root();

    let work = common::work_dir();
    let base_dir = work.path().join("base");
    let t = std::time::Instant::now();
    let info = cryo_debbuild::prepare_base(&base, &base_dir, &common::helper())
        .unwrap_or_else(|e| panic!("prepare_base: {}", common::chain(&e)));
    eprintln!(
        "base layer: {} packages in {:?}",
        info.packages.len(),
        t.elapsed()
    );
    let phases: Vec<RootPhase> = info.phases.iter().map(|p| p.phase).collect();
    use RootPhase::*;
    assert_eq!(phases, [Unpack, Ownership, Runscripts, Preinstall, Install]);
    // No build user in a base layer: it is added on top.
    let passwd = std::fs::read_to_string(base_dir.join("etc/passwd")).unwrap();
    assert!(!passwd.contains("buildd"), "{passwd}");
    let base_listing = listing(&base_dir);

    let tools_dir = work.path().join("tools");
    let t = std::time::Instant::now();
    let tools_expected = base
        .preinstall
        .iter()
        .chain(&base.install)
        .chain(&tools)
        .map(|d| (d.name.clone(), d.version.clone()))
        .collect();
    let tools_info = cryo_debbuild::prepare_layer(
        &base_dir,
        &tools,
        &tools_expected,
        plan.source_date_epoch,
        &tools_dir,
        &work.path().join("copy-tools"),
        &common::helper(),
    )
    .unwrap_or_else(|e| panic!("prepare_layer: {}", common::chain(&e)));
    eprintln!(
        "tool layer: + {} packages in {:?}",
        tools.len(),
        t.elapsed()
    );
    let phases: Vec<RootPhase> = tools_info.phases.iter().map(|p| p.phase).collect();
    assert_eq!(phases, [Copy, Install]);
    let passwd = std::fs::read_to_string(tools_dir.join("etc/passwd")).unwrap();
    assert!(!passwd.contains("buildd"), "no build user in a tool layer");
    let tools_listing = listing(&tools_dir);

    let root_dir = work.path().join("root");
    let t = std::time::Instant::now();
    let expected = plan
        .preinstall
        .iter()
        .chain(&plan.install)
        .map(|d| (d.name.clone(), d.version.clone()))
        .collect();
    let layered = cryo_debbuild::prepare_from_base(
        &tools_dir,
        &DeltaPlan {
            install: delta.clone(),
            expected,
            build_user: plan.build_user,
            source_date_epoch: plan.source_date_epoch,
        },
        &root_dir,
        &work.path().join("copy"),
        &common::helper(),
    )
    .unwrap_or_else(|e| panic!("prepare_from_base: {}", common::chain(&e)));
    let layered_time = t.elapsed();
    eprintln!(
        "root from the tool layer: {} + {} + {} packages in {layered_time:?} (one-shot: {:?})",
        base.preinstall.len() + base.install.len(),
        tools.len(),
        delta.len(),
        one_shot.prepare_time
    );
    for p in &layered.phases {
        eprintln!("  phase {:?}: {:?}", p.phase, p.duration);
    }
    let phases: Vec<RootPhase> = layered.phases.iter().map(|p| p.phase).collect();
    assert_eq!(phases, [Copy, Install, Finish]);
    assert_eq!(layered.packages, one_shot.info.packages);
    assert_eq!(
        listing(&base_dir),
        base_listing,
        "the base layer is never written"
    );
    assert_eq!(
        listing(&tools_dir),
        tools_listing,
        "the tool layer is never written"
    );

    let a = listing(&one_shot.dir);
    let b = listing(&root_dir);
    let mut diffs = Vec::new();
    for k in a.keys().chain(b.keys()) {
        if a.get(k) != b.get(k) && !diffs.contains(k) {
            diffs.push(k.clone());
        }
    }
    for k in &diffs {
        eprintln!(
            "differs: {k}\n  one-shot: {:?}\n  layered:  {:?}",
            a.get(k),
            b.get(k)
        );
    }
    assert!(
        diffs.is_empty(),
        "{} paths differ between the one-shot and the layered root",
        diffs.len()
    );
    for f in [
        "var/lib/dpkg/status",
        "etc/passwd",
        "etc/group",
        "etc/shadow",
    ] {
        assert_eq!(
            std::fs::read(one_shot.dir.join(f)).unwrap(),
            std::fs::read(root_dir.join(f)).unwrap(),
            "{f}"
        );
    }
    cryo_debbuild::remove_tree(work.path(), &root_dir, &common::helper()).unwrap();
    cryo_debbuild::remove_tree(work.path(), &tools_dir, &common::helper()).unwrap();
}
