//! The resolver on small hand-made universes: providers, versions, files, choices,
//! Prefer/Ignore/Substitute/Keep, conflicts and obsoletes, os + updates.

use cryo_prjconf::{ParseContext, Prjconf};
use cryo_rpm::checksum::{Checksum, ChecksumType};
use cryo_rpm::deps::Dep;
use cryo_rpm::evr::Evr;
use cryo_rpm::name::{Arch, PackageName};
use cryo_rpm::primary::{FileEntry, FileKind, Location, Package};
use cryo_rpm::resolve::{resolve, Miss, Policy, ResolveRequest, Unresolvable};
use cryo_rpm::universe::{Repo, Universe};

/// `spec`: "name-ver-rel.arch" then `;`-separated fields `P:dep,dep` `R:` `C:` `O:` `F:`.
fn pkg(spec: &str) -> Package {
    let mut parts = spec.split(';');
    let nevra = parts.next().unwrap();
    let (rest, arch) = nevra.rsplit_once('.').unwrap();
    let (nv, rel) = rest.rsplit_once('-').unwrap();
    let (name, ver) = nv.rsplit_once('-').unwrap();
    let (epoch, ver) = match ver.split_once(':') {
        Some((e, v)) => (Some(e.parse().unwrap()), v),
        None => (Some(0), ver),
    };
    let mut p = Package {
        name: PackageName::new(name).unwrap(),
        arch: Arch::new(arch).unwrap(),
        evr: Evr::new(epoch, ver, Some(rel)).unwrap(),
        pkgid: Checksum::of(ChecksumType::Sha256, nevra.as_bytes()),
        location: Location {
            href: format!("Packages/{nevra}.rpm"),
            base: None,
        },
        size: 1,
        installed_size: None,
        build_time: None,
        summary: None,
        license: None,
        sourcerpm: None,
        header_range: None,
        provides: vec![],
        requires: vec![],
        conflicts: vec![],
        obsoletes: vec![],
        recommends: vec![],
        suggests: vec![],
        supplements: vec![],
        enhances: vec![],
        files: vec![],
    };
    for field in parts {
        let (k, v) = field.split_once(':').unwrap();
        let deps = || {
            v.split(',')
                .map(|d| {
                    if d.starts_with('(') {
                        Dep::name(d)
                    } else {
                        Dep::parse(d).unwrap()
                    }
                })
                .collect::<Vec<_>>()
        };
        match k {
            "P" => p.provides = deps(),
            "R" => p.requires = deps(),
            "C" => p.conflicts = deps(),
            "O" => p.obsoletes = deps(),
            "F" => {
                p.files = v
                    .split(',')
                    .map(|f| FileEntry {
                        path: f.to_owned(),
                        kind: FileKind::File,
                    })
                    .collect()
            }
            _ => panic!("{k}"),
        }
    }
    p
}

fn uni(repos: &[(&str, &[&str])]) -> Universe {
    Universe::new(
        &Arch::new("x86_64").unwrap(),
        repos
            .iter()
            .map(|(name, pkgs)| Repo {
                name: (*name).to_owned(),
                packages: pkgs.iter().map(|s| pkg(s)).collect(),
                filelists: vec![],
            })
            .collect(),
    )
    .unwrap()
}

fn policy(text: &str) -> Policy {
    Policy::from_prjconf(&Prjconf::parse(text, "t.prjconf", &ParseContext::new("x86_64")).unwrap())
}

fn req(deps: &[&str]) -> ResolveRequest {
    ResolveRequest {
        source: "demo".into(),
        source_evr: Some("1.0-1".into()),
        build_requires: deps.iter().map(|s| s.to_string()).collect(),
        own_binaries: Default::default(),
    }
}

fn names(c: &cryo_rpm::resolve::Closure) -> Vec<String> {
    c.all().map(|s| s.nevra()).collect()
}

