//! Snapshots: the immutable, verified package universe of one or more archives.
//!
//! A snapshot's *record* ([`SnapshotRecord`]) holds exactly the verified inputs: for each
//! archive the signed Release (by BLAKE3), who signed it, its dates, the expiry policy in
//! force, the pin priority and every index (path, SHA256, size, BLAKE3). The snapshot id is
//! the BLAKE3 of the record's canonical JSON, and the record is stored as a store object
//! with exactly that digest (rooted as `snapshot/<id>`). Syncing an unchanged mirror gives
//! the same record, hence the same id. Everything else (URLs, sync time, counts) is
//! metadata in [`SnapshotInfo`].

use std::collections::BTreeMap;

use cryo_debian::deb822;
use cryo_store::B3Digest;

use super::tables::SNAPSHOTS;
use super::MirrorError;
use cryo_store::Store;

/// Encoding version of snapshot records.
pub const SNAPSHOT_FORMAT: &str = "cryo.snapshot/1";

/// A snapshot's records and metadata: the API's types (stored and hashed as before: same
/// fields in the same order, so ids and stored rows do not change).
pub use cryo_store::api::{
    ArchiveRecord, ExpiredAccepted, IndexKind, IndexRecord, SnapshotInfo, SnapshotRecord,
};

/// Save a snapshot's metadata unless it exists already; returns whether it was new.
pub fn save(st: &Store, info: &SnapshotInfo) -> Result<bool, MirrorError> {
    Ok(SNAPSHOTS.insert_new(st.index().database(), info.id.to_hex().as_str(), info)?)
}

/// All snapshots, oldest first.
pub fn list(st: &Store) -> Result<Vec<SnapshotInfo>, MirrorError> {
    let mut out = SNAPSHOTS.all(st.index().database())?;
    out.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// The snapshot with exactly this id, if any.
pub fn find(st: &Store, id: &B3Digest) -> Result<Option<SnapshotInfo>, MirrorError> {
    Ok(SNAPSHOTS.get(st.index().database(), id.to_hex().as_str())?)
}

/// Find a snapshot by id or unique id prefix (at least 8 hex characters).
pub fn get(st: &Store, id: &str) -> Result<SnapshotInfo, MirrorError> {
    let id = id.trim().to_ascii_lowercase();
    if id.len() < 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(MirrorError::Invalid(format!(
            "invalid snapshot id {id:?}: give at least 8 hex characters"
        )));
    }
    let matches: Vec<SnapshotInfo> = list(st)?
        .into_iter()
        .filter(|s| s.id.to_hex().starts_with(&id))
        .collect();
    match matches.len() {
        1 => Ok(matches.into_iter().next().expect("one")),
        0 => Err(MirrorError::UnknownSnapshot(id)),
        n => Err(MirrorError::Invalid(format!(
            "snapshot id prefix {id:?} is ambiguous ({n} snapshots)"
        ))),
    }
}

/// The raw stanzas named `name` in one index's queryable form.
pub fn stanzas(st: &Store, index: &B3Digest, name: &str) -> Result<Option<String>, MirrorError> {
    super::indexstore::stanzas(st, index, name)
}

/// Every package name of an index.
pub fn names(st: &Store, index: &B3Digest) -> Result<Vec<String>, MirrorError> {
    super::indexstore::names(st, index)
}

/// name → version for every stanza of an index (for diffs): highest version per name.
pub fn versions(st: &Store, index: &B3Digest) -> Result<BTreeMap<String, String>, MirrorError> {
    let mut best: BTreeMap<String, cryo_debian::version::Version> = BTreeMap::new();
    super::indexstore::for_each_chunk(st, index, |chunk| {
        for p in deb822::paragraphs(chunk).flatten() {
            let (Some(name), Some(ver)) = (
                p.get("Package"),
                p.get("Version")
                    .and_then(|s| s.parse::<cryo_debian::version::Version>().ok()),
            ) else {
                continue;
            };
            if best.get(name).is_none_or(|b| &ver > b) {
                best.insert(name.to_string(), ver);
            }
        }
        Ok(())
    })?;
    Ok(best.into_iter().map(|(n, v)| (n, v.to_string())).collect())
}
