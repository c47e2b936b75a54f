//! What users do to projects: create and configure them, add packages and commit new
//! source revisions. Every change marks the project for re-evaluation by the scheduler.
//! Store objects a project refers to (prjconf texts, source revisions) are kept alive by
//! named roots `project/<name>/...`.

use serde::{Deserialize, Serialize};

use cryo_store::{B3Digest, ObjectKind};

use super::model::{check_simple_name, Package, Project, ProjectName, Repository, Revision};
use super::{tables, ProjectError};
use crate::drv::derive;
use crate::drv::source::{self, SourceSpec};
use crate::http::resolve::PrjconfText;
use crate::mirror::snapshot;
use crate::mirror::sync::{self, SyncOptions};
use crate::state::AppState;

/// A repository as the client describes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepoRequest {
    /// Default `debian`.
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub snapshot: Option<String>,
    #[serde(default)]
    pub mirrors: Vec<String>,
    #[serde(default)]
    pub allow_expired: bool,
    pub prjconf: PrjconfText,
    #[serde(default)]
    pub arches: Vec<String>,
    #[serde(default)]
    pub path: Vec<String>,
}

/// `cryo project create`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub publish: bool,
    #[serde(default)]
    pub private: bool,
    #[serde(flatten)]
    pub repo: RepoRequest,
}

/// The root that keeps a project's object alive.
fn root_name(project: &ProjectName, what: &str) -> String {
    // Root names allow `:`; package and repo names are already path-safe.
    format!("project/{project}/{what}")
}

pub fn get(st: &AppState, name: &str) -> Result<Project, ProjectError> {
    let n = ProjectName::parse(name)?;
    tables::project(st, &n)?.ok_or_else(|| ProjectError::NotFound(format!("no project {name:?}")))
}

fn sync_mirrors(
    st: &AppState,
    mirrors: &[String],
    allow_expired: bool,
) -> Result<B3Digest, ProjectError> {
    let mut ms = Vec::new();
    for m in mirrors {
        ms.push(crate::mirror::config::get(st, m)?);
    }
    let out = sync::sync(
        st,
        &ms,
        &SyncOptions {
            allow_expired,
            now: st.clock.now(),
        },
    )?;
    Ok(snapshot::get(st, &out.snapshot)?.id)
}

