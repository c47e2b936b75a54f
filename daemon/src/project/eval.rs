//! Evaluation: from a project's packages (latest revisions), repositories and the
//! packages already built, decide each result row's state and derivation.
//!
//! Per repository × architecture, the packages are ordered by their local build
//! dependencies (a package depends on another of the project when one of its
//! `Build-Depends*` names is among the other's `Binary:` list). Packages in a cycle are
//! `unresolvable` with the cycle named. A package whose local dependencies are not all
//! built is `blocked` (naming them). Otherwise it is resolved against the snapshot plus
//! the `.deb`s built by its transitive local dependencies and by the repository's path
//! projects (which win over the snapshot's packages of the same name, as in OBS): the
//! resulting derivation id decides. Same id as the row's → nothing to do (content
//! addressing replaces OBS's rebuild heuristics, and an unchanged output of a dependency
//! gives the dependent the same id, which stops the cascade). Already realised →
//! `cached`. Otherwise `scheduled`.

use std::collections::{BTreeMap, BTreeSet};

use cryo_debian::deb822;
use cryo_debian::index::BinaryPackage;
use cryo_resolve::Candidate;
use cryo_store::B3Digest;

use super::model::{JobResult, Project, ProjectName, Repository, ResultKey, SimpleName, State};
use super::Projects;
use super::{tables, ProjectError};
use crate::drv::derive;
use crate::drv::source::{self, ResolvedSource, SourceSpec};
use crate::drv::DrvError;
use crate::mirror::snapshot;

/// What evaluations remember between runs (all of it is a pure function of its key):
/// verified sources by revision digest, and derivation ids (or the resolver's refusal) by
/// the hash of everything a derivation depends on. Without it every commit re-resolved
/// every package of the project (measured: 5 ms per package per evaluation).
#[derive(Default)]
pub struct EvalMemo {
    sources: std::collections::HashMap<B3Digest, ResolvedSource>,
    drvs: std::collections::HashMap<B3Digest, Result<B3Digest, String>>,
}

/// Entries kept at most per map (cleared when full: a memo, not a store).
const MEMO_MAX: usize = 100_000;

#[allow(clippy::too_many_arguments)]
fn memo_key(
    snap: &B3Digest,
    repo: &Repository,
    arch: &str,
    src: &B3Digest,
    counters: &derive::ReleaseCounters,
    extras: &[Candidate],
) -> B3Digest {
    let mut text = format!(
        "{}\0{}\0{}\0{}\0{}\0{}\0{}\0{}\0{}\0",
        derive::DEB_BUILDER.0,
        derive::DEB_BUILDER.1,
        snap,
        repo.prjconf,
        repo.prjconf_name,
        arch,
        src,
        counters.ci_cnt,
        counters.b_cnt
    );
    for c in extras {
        let sha = c
            .pkg
            .sha256
            .as_ref()
            .map(|d| d.to_string())
            .unwrap_or_default();
        text.push_str(&format!("{}:{}:{}\n", c.origin, c.priority, sha));
    }
    B3Digest::of(text.as_bytes())
}

/// Priority of packages built in the project itself (the snapshot's archives have 500).
const LOCAL_PRIORITY: i32 = 1000;
/// Priority of the first path project (the next ones get one less each).
const PATH_PRIORITY: i32 = 900;

/// The local build-dependency graph: package → local packages it build-depends on.
fn local_graph(srcs: &BTreeMap<String, ResolvedSource>) -> BTreeMap<String, BTreeSet<String>> {
    let mut producer: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, s) in srcs {
        for b in &s.package.binaries {
            producer.insert(b.as_str(), name.as_str());
        }
    }
    srcs.iter()
        .map(|(name, s)| {
            let p = &s.package;
            let deps = [
                &p.build_depends,
                &p.build_depends_arch,
                &p.build_depends_indep,
            ]
            .into_iter()
            .flat_map(|r| r.0.iter())
            .flat_map(|alts| alts.0.iter())
            .filter_map(|rel| producer.get(rel.name.as_str()))
            .filter(|d| **d != name.as_str())
            .map(|d| d.to_string())
            .collect();
            (name.clone(), deps)
        })
        .collect()
}

