//! redb tables of the project subsystem: `projects` (name → JSON [`Project`]),
//! `packages` (`project\0package` → JSON [`Package`]) and `results`
//! (`project\0repo\0arch\0package` → JSON [`JobResult`]). Each write is one transaction,
//! so a killed daemon leaves either the old or the new row, never half of a commit.

use super::model::{package_key, JobResult, Package, Project, ProjectName};
use super::ProjectError;
use super::Projects;
use crate::project::model::ResultKey;
use crate::table::{self, JsonTable};

pub const PROJECTS: JsonTable<&str, Project> = JsonTable::new("projects");
pub const PACKAGES: JsonTable<&str, Package> = JsonTable::new("packages");
const RESULTS: JsonTable<&str, JobResult> = JsonTable::new("results");

fn get<T: serde::Serialize + serde::de::DeserializeOwned>(
    st: &Projects,
    t: JsonTable<&'static str, T>,
    key: &str,
) -> Result<Option<T>, ProjectError> {
    Ok(t.get(st.store.index().database(), key)?)
}

/// Rows whose key starts with `prefix`, in key order.
fn scan<T: serde::Serialize + serde::de::DeserializeOwned>(
    st: &Projects,
    t: JsonTable<&'static str, T>,
    prefix: &str,
) -> Result<Vec<T>, ProjectError> {
    Ok(t.scan(st.store.index().database(), prefix)?)
}

pub fn project(st: &Projects, name: &ProjectName) -> Result<Option<Project>, ProjectError> {
    get(st, PROJECTS, name.as_str())
}

pub fn projects(st: &Projects) -> Result<Vec<Project>, ProjectError> {
    scan(st, PROJECTS, "")
}

/// Change a project in one write transaction (read, `f`, write): concurrent changes to
/// the same project cannot overwrite each other. 404 when it does not exist.
pub fn update_project(
    st: &Projects,
    name: &ProjectName,
    f: impl FnOnce(&mut Project) -> Result<(), ProjectError>,
) -> Result<Project, ProjectError> {
    PROJECTS.update(st.store.index().database(), name.as_str(), |old| {
        let mut p =
            old.ok_or_else(|| ProjectError::NotFound(format!("no project {:?}", name.as_str())))?;
        f(&mut p)?;
        Ok(p)
    })
}

/// Delete a project with its packages and results, in one transaction.
pub fn delete_project(st: &Projects, name: &ProjectName) -> Result<(), ProjectError> {
    let prefix = format!("{name}\0");
    table::write(st.store.index().database(), PROJECTS.name(), |tx| {
        PROJECTS.open(tx)?.remove(name.as_str())?;
        let mut t = PACKAGES.open(tx)?;
        for k in t.keys_with_prefix(&prefix)? {
            t.remove(k.as_str())?;
        }
        drop(t);
        let mut t = RESULTS.open(tx)?;
        for k in t.keys_with_prefix(&prefix)? {
            t.remove(k.as_str())?;
        }
        Ok::<_, ProjectError>(())
    })
}

pub fn package(
    st: &Projects,
    project: &ProjectName,
    name: &str,
) -> Result<Option<Package>, ProjectError> {
    get(st, PACKAGES, &package_key(project, name))
}

pub fn packages(st: &Projects, project: &ProjectName) -> Result<Vec<Package>, ProjectError> {
    scan(st, PACKAGES, &format!("{project}\0"))
}

/// Count one forced rebuild (`<B_CNT>`) of `package`, or of every package of
/// `project`, in one write transaction. Returns how many packages were counted.
pub fn count_rebuilds(
    st: &Projects,
    project: &ProjectName,
    package: Option<&str>,
) -> Result<usize, ProjectError> {
    table::write(st.store.index().database(), PACKAGES.name(), |tx| {
        let mut t = PACKAGES.open(tx)?;
        let mut pkgs: Vec<Package> = match package {
            Some(name) => {
                let pk = t.get(package_key(project, name).as_str())?.ok_or_else(|| {
                    ProjectError::NotFound(format!("no package {name} in {project}"))
                })?;
                vec![pk]
            }
            None => t.scan(&format!("{project}\0"))?,
        };
        for pk in &mut pkgs {
            pk.rebuilds += 1;
            t.put(package_key(project, &pk.name).as_str(), pk)?;
        }
        Ok(pkgs.len())
    })
}

/// Remove a package and its results.
pub fn delete_package(
    st: &Projects,
    project: &ProjectName,
    name: &str,
) -> Result<(), ProjectError> {
    let prefix = format!("{project}\0");
    table::write(st.store.index().database(), PACKAGES.name(), |tx| {
        PACKAGES
            .open(tx)?
            .remove(package_key(project, name).as_str())?;
        let mut t = RESULTS.open(tx)?;
        for k in t
            .keys_with_prefix(&prefix)?
            .into_iter()
            .filter(|k| k.rsplit('\0').next() == Some(name))
        {
            t.remove(k.as_str())?;
        }
        Ok::<_, ProjectError>(())
    })
}

pub fn results(st: &Projects, project: &ProjectName) -> Result<Vec<JobResult>, ProjectError> {
    scan(st, RESULTS, &format!("{project}\0"))
}

pub fn all_results(st: &Projects) -> Result<Vec<JobResult>, ProjectError> {
    scan(st, RESULTS, "")
}

pub fn result(st: &Projects, key: &str) -> Result<Option<JobResult>, ProjectError> {
    get(st, RESULTS, key)
}

/// Write result rows and delete others, in one transaction.
pub fn put_results(
    st: &Projects,
    rows: &[JobResult],
    delete: &[String],
) -> Result<(), ProjectError> {
    table::write(st.store.index().database(), RESULTS.name(), |tx| {
        let mut t = RESULTS.open(tx)?;
        for r in rows {
            t.put(r.key().as_str(), r)?;
        }
        for k in delete {
            t.remove(k.as_str())?;
        }
        Ok::<_, ProjectError>(())
    })
}
