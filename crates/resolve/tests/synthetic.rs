//! Resolver semantics on small synthetic universes: versions, alternatives, virtual
//! packages, qualifiers, profiles, arch restrictions, negative relations, prjconf
//! directives, candidate selection and explanations.

use std::collections::BTreeSet;

use cryo_debian::index::{parse_packages, parse_sources, SourcePackage};
use cryo_prjconf::{ParseContext, Prjconf};
use cryo_resolve::{
    resolve, AlternativePolicy, BuildKind, Candidate, Closure, Miss, ResolveRequest, Universe,
    Unresolvable,
};

const SHA: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Candidates from short stanzas (`Architecture: amd64` unless given), one archive.
fn cands(text: &str, origin: &str, priority: i32) -> Vec<Candidate> {
    let full: Vec<String> = text
        .trim()
        .split("\n\n")
        .map(|p| {
            let p = p.trim();
            let arch = if p.contains("Architecture:") {
                ""
            } else {
                "\nArchitecture: amd64"
            };
            format!("{p}{arch}\nFilename: pool/x.deb\nSize: 1\nSHA256: {SHA}\n")
        })
        .collect();
    parse_packages(&full.join("\n"), None)
        .unwrap()
        .into_iter()
        .map(|pkg| Candidate {
            pkg,
            origin: origin.into(),
            priority,
        })
        .collect()
}

fn uni(text: &str) -> Universe {
    Universe::new(cands(text, "main", 500), "amd64".parse().unwrap()).unwrap()
}

fn src(fields: &str) -> SourcePackage {
    let t = format!("Package: demo\nVersion: 1.0\nBinary: demo, libdemo1\n{fields}\n");
    parse_sources(&t, None).unwrap().remove(0)
}

fn conf(text: &str) -> Prjconf {
    Prjconf::parse(text, "t.prjconf", &ParseContext::new("x86_64")).unwrap()
}

fn run(u: &Universe, s: &SourcePackage, c: &Prjconf) -> Result<Closure, Unresolvable> {
    let mut req = ResolveRequest::new(s, c);
    req.essential = false;
    resolve(u, &req)
}

fn names(c: &Closure) -> Vec<String> {
    c.all()
        .map(|s| format!("{}={}", s.name, s.version))
        .collect()
}

fn ok(u: &Universe, fields: &str, prjconf: &str) -> Vec<String> {
    let mut v = names(&run(u, &src(fields), &conf(prjconf)).unwrap_or_else(|e| panic!("{e}")));
    v.sort();
    v
}

fn err(u: &Universe, fields: &str, prjconf: &str) -> Unresolvable {
    match run(u, &src(fields), &conf(prjconf)) {
        Ok(c) => panic!("expected failure, got {:?}", names(&c)),
        Err(e) => e,
    }
}

#[test]
fn versions_depends_and_no_recommends() {
    let u = uni(
        "Package: a\nVersion: 2.0\nDepends: b (>= 1.5)\nPre-Depends: p\nRecommends: r\n\n\
                 Package: b\nVersion: 1.5\n\nPackage: p\nVersion: 1\n\nPackage: r\nVersion: 1",
    );
    assert_eq!(
        ok(&u, "Build-Depends: a (>> 1.0)", ""),
        ["a=2.0", "b=1.5", "p=1"]
    );
    let e = err(&u, "Build-Depends: a (<< 2.0)", "");
    let text = e.to_string();
    assert!(
        text.starts_with(
            "demo 1.0 build-depends on a (<< 2.0) but it is not installable: version constraint"
        ),
        "{text}"
    );
    assert!(text.contains("available: a 2.0 (main)"), "{text}");
    let e = err(&u, "Build-Depends: zzz", "");
    assert!(
        matches!(&e, Unresolvable::Unsatisfiable { misses, .. }
        if misses == &[Miss::NotInUniverse { name: "zzz".into() }]),
        "{e}"
    );
}

#[test]
fn failure_chain_goes_through_dependencies() {
    let u = uni(
        "Package: a\nVersion: 1\nDepends: b\n\nPackage: b\nVersion: 1\nDepends: c (>= 3)\n\n\
                 Package: c\nVersion: 2",
    );
    let e = err(&u, "Build-Depends: a", "").to_string();
    assert_eq!(
        e,
        "demo 1.0 build-depends on a -> a 1 depends on b -> b 1 depends on c (>= 3) but it is not \
         installable: version constraint of c (>= 3) not satisfied (available: c 2 (main))"
    );
}

