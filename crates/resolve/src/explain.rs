//! Why a package is in the closure (the chain of relations from a root) and why a request
//! is unresolvable, printed the way apt does: "hello build-depends on X but it is not
//! installable: …", distinguishing "not in the universe", "version constraint not
//! satisfied (available: …)", "conflicts with …" and "choose between providers".

use std::fmt;

/// The field (or prjconf directive) a relation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DepKind {
    /// prjconf `Preinstall:`.
    Preinstall,
    /// prjconf `Required:`.
    Required,
    /// prjconf `Support:`.
    Support,
    /// A tool cryo's builder needs (e.g. libfaketime for a pinned clock).
    BuilderTool,
    /// An `Essential: yes` package of the universe (never declared as a dependency).
    Essential,
    /// Source `Build-Depends`.
    BuildDepends,
    /// Source `Build-Depends-Arch`.
    BuildDependsArch,
    /// Source `Build-Depends-Indep`.
    BuildDependsIndep,
    /// Binary `Pre-Depends`.
    PreDepends,
    /// Binary `Depends`.
    Depends,
}

impl DepKind {
    fn verb(self) -> &'static str {
        match self {
            DepKind::Preinstall => "lists in Preinstall:",
            DepKind::Required => "lists in Required:",
            DepKind::Support => "lists in Support:",
            DepKind::BuilderTool => "needs as a builder tool:",
            DepKind::Essential => "is",
            DepKind::BuildDepends => "build-depends on",
            DepKind::BuildDependsArch => "build-depends (arch) on",
            DepKind::BuildDependsIndep => "build-depends (indep) on",
            DepKind::PreDepends => "pre-depends on",
            DepKind::Depends => "depends on",
        }
    }
}

/// One step of a chain: `package` (with its version when it is a binary package; the
/// source or "prjconf" for roots) relates to `relation` through `kind`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Link {
    /// Who declares the relation.
    pub package: String,
    /// Its version (binary packages and sources).
    pub version: Option<String>,
    /// Which field.
    pub kind: DepKind,
    /// The relation as written after reduction (`debhelper-compat (= 13)`).
    pub relation: String,
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.package)?;
        if let Some(v) = &self.version {
            write!(f, " {v}")?;
        }
        write!(f, " {} {}", self.kind.verb(), self.relation)
    }
}

/// A chain of links from a root to the relation in question.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chain(pub Vec<Link>);

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, l) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" -> ")?;
            }
            write!(f, "{l}")?;
        }
        Ok(())
    }
}

/// Why one alternative of a relation could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// No package of that name and nothing provides it.
    NotInUniverse {
        /// The name.
        name: String,
    },
    /// Only packages of architectures other than the host (and `all`) carry the name.
    ForeignOnly {
        /// The name.
        name: String,
        /// Their architectures.
        arches: Vec<String>,
    },
    /// The architecture qualifier (`:any`, `:arch`) excludes every package of the name.
    Qualifier {
        /// The relation.
        relation: String,
        /// What exists, with its Multi-Arch value.
        found: Vec<String>,
    },
    /// Packages exist, but no candidate version satisfies the constraint.
    Version {
        /// The relation.
        relation: String,
        /// Candidate versions, shadowed versions and providers.
        available: Vec<String>,
    },
    /// The satisfying package conflicts with (or is broken by) a selected one.
    Conflicts {
        /// The satisfying package (`name version`).
        candidate: String,
        /// The already selected package (`name version`).
        with: String,
        /// The Conflicts/Breaks relation and who declares it.
        relation: String,
    },
    /// The prjconf or the request excludes the satisfying package.
    Excluded {
        /// The satisfying package (`name version`).
        candidate: String,
        /// Why (e.g. "built by this source; list it in Keep: to install it").
        why: String,
    },
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::NotInUniverse { name } => write!(f, "{name} is not in the universe"),
            Miss::ForeignOnly { name, arches } => write!(
                f,
                "{name} exists only for other architectures ({})",
                arches.join(", ")
            ),
            Miss::Qualifier { relation, found } => write!(
                f,
                "architecture qualifier of {relation} not satisfied (found: {})",
                found.join(", ")
            ),
            Miss::Version {
                relation,
                available,
            } => write!(
                f,
                "version constraint of {relation} not satisfied (available: {})",
                available.join("; ")
            ),
            Miss::Conflicts {
                candidate,
                with,
                relation,
            } => write!(f, "{candidate} conflicts with {with} ({relation})"),
            Miss::Excluded { candidate, why } => write!(f, "{candidate} is excluded: {why}"),
        }
    }
}

/// Which kind of negative relation two selected packages violate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// Binary `Conflicts`.
    Conflicts,
    /// Binary `Breaks`.
    Breaks,
    /// Source `Build-Conflicts(-Arch/-Indep)`.
    BuildConflicts,
    /// prjconf `Conflict: A:B`.
    Prjconf,
}

/// Two parts of the closure that must not be installed together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    /// The package (or source) declaring the negative relation.
    pub a: String,
    /// Why `a` is there (empty for the source itself).
    pub a_chain: Chain,
    /// The package it hits.
    pub b: String,
    /// Why `b` is there.
    pub b_chain: Chain,
    /// Which field.
    pub kind: ConflictKind,
    /// The relation.
    pub relation: String,
}

impl fmt::Display for Clash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.a)?;
        if !self.a_chain.0.is_empty() {
            write!(f, " (from: {})", self.a_chain)?;
        }
        write!(
            f,
            " conflicts with {} (from: {}): {:?} {}",
            self.b, self.b_chain, self.kind, self.relation
        )
    }
}

/// The request has no solution under the resolver's (apt/sbuild/OBS-like) rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unresolvable {
    /// A relation none of whose alternatives can be installed.
    #[error("{}", unsatisfiable_text(chain, misses))]
    Unsatisfiable {
        /// From the root to the failing relation (its last link).
        chain: Chain,
        /// One reason per alternative of the failing relation.
        misses: Vec<Miss>,
    },
    /// Several packages provide a virtual package and nothing decides between them.
    #[error("{chain}: have choice: {} (add Prefer: to the prjconf)", candidates.join(", "))]
    Choice {
        /// From the root to the ambiguous relation.
        chain: Chain,
        /// The providers (`name version`).
        candidates: Vec<String>,
    },
    /// Two selected packages conflict (or the source build-conflicts with one).
    #[error("{0}")]
    Conflict(Box<Clash>),
}

fn unsatisfiable_text(chain: &Chain, misses: &[Miss]) -> String {
    let reasons: Vec<String> = misses.iter().map(Miss::to_string).collect();
    format!("{chain} but it is not installable: {}", reasons.join(" | "))
}
