//! Domain types of a parsed prjconf: package names and the structured entries of `Ignore`,
//! `Prefer`, `Conflict`, `Order`, `ExpandFlags`/`BuildFlags`, and unknown directives. Each entry
//! type parses from the token OBS reads and displays back as that token.

use std::fmt;

use serde::Serialize;

/// A package or dependency name as a prjconf lists it: non-empty, no whitespace (OBS splits
/// directive lines on whitespace, so no other rule applies).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct PackageName(String);

impl PackageName {
    pub fn new(s: &str) -> Option<Self> {
        (!s.is_empty() && !s.contains(char::is_whitespace)).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<&str> for PackageName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

fn name(s: &str) -> Result<PackageName, String> {
    PackageName::new(s).ok_or_else(|| "empty package name".to_owned())
}

/// `Ignore: PKG` (ignore every dependency on PKG) or `Ignore: ORIGIN:PKG` (ignore ORIGIN's
/// dependency on PKG). OBS expands `ORIGIN:A,B` into `ORIGIN:A` and `ORIGIN:B`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct IgnoreEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<PackageName>,
    pub name: PackageName,
}

impl IgnoreEntry {
    pub(crate) fn parse_token(tok: &str) -> Result<Vec<Self>, String> {
        let Some((origin, names)) = tok.split_once(':') else {
            return Ok(vec![Self {
                origin: None,
                name: name(tok)?,
            }]);
        };
        let origin = name(origin)?;
        names
            .split([',', ':'])
            .map(|n| {
                Ok(Self {
                    origin: Some(origin.clone()),
                    name: name(n)?,
                })
            })
            .collect()
    }
}

impl fmt::Display for IgnoreEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Some(o) => write!(f, "{o}:{}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

/// `Prefer: PKG`, `Prefer: -PKG` (never choose PKG), `Prefer: ORIGIN:PKG` and
/// `Prefer: -ORIGIN:PKG` (the same, only when resolving ORIGIN's dependencies).
/// Order matters: when several preferred candidates remain, OBS takes the first listed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PreferEntry {
    pub negative: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<PackageName>,
    pub name: PackageName,
}

impl PreferEntry {
    pub(crate) fn parse_token(tok: &str) -> Result<Self, String> {
        let (negative, rest) = match tok.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, tok),
        };
        let (origin, n) = match rest.split_once(':') {
            Some((o, n)) => (Some(name(o)?), n),
            None => (None, rest),
        };
        Ok(Self {
            negative,
            origin,
            name: name(n)?,
        })
    }
}

impl fmt::Display for PreferEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        if let Some(o) = &self.origin {
            write!(f, "{o}:")?;
        }
        write!(f, "{}", self.name)
    }
}

/// `Conflict: A:B` — A and B must not be installed together. Symmetric, so stored with the
/// smaller name first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ConflictPair {
    pub a: PackageName,
    pub b: PackageName,
}

impl ConflictPair {
    /// `A:B,C` → A↔B, A↔C. A token without a partner yields nothing (as in OBS).
    pub(crate) fn parse_token(tok: &str) -> Result<Vec<Self>, String> {
        let mut parts = tok.split([',', ':']);
        let first = name(parts.next().unwrap_or(""))?;
        parts
            .map(|p| {
                let other = name(p)?;
                let (a, b) = if first <= other {
                    (first.clone(), other)
                } else {
                    (other, first.clone())
                };
                Ok(Self { a, b })
            })
            .collect()
    }
}

/// `Order: A:B` — install A before B.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct OrderEntry {
    pub before: PackageName,
    pub after: PackageName,
}

impl OrderEntry {
    pub(crate) fn parse_token(tok: &str) -> Result<Self, String> {
        let (a, b) = tok
            .split_once(':')
            .ok_or_else(|| "expected BEFORE:AFTER".to_owned())?;
        Ok(Self {
            before: name(a)?,
            after: name(b)?,
        })
    }
}

/// One `ExpandFlags:`/`BuildFlags:` token: `NAME` or `NAME:VALUE`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Flag {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Flag {
    pub(crate) fn parse_token(tok: &str) -> Self {
        match tok.split_once(':') {
            Some((n, v)) if !n.is_empty() => Self {
                name: n.to_owned(),
                value: Some(v.to_owned()),
            },
            _ => Self {
                name: tok.to_owned(),
                value: None,
            },
        }
    }
}

/// A directive cryo does not interpret, kept in file order. `key` is lower-cased (OBS keys are
/// case-insensitive) and without the colon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownDirective {
    #[serde(skip)]
    pub file: String,
    #[serde(skip)]
    pub line: usize,
    pub key: String,
    pub args: Vec<String>,
}
