//! Every fatal error, with the exact file:line it reports.

mod common;

use common::parse_err;

fn msg(text: &str) -> String {
    parse_err(text).to_string()
}

#[test]
fn conditional_structure_errors() {
    assert_eq!(
        msg("Support: a\n%endif\n"),
        "t.prjconf:2: %endif without a matching %if"
    );
    assert_eq!(
        msg("\n%else\n"),
        "t.prjconf:2: %else without a matching %if"
    );
    assert_eq!(
        msg("%elif 1\n"),
        "t.prjconf:1: %elif without a matching %if"
    );
    assert_eq!(
        msg("%if 1\n%else\n%else\n%endif\n"),
        "t.prjconf:3: %else after %else (the %if opened at line 1)"
    );
    assert_eq!(
        msg("%if 1\n%if 1\n%endif\n"),
        "t.prjconf:1: %if opened here is never closed by %endif"
    );
    assert_eq!(
        msg("%if 0\nSupport: a\n"),
        "t.prjconf:1: %if opened here is never closed by %endif"
    );
    assert_eq!(
        msg("a: b\n%iffy 1\n%endif\n"),
        "t.prjconf:2: unknown conditional `%iffy`"
    );
}

#[test]
fn bad_condition_expressions() {
    let e = msg("\n\n%if 1 +\n%endif\n");
    assert!(
        e.starts_with("t.prjconf:3: bad condition `1 +`: syntax error"),
        "{e}"
    );
    let e = msg("%if (1\n%endif\n");
    assert!(e.starts_with("t.prjconf:1: bad condition `(1`"), "{e}");
    let e = msg("%if 1 2\n%endif\n");
    assert!(
        e.starts_with("t.prjconf:1: bad condition `1 2`: unexpected `2`"),
        "{e}"
    );
    let e = msg("%if 1 = 1\n%endif\n");
    assert!(e.contains("single `=`"), "{e}");
    let e = msg("%define d 12\n%if \"%d\" == 12\n%endif\n");
    assert!(e.starts_with("t.prjconf:2: bad condition `\"12\" == 12`: operator `==` cannot combine a string and a number"), "{e}");
    let e = msg("%if 1 / 0\n%endif\n");
    assert!(e.ends_with("division by zero"), "{e}");
    let e = msg("%if %undefined_macro\n%endif\n");
    assert!(
        e.starts_with("t.prjconf:1: bad condition `%undefined_macro`"),
        "{e}"
    );
    let e = msg("%if 99999999999999999999\n%endif\n");
    assert!(e.ends_with("integer overflow"), "{e}");
}

#[test]
fn macros_block_errors() {
    assert_eq!(
        msg("Support: a\nMacros:\n%a 1\n"),
        "t.prjconf:2: Macros: block opened here is never closed by :Macros"
    );
    assert_eq!(
        msg("\n:Macros\n"),
        "t.prjconf:2: :Macros without a Macros: block"
    );
    assert_eq!(
        msg("Macros: %a 1\n"),
        "t.prjconf:1: `Macros:` must stand alone on its line (found `Macros: %a 1`)"
    );
    let e = msg("Macros:\n%if 1\n%a 1\n%endif\n:Macros\n");
    assert!(
        e.starts_with("t.prjconf:2: `%if 1` is not allowed inside a Macros: block"),
        "{e}"
    );
    assert_eq!(
        msg("Macros:\n%-x 1\n:Macros\n"),
        "t.prjconf:2: bad macro definition in Macros: block: `%-x 1`"
    );
}

#[test]
fn macro_and_define_errors() {
    assert_eq!(
        msg("%define\n"),
        "t.prjconf:1: bad %define: `%define` (expected `%define NAME BODY`)"
    );
    assert_eq!(
        msg("\n%global -x 1\n"),
        "t.prjconf:2: bad %global: `%global -x 1` (expected `%global NAME BODY`)"
    );
    let e = msg("Support: %{unclosed\n");
    assert_eq!(e, "t.prjconf:1: macro expansion failed: unterminated `%{`");
    let e = msg("\nSupport: %(echo hi)\n");
    assert!(
        e.starts_with("t.prjconf:2: macro expansion failed: shell expansion"),
        "{e}"
    );
    let e = msg("%define loop %loop\nSupport: %loop\n");
    assert!(
        e.starts_with("t.prjconf:2: macro expansion failed: macro expansion too deep"),
        "{e}"
    );
    let e = msg("%define f(a) x\nSupport: %f 1\n");
    assert!(
        e.starts_with("t.prjconf:2: macro expansion failed: macro `%f` takes parameters"),
        "{e}"
    );
}

#[test]
fn inline_comment_is_an_error() {
    assert_eq!(
        msg("Support: a # because\n"),
        "t.prjconf:1: `#` in Support:: `#` starts a comment only at the beginning of a line"
    );
}

#[test]
fn bad_entries() {
    assert_eq!(
        msg("\nOrder: ab\n"),
        "t.prjconf:2: bad Order entry `ab`: expected BEFORE:AFTER"
    );
    assert_eq!(
        msg("Prefer: -:x\n"),
        "t.prjconf:1: bad Prefer entry `-:x`: empty package name"
    );
    assert_eq!(
        msg("Ignore: a:\n"),
        "t.prjconf:1: bad Ignore entry `a:`: empty package name"
    );
}

#[test]
fn cryo_key_errors() {
    let e = msg("\nCryo-Clok: real\n");
    assert!(
        e.starts_with("t.prjconf:2: unknown cryo setting `Cryo-Clok` (known: Cryo-Clock, "),
        "{e}"
    );
    assert_eq!(
        msg("Cryo-Timeout:\n"),
        "t.prjconf:1: Cryo-Timeout: missing value"
    );
    let cases = [
        (
            "Cryo-Clock: sometimes",
            "expected `changelog`, `real` or `fixed <unix-seconds>`",
        ),
        ("Cryo-Clock: fixed -1", "`fixed` needs unix seconds"),
        ("Cryo-BuildPath: relative/path", "must be an absolute path"),
        (
            "Cryo-BuildPath: /a/../b",
            "must not contain empty, `.` or `..` components",
        ),
        (
            "Cryo-BuildPath: /a/%{NAME}",
            "the only placeholders are %{SRC} and %{VER}",
        ),
        ("Cryo-BuildUser: 0", "must not be root"),
        ("Cryo-BuildUser: me", "expected UID or UID:GID"),
        ("Cryo-Timeout: 0", "between 1 and 604800"),
        ("Cryo-IdleTimeout: 0", "between 1 and 10080 minutes"),
        ("Cryo-IdleTimeout: 2h", "expected whole minutes"),
        ("Cryo-Timeout: 1h", "expected whole seconds"),
        ("Cryo-Locale: C UTF-8", "expected a locale name"),
        ("Cryo-Umask: 999", "expected an octal mask"),
        ("Cryo-Umask: 01777", "expected an octal mask"),
        ("Cryo-ReleasePattern: -eol<CI_CNT>", "only letters, digits"),
    ];
    for (line, reason) in cases {
        let e = msg(&format!("Support: a\n{line}\n"));
        assert!(e.starts_with("t.prjconf:2: Cryo-"), "{line}: {e}");
        assert!(e.contains(reason), "{line}: {e}");
    }
}

#[test]
fn bad_context() {
    let ctx = cryo_prjconf::ParseContext::new("x86 64");
    let e = cryo_prjconf::Prjconf::parse("", "f", &ctx)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("f:0: invalid parse context: bad architecture `x86 64`")
    );
}
