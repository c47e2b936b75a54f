//! The first pass over a prjconf, mirroring what obs-build's `read_config` does through
//! `Build::Rpm::parse`: comments, `%define`/`%global`, the `%if`/`%ifarch`/`%ifnarch`/`%ifos`/
//! `%elif*`/`%else`/`%endif` tree, macro expansion of active lines, and extraction of verbatim
//! `Macros:` ... `:Macros` blocks. Its output is the list of active directive lines and macro
//! blocks, each with its line number; structural mistakes are errors with file:line.

use crate::error::{ErrorKind, PrjconfError, Warning};
use crate::expr;
use crate::macros::{MacroDef, MacroTable};

/// One active piece of the prjconf, in file order.
#[derive(Debug)]
pub(crate) enum Item {
    /// A directive line after macro expansion.
    Line { line: usize, text: String },
    /// The definitions of one `Macros:` block (`reset` when it starts with a `!` line).
    Macros {
        reset: bool,
        defs: Vec<(String, MacroDef)>,
    },
}

pub(crate) struct Preprocessed {
    pub items: Vec<Item>,
    pub table: MacroTable,
    pub warnings: Vec<Warning>,
}

struct Frame {
    opened: usize,
    parent_active: bool,
    current: bool,
    taken: bool,
    in_else: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CondKind {
    If,
    IfArch,
    IfNArch,
    IfOs,
    IfNOs,
}

enum Cond<'a> {
    Open(CondKind, &'a str),
    Elif(CondKind, &'a str),
    Else,
    Endif,
    Unknown(&'a str),
}

/// The `%word` a trimmed line starts with, and the text after it.
fn percent_word(t: &str) -> Option<(&str, &str)> {
    let rest = t.strip_prefix('%')?;
    let n = rest
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
        .count();
    Some((&rest[..n], &rest[n..]))
}

fn classify(t: &str) -> Option<Cond<'_>> {
    let (word, args) = percent_word(t)?;
    let kind = |w: &str| match w {
        "if" => Some(CondKind::If),
        "ifarch" => Some(CondKind::IfArch),
        "ifnarch" => Some(CondKind::IfNArch),
        "ifos" => Some(CondKind::IfOs),
        "ifnos" => Some(CondKind::IfNOs),
        _ => None,
    };
    Some(match word {
        "else" => Cond::Else,
        "endif" => Cond::Endif,
        "elif" | "elifarch" | "elifos" => match kind(&word[2..]) {
            Some(k) => Cond::Elif(k, args),
            None => Cond::Unknown(word),
        },
        w if w.starts_with("if") => match kind(w) {
            Some(k) => Cond::Open(k, args),
            None => Cond::Unknown(word),
        },
        _ => return None,
    })
}

pub(crate) struct Pre<'a> {
    file: &'a str,
    arch: &'a str,
    table: MacroTable,
    warnings: Vec<Warning>,
}

impl<'a> Pre<'a> {
    pub(crate) fn new(file: &'a str, arch: &'a str, table: MacroTable) -> Self {
        Self {
            file,
            arch,
            table,
            warnings: Vec::new(),
        }
    }

    fn err(&self, line: usize, kind: ErrorKind) -> PrjconfError {
        PrjconfError::new(self.file, line, kind)
    }

    fn warn(&mut self, line: usize, message: String) {
        self.warnings.push(Warning {
            file: self.file.to_owned(),
            line,
            message,
        });
    }

    fn expand(&self, line: usize, s: &str) -> Result<String, PrjconfError> {
        if !s.contains('%') {
            return Ok(s.to_owned());
        }
        self.table
            .expand(s)
            .map_err(|source| self.err(line, ErrorKind::Macro { source }))
    }

    fn eval(&mut self, line: usize, kind: CondKind, args: &str) -> Result<bool, PrjconfError> {
        let args = self.expand(line, args)?;
        let words = || args.split_whitespace();
        Ok(match kind {
            CondKind::IfArch => words().any(|a| a == self.arch),
            CondKind::IfNArch => !words().any(|a| a == self.arch),
            CondKind::IfOs => words().any(|o| o == "linux"),
            CondKind::IfNOs => !words().any(|o| o == "linux"),
            CondKind::If if args.trim().is_empty() => {
                self.warn(line, "empty %if condition is false".to_owned());
                false
            }
            CondKind::If => expr::eval(args.trim())
                .map_err(|source| {
                    self.err(
                        line,
                        ErrorKind::BadCondition {
                            condition: args.trim().to_owned(),
                            source,
                        },
                    )
                })?
                .truthy(),
        })
    }

