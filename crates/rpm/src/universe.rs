//! The packages a resolver chooses from: every binary package of one or more rpm-md
//! repositories (`os` + `updates` …, in priority order), installable on the host
//! architecture, with their complete file lists (primary's subset merged with
//! filelists.xml by pkgid) and three indices: by name, by provide name and by file path.
//! All versions of a name are kept; the resolver takes the best one that fits.

use std::collections::{BTreeSet, HashMap};

use crate::deps::{Constraint, Dep, Op};
use crate::filelists::PackageFiles;
use crate::name::Arch;
use crate::primary::Package;

/// One repository's metadata, as the daemon parsed it.
#[derive(Debug, Clone, Default)]
pub struct Repo {
    /// The name the closure reports as origin (`os`, `updates`).
    pub name: String,
    /// primary.xml's packages.
    pub packages: Vec<Package>,
    /// filelists.xml's packages (may be empty: then only primary's files are known).
    pub filelists: Vec<PackageFiles>,
}

/// A package of the universe.
#[derive(Debug, Clone)]
pub struct Entry {
    /// From primary.
    pub package: Package,
    /// Repository name.
    pub repo: String,
    /// Position of the repository in the list (0 = first).
    pub repo_rank: usize,
}

impl Entry {
    /// `name-[E:]V-R.arch`.
    pub fn nevra(&self) -> String {
        self.package.nevra()
    }
    /// Does the package provide `dep` through a `Provides:` or its own name? (Files it
    /// owns: [`Universe::provides`].)
    pub fn provides(&self, dep: &Dep) -> bool {
        self.self_provide().satisfied_by(dep)
            || self.package.provides.iter().any(|p| dep.satisfied_by(p))
    }
    /// `name = E:V-R`, which every rpm provides.
    pub fn self_provide(&self) -> Dep {
        Dep {
            name: self.package.name.as_str().to_owned(),
            constraint: Some(Constraint {
                op: Op::Eq,
                evr: self.package.evr.clone(),
            }),
            pre: false,
        }
    }
}

/// Problems while building a universe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UniverseError {
    /// Two repositories share a name.
    #[error("repository name {0:?} is used twice")]
    DuplicateRepo(String),
    /// filelists.xml names a package primary.xml does not have.
    #[error("{repo}: filelists.xml has {nevra} (pkgid {pkgid}) which primary.xml does not list")]
    UnknownPkgid {
        /// Repository.
        repo: String,
        /// The package.
        nevra: String,
        /// Its pkgid.
        pkgid: String,
    },
}

/// Packages and indices.
#[derive(Debug, Clone)]
pub struct Universe {
    host: Arch,
    arches: Vec<Arch>,
    entries: Vec<Entry>,
    by_name: HashMap<String, Vec<usize>>,
    by_provide: HashMap<String, Vec<usize>>,
    by_file: HashMap<String, Vec<usize>>,
}

