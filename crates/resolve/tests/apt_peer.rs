//! Cross-check against the real apt: for every fixture source, our closure equals what
//! `apt-get satisfy -s --no-install-recommends` installs from an empty dpkg status for the
//! prjconf's Preinstall + Required + Support names plus the source's build dependencies,
//! and contains what `apt-get build-dep -s` picks, version for version.

mod common;

use std::collections::BTreeMap;

use cryo_resolve::{resolve, ResolveRequest};

fn ours(name: &str) -> BTreeMap<String, String> {
    let src = common::source(name);
    let req = ResolveRequest::new(&src, common::prjconf());
    let closure = resolve(common::universe(), &req).unwrap_or_else(|e| panic!("{name}: {e}"));
    closure
        .all()
        .map(|s| (s.name.clone(), s.version.to_string()))
        .collect()
}

fn apt_full(name: &str) -> BTreeMap<String, String> {
    let src = common::source(name);
    let conf = common::prjconf();
    let mut args: Vec<String> = vec!["satisfy".into()];
    args.extend(
        conf.preinstall()
            .iter()
            .chain(conf.required())
            .chain(conf.support())
            .map(|n| n.to_string()),
    );
    for f in [
        &src.build_depends,
        &src.build_depends_arch,
        &src.build_depends_indep,
    ] {
        if !f.0.is_empty() {
            args.push(f.to_string());
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::apt::apt().simulate(&args)
}

fn diff(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    a.iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k} {v}"))
        .collect()
}

#[test]
fn closures_equal_apt_for_every_fixture_source() {
    for name in common::FIXTURES {
        let ours = ours(name);
        let apt = apt_full(name);
        // The prjconf explains no difference here: every Essential package is in
        // Preinstall, and Prefer: mawk / build-essential:make pick what apt picks.
        let only_ours = diff(&ours, &apt);
        let only_apt = diff(&apt, &ours);
        assert!(
            only_ours.is_empty() && only_apt.is_empty(),
            "{name}: only ours: {only_ours:?}; only apt: {only_apt:?}"
        );
        assert!(ours.len() > 150, "{name}: {}", ours.len());
    }
}

#[test]
fn closures_contain_apt_build_dep() {
    for name in common::FIXTURES {
        let ours = ours(name);
        let apt = common::apt::apt().simulate(&["build-dep", name]);
        assert!(!apt.is_empty(), "{name}: apt installs nothing");
        let missing = diff(&apt, &ours);
        assert!(
            missing.is_empty(),
            "{name}: apt build-dep picks {missing:?}"
        );
    }
}
