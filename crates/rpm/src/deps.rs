//! Dependencies: `name`, `name OP [E:]V[-R]` (OP one of `<`, `<=`, `=`, `>=`, `>`, as in a
//! spec or `rpm -q --requires`), the `<rpm:entry>` form of rpm-md (`flags="GE"`), and
//! rpm's range overlap (`rpmverOverlap`) that decides whether a `Provides:` satisfies a
//! `Requires:`. Rich (boolean) dependencies, `(a or b)`, are recognised and refused with
//! [`DepError::Unsupported`].

use std::cmp::Ordering;
use std::fmt;

use crate::evr::{rpmvercmp, Evr, EvrError};

/// A comparison operator (`RPMSENSE_LESS|EQUAL|GREATER` combinations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// `<` (`LT`).
    Lt,
    /// `<=` (`LE`).
    Le,
    /// `=` (`EQ`).
    Eq,
    /// `>=` (`GE`).
    Ge,
    /// `>` (`GT`).
    Gt,
}

impl Op {
    /// From the symbol of a spec file (`<`, `<=`, `=`, `==`, `>=`, `>`).
    pub fn from_symbol(s: &str) -> Option<Op> {
        Some(match s {
            "<" => Op::Lt,
            "<=" | "=<" => Op::Le,
            "=" | "==" => Op::Eq,
            ">=" | "=>" => Op::Ge,
            ">" => Op::Gt,
            _ => return None,
        })
    }
    /// From the `flags` attribute of an rpm-md `<rpm:entry>` (`LT`, `LE`, `EQ`, `GE`, `GT`).
    pub fn from_flags(s: &str) -> Option<Op> {
        Some(match s {
            "LT" => Op::Lt,
            "LE" => Op::Le,
            "EQ" => Op::Eq,
            "GE" => Op::Ge,
            "GT" => Op::Gt,
            _ => return None,
        })
    }
    /// The spec-file symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "=",
            Op::Ge => ">=",
            Op::Gt => ">",
        }
    }
    /// The rpm-md flag.
    pub fn flags(self) -> &'static str {
        match self {
            Op::Lt => "LT",
            Op::Le => "LE",
            Op::Eq => "EQ",
            Op::Ge => "GE",
            Op::Gt => "GT",
        }
    }
    fn less(self) -> bool {
        matches!(self, Op::Lt | Op::Le)
    }
    fn equal(self) -> bool {
        matches!(self, Op::Le | Op::Eq | Op::Ge)
    }
    fn greater(self) -> bool {
        matches!(self, Op::Ge | Op::Gt)
    }
}

/// `OP EVR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// The operator.
    pub op: Op,
    /// The version it compares with.
    pub evr: Evr,
}

impl Constraint {
    /// rpm's `rpmverOverlap`: do the ranges `self` and `other` intersect? Epochs compare
    /// only when both are written (otherwise a non-zero written one wins); when the
    /// versions are equal and one side has no release, the ranges overlap if that side is
    /// inclusive (`Requires: foo >= 1.0` accepts `foo = 1.0-7`).
    pub fn overlaps(&self, other: &Constraint) -> bool {
        let (v1, f1, v2, f2) = (&self.evr, self.op, &other.evr, other.op);
        let mut sense = match (v1.epoch(), v2.epoch()) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(a), None) if a > 0 => Ordering::Greater,
            (None, Some(b)) if b > 0 => Ordering::Less,
            _ => Ordering::Equal,
        };
        if sense == Ordering::Equal {
            sense = rpmvercmp(v1.version(), v2.version());
            if sense == Ordering::Equal {
                match (v1.release(), v2.release()) {
                    (Some(a), Some(b)) => sense = rpmvercmp(a, b),
                    (r1, r2) => {
                        if (r1.is_some() && f2.equal()) || (r2.is_some() && f1.equal()) {
                            return true;
                        }
                    }
                }
            }
        }
        match sense {
            Ordering::Less => f1.greater() || f2.less(),
            Ordering::Greater => f1.less() || f2.greater(),
            Ordering::Equal => {
                (f1.equal() && f2.equal())
                    || (f1.less() && f2.less())
                    || (f1.greater() && f2.greater())
            }
        }
    }

    /// Does a package of exactly `evr` (a provide `= evr`) fall in this range?
    pub fn matches(&self, evr: &Evr) -> bool {
        self.overlaps(&Constraint {
            op: Op::Eq,
            evr: evr.clone(),
        })
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op.symbol(), self.evr)
    }
}

