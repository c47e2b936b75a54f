//! Every directive, `!entry` removal, accumulation, key case, comments, unknown directives.

mod common;

use common::{names, parse, words};

#[test]
fn lists_accumulate_across_lines_and_dedupe() {
    let c = parse("Support: a b\nsupport: c a\nSUPPORT:\td\n");
    assert_eq!(names(c.support()), words("a b c d"));
}

#[test]
fn bang_entry_removes_earlier_entries_and_bang_star_clears() {
    let c = parse("Support: a b c\nSupport: !b\nRequired: x y\nRequired: !* z\nKeep: k !k\n");
    assert_eq!(names(c.support()), ["a", "c"]);
    assert_eq!(names(c.required()), ["z"]);
    assert!(c.keep().is_empty());
    // Removal only affects what came before.
    let c = parse("Support: !a\nSupport: a\n");
    assert_eq!(names(c.support()), ["a"]);
}

#[test]
fn every_list_directive_is_read() {
    let c = parse(
        "Preinstall: p1 p2\nVMinstall: v1\nRunscripts: r2 r1 r2\nRequired: q\nSupport: s\nKeep: k\n\
         ExpandFlags: preinstallexpand module:foo\nBuildFlags: nocheck:yes\n",
    );
    assert_eq!(names(c.preinstall()), ["p1", "p2"]);
    assert_eq!(names(c.vminstall()), ["v1"]);
    assert_eq!(names(c.runscripts()), ["r2", "r1"]);
    assert_eq!(names(c.required()), ["q"]);
    assert_eq!(names(c.keep()), ["k"]);
    let ef: Vec<(String, Option<String>)> = c
        .expand_flags()
        .iter()
        .map(|f| (f.name.clone(), f.value.clone()))
        .collect();
    assert_eq!(
        ef,
        [
            ("module".into(), Some("foo".into())),
            ("preinstallexpand".into(), None)
        ]
    );
    assert!(c
        .build_flags()
        .iter()
        .any(|f| f.name == "nocheck" && f.value.as_deref() == Some("yes")));
}

#[test]
fn ignore_plain_and_origin_forms() {
    let c = parse("Ignore: foo bar:baz,qux\nIgnore: !foo other\n");
    let got: Vec<String> = c.ignore().iter().map(|i| i.to_string()).collect();
    assert_eq!(got, ["other", "bar:baz", "bar:qux"]);
    let e = c.ignore().iter().find(|i| i.name.as_str() == "qux");
    assert_eq!(
        e.and_then(|e| e.origin.as_ref()).map(|o| o.as_str()),
        Some("bar")
    );
}

#[test]
fn prefer_keeps_order_with_negative_and_origin_forms() {
    let c = parse("Prefer: b a -c origin:d -o2:e\nPrefer: a !b\n");
    let got: Vec<String> = c.prefer().iter().map(|p| p.to_string()).collect();
    assert_eq!(got, ["a", "-c", "origin:d", "-o2:e"]);
    assert!(c.prefer()[1].negative && c.prefer()[1].origin.is_none());
    assert!(c.prefer()[3].negative && c.prefer()[3].origin.is_some());
}

#[test]
fn substitute_replaces_per_key_and_can_be_removed() {
    let c = parse(
        "Substitute: a x\nSubstitute: a y z y\nSubstitute: b q\nSubstitute: !b\nSubstitute: gone\n",
    );
    let got: Vec<(String, Vec<String>)> = c
        .substitute()
        .iter()
        .map(|(k, v)| (k.to_string(), names(v)))
        .collect();
    assert_eq!(
        got,
        [
            ("a".into(), vec!["y".into(), "z".into()]),
            ("gone".into(), vec![])
        ]
    );
    let c = parse("Substitute: a x\nSubstitute: !*\n");
    assert!(c.substitute().is_empty());
}

#[test]
fn conflict_and_order() {
    let c = parse("Conflict: b:a,c\nOrder: x:y y:z\nOrder: !y:z\n");
    let got: Vec<(String, String)> = c
        .conflict()
        .iter()
        .map(|p| (p.a.to_string(), p.b.to_string()))
        .collect();
    assert_eq!(got, [("a".into(), "b".into()), ("b".into(), "c".into())]);
    let got: Vec<(String, String)> = c
        .order()
        .iter()
        .map(|o| (o.before.to_string(), o.after.to_string()))
        .collect();
    assert_eq!(got, [("x".into(), "y".into())]);
}

#[test]
fn scalars_last_wins_and_obs_defaults() {
    let c = parse("Repotype: rpm-md\nRepotype: debian\nType: spec\ntype: dsc\nRelease: 1\nRelease: <CI_CNT>\n");
    assert_eq!(c.repotype(), ["debian"]);
    assert_eq!(c.build_type(), Some("dsc"));
    assert_eq!(c.effective_binary_type(), Some("deb"));
    assert_eq!(c.release(), Some("<CI_CNT>"));
    let c = parse("Preinstall: debianutils\n");
    assert_eq!(
        (c.build_type(), c.effective_build_type()),
        (None, Some("dsc"))
    );
    assert_eq!(c.effective_release(), "<CI_CNT>.<B_CNT>");
    assert_eq!(parse("Release: a b\n").warnings().len(), 1);
}

#[test]
fn comments_and_blank_lines_are_ignored() {
    let c = parse("# Support: nope\n   # indented comment\n\n\t\nSupport: yes\n");
    assert_eq!(names(c.support()), ["yes"]);
    assert!(c.warnings().is_empty());
}