/// Kahn's algorithm: the build order, and the packages left in (or behind) a cycle.
fn order(graph: &BTreeMap<String, BTreeSet<String>>) -> (Vec<String>, BTreeSet<String>) {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    loop {
        let ready: Vec<String> = graph
            .iter()
            .filter(|(n, deps)| !done.contains(*n) && deps.iter().all(|d| done.contains(d)))
            .map(|(n, _)| n.clone())
            .collect();
        if ready.is_empty() {
            break;
        }
        for n in ready {
            done.insert(n.clone());
            out.push(n);
        }
    }
    let left = graph
        .keys()
        .filter(|n| !done.contains(*n))
        .cloned()
        .collect();
    (out, left)
}

/// One cycle through `start` among `left`, for the message (`a → b → a`).
fn describe_cycle(
    graph: &BTreeMap<String, BTreeSet<String>>,
    left: &BTreeSet<String>,
    start: &str,
) -> String {
    let mut path = vec![start.to_string()];
    let mut cur = start.to_string();
    for _ in 0..=left.len() {
        let Some(next) = graph[&cur].iter().find(|d| left.contains(*d)) else {
            break;
        };
        if let Some(i) = path.iter().position(|p| p == next) {
            let mut cyc = path[i..].to_vec();
            cyc.push(next.clone());
            return cyc.join(" → ");
        }
        path.push(next.clone());
        cur = next.clone();
    }
    path.join(" → ")
}

/// `.deb` outputs of a result as resolver candidates.
fn candidates(r: &JobResult, origin: &str, priority: i32) -> Vec<Candidate> {
    let mut out = Vec::new();
    for f in r.outputs.iter().filter(|f| f.name.ends_with(".deb")) {
        let Some(control) = &f.control else { continue };
        let text = format!(
            "{}\nFilename: pool/{}\nSize: {}\nSHA256: {}\n",
            control.trim_end(),
            f.name,
            f.size,
            f.sha256
        );
        for p in deb822::paragraphs(&text).flatten() {
            match BinaryPackage::from_paragraph(&p) {
                Ok(pkg) => out.push(Candidate {
                    pkg,
                    origin: origin.to_string(),
                    priority,
                }),
                Err(e) => {
                    tracing::warn!(file = %f.name, error = %e, "built .deb has an unusable control paragraph")
                }
            }
        }
    }
    out
}

/// The repository of a path project that serves `repo` (same name, else its first).
fn path_repo<'a>(p: &'a Project, repo: &str) -> Option<&'a Repository> {
    p.repositories
        .iter()
        .find(|r| r.name == repo)
        .or_else(|| p.repositories.first())
}

fn prjconf_text(st: &Projects, r: &Repository) -> Result<String, ProjectError> {
    let b = st.store.read(&r.prjconf)?;
    String::from_utf8(b).map_err(|_| ProjectError::Invalid("the prjconf is not UTF-8".into()))
}

/// The verified sources of a repository's packages (latest revisions), the packages
/// whose source does not verify (with why) and the latest revision numbers.
struct Sources {
    srcs: BTreeMap<String, ResolvedSource>,
    bad: BTreeMap<String, String>,
    revs: BTreeMap<String, u32>,
}

fn resolve_sources(
    st: &Projects,
    packages: &[super::model::Package],
    snap: &snapshot::SnapshotInfo,
    session: &cryo_store::Session,
    memo: &mut EvalMemo,
) -> Sources {
    let mut srcs = BTreeMap::new();
    let mut bad: BTreeMap<String, String> = BTreeMap::new();
    let mut revs: BTreeMap<String, u32> = BTreeMap::new();
    for p in packages {
        let Some(rev) = p.latest() else { continue };
        revs.insert(p.name.to_string(), rev.rev);
        let spec = SourceSpec::Dsc {
            dsc: rev.dsc.clone(),
            files: rev.files.clone(),
        };
        if let Some(s) = memo.sources.get(&rev.digest) {
            srcs.insert(p.name.to_string(), s.clone());
            continue;
        }
        match source::resolve(&st.deriver, snap, &spec, session) {
            Ok(s) => {
                memo.sources.insert(rev.digest, s.clone());
                srcs.insert(p.name.to_string(), s);
            }
            Err(e) => {
                bad.insert(p.name.to_string(), e.to_string());
            }
        }
    }
    Sources { srcs, bad, revs }
}

