//! What users do to projects: create and configure them, add packages and commit new
//! source revisions. Every change marks the project for re-evaluation by the scheduler.
//! Store objects a project refers to (prjconf texts, source revisions) are kept alive by
//! named roots `project/<name>/...`.

use crate::project::model::ProjectExt;

use cryo_store::{B3Digest, ObjectKind};

use super::model::{package_key, Package, Project, ProjectName, Repository, Revision, SimpleName};
use super::Projects;
use super::{tables, ProjectError};
use crate::auth::Principal;
use crate::drv::derive;
use crate::drv::request::PrjconfText;
use crate::drv::source::{self, SourceSpec};
use crate::mirror::snapshot;
use crate::mirror::sync::{self, SyncOptions};

/// A repository as the client describes it, and `cryo project create`: the API's types.
pub use cryo_store::api::{CreateRequest, RepoRequest};

/// The root that keeps a project's object alive.
fn root_name(project: &ProjectName, what: &str) -> String {
    // Root names allow `:`; package and repo names are already path-safe.
    format!("project/{project}/{what}")
}

pub fn get(st: &Projects, name: &str) -> Result<Project, ProjectError> {
    let n = ProjectName::parse(name)?;
    tables::project(st, &n)?.ok_or_else(|| ProjectError::NotFound(format!("no project {name:?}")))
}

fn sync_mirrors(
    st: &Projects,
    mirrors: &[String],
    allow_expired: bool,
) -> Result<B3Digest, ProjectError> {
    let mut ms = Vec::new();
    for m in mirrors {
        ms.push(crate::mirror::config::get(&st.store, m)?);
    }
    let out = sync::sync(
        &st.store,
        &ms,
        &SyncOptions {
            allow_expired,
            now: st.clock.now(),
        },
    )?;
    Ok(snapshot::get(&st.store, &out.snapshot)?.id)
}

/// The projects of a repository path, each checked: it exists, it is not `project`
/// itself, `who` may read it (403 naming it otherwise, as `project show` answers), and,
/// when it is private, every maintainer of `project` may read it too (their builds can
/// copy whatever the path provides). Evaluation checks the maintainers again
/// ([`path_denied`]), so a role removed later stops the path from being used.
pub fn check_path(
    st: &Projects,
    who: &Principal,
    project: &ProjectName,
    maintainers: &[String],
    path: &[String],
) -> Result<Vec<ProjectName>, ProjectError> {
    let mut out = Vec::new();
    for p in path {
        let pn = ProjectName::parse(p)?;
        if &pn == project {
            return Err(ProjectError::Invalid(format!(
                "project {p} cannot be in its own path"
            )));
        }
        let Some(q) = tables::project(st, &pn)? else {
            return Err(ProjectError::NotFound(format!(
                "path project {p:?} does not exist"
            )));
        };
        crate::auth::require(&st.auth, who, q.access(), crate::auth::Role::Reader)
            .map_err(|e| ProjectError::Forbidden(format!("repository path: {e}")))?;
        if let Some(why) = path_denied_for(st, project, maintainers, &q)? {
            return Err(ProjectError::Forbidden(why));
        }
        out.push(pn);
    }
    Ok(out)
}

/// Why `project` (maintained by `maintainers`) may not use `q` in a repository path:
/// `q` is private and one of them cannot read it.
fn path_denied_for(
    st: &Projects,
    project: &ProjectName,
    maintainers: &[String],
    q: &Project,
) -> Result<Option<String>, ProjectError> {
    if !q.private {
        return Ok(None);
    }
    for m in maintainers {
        let readable = crate::auth::user_can_read(&st.auth, m, q.access())?;
        if !readable {
            return Ok(Some(format!(
                "repository path: project {} is private and {m}, a maintainer of {project}, lacks the role reader on it",
                q.name
            )));
        }
    }
    Ok(None)
}

/// Evaluation's check of a path project (see [`check_path`]).
pub fn path_denied(
    st: &Projects,
    project: &Project,
    q: &Project,
) -> Result<Option<String>, ProjectError> {
    let maintainers = crate::auth::maintainers(&st.auth, project.access())?;
    path_denied_for(st, &project.name, &maintainers, q)
}

