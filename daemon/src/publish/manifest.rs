//! Generations: the manifest of one published repository tree and the publication record
//! (redb table `publications`: `project\0repo` → JSON [`Publication`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use cryo_store::B3Digest;

use super::PublishError;
use super::Publisher;
use crate::project::model::ProjectName;
use crate::table::{self, JsonTable};

const PUBLICATIONS: JsonTable<&str, Publication> = JsonTable::new("publications");

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

/// A stored generation is a daemon row (its fields in the manifest's order); the API's
/// [`cryo_store::api::Generation`] lists the same fields sorted, as the publish answer
/// always had them.
impl From<&Generation> for cryo_store::api::Generation {
    fn from(g: &Generation) -> Self {
        cryo_store::api::Generation {
            content: g.content,
            created: g.created,
            manifest: g.manifest,
            number: g.number,
            packages: g.packages,
            sources: g.sources,
        }
    }
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

pub fn get(st: &Publisher, project: &ProjectName, repo: &str) -> Result<Publication, PublishError> {
    Ok(PUBLICATIONS
        .get(st.store.index().database(), key(project, repo).as_str())?
        .unwrap_or_default())
}

/// The atomic switch: read the record, change it with `f` and write the whole record, in
/// one write transaction (an error from `f` changes nothing).
pub fn update<R>(
    st: &Publisher,
    project: &ProjectName,
    repo: &str,
    f: impl FnOnce(&mut Publication) -> Result<R, PublishError>,
) -> Result<(Publication, R), PublishError> {
    let k = key(project, repo);
    table::write(st.store.index().database(), PUBLICATIONS.name(), |tx| {
        let mut t = PUBLICATIONS.open(tx)?;
        let mut p = t.get(k.as_str())?.unwrap_or_default();
        let r = f(&mut p)?;
        t.put(k.as_str(), &p)?;
        Ok((p, r))
    })
}

pub fn delete_project(st: &Publisher, project: &ProjectName) -> Result<(), PublishError> {
    let prefix = format!("{project}\0");
    table::write(st.store.index().database(), PUBLICATIONS.name(), |tx| {
        let mut t = PUBLICATIONS.open(tx)?;
        for k in t.keys_with_prefix(&prefix)? {
            t.remove(k.as_str())?;
        }
        Ok(())
    })
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
                .map_err(|source| PublishError::Manifest { digest: *d, source })?,
        );
        let mut e = self.entries.lock().expect("cache");
        e.retain(|(k, _)| k != d);
        e.insert(0, (*d, m.clone()));
        e.truncate(32);
        Ok(m)
    }
}
