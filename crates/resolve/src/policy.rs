//! The prjconf directives that steer expansion, in the form the resolver queries:
//! `Substitute` (rewrite a requested name), `Ignore` (`PKG`: every dependency on PKG is
//! satisfied; `ORIGIN:PKG`: only ORIGIN's), `Prefer` (`PKG`, `-PKG`, `ORIGIN:PKG`, in file
//! order), `Conflict` (A and B never together) and `Keep` (a binary built by the source
//! being built is not installed, as OBS does, unless Keep, Preinstall or a direct build
//! dependency names it).

use std::collections::{BTreeMap, BTreeSet};

use cryo_debian::relation::{Alternatives, ArchQualifier, Relation};
use cryo_prjconf::{PreferEntry, Prjconf};

/// The steering directives of one prjconf plus the request's excluded binaries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy {
    pub(crate) substitute: BTreeMap<String, Vec<String>>,
    ignore: BTreeSet<String>,
    ignore_from: BTreeSet<(String, String)>,
    prefer: Vec<PreferEntry>,
    conflict: BTreeSet<(String, String)>,
    /// Binaries of the source being built that must not be installed.
    pub(crate) excluded: BTreeSet<String>,
}

/// A bare relation on `name` (prjconf lists carry no versions).
pub(crate) fn bare(name: &str) -> Relation {
    Relation {
        name: name.to_owned(),
        arch_qualifier: ArchQualifier::None,
        constraint: None,
        arch_restriction: None,
        profile_restriction: Vec::new(),
    }
}

impl Policy {
    pub(crate) fn new(conf: &Prjconf) -> Policy {
        let mut p = Policy {
            substitute: conf
                .substitute()
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|n| n.to_string()).collect()))
                .collect(),
            prefer: conf.prefer().to_vec(),
            ..Policy::default()
        };
        for e in conf.ignore() {
            match &e.origin {
                Some(o) => p.ignore_from.insert((o.to_string(), e.name.to_string())),
                None => p.ignore.insert(e.name.to_string()),
            };
        }
        for c in conf.conflict() {
            p.conflict.insert((c.a.to_string(), c.b.to_string()));
            p.conflict.insert((c.b.to_string(), c.a.to_string()));
        }
        p
    }

    /// Is the group satisfied by `Ignore:` when `origin` declares it? A group is ignored
    /// when any of its alternatives names an ignored package (an ignored alternative counts
    /// as satisfied).
    pub(crate) fn ignores(&self, origin: &str, group: &Alternatives) -> bool {
        group.0.iter().any(|r| {
            self.ignore.contains(&r.name)
                || self
                    .ignore_from
                    .contains(&(origin.to_owned(), r.name.clone()))
        })
    }

    /// Apply `Substitute:` to a requested group: an alternative naming a substituted
    /// package becomes the (unversioned) replacements; a group left empty is dropped.
    pub(crate) fn substitute_group(&self, group: &Alternatives) -> Vec<Alternatives> {
        if !group
            .0
            .iter()
            .any(|r| self.substitute.contains_key(&r.name))
        {
            return vec![group.clone()];
        }
        if let [only] = group.0.as_slice() {
            // `Substitute: a b c` on a plain `a`: all of b, c are required (OBS).
            let names = self
                .substitute
                .get(&only.name)
                .map_or(&[][..], Vec::as_slice);
            return names.iter().map(|n| Alternatives(vec![bare(n)])).collect();
        }
        // Inside `x | a`, the replacements of `a` become alternatives themselves.
        let alts: Vec<Relation> = group
            .0
            .iter()
            .flat_map(|r| match self.substitute.get(&r.name) {
                Some(names) => names.iter().map(|n| bare(n)).collect(),
                None => vec![r.clone()],
            })
            .collect();
        if alts.is_empty() {
            Vec::new()
        } else {
            vec![Alternatives(alts)]
        }
    }

    /// Why `name` may not be chosen (negative Prefer, built by this source), if so.
    pub(crate) fn refusal(&self, origin: &str, name: &str) -> Option<String> {
        if self.excluded.contains(name) {
            return Some("built by the source being built; list it in Keep: to install it".into());
        }
        self.prefer
            .iter()
            .find(|p| {
                p.negative
                    && p.name == name
                    && p.origin.as_ref().is_none_or(|o| o.as_str() == origin)
            })
            .map(|p| format!("Prefer: {p}"))
    }

    /// The names prjconf `Conflict:` forbids next to `name`.
    pub(crate) fn conflict_partners<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.conflict
            .iter()
            .filter(move |(a, _)| a == name)
            .map(|(_, b)| b.as_str())
    }

    /// All `Conflict:` pairs (each once, smaller name first).
    pub(crate) fn conflict_pairs(&self) -> impl Iterator<Item = &(String, String)> {
        self.conflict.iter().filter(|(a, b)| a <= b)
    }

    /// The positive Prefer names that apply to `origin`'s dependencies, most preferred
    /// first: origin-specific entries before global ones, each in file order.
    pub(crate) fn preferred<'a>(&'a self, origin: &'a str) -> impl Iterator<Item = &'a str> {
        let specific = self.prefer.iter().filter(move |p| {
            !p.negative && p.origin.as_ref().is_some_and(|o| o.as_str() == origin)
        });
        let global = self
            .prefer
            .iter()
            .filter(|p| !p.negative && p.origin.is_none());
        specific.chain(global).map(|p| p.name.as_str())
    }
}
