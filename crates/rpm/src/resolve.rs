//! The RPM build-environment resolver: a prjconf base set (Preinstall/Required/Support,
//! with Substitute, Ignore, Prefer, Keep) plus a source's build requirements → the exact
//! set of binary packages to install, each with the chain of requirements that pulled it
//! in. Shaped like `cryo_resolve` (Debian) so the daemon treats both alike: a [`Closure`]
//! of [`Selected`] split into preinstall and install, or an [`Unresolvable`] that says
//! which requirement fails and why.
//!
//! Rules (`docs/rpm.md`, "Metadata and resolution"):
//! * a requirement already satisfied by a selected package (provide, name, file) adds
//!   nothing; `rpmlib(…)` is rpm's own and always satisfied; `Ignore:` lines are satisfied;
//! * otherwise the providers (provides, names, files of primary ∪ filelists) that are
//!   installable: not excluded, not `Prefer: -x`, not conflicting with / obsoleted by /
//!   obsoleting a selected package, not another version of a selected name;
//! * per name the best candidate: best architecture (host before its compatible arches;
//!   noarch neutral), then highest EVR, then the first repository;
//! * a candidate obsoleted by another candidate is dropped (dnf installs the renamed
//!   package);
//! * among names: the name equal to the requirement, then the first `Prefer:` (with a
//!   matching `origin:` or none), then the best architecture; still several → deferred
//!   until everything else is expanded (a later choice may settle it), then
//!   [`Unresolvable::Choice`] ("have choice for X: a b", as OBS);
//! * `Requires` and `Requires(pre)` are followed; weak dependencies never;
//! * prjconf `Conflict: a:b` refuses a candidate like a package `Conflicts:`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use cryo_prjconf::{PreferEntry, Prjconf};

use crate::checksum::Checksum;
use crate::deps::{Dep, DepError};
use crate::evr::Evr;
use crate::name::{Arch, PackageName};
use crate::primary::Location;
use crate::universe::{Entry, Universe};

/// Where a requirement comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DepKind {
    /// prjconf `Preinstall:`.
    Preinstall,
    /// prjconf `Required:`.
    Required,
    /// prjconf `Support:`.
    Support,
    /// The source's `BuildRequires:`.
    BuildRequires,
    /// A package's `Requires:`.
    Requires,
    /// A package's `Requires(pre)` (rpm-md `pre="1"`).
    RequiresPre,
}

impl DepKind {
    fn verb(self) -> &'static str {
        match self {
            DepKind::Preinstall => "lists in Preinstall:",
            DepKind::Required => "lists in Required:",
            DepKind::Support => "lists in Support:",
            DepKind::BuildRequires => "build-requires",
            DepKind::Requires => "requires",
            DepKind::RequiresPre => "requires (pre)",
        }
    }
}

/// One step: `package` (with its EVR; `prjconf` or the source for roots) requires
/// `relation` through `kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Who requires.
    pub package: String,
    /// Its EVR (packages and the source).
    pub version: Option<String>,
    /// Which field.
    pub kind: DepKind,
    /// The requirement as written.
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

/// From a root to a requirement.
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

/// Why one provider of a requirement could not be used (or that there is none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// Nothing provides the name (no package, provide or file).
    NotInUniverse {
        /// The name.
        name: String,
    },
    /// Providers exist but none in the version range.
    Version {
        /// The requirement.
        relation: String,
        /// What is available (`nevra` or `nevra provides x = v`).
        available: Vec<String>,
    },
    /// The provider conflicts with a selected package (either way).
    Conflicts {
        /// The provider.
        candidate: String,
        /// The selected package.
        with: String,
        /// The `Conflicts:` and who declares it.
        relation: String,
    },
    /// The provider is obsoleted by a selected package, or obsoletes one.
    Obsoletes {
        /// The provider.
        candidate: String,
        /// The selected package.
        with: String,
        /// The `Obsoletes:` and who declares it.
        relation: String,
    },
    /// Another version of the same name is already selected.
    OtherVersion {
        /// The provider.
        candidate: String,
        /// The selected one.
        selected: String,
    },
    /// The prjconf or the request excludes it.
    Excluded {
        /// The provider.
        candidate: String,
        /// Why.
        why: String,
    },
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::NotInUniverse { name } => write!(f, "nothing provides {name}"),
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
            Miss::Obsoletes {
                candidate,
                with,
                relation,
            } => write!(f, "{candidate} and {with}: {relation}"),
            Miss::OtherVersion {
                candidate,
                selected,
            } => write!(f, "{candidate}: {selected} is already selected"),
            Miss::Excluded { candidate, why } => write!(f, "{candidate} is excluded: {why}"),
        }
    }
}

