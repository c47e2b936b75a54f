//! Helpers shared by the integration tests: the fixture mirror and a parse shortcut.
#![allow(dead_code)]

use std::path::PathBuf;

use cryo_prjconf::{ParseContext, Prjconf, PrjconfError};

/// `shared/mirror` beside the workspace, or `$CRYO_FIXTURE_MIRROR`.
pub fn mirror() -> PathBuf {
    match std::env::var_os("CRYO_FIXTURE_MIRROR") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mirror"),
    }
}

pub fn fixture_text() -> String {
    let path = mirror().join("debian-12.prjconf");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn parse(text: &str) -> Prjconf {
    parse_arch(text, "x86_64")
}

pub fn parse_arch(text: &str, arch: &str) -> Prjconf {
    Prjconf::parse(text, "t.prjconf", &ParseContext::new(arch))
        .unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

pub fn parse_err(text: &str) -> PrjconfError {
    match Prjconf::parse(text, "t.prjconf", &ParseContext::new("x86_64")) {
        Ok(c) => panic!("expected an error, parsed: {}", c.normalized()),
        Err(e) => e,
    }
}

pub fn names<'a>(it: impl IntoIterator<Item = &'a cryo_prjconf::PackageName>) -> Vec<String> {
    it.into_iter().map(|n| n.to_string()).collect()
}

pub fn words(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.split_whitespace().map(str::to_owned).collect();
    v.sort();
    v
}
