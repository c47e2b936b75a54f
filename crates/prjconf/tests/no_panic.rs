//! Property tests standing in for the fuzzer in normal test runs: arbitrary text and mutated
//! fixture lines never make the parser panic, and whatever parses has a stable canonical form.

mod common;

use cryo_prjconf::{ParseContext, Prjconf};
use proptest::prelude::*;

const FRAGMENTS: &[&str] = &[
    "%if",
    "%ifarch",
    "%ifnarch",
    "%else",
    "%elif",
    "%endif",
    "%define",
    "%global",
    "Macros:",
    ":Macros",
    "%{",
    "}",
    "%{?",
    "%{!?",
    ":",
    "%[",
    "]",
    "%(",
    "(",
    ")",
    "!",
    "!*",
    "-",
    "&&",
    "||",
    "==",
    "v\"",
    "\"",
    "#",
    "\\",
    "Cryo-Clock:",
    "Cryo-Umask:",
    "Support:",
    "Prefer:",
    "Substitute:",
    "Ignore:",
    "Order:",
    "0%{?debian}",
    "%ix86",
    "x86_64",
    "12",
    "\n",
    " ",
    "\t",
];

fn check(text: &str) {
    let ctx = ParseContext::new("x86_64");
    match Prjconf::parse(text, "t.prjconf", &ctx) {
        Ok(c) => {
            let again = Prjconf::parse(text, "t.prjconf", &ctx).map(|c| c.normalized_hash());
            assert_eq!(again.ok(), Some(c.normalized_hash()));
        }
        Err(e) => assert!(e.to_string().starts_with("t.prjconf:"), "{e}"),
    }
}

fn mutated_fixture() -> impl Strategy<Value = String> {
    let lines: Vec<String> = common::fixture_text().lines().map(str::to_owned).collect();
    let n = lines.len();
    (
        proptest::collection::vec((0..n, 0..FRAGMENTS.len(), 0..4u8, any::<u16>()), 0..12),
        Just(lines),
    )
        .prop_map(|(edits, mut lines)| {
            for (idx, frag, op, pos) in edits {
                let idx = idx % lines.len().max(1);
                if lines.is_empty() {
                    lines.push(String::new());
                }
                let f = FRAGMENTS[frag];
                match op {
                    0 => {
                        lines.remove(idx);
                    }
                    1 => lines.insert(idx, f.to_owned()),
                    2 => {
                        let l = &mut lines[idx];
                        let at = l
                            .char_indices()
                            .map(|(i, _)| i)
                            .nth(usize::from(pos) % (l.chars().count() + 1))
                            .unwrap_or(l.len());
                        l.insert_str(at, f);
                    }
                    _ => {
                        let l = lines[idx].clone();
                        lines.insert(idx, l);
                    }
                }
            }
            lines.join("\n")
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        check(&s);
    }

    #[test]
    fn fragment_soup_never_panics(parts in proptest::collection::vec(0..FRAGMENTS.len(), 0..60)) {
        let s: String = parts.into_iter().map(|i| FRAGMENTS[i]).collect();
        check(&s);
    }

    #[test]
    fn mutated_fixture_never_panics(s in mutated_fixture()) {
        check(&s);
    }
}
