//! The expansion loop: starting from root relations, select packages and follow their
//! `Pre-Depends` and `Depends` (never `Recommends`) to a fixed point. Relations that need a
//! choice (several alternatives, or a virtual package with several providers) are deferred
//! until every unambiguous relation is processed, so that a choice already made elsewhere
//! in the closure satisfies them (apt processes non-or dependencies first for the same
//! reason; OBS's expander defers "have choice" the same way). Then each deferred relation
//! is decided in discovery order: prjconf `Prefer`, else the first installable alternative
//! (a real package beats virtual providers, as apt's candidate logic does), else a single
//! provider; several providers without a preference are an error, as in OBS.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use cryo_debian::index::BinaryPackage;
use cryo_debian::relation::{Alternatives, Relation};

use crate::explain::{Chain, DepKind, Link, Miss, Unresolvable};
use crate::policy::Policy;
use crate::universe::{PkgId, Universe};

/// A package's `Conflicts` and `Breaks` relations with their field name.
pub(crate) fn negatives(p: &BinaryPackage) -> impl Iterator<Item = (&'static str, &Relation)> {
    let c = p
        .conflicts
        .0
        .iter()
        .flat_map(|g| &g.0)
        .map(|r| ("Conflicts", r));
    let b = p.breaks.0.iter().flat_map(|g| &g.0).map(|r| ("Breaks", r));
    c.chain(b)
}

/// A relation group to satisfy, with who declared it.
#[derive(Debug, Clone)]
pub(crate) struct Need {
    /// The selected package declaring it (`None` for roots).
    pub(crate) parent: Option<PkgId>,
    /// The declaring link (package, field, relation text).
    pub(crate) link: Link,
    /// Origin name for `Ignore: ORIGIN:PKG` / `Prefer: ORIGIN:PKG`: the declaring binary
    /// package, the source for build dependencies, empty for prjconf lists and Essential.
    pub(crate) origin: String,
    pub(crate) group: Alternatives,
}

/// Why a package was selected.
#[derive(Debug, Clone)]
pub(crate) struct Why {
    pub(crate) parent: Option<PkgId>,
    pub(crate) link: Link,
}

/// The resolver state.
pub(crate) struct Expander<'a> {
    uni: &'a Universe,
    policy: &'a Policy,
    /// Build-Conflicts of the source: `(source name, relation)`.
    build_conflicts: Vec<(String, Relation)>,
    pub(crate) set: BTreeSet<PkgId>,
    pub(crate) why: BTreeMap<PkgId, Why>,
    /// Conflicts/Breaks of selected packages, by the name they target.
    negative: BTreeMap<String, Vec<(PkgId, &'static str, Relation)>>,
    todo: VecDeque<Need>,
    deferred: VecDeque<Need>,
}

impl<'a> Expander<'a> {
    pub(crate) fn new(
        uni: &'a Universe,
        policy: &'a Policy,
        build_conflicts: Vec<(String, Relation)>,
    ) -> Self {
        Expander {
            uni,
            policy,
            build_conflicts,
            set: BTreeSet::new(),
            why: BTreeMap::new(),
            negative: BTreeMap::new(),
            todo: VecDeque::new(),
            deferred: VecDeque::new(),
        }
    }

    /// Expand `roots` (on top of what is already selected) to a fixed point.
    pub(crate) fn run(&mut self, roots: Vec<Need>) -> Result<(), Unresolvable> {
        self.todo.extend(roots);
        loop {
            while let Some(n) = self.todo.pop_front() {
                self.process(n, true)?;
            }
            match self.deferred.pop_front() {
                Some(n) => self.process(n, false)?,
                None => return Ok(()),
            }
        }
    }

