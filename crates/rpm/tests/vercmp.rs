//! rpm's version comparison: the cases of rpm's own test suite (tests/rpmvercmp.at),
//! thousands of generated pairs cross-checked against the host's `rpm` (its Lua
//! `rpm.vercmp`, which parses `[E:]V[-R]` and compares like `rpmverCmp`), and proptest
//! properties (antisymmetry, reflexivity, transitivity on samples).

use std::cmp::Ordering;
use std::process::Command;

use cryo_rpm::evr::{rpmvercmp, Evr};
use proptest::prelude::*;

/// Every `RPMVERCMP(a, b, r)` line of rpm's tests/rpmvercmp.at (rpm 4.15+, incl. caret).
const RPM_TESTSUITE: &[(&str, &str, i32)] = &[
    ("1.0", "1.0", 0),
    ("1.0", "2.0", -1),
    ("2.0", "1.0", 1),
    ("2.0.1", "2.0.1", 0),
    ("2.0", "2.0.1", -1),
    ("2.0.1", "2.0", 1),
    ("2.0.1a", "2.0.1a", 0),
    ("2.0.1a", "2.0.1", 1),
    ("2.0.1", "2.0.1a", -1),
    ("5.5p1", "5.5p1", 0),
    ("5.5p1", "5.5p2", -1),
    ("5.5p2", "5.5p1", 1),
    ("5.5p10", "5.5p10", 0),
    ("5.5p1", "5.5p10", -1),
    ("5.5p10", "5.5p1", 1),
    ("10xyz", "10.1xyz", -1),
    ("10.1xyz", "10xyz", 1),
    ("xyz10", "xyz10", 0),
    ("xyz10", "xyz10.1", -1),
    ("xyz10.1", "xyz10", 1),
    ("xyz.4", "xyz.4", 0),
    ("xyz.4", "8", -1),
    ("8", "xyz.4", 1),
    ("xyz.4", "2", -1),
    ("2", "xyz.4", 1),
    ("5.5p2", "5.6p1", -1),
    ("5.6p1", "5.5p2", 1),
    ("5.6p1", "6.5p1", -1),
    ("6.5p1", "5.6p1", 1),
    ("6.0.rc1", "6.0", 1),
    ("6.0", "6.0.rc1", -1),
    ("10b2", "10a1", 1),
    ("10a2", "10b2", -1),
    ("1.0aa", "1.0aa", 0),
    ("1.0a", "1.0aa", -1),
    ("1.0aa", "1.0a", 1),
    ("10.0001", "10.0001", 0),
    ("10.0001", "10.1", 0),
    ("10.1", "10.0001", 0),
    ("10.0001", "10.0039", -1),
    ("10.0039", "10.0001", 1),
    ("4.999.9", "5.0", -1),
    ("5.0", "4.999.9", 1),
    ("20101121", "20101121", 0),
    ("20101121", "20101122", -1),
    ("20101122", "20101121", 1),
    ("2_0", "2_0", 0),
    ("2.0", "2_0", 0),
    ("2_0", "2.0", 0),
    ("a", "a", 0),
    ("a+", "a+", 0),
    ("a+", "a_", 0),
    ("a_", "a+", 0),
    ("+a", "+a", 0),
    ("+a", "_a", 0),
    ("_a", "+a", 0),
    ("+_", "+_", 0),
    ("_+", "+_", 0),
    ("_+", "_+", 0),
    ("+", "_", 0),
    ("_", "+", 0),
    ("1.0~rc1", "1.0~rc1", 0),
    ("1.0~rc1", "1.0", -1),
    ("1.0", "1.0~rc1", 1),
    ("1.0~rc1", "1.0~rc2", -1),
    ("1.0~rc2", "1.0~rc1", 1),
    ("1.0~rc1~git123", "1.0~rc1~git123", 0),
    ("1.0~rc1~git123", "1.0~rc1", -1),
    ("1.0~rc1", "1.0~rc1~git123", 1),
    ("1.0^", "1.0^", 0),
    ("1.0^", "1.0", 1),
    ("1.0", "1.0^", -1),
    ("1.0^git1", "1.0^git1", 0),
    ("1.0^git1", "1.0", 1),
    ("1.0", "1.0^git1", -1),
    ("1.0^git1", "1.0^git2", -1),
    ("1.0^git2", "1.0^git1", 1),
    ("1.0^git1", "1.01", -1),
    ("1.01", "1.0^git1", 1),
    ("1.0^20160101", "1.0^20160101", 0),
    ("1.0^20160101", "1.0.1", -1),
    ("1.0.1", "1.0^20160101", 1),
    ("1.0^20160101^git1", "1.0^20160101^git1", 0),
    ("1.0^20160102", "1.0^20160101^git1", 1),
    ("1.0^20160101^git1", "1.0^20160102", -1),
    ("1.0~rc1^git1", "1.0~rc1^git1", 0),
    ("1.0~rc1^git1", "1.0~rc1", 1),
    ("1.0~rc1", "1.0~rc1^git1", -1),
    ("1.0^git1~pre", "1.0^git1~pre", 0),
    ("1.0^git1", "1.0^git1~pre", 1),
    ("1.0^git1~pre", "1.0^git1", -1),
];

