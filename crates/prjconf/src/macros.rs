//! rpm-style macro definitions and their expansion in prjconf lines, following obs-build's
//! `Build::Rpm::expandmacros`: `%name`, `%{name}`, `%?name`, `%{?name}`, `%{?name:alt}`,
//! `%{!?name:alt}`, `%{name:alt}`, `%%`, `%{defined name}`, `%{undefined name}`,
//! `%{with name}`, `%{without name}`, `%{expand:body}` and `%[expr]`. An undefined plain
//! `%name` stays as it is written. Written by hand: rpm's macro language has no Rust crate, and
//! OBS's dialect differs from rpm's in details (e.g. `%{name:alt}` yields `alt`).

use std::collections::BTreeMap;

use crate::expr;

/// One macro: optional parameter spec (`%define foo(a:) ...`) and the body as written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MacroDef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<String>,
    pub body: String,
}

/// Why a line could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MacroError {
    #[error("unterminated `%{open}`")]
    Unterminated { open: char },
    #[error("shell expansion `%(...)` is not supported (a prjconf must not run commands)")]
    Shell,
    #[error("macro `%{name}` takes parameters, which cryo does not expand")]
    Parametric { name: String },
    #[error("macro expansion too deep or too large (recursive macro?)")]
    TooDeep,
    #[error("in `%[...]`: {source}")]
    Expr {
        #[source]
        source: expr::ExprError,
    },
}

const MAX_DEPTH: usize = 32;
const MAX_EXPANSIONS: usize = 10_000;
const MAX_OUTPUT: usize = 1 << 20;

/// rpm's standard arch-group macros, as obs-build predefines them (`$std_macros` in Build.pm),
/// so that `%ifarch %ix86` and `%ifarch %arm` work.
const STD_MACROS: &[(&str, &str)] = &[
    ("nil", ""),
    ("ix86", "i386 i486 i586 i686 pentium3 pentium4 athlon geode"),
    ("arm", "armv3l armv4b armv4l armv4tl armv5b armv5l armv5teb armv5tel armv5tejl armv6l armv6hl armv7l armv7hl armv7hnl armv5el armv5eb armv6el armv6eb armv7el armv7eb armv7nhl armv8el"),
    ("arml", "armv3l armv4l armv5l armv5tel armv6l armv6hl armv7l armv7hl armv7hnl"),
    ("armb", "armv4b armv5b armv5teb"),
    ("arm64", "aarch64"),
    ("mips32", "mips mipsel mipsr6 mipsr6el"),
    ("mips64", "mips64 mips64el mips64r6 mips64r6el"),
    ("mipseb", "mips mipsr6 mips64 mips64r6"),
    ("mipsel", "mipsel mipsr6el mips64el mips64r6el"),
    ("mips", "%{mips32} %{mips64}"),
    ("sparc", "sparc sparcv8 sparcv9 sparcv9v sparc64 sparc64v"),
    ("alpha", "alpha alphaev56 alphaev6 alphaev67"),
    ("power64", "ppc64 ppc64p7 ppc64le"),
];

/// A macro table: name → definition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MacroTable {
    defs: BTreeMap<String, MacroDef>,
}

impl MacroTable {
    /// The table OBS starts a prjconf with: the standard macros plus `_target_cpu` and
    /// `_target_os`.
    pub fn builtin(arch_rpm: &str) -> Self {
        let mut t = Self::default();
        for (name, body) in STD_MACROS {
            t.define(name, None, body);
        }
        t.define("_target_cpu", None, arch_rpm);
        t.define("_target_os", None, "linux");
        t
    }

    pub fn define(&mut self, name: &str, params: Option<&str>, body: &str) {
        self.defs.insert(
            name.to_owned(),
            MacroDef {
                params: params.map(str::to_owned),
                body: body.to_owned(),
            },
        );
    }

    pub fn get(&self, name: &str) -> Option<&MacroDef> {
        self.defs.get(name)
    }

    pub fn clear(&mut self) {
        self.defs.clear();
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &MacroDef)> {
        self.defs.iter()
    }

    /// Expands every macro reference in `input`.
    pub fn expand(&self, input: &str) -> Result<String, MacroError> {
        let mut budget = MAX_EXPANSIONS;
        self.expand_at(input, 0, &mut budget)
    }

