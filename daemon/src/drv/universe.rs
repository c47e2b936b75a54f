//! A snapshot's binary packages as a resolver universe, built once and cached.

use std::sync::{Arc, Mutex};

use cryo_debian::arch::Arch;
use cryo_debian::deb822;
use cryo_debian::index::BinaryPackage;
use cryo_resolve::{Candidate, Universe};
use cryo_store::B3Digest;
use redb::{ReadableDatabase, ReadableTable};

use super::DrvError;
use crate::mirror::snapshot::{IndexKind, SnapshotInfo};
use crate::mirror::tables::index_table_name;
use crate::mirror::MirrorError;
use crate::state::AppState;

/// Cache key: snapshot id and architecture.
type Key = (B3Digest, String);

/// The most recently used universes (snapshot id, arch) → universe.
#[derive(Default)]
pub struct UniverseCache {
    entries: Mutex<Vec<(Key, Arc<Universe>)>>,
}

const CACHE_SIZE: usize = 2;

impl UniverseCache {
    /// The universe of `snap` for `arch`, building it on a miss.
    pub fn get(
        &self,
        st: &AppState,
        snap: &SnapshotInfo,
        arch: &str,
    ) -> Result<Arc<Universe>, DrvError> {
        let key = (snap.id, arch.to_string());
        if let Some((_, u)) = self
            .entries
            .lock()
            .expect("cache")
            .iter()
            .find(|(k, _)| *k == key)
        {
            return Ok(u.clone());
        }
        let u = Arc::new(build(st, snap, arch)?);
        let mut e = self.entries.lock().expect("cache");
        e.retain(|(k, _)| *k != key);
        e.insert(0, (key, u.clone()));
        e.truncate(CACHE_SIZE);
        Ok(u)
    }
}

fn build(st: &AppState, snap: &SnapshotInfo, arch: &str) -> Result<Universe, DrvError> {
    let host: Arch = arch
        .parse()
        .map_err(|e| DrvError::Invalid(format!("architecture {arch:?}: {e}")))?;
    let db = st.store.index().database();
    let tx = db.begin_read().map_err(MirrorError::from)?;
    let mut cands = Vec::new();
    for a in &snap.record.archives {
        for i in a.indices.iter().filter(|i| i.kind == IndexKind::Packages) {
            if i.arch.as_deref() != Some(arch) {
                continue;
            }
            let tname = index_table_name(&i.blake3.to_hex());
            let def: redb::TableDefinition<&str, &str> = redb::TableDefinition::new(&tname);
            let t = tx.open_table(def).map_err(MirrorError::from)?;
            for item in t.iter().map_err(MirrorError::from)? {
                let (_, v) = item.map_err(MirrorError::from)?;
                for p in deb822::paragraphs(v.value()) {
                    let p = p.map_err(|e| MirrorError::Db(e.to_string()))?;
                    let pkg =
                        BinaryPackage::from_paragraph(&p).map_err(|e| MirrorError::Parse {
                            archive: a.mirror.clone(),
                            path: i.path.clone(),
                            message: e.to_string(),
                        })?;
                    cands.push(Candidate {
                        pkg,
                        origin: a.mirror.clone(),
                        priority: a.priority,
                    });
                }
            }
        }
    }
    if cands.is_empty() {
        return Err(DrvError::Invalid(format!(
            "snapshot {} has no binary packages for {arch}",
            snap.id
        )));
    }
    Universe::new(cands, host).map_err(|e| DrvError::Invalid(e.to_string()))
}