const BASE: &[&str] = &[
    "bash-4.2-1.x86_64;P:/bin/sh;R:libc.so.6()(64bit);F:/bin/bash",
    "glibc-2.17-1.x86_64;P:libc.so.6()(64bit),ld-linux-x86-64.so.2()(64bit);R:rpmlib(CompressedFileNames) <= 3.0.4-1",
    "gcc-4.8-1.x86_64;R:glibc >= 2.17,/usr/bin/as,cpp = 4.8-1",
    "cpp-4.8-1.x86_64;R:glibc",
    "binutils-2.27-1.x86_64;F:/usr/bin/as,/usr/bin/ld",
    "rpm-4.11-1.x86_64;R:/bin/sh,(a or b)",
];

#[test]
fn versions_files_sonames_and_prjconf_lists() {
    let u = uni(&[("os", BASE)]);
    let c = resolve(&u, &policy("Preinstall: bash\nSupport: gcc\n"), &req(&[])).unwrap();
    assert_eq!(
        names(&c),
        [
            "bash-4.2-1.x86_64",
            "binutils-2.27-1.x86_64",
            "cpp-4.8-1.x86_64",
            "gcc-4.8-1.x86_64",
            "glibc-2.17-1.x86_64"
        ]
    );
    assert_eq!(c.preinstall.len(), 1);
    let why = c.get("binutils").unwrap().reason.to_string();
    assert_eq!(
        why,
        "prjconf lists in Support: gcc -> gcc 0:4.8-1 requires /usr/bin/as"
    );
}

#[test]
fn rich_dependencies_are_refused_naming_the_package() {
    let u = uni(&[("os", BASE)]);
    let e = resolve(&u, &Policy::default(), &req(&["rpm"])).unwrap_err();
    assert_eq!(
        e,
        Unresolvable::Unsupported {
            package: "rpm".into(),
            dependency: "(a or b)".into()
        }
    );
    let e = resolve(&u, &Policy::default(), &req(&["(x if y)"])).unwrap_err();
    assert!(e.to_string().contains("demo: rich dependency"), "{e}");
    // Ignore: rpm:(a or b) would not help (the name is the whole expression), but
    // Ignore of the whole package's requirement by origin works for plain names.
    let e = resolve(&u, &Policy::default(), &req(&["foo >="])).unwrap_err();
    assert!(matches!(e, Unresolvable::BadRequest { .. }), "{e}");
}

#[test]
fn missing_and_version_errors_say_why() {
    let u = uni(&[("os", BASE)]);
    let e = resolve(&u, &Policy::default(), &req(&["nothere"])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "demo 1.0-1 build-requires nothere but it is not installable: nothing provides nothere"
    );
    let e = resolve(&u, &Policy::default(), &req(&["glibc >= 2.28"])).unwrap_err();
    assert!(
        e.to_string().contains(
            "version constraint of glibc >= 2.28 not satisfied (available: glibc-2.17-1.x86_64)"
        ),
        "{e}"
    );
}

#[test]
fn best_evr_across_os_and_updates() {
    let u = uni(&[
        ("os", &["z-1.0-1.x86_64", "y-1.0-1.x86_64"]),
        ("updates", &["z-1.0-2.x86_64", "y-1.0-1.x86_64"]),
    ]);
    let c = resolve(&u, &Policy::default(), &req(&["z", "y", "z < 1.0-2"]));
    // z < 1.0-2 after z-1.0-2 was chosen: other version already selected.
    let e = c.unwrap_err();
    assert!(
        matches!(&e, Unresolvable::Unsatisfiable { misses, .. } if matches!(misses[0], Miss::OtherVersion { .. })),
        "{e}"
    );
    let c = resolve(&u, &Policy::default(), &req(&["z", "y"])).unwrap();
    assert_eq!(c.get("z").unwrap().repo, "updates");
    assert_eq!(c.get("z").unwrap().evr.to_string(), "0:1.0-2");
    assert_eq!(
        c.get("y").unwrap().repo,
        "os",
        "same EVR: the first repository"
    );
    let c = resolve(&u, &Policy::default(), &req(&["z < 1.0-2"])).unwrap();
    assert_eq!(c.get("z").unwrap().evr.to_string(), "0:1.0-1");
}