/// Why a project of the repository's path is not readable by every maintainer of
/// `project`, if one is not (checked at repo-add too; a role removed since then stops
/// the path here).
fn path_denied(
    st: &Projects,
    project: &Project,
    repo: &Repository,
) -> Result<Option<String>, ProjectError> {
    for q in &repo.path {
        if let Some(qp) = tables::project(st, q)? {
            if let Some(why) = super::ops::path_denied(st, project, &qp)? {
                return Ok(Some(why));
            }
        }
    }
    Ok(None)
}

/// The successful binaries of the path projects' matching repository and `arch`, as
/// resolver candidates (earlier path entries first in priority).
fn path_candidates(
    st: &Projects,
    repo: &Repository,
    arch: &str,
) -> Result<Vec<Candidate>, ProjectError> {
    let mut path_extras = Vec::new();
    for (i, q) in repo.path.iter().enumerate() {
        let Some(qp) = tables::project(st, q)? else {
            continue;
        };
        let Some(qr) = path_repo(&qp, &repo.name) else {
            continue;
        };
        for r in tables::results(st, q)? {
            if r.repository == qr.name && r.arch == arch && r.state.is_success() {
                path_extras.extend(candidates(
                    &r,
                    &format!("project:{q}"),
                    PATH_PRIORITY - i as i32,
                ));
            }
        }
    }
    Ok(path_extras)
}

/// The derivation of `src` (or the resolver's refusal), remembered in `memo` under `key`.
#[allow(clippy::too_many_arguments)]
fn derive_memoized(
    st: &Projects,
    memo: &mut EvalMemo,
    key: B3Digest,
    snap: &snapshot::SnapshotInfo,
    arch: &str,
    extras: &[Candidate],
    pc: &derive::ProjectConfig,
    src: &ResolvedSource,
    counters: derive::ReleaseCounters,
    session: &cryo_store::Session,
) -> Result<Result<B3Digest, String>, ProjectError> {
    match memo.drvs.get(&key) {
        Some(Ok(id)) if st.store.contains(id)? => return Ok(Ok(*id)),
        Some(Err(m)) => return Ok(Err(m.clone())),
        _ => {}
    }
    let d = st
        .deriver
        .universes
        .get_with(&st.store, snap, arch, extras)
        .and_then(|u| {
            derive::derive_in(
                &st.deriver,
                snap,
                &u,
                pc,
                src,
                arch,
                "full",
                Some(counters),
                session,
            )
        });
    let d = match d {
        Ok((_, _, resolved)) => Ok(resolved.derivation),
        Err(DrvError::Unresolvable(m)) | Err(DrvError::Invalid(m)) => Err(m),
        Err(e) => return Err(e.into()),
    };
    memo.drvs.insert(key, d.clone());
    Ok(d)
}

/// Whether a package waits for local dependencies (`Blocked`) or cannot resolve because
/// one failed (`Unresolvable`), and why.
fn held(deps: &BTreeSet<String>, now: &BTreeMap<String, JobResult>) -> Option<(State, String)> {
    let waiting: Vec<String> = deps
        .iter()
        .filter(|d| !now.get(*d).is_some_and(|r| r.state.is_success()))
        .map(|d| {
            let st = now.get(d).map(|r| r.state.as_str()).unwrap_or("missing");
            format!("{d} ({st})")
        })
        .collect();
    // A dependency that failed (or cannot resolve) provides nothing: like OBS, the
    // dependent is unresolvable until that changes.
    let broken: Vec<String> = deps
        .iter()
        .filter(|d| {
            now.get(*d)
                .is_some_and(|r| r.state.is_final() && !r.state.is_success())
        })
        .map(|d| format!("{d} ({})", now[d].state.as_str()))
        .collect();
    if broken.is_empty() && waiting.is_empty() {
        None
    } else if broken.is_empty() {
        Some((
            State::Blocked,
            format!("waiting for {}", waiting.join(", ")),
        ))
    } else {
        Some((
            State::Unresolvable,
            format!(
                "build dependencies from the project are not available: {}",
                broken.join(", ")
            ),
        ))
    }
}