    /// The chain from a root to `id`'s selection.
    pub(crate) fn chain_of(&self, id: PkgId) -> Chain {
        let mut links = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            let Some(w) = self.why.get(&c) else { break };
            links.push(w.link.clone());
            cur = w.parent;
        }
        links.reverse();
        Chain(links)
    }

    fn chain_for(&self, need: &Need) -> Chain {
        let mut c = need.parent.map(|p| self.chain_of(p)).unwrap_or_default();
        c.0.push(need.link.clone());
        c
    }

    fn process(&mut self, need: Need, allow_defer: bool) -> Result<(), Unresolvable> {
        // prjconf lists (no origin) name what must be installed: Ignore does not apply.
        if !need.origin.is_empty() && self.policy.ignores(&need.origin, &need.group) {
            return Ok(());
        }
        if need
            .group
            .0
            .iter()
            .any(|r| self.uni.satisfied_in(r, &self.set))
        {
            return Ok(());
        }
        if allow_defer && self.is_choice(&need.group) {
            self.deferred.push_back(need);
            return Ok(());
        }
        let id = self.choose(&need)?;
        self.select(id, need.parent, need.link);
        Ok(())
    }

    fn is_choice(&self, group: &Alternatives) -> bool {
        match group.0.as_slice() {
            [one] => {
                let s = self.uni.satisfiers(one);
                s.len() > 1 && !s.iter().any(|id| self.uni.pkg(*id).package == one.name)
            }
            _ => true,
        }
    }

    fn select(&mut self, id: PkgId, parent: Option<PkgId>, link: Link) {
        if !self.set.insert(id) {
            return;
        }
        self.why.insert(id, Why { parent, link });
        let p = self.uni.pkg(id);
        for (field, r) in negatives(p) {
            self.negative
                .entry(r.name.clone())
                .or_default()
                .push((id, field, r.clone()));
        }
        let fields = [
            (DepKind::PreDepends, &p.pre_depends),
            (DepKind::Depends, &p.depends),
        ];
        for (kind, rels) in fields {
            for group in &rels.0 {
                self.todo.push_back(Need {
                    parent: Some(id),
                    link: Link {
                        package: p.package.clone(),
                        version: Some(p.version.to_string()),
                        kind,
                        relation: group.to_string(),
                    },
                    origin: p.package.clone(),
                    group: group.clone(),
                });
            }
        }
    }

    fn label(&self, id: PkgId) -> String {
        let p = self.uni.pkg(id);
        format!("{} {}", p.package, p.version)
    }

    /// Why `id` cannot join the current selection, if it cannot.
    pub(crate) fn refusal(&self, origin: &str, id: PkgId) -> Option<Miss> {
        let p = self.uni.pkg(id);
        if let Some(why) = self.policy.refusal(origin, &p.package) {
            return Some(Miss::Excluded {
                candidate: self.label(id),
                why,
            });
        }
        for (src, rel) in &self.build_conflicts {
            if self.uni.matches(rel, id) {
                return Some(Miss::Conflicts {
                    candidate: self.label(id),
                    with: src.clone(),
                    relation: format!("{src} Build-Conflicts: {rel}"),
                });
            }
        }
        // `id`'s own Conflicts/Breaks against the selection.
        for (field, r) in negatives(p) {
            if let Some(&other) = self
                .uni
                .satisfiers(r)
                .iter()
                .find(|o| **o != id && self.set.contains(o))
            {
                return Some(Miss::Conflicts {
                    candidate: self.label(id),
                    with: self.label(other),
                    relation: format!("{} declares {field}: {r}", p.package),
                });
            }
        }
        // Selected packages' Conflicts/Breaks on `id`'s name or anything it provides.
        let provided = p.provides.0.iter().flat_map(|g| &g.0).map(|r| &r.name);
        for name in std::iter::once(&p.package).chain(provided) {
            for (other, field, r) in self.negative.get(name).into_iter().flatten() {
                if *other != id && self.uni.matches(r, id) {
                    return Some(Miss::Conflicts {
                        candidate: self.label(id),
                        with: self.label(*other),
                        relation: format!("{} declares {field}: {r}", self.uni.pkg(*other).package),
                    });
                }
            }
        }
        if let Some(other) = self.policy.conflict_partners(&p.package).find_map(|n| {
            self.uni
                .ids(n)
                .iter()
                .copied()
                .find(|o| self.set.contains(o))
        }) {
            return Some(Miss::Conflicts {
                candidate: self.label(id),
                with: self.label(other),
                relation: "prjconf Conflict:".into(),
            });
        }
        None
    }

    fn choose(&self, need: &Need) -> Result<PkgId, Unresolvable> {
        let mut usable: Vec<(&Relation, Vec<PkgId>)> = Vec::new();
        let mut misses = Vec::new();
        for r in &need.group.0 {
            let sats = self.uni.satisfiers(r);
            if sats.is_empty() {
                misses.push(self.uni.why_unsatisfied(r));
            }
            let mut ok = Vec::new();
            for id in sats {
                match self.refusal(&need.origin, id) {
                    Some(m) => misses.push(m),
                    None => ok.push(id),
                }
            }
            usable.push((r, ok));
        }
        for name in self.policy.preferred(&need.origin) {
            for (_, ids) in &usable {
                if let Some(id) = ids.iter().find(|id| self.uni.pkg(**id).package == name) {
                    return Ok(*id);
                }
            }
        }
        for (r, ids) in &usable {
            if let Some(id) = ids.iter().find(|id| self.uni.pkg(**id).package == r.name) {
                return Ok(*id);
            }
            match ids.as_slice() {
                [] => continue,
                [one] => return Ok(*one),
                many => {
                    return Err(Unresolvable::Choice {
                        chain: self.chain_for(need),
                        candidates: many.iter().map(|id| self.label(*id)).collect(),
                    })
                }
            }
        }
        Err(Unresolvable::Unsatisfiable {
            chain: self.chain_for(need),
            misses,
        })
    }
}