fn ord(i: i32) -> Ordering {
    i.cmp(&0)
}

#[test]
fn rpm_test_suite_cases() {
    for (a, b, r) in RPM_TESTSUITE {
        assert_eq!(rpmvercmp(a, b), ord(*r), "rpmvercmp({a:?}, {b:?})");
        // As EVRs without epoch and release they compare the same.
        let (ea, eb) = (Evr::parse(a).unwrap(), Evr::parse(b).unwrap());
        assert_eq!(ea.cmp(&eb), ord(*r), "Evr {a:?} vs {b:?}");
    }
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// A version-like string: segments of digits (sometimes zero-padded) and letters joined
/// by separators, `~` and `^`, including rpm's odd separators.
fn version(r: &mut Rng) -> String {
    let mut s = String::new();
    let n = 1 + r.below(5);
    for i in 0..n {
        if i > 0 || r.below(8) == 0 {
            s.push_str(r.pick(&[".", ".", ".", "_", "+", "~", "^", "", "%", "~~", ".^"]));
        }
        match r.below(4) {
            0 => s.push_str(r.pick(&["a", "b", "rc", "git", "pre", "p", "Z", "fc17", "el7"])),
            1 => s.push_str(&format!(
                "{:0width$}",
                r.below(30),
                width = r.below(3) as usize
            )),
            2 => s.push_str(&r.below(3).to_string()),
            _ => s.push_str(&format!("{}", r.below(100_000))),
        }
    }
    if r.below(10) == 0 {
        s.push_str(r.pick(&["~", "^", "."]));
    }
    s
}

fn evr(r: &mut Rng) -> String {
    let mut s = String::new();
    match r.below(5) {
        0 => s.push_str("0:"),
        1 => s.push_str(&format!("{}:", r.below(3))),
        _ => {}
    }
    s.push_str(&version(r));
    if r.below(3) > 0 {
        s.push('-');
        s.push_str(&version(r));
    }
    s
}

/// `b` derived from `a` (so that many pairs are close or equal).
fn mutate(r: &mut Rng, a: &str) -> String {
    let mut s: Vec<char> = a.chars().collect();
    match r.below(5) {
        0 => return a.to_owned(),
        1 if !s.is_empty() => {
            let i = r.below(s.len() as u64) as usize;
            s[i] = r
                .pick(&["0", "1", "9", "a", "z", ".", "~", "^", "_"])
                .chars()
                .next()
                .unwrap();
        }
        2 => s.extend(r.pick(&["~rc1", "^1", ".0", "a", "1", "_"]).chars()),
        3 if s.len() > 1 => {
            s.pop();
        }
        _ => return a.replace('.', "_"),
    }
    s.into_iter().collect()
}

/// Run one Lua expression per item through the host's rpm (`rpm --eval '%{lua:…}'`, one
/// chunk per 2,000 items) and return one output line per item; `None` without rpm.
fn rpm_lua(items: &[String]) -> Option<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    for chunk in items.chunks(2000) {
        let mut lua = String::from("local r = {}\n");
        for expr in chunk {
            lua.push_str(&format!("r[#r+1] = {expr}\n"));
        }
        lua.push_str("print(table.concat(r, \"\\n\"))\n");
        let path = dir.path().join("chunk.lua");
        std::fs::write(&path, lua).unwrap();
        let o = match Command::new("rpm")
            .arg("--eval")
            .arg(format!("%{{lua: dofile(\"{}\")}}", path.display()))
            .output()
        {
            Ok(o) => o,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => panic!("running rpm: {e}"),
        };
        assert!(
            o.status.success(),
            "rpm failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = String::from_utf8(o.stdout).unwrap();
        let got: Vec<String> = text
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(
            got.len(),
            chunk.len(),
            "rpm answered {} of {} items",
            got.len(),
            chunk.len()
        );
        out.extend(got);
    }
    Some(out)
}

fn lua_str(s: &str) -> String {
    assert!(!s.contains(['"', '\\']));
    format!("\"{s}\"")
}

/// Ask the host's rpm for `rpm.vercmp(a, b)` of every pair.
fn rpm_vercmp(pairs: &[(String, String)]) -> Option<Vec<i32>> {
    let exprs: Vec<String> = pairs
        .iter()
        .map(|(a, b)| format!("rpm.vercmp({}, {})", lua_str(a), lua_str(b)))
        .collect();
    Some(
        rpm_lua(&exprs)?
            .iter()
            .map(|l| l.trim().parse().unwrap())
            .collect(),
    )
}

fn rpm_missing() {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("rpm is not installed (CI=true): cannot cross-check against rpm");
    }
    eprintln!("skipping: rpm is not installed");
}