/// Blocked (dependencies pending) or unresolvable (a dependency failed): either way the
/// row keeps its last success (derivation and outputs, which stay published, as OBS
/// keeps old binaries), restored when the dependency's new build leaves this derivation
/// unchanged.
fn keep_last_success(r: &mut JobResult, old: Option<&JobResult>, state: State) {
    match old {
        Some(o) if o.state == State::Building && state == State::Blocked => {
            // Its build is stopped (the inputs are about to change).
            r.derivation = o.derivation;
        }
        Some(o) if o.state.is_success() || o.previous.is_some() => {
            r.derivation = o.derivation;
            r.outputs = o.outputs.clone();
            r.log = o.log;
            r.duration_secs = o.duration_secs;
            r.finished = o.finished;
            r.previous = o.previous.or(Some(o.state));
        }
        _ => {}
    }
}

/// Re-evaluate every row of `project`; returns the rows to write and the keys to delete.
pub fn evaluate(
    st: &Projects,
    project: &Project,
    current: &BTreeMap<String, JobResult>,
    memo: &mut EvalMemo,
) -> Result<(Vec<JobResult>, Vec<String>), ProjectError> {
    if memo.sources.len() > MEMO_MAX || memo.drvs.len() > MEMO_MAX {
        *memo = EvalMemo::default();
    }
    let packages = tables::packages(st, &project.name)?;
    let session = st.store.session();
    let mut rows = Vec::new();
    let mut keep = BTreeSet::new();
    for repo in &project.repositories {
        let ev = RepoEval::new(st, project, repo, current, &packages, &session, memo)?;
        for arch in &repo.arches {
            for (_, r) in ev.arch(arch, memo)? {
                keep.insert(r.key());
                rows.push(r);
            }
        }
    }
    let delete = current
        .keys()
        .filter(|k| !keep.contains(*k))
        .cloned()
        .collect();
    // Only rows that changed are written (and announced).
    let rows = rows
        .into_iter()
        .filter(|r| current.get(&r.key()) != Some(r))
        .collect();
    Ok((rows, delete))
}

/// What the evaluation of one repository shares between its architectures.
struct RepoEval<'a> {
    st: &'a Projects,
    project: &'a Project,
    repo: &'a Repository,
    current: &'a BTreeMap<String, JobResult>,
    packages: &'a [super::model::Package],
    session: &'a cryo_store::Session,
    snap: snapshot::SnapshotInfo,
    prjconf: String,
    srcs: BTreeMap<String, ResolvedSource>,
    bad: BTreeMap<String, String>,
    revs: BTreeMap<String, u32>,
    rev_digests: BTreeMap<&'a str, B3Digest>,
    rebuilds: BTreeMap<String, u32>,
    graph: BTreeMap<String, BTreeSet<String>>,
    ordered: Vec<String>,
    cyclic: BTreeSet<String>,
    /// Why a path project may not be used, if one may not.
    denied: Option<String>,
}

