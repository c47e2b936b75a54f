//! The `%if` condition language, evaluated the way obs-build's `Build::Rpm::expr` does it (macros
//! are expanded before the expression is parsed). Written by hand because it must reproduce
//! OBS's precedence quirks, which no general expression crate does:
//!
//! - values are integers, `"strings"`, `v"versions"` and bare words (`x86_64`, taken as strings);
//! - levels, loosest first: `?:`, then `&&` and `||` at the SAME level (left to right, unlike
//!   rpm), comparisons, `+ -`, `* /`, unary `! -`;
//! - `&&`/`||` yield an operand, not a boolean; a version value is false, as in OBS.
//!
//! Where OBS silently turns a malformed expression into "false", this module reports an error.

use std::cmp::Ordering;

/// A value of the condition language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Num(i64),
    Str(String),
    Ver(String),
}

impl Value {
    /// OBS's `expr_boolify`: 0, the empty string and every version are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Num(n) => *n != 0,
            Value::Str(s) => !s.is_empty(),
            Value::Ver(_) => false,
        }
    }
}

/// Why an expression could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    #[error("syntax error at offset {pos}: {msg}")]
    Syntax { pos: usize, msg: &'static str },
    #[error("unexpected `{rest}` after the expression")]
    Trailing { rest: String },
    #[error("operator `{op}` cannot combine {left} and {right}")]
    Types {
        op: &'static str,
        left: &'static str,
        right: &'static str,
    },
    #[error("division by zero")]
    DivisionByZero,
    #[error("integer overflow")]
    Overflow,
    #[error("expression nested too deeply")]
    TooDeep,
}

const MAX_DEPTH: usize = 64;

/// Evaluates a whole condition; trailing text is an error (OBS ignores it).
pub fn eval(input: &str) -> Result<Value, ExprError> {
    let mut p = Parser {
        s: input,
        pos: 0,
        depth: 0,
    };
    let v = p.expr(0)?;
    p.skip_ws();
    if p.pos < p.s.len() {
        return Err(ExprError::Trailing {
            rest: p.s[p.pos..].to_owned(),
        });
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Num(_) => "a number",
        Value::Str(_) => "a string",
        Value::Ver(_) => "a version",
    }
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.s.len() - trimmed.len();
    }

    fn eat(&mut self, tok: &str) -> bool {
        if self.rest().starts_with(tok) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    fn syntax(&self, msg: &'static str) -> ExprError {
        ExprError::Syntax { pos: self.pos, msg }
    }

    fn expr(&mut self, level: u8) -> Result<Value, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::TooDeep);
        }
        let r = self.expr_inner(level);
        self.depth -= 1;
        r
    }

    fn primary(&mut self) -> Result<Value, ExprError> {
        self.skip_ws();
        if self.eat("(") {
            let v = self.expr(0)?;
            self.skip_ws();
            if !self.eat(")") {
                return Err(self.syntax("expected `)`"));
            }
            return Ok(v);
        }
        if self.eat("!") {
            let v = self.expr(6)?;
            return Ok(Value::Num(i64::from(!v.truthy())));
        }
        if self.eat("-") {
            return match self.expr(6)? {
                Value::Num(n) => n.checked_neg().map(Value::Num).ok_or(ExprError::Overflow),
                other => Err(ExprError::Types {
                    op: "-",
                    left: "nothing",
                    right: kind(&other),
                }),
            };
        }
        let rest = self.rest();
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            let n = rest[..digits]
                .parse::<i64>()
                .map_err(|_| ExprError::Overflow)?;
            self.pos += digits;
            return Ok(Value::Num(n));
        }
        if rest.starts_with("v\"") {
            self.pos += 1;
            return Ok(Value::Ver(self.quoted()?));
        }
        if rest.starts_with('"') {
            return Ok(Value::Str(self.quoted()?));
        }
        let word = rest
            .char_indices()
            .take_while(|&(i, c)| {
                if i == 0 {
                    c.is_ascii_alphabetic()
                } else {
                    c.is_ascii_alphanumeric() || c == '_'
                }
            })
            .count();
        if word > 0 {
            let w = rest[..word].to_owned();
            self.pos += word;
            return Ok(Value::Str(w));
        }
        if rest.is_empty() {
            return Err(self.syntax("expected a value, found the end"));
        }
        Err(self.syntax("expected a value"))
    }

    fn quoted(&mut self) -> Result<String, ExprError> {
        // At the opening quote.
        self.pos += 1;
        match self.rest().find('"') {
            Some(end) => {
                let s = self.rest()[..end].to_owned();
                self.pos += end + 1;
                Ok(s)
            }
            None => Err(self.syntax("unterminated string")),
        }
    }

    fn expr_inner(&mut self, level: u8) -> Result<Value, ExprError> {
        let mut v = self.primary()?;
        if level >= 6 {
            return Ok(v);
        }
        loop {
            self.skip_ws();
            let rest = self.rest();
            if rest.starts_with("&&") || rest.starts_with("||") {
                if level >= 2 {
                    return Ok(v);
                }
                let is_and = rest.starts_with("&&");
                self.pos += 2;
                let b = v.truthy();
                let v2 = self.expr(2)?;
                if b == is_and {
                    v = v2;
                }
            } else if let Some(op) = ["==", "!=", ">=", "<=", ">", "<"]
                .into_iter()
                .find(|op| rest.starts_with(op))
            {
                if level >= 3 {
                    return Ok(v);
                }
                self.pos += op.len();
                let v2 = self.expr(3)?;
                v = Value::Num(i64::from(compare(op, &v, &v2)?));
            } else if rest.starts_with('+') || rest.starts_with('-') {
                if level >= 4 {
                    return Ok(v);
                }
                let plus = rest.starts_with('+');
                self.pos += 1;
                let v2 = self.expr(4)?;
                v = arith(if plus { "+" } else { "-" }, v, v2)?;
            } else if rest.starts_with('*') || rest.starts_with('/') {
                // OBS parses the right operand at level 5 without checking the current level,
                // which makes `*` and `/` right-associative: `8 / 4 / 2` is `8 / (4 / 2)`.
                let mul = rest.starts_with('*');
                self.pos += 1;
                let v2 = self.expr(5)?;
                v = arith(if mul { "*" } else { "/" }, v, v2)?;
            } else if rest.starts_with('?') {
                if level > 1 {
                    return Ok(v);
                }
                self.pos += 1;
                let b = v.truthy();
                let yes = self.expr(1)?;
                self.skip_ws();
                if !self.eat(":") {
                    return Err(self.syntax("expected `:` of `?:`"));
                }
                let no = self.expr(1)?;
                v = if b { yes } else { no };
            } else if rest.starts_with(['=', '&', '|']) {
                return Err(self.syntax("single `=`, `&` or `|` (use `==`, `&&`, `||`)"));
            } else {
                return Ok(v);
            }
        }
    }
}