fn make_repo(
    st: &Projects,
    who: &Principal,
    project: &ProjectName,
    maintainers: &[String],
    req: &RepoRequest,
) -> Result<Repository, ProjectError> {
    let name = SimpleName::parse("repository", req.repository.as_deref().unwrap_or("debian"))?;
    let snapshot = match (&req.snapshot, req.mirrors.is_empty()) {
        (Some(s), true) => snapshot::get(&st.store, s)?.id,
        (None, false) => sync_mirrors(st, &req.mirrors, req.allow_expired)?,
        (Some(_), false) => {
            return Err(ProjectError::Invalid(
                "give --snapshot or --mirror, not both".into(),
            ))
        }
        (None, true) => {
            return Err(ProjectError::Invalid(
                "give --snapshot ID or --mirror NAME".into(),
            ))
        }
    };
    let arches = if req.arches.is_empty() {
        vec![st.deriver.host_arch.clone()]
    } else {
        req.arches.clone()
    };
    let session = st.store.session();
    for a in &arches {
        // Validates the prjconf (errors carry file:line) for every architecture.
        derive::parse_prjconf(
            &st.deriver,
            &req.prjconf.name,
            &req.prjconf.text,
            a,
            &session,
        )?;
    }
    let text = st.store.put_bytes(
        req.prjconf.text.as_bytes(),
        ObjectKind::Blob,
        &[],
        Some(&session),
    )?;
    st.store.add_root(
        &root_name(project, &format!("{name}/prjconf")),
        &text.digest,
    )?;
    st.store
        .add_root(&root_name(project, &format!("{name}/snapshot")), &snapshot)?;
    let path = check_path(st, who, project, maintainers, &req.path)?;
    Ok(Repository {
        name,
        snapshot,
        mirrors: req.mirrors.clone(),
        prjconf: text.digest,
        prjconf_name: req.prjconf.name.clone(),
        arches,
        path,
    })
}

/// `cryo project create` by `who` (the repository path is checked for `who`).
pub fn create(
    st: &Projects,
    who: &Principal,
    req: &CreateRequest,
) -> Result<Project, ProjectError> {
    let name = ProjectName::parse(&req.name)?;
    if tables::project(st, &name)?.is_some() {
        return Err(ProjectError::Conflict(format!(
            "project {name} exists already"
        )));
    }
    let repo = make_repo(st, who, &name, &[], &req.repo)?;
    let p = Project {
        name,
        description: req.description.clone(),
        repositories: vec![repo],
        publish: req.publish,
        created: st.clock.now(),
        private: req.private,
        roles: Vec::new(),
    };
    if !tables::PROJECTS.insert_new(st.store.index().database(), p.name.as_str(), &p)? {
        return Err(ProjectError::Conflict(format!(
            "project {} exists already",
            p.name
        )));
    }
    st.scheduler.evaluate_now(st, &p.name);
    Ok(p)
}

/// Add or replace a repository (`cryo project repo-add`) by `who`.
pub fn set_repository(
    st: &Projects,
    who: &Principal,
    project: &str,
    req: &RepoRequest,
) -> Result<Project, ProjectError> {
    let p = get(st, project)?;
    let maintainers = crate::auth::maintainers(&st.auth, p.access())?;
    let repo = make_repo(st, who, &p.name, &maintainers, req)?;
    let p = tables::update_project(st, &p.name, |p| {
        match p.repositories.iter_mut().find(|r| r.name == repo.name) {
            Some(r) => *r = repo,
            None => p.repositories.push(repo),
        }
        Ok(())
    })?;
    st.scheduler.evaluate_now(st, &p.name);
    Ok(p)
}

/// Replace a repository's prjconf (`cryo project config --set`).
pub fn set_config(
    st: &Projects,
    project: &str,
    repo: Option<&str>,
    prjconf: &PrjconfText,
) -> Result<Project, ProjectError> {
    let mut p = get(st, project)?;
    let name = p.name.clone();
    let r = find_repo(&mut p, repo)?;
    let session = st.store.session();
    for a in &r.arches {
        derive::parse_prjconf(&st.deriver, &prjconf.name, &prjconf.text, a, &session)?;
    }
    let text = st.store.put_bytes(
        prjconf.text.as_bytes(),
        ObjectKind::Blob,
        &[],
        Some(&session),
    )?;
    st.store.add_root(
        &root_name(&name, &format!("{}/prjconf", r.name)),
        &text.digest,
    )?;
    let repo_name = r.name.clone();
    let p = tables::update_project(st, &name, |p| {
        let r = find_repo(p, Some(&repo_name))?;
        r.prjconf = text.digest;
        r.prjconf_name = prjconf.name.clone();
        Ok(())
    })?;
    st.scheduler.evaluate_now(st, &p.name);
    Ok(p)
}