#[test]
fn alternatives_first_installable_or_already_chosen() {
    let u = uni(
        "Package: x\nVersion: 1\nDepends: m | n\n\nPackage: y\nVersion: 1\nDepends: n\n\n\
                 Package: m\nVersion: 1\n\nPackage: n\nVersion: 1\n\n\
                 Package: z\nVersion: 1\nDepends: gone | n",
    );
    assert_eq!(ok(&u, "Build-Depends: x", ""), ["m=1", "x=1"]);
    // n is pulled in unambiguously by y, so x's `m | n` is already satisfied.
    assert_eq!(ok(&u, "Build-Depends: x, y", ""), ["n=1", "x=1", "y=1"]);
    assert_eq!(ok(&u, "Build-Depends: z", ""), ["n=1", "z=1"]);
    // A positive Prefer overrides the order of alternatives.
    assert_eq!(ok(&u, "Build-Depends: x", "Prefer: n"), ["n=1", "x=1"]);
    assert_eq!(ok(&u, "Build-Depends: x", "Prefer: -m"), ["n=1", "x=1"]);
}

#[test]
fn build_dep_alternatives_follow_sbuild_by_default() {
    let u = uni("Package: m\nVersion: 1\n\nPackage: n\nVersion: 1");
    let e = err(&u, "Build-Depends: gone | n", "");
    assert!(e.to_string().contains("gone is not in the universe"), "{e}");
    let s = src("Build-Depends: gone | n");
    let c = conf("");
    let mut req = ResolveRequest::new(&s, &c);
    req.alternatives = AlternativePolicy::Resolve;
    assert_eq!(names(&resolve(&u, &req).unwrap()), ["n=1"]);
    // Same-name alternatives survive the stripping.
    let u = uni("Package: m\nVersion: 5");
    assert_eq!(ok(&u, "Build-Depends: m (<< 3) | m (>= 4)", ""), ["m=5"]);
}

#[test]
fn virtual_packages_and_versioned_provides() {
    let u = uni("Package: one\nVersion: 1\nProvides: solo\n\n\
                 Package: v1\nVersion: 1\nProvides: virt, compat (= 13)\n\n\
                 Package: v2\nVersion: 1\nProvides: virt, compat (= 12)\n\n\
                 Package: real\nVersion: 1\n\nPackage: fake\nVersion: 1\nProvides: real");
    assert_eq!(ok(&u, "Build-Depends: solo", ""), ["one=1"]);
    assert_eq!(ok(&u, "Build-Depends: compat (= 13)", ""), ["v1=1"]);
    assert_eq!(
        ok(&u, "Build-Depends: compat (>= 12)", "Prefer: v2"),
        ["v2=1"]
    );
    let e = err(&u, "Build-Depends: virt", "");
    assert!(
        matches!(&e, Unresolvable::Choice { candidates, .. } if candidates == &["v1 1", "v2 1"]),
        "{e}"
    );
    assert!(e.to_string().contains("have choice: v1 1, v2 1"), "{e}");
    assert_eq!(ok(&u, "Build-Depends: virt", "Prefer: v2"), ["v2=1"]);
    // A provider already in the closure decides.
    assert_eq!(ok(&u, "Build-Depends: virt, v1", ""), ["v1=1"]);
    // A real package wins over providers; an unversioned Provides satisfies no version.
    assert_eq!(ok(&u, "Build-Depends: real", ""), ["real=1"]);
    let e = err(&u, "Build-Depends: solo (>= 1)", "").to_string();
    assert!(e.contains("one 1 provides solo (unversioned)"), "{e}");
}

#[test]
fn arch_qualifiers_and_multi_arch() {
    let u = uni("Package: allowed\nVersion: 1\nMulti-Arch: allowed\n\n\
                 Package: foreign\nVersion: 1\nMulti-Arch: foreign\n\n\
                 Package: plain\nVersion: 1\n\n\
                 Package: indep\nVersion: 1\nArchitecture: all\n\n\
                 Package: armonly\nVersion: 1\nArchitecture: arm64");
    assert_eq!(
        ok(
            &u,
            "Build-Depends: allowed:any, plain:native, indep:amd64",
            ""
        ),
        ["allowed=1", "indep=1", "plain=1"]
    );
    for bad in ["plain:any", "foreign:any", "plain:arm64"] {
        let e = err(&u, &format!("Build-Depends: {bad}"), "").to_string();
        assert!(e.contains("architecture qualifier"), "{bad}: {e}");
    }
    let e = err(&u, "Build-Depends: armonly", "").to_string();
    assert!(
        e.contains("armonly exists only for other architectures (arm64)"),
        "{e}"
    );
}