impl Universe {
    /// Build from repositories in priority order for a `host` architecture. Source
    /// packages and packages of architectures the host cannot install are left out.
    pub fn new(host: &Arch, repos: Vec<Repo>) -> Result<Universe, UniverseError> {
        let arches = host.compatible();
        let mut u = Universe {
            host: host.clone(),
            arches,
            entries: Vec::new(),
            by_name: HashMap::new(),
            by_provide: HashMap::new(),
            by_file: HashMap::new(),
        };
        let mut seen = BTreeSet::new();
        for (rank, repo) in repos.into_iter().enumerate() {
            if !seen.insert(repo.name.clone()) {
                return Err(UniverseError::DuplicateRepo(repo.name));
            }
            let mut by_pkgid: HashMap<String, usize> = HashMap::new();
            let first = u.entries.len();
            for p in repo.packages {
                if p.arch.is_source() || !u.arches.contains(&p.arch) {
                    continue;
                }
                let i = u.entries.len();
                by_pkgid.insert(p.pkgid.hex().to_owned(), i);
                for f in &p.files {
                    u.add_file(&f.path, i);
                }
                u.entries.push(Entry {
                    package: p,
                    repo: repo.name.clone(),
                    repo_rank: rank,
                });
            }
            for fl in repo.filelists {
                match by_pkgid.get(&fl.pkgid) {
                    Some(&i) => {
                        for f in &fl.files {
                            u.add_file(&f.path, i);
                        }
                    }
                    None if fl.arch.is_source() || !u.arches.contains(&fl.arch) => {}
                    None => {
                        return Err(UniverseError::UnknownPkgid {
                            repo: repo.name.clone(),
                            nevra: format!("{}-{}.{}", fl.name, fl.evr.version_release(), fl.arch),
                            pkgid: fl.pkgid,
                        })
                    }
                }
            }
            for i in first..u.entries.len() {
                let e = &u.entries[i];
                u.by_name
                    .entry(e.package.name.as_str().to_owned())
                    .or_default()
                    .push(i);
                let mut names: BTreeSet<&str> =
                    e.package.provides.iter().map(|p| p.name.as_str()).collect();
                names.insert(e.package.name.as_str());
                for n in names {
                    u.by_provide.entry(n.to_owned()).or_default().push(i);
                }
            }
        }
        Ok(u)
    }

    /// Index a path of package `i` (primary and filelists repeat primary's files).
    fn add_file(&mut self, path: &str, i: usize) {
        match self.by_file.get_mut(path) {
            Some(v) => {
                if v.last() != Some(&i) {
                    v.push(i);
                }
            }
            None => {
                self.by_file.insert(path.to_owned(), vec![i]);
            }
        }
    }

    /// Does package `i` provide `dep`: a `Provides:`, its own name, or a file it owns
    /// (primary ∪ filelists)?
    pub fn provides(&self, i: usize, dep: &Dep) -> bool {
        self.entries[i].provides(dep)
            || (dep.is_file() && self.by_file.get(&dep.name).is_some_and(|v| v.contains(&i)))
    }

    /// The packages owning `path`.
    pub fn owners(&self, path: &str) -> &[usize] {
        self.by_file.get(path).map_or(&[], Vec::as_slice)
    }

    /// The host architecture.
    pub fn host(&self) -> &Arch {
        &self.host
    }
    /// Installable architectures, best first (noarch last).
    pub fn arches(&self) -> &[Arch] {
        &self.arches
    }
    /// Rank of an architecture (0 best); `noarch` ranks like the host.
    pub fn arch_rank(&self, arch: &Arch) -> usize {
        if arch.is_noarch() {
            return 0;
        }
        self.arches
            .iter()
            .position(|a| a == arch)
            .unwrap_or(usize::MAX)
    }
    /// Every package.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    /// Number of packages.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// No package.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// Package by index.
    pub fn get(&self, i: usize) -> &Entry {
        &self.entries[i]
    }
    /// Indices of the packages named `name`.
    pub fn by_name(&self, name: &str) -> &[usize] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }
    /// Indices of the packages that satisfy `dep` (by provide, own name, or owned file),
    /// in universe order, without duplicates.
    pub fn providers(&self, dep: &Dep) -> Vec<usize> {
        let mut out: BTreeSet<usize> = BTreeSet::new();
        if let Some(v) = self.by_provide.get(&dep.name) {
            out.extend(v.iter().copied().filter(|&i| self.entries[i].provides(dep)));
        }
        if dep.is_file() {
            if let Some(v) = self.by_file.get(&dep.name) {
                out.extend(v.iter().copied());
            }
        }
        out.into_iter().collect()
    }
    /// Every package carrying the name `dep.name` at any version (for error messages).
    pub fn carriers(&self, name: &str) -> Vec<usize> {
        let mut out: BTreeSet<usize> = BTreeSet::new();
        if let Some(v) = self.by_provide.get(name) {
            out.extend(v.iter().copied());
        }
        if let Some(v) = self.by_file.get(name) {
            out.extend(v.iter().copied());
        }
        out.into_iter().collect()
    }
}