    pub(crate) fn run(mut self, text: &str) -> Result<Preprocessed, PrjconfError> {
        let lines: Vec<&str> = text.lines().collect();
        let mut stack: Vec<Frame> = Vec::new();
        let mut items = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let line = i + 1;
            let raw = lines[i];
            i += 1;
            let t = raw.trim();
            let active = stack.iter().all(|f| f.current);
            if t.eq_ignore_ascii_case("macros:") {
                let start = i;
                while i < lines.len() && !lines[i].trim().eq_ignore_ascii_case(":macros") {
                    i += 1;
                }
                if i == lines.len() {
                    return Err(self.err(line, ErrorKind::UnterminatedMacros));
                }
                let body: Vec<(usize, &str)> = (start..i).map(|j| (j + 1, lines[j])).collect();
                i += 1;
                let block = self.macro_block(&body)?;
                if active {
                    items.push(block);
                }
                continue;
            }
            if t.eq_ignore_ascii_case(":macros") {
                return Err(self.err(line, ErrorKind::StrayMacrosEnd));
            }
            if t.is_empty() || t.starts_with('#') {
                if active && t.to_ascii_lowercase().starts_with("#!prependconfigfile") {
                    self.warn(
                        line,
                        "#!PrependConfigFile is not supported; ignored".to_owned(),
                    );
                }
                continue;
            }
            match classify(t) {
                Some(Cond::Open(kind, args)) => {
                    let current = active && self.eval(line, kind, args)?;
                    stack.push(Frame {
                        opened: line,
                        parent_active: active,
                        current,
                        taken: current || !active,
                        in_else: false,
                    });
                }
                Some(Cond::Unknown(word)) if !active && word.starts_with("if") => {
                    stack.push(Frame {
                        opened: line,
                        parent_active: false,
                        current: false,
                        taken: true,
                        in_else: false,
                    });
                }
                Some(Cond::Unknown(word)) => {
                    if active {
                        let directive = format!("%{word}");
                        return Err(self.err(line, ErrorKind::UnknownConditional { directive }));
                    }
                }
                Some(c @ (Cond::Elif(..) | Cond::Else)) => {
                    let directive = t.split_whitespace().next().unwrap_or(t).to_owned();
                    let Some(top) = stack.last() else {
                        return Err(self.err(line, ErrorKind::ElseWithoutIf { directive }));
                    };
                    if top.in_else {
                        let opened = top.opened;
                        return Err(self.err(line, ErrorKind::AfterElse { directive, opened }));
                    }
                    let open = top.parent_active && !top.taken;
                    let current = match c {
                        Cond::Elif(kind, args) => open && self.eval(line, kind, args)?,
                        _ => open,
                    };
                    if let Some(top) = stack.last_mut() {
                        top.current = current;
                        top.taken |= current;
                        top.in_else = matches!(c, Cond::Else);
                    }
                }
                Some(Cond::Endif) => {
                    if stack.pop().is_none() {
                        return Err(self.err(line, ErrorKind::EndifWithoutIf));
                    }
                }
                None if !active => {}
                None => {
                    if let Some(def) = self.define(line, t)? {
                        let (name, params, body) = def;
                        self.table.define(&name, params.as_deref(), &body);
                    } else {
                        let text = self.expand(line, raw)?;
                        items.push(Item::Line { line, text });
                    }
                }
            }
        }
        if let Some(top) = stack.last() {
            return Err(self.err(top.opened, ErrorKind::UnterminatedIf));
        }
        Ok(Preprocessed {
            items,
            table: self.table,
            warnings: self.warnings,
        })
    }

    /// `%define NAME[(PARAMS)] BODY` / `%global ...`; `None` if the line is neither.
    #[allow(clippy::type_complexity)]
    fn define(
        &self,
        line: usize,
        t: &str,
    ) -> Result<Option<(String, Option<String>, String)>, PrjconfError> {
        let Some((word @ ("define" | "global"), rest)) = percent_word(t) else {
            return Ok(None);
        };
        let bad = || {
            self.err(
                line,
                ErrorKind::BadDefine {
                    statement: format!("%{word}"),
                    text: t.to_owned(),
                },
            )
        };
        if !rest.starts_with(char::is_whitespace) {
            return Err(bad());
        }
        let (name, params, body) = split_definition(rest.trim_start()).ok_or_else(bad)?;
        let body = if word == "global" {
            self.expand(line, body)?
        } else {
            body.to_owned()
        };
        Ok(Some((name.to_owned(), params.map(str::to_owned), body)))
    }

    fn macro_block(&mut self, body: &[(usize, &str)]) -> Result<Item, PrjconfError> {
        let mut defs: Vec<(String, MacroDef)> = Vec::new();
        let mut reset = false;
        for (idx, &(line, text)) in body.iter().enumerate() {
            if let Some((_, def)) = defs.last_mut().filter(|(_, d)| d.body.ends_with('\\')) {
                def.body.push('\n');
                def.body.push_str(text);
                continue;
            }
            let t = text.trim();
            if idx == 0 && t == "!" {
                reset = true;
                continue;
            }
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if let Some(Cond::Open(..) | Cond::Elif(..) | Cond::Else | Cond::Endif) = classify(t) {
                let statement = t.to_owned();
                return Err(self.err(line, ErrorKind::StatementInMacros { statement }));
            }
            if let Some(("define" | "global" | "undefine", _)) = percent_word(t) {
                let statement = t.to_owned();
                return Err(self.err(line, ErrorKind::StatementInMacros { statement }));
            }
            // rpm's macro-file reader skips leading blanks; obs-build's own view does not. We
            // follow rpm, which is what reads these macros in the build.
            let Some(def) = t.strip_prefix('%') else {
                self.warn(
                    line,
                    format!("line in Macros: block is not a %macro definition; ignored: `{t}`"),
                );
                continue;
            };
            let bad = || {
                let text = text.to_owned();
                self.err(line, ErrorKind::BadMacroLine { text })
            };
            let (name, params, body) = split_definition(def).ok_or_else(bad)?;
            defs.push((
                name.to_owned(),
                MacroDef {
                    params: params.map(str::to_owned),
                    body: body.to_owned(),
                },
            ));
        }
        Ok(Item::Macros { reset, defs })
    }
}

/// `NAME[(PARAMS)] BODY` as in obs-build's `initmacros`; the body is trimmed.
fn split_definition(s: &str) -> Option<(&str, Option<&str>, &str)> {
    let n = s
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
        .count();
    if n == 0 {
        return None;
    }
    let (name, mut rest) = s.split_at(n);
    let mut params = None;
    if let Some(p) = rest.strip_prefix('(') {
        let end = p.find(')')?;
        params = Some(&p[..end]);
        rest = &p[end + 1..];
    } else if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some((name, params, rest.trim()))
}
