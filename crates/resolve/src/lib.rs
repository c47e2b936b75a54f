//! cryo-resolve decides exactly which binary packages form a build environment: the way
//! OBS expands a prjconf (Preinstall/Required/Support, Substitute, Ignore, Prefer, Keep,
//! Conflict) combined with the way Debian's buildds (sbuild + apt) resolve a source's build
//! dependencies. Deterministic, hand-written and explainable: every package carries the
//! chain of relations that pulled it in, and failures say which relation fails and why.
//!
//! Modules: [`universe`] (apt candidate selection over several archives), `satisfy`
//! (relation satisfaction), `policy` (prjconf directives), [`request`] (what is built),
//! `expand` (the fixed-point loop), `resolve` (phases and final checks), [`explain`]
//! (reasons and errors), [`closure`] (output). Semantics and decisions: `README.md`.
//!
//! Semantics in short:
//! * per `(name, arch)` apt's candidate: highest priority, then highest version;
//! * build dependencies reduced for the host architecture and the active build profiles;
//!   alternatives in them: only the first (sbuild default, see
//!   [`request::AlternativePolicy`]); in binary `Depends`: apt's rule;
//! * `Pre-Depends` and `Depends` followed, `Recommends` never;
//! * a virtual package with several providers needs `Prefer:` unless one provider is
//!   already in the closure; a real package beats providers;
//! * `Conflicts`/`Breaks`/`Build-Conflicts`/prjconf `Conflict` steer choices and are
//!   errors when unavoidable.

pub mod closure;
mod expand;
pub mod explain;
mod policy;
pub mod request;
mod resolve;
mod satisfy;
pub mod universe;

pub use closure::{Closure, Selected};
pub use explain::{Chain, Clash, ConflictKind, DepKind, Link, Miss, Unresolvable};
pub use request::{prjconf_profiles, AlternativePolicy, BuildKind, ResolveRequest};
pub use universe::{Candidate, Universe, UniverseError};

pub use resolve::resolve;