#[test]
fn profiles_arch_restrictions_and_build_kinds() {
    let u = uni(
        "Package: t\nVersion: 1\n\nPackage: l\nVersion: 1\n\nPackage: h\nVersion: 1\n\n\
                 Package: ad\nVersion: 1\n\nPackage: id\nVersion: 1",
    );
    let f = "Build-Depends: t <!nocheck>, l [linux-any], h [hurd-any], l [!amd64] | h\n\
             Build-Depends-Arch: ad\nBuild-Depends-Indep: id";
    // `l [!amd64] | h` reduces to `h` on amd64; `h [hurd-any]` disappears.
    assert_eq!(ok(&u, f, ""), ["ad=1", "h=1", "id=1", "l=1", "t=1"]);
    let prof = "Macros:\n%deb_build_profiles nocheck\n:Macros\n";
    assert_eq!(ok(&u, f, prof), ["ad=1", "h=1", "id=1", "l=1"]);
    let s = src(f);
    let c = conf("");
    for (kind, want) in [
        (BuildKind::ArchOnly, ["ad=1", "h=1", "l=1", "t=1"]),
        (BuildKind::IndepOnly, ["h=1", "id=1", "l=1", "t=1"]),
    ] {
        let mut req = ResolveRequest::new(&s, &c);
        req.build = kind;
        req.profiles = BTreeSet::new();
        assert_eq!(names(&resolve(&u, &req).unwrap()), want, "{kind:?}");
    }
}

#[test]
fn conflicts_breaks_and_build_conflicts() {
    let u = uni(
        "Package: a\nVersion: 1\nConflicts: b\n\nPackage: b\nVersion: 1\n\n\
                 Package: c\nVersion: 1\nBreaks: d (<< 2)\n\nPackage: d\nVersion: 1\n\n\
                 Package: self\nVersion: 1\nProvides: thing\nConflicts: thing\n\n\
                 Package: e\nVersion: 1\nDepends: b | f\n\nPackage: f\nVersion: 1",
    );
    let e = err(&u, "Build-Depends: a, b", "").to_string();
    assert!(
        e.contains("b 1 conflicts with a 1 (a declares Conflicts: b)"),
        "{e}"
    );
    let e = err(&u, "Build-Depends: d, c", "").to_string();
    assert!(
        e.contains("conflicts with d 1 (c declares Breaks: d (<< 2))"),
        "{e}"
    );
    assert_eq!(ok(&u, "Build-Depends: self", ""), ["self=1"]);
    // Choices steer around conflicts.
    assert_eq!(ok(&u, "Build-Depends: a, e", ""), ["a=1", "e=1", "f=1"]);
    let e = err(&u, "Build-Depends: b\nBuild-Conflicts: b", "").to_string();
    assert!(e.contains("demo Build-Conflicts: b"), "{e}");
    assert_eq!(
        ok(&u, "Build-Depends: e\nBuild-Conflicts: b", ""),
        ["e=1", "f=1"]
    );
    let e = err(&u, "Build-Depends: b, d", "Conflict: b:d").to_string();
    assert!(e.contains("prjconf Conflict"), "{e}");
}

#[test]
fn substitute_ignore_and_keep() {
    let u = uni(
        "Package: pkg-config\nVersion: 1\n\nPackage: a\nVersion: 1\nDepends: broken, b\n\n\
                 Package: b\nVersion: 1\nDepends: gone\n\nPackage: demo\nVersion: 0.9\n\n\
                 Package: uses-demo\nVersion: 1\nDepends: demo",
    );
    assert_eq!(
        ok(
            &u,
            "Build-Depends: pkgconfig (>= 0.29)",
            "Substitute: pkgconfig pkg-config"
        ),
        ["pkg-config=1"]
    );
    assert_eq!(
        ok(&u, "Build-Depends: junk", "Substitute: junk"),
        Vec::<String>::new()
    );
    assert_eq!(
        ok(&u, "Build-Depends: a", "Ignore: broken b:gone"),
        ["a=1", "b=1"]
    );
    assert_eq!(
        ok(&u, "Build-Depends: a", "Ignore: demo:a"),
        Vec::<String>::new()
    );
    // Ignore never drops what the prjconf itself lists.
    assert_eq!(
        ok(&u, "", "Required: pkg-config\nIgnore: pkg-config"),
        ["pkg-config=1"]
    );
    let e = err(&u, "Build-Depends: a", "Ignore: broken other:gone").to_string();
    assert!(e.contains("b 1 depends on gone"), "{e}");
    // The source builds `demo`: OBS does not install it unless kept or asked for directly.
    let e = err(&u, "Build-Depends: uses-demo", "").to_string();
    assert!(
        e.contains("demo 0.9 is excluded: built by the source being built"),
        "{e}"
    );
    assert_eq!(
        ok(&u, "Build-Depends: uses-demo", "Keep: demo"),
        ["demo=0.9", "uses-demo=1"]
    );
    assert_eq!(
        ok(&u, "Build-Depends: uses-demo, demo", ""),
        ["demo=0.9", "uses-demo=1"]
    );
}

