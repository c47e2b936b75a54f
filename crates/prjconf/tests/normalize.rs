//! `normalized()` / `normalized_hash()`: same meaning → same hash; any meaningful change →
//! different hash; the encoding itself is pinned.

mod common;

use common::{fixture_text, parse, parse_arch};

fn hash(text: &str) -> String {
    parse(text).normalized_hash()
}

#[test]
fn same_meaning_same_hash() {
    let base = "Type: dsc\nSupport: a b\nPrefer: x y\nMacros:\n%m 1\n:Macros\nCryo-Timeout: 60\n";
    let same = [
        // comments, blank lines, whitespace, key case
        "# hi\n\nTYPE:   dsc\n  support:\ta   b\nprefer: x\n\nPrefer: y\nmacros:\n%m 1\n# c\n:MACROS\ncryo-timeout: 60\n",
        // order of set-like entries and of independent lines; splitting lines; duplicates
        "Cryo-Timeout: 60\nSupport: b\nSupport: a a\nType: dsc\nPrefer: x y x\nMacros:\n%m 1\n:Macros\n",
        // the same value reached through a conditional and a macro (no %define: defines count)
        "%if 0%{?nil} == 0\nSupport: a %{!?undefined_thing:b}\n%endif\nType: dsc\nPrefer: x y\nMacros:\n%m 1\n:Macros\nCryo-Timeout: 60\n",
        // removed entries leave no trace
        "Type: dsc\nSupport: a b c\nSupport: !c\nPrefer: x y\nMacros:\n%m 1\n:Macros\nCryo-Timeout: 60\n",
        // an explicit default is the default
        "Type: dsc\nSupport: a b\nPrefer: x y\nMacros:\n%m 1\n:Macros\nCryo-Timeout: 60\nCryo-Clock: real\nCryo-IdleTimeout: 150\nCryo-Umask: 0022\nRelease: <CI_CNT>.<B_CNT>\n",
        // a symmetric conflict written either way round is covered in its own test below
    ];
    let want = hash(base);
    for (i, s) in same.iter().enumerate() {
        assert_eq!(hash(s), want, "variant {i}: {}", parse(s).normalized());
    }
    assert_eq!(hash("Conflict: a:b\n"), hash("Conflict: b:a\n"));
    assert_eq!(hash("Ignore: o:a,b\n"), hash("Ignore: o:b o:a\n"));
    // Type inferred by OBS from Preinstall is the same as written.
    assert_eq!(
        hash("Preinstall: debianutils\n"),
        hash("Preinstall: debianutils\nType: dsc\nBinaryType: deb\n")
    );
}

#[test]
fn meaningful_changes_change_the_hash() {
    let base = "Type: dsc\nSupport: a b\nPrefer: x y\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\n";
    let changed = [
        "Type: spec\nSupport: a b\nPrefer: x y\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\n",
        "Type: dsc\nSupport: a b c\nPrefer: x y\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\n",
        "Type: dsc\nRequired: a b\nPrefer: x y\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\n",
        "Type: dsc\nSupport: a b\nPrefer: y x\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\n",
        "Type: dsc\nSupport: a b\nPrefer: x -y\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\n",
        "Type: dsc\nSupport: a b\nPrefer: x y\nRunscripts: r2 r1\nMacros:\n%m 1\n:Macros\n",
        "Type: dsc\nSupport: a b\nPrefer: x y\nRunscripts: r1 r2\nMacros:\n%m 2\n:Macros\n",
        "Type: dsc\nSupport: a b\nPrefer: x y\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\nCryo-Clock: changelog\n",
        "Type: dsc\nSupport: a b\nPrefer: x y\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\nCryo-IdleTimeout: 10\n",
        "Type: dsc\nSupport: a b\nPrefer: x y\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\nCryo-Umask: 077\n",
        "Type: dsc\nSupport: a b\nPrefer: x y\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\nRelease: 7\n",
        "Type: dsc\nSupport: a b\nPrefer: x y\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\nSubstitute: a b\n",
        "Type: dsc\nSupport: a b\nPrefer: x y\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\nFileProvides: /bin/sh dash\n",
        "Type: dsc\nSupport: a b\nPrefer: x y\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\n%define d 1\n",
        "Type: dsc\nSupport: a b\nPrefer: x y\nRunscripts: r1 r2\nMacros:\n%m 1\n:Macros\nExpandFlags: preinstallexpand\n",
    ];
    let mut seen = std::collections::BTreeSet::new();
    seen.insert(hash(base));
    for (i, s) in changed.iter().enumerate() {
        assert!(seen.insert(hash(s)), "variant {i} collides: {s}");
    }
    assert_ne!(
        parse_arch(base, "x86_64").normalized_hash(),
        parse_arch(base, "aarch64").normalized_hash()
    );
}

#[test]
fn fixture_meaning_survives_reformatting() {
    let text = fixture_text();
    let reformatted: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| {
            let l = l
                .replace("Support:", "SUPPORT:")
                .replace("Preinstall:", "preinstall:");
            format!(
                "  {}  \r\n",
                l.split_whitespace().collect::<Vec<_>>().join("\t")
            )
        })
        .collect();
    assert_eq!(parse(&reformatted).normalized(), parse(&text).normalized());
}

#[test]
fn encoding_is_pinned() {
    let c = parse("Type: dsc\nSupport: b a\nPrefer: -o:x\nMacros:\n%m 1\n:Macros\nFoo: 1\n");
    assert_eq!(
        c.normalized(),
        concat!(
            r#"{"format":"cryo-prjconf-normalized/1","arch":"x86_64","repotype":[],"build_type":"dsc","#,
            r#""binary_type":"deb","release":"<CI_CNT>.<B_CNT>","preinstall":[],"vminstall":[],"runscripts":[],"#,
            r#""required":[],"support":["a","b"],"keep":[],"ignore":[],"substitute":{},"#,
            r#""prefer":[{"negative":true,"origin":"o","name":"x"}],"conflict":[],"order":[],"#,
            r#""expand_flags":[],"build_flags":[],"macros":{"m":{"body":"1"}},"defines":{},"#,
            r#""cryo":{"clock":"real","build_path":"/build/reproducible-path/%{SRC}-%{VER}","#,
            r#""build_user":{"uid":1000,"gid":1000},"timeout_secs":10800,"idle_timeout_mins":150,"#,
            r#""locale":"C.UTF-8","umask":18,"#,
            r#""release_pattern":null},"unknown":[{"key":"foo","args":["1"]}]}"#
        )
    );
    assert_eq!(
        c.normalized_hash(),
        blake3::hash(c.normalized().as_bytes()).to_hex().to_string()
    );
}
