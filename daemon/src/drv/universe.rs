//! A snapshot's binary packages as a resolver universe, built once and cached.

use std::sync::{Arc, Mutex};

use cryo_debian::arch::Arch;
use cryo_debian::deb822;
use cryo_debian::index::BinaryPackage;
use cryo_resolve::{Candidate, Universe};
use cryo_store::B3Digest;

use super::DrvError;
use crate::mirror::snapshot::{IndexKind, SnapshotInfo};
use crate::mirror::MirrorError;
use cryo_store::Store;

/// Cache key: snapshot id and architecture.
type Key = (B3Digest, String);

/// The most recently used universes (snapshot id, arch) → universe, the snapshot's
/// candidates (to combine with packages built by projects), and universes extended with
/// such packages (keyed by the snapshot, arch and a hash of the extra packages).
#[derive(Default)]
pub struct UniverseCache {
    entries: Mutex<Vec<(Key, Arc<Universe>)>>,
    candidates: Mutex<Vec<(Key, Arc<Vec<Candidate>>)>>,
    extended: Mutex<Vec<(Key, Arc<Universe>)>>,
}

const CACHE_SIZE: usize = 2;
const EXTENDED_CACHE_SIZE: usize = 16;

fn lookup<T: Clone>(list: &Mutex<Vec<(Key, T)>>, key: &Key) -> Option<T> {
    let l = list.lock().expect("cache");
    l.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

fn remember<T>(list: &Mutex<Vec<(Key, T)>>, key: Key, v: T, size: usize) {
    let mut l = list.lock().expect("cache");
    l.retain(|(k, _)| *k != key);
    l.insert(0, (key, v));
    l.truncate(size);
}

impl UniverseCache {
    /// The universe of `snap` for `arch`, building it on a miss.
    pub fn get(
        &self,
        st: &Store,
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
        let cands = self.candidates(st, snap, arch)?;
        let u = Arc::new(universe((*cands).clone(), arch)?);
        remember(&self.entries, key, u.clone(), CACHE_SIZE);
        Ok(u)
    }

    /// The universe of `snap` for `arch` plus `extras` (packages built by projects, whose
    /// higher priority makes them win over the snapshot's packages of the same name).
    pub fn get_with(
        &self,
        st: &Store,
        snap: &SnapshotInfo,
        arch: &str,
        extras: &[Candidate],
    ) -> Result<Arc<Universe>, DrvError> {
        if extras.is_empty() {
            return self.get(st, snap, arch);
        }
        let mut h = blake3::Hasher::new();
        for c in extras {
            h.update(c.origin.as_bytes());
            h.update(&c.priority.to_le_bytes());
            h.update(
                c.pkg
                    .sha256
                    .as_ref()
                    .map(|d| d.to_string())
                    .unwrap_or_default()
                    .as_bytes(),
            );
            h.update(b"\0");
        }
        let key = (snap.id, format!("{arch}+{}", h.finalize().to_hex()));
        if let Some(u) = lookup(&self.extended, &key) {
            return Ok(u);
        }
        let mut all = (*self.candidates(st, snap, arch)?).clone();
        all.extend(extras.iter().cloned());
        let u = Arc::new(universe(all, arch)?);
        remember(&self.extended, key, u.clone(), EXTENDED_CACHE_SIZE);
        Ok(u)
    }

    fn candidates(
        &self,
        st: &Store,
        snap: &SnapshotInfo,
        arch: &str,
    ) -> Result<Arc<Vec<Candidate>>, DrvError> {
        let key = (snap.id, arch.to_string());
        if let Some(c) = lookup(&self.candidates, &key) {
            return Ok(c);
        }
        let c = Arc::new(load(st, snap, arch)?);
        remember(&self.candidates, key, c.clone(), CACHE_SIZE);
        Ok(c)
    }
}

fn universe(cands: Vec<Candidate>, arch: &str) -> Result<Universe, DrvError> {
    let host: Arch = arch
        .parse()
        .map_err(|e| DrvError::Invalid(format!("architecture {arch:?}: {e}")))?;
    Universe::new(cands, host).map_err(|e| DrvError::Invalid(e.to_string()))
}

fn load(st: &Store, snap: &SnapshotInfo, arch: &str) -> Result<Vec<Candidate>, DrvError> {
    let mut cands = Vec::new();
    for a in &snap.record.archives {
        for i in a.indices.iter().filter(|i| i.kind == IndexKind::Packages) {
            if i.arch.as_deref() != Some(arch) {
                continue;
            }
            crate::mirror::indexstore::for_each_chunk(st, &i.blake3, |chunk| {
                for p in deb822::paragraphs(chunk) {
                    let p = p?;
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
                Ok(())
            })?;
        }
    }
    if cands.is_empty() {
        return Err(DrvError::Invalid(format!(
            "snapshot {} has no binary packages for {arch}",
            snap.id
        )));
    }
    Ok(cands)
}