fn make_repo(
    st: &AppState,
    project: &ProjectName,
    req: &RepoRequest,
) -> Result<Repository, ProjectError> {
    let name = req.repository.clone().unwrap_or_else(|| "debian".into());
    check_simple_name("repository", &name)?;
    let snapshot = match (&req.snapshot, req.mirrors.is_empty()) {
        (Some(s), true) => snapshot::get(st, s)?.id,
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
        vec![st.host_arch.clone()]
    } else {
        req.arches.clone()
    };
    let session = st.store.session();
    for a in &arches {
        // Validates the prjconf (errors carry file:line) for every architecture.
        derive::parse_prjconf(st, &req.prjconf.name, &req.prjconf.text, a, &session)?;
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
    let mut path = Vec::new();
    for p in &req.path {
        let pn = ProjectName::parse(p)?;
        if &pn == project {
            return Err(ProjectError::Invalid(format!(
                "project {p} cannot be in its own path"
            )));
        }
        if tables::project(st, &pn)?.is_none() {
            return Err(ProjectError::NotFound(format!(
                "path project {p:?} does not exist"
            )));
        }
        path.push(pn);
    }
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

pub fn create(st: &AppState, req: &CreateRequest) -> Result<Project, ProjectError> {
    let name = ProjectName::parse(&req.name)?;
    if tables::project(st, &name)?.is_some() {
        return Err(ProjectError::Conflict(format!(
            "project {name} exists already"
        )));
    }
    let repo = make_repo(st, &name, &req.repo)?;
    let p = Project {
        name,
        description: req.description.clone(),
        repositories: vec![repo],
        publish: req.publish,
        created: st.clock.now(),
        private: req.private,
        roles: Vec::new(),
    };
    tables::put_project(st, &p)?;
    st.scheduler.evaluate_now(st, &p.name);
    Ok(p)
}

/// Add or replace a repository (`cryo project repo-add`).
pub fn set_repository(
    st: &AppState,
    project: &str,
    req: &RepoRequest,
) -> Result<Project, ProjectError> {
    let mut p = get(st, project)?;
    let repo = make_repo(st, &p.name, req)?;
    match p.repositories.iter_mut().find(|r| r.name == repo.name) {
        Some(r) => *r = repo,
        None => p.repositories.push(repo),
    }
    tables::put_project(st, &p)?;
    st.scheduler.evaluate_now(st, &p.name);
    Ok(p)
}

/// Replace a repository's prjconf (`cryo project config --set`).
pub fn set_config(
    st: &AppState,
    project: &str,
    repo: Option<&str>,
    prjconf: &PrjconfText,
) -> Result<Project, ProjectError> {
    let mut p = get(st, project)?;
    let name = p.name.clone();
    let r = find_repo(&mut p, repo)?;
    let session = st.store.session();
    for a in &r.arches {
        derive::parse_prjconf(st, &prjconf.name, &prjconf.text, a, &session)?;
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
    r.prjconf = text.digest;
    r.prjconf_name = prjconf.name.clone();
    tables::put_project(st, &p)?;
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
    st: &AppState,
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
    st: &AppState,
    project: &str,
    allow_expired: bool,
) -> Result<Vec<String>, ProjectError> {
    let mut p = get(st, project)?;
    let mut changed = Vec::new();
    for r in &mut p.repositories {
        if r.mirrors.is_empty() {
            continue;
        }
        let id = sync_mirrors(st, &r.mirrors, allow_expired)?;
        if id != r.snapshot {
            st.store
                .add_root(&root_name(&p.name, &format!("{}/snapshot", r.name)), &id)?;
            r.snapshot = id;
            changed.push(r.name.clone());
        }
    }
    tables::put_project(st, &p)?;
    st.scheduler.evaluate_now(st, &p.name);
    Ok(changed)
}

pub fn delete(st: &AppState, project: &str) -> Result<(), ProjectError> {
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
    if let Err(e) = crate::publish::manifest::delete_project(st, &p.name) {
        tracing::warn!(project = %p.name, error = %e, "removing publications");
    }
    crate::publish::keys::remove(st, &p.name);
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
fn revision_digest(files: &std::collections::BTreeMap<String, B3Digest>) -> B3Digest {
    let mut text = String::new();
    for (n, d) in files {
        text.push_str(&format!("{n} {d}\n"));
    }
    B3Digest::of(text.as_bytes())
}

/// Outcome of `package add` / `commit`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitOutcome {
    pub project: String,
    pub package: String,
    /// False when the source equals the latest revision (nothing scheduled).
    pub changed: bool,
    pub revision: Revision,
}

/// Add a package (`create`) or commit a new revision of an existing one.
#[allow(clippy::too_many_arguments)]
pub fn commit(
    st: &AppState,
    project: &str,
    package: Option<&str>,
    spec: &SourceSpec,
    author: &str,
    message: &str,
    create: bool,
) -> Result<CommitOutcome, ProjectError> {
    let p = get(st, project)?;
    let repo = p
        .repositories
        .first()
        .ok_or_else(|| ProjectError::Invalid(format!("project {} has no repository", p.name)))?;
    let snap = snapshot::get(st, &repo.snapshot.to_hex())?;
    let session = st.store.session();
    let src = source::resolve(st, &snap, spec, &session)?;
    let name = package
        .map(str::to_string)
        .unwrap_or_else(|| src.package.package.clone());
    check_simple_name("package", &name)?;
    let existing = tables::package(st, &p.name, &name)?;
    let mut pkg = match (existing, create) {
        (Some(_), true) => {
            return Err(ProjectError::Conflict(format!(
                "package {name} exists in {}; use `cryo commit {} {name} SOURCE -m MSG`",
                p.name, p.name
            )))
        }
        (None, false) => {
            return Err(ProjectError::NotFound(format!(
                "no package {name} in {}; add it with `cryo package add {} SOURCE`",
                p.name, p.name
            )))
        }
        (Some(e), false) => e,
        (None, true) => Package {
            project: p.name.clone(),
            name: name.clone(),
            revisions: Vec::new(),
            rebuilds: 0,
        },
    };
    let digest = revision_digest(&src.files);
    if let Some(last) = pkg.latest() {
        if last.digest == digest {
            return Ok(CommitOutcome {
                project: p.name.to_string(),
                package: name,
                changed: false,
                revision: last.clone(),
            });
        }
    }
    let rev = Revision {
        rev: pkg.revisions.len() as u32 + 1,
        dsc: src.dsc_name.clone(),
        files: src.files.clone(),
        digest,
        source: src.package.package.clone(),
        version: src.package.version.to_string(),
        author: author.to_string(),
        time: st.clock.now(),
        message: message.to_string(),
    };
    // The revision record references its files: rooting it keeps the sources alive.
    let refs: Vec<B3Digest> = rev.files.values().copied().collect();
    let rec = serde_json::to_vec(&rev).expect("serializable");
    let stored = st
        .store
        .put_bytes(&rec, ObjectKind::Blob, &refs, Some(&session))?;
    st.store.add_root(
        &root_name(&p.name, &format!("pkg/{name}/{}", rev.rev)),
        &stored.digest,
    )?;
    pkg.revisions.push(rev.clone());
    tables::put_package(st, &pkg)?;
    st.scheduler.evaluate_now(st, &p.name);
    Ok(CommitOutcome {
        project: p.name.to_string(),
        package: name,
        changed: true,
        revision: rev,
    })
}

pub fn remove_package(st: &AppState, project: &str, package: &str) -> Result<(), ProjectError> {
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

/// The login name of a local uid (for revision authors), else `uid N`.
pub fn user_name(uid: Option<u32>) -> String {
    let Some(uid) = uid else {
        return "anonymous".into();
    };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
            })
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}