/// The request has no solution.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unresolvable {
    /// No provider of a requirement can be installed.
    #[error("{chain} but it is not installable: {}", misses.iter().map(Miss::to_string).collect::<Vec<_>>().join(" | "))]
    Unsatisfiable {
        /// From the root to the failing requirement.
        chain: Chain,
        /// One reason per provider (or that there is none).
        misses: Vec<Miss>,
    },
    /// Several packages provide a requirement and nothing decides.
    #[error("{chain}: have choice for {dep}: {} (add Prefer: to the prjconf)", candidates.join(" "))]
    Choice {
        /// From the root to the ambiguous requirement.
        chain: Chain,
        /// The requirement.
        dep: String,
        /// The candidates (`nevra`).
        candidates: Vec<String>,
    },
    /// A rich (boolean) dependency: not evaluated by cryo.
    #[error("{package}: rich dependency {dependency:?} is unsupported")]
    Unsupported {
        /// Who declares it (`nevra`, or the source).
        package: String,
        /// The dependency.
        dependency: String,
    },
    /// A build requirement of the request does not parse.
    #[error("build requirement {text:?}: {source}")]
    BadRequest {
        /// As given.
        text: String,
        /// Why.
        #[source]
        source: DepError,
    },
    /// `-name` removes a package that `Keep:` protects.
    #[error("build requirement -{0} removes a package listed in Keep:")]
    Kept(String),
}

/// The prjconf directives the resolver uses, in a form tests and the daemon can build
/// directly or take from a [`Prjconf`].
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// `Preinstall:` names.
    pub preinstall: Vec<String>,
    /// `Required:` names.
    pub required: Vec<String>,
    /// `Support:` names.
    pub support: Vec<String>,
    /// `Keep:`: never removed by `-name`; installed even when built by this source.
    pub keep: BTreeSet<String>,
    /// `Prefer:` in file order (`-name`, `origin:name`).
    pub prefer: Vec<PreferEntry>,
    /// `Ignore: name` (every requirement of `name` is satisfied).
    pub ignore: BTreeSet<String>,
    /// `Ignore: origin:name` (only `origin`'s requirement).
    pub ignore_from: BTreeSet<(String, String)>,
    /// `Substitute: name replacement…` (applied to the base set and build requirements).
    pub substitute: BTreeMap<String, Vec<String>>,
    /// `Conflict: a:b` (both directions): never install the two together.
    pub conflict: BTreeSet<(String, String)>,
    /// `ExpandFlags: preinstallexpand`: the preinstall phase holds the whole closure of
    /// the `Preinstall:` names, not only the names.
    pub preinstall_expand: bool,
}