#[test]
fn unknown_directives_are_kept_in_order_with_location_and_warned() {
    let c =
        parse("Support: a\nFooBar: 1 2\nConstraint: hardware:disk 10\nnokey here\n%undefine x\n");
    let got: Vec<(usize, &str, Vec<String>)> = c
        .unknown()
        .iter()
        .map(|u| (u.line, u.key.as_str(), u.args.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (2, "foobar", vec!["1".into(), "2".into()]),
            (3, "constraint", vec!["hardware:disk".into(), "10".into()]),
            (4, "nokey", vec!["here".into()]),
        ]
    );
    assert!(c.unknown().iter().all(|u| u.file == "t.prjconf"));
    let w: Vec<String> = c.warnings().iter().map(|w| w.to_string()).collect();
    assert_eq!(w.len(), 4, "{w:?}");
    assert!(
        w[0].starts_with("t.prjconf:2: warning: unknown directive `FooBar:`"),
        "{w:?}"
    );
    assert!(
        w[1].contains("OBS directive `Constraint:` is not interpreted"),
        "{w:?}"
    );
    assert!(
        w[3].starts_with("t.prjconf:5: warning: `%undefine`"),
        "{w:?}"
    );
}

#[test]
fn macros_blocks_accumulate_continue_and_reset() {
    let c = parse(
        "Macros:\n%a 1\n%multi line1 \\\n  line2\n# comment\n:Macros\nmacros:\n%b 2\n%a 3\n:macros\n",
    );
    let got: Vec<(&str, &str)> = c
        .macros()
        .iter()
        .map(|(k, v)| (k.as_str(), v.body.as_str()))
        .collect();
    assert_eq!(
        got,
        [("a", "3"), ("b", "2"), ("multi", "line1 \\\n  line2")]
    );
    let c = parse("Macros:\n%a 1\n:Macros\nMacros:\n!\n%b 2\n:Macros\n");
    assert_eq!(c.macros().keys().collect::<Vec<_>>(), ["b"]);
    let c = parse("Macros:\nnot a macro\n%deb_build_profiles nocheck nodoc\n:Macros\n");
    assert_eq!(c.deb_build_profiles(), Some("nocheck nodoc"));
    assert_eq!(c.warnings().len(), 1);
    assert_eq!(c.warnings()[0].line, 2);
}

#[test]
fn macros_block_macros_do_not_expand_prjconf_lines() {
    // As in OBS: only %define affects the prjconf itself.
    let c = parse("Macros:\n%pkg foo\n:Macros\nSupport: %{?pkg} bar\n");
    assert_eq!(names(c.support()), ["bar"]);
}

#[test]
fn cryo_settings_parse_and_default() {
    let c = parse(
        "Cryo-Clock: fixed 1700000000\ncryo-buildpath: /b/%{SRC}_%{VER}\nCRYO-BUILDUSER: 2000:3000\n\
         Cryo-Timeout: 60\nCryo-Locale: en_US.UTF-8\nCryo-Umask: 027\nCryo-ReleasePattern: +eol12u<CI_CNT>\n",
    );
    let s = c.cryo();
    assert_eq!(s.clock, cryo_prjconf::Clock::Fixed(1_700_000_000));
    assert_eq!(s.build_path.render("hello", "2.10-3"), "/b/hello_2.10-3");
    assert_eq!((s.build_user.uid, s.build_user.gid), (2000, 3000));
    assert_eq!(s.timeout_secs, 60);
    assert_eq!(s.locale.as_str(), "en_US.UTF-8");
    assert_eq!(s.umask.bits(), 0o027);
    assert_eq!(
        s.release_pattern
            .as_ref()
            .map(|r| r.render(3, 1))
            .as_deref(),
        Some("+eol12u3")
    );
    let d = parse("").cryo().clone();
    assert_eq!(d.clock, cryo_prjconf::Clock::Real);
    assert_eq!(d.idle_timeout_mins, 150);
    assert_eq!(
        d.build_path.render("base-files", "12.4"),
        "/build/reproducible-path/base-files-12.4"
    );
    assert_eq!(
        (d.build_user.uid, d.build_user.gid, d.timeout_secs),
        (1000, 1000, 10800)
    );
    assert_eq!((d.locale.as_str(), d.umask.bits()), ("C.UTF-8", 0o022));
    assert!(d.release_pattern.is_none());
    assert_eq!(
        parse("Cryo-Clock: real\nCryo-BuildUser: 4242\n")
            .cryo()
            .build_user
            .gid,
        4242
    );
    assert_eq!(
        parse("Cryo-Clock: changelog\n").cryo().clock,
        cryo_prjconf::Clock::Changelog
    );
    assert_eq!(parse("Cryo-IdleTimeout: 5\n").cryo().idle_timeout_mins, 5);
}

#[test]
fn debian_arch_names_map_to_rpm_names() {
    use cryo_prjconf::arch::{debian_to_rpm, rpm_to_debian};
    let pairs = [
        ("amd64", "x86_64"),
        ("arm64", "aarch64"),
        ("i386", "i586"),
        ("armhf", "armv7hl"),
        ("ppc64el", "ppc64le"),
        ("s390x", "s390x"),
        ("riscv64", "riscv64"),
    ];
    for (deb, rpm) in pairs {
        assert_eq!(debian_to_rpm(deb), Some(rpm));
        assert_eq!(rpm_to_debian(rpm), Some(deb));
    }
    assert_eq!(rpm_to_debian("i686"), Some("i386"));
    assert_eq!(debian_to_rpm("hurd-i386"), None);
}