fn find_repo<'a>(
    p: &'a mut Project,
    repo: Option<&str>,
) -> Result<&'a mut Repository, ProjectError> {
    let pname = p.name.clone();
    match repo {
        Some(n) => p
            .repositories
            .iter_mut()
            .find(|r| r.name == n)
            .ok_or_else(|| {
                ProjectError::NotFound(format!("project {pname} has no repository {n:?}"))
            }),
        None => p
            .repositories
            .first_mut()
            .ok_or_else(|| ProjectError::Invalid(format!("project {pname} has no repository"))),
    }
}

/// The prjconf text of a repository.
pub fn config_text(
    st: &Projects,
    project: &str,
    repo: Option<&str>,
) -> Result<(String, String), ProjectError> {
    let mut p = get(st, project)?;
    let r = find_repo(&mut p, repo)?;
    let text = String::from_utf8(st.store.read(&r.prjconf)?)
        .map_err(|_| ProjectError::Invalid("prjconf is not UTF-8".into()))?;
    Ok((r.prjconf_name.clone(), text))
}

/// Re-sync the mirrors of every mirror-following repository; returns the repositories
/// whose snapshot changed.
pub fn sync_project(
    st: &Projects,
    project: &str,
    allow_expired: bool,
) -> Result<Vec<String>, ProjectError> {
    let p = get(st, project)?;
    let mut changed = Vec::new();
    let mut snapshots = Vec::new();
    for r in &p.repositories {
        if r.mirrors.is_empty() {
            continue;
        }
        let id = sync_mirrors(st, &r.mirrors, allow_expired)?;
        if id != r.snapshot {
            st.store
                .add_root(&root_name(&p.name, &format!("{}/snapshot", r.name)), &id)?;
            snapshots.push((r.name.clone(), id));
            changed.push(r.name.to_string());
        }
    }
    let p = tables::update_project(st, &p.name, |p| {
        for (name, id) in &snapshots {
            if let Some(r) = p.repositories.iter_mut().find(|r| &r.name == name) {
                r.snapshot = *id;
            }
        }
        Ok(())
    })?;
    st.scheduler.evaluate_now(st, &p.name);
    Ok(changed)
}

pub fn delete(st: &Projects, project: &str) -> Result<(), ProjectError> {
    let p = get(st, project)?;
    let users = super::eval::dependents(st, &p.name)?;
    if !users.is_empty() {
        let names: Vec<String> = users.iter().map(|u| u.to_string()).collect();
        return Err(ProjectError::Conflict(format!(
            "project {} is in the repository path of {}; remove it there first",
            p.name,
            names.join(", ")
        )));
    }
    st.scheduler.abort(st, &p.name, None)?;
    tables::delete_project(st, &p.name)?;
    st.hooks.deleted(&p.name);
    let (prefix, published) = (
        format!("project/{}/", p.name),
        format!("publish/{}/", p.name),
    );
    for (root, _) in st.store.roots()? {
        if root.starts_with(&prefix) || root.starts_with(&published) {
            st.store.remove_root(&root)?;
        }
    }
    Ok(())
}

/// The identity of a source revision: BLAKE3 of its sorted `name digest` lines.
fn revision_digest(files: &std::collections::BTreeMap<cryo_store::SafeName, B3Digest>) -> B3Digest {
    let mut text = String::new();
    for (n, d) in files {
        text.push_str(&format!("{n} {d}\n"));
    }
    B3Digest::of(text.as_bytes())
}

/// Outcome of `package add` / `commit` (the API's type).
pub use cryo_store::api::CommitOutcome;

/// A source revision ready to be committed: its files are in the store, resolved and
/// checked against the snapshot, and kept alive by the root
/// `project/<p>/pkg/<package>/<digest>`. The revision number is given by
/// [`apply_commit`], inside the write transaction.
#[derive(Debug, Clone)]
pub struct PreparedCommit {
    pub project: ProjectName,
    pub package: SimpleName,
    pub create: bool,
    dsc: cryo_store::SafeName,
    files: std::collections::BTreeMap<cryo_store::SafeName, B3Digest>,
    digest: B3Digest,
    source: String,
    version: String,
}