impl Policy {
    /// The directives of a parsed prjconf.
    pub fn from_prjconf(conf: &Prjconf) -> Policy {
        let names = |s: &BTreeSet<cryo_prjconf::PackageName>| {
            s.iter().map(|n| n.as_str().to_owned()).collect::<Vec<_>>()
        };
        let mut p = Policy {
            preinstall: names(conf.preinstall()),
            required: names(conf.required()),
            support: names(conf.support()),
            keep: conf.keep().iter().map(|n| n.as_str().to_owned()).collect(),
            prefer: conf.prefer().to_vec(),
            substitute: conf
                .substitute()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        v.iter().map(|n| n.as_str().to_owned()).collect(),
                    )
                })
                .collect(),
            preinstall_expand: conf.has_expand_flag("preinstallexpand"),
            ..Policy::default()
        };
        for c in conf.conflict() {
            let (a, b) = (c.a.as_str().to_owned(), c.b.as_str().to_owned());
            p.conflict.insert((b.clone(), a.clone()));
            p.conflict.insert((a, b));
        }
        for e in conf.ignore() {
            match &e.origin {
                Some(o) => p
                    .ignore_from
                    .insert((o.as_str().to_owned(), e.name.as_str().to_owned())),
                None => p.ignore.insert(e.name.as_str().to_owned()),
            };
        }
        p
    }

    fn ignores(&self, origin: &str, dep: &Dep) -> bool {
        self.ignore.contains(&dep.name)
            || self
                .ignore_from
                .contains(&(origin.to_owned(), dep.name.clone()))
    }

    fn applies(e: &PreferEntry, origin: &str) -> bool {
        e.origin.as_ref().is_none_or(|o| o.as_str() == origin)
    }

    fn refused(&self, origin: &str, name: &str) -> bool {
        self.prefer
            .iter()
            .any(|e| e.negative && e.name.as_str() == name && Policy::applies(e, origin))
    }

    fn preference(&self, origin: &str, name: &str) -> Option<usize> {
        self.prefer
            .iter()
            .position(|e| !e.negative && e.name.as_str() == name && Policy::applies(e, origin))
    }
}

/// What is built.
#[derive(Debug, Clone, Default)]
pub struct ResolveRequest {
    /// The source package (SRPM name), for chains and `Ignore: origin:dep`.
    pub source: String,
    /// Its EVR, for chains.
    pub source_evr: Option<String>,
    /// `BuildRequires:` as dependency strings (`gcc`, `zlib-devel >= 1.2`, `/usr/bin/perl`,
    /// `pkgconfig(libuv)`); `-name` removes `name` from the base set.
    pub build_requires: Vec<String>,
    /// Binary packages this source builds: not installed (as OBS) unless `Keep:` lists them
    /// or a build requirement names them directly.
    pub own_binaries: BTreeSet<String>,
}

/// One selected package with what a build root needs to fetch and check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// Name.
    pub name: PackageName,
    /// EVR as primary.xml has it.
    pub evr: Evr,
    /// Architecture.
    pub arch: Arch,
    /// pkgid (checksum of the .rpm).
    pub checksum: Checksum,
    /// Size of the .rpm.
    pub size: u64,
    /// Location in its repository.
    pub location: Location,
    /// Repository name.
    pub repo: String,
    /// Why it is there.
    pub reason: Chain,
}

impl Selected {
    /// `name-[E:]V-R.arch`.
    pub fn nevra(&self) -> String {
        let e = match self.evr.epoch() {
            Some(e) if e > 0 => format!("{e}:"),
            _ => String::new(),
        };
        format!(
            "{}-{e}{}.{}",
            self.name,
            self.evr.version_release(),
            self.arch
        )
    }
}

/// The result. Both lists sorted by (name, arch), disjoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Closure {
    /// The packages `Preinstall:` names (unpacked first, without scripts); with
    /// `ExpandFlags: preinstallexpand`, their whole closure.
    pub preinstall: Vec<Selected>,
    /// Everything else.
    pub install: Vec<Selected>,
}

impl Closure {
    /// Every package, preinstall first.
    pub fn all(&self) -> impl Iterator<Item = &Selected> {
        self.preinstall.iter().chain(&self.install)
    }
    /// Number of packages.
    pub fn len(&self) -> usize {
        self.preinstall.len() + self.install.len()
    }
    /// Nothing selected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The package named `name`.
    pub fn get(&self, name: &str) -> Option<&Selected> {
        self.all().find(|s| s.name.as_str() == name)
    }
}

struct Item {
    dep: Dep,
    origin: String,
    chain: Chain,
    preinstall: bool,
}

struct State<'a> {
    uni: &'a Universe,
    policy: &'a Policy,
    excluded: BTreeSet<String>,
    selected: BTreeMap<usize, Chain>,
    by_name: BTreeMap<String, usize>,
    preinstall: BTreeSet<usize>,
    queue: VecDeque<Item>,
    deferred: Vec<Item>,
}

