//! The resolver on the real fixture (bookworm + bookworm-security, full amd64 index):
//! closure shape, fetch data matching the mirror's pool, reasons, determinism, pinning and
//! explanations of failures.

mod common;

use cryo_debian::index::SourcePackage;
use cryo_resolve::{resolve, Candidate, Closure, ResolveRequest, Universe, Unresolvable};

fn hello_closure() -> Closure {
    let src = common::source("hello");
    resolve(
        common::universe(),
        &ResolveRequest::new(&src, common::prjconf()),
    )
    .unwrap()
}

fn with_build_depends(field: &str) -> SourcePackage {
    let t = format!("Package: demo\nVersion: 1\nBinary: demo\nBuild-Depends: {field}\n");
    cryo_debian::index::parse_sources(&t, None)
        .unwrap()
        .remove(0)
}

#[test]
fn hello_closure_shape_and_pool_files() {
    let c = hello_closure();
    let pre: Vec<&str> = c.preinstall.iter().map(|s| s.name.as_str()).collect();
    for n in [
        "bash",
        "dpkg",
        "libc6",
        "mawk",
        "perl-base",
        "tar",
        "usrmerge",
    ] {
        assert!(pre.contains(&n), "{n} not preinstalled: {pre:?}");
    }
    for n in [
        "gcc-12",
        "debhelper",
        "help2man",
        "texinfo",
        "fakeroot",
        "tzdata",
    ] {
        let s = c.install.iter().find(|s| s.name == n);
        assert!(s.is_some(), "{n} not in install");
    }
    assert!(
        c.get("hello").is_none(),
        "the source's own binary is not installed"
    );
    assert!(
        c.get("libfaketime").is_none(),
        "only Recommends/unrelated: not installed"
    );
    assert!(c.install.iter().all(|s| !pre.contains(&s.name.as_str())));
    let perl = c.get("perl-base").unwrap();
    assert_eq!(
        (perl.version.as_str(), perl.origin.as_str()),
        ("5.36.0-7+deb12u4", "bookworm-security")
    );
    // Every selected .deb is in its archive's pool with the indexed size.
    for s in c.all() {
        let archive = if s.origin == "bookworm" {
            "debian"
        } else {
            "debian-security"
        };
        let path = common::mirror().join(archive).join(&s.filename);
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(meta.len(), s.size, "{}", s.name);
    }
}

#[test]
fn reasons_are_chains_from_roots() {
    let c = hello_closure();
    assert_eq!(
        c.get("debhelper").unwrap().reason.to_string(),
        "hello 2.10-3 build-depends on debhelper-compat (= 13)"
    );
    assert_eq!(
        c.get("bash").unwrap().reason.to_string(),
        "prjconf lists in Preinstall: bash"
    );
    let chain = &c.get("dh-autoreconf").unwrap().reason.0;
    assert_eq!(chain[0].package, "hello");
    assert_eq!(chain.last().unwrap().relation, "dh-autoreconf (>= 17~)");
}

#[test]
fn deterministic_regardless_of_input_order() {
    let a = hello_closure();
    assert_eq!(a, hello_closure());
    let mut cands = common::candidates();
    cands.reverse();
    let u = Universe::new(cands, "amd64".parse().unwrap()).unwrap();
    let src = common::source("hello");
    let b = resolve(&u, &ResolveRequest::new(&src, common::prjconf())).unwrap();
    assert_eq!(a, b);
}

#[test]
fn pinning_security_down_selects_main_versions() {
    let cands: Vec<Candidate> = common::candidates()
        .into_iter()
        .map(|mut c| {
            if c.origin == "bookworm-security" {
                c.priority = 100;
            }
            c
        })
        .collect();
    let u = Universe::new(cands, "amd64".parse().unwrap()).unwrap();
    let src = common::source("libuev");
    let c = resolve(&u, &ResolveRequest::new(&src, common::prjconf())).unwrap();
    assert!(c.all().all(|s| s.origin == "bookworm"));
    assert_eq!(
        c.get("perl-base").unwrap().version.as_str(),
        "5.36.0-7+deb12u3"
    );
}

#[test]
fn base_files_keeps_its_own_binary_through_preinstall() {
    let src = common::source("base-files");
    assert!(src.binaries.contains(&"base-files".to_owned()));
    let c = resolve(
        common::universe(),
        &ResolveRequest::new(&src, common::prjconf()),
    )
    .unwrap();
    assert!(c.preinstall.iter().any(|s| s.name == "base-files"));
}

#[test]
fn explanations_on_real_data() {
    let u = common::universe();
    let conf = common::prjconf();
    let src = with_build_depends("debhelper-compat (= 99)");
    let e = resolve(u, &ResolveRequest::new(&src, conf))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("demo 1 build-depends on debhelper-compat (= 99) but it is not installable"),
        "{e}"
    );
    assert!(
        e.contains("debhelper 13.11.4 provides debhelper-compat (= 13)"),
        "{e}"
    );

    let bad = common::parse_prjconf(&format!(
        "{}\nRequired: no-such-package\n",
        common::prjconf_text()
    ));
    let src = with_build_depends("make");
    let e = resolve(u, &ResolveRequest::new(&src, &bad))
        .unwrap_err()
        .to_string();
    assert!(e.contains("prjconf lists in Required: no-such-package but it is not installable: no-such-package is not in the universe"), "{e}");

    // `awk` is virtual: without Preinstall's mawk and without Prefer, it is a real choice.
    let bare = common::parse_prjconf("");
    let src = with_build_depends("awk");
    let mut req = ResolveRequest::new(&src, &bare);
    req.essential = false;
    match resolve(u, &req) {
        Err(Unresolvable::Choice { candidates, .. }) => {
            assert!(
                candidates.iter().any(|c| c.starts_with("mawk ")),
                "{candidates:?}"
            );
            assert!(
                candidates.iter().any(|c| c.starts_with("gawk ")),
                "{candidates:?}"
            );
        }
        other => panic!("expected a choice, got {other:?}"),
    }
    let pref = common::parse_prjconf("Prefer: gawk\n");
    let req = ResolveRequest {
        prjconf: &pref,
        ..req
    };
    let c = resolve(u, &req).unwrap();
    assert!(c.get("gawk").is_some() && c.get("mawk").is_none());
}
