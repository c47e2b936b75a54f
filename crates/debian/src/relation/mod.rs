//! Package relationship fields (`Depends`, `Pre-Depends`, `Recommends`, `Conflicts`,
//! `Breaks`, `Provides`, `Build-Depends(-Arch/-Indep)`, `Build-Conflicts(-Arch/-Indep)`):
//! typed parsing of `a (>= 1.0) | b:any [amd64 !i386] <!nocheck> <cross>` and reduction
//! against a host architecture and an active build-profile set.

mod parse;
mod reduce;

use std::fmt;

use crate::version::{Version, VersionError};

/// A relation field that could not be parsed; names the failing text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelationError {
    /// A syntax error at some position of a relation.
    #[error("{message} in relation {relation:?}")]
    Syntax {
        /// What was expected or found.
        message: String,
        /// The single relation (between `,`/`|`) that failed.
        relation: String,
    },
    /// The version inside `( op version )` is invalid.
    #[error("invalid version in relation {relation:?}")]
    Version {
        /// The relation that failed.
        relation: String,
        /// The version error.
        #[source]
        source: VersionError,
    },
}

/// A version comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// `<<`
    Less,
    /// `<=` (and the obsolete `<`)
    LessEq,
    /// `=`
    Eq,
    /// `>=` (and the obsolete `>`)
    GreaterEq,
    /// `>>`
    Greater,
}

impl Op {
    /// Does `candidate op reference` hold?
    pub fn satisfied_by(self, candidate: &Version, reference: &Version) -> bool {
        use std::cmp::Ordering::*;
        let c = candidate.cmp(reference);
        match self {
            Op::Less => c == Less,
            Op::LessEq => c != Greater,
            Op::Eq => c == Equal,
            Op::GreaterEq => c != Less,
            Op::Greater => c == Greater,
        }
    }
    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Less => "<<",
            Op::LessEq => "<=",
            Op::Eq => "=",
            Op::GreaterEq => ">=",
            Op::Greater => ">>",
        }
    }
}

/// The `:qualifier` after a package name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum ArchQualifier {
    /// No qualifier.
    #[default]
    None,
    /// `:any` (a `Multi-Arch: allowed` package of any architecture).
    Any,
    /// `:native` (build dependencies: the build architecture).
    Native,
    /// `:amd64` etc.
    Arch(String),
}

/// One entry of an architecture restriction list: `amd64` or `!linux-any`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArchLiteral {
    /// True for `!arch`.
    pub negated: bool,
    /// Architecture name or wildcard without the `!`.
    pub arch: String,
}

/// `[amd64 i386]` or `[!hurd-any]`: architecture names or wildcards. Policy wants a list
/// to be all positive or all negated; mixed lists are accepted and evaluated the way dpkg's
/// `debarch_is_concerned` does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArchRestriction(pub Vec<ArchLiteral>);

/// One literal of a build-profile term: `nocheck` or `!nocheck`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProfileLiteral {
    /// True for `!name`.
    pub negated: bool,
    /// Profile name.
    pub name: String,
}

/// One `<...>` group: a conjunction of literals. A relation's groups are OR-ed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProfileTerm(pub Vec<ProfileLiteral>);

/// One package relation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Relation {
    /// Package name.
    pub name: String,
    /// `:any`, `:native`, `:arch`.
    pub arch_qualifier: ArchQualifier,
    /// `(op version)`.
    pub constraint: Option<(Op, Version)>,
    /// `[arch list]`.
    pub arch_restriction: Option<ArchRestriction>,
    /// `<profile terms>`; empty means unrestricted.
    pub profile_restriction: Vec<ProfileTerm>,
}

/// `a | b | c`: satisfied by any one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Alternatives(pub Vec<Relation>);

/// A whole relation field: every group must be satisfied.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Relations(pub Vec<Alternatives>);

pub use parse::parse_relation;

impl std::str::FromStr for Relations {
    type Err = RelationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse::parse_relations(s)
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        match &self.arch_qualifier {
            ArchQualifier::None => {}
            ArchQualifier::Any => f.write_str(":any")?,
            ArchQualifier::Native => f.write_str(":native")?,
            ArchQualifier::Arch(a) => write!(f, ":{a}")?,
        }
        if let Some((op, v)) = &self.constraint {
            write!(f, " ({} {v})", op.as_str())?;
        }
        if let Some(r) = &self.arch_restriction {
            let list: Vec<String> =
                r.0.iter()
                    .map(|l| format!("{}{}", if l.negated { "!" } else { "" }, l.arch))
                    .collect();
            write!(f, " [{}]", list.join(" "))?;
        }
        for term in &self.profile_restriction {
            let lits: Vec<String> = term
                .0
                .iter()
                .map(|l| format!("{}{}", if l.negated { "!" } else { "" }, l.name))
                .collect();
            write!(f, " <{}>", lits.join(" "))?;
        }
        Ok(())
    }
}

impl fmt::Display for Alternatives {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Relations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}
