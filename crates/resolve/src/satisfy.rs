//! Relation satisfaction: which candidates of the universe satisfy one relation (real
//! packages and `Provides`, versioned provides, `:any`/`:native`/`:arch` qualifiers), and
//! why nothing does.
//!
//! Architecture qualifiers follow dpkg's `deparchsatisfied`: an unqualified or `:native`
//! relation wants the build architecture (`all` counts as native); `:any` is satisfied only
//! by a `Multi-Arch: allowed` package (a `Multi-Arch: foreign` package satisfies
//! *unqualified* relations from any architecture, not `:any` ones; apt agrees: it adds the
//! implicit `pkg:any` provide for `allowed` packages only); `:arch` wants that architecture.

use std::collections::BTreeSet;

use cryo_debian::index::{BinaryPackage, MultiArch};
use cryo_debian::relation::{ArchQualifier, Relation};

use crate::explain::Miss;
use crate::universe::{PkgId, Universe};

/// Does `pkg` meet `rel`'s architecture qualifier for `host`?
pub(crate) fn arch_ok(rel: &Relation, pkg: &BinaryPackage, host: &str) -> bool {
    let arch = pkg.architecture.as_str();
    let native = arch == host || arch == "all";
    match &rel.arch_qualifier {
        ArchQualifier::None | ArchQualifier::Native => {
            native || pkg.multi_arch == MultiArch::Foreign
        }
        ArchQualifier::Any => pkg.multi_arch == MultiArch::Allowed,
        ArchQualifier::Arch(a) => arch == a || (arch == "all" && a == host),
    }
}

fn version_ok(rel: &Relation, have: Option<&cryo_debian::version::Version>) -> bool {
    match (&rel.constraint, have) {
        (None, _) => true,
        (Some((op, want)), Some(v)) => op.satisfied_by(v, want),
        (Some(_), None) => false,
    }
}

impl Universe {
    /// Candidates satisfying `rel`: real packages named `rel.name` first (in id order),
    /// then providers (in id order, without duplicates).
    pub(crate) fn satisfiers(&self, rel: &Relation) -> Vec<PkgId> {
        let host = self.host().as_str();
        let mut out: Vec<PkgId> = self
            .ids(&rel.name)
            .iter()
            .copied()
            .filter(|id| {
                let p = self.pkg(*id);
                arch_ok(rel, p, host) && version_ok(rel, Some(&p.version))
            })
            .collect();
        for (id, pv) in self.providers(&rel.name) {
            if !out.contains(id)
                && arch_ok(rel, self.pkg(*id), host)
                && version_ok(rel, pv.as_ref())
            {
                out.push(*id);
            }
        }
        out
    }

    /// Does candidate `id` satisfy `rel` (by name or through `Provides`)?
    pub(crate) fn matches(&self, rel: &Relation, id: PkgId) -> bool {
        let p = self.pkg(id);
        if !arch_ok(rel, p, self.host().as_str()) {
            return false;
        }
        if p.package == rel.name && version_ok(rel, Some(&p.version)) {
            return true;
        }
        self.providers(&rel.name)
            .iter()
            .any(|(pid, pv)| *pid == id && version_ok(rel, pv.as_ref()))
    }

    /// Is `rel` satisfied by a member of `selected`?
    pub(crate) fn satisfied_in(&self, rel: &Relation, selected: &BTreeSet<PkgId>) -> bool {
        self.satisfiers(rel).iter().any(|id| selected.contains(id))
    }

    /// Why no candidate satisfies `rel` (called only when [`Self::satisfiers`] is empty).
    pub(crate) fn why_unsatisfied(&self, rel: &Relation) -> Miss {
        let host = self.host().as_str();
        let real = self.ids(&rel.name);
        let prov = self.providers(&rel.name);
        if real.is_empty() && prov.is_empty() {
            if let Some(arches) = self.foreign(&rel.name) {
                return Miss::ForeignOnly {
                    name: rel.name.clone(),
                    arches: arches.iter().map(|a| a.to_string()).collect(),
                };
            }
            return Miss::NotInUniverse {
                name: rel.name.clone(),
            };
        }
        let arch_fits = real.iter().any(|id| arch_ok(rel, self.pkg(*id), host))
            || prov.iter().any(|(id, _)| arch_ok(rel, self.pkg(*id), host));
        if !arch_fits {
            let found = real
                .iter()
                .chain(prov.iter().map(|(id, _)| id))
                .map(|id| {
                    let p = self.pkg(*id);
                    format!(
                        "{} {} (Multi-Arch: {:?})",
                        p.package, p.architecture, p.multi_arch
                    )
                })
                .collect();
            return Miss::Qualifier {
                relation: rel.to_string(),
                found,
            };
        }
        let mut available: Vec<String> = real
            .iter()
            .map(|id| {
                let e = self.entry(*id);
                format!("{} {} ({})", rel.name, e.cand.pkg.version, e.cand.origin)
            })
            .collect();
        available.extend(self.shadowed(&rel.name).iter().map(|s| {
            format!(
                "{} {} ({}, {}, not the candidate: priority {})",
                rel.name, s.version, s.origin, s.arch, s.priority
            )
        }));
        available.extend(prov.iter().map(|(id, v)| {
            let p = self.pkg(*id);
            match v {
                Some(v) => format!("{} {} provides {} (= {v})", p.package, p.version, rel.name),
                None => format!(
                    "{} {} provides {} (unversioned)",
                    p.package, p.version, rel.name
                ),
            }
        }));
        Miss::Version {
            relation: rel.to_string(),
            available,
        }
    }
}
