//! Generations: the manifest of one published repository tree and the publication record
//! (redb table `publications`: `project\0repo` → JSON [`Publication`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use redb::{ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};

use cryo_store::B3Digest;

use super::PublishError;
use super::Publisher;
use crate::project::model::ProjectName;

const PUBLICATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("publications");

/// One file of a published tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub blake3: B3Digest,
    pub size: u64,
}

/// A published tree: relative path → content. Stored as a blob (canonical JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub project: String,
    pub repository: String,
    pub codename: String,
    pub files: BTreeMap<String, Entry>,
}

/// One generation of a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    pub number: u64,
    pub manifest: B3Digest,
    pub created: i64,
    pub packages: usize,
    pub sources: usize,
    /// Identity of the published content (pool files), to skip unchanged publishes.
    #[serde(default)]
    pub content: Option<B3Digest>,
}

/// What is published for one project repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    /// The generation served now.
    pub current: Option<u64>,
    /// Kept generations, oldest first.
    pub generations: Vec<Generation>,
    /// When `current` was last switched (unix seconds, strictly increasing): the
    /// `Last-Modified` of every file served, so `If-Modified-Since` never hides a switch
    /// (not even a rollback to an older generation).
    #[serde(default)]
    pub switched: i64,
}

impl Publication {
    /// Make generation `n` current.
    pub fn switch_to(&mut self, n: u64, now: i64) {
        self.current = Some(n);
        self.switched = now.max(self.switched + 1);
    }

    pub fn current_generation(&self) -> Option<&Generation> {
        let c = self.current?;
        self.generations.iter().find(|g| g.number == c)
    }
}

fn key(project: &ProjectName, repo: &str) -> String {
    format!("{project}\0{repo}")
}

fn db_err(e: impl std::fmt::Display) -> PublishError {
    PublishError::Db(e.to_string())
}

pub fn get(st: &Publisher, project: &ProjectName, repo: &str) -> Result<Publication, PublishError> {
    let db = st.store.index().database();
    let tx = db.begin_read().map_err(db_err)?;
    let t = match tx.open_table(PUBLICATIONS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Publication::default()),
        Err(e) => return Err(db_err(e)),
    };
    match t.get(key(project, repo).as_str()).map_err(db_err)? {
        Some(v) => serde_json::from_slice(v.value()).map_err(db_err),
        None => Ok(Publication::default()),
    }
}

/// The atomic switch: one transaction writes the whole record.
pub fn put(
    st: &Publisher,
    project: &ProjectName,
    repo: &str,
    p: &Publication,
) -> Result<(), PublishError> {
    let db = st.store.index().database();
    let tx = db.begin_write().map_err(db_err)?;
    tx.open_table(PUBLICATIONS)
        .map_err(db_err)?
        .insert(
            key(project, repo).as_str(),
            serde_json::to_vec(p).expect("serializable").as_slice(),
        )
        .map_err(db_err)?;
    tx.commit().map_err(db_err)
}

pub fn delete_project(st: &Publisher, project: &ProjectName) -> Result<(), PublishError> {
    let db = st.store.index().database();
    let tx = db.begin_write().map_err(db_err)?;
    {
        let mut t = tx.open_table(PUBLICATIONS).map_err(db_err)?;
        let prefix = format!("{project}\0");
        let keys: Vec<String> = redb::ReadableTable::range(&t, prefix.as_str()..)
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

/// Decoded manifests by digest (they are immutable), a few at a time.
#[derive(Default)]
pub struct ManifestCache {
    entries: Mutex<Vec<(B3Digest, Arc<Manifest>)>>,
}

impl ManifestCache {
    pub fn get(&self, st: &Publisher, d: &B3Digest) -> Result<Arc<Manifest>, PublishError> {
        if let Some((_, m)) = self
            .entries
            .lock()
            .expect("cache")
            .iter()
            .find(|(k, _)| k == d)
        {
            return Ok(m.clone());
        }
        let bytes = st.store.read(d)?;
        let m: Arc<Manifest> = Arc::new(
            serde_json::from_slice(&bytes)
                .map_err(|e| PublishError::Db(format!("manifest {d}: {e}")))?,
        );
        let mut e = self.entries.lock().expect("cache");
        e.retain(|(k, _)| k != d);
        e.insert(0, (*d, m.clone()));
        e.truncate(32);
        Ok(m)
    }
}