#[test]
fn preinstall_split_required_support_and_essential() {
    let u = uni("Package: core\nVersion: 1\nEssential: yes\nDepends: libcore\n\n\
                 Package: libcore\nVersion: 1\n\nPackage: tool\nVersion: 1\nDepends: libcore, libtool\n\n\
                 Package: libtool\nVersion: 1\n\nPackage: ess\nVersion: 1\nEssential: yes");
    let c = conf("ExpandFlags: preinstallexpand\nPreinstall: core\nRequired: tool\n");
    let s = src("Build-Depends: ess");
    let cl = run(&u, &s, &c).unwrap();
    let pre: Vec<&str> = cl.preinstall.iter().map(|s| s.name.as_str()).collect();
    let inst: Vec<&str> = cl.install.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        (pre, inst),
        (vec!["core", "libcore"], vec!["ess", "libtool", "tool"])
    );
    assert_eq!(
        cl.get("libtool").unwrap().reason.to_string(),
        "prjconf lists in Required: tool -> tool 1 depends on libtool"
    );
    // Without preinstallexpand only the named packages are preinstalled.
    let c = conf("Preinstall: core\n");
    let cl = run(&u, &src(""), &c).unwrap();
    assert_eq!(cl.preinstall.len(), 1);
    assert_eq!(cl.install[0].name, "libcore");
    // Essential packages join the install set by default, with their reason.
    let empty = src("");
    let req = ResolveRequest::new(&empty, &c);
    let cl = resolve(&u, &req).unwrap();
    assert_eq!(names(&cl), ["core=1", "ess=1", "libcore=1"]);
    assert_eq!(
        cl.get("ess").unwrap().reason.to_string(),
        "ess 1 is Essential: yes"
    );
}

#[test]
fn candidate_selection_priority_then_version() {
    let mut c = cands(
        "Package: a\nVersion: 1.0\n\nPackage: b\nVersion: 2.0",
        "main",
        500,
    );
    c.extend(cands(
        "Package: a\nVersion: 1.1\n\nPackage: b\nVersion: 2.1",
        "security",
        500,
    ));
    c.extend(cands("Package: b\nVersion: 3.0", "backports", 100));
    let u = Universe::new(c.clone(), "amd64".parse().unwrap()).unwrap();
    let cl = run(&u, &src("Build-Depends: a, b"), &conf("")).unwrap();
    let got: Vec<(String, String)> = cl
        .all()
        .map(|s| (s.name.clone(), s.origin.clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("a".into(), "security".into()),
            ("b".into(), "security".into())
        ]
    );
    // A version only the lower-priority archive has is not installable (apt does the same),
    // and the explanation names it.
    let e = err(&u, "Build-Depends: b (>= 3)", "").to_string();
    assert!(
        e.contains("b 3.0 (backports, amd64, not the candidate: priority 100)"),
        "{e}"
    );
    // Pinning: priority beats version; the order of the input does not matter.
    c.iter_mut()
        .filter(|x| x.origin == "main")
        .for_each(|x| x.priority = 990);
    c.reverse();
    let u = Universe::new(c, "amd64".parse().unwrap()).unwrap();
    let cl = run(&u, &src("Build-Depends: a, b"), &conf("")).unwrap();
    assert_eq!(names(&cl), ["a=1.0", "b=2.0"]);
}

#[test]
fn missing_fetch_fields_are_rejected() {
    let pkg = parse_packages("Package: a\nVersion: 1\nArchitecture: amd64\n", None)
        .unwrap()
        .remove(0);
    let e = Universe::new(
        vec![Candidate {
            pkg,
            origin: "x".into(),
            priority: 500,
        }],
        "amd64".parse().unwrap(),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "package a 1 (x): missing field Filename");
}