fn compare(op: &'static str, a: &Value, b: &Value) -> Result<bool, ExprError> {
    let ord = match (a, b) {
        (Value::Num(x), Value::Num(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Ver(x), Value::Ver(y) | Value::Str(y)) => verscmp(x, y),
        _ => {
            return Err(ExprError::Types {
                op,
                left: kind(a),
                right: kind(b),
            })
        }
    };
    Ok(match op {
        "==" => ord == Ordering::Equal,
        "!=" => ord != Ordering::Equal,
        ">=" => ord != Ordering::Less,
        "<=" => ord != Ordering::Greater,
        ">" => ord == Ordering::Greater,
        _ => ord == Ordering::Less,
    })
}

fn arith(op: &'static str, a: Value, b: Value) -> Result<Value, ExprError> {
    match (op, a, b) {
        ("+", Value::Str(x), Value::Str(y)) => Ok(Value::Str(x + &y)),
        (_, Value::Num(x), Value::Num(y)) => {
            let r = match op {
                "+" => x.checked_add(y),
                "-" => x.checked_sub(y),
                "*" => x.checked_mul(y),
                _ if y == 0 => return Err(ExprError::DivisionByZero),
                _ => x.checked_div(y),
            };
            r.map(Value::Num).ok_or(ExprError::Overflow)
        }
        (_, a, b) => Err(ExprError::Types {
            op,
            left: kind(&a),
            right: kind(&b),
        }),
    }
}

/// rpm's `[epoch:]version[-release]` comparison (rpmvercmp on each part, `~` sorts first).
pub fn verscmp(a: &str, b: &str) -> Ordering {
    fn split(s: &str) -> (&str, &str, &str) {
        let (e, rest) = match s.split_once(':') {
            Some((e, rest)) if e.bytes().all(|c| c.is_ascii_digit()) => (e, rest),
            _ => ("0", s),
        };
        let (v, r) = rest.rsplit_once('-').unwrap_or((rest, ""));
        (e, v, r)
    }
    let (ea, va, ra) = split(a);
    let (eb, vb, rb) = split(b);
    rpmvercmp(ea, eb)
        .then_with(|| rpmvercmp(va, vb))
        .then_with(|| rpmvercmp(ra, rb))
}

fn rpmvercmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    let sep = |c: &u8| !c.is_ascii_alphanumeric() && *c != b'~';
    loop {
        while a.first().is_some_and(sep) {
            a = &a[1..];
        }
        while b.first().is_some_and(sep) {
            b = &b[1..];
        }
        match (a.first() == Some(&b'~'), b.first() == Some(&b'~')) {
            (true, true) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        if a.is_empty() || b.is_empty() {
            return a.len().cmp(&b.len());
        }
        let numeric = a[0].is_ascii_digit();
        let take = |s: &[u8]| {
            s.iter()
                .take_while(|c| {
                    if numeric {
                        c.is_ascii_digit()
                    } else {
                        c.is_ascii_alphabetic()
                    }
                })
                .count()
        };
        let (la, lb) = (take(a), take(b));
        if lb == 0 {
            // Different segment kinds: a numeric segment is newer than an alphabetic one.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (sa, sb) = (&a[..la], &b[..lb]);
        let ord = if numeric {
            let ta = trim_zeros(sa);
            let tb = trim_zeros(sb);
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            sa.cmp(sb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
        a = &a[la..];
        b = &b[lb..];
    }
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b'0').count();
    &s[n..]
}