#[test]
fn evr_splitting_agrees_with_rpm_ver() {
    let mut r = Rng(0x1234_5678_9abc_def1);
    let evrs: Vec<String> = (0..2000).map(|_| evr(&mut r)).collect();
    let exprs: Vec<String> = evrs
        .iter()
        .map(|e| {
            format!(
                "(function() local v = rpm.ver({}); return tostring(v.e) .. \"|\" .. v.v .. \"|\" .. tostring(v.r) end)()",
                lua_str(e)
            )
        })
        .collect();
    let Some(answers) = rpm_lua(&exprs) else {
        return rpm_missing();
    };
    for (text, answer) in evrs.iter().zip(answers) {
        let e = Evr::parse(text).unwrap_or_else(|err| panic!("{text:?}: {err}"));
        let ours = format!(
            "{}|{}|{}",
            e.epoch().map_or("nil".to_owned(), |n| n.to_string()),
            e.version(),
            e.release().unwrap_or("nil")
        );
        // rpm keeps the epoch as written ("0" for ":1"); ours is the number.
        let theirs: Vec<&str> = answer.split('|').collect();
        let theirs = format!(
            "{}|{}|{}",
            theirs[0]
                .parse::<u32>()
                .map_or(theirs[0].to_owned(), |n| n.to_string()),
            theirs[1],
            theirs[2]
        );
        assert_eq!(ours, theirs, "{text:?}");
    }
}

#[test]
fn thousands_of_generated_pairs_agree_with_rpm() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut versions = Vec::new();
    for _ in 0..4000 {
        let a = version(&mut r);
        let b = if r.below(2) == 0 {
            mutate(&mut r, &a)
        } else {
            version(&mut r)
        };
        versions.push((a, b));
    }
    let mut evrs = Vec::new();
    while evrs.len() < 3000 {
        let a = evr(&mut r);
        let b = if r.below(2) == 0 {
            mutate(&mut r, &a)
        } else {
            evr(&mut r)
        };
        // Only pairs both sides parse as EVRs (a mutation may produce `1:` or `1.0-`).
        if Evr::parse(&a).is_ok() && Evr::parse(&b).is_ok() {
            evrs.push((a, b));
        }
    }
    // Plain versions: rpm.vercmp parses them as versions only (no `:`, no `-`).
    let versions: Vec<_> = versions
        .into_iter()
        .filter(|(a, b)| !a.contains([':', '-']) && !b.contains([':', '-']))
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .collect();
    let all: Vec<(String, String)> = versions.iter().chain(&evrs).cloned().collect();
    let Some(expected) = rpm_vercmp(&all) else {
        return rpm_missing();
    };
    let mut mismatches = Vec::new();
    for (i, ((a, b), want)) in all.iter().zip(&expected).enumerate() {
        let got = if i < versions.len() {
            rpmvercmp(a, b)
        } else {
            Evr::parse(a).unwrap().cmp(&Evr::parse(b).unwrap())
        };
        if got != ord(*want) {
            mismatches.push(format!("{a:?} vs {b:?}: rpm {want}, cryo {got:?}"));
        }
    }
    assert!(all.len() >= 6000, "only {} pairs", all.len());
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

