//! The universe of installable binary packages: apt's candidate selection over several
//! archives (per `(name, arch)` the highest priority wins, then the highest version), plus
//! the name and `Provides` indices the resolver looks packages up in. Versions that lose the
//! candidate selection, and packages of foreign architectures, are remembered only to
//! explain failures.

use std::collections::{BTreeMap, BTreeSet};

use cryo_debian::arch::Arch;
use cryo_debian::digest::Sha256Digest;
use cryo_debian::index::BinaryPackage;
use cryo_debian::relation::Op;
use cryo_debian::version::Version;

/// A candidate that cannot enter the universe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UniverseError {
    /// A field needed to fetch and verify the `.deb` is absent (e.g. a `DEBIAN/control`
    /// stanza was passed instead of a Packages index entry).
    #[error("package {package} {version} ({origin}): missing field {field}")]
    MissingField {
        /// Package name.
        package: String,
        /// Its version.
        version: String,
        /// The archive it came from.
        origin: String,
        /// `Filename`, `Size` or `SHA256`.
        field: &'static str,
    },
}

/// One binary package offered by one archive of the snapshot.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The index stanza.
    pub pkg: BinaryPackage,
    /// The archive (suite) it comes from, e.g. `bookworm-security`.
    pub origin: String,
    /// apt pin priority of that archive (500 by default; pinning changes it).
    pub priority: i32,
}

/// Index of a candidate in [`Universe`] (dense, ordered by name then architecture).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PkgId(pub(crate) usize);

/// A candidate that won the selection, with its fetch fields validated.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) cand: Candidate,
    pub(crate) filename: String,
    pub(crate) sha256: Sha256Digest,
    pub(crate) size: u64,
}

/// A version that lost the candidate selection (kept for error messages).
#[derive(Debug, Clone)]
pub(crate) struct Shadowed {
    pub(crate) version: Version,
    pub(crate) arch: Arch,
    pub(crate) origin: String,
    pub(crate) priority: i32,
}

/// All installable packages for one host architecture.
#[derive(Debug, Clone)]
pub struct Universe {
    host: Arch,
    entries: Vec<Entry>,
    by_name: BTreeMap<String, Vec<PkgId>>,
    /// Virtual name → (provider, provided version for `Provides: v (= ver)`).
    provides: BTreeMap<String, Vec<(PkgId, Option<Version>)>>,
    shadowed: BTreeMap<String, Vec<Shadowed>>,
    foreign: BTreeMap<String, BTreeSet<Arch>>,
}

impl Universe {
    /// Select apt's candidate per `(name, arch)` among `candidates` (highest `priority`,
    /// then highest version, then the smallest origin name for a deterministic tie) and
    /// index them. Packages that are neither `host` nor `all` are not installable in a
    /// single-arch build and are only remembered for explanations.
    pub fn new(candidates: Vec<Candidate>, host: Arch) -> Result<Universe, UniverseError> {
        let mut groups: BTreeMap<(String, Arch), Vec<Candidate>> = BTreeMap::new();
        let mut foreign: BTreeMap<String, BTreeSet<Arch>> = BTreeMap::new();
        for c in candidates {
            let arch = c.pkg.architecture.clone();
            if arch != host && arch.as_str() != "all" {
                foreign
                    .entry(c.pkg.package.clone())
                    .or_default()
                    .insert(arch);
                continue;
            }
            groups
                .entry((c.pkg.package.clone(), arch))
                .or_default()
                .push(c);
        }
        let mut entries = Vec::with_capacity(groups.len());
        let mut shadowed: BTreeMap<String, Vec<Shadowed>> = BTreeMap::new();
        for ((name, _), mut group) in groups {
            group.sort_by(|a, b| {
                b.priority
                    .cmp(&a.priority)
                    .then_with(|| b.pkg.version.cmp(&a.pkg.version))
                    .then_with(|| a.origin.cmp(&b.origin))
            });
            let mut it = group.into_iter();
            let Some(winner) = it.next() else { continue };
            let losers: Vec<Shadowed> = it
                .map(|c| Shadowed {
                    version: c.pkg.version,
                    arch: c.pkg.architecture,
                    origin: c.origin,
                    priority: c.priority,
                })
                .collect();
            if !losers.is_empty() {
                shadowed.entry(name).or_default().extend(losers);
            }
            entries.push(validate(winner)?);
        }
        let mut by_name: BTreeMap<String, Vec<PkgId>> = BTreeMap::new();
        let mut provides: BTreeMap<String, Vec<(PkgId, Option<Version>)>> = BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            let id = PkgId(i);
            by_name
                .entry(e.cand.pkg.package.clone())
                .or_default()
                .push(id);
            for alts in &e.cand.pkg.provides.0 {
                for p in &alts.0 {
                    // Policy allows only `=` in Provides; anything else provides no version.
                    let v = match &p.constraint {
                        Some((Op::Eq, v)) => Some(v.clone()),
                        _ => None,
                    };
                    provides.entry(p.name.clone()).or_default().push((id, v));
                }
            }
        }
        Ok(Universe {
            host,
            entries,
            by_name,
            provides,
            shadowed,
            foreign,
        })
    }

    /// The host architecture.
    pub fn host(&self) -> &Arch {
        &self.host
    }

    /// Number of installable candidates.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is installable.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The selected candidates named `name` (one per architecture, `all` or the host).
    pub fn candidates(&self, name: &str) -> impl Iterator<Item = &Candidate> {
        self.ids(name).iter().map(|id| &self.entries[id.0].cand)
    }

    pub(crate) fn entry(&self, id: PkgId) -> &Entry {
        &self.entries[id.0]
    }

    pub(crate) fn pkg(&self, id: PkgId) -> &BinaryPackage {
        &self.entries[id.0].cand.pkg
    }

    pub(crate) fn ids(&self, name: &str) -> &[PkgId] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn providers(&self, name: &str) -> &[(PkgId, Option<Version>)] {
        self.provides.get(name).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn shadowed(&self, name: &str) -> &[Shadowed] {
        self.shadowed.get(name).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn foreign(&self, name: &str) -> Option<&BTreeSet<Arch>> {
        self.foreign.get(name)
    }

    /// `Essential: yes` candidates, in name order.
    pub(crate) fn essential(&self) -> impl Iterator<Item = PkgId> + '_ {
        (0..self.entries.len())
            .map(PkgId)
            .filter(|id| self.pkg(*id).essential)
    }
}

fn validate(c: Candidate) -> Result<Entry, UniverseError> {
    let missing = |field| UniverseError::MissingField {
        package: c.pkg.package.clone(),
        version: c.pkg.version.to_string(),
        origin: c.origin.clone(),
        field,
    };
    let filename = c.pkg.filename.clone().ok_or_else(|| missing("Filename"))?;
    let sha256 = c.pkg.sha256.ok_or_else(|| missing("SHA256"))?;
    let size = c.pkg.size.ok_or_else(|| missing("Size"))?;
    Ok(Entry {
        cand: c,
        filename,
        sha256,
        size,
    })
}