const CHOICE: &[&str] = &[
    "app-1-1.x86_64;R:mta",
    "postfix-2-1.x86_64;P:mta",
    "sendmail-8-1.x86_64;P:mta",
    "exim-4-1.x86_64;P:mta,exim-tools",
    "mta-0.1-1.noarch",
    "tools-1-1.x86_64;R:exim-tools",
];

#[test]
fn choices_name_match_prefer_defer_and_error() {
    // A package named like the requirement wins.
    let u = uni(&[("os", CHOICE)]);
    let c = resolve(&u, &Policy::default(), &req(&["app"])).unwrap();
    assert!(c.get("mta").is_some());
    // Without it: have choice.
    let u = uni(&[("os", &CHOICE[..4])]);
    let e = resolve(&u, &Policy::default(), &req(&["app"])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "demo 1.0-1 build-requires app -> app 0:1-1 requires mta: have choice for mta: \
         exim-4-1.x86_64 postfix-2-1.x86_64 sendmail-8-1.x86_64 (add Prefer: to the prjconf)"
    );
    // Prefer: decides (first listed wins); -name refuses.
    let c = resolve(&u, &policy("Prefer: sendmail postfix\n"), &req(&["app"])).unwrap();
    assert!(c.get("sendmail").is_some() && c.get("postfix").is_none());
    let c = resolve(&u, &policy("Prefer: -sendmail -exim\n"), &req(&["app"])).unwrap();
    assert!(c.get("postfix").is_some());
    let c = resolve(&u, &policy("Prefer: app:exim\n"), &req(&["app"])).unwrap();
    assert!(c.get("exim").is_some());
    let e = resolve(&u, &policy("Prefer: other:exim\n"), &req(&["app"])).unwrap_err();
    assert!(matches!(e, Unresolvable::Choice { .. }));
    // Deferred: a later requirement selects exim, which then satisfies mta.
    let u = uni(&[("os", &[&CHOICE[..4], &CHOICE[5..]].concat())]);
    let c = resolve(&u, &Policy::default(), &req(&["app", "tools"])).unwrap();
    assert!(c.get("exim").is_some() && c.get("postfix").is_none());
}

#[test]
fn ignore_substitute_keep_and_removal() {
    let u = uni(&[("os", BASE)]);
    let c = resolve(
        &u,
        &policy("Ignore: gcc:/usr/bin/as\nSupport: gcc\n"),
        &req(&[]),
    )
    .unwrap();
    assert!(c.get("binutils").is_none());
    let c = resolve(&u, &policy("Ignore: glibc\n"), &req(&["cpp"])).unwrap();
    assert_eq!(names(&c), ["cpp-4.8-1.x86_64"]);
    let c = resolve(
        &u,
        &policy("Substitute: compiler gcc binutils\n"),
        &req(&["compiler"]),
    )
    .unwrap();
    assert!(c.get("gcc").is_some() && c.get("binutils").is_some());
    let c = resolve(&u, &policy("Support: gcc\n"), &req(&["-gcc", "bash"])).unwrap();
    assert!(c.get("gcc").is_none());
    let e = resolve(&u, &policy("Support: gcc\nKeep: gcc\n"), &req(&["-gcc"])).unwrap_err();
    assert_eq!(e, Unresolvable::Kept("gcc".into()));
    // Own binaries are not installed unless kept or named.
    let mut r = req(&["cpp"]);
    r.own_binaries.insert("glibc".into());
    let e = resolve(&u, &Policy::default(), &r).unwrap_err();
    assert!(
        e.to_string()
            .contains("glibc-2.17-1.x86_64 is excluded: built by this source"),
        "{e}"
    );
    assert!(resolve(&u, &policy("Keep: glibc\n"), &r).is_ok());
}