/// Why a dependency string is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DepError {
    /// Empty or only whitespace.
    #[error("empty dependency")]
    Empty,
    /// A rich (boolean) dependency, `(a or b)`: cryo's resolver does not evaluate them.
    #[error("rich dependency {0:?} is unsupported")]
    Unsupported(String),
    /// `name OP` without a version, an unknown operator or trailing words.
    #[error("malformed dependency {0:?}")]
    Malformed(String),
    /// The version part is not an EVR.
    #[error("dependency {text:?}: {source}")]
    Evr {
        /// The dependency.
        text: String,
        /// Why.
        #[source]
        source: EvrError,
    },
}

/// One dependency (or provide, conflict, obsolete): a name (a package or virtual name, a
/// file path, `libc.so.6(GLIBC_2.34)(64bit)`, `rpmlib(...)`) and an optional constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    /// What is required or provided.
    pub name: String,
    /// The version range, if any.
    pub constraint: Option<Constraint>,
    /// `pre="1"` in rpm-md (`Requires(pre)`, `Requires(post)`…): needed before the
    /// package's scriptlets run. The resolver treats it like any requirement.
    pub pre: bool,
}

impl Dep {
    /// An unversioned dependency on `name`.
    pub fn name(name: &str) -> Dep {
        Dep {
            name: name.to_owned(),
            constraint: None,
            pre: false,
        }
    }

    /// Parse `name` or `name OP EVR` as a spec file writes one dependency. A leading `(`
    /// is a rich dependency: [`DepError::Unsupported`].
    pub fn parse(text: &str) -> Result<Dep, DepError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(DepError::Empty);
        }
        if t.starts_with('(') {
            return Err(DepError::Unsupported(t.to_owned()));
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        match words.as_slice() {
            [name] => Ok(Dep::name(name)),
            [name, op, evr] => {
                let op = Op::from_symbol(op).ok_or_else(|| DepError::Malformed(t.to_owned()))?;
                let evr = Evr::parse(evr).map_err(|source| DepError::Evr {
                    text: t.to_owned(),
                    source,
                })?;
                Ok(Dep {
                    name: (*name).to_owned(),
                    constraint: Some(Constraint { op, evr }),
                    pre: false,
                })
            }
            _ => Err(DepError::Malformed(t.to_owned())),
        }
    }

    /// Split a `BuildRequires:` value into its dependencies (`a, b >= 1 c`: rpm separates
    /// by commas and whitespace, an operator binding the next word).
    pub fn parse_list(text: &str) -> Result<Vec<Dep>, DepError> {
        let t = text.trim();
        let words: Vec<&str> = t
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
            .collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < words.len() {
            if words[i].starts_with('(') {
                return Err(DepError::Unsupported(t.to_owned()));
            }
            if words.get(i + 1).and_then(|w| Op::from_symbol(w)).is_some() {
                let Some(evr) = words.get(i + 2) else {
                    return Err(DepError::Malformed(t.to_owned()));
                };
                out.push(Dep::parse(&format!(
                    "{} {} {}",
                    words[i],
                    words[i + 1],
                    evr
                ))?);
                i += 3;
            } else {
                if Op::from_symbol(words[i]).is_some() {
                    return Err(DepError::Malformed(t.to_owned()));
                }
                out.push(Dep::name(words[i]));
                i += 1;
            }
        }
        Ok(out)
    }

    /// A rich (boolean) dependency, as rpm-md writes them (`name="(a or b)"`).
    pub fn is_rich(&self) -> bool {
        self.name.starts_with('(')
    }

    /// A file dependency (`/bin/sh`).
    pub fn is_file(&self) -> bool {
        self.name.starts_with('/')
    }

    /// `rpmlib(...)`: features of rpm itself, satisfied by the rpm that installs, never by
    /// a package.
    pub fn is_rpmlib(&self) -> bool {
        self.name.starts_with("rpmlib(")
    }

    /// Does the provide `provide` satisfy this requirement? Same name, and either side
    /// unversioned or the ranges overlap (rpm's `rpmdsCompare`).
    pub fn satisfied_by(&self, provide: &Dep) -> bool {
        if self.name != provide.name {
            return false;
        }
        match (&self.constraint, &provide.constraint) {
            (Some(a), Some(b)) => a.overlaps(b),
            _ => true,
        }
    }
}