/// Resolve `req` against `uni` under `policy`.
pub fn resolve(
    uni: &Universe,
    policy: &Policy,
    req: &ResolveRequest,
) -> Result<Closure, Unresolvable> {
    let mut removed = BTreeSet::new();
    let mut build = Vec::new();
    for text in &req.build_requires {
        let t = text.trim();
        if let Some(name) = t.strip_prefix('-') {
            if policy.keep.contains(name) {
                return Err(Unresolvable::Kept(name.to_owned()));
            }
            removed.insert(name.to_owned());
            continue;
        }
        let dep = Dep::parse(t).map_err(|source| match source {
            DepError::Unsupported(d) => Unresolvable::Unsupported {
                package: req.source.clone(),
                dependency: d,
            },
            source => Unresolvable::BadRequest {
                text: text.clone(),
                source,
            },
        })?;
        build.push(dep);
    }
    // Own binaries are excluded unless kept or named directly.
    let excluded = req
        .own_binaries
        .iter()
        .filter(|n| !policy.keep.contains(*n) && !build.iter().any(|d| &d.name == *n))
        .cloned()
        .collect();
    let mut st = State {
        uni,
        policy,
        excluded,
        selected: BTreeMap::new(),
        by_name: BTreeMap::new(),
        preinstall: BTreeSet::new(),
        queue: VecDeque::new(),
        deferred: Vec::new(),
    };
    let substituted = |name: &str| -> Vec<String> {
        match policy.substitute.get(name) {
            Some(v) => v.clone(),
            None => vec![name.to_owned()],
        }
    };
    let lists = [
        (DepKind::Preinstall, &policy.preinstall),
        (DepKind::Required, &policy.required),
        (DepKind::Support, &policy.support),
    ];
    for (kind, names) in lists {
        for n in names {
            if removed.contains(n) {
                continue;
            }
            for s in substituted(n) {
                st.queue.push_back(Item {
                    dep: Dep::name(&s),
                    origin: "prjconf".to_owned(),
                    chain: Chain(vec![Link {
                        package: "prjconf".to_owned(),
                        version: None,
                        kind,
                        relation: s.clone(),
                    }]),
                    preinstall: kind == DepKind::Preinstall,
                });
            }
        }
        // With preinstallexpand, the preinstall closure is complete before anything
        // else is chosen (so nothing it needs is attributed to the install phase).
        if kind == DepKind::Preinstall && policy.preinstall_expand {
            st.run()?;
        }
    }
    for dep in build {
        let deps = match policy.substitute.get(&dep.name) {
            Some(v) => v.iter().map(|n| Dep::name(n)).collect(),
            None => vec![dep],
        };
        for dep in deps {
            st.queue.push_back(Item {
                chain: Chain(vec![Link {
                    package: req.source.clone(),
                    version: req.source_evr.clone(),
                    kind: DepKind::BuildRequires,
                    relation: dep.to_string(),
                }]),
                dep,
                origin: req.source.clone(),
                preinstall: false,
            });
        }
    }
    st.run()?;
    Ok(st.output())
}