fn version_strategy() -> impl Strategy<Value = String> {
    "[0-9a-c._+~^]{1,12}"
}

proptest! {
    #[test]
    fn antisymmetric_and_reflexive(a in version_strategy(), b in version_strategy()) {
        prop_assert_eq!(rpmvercmp(&a, &a), Ordering::Equal);
        prop_assert_eq!(rpmvercmp(&a, &b), rpmvercmp(&b, &a).reverse());
    }

    #[test]
    fn transitive_on_samples(a in version_strategy(), b in version_strategy(), c in version_strategy()) {
        let (ab, bc, ac) = (rpmvercmp(&a, &b), rpmvercmp(&b, &c), rpmvercmp(&a, &c));
        if ab != Ordering::Greater && bc != Ordering::Greater {
            prop_assert_ne!(ac, Ordering::Greater, "{} <= {} <= {} but {} > {}", a, b, c, a, c);
        }
        if ab == Ordering::Equal && bc == Ordering::Equal {
            prop_assert_eq!(ac, Ordering::Equal);
        }
    }

    #[test]
    fn evr_order_is_consistent(a in "([0-2]:)?[0-9a-c.~^]{1,6}(-[0-9a-c.~^]{1,4})?", b in "([0-2]:)?[0-9a-c.~^]{1,6}(-[0-9a-c.~^]{1,4})?") {
        if let (Ok(x), Ok(y)) = (Evr::parse(&a), Evr::parse(&b)) {
            prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
            prop_assert_eq!(x == y, x.cmp(&y) == Ordering::Equal);
            prop_assert_eq!(Evr::parse(&x.to_string()).unwrap().cmp(&x), Ordering::Equal);
        }
    }

    #[test]
    fn overlap_is_symmetric_and_matches_the_order(
        a in "([0-2]:)?[0-9a-c.~^]{1,5}(-[0-9a-c.]{1,3})?",
        b in "([0-2]:)?[0-9a-c.~^]{1,5}(-[0-9a-c.]{1,3})?",
        opa in 0usize..5,
        opb in 0usize..5,
    ) {
        use cryo_rpm::deps::{Constraint, Op};
        let ops = [Op::Lt, Op::Le, Op::Eq, Op::Ge, Op::Gt];
        if let (Ok(x), Ok(y)) = (Evr::parse(&a), Evr::parse(&b)) {
            let ca = Constraint { op: ops[opa], evr: x.clone() };
            let cb = Constraint { op: ops[opb], evr: y.clone() };
            prop_assert_eq!(ca.overlaps(&cb), cb.overlaps(&ca));
            // With epochs and releases on both sides, matching is the plain order.
            let full = |e: &Evr| e.epoch().is_some() && e.release().is_some();
            if full(&x) && full(&y) {
                let o = y.cmp(&x);
                let want = match ops[opa] {
                    Op::Lt => o == Ordering::Less,
                    Op::Le => o != Ordering::Greater,
                    Op::Eq => o == Ordering::Equal,
                    Op::Ge => o != Ordering::Less,
                    Op::Gt => o == Ordering::Greater,
                };
                prop_assert_eq!(ca.matches(&y), want, "{} {} vs {}", ops[opa].symbol(), x, y);
            }
        }
    }

    #[test]
    fn parsing_never_panics(s in ".{0,40}") {
        let _ = Evr::parse(&s);
        let _ = cryo_rpm::deps::Dep::parse(&s);
        let _ = cryo_rpm::deps::Dep::parse_list(&s);
    }
}