/// Everything of a commit that can happen outside the write transaction: resolve the
/// source, store and root it.
pub fn prepare_commit(
    st: &Projects,
    project: &str,
    package: Option<&str>,
    spec: &SourceSpec,
    create: bool,
) -> Result<PreparedCommit, ProjectError> {
    let p = get(st, project)?;
    let repo = p
        .repositories
        .first()
        .ok_or_else(|| ProjectError::Invalid(format!("project {} has no repository", p.name)))?;
    let snap = snapshot::get(&st.store, &repo.snapshot.to_hex())?;
    let session = st.store.session();
    let src = source::resolve(&st.deriver, &snap, spec, &session)?;
    let name = SimpleName::parse("package", package.unwrap_or(src.package.package.as_str()))?;
    let digest = revision_digest(&src.files);
    // The record references the files: rooting it keeps the sources alive from now on,
    // whatever revision number the commit gets.
    let record = serde_json::json!({
        "project": p.name,
        "package": name,
        "dsc": src.dsc_name,
        "files": src.files,
        "digest": digest,
    });
    let refs: Vec<B3Digest> = src.files.values().copied().collect();
    let rec = serde_json::to_vec(&record).expect("serializable");
    let stored = st
        .store
        .put_bytes(&rec, ObjectKind::Blob, &refs, Some(&session))?;
    st.store.add_root(
        &root_name(&p.name, &format!("pkg/{name}/{}", digest.to_hex())),
        &stored.digest,
    )?;
    Ok(PreparedCommit {
        project: p.name,
        package: name,
        create,
        dsc: src.dsc_name.clone(),
        files: src.files.clone(),
        digest,
        source: src.package.package.clone(),
        version: src.package.version.to_string(),
    })
}

/// The read-modify-write of a commit, inside the caller's write transaction: check the
/// package exists (or not, for `create`), skip a source equal to the latest revision,
/// else append revision `len + 1`. Concurrent commits are serialised by the transaction,
/// so none is lost and numbers are never reused.
pub fn apply_commit(
    tx: &redb::WriteTransaction,
    c: &PreparedCommit,
    author: &str,
    message: &str,
    now: i64,
) -> Result<CommitOutcome, ProjectError> {
    let mut t = tables::PACKAGES.open(tx)?;
    let key = package_key(&c.project, &c.package);
    let (p, name) = (&c.project, &c.package);
    let mut pkg = match (t.get(key.as_str())?, c.create) {
        (Some(_), true) => {
            return Err(ProjectError::Conflict(format!(
                "package {name} exists in {p}; use `cryo commit {p} {name} SOURCE -m MSG`"
            )))
        }
        (None, false) => {
            return Err(ProjectError::NotFound(format!(
                "no package {name} in {p}; add it with `cryo package add {p} SOURCE`"
            )))
        }
        (Some(e), false) => e,
        (None, true) => Package {
            project: p.clone(),
            name: name.clone(),
            revisions: Vec::new(),
            rebuilds: 0,
        },
    };
    if let Some(last) = pkg.latest() {
        if last.digest == c.digest {
            return Ok(CommitOutcome {
                project: p.to_string(),
                package: name.to_string(),
                changed: false,
                revision: last.clone(),
            });
        }
    }
    let rev = Revision {
        rev: pkg.revisions.len() as u32 + 1,
        dsc: c.dsc.clone(),
        files: c.files.clone(),
        digest: c.digest,
        source: c.source.clone(),
        version: c.version.clone(),
        author: author.to_string(),
        time: now,
        message: message.to_string(),
    };
    pkg.revisions.push(rev.clone());
    t.put(key.as_str(), &pkg)?;
    Ok(CommitOutcome {
        project: p.to_string(),
        package: name.to_string(),
        changed: true,
        revision: rev,
    })
}

/// Add a package (`create`) or commit a new revision of an existing one.
#[allow(clippy::too_many_arguments)]
pub fn commit(
    st: &Projects,
    project: &str,
    package: Option<&str>,
    spec: &SourceSpec,
    author: &str,
    message: &str,
    create: bool,
) -> Result<CommitOutcome, ProjectError> {
    let c = prepare_commit(st, project, package, spec, create)?;
    let now = st.clock.now();
    let out = crate::table::write(st.store.index().database(), tables::PACKAGES.name(), |tx| {
        apply_commit(tx, &c, author, message, now)
    })?;
    if out.changed {
        st.scheduler.evaluate_now(st, &c.project);
    }
    Ok(out)
}

pub fn remove_package(st: &Projects, project: &str, package: &str) -> Result<(), ProjectError> {
    let p = get(st, project)?;
    if tables::package(st, &p.name, package)?.is_none() {
        return Err(ProjectError::NotFound(format!(
            "no package {package} in {}",
            p.name
        )));
    }
    st.scheduler.abort(st, &p.name, Some(package))?;
    tables::delete_package(st, &p.name, package)?;
    let prefix = format!("project/{}/pkg/{package}/", p.name);
    for (root, _) in st.store.roots()? {
        if root.starts_with(&prefix) {
            st.store.remove_root(&root)?;
        }
    }
    st.scheduler.evaluate_now(st, &p.name);
    Ok(())
}