    fn expand_at(&self, s: &str, depth: usize, budget: &mut usize) -> Result<String, MacroError> {
        if depth > MAX_DEPTH {
            return Err(MacroError::TooDeep);
        }
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('%') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            rest = match after.as_bytes().first() {
                Some(b'%') => {
                    out.push('%');
                    &after[1..]
                }
                Some(b'(') => return Err(MacroError::Shell),
                Some(&open @ (b'{' | b'[')) => {
                    let close = if open == b'{' { b'}' } else { b']' };
                    let end = matching(after, open, close).ok_or(MacroError::Unterminated {
                        open: char::from(open),
                    })?;
                    let inner = &after[1..end];
                    if open == b'{' {
                        out.push_str(&self.brace(inner, depth, budget)?);
                    } else {
                        let text = self.expand_at(inner, depth + 1, budget)?;
                        let v = expr::eval(&text).map_err(|source| MacroError::Expr { source })?;
                        out.push_str(&match v {
                            expr::Value::Num(n) => n.to_string(),
                            expr::Value::Str(s) | expr::Value::Ver(s) => s,
                        });
                    }
                    &after[end + 1..]
                }
                _ => {
                    let flags = after.len() - after.trim_start_matches(['?', '!']).len();
                    let name_len = after[flags..]
                        .bytes()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                        .count();
                    let orig = &after[..flags + name_len];
                    if name_len == 0 {
                        out.push('%');
                        out.push_str(orig);
                    } else {
                        let name = &orig[flags..];
                        out.push_str(&self.lookup(
                            &orig[..flags],
                            name,
                            None,
                            orig,
                            depth,
                            budget,
                        )?);
                    }
                    &after[flags + name_len..]
                }
            };
            if out.len() > MAX_OUTPUT {
                return Err(MacroError::TooDeep);
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The inside of `%{...}`.
    fn brace(&self, inner: &str, depth: usize, budget: &mut usize) -> Result<String, MacroError> {
        let body = inner.trim_start_matches(['?', '!']);
        let flags = &inner[..inner.len() - body.len()];
        let (name, sep, tail) = match body.find(|c: char| c == ':' || c.is_whitespace()) {
            Some(i) => {
                let sep = body[i..].chars().next().unwrap_or(' ');
                (&body[..i], Some(sep), &body[i + sep.len_utf8()..])
            }
            None => (body, None, ""),
        };
        if sep.is_some_and(char::is_whitespace) {
            let arg = tail.split_whitespace().next().unwrap_or("");
            let test = match name {
                "defined" => Some(self.defs.contains_key(arg)),
                "undefined" => Some(!self.defs.contains_key(arg)),
                "with" => Some(self.defs.contains_key(&format!("with_{arg}"))),
                "without" => Some(!self.defs.contains_key(&format!("with_{arg}"))),
                _ => None,
            };
            if let Some(t) = test {
                return Ok(if t { "1" } else { "0" }.to_owned());
            }
        }
        let alt = (sep == Some(':')).then_some(tail);
        if name == "expand" && flags.is_empty() {
            return self.expand_at(alt.unwrap_or(""), depth + 1, budget);
        }
        self.lookup(flags, name, alt, &format!("{{{inner}}}"), depth, budget)
    }

    fn lookup(
        &self,
        flags: &str,
        name: &str,
        alt: Option<&str>,
        orig: &str,
        depth: usize,
        budget: &mut usize,
    ) -> Result<String, MacroError> {
        *budget = budget.checked_sub(1).ok_or(MacroError::TooDeep)?;
        // OBS: `!?` (or `?!`) tests for "not defined", `?` for "defined".
        let test: i8 = match (flags.contains('?'), flags.contains('!')) {
            (true, true) => -1,
            (true, false) => 1,
            _ => 0,
        };
        let value = match self.defs.get(name) {
            Some(_) if test == -1 => return Ok(String::new()),
            Some(def) if def.params.is_some() => {
                return Err(MacroError::Parametric {
                    name: name.to_owned(),
                })
            }
            Some(def) => alt.unwrap_or(&def.body),
            None if test == -1 => alt.unwrap_or(""),
            None if test == 1 => "",
            None => return Ok(format!("%{orig}")),
        };
        self.expand_at(value, depth + 1, budget)
    }
}

/// Index of the bracket closing the one at `s[0]`, honouring nesting and backslash escapes.
fn matching(s: &str, open: u8, close: u8) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut level = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\\' {
            i += 2;
            continue;
        }
        if c == open {
            level += 1;
        } else if c == close {
            level -= 1;
            if level == 0 {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}
