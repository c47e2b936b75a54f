//! redb tables of the project subsystem: `projects` (name → JSON [`Project`]),
//! `packages` (`project\0package` → JSON [`Package`]) and `results`
//! (`project\0repo\0arch\0package` → JSON [`JobResult`]). Each write is one transaction,
//! so a killed daemon leaves either the old or the new row, never half of a commit.

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::model::{package_key, JobResult, Package, Project, ProjectName};
use super::ProjectError;
use crate::state::AppState;

const PROJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("projects");
const PACKAGES: TableDefinition<&str, &[u8]> = TableDefinition::new("packages");
const RESULTS: TableDefinition<&str, &[u8]> = TableDefinition::new("results");

fn db_err(e: impl std::fmt::Display) -> ProjectError {
    ProjectError::Db(e.to_string())
}

fn decode<T: DeserializeOwned>(what: &str, b: &[u8]) -> Result<T, ProjectError> {
    serde_json::from_slice(b).map_err(|e| ProjectError::Db(format!("{what}: {e}")))
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("serializable")
}

fn get<T: DeserializeOwned>(
    st: &AppState,
    table: TableDefinition<&str, &[u8]>,
    key: &str,
) -> Result<Option<T>, ProjectError> {
    let db = st.store.index().database();
    let tx = db.begin_read().map_err(db_err)?;
    let t = match tx.open_table(table) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(db_err(e)),
    };
    match t.get(key).map_err(db_err)? {
        Some(v) => Ok(Some(decode(key, v.value())?)),
        None => Ok(None),
    }
}

/// Rows whose key starts with `prefix`, in key order.
fn scan<T: DeserializeOwned>(
    st: &AppState,
    table: TableDefinition<&str, &[u8]>,
    prefix: &str,
) -> Result<Vec<T>, ProjectError> {
    let db = st.store.index().database();
    let tx = db.begin_read().map_err(db_err)?;
    let t = match tx.open_table(table) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(db_err(e)),
    };
    let mut out = Vec::new();
    for item in t.range(prefix..).map_err(db_err)? {
        let (k, v) = item.map_err(db_err)?;
        if !k.value().starts_with(prefix) {
            break;
        }
        out.push(decode(k.value(), v.value())?);
    }
    Ok(out)
}

pub fn project(st: &AppState, name: &ProjectName) -> Result<Option<Project>, ProjectError> {
    get(st, PROJECTS, name.as_str())
}

pub fn projects(st: &AppState) -> Result<Vec<Project>, ProjectError> {
    scan(st, PROJECTS, "")
}

pub fn put_project(st: &AppState, p: &Project) -> Result<(), ProjectError> {
    let db = st.store.index().database();
    let tx = db.begin_write().map_err(db_err)?;
    tx.open_table(PROJECTS)
        .map_err(db_err)?
        .insert(p.name.as_str(), encode(p).as_slice())
        .map_err(db_err)?;
    tx.commit().map_err(db_err)
}

/// Delete a project with its packages and results, in one transaction.
pub fn delete_project(st: &AppState, name: &ProjectName) -> Result<(), ProjectError> {
    let db = st.store.index().database();
    let tx = db.begin_write().map_err(db_err)?;
    tx.open_table(PROJECTS)
        .map_err(db_err)?
        .remove(name.as_str())
        .map_err(db_err)?;
    let prefix = format!("{name}\0");
    for def in [PACKAGES, RESULTS] {
        let mut t = tx.open_table(def).map_err(db_err)?;
        let keys: Vec<String> = t
            .range(prefix.as_str()..)
            .map_err(db_err)?
            .map_while(|i| i.ok().map(|(k, _)| k.value().to_string()))
            .take_while(|k| k.starts_with(&prefix))
            .collect();
        for k in keys {
            t.remove(k.as_str()).map_err(db_err)?;
        }
    }
    tx.commit().map_err(db_err)
}

pub fn package(
    st: &AppState,
    project: &ProjectName,
    name: &str,
) -> Result<Option<Package>, ProjectError> {
    get(st, PACKAGES, &package_key(project, name))
}

pub fn packages(st: &AppState, project: &ProjectName) -> Result<Vec<Package>, ProjectError> {
    scan(st, PACKAGES, &format!("{project}\0"))
}

pub fn put_package(st: &AppState, p: &Package) -> Result<(), ProjectError> {
    let db = st.store.index().database();
    let tx = db.begin_write().map_err(db_err)?;
    tx.open_table(PACKAGES)
        .map_err(db_err)?
        .insert(
            package_key(&p.project, &p.name).as_str(),
            encode(p).as_slice(),
        )
        .map_err(db_err)?;
    tx.commit().map_err(db_err)
}

/// Remove a package and its results.
pub fn delete_package(
    st: &AppState,
    project: &ProjectName,
    name: &str,
) -> Result<(), ProjectError> {
    let db = st.store.index().database();
    let tx = db.begin_write().map_err(db_err)?;
    tx.open_table(PACKAGES)
        .map_err(db_err)?
        .remove(package_key(project, name).as_str())
        .map_err(db_err)?;
    {
        let mut t = tx.open_table(RESULTS).map_err(db_err)?;
        let prefix = format!("{project}\0");
        let keys: Vec<String> = t
            .range(prefix.as_str()..)
            .map_err(db_err)?
            .map_while(|i| i.ok().map(|(k, _)| k.value().to_string()))
            .take_while(|k| k.starts_with(&prefix))
            .filter(|k| k.rsplit('\0').next() == Some(name))
            .collect();
        for k in keys {
            t.remove(k.as_str()).map_err(db_err)?;
        }
    }
    tx.commit().map_err(db_err)
}

pub fn results(st: &AppState, project: &ProjectName) -> Result<Vec<JobResult>, ProjectError> {
    scan(st, RESULTS, &format!("{project}\0"))
}

pub fn all_results(st: &AppState) -> Result<Vec<JobResult>, ProjectError> {
    scan(st, RESULTS, "")
}

pub fn result(st: &AppState, key: &str) -> Result<Option<JobResult>, ProjectError> {
    get(st, RESULTS, key)
}

/// Write result rows and delete others, in one transaction.
pub fn put_results(
    st: &AppState,
    rows: &[JobResult],
    delete: &[String],
) -> Result<(), ProjectError> {
    let db = st.store.index().database();
    let tx = db.begin_write().map_err(db_err)?;
    {
        let mut t = tx.open_table(RESULTS).map_err(db_err)?;
        for r in rows {
            t.insert(r.key().as_str(), encode(r).as_slice())
                .map_err(db_err)?;
        }
        for k in delete {
            t.remove(k.as_str()).map_err(db_err)?;
        }
    }
    tx.commit().map_err(db_err)
}