impl<'a> RepoEval<'a> {
    fn new(
        st: &'a Projects,
        project: &'a Project,
        repo: &'a Repository,
        current: &'a BTreeMap<String, JobResult>,
        packages: &'a [super::model::Package],
        session: &'a cryo_store::Session,
        memo: &mut EvalMemo,
    ) -> Result<Self, ProjectError> {
        let snap = snapshot::get(&st.store, &repo.snapshot.to_hex())?;
        let prjconf = prjconf_text(st, repo)?;
        // Sources once per repository (they do not depend on the architecture).
        let Sources { srcs, bad, revs } = resolve_sources(st, packages, &snap, session, memo);
        let rev_digests = packages
            .iter()
            .filter_map(|p| p.latest().map(|r| (p.name.as_str(), r.digest)))
            .collect();
        let rebuilds = packages
            .iter()
            .map(|p| (p.name.to_string(), p.rebuilds))
            .collect();
        let graph = local_graph(&srcs);
        let (ordered, cyclic) = order(&graph);
        // A private path project must stay readable by every maintainer of this project
        // (checked at repo-add too; a role removed since then stops the path here).
        let denied = path_denied(st, project, repo)?;
        Ok(RepoEval {
            st,
            project,
            repo,
            current,
            packages,
            session,
            snap,
            prjconf,
            srcs,
            bad,
            revs,
            rev_digests,
            rebuilds,
            graph,
            ordered,
            cyclic,
            denied,
        })
    }

