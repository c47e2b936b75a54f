//! `%define`, macro expansion and the `%if` family, as OBS evaluates them.

mod common;

use common::{names, parse, parse_arch};

fn support_if(cond: &str) -> bool {
    let c = parse(&format!(
        "%define debian 12\n%define name hello\n%if {cond}\nSupport: yes\n%endif\n"
    ));
    c.support().iter().any(|n| n.as_str() == "yes")
}

#[test]
fn numeric_string_and_version_comparisons() {
    assert!(support_if("0%{?debian} >= 12"));
    assert!(!support_if("0%{?debian} > 12"));
    assert!(!support_if("0%{?ubuntu} >= 12"));
    assert!(support_if("%debian == 12 && 1"));
    assert!(support_if("\"%{name}\" == \"hello\""));
    assert!(support_if("%{name} != world"));
    assert!(support_if("\"abc\" < \"abd\""));
    assert!(support_if("v\"1.10\" > v\"1.9\""));
    assert!(support_if("v\"1.0~rc1\" < v\"1.0\""));
    assert!(support_if("2 + 3 * 4 == 14"));
    assert!(support_if("10 - 2 - 3 == 5"));
    assert!(support_if("-3 < 0"));
}

#[test]
fn boolean_operators_parentheses_and_ternary() {
    assert!(support_if("!0"));
    assert!(!support_if("!(1 && 2)"));
    assert!(support_if("0 || 2"));
    assert!(support_if("(0 || 1) && !0"));
    assert!(!support_if("0 && 1"));
    assert!(support_if("0 ? 0 : 1"));
    // OBS gives && and || the same precedence, evaluated left to right:
    // (1 || 0) && 0 is false, while rpm's 1 || (0 && 0) would be true.
    assert!(!support_if("1 || 0 && 0"));
}

#[test]
fn macro_forms() {
    let c = parse(
        "%define a A\n%define empty %{nil}\n\
         Support: %a %{a} %{?a} x%{?undef}x %{?a:alt1} %{!?undef:alt2} %{!?a:never} %%lit %{undef}\n\
         Support: d%{defined a} u%{undefined a} %{expand:%a}e\n%global g %a-g\nSupport: %g\n",
    );
    let got = names(c.support());
    for want in [
        "A", "xx", "alt1", "alt2", "%lit", "%{undef}", "d1", "u0", "Ae", "A-g",
    ] {
        assert!(
            got.contains(&want.to_owned()),
            "{want} missing from {got:?}"
        );
    }
    assert!(!got.iter().any(|g| g == "never"));
}

#[test]
fn define_is_lazy_and_global_is_eager() {
    let c = parse(
        "%define x 1\n%define lazy %x\n%global eager %x\n%define x 2\nSupport: l%lazy e%eager\n",
    );
    assert_eq!(names(c.support()), ["e1", "l2"]);
}

#[test]
fn ctx_defines_come_first_and_can_be_overridden() {
    let mut ctx = cryo_prjconf::ParseContext::new("x86_64");
    ctx.defines.insert("flavor".into(), "big".into());
    let c = cryo_prjconf::Prjconf::parse(
        "%if \"%flavor\" == \"big\"\nSupport: big\n%endif\n",
        "f",
        &ctx,
    );
    assert_eq!(
        c.map(|c| names(c.support())).ok(),
        Some(vec!["big".to_owned()])
    );
}

#[test]
fn ifarch_ifnarch_with_arch_groups() {
    let text = "%ifarch x86_64\nSupport: a\n%endif\n%ifnarch x86_64\nSupport: b\n%endif\n\
                %ifarch %ix86\nSupport: c\n%endif\n%ifarch %arm aarch64\nSupport: d\n%endif\n\
                %ifos linux\nSupport: e\n%endif\n%ifnos linux\nSupport: f\n%endif\n";
    assert_eq!(names(parse_arch(text, "x86_64").support()), ["a", "e"]);
    assert_eq!(names(parse_arch(text, "i586").support()), ["b", "c", "e"]);
    assert_eq!(
        names(parse_arch(text, "armv7hl").support()),
        ["b", "d", "e"]
    );
    assert_eq!(
        names(parse_arch(text, "aarch64").support()),
        ["b", "d", "e"]
    );
    assert_eq!(
        names(
            parse_arch(
                "%if \"%_target_cpu\" == \"s390x\"\nSupport: z\n%endif\n",
                "s390x"
            )
            .support()
        ),
        ["z"]
    );
}

#[test]
fn nesting_else_and_elif() {
    let text = "%if 1\n  %if 0\nSupport: a\n  %else\nSupport: b\n    %ifarch x86_64\nSupport: c\n    %endif\n  %endif\n%else\nSupport: d\n%endif\n\
                %if 0\nSupport: e\n%elif 1\nSupport: f\n%elif 1\nSupport: g\n%else\nSupport: h\n%endif\n\
                %ifarch aarch64\nSupport: i\n%elifarch x86_64\nSupport: j\n%endif\n";
    assert_eq!(names(parse(text).support()), ["b", "c", "f", "j"]);
}

#[test]
fn skipped_regions_are_not_evaluated() {
    // Bad syntax, unknown conditionals and defines inside a false branch are never looked at,
    // but their %if/%endif nesting still counts (OBS counts any `%if...` line there).
    let c =
        parse("%if 0\n%if ((( bad\n%define x 1\n%iffy\n%endif\n%endif\n%endif\nSupport: %{?x}ok\n");
    assert_eq!(names(c.support()), ["ok"]);
    assert!(c.defines().is_empty());
}

#[test]
fn macros_block_inside_conditional() {
    let text = "%ifarch aarch64\nMacros:\n%deb_build_options parallel=8\n:Macros\n%else\nMacros:\n%deb_build_options parallel=2\n:Macros\n%endif\n";
    assert_eq!(
        parse_arch(text, "aarch64").deb_build_options(),
        Some("parallel=8")
    );
    assert_eq!(
        parse_arch(text, "x86_64").deb_build_options(),
        Some("parallel=2")
    );
}

#[test]
fn empty_condition_is_false_with_a_warning() {
    let c = parse("%if %{?nothing}\nSupport: a\n%endif\n");
    assert!(c.support().is_empty());
    assert_eq!(c.warnings().len(), 1);
    assert_eq!(c.warnings()[0].line, 1);
}