impl fmt::Display for Dep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(c) = &self.constraint {
            write!(f, " {c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dep {
        Dep::parse(s).unwrap()
    }

    #[test]
    fn parses_plain_versioned_and_rejects_rich() {
        assert_eq!(d("foo").constraint, None);
        let c = d("foo >= 1:2.0-3").constraint.unwrap();
        assert_eq!((c.op, c.evr.to_string()), (Op::Ge, "1:2.0-3".to_owned()));
        assert_eq!(
            Dep::parse("(foo or bar)"),
            Err(DepError::Unsupported("(foo or bar)".into()))
        );
        assert!(matches!(Dep::parse("foo >="), Err(DepError::Malformed(_))));
        assert!(matches!(Dep::parse("foo ~ 1"), Err(DepError::Malformed(_))));
        assert!(matches!(Dep::parse("foo >= 1-"), Err(DepError::Evr { .. })));
        let l = Dep::parse_list("a, b >= 1.0 c,d = 2").unwrap();
        let s: Vec<String> = l.iter().map(Dep::to_string).collect();
        assert_eq!(s, ["a", "b >= 1.0", "c", "d = 2"]);
        assert!(Dep::parse_list("a b >=").is_err());
        assert!(matches!(
            Dep::parse_list("a, (b if c)"),
            Err(DepError::Unsupported(_))
        ));
    }

    #[test]
    fn missing_release_matches_any_release_when_inclusive() {
        assert!(d("foo >= 1.0").satisfied_by(&d("foo = 1.0-7")));
        assert!(d("foo = 1.0").satisfied_by(&d("foo = 1.0-7")));
        assert!(d("foo <= 1.0").satisfied_by(&d("foo = 1.0-7")));
        assert!(!d("foo > 1.0").satisfied_by(&d("foo = 1.0-7")));
        assert!(!d("foo < 1.0").satisfied_by(&d("foo = 1.0-7")));
        assert!(d("foo = 1.0-7").satisfied_by(&d("foo = 1.0")));
        assert!(!d("foo = 1.0-7").satisfied_by(&d("foo = 1.0-8")));
        assert!(d("foo").satisfied_by(&d("foo = 3")));
        assert!(d("foo > 2").satisfied_by(&d("foo")));
        assert!(!d("foo").satisfied_by(&d("bar")));
    }

    #[test]
    fn epochs_compare_only_when_written_or_nonzero() {
        assert!(d("foo >= 1.0").satisfied_by(&d("foo = 0:1.0-1")));
        assert!(!d("foo >= 1:1.0").satisfied_by(&d("foo = 2.0-1")));
        assert!(d("foo >= 1.0").satisfied_by(&d("foo = 1:0.5-1")));
        assert!(d("foo < 1:0").satisfied_by(&d("foo = 9.0")));
        assert!(d("foo >= 2:1").satisfied_by(&d("foo = 2:1.0-1")));
    }
}
