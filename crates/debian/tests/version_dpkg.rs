//! `Version` ordering checked against the real `dpkg --compare-versions`, on generated
//! versions (proptest) and on real versions from the fixture Packages index. dpkg calls
//! are batched into one `sh` run per batch so the test stays fast.

mod common;

use std::cmp::Ordering;
use std::io::Write;
use std::process::{Command, Stdio};

use cryo_debian::version::Version;
use proptest::prelude::*;

fn have_dpkg() -> bool {
    Command::new("dpkg")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Ask dpkg for the ordering of every pair, in one shell process.
fn dpkg_order(pairs: &[(String, String)]) -> Vec<Ordering> {
    let mut script = String::new();
    for (a, b) in pairs {
        // Versions never contain a single quote (validated by Version::from_str).
        script.push_str(&format!(
            "if dpkg --compare-versions '{a}' lt '{b}'; then echo lt; \
             elif dpkg --compare-versions '{a}' eq '{b}'; then echo eq; else echo gt; fi\n"
        ));
    }
    let mut child = Command::new("sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let res: Vec<Ordering> = text
        .lines()
        .map(|l| match l {
            "lt" => Ordering::Less,
            "eq" => Ordering::Equal,
            _ => Ordering::Greater,
        })
        .collect();
    assert_eq!(res.len(), pairs.len());
    res
}

fn check(pairs: &[(String, String)]) -> Result<(), TestCaseError> {
    let expected = dpkg_order(pairs);
    for ((a, b), want) in pairs.iter().zip(expected) {
        let va: Version = a.parse().unwrap();
        let vb: Version = b.parse().unwrap();
        prop_assert_eq!(va.cmp(&vb), want, "{} vs {}", a, b);
        prop_assert_eq!(va == vb, want == Ordering::Equal);
    }
    Ok(())
}

/// Versions built from the characters that matter to dpkg's ordering (`~`, `+`, `.`,
/// letters, digits incl. leading zeros), optional epoch and revision.
fn version() -> impl Strategy<Value = String> {
    let part = "[0-9][0-9a-z.+~]{0,6}";
    let rev = "[0-9a-z.+~]{1,4}";
    (
        proptest::option::of(0u32..3),
        part,
        proptest::option::of(rev),
    )
        .prop_map(|(e, u, r)| {
            let mut s = e.map(|e| format!("{e}:")).unwrap_or_default();
            s.push_str(&u);
            if let Some(r) = r {
                s.push('-');
                s.push_str(&r);
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn generated_versions_match_dpkg(pairs in proptest::collection::vec((version(), version()), 100)) {
        if common::require(have_dpkg(), "dpkg is not installed (apt-get install dpkg)") {
            check(&pairs)?;
        }
    }
}

#[test]
fn fixture_versions_match_dpkg() {
    if !common::require(have_dpkg(), "dpkg is not installed (apt-get install dpkg)") {
        return;
    }
    let text = common::index(common::MAIN_PACKAGES);
    let mut versions: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Version: "))
        .collect();
    versions.sort_unstable();
    versions.dedup();
    // Every real version parses; compare a deterministic spread of neighbours and
    // far-apart pairs (sorted by text, so neighbours share prefixes).
    let parsed: Vec<Version> = versions.iter().map(|v| v.parse().unwrap()).collect();
    assert_eq!(parsed.len(), versions.len());
    let step = versions.len() / 200;
    let mut pairs = Vec::new();
    for i in (0..versions.len() - 1).step_by(step) {
        pairs.push((versions[i].to_owned(), versions[i + 1].to_owned()));
        let j = (i * 7919) % versions.len();
        pairs.push((versions[i].to_owned(), versions[j].to_owned()));
    }
    check(&pairs).unwrap();
}