    /// The current row of `pkg` on `arch`, if there is one.
    fn old(&self, arch: &str, pkg: &str) -> Option<&'a JobResult> {
        let key = super::model::result_key(&self.project.name, &self.repo.name, arch, pkg);
        self.current.get(&key)
    }

    /// A fresh row of `pkg` on `arch` (keeping the current row's sequence number).
    fn row(
        &self,
        arch: &str,
        pkg: &str,
        state: State,
        reason: Option<String>,
        drv: Option<B3Digest>,
    ) -> Result<JobResult, ProjectError> {
        // `pkg` is the name of one of the project's packages (validated when it was read).
        Ok(JobResult {
            project: self.project.name.clone(),
            repository: self.repo.name.clone(),
            arch: arch.to_string(),
            package: SimpleName::parse("package", pkg)?,
            state,
            reason,
            derivation: drv,
            revision: self.revs.get(pkg).copied().unwrap_or(0),
            duration_secs: None,
            finished: None,
            outputs: Vec::new(),
            log: None,
            force: false,
            previous: None,
            seq: self.old(arch, pkg).map(|o| o.seq).unwrap_or(0),
        })
    }

    /// The rows of every package of the repository on `arch`, by package name.
    fn arch(
        &self,
        arch: &str,
        memo: &mut EvalMemo,
    ) -> Result<BTreeMap<String, JobResult>, ProjectError> {
        let (st, repo) = (self.st, self.repo);
        let pc = derive::parse_prjconf(
            &st.deriver,
            &repo.prjconf_name,
            &self.prjconf,
            arch,
            self.session,
        )?;
        let mut now: BTreeMap<String, JobResult> = BTreeMap::new();
        if let Some(why) = &self.denied {
            for p in self.packages.iter().filter(|p| p.latest().is_some()) {
                now.insert(
                    p.name.to_string(),
                    self.row(arch, &p.name, State::Unresolvable, Some(why.clone()), None)?,
                );
            }
            return Ok(now);
        }
        let path_extras = path_candidates(st, repo, arch)?;
        for (name, e) in &self.bad {
            now.insert(
                name.clone(),
                self.row(arch, name, State::Unresolvable, Some(e.clone()), None)?,
            );
        }
        for name in &self.cyclic {
            let msg = format!(
                "dependency cycle: {}",
                describe_cycle(&self.graph, &self.cyclic, name)
            );
            now.insert(
                name.clone(),
                self.row(arch, name, State::Unresolvable, Some(msg), None)?,
            );
        }
        for name in &self.ordered {
            let r = self.package(arch, name, &now, &path_extras, &pc, memo)?;
            now.insert(name.clone(), r);
        }
        Ok(now)
    }

    /// The row of `name` on `arch`, given the rows `now` of the packages before it.
    fn package(
        &self,
        arch: &str,
        name: &str,
        now: &BTreeMap<String, JobResult>,
        path_extras: &[Candidate],
        pc: &derive::ProjectConfig,
        memo: &mut EvalMemo,
    ) -> Result<JobResult, ProjectError> {
        let old = self.old(arch, name);
        // Local dependencies must be built first.
        let deps = &self.graph[name];
        if let Some((state, reason)) = held(deps, now) {
            let mut r = self.row(arch, name, state, Some(reason), None)?;
            keep_last_success(&mut r, old, state);
            return Ok(r);
        }
        let mut extras = self.local_candidates(deps, now);
        extras.extend(path_extras.iter().cloned());
        let counters = derive::ReleaseCounters {
            ci_cnt: u64::from(self.revs.get(name).copied().unwrap_or(0)),
            b_cnt: u64::from(self.rebuilds.get(name).copied().unwrap_or(0)),
        };
        let rev_digest = self
            .rev_digests
            .get(name)
            .copied()
            .unwrap_or_else(|| B3Digest::of(b""));
        let key = memo_key(
            &self.snap.id,
            self.repo,
            arch,
            &rev_digest,
            &counters,
            &extras,
        );
        let derived = derive_memoized(
            self.st,
            memo,
            key,
            &self.snap,
            arch,
            &extras,
            pc,
            &self.srcs[name],
            counters,
            self.session,
        )?;
        match derived {
            Err(m) => self.row(arch, name, State::Unresolvable, Some(m), None),
            Ok(id) => self.derived_row(arch, name, old, id),
        }
    }

    /// The `.deb`s built by the transitive local dependencies `deps`, as candidates.
    fn local_candidates(
        &self,
        deps: &BTreeSet<String>,
        now: &BTreeMap<String, JobResult>,
    ) -> Vec<Candidate> {
        let mut extras = Vec::new();
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = deps.iter().collect();
        while let Some(d) = stack.pop() {
            if seen.insert(d.clone()) {
                extras.extend(candidates(
                    &now[d],
                    &format!("project:{}", self.project.name),
                    LOCAL_PRIORITY,
                ));
                stack.extend(self.graph[d].iter());
            }
        }
        extras
    }

    /// The row of `name` whose derivation is `id`: the current row when it has that
    /// derivation (and is not held, or was held with a success to restore), else cached
    /// when realised, else scheduled.
    fn derived_row(
        &self,
        arch: &str,
        name: &str,
        old: Option<&JobResult>,
        id: B3Digest,
    ) -> Result<JobResult, ProjectError> {
        let st = self.st;
        Ok(match old {
            Some(o)
                if o.derivation == Some(id)
                    && (!matches!(o.state, State::Blocked | State::Unresolvable)
                        || o.previous.is_some()) =>
            {
                let mut o = o.clone();
                if let Some(prev) = o.previous.take() {
                    o.state = prev;
                    o.reason = None;
                }
                o.revision = self.revs.get(name).copied().unwrap_or(o.revision);
                o
            }
            _ => match st.store.realisation(&id)? {
                Some(real) => {
                    let mut r = self.row(arch, name, State::Cached, None, Some(id))?;
                    r.outputs = super::outputs::built_files(st, &real)?;
                    r.log = st.builder.build_logs.get(&id);
                    r.finished = Some(st.clock.now());
                    r
                }
                None => self.row(arch, name, State::Scheduled, None, Some(id))?,
            },
        })
    }
}

/// Projects whose repositories have `name` in their path.
pub fn dependents(st: &Projects, name: &ProjectName) -> Result<Vec<ProjectName>, ProjectError> {
    Ok(tables::projects(st)?
        .into_iter()
        .filter(|p| p.repositories.iter().any(|r| r.path.contains(name)))
        .map(|p| p.name)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(edges: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        edges
            .iter()
            .map(|(n, d)| (n.to_string(), d.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn orders_dependencies_first_and_finds_cycles() {
        let graph = g(&[
            ("app", &["lib"]),
            ("lib", &[]),
            ("x", &["y"]),
            ("y", &["x"]),
            ("z", &["x"]),
        ]);
        let (ordered, left) = order(&graph);
        assert_eq!(ordered, vec!["lib", "app"]);
        assert_eq!(
            left.iter().cloned().collect::<Vec<_>>(),
            vec!["x", "y", "z"]
        );
        assert_eq!(describe_cycle(&graph, &left, "z"), "x → y → x");
        assert_eq!(describe_cycle(&graph, &left, "x"), "x → y → x");
    }
}