#[test]
fn conflicts_and_obsoletes_refuse_candidates() {
    let u = uni(&[(
        "os",
        &[
            "a-1-1.x86_64;R:b",
            "b-1-1.x86_64;C:c",
            "c-1-1.x86_64",
            "d-1-1.x86_64;O:c < 2",
            "e-1-1.x86_64;P:virt;C:b",
            "f-1-1.x86_64;P:virt",
        ],
    )]);
    let e = resolve(&u, &Policy::default(), &req(&["a", "c"])).unwrap_err();
    assert!(e.to_string().contains("a 0:1-1 requires b but it is not installable: b-1-1.x86_64 conflicts with c-1-1.x86_64 (b-1-1.x86_64 conflicts with c)"), "{e}");
    let e = resolve(&u, &Policy::default(), &req(&["d", "c"])).unwrap_err();
    assert!(
        e.to_string().contains("d-1-1.x86_64 obsoletes c < 2"),
        "{e}"
    );
    // A conflicting provider is skipped in favour of another one.
    let c = resolve(&u, &Policy::default(), &req(&["a", "virt"])).unwrap();
    assert!(c.get("f").is_some() && c.get("e").is_none());
}

#[test]
fn arch_rules() {
    let u = uni(&[(
        "os",
        &[
            "lib-1-1.i686",
            "lib-1-1.x86_64",
            "old-2-1.i686",
            "arm-1-1.aarch64",
            "doc-1-1.noarch",
        ],
    )]);
    let c = resolve(&u, &Policy::default(), &req(&["lib", "old", "doc"])).unwrap();
    assert_eq!(c.get("lib").unwrap().arch.as_str(), "x86_64");
    assert_eq!(c.get("old").unwrap().arch.as_str(), "i686");
    let e = resolve(&u, &Policy::default(), &req(&["arm"])).unwrap_err();
    assert!(e.to_string().contains("nothing provides arm"), "{e}");
}

#[test]
fn prjconf_conflict_and_preinstallexpand() {
    let u = uni(&[("os", BASE)]);
    let e = resolve(&u, &policy("Conflict: cpp:gcc\n"), &req(&["gcc"])).unwrap_err();
    assert!(
        e.to_string().contains(
            "cpp-4.8-1.x86_64 conflicts with gcc-4.8-1.x86_64 (prjconf Conflict: cpp:gcc)"
        ),
        "{e}"
    );
    let c = resolve(&u, &policy("Preinstall: bash\n"), &req(&[])).unwrap();
    assert_eq!(c.preinstall.len(), 1);
    assert_eq!(c.install.len(), 1);
    let c = resolve(
        &u,
        &policy("Preinstall: bash\nExpandFlags: preinstallexpand\n"),
        &req(&[]),
    )
    .unwrap();
    let pre: Vec<&str> = c.preinstall.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(pre, ["bash", "glibc"]);
    assert!(c.install.is_empty());
    // Even when a Support: package needs the same library.
    let c = resolve(
        &u,
        &policy("Preinstall: bash\nSupport: cpp\nExpandFlags: preinstallexpand\n"),
        &req(&[]),
    )
    .unwrap();
    let pre: Vec<&str> = c.preinstall.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(pre, ["bash", "glibc"]);
    assert_eq!(c.install.len(), 1);
}

#[test]
fn file_conflicts_use_the_file_index() {
    let u = uni(&[(
        "os",
        &[
            "as-1-1.x86_64;F:/usr/bin/as",
            "gas-1-1.x86_64;C:/usr/bin/as",
        ],
    )]);
    let e = resolve(&u, &Policy::default(), &req(&["as", "gas"])).unwrap_err();
    assert!(
        e.to_string()
            .contains("gas-1-1.x86_64 conflicts with as-1-1.x86_64 (gas-1-1.x86_64 conflicts with /usr/bin/as)"),
        "{e}"
    );
    assert_eq!(u.owners("/usr/bin/as").len(), 1);
}