impl State<'_> {
    /// Expand the queue; then settle deferred choices one at a time (each may satisfy
    /// later ones), expanding after each.
    fn run(&mut self) -> Result<(), Unresolvable> {
        loop {
            while let Some(item) = self.queue.pop_front() {
                self.process(item, false)?;
            }
            if self.deferred.is_empty() {
                return Ok(());
            }
            let item = self.deferred.remove(0);
            self.process(item, true)?;
        }
    }

    fn name_of(&self, i: usize) -> &str {
        self.uni.get(i).package.name.as_str()
    }

    fn process(&mut self, item: Item, last_chance: bool) -> Result<(), Unresolvable> {
        let dep = &item.dep;
        if dep.is_rpmlib() || self.policy.ignores(&item.origin, dep) {
            return Ok(());
        }
        if dep.is_rich() {
            return Err(Unresolvable::Unsupported {
                package: item.origin.clone(),
                dependency: dep.name.clone(),
            });
        }
        let providers = self.uni.providers(dep);
        if let Some(&i) = providers.iter().find(|i| self.selected.contains_key(i)) {
            if item.preinstall {
                self.preinstall.insert(i);
            }
            return Ok(());
        }
        let mut misses = Vec::new();
        let mut ok = Vec::new();
        for &i in &providers {
            match self.refusal(i, &item.origin) {
                Some(m) => misses.push(m),
                None => ok.push(i),
            }
        }
        if ok.is_empty() {
            if providers.is_empty() {
                misses.push(self.absent(dep));
            }
            return Err(Unresolvable::Unsatisfiable {
                chain: item.chain.clone(),
                misses,
            });
        }
        // A candidate another candidate obsoletes is dropped (libsolv/dnf install the
        // obsoleting package: a rename).
        let obsoleted: Vec<usize> = ok
            .iter()
            .copied()
            .filter(|&i| {
                ok.iter()
                    .any(|&j| obsoleting(self.uni.get(j), self.uni.get(i)).is_some())
            })
            .collect();
        if obsoleted.len() < ok.len() {
            ok.retain(|i| !obsoleted.contains(i));
        }
        // Per name: best arch, highest EVR, first repository.
        let mut best: BTreeMap<&str, usize> = BTreeMap::new();
        for &i in &ok {
            let name = self.name_of(i);
            match best.get(name) {
                Some(&b) if !self.better(i, b) => {}
                _ => {
                    best.insert(name, i);
                }
            }
        }
        let mut names: Vec<usize> = best.into_values().collect();
        if names.len() > 1 {
            if let Some(&i) = names.iter().find(|&&i| self.name_of(i) == dep.name) {
                names = vec![i];
            }
        }
        if names.len() > 1 {
            let pref = names
                .iter()
                .filter_map(|&i| {
                    self.policy
                        .preference(&item.origin, self.name_of(i))
                        .map(|p| (p, i))
                })
                .min();
            if let Some((_, i)) = pref {
                names = vec![i];
            }
        }
        if names.len() > 1 {
            let top = names
                .iter()
                .map(|&i| self.uni.arch_rank(&self.uni.get(i).package.arch))
                .min()
                .unwrap_or(0);
            names.retain(|&i| self.uni.arch_rank(&self.uni.get(i).package.arch) == top);
        }
        if names.len() > 1 {
            if !last_chance {
                self.deferred.push(item);
                return Ok(());
            }
            return Err(Unresolvable::Choice {
                chain: item.chain.clone(),
                dep: dep.to_string(),
                candidates: names.iter().map(|&i| self.uni.get(i).nevra()).collect(),
            });
        }
        let i = names[0];
        self.select(i, &item);
        Ok(())
    }

    /// Is `a` a better version of the same name than `b`?
    fn better(&self, a: usize, b: usize) -> bool {
        let (ea, eb) = (self.uni.get(a), self.uni.get(b));
        let (ra, rb) = (
            self.uni.arch_rank(&ea.package.arch),
            self.uni.arch_rank(&eb.package.arch),
        );
        if ra != rb {
            return ra < rb;
        }
        match ea.package.evr.cmp(&eb.package.evr) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => ea.repo_rank < eb.repo_rank,
        }
    }

    fn absent(&self, dep: &Dep) -> Miss {
        let carriers = self.uni.carriers(&dep.name);
        if carriers.is_empty() {
            return Miss::NotInUniverse {
                name: dep.name.clone(),
            };
        }
        let available = carriers
            .iter()
            .map(|&i| {
                let e = self.uni.get(i);
                let p: Vec<String> = e
                    .package
                    .provides
                    .iter()
                    .filter(|p| p.name == dep.name)
                    .map(Dep::to_string)
                    .collect();
                if p.is_empty() || e.package.name.as_str() == dep.name {
                    e.nevra()
                } else {
                    format!("{} provides {}", e.nevra(), p.join(", "))
                }
            })
            .collect();
        Miss::Version {
            relation: dep.to_string(),
            available,
        }
    }

    fn refusal(&self, i: usize, origin: &str) -> Option<Miss> {
        let e = self.uni.get(i);
        let name = e.package.name.as_str();
        if self.excluded.contains(name) {
            return Some(Miss::Excluded {
                candidate: e.nevra(),
                why: "built by this source; list it in Keep: to install it".into(),
            });
        }
        if self.policy.refused(origin, name) {
            return Some(Miss::Excluded {
                candidate: e.nevra(),
                why: format!("Prefer: -{name}"),
            });
        }
        if let Some(&s) = self.by_name.get(name) {
            return Some(Miss::OtherVersion {
                candidate: e.nevra(),
                selected: self.uni.get(s).nevra(),
            });
        }
        for &s in self.selected.keys() {
            let o = self.uni.get(s);
            let other = o.package.name.as_str();
            if self
                .policy
                .conflict
                .contains(&(name.to_owned(), other.to_owned()))
            {
                return Some(Miss::Conflicts {
                    candidate: e.nevra(),
                    with: o.nevra(),
                    relation: format!("prjconf Conflict: {name}:{other}"),
                });
            }
            if let Some(c) = e.package.conflicts.iter().find(|c| self.uni.provides(s, c)) {
                return Some(Miss::Conflicts {
                    candidate: e.nevra(),
                    with: o.nevra(),
                    relation: format!("{} conflicts with {c}", e.nevra()),
                });
            }
            if let Some(c) = o.package.conflicts.iter().find(|c| self.uni.provides(i, c)) {
                return Some(Miss::Conflicts {
                    candidate: e.nevra(),
                    with: o.nevra(),
                    relation: format!("{} conflicts with {c}", o.nevra()),
                });
            }
            if let Some(c) = obsoleting(o, e) {
                return Some(Miss::Obsoletes {
                    candidate: e.nevra(),
                    with: o.nevra(),
                    relation: format!("{} obsoletes {c}", o.nevra()),
                });
            }
            if let Some(c) = obsoleting(e, o) {
                return Some(Miss::Obsoletes {
                    candidate: e.nevra(),
                    with: o.nevra(),
                    relation: format!("{} obsoletes {c}", e.nevra()),
                });
            }
        }
        None
    }

    fn select(&mut self, i: usize, item: &Item) {
        let e = self.uni.get(i);
        self.selected.insert(i, item.chain.clone());
        self.by_name.insert(e.package.name.as_str().to_owned(), i);
        if item.preinstall {
            self.preinstall.insert(i);
        }
        let evr = e.package.evr.to_string();
        for r in &e.package.requires {
            let mut chain = item.chain.clone();
            chain.0.push(Link {
                package: e.package.name.as_str().to_owned(),
                version: Some(evr.clone()),
                kind: if r.pre {
                    DepKind::RequiresPre
                } else {
                    DepKind::Requires
                },
                relation: r.to_string(),
            });
            self.queue.push_back(Item {
                dep: r.clone(),
                origin: e.package.name.as_str().to_owned(),
                chain,
                preinstall: item.preinstall && self.policy.preinstall_expand,
            });
        }
    }

    fn output(self) -> Closure {
        let mut out = Closure::default();
        for (i, chain) in self.selected {
            let e = self.uni.get(i);
            let s = Selected {
                name: e.package.name.clone(),
                evr: e.package.evr.clone(),
                arch: e.package.arch.clone(),
                checksum: e.package.pkgid.clone(),
                size: e.package.size,
                location: e.package.location.clone(),
                repo: e.repo.clone(),
                reason: chain,
            };
            if self.preinstall.contains(&i) {
                out.preinstall.push(s);
            } else {
                out.install.push(s);
            }
        }
        let key = |s: &Selected| (s.name.clone(), s.arch.clone());
        out.preinstall.sort_by_key(key);
        out.install.sort_by_key(key);
        out
    }
}

/// The `Obsoletes:` of `a` that hits package `b` (by name and EVR; never itself).
fn obsoleting(a: &Entry, b: &Entry) -> Option<String> {
    if a.package.name == b.package.name {
        return None;
    }
    a.package
        .obsoletes
        .iter()
        .find(|o| {
            o.name == b.package.name.as_str()
                && o.constraint
                    .as_ref()
                    .is_none_or(|c| c.matches(&b.package.evr))
        })
        .map(Dep::to_string)
}
