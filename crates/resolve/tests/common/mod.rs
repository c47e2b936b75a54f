//! Fixture access shared by the integration tests and the bench: the mirror, the parsed
//! universe of both archives (parsed once), fixture sources and the prjconf.
#![allow(dead_code)]

pub mod apt;

use std::path::PathBuf;
use std::sync::OnceLock;

use cryo_debian::index::{parse_packages, parse_sources, SourcePackage};
use cryo_prjconf::{ParseContext, Prjconf};
use cryo_resolve::{Candidate, Universe};

/// The fixture sources of `shared/mirror/README.md`.
pub const FIXTURES: [&str; 7] = [
    "base-files",
    "debootstrap",
    "kernel-wedge",
    "libuev",
    "mxml",
    "xfpt",
    "hello",
];

pub const MAIN_PACKAGES: &str = "debian/dists/bookworm/main/binary-amd64/Packages.xz";
pub const MAIN_SOURCES: &str = "debian/dists/bookworm/main/source/Sources.xz";
pub const SEC_PACKAGES: &str =
    "debian-security/dists/bookworm-security/main/binary-amd64/Packages.xz";
pub const SEC_SOURCES: &str = "debian-security/dists/bookworm-security/main/source/Sources.xz";

/// The read-only fixture mirror (`CRYO_FIXTURE_MIRROR` overrides).
pub fn mirror() -> PathBuf {
    match std::env::var_os("CRYO_FIXTURE_MIRROR") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mirror"),
    }
}

/// Read and decompress an index of the fixture.
pub fn index(rel: &str) -> String {
    let path = mirror().join(rel);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let plain = cryo_debian::compression::decompress(&data, Some(rel), 1 << 30).unwrap();
    String::from_utf8(plain).unwrap()
}

/// Candidates of both archives, both at apt's default priority 500.
pub fn candidates() -> Vec<Candidate> {
    let mut out = Vec::new();
    for (rel, origin) in [
        (MAIN_PACKAGES, "bookworm"),
        (SEC_PACKAGES, "bookworm-security"),
    ] {
        let text = index(rel);
        for pkg in parse_packages(&text, Some(rel)).unwrap() {
            out.push(Candidate {
                pkg,
                origin: origin.to_owned(),
                priority: 500,
            });
        }
    }
    out
}

/// The amd64 universe of bookworm + bookworm-security (built once per test binary).
pub fn universe() -> &'static Universe {
    static U: OnceLock<Universe> = OnceLock::new();
    U.get_or_init(|| Universe::new(candidates(), "amd64".parse().unwrap()).unwrap())
}

pub fn prjconf_text() -> String {
    std::fs::read_to_string(mirror().join("debian-12.prjconf")).unwrap()
}

/// The fixture prjconf evaluated for x86_64.
pub fn prjconf() -> &'static Prjconf {
    static P: OnceLock<Prjconf> = OnceLock::new();
    P.get_or_init(|| parse_prjconf(&prjconf_text()))
}

pub fn parse_prjconf(text: &str) -> Prjconf {
    Prjconf::parse(text, "test.prjconf", &ParseContext::new("x86_64")).unwrap()
}

/// The highest version of source `name` over both archives. Only the stanzas of that
/// source are parsed (the whole Sources index is large for a debug build).
pub fn source(name: &str) -> SourcePackage {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| vec![index(MAIN_SOURCES), index(SEC_SOURCES)]);
    let head = format!("Package: {name}\n");
    let mut found: Vec<SourcePackage> = texts
        .iter()
        .flat_map(|t| t.split("\n\n"))
        .filter(|p| p.starts_with(&head))
        .flat_map(|p| parse_sources(p, None).unwrap())
        .collect();
    found.sort_by(|a, b| a.version.cmp(&b.version));
    found
        .pop()
        .unwrap_or_else(|| panic!("source {name} not in the fixture"))
}
