//! The real Debian 12 prjconf from the fixture mirror parses to exactly what it declares.

mod common;

use common::{fixture_text, names, parse, parse_arch, words};

#[test]
fn fixture_parses_for_x86_64_with_declared_sets() {
    let c = parse(&fixture_text());
    assert!(c.warnings().is_empty(), "warnings: {:?}", c.warnings());
    assert!(c.unknown().is_empty());
    assert_eq!(c.repotype(), ["debian"]);
    assert_eq!(c.build_type(), Some("dsc"));
    assert_eq!(c.binary_type(), Some("deb"));
    assert_eq!(
        names(c.preinstall()),
        words(
            "base-files base-passwd bash bsdutils coreutils dash debconf debianutils \
             diffutils dpkg findutils grep gzip hostname init-system-helpers libc-bin \
             login mawk ncurses-base ncurses-bin perl-base sed sysvinit-utils tar util-linux"
        )
    );
    assert_eq!(names(c.runscripts()), ["base-passwd", "base-files"]);
    assert_eq!(names(c.required()), ["build-essential"]);
    assert_eq!(
        names(c.support()),
        words("apt e2fsprogs libpam-modules libpam-modules-bin libpam-runtime mount passwd tzdata fakeroot")
    );
    let prefer: Vec<String> = c.prefer().iter().map(|p| p.to_string()).collect();
    assert_eq!(prefer, ["mawk", "build-essential:make"]);
    assert_eq!(
        c.prefer()[1].origin.as_ref().map(|o| o.as_str()),
        Some("build-essential")
    );
    // The fixture keeps the whole base build set (Debian's buildds never remove a package
    // of it): the toolchain line and every package of Preinstall + Required +
    // Support and their dependencies, among them packages a source can itself produce.
    let keep = names(c.keep());
    for kept in words("binutils cpp gcc make patch perl") {
        assert!(keep.contains(&kept), "{kept} is not kept: {keep:?}");
    }
    for kept in [
        "tzdata",
        "debian-archive-keyring",
        "base-files",
        "libc6",
        "fakeroot",
        "dpkg-dev",
    ] {
        assert!(
            keep.iter().any(|k| k == kept),
            "{kept} is not kept: {keep:?}"
        );
    }
    let unique: std::collections::BTreeSet<&String> = keep.iter().collect();
    assert_eq!(unique.len(), 150, "distinct kept packages");
    let subst: Vec<(String, Vec<String>)> = c
        .substitute()
        .iter()
        .map(|(k, v)| (k.to_string(), names(v)))
        .collect();
    assert_eq!(
        subst,
        [
            ("gcc-c++".to_owned(), vec!["g++".to_owned()]),
            ("pkgconfig".to_owned(), vec!["pkg-config".to_owned()]),
        ]
    );
    assert!(c.has_expand_flag("preinstallexpand"));
    assert_eq!(c.deb_build_options(), Some("parallel=2"));
    assert_eq!(c.deb_build_profiles(), None);
    let macros: Vec<(&str, &str)> = c
        .macros()
        .iter()
        .map(|(k, v)| (k.as_str(), v.body.as_str()))
        .collect();
    assert_eq!(
        macros,
        [
            ("deb_build_options", "parallel=2"),
            ("debian", "12"),
            ("debian_version", "1200")
        ]
    );
    let defines: Vec<(&str, &str)> = c
        .defines()
        .iter()
        .map(|(k, v)| (k.as_str(), v.body.as_str()))
        .collect();
    assert_eq!(
        defines,
        [
            ("deb_host_multiarch", "x86_64-linux-gnu"),
            ("debian", "12"),
            ("debian_version", "1200")
        ]
    );
    assert_eq!(c.cryo(), &cryo_prjconf::CryoSettings::default());
}

#[test]
fn fixture_for_arm64_drops_the_x86_64_define_only() {
    let x86 = parse(&fixture_text());
    let arm = parse_arch(&fixture_text(), "aarch64");
    assert!(!arm.defines().contains_key("deb_host_multiarch"));
    assert_eq!(arm.support(), x86.support());
    assert_eq!(arm.deb_build_options(), Some("parallel=2"));
    assert_ne!(arm.normalized_hash(), x86.normalized_hash());
}

#[test]
fn fixture_hash_is_stable_across_parses() {
    let a = parse(&fixture_text());
    let b = parse(&fixture_text());
    assert_eq!(a.normalized(), b.normalized());
    assert_eq!(a.normalized_hash(), b.normalized_hash());
    assert_eq!(a.normalized_hash().len(), 64);
}
