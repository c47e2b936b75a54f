//! `cryo mirror sync`: turn one or more archives into a snapshot.
//!
//! Per archive: fetch `InRelease` (else `Release` + `Release.gpg`), verify the signature
//! with the archive's keyring, parse only the verified text, check the suite and
//! `Valid-Until` (with the injected clock and an explicit expiry policy), then fetch each
//! configured index (prefer `.xz`, then `.gz`, then plain), check its size and SHA256
//! against the signed list, store the raw bytes, and write its queryable form. Nothing is
//! recorded for an archive that fails any check.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use cryo_debian::compression;
use cryo_debian::deb822;
use cryo_debian::openpgp::{self, Keyring};
use cryo_debian::release::{ExpiryPolicy, Release, Validity};
use cryo_store::{ObjectKind, Session};

use super::config::{MirrorConfig, MirrorExt};
use super::fetch::{self, FetchFailure, Retry};
use super::snapshot::{
    self, ArchiveRecord, ExpiredAccepted, IndexKind, IndexRecord, SnapshotInfo, SnapshotRecord,
    SNAPSHOT_FORMAT,
};
use super::tables::SHA256_MAP;
use super::MirrorError;
use cryo_store::Store;

/// Largest Release file accepted.
const MAX_RELEASE: u64 = 64 << 20;
/// Largest compressed index accepted.
const MAX_INDEX: u64 = 1 << 30;
/// Largest decompressed index accepted.
const MAX_INDEX_TEXT: u64 = 4 << 30;

/// Options of one sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Accept expired `Valid-Until` (recorded in the snapshot).
    pub allow_expired: bool,
    /// The clock (unix seconds) used for `Valid-Until`.
    pub now: i64,
}

/// What a sync produced, and its per-archive summary: the API's types.
pub use cryo_store::api::{ArchiveSummary, SyncOutcome};

fn release_text(
    m: &MirrorConfig,
    keyring: &Keyring,
) -> Result<(Vec<u8>, String, Vec<String>, String), MirrorError> {
    let sig_err = |file: &str, e: String| MirrorError::Signature {
        archive: m.name.clone(),
        file: file.to_string(),
        message: e,
    };
    let url = m.dist_url("InRelease");
    match fetch::fetch_bytes(&url, MAX_RELEASE, Retry::default()) {
        Ok(bytes) => {
            let v = openpgp::verify_clearsigned(&bytes, keyring)
                .map_err(|e| sig_err(&url, e.to_string()))?;
            let signers = v.signers.valid.iter().map(|f| f.to_string()).collect();
            Ok((bytes, v.text, signers, "InRelease".into()))
        }
        Err(FetchFailure::NotFound) => {
            let rurl = m.dist_url("Release");
            let gurl = m.dist_url("Release.gpg");
            let rel =
                fetch::fetch_bytes(&rurl, MAX_RELEASE, Retry::default()).map_err(|f| match f {
                    FetchFailure::NotFound => MirrorError::Fetch {
                        url: m.dist_url(""),
                        message: "neither InRelease nor Release exists: is the suite right?".into(),
                    },
                    other => fetch::to_error(&rurl, other),
                })?;
            let sig =
                fetch::fetch_bytes(&gurl, MAX_RELEASE, Retry::default()).map_err(|f| match f {
                    FetchFailure::NotFound => sig_err(
                        &gurl,
                        "Release is not signed (no InRelease, no Release.gpg)".into(),
                    ),
                    other => fetch::to_error(&gurl, other),
                })?;
            let signers = openpgp::verify_detached(&rel, &sig, keyring)
                .map_err(|e| sig_err(&gurl, e.to_string()))?;
            let text = String::from_utf8(rel.clone())
                .map_err(|_| sig_err(&rurl, "Release is not UTF-8".into()))?;
            Ok((
                rel,
                text,
                signers.valid.iter().map(|f| f.to_string()).collect(),
                "Release".into(),
            ))
        }
        Err(other) => Err(fetch::to_error(&url, other)),
    }
}

/// Sync `mirrors` (in the given order) into one snapshot.
pub fn sync(
    st: &Store,
    mirrors: &[MirrorConfig],
    opts: &SyncOptions,
) -> Result<SyncOutcome, MirrorError> {
    let session = st.session();
    let mut archives = Vec::new();
    let mut summaries = Vec::new();
    let mut expired = Vec::new();
    let mut urls = BTreeMap::new();
    for m in mirrors {
        let (rec, summary, exp) = sync_archive(st, m, opts, &session)?;
        archives.push(rec);
        summaries.push(summary);
        expired.extend(exp);
        urls.insert(m.name.clone(), m.url.clone());
    }
    let record = SnapshotRecord {
        format: SNAPSHOT_FORMAT.into(),
        archives,
    };
    let refs: Vec<_> = record
        .archives
        .iter()
        .flat_map(|a| std::iter::once(a.release).chain(a.indices.iter().map(|i| i.blake3)))
        .collect();
    let stored = st.put_bytes(&record.encode(), ObjectKind::Record, &refs, Some(&session))?;
    let id = stored.digest;
    debug_assert_eq!(id, record.id());
    st.add_root(&format!("snapshot/{id}"), &id)?;
    if let Some(existing) = snapshot::find(st, &id)? {
        // Same verified inputs: same snapshot, nothing else to do.
        return Ok(SyncOutcome {
            snapshot: id.to_hex(),
            new: false,
            archives: summaries,
            binary_packages: existing.binary_packages,
            source_packages: existing.source_packages,
            expired_accepted: expired,
        });
    }
    let (binary_packages, source_packages) = count_packages(st, &record)?;
    let info = SnapshotInfo {
        id,
        record,
        created: opts.now,
        urls,
        expired_accepted: expired.clone(),
        binary_packages,
        source_packages,
    };
    let new = snapshot::save(st, &info)?;
    Ok(SyncOutcome {
        snapshot: id.to_hex(),
        new,
        archives: summaries,
        binary_packages,
        source_packages,
        expired_accepted: expired,
    })
}

/// Distinct binary and source package names across the snapshot's archives.
fn count_packages(st: &Store, r: &SnapshotRecord) -> Result<(u64, u64), MirrorError> {
    let mut bin = BTreeSet::new();
    let mut src = BTreeSet::new();
    for a in &r.archives {
        for i in &a.indices {
            let set = match i.kind {
                IndexKind::Packages => &mut bin,
                IndexKind::Sources => &mut src,
            };
            set.extend(snapshot::names(st, &i.blake3)?);
        }
    }
    Ok((bin.len() as u64, src.len() as u64))
}

type ArchiveResult = (ArchiveRecord, ArchiveSummary, Option<ExpiredAccepted>);

/// A Release whose signature, suite and validity were checked.
struct CheckedRelease {
    raw: Vec<u8>,
    rel: Release,
    signers: Vec<String>,
    release_file: String,
    expired: Option<ExpiredAccepted>,
}

/// Which index files an archive's configuration asks for: (kind, component, arch, path
/// below `dists/<suite>/` without compression suffix).
type Wanted = (IndexKind, String, Option<String>, String);

fn sync_archive(
    st: &Store,
    m: &MirrorConfig,
    opts: &SyncOptions,
    session: &Session,
) -> Result<ArchiveResult, MirrorError> {
    let CheckedRelease {
        raw,
        rel,
        signers,
        release_file,
        expired,
    } = checked_release(st, m, opts)?;
    let release = st
        .put_bytes(&raw, ObjectKind::Blob, &[], Some(session))?
        .digest;
    let (indices, fetched, reused) = fetch_indices(st, m, &rel, session, &wanted_indices(m))?;
    let rec = ArchiveRecord {
        mirror: m.name.clone(),
        suite: m.suite.clone(),
        codename: rel.codename.clone(),
        origin: rel.origin.clone(),
        label: rel.label.clone(),
        version: rel.version.clone(),
        date: rel.date,
        valid_until: rel.valid_until,
        allow_expired: opts.allow_expired,
        priority: m.priority,
        release_file,
        release,
        signers: signers.clone(),
        indices,
    };
    let summary = ArchiveSummary {
        mirror: m.name.clone(),
        suite: m.suite.clone(),
        signers,
        date: rel.date,
        valid_until: rel.valid_until,
        indices_fetched: fetched,
        indices_reused: reused,
    };
    Ok((rec, summary, expired))
}

/// Fetch the (In)Release file, check its signature against the mirror's keyring, that it
/// is for the configured suite, and its `Valid-Until`.
fn checked_release(
    st: &Store,
    m: &MirrorConfig,
    opts: &SyncOptions,
) -> Result<CheckedRelease, MirrorError> {
    let keyring_bytes = st.read(&m.keyring)?;
    let keyring = Keyring::from_bytes(&keyring_bytes).map_err(|e| MirrorError::Signature {
        archive: m.name.clone(),
        file: "keyring".into(),
        message: e.to_string(),
    })?;
    let (raw, text, signers, release_file) = release_text(m, &keyring)?;
    let rel = Release::parse(&text).map_err(|e| MirrorError::Parse {
        archive: m.name.clone(),
        path: release_file.clone(),
        message: e.to_string(),
    })?;
    let names = [rel.suite.as_deref(), rel.codename.as_deref()];
    if !names.contains(&Some(m.suite.as_str())) {
        return Err(MirrorError::Integrity {
            archive: m.name.clone(),
            path: release_file,
            message: format!(
                "signed Release is for suite {:?} / codename {:?}, not {:?}",
                rel.suite.unwrap_or_default(),
                rel.codename.unwrap_or_default(),
                m.suite
            ),
        });
    }
    let policy = if opts.allow_expired {
        ExpiryPolicy::AllowExpired
    } else {
        ExpiryPolicy::Enforce
    };
    let validity = rel
        .check_valid_until(opts.now, policy)
        .map_err(|e| MirrorError::Expired {
            archive: m.name.clone(),
            message: format!(
                "{e}; a frozen EOL mirror can be snapshotted with --allow-expired, which is recorded in the snapshot"
            ),
        })?;
    let expired = match validity {
        Validity::ExpiredAccepted { valid_until, now } => Some(ExpiredAccepted {
            mirror: m.name.clone(),
            valid_until,
            checked_at: now,
        }),
        _ => None,
    };
    Ok(CheckedRelease {
        raw,
        rel,
        signers,
        release_file,
        expired,
    })
}

fn wanted_indices(m: &MirrorConfig) -> Vec<Wanted> {
    let mut wanted: Vec<Wanted> = Vec::new();
    for c in &m.components {
        for a in &m.arches {
            wanted.push((
                IndexKind::Packages,
                c.clone(),
                Some(a.clone()),
                format!("{c}/binary-{a}/Packages"),
            ));
        }
        if m.sources {
            wanted.push((
                IndexKind::Sources,
                c.clone(),
                None,
                format!("{c}/source/Sources"),
            ));
        }
    }
    wanted
}

/// Fetch (or reuse) every wanted index; returns the records and how many were fetched
/// and reused.
fn fetch_indices(
    st: &Store,
    m: &MirrorConfig,
    rel: &Release,
    session: &Session,
    wanted: &[Wanted],
) -> Result<(Vec<IndexRecord>, u64, u64), MirrorError> {
    let mut indices = Vec::new();
    let (mut fetched, mut reused) = (0, 0);
    // Index fetching and parsing run in parallel (decompression dominates).
    let results: Vec<Result<(IndexRecord, bool), MirrorError>> = std::thread::scope(|s| {
        let handles: Vec<_> = wanted
            .iter()
            .map(|(kind, comp, arch, base)| {
                let job = IndexJob {
                    kind: *kind,
                    component: comp,
                    arch: arch.as_deref(),
                    base,
                };
                s.spawn(move || fetch_index(st, m, rel, session, job))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(MirrorError::Invalid("index worker panicked".into())))
            })
            .collect()
    });
    for r in results {
        let (rec, was_fetched) = r?;
        if was_fetched {
            fetched += 1;
        } else {
            reused += 1;
        }
        indices.push(rec);
    }
    Ok((indices, fetched, reused))
}

pub fn known_blake3(st: &Store, sha256: &str) -> Result<Option<cryo_store::B3Digest>, MirrorError> {
    let db = st.index().database();
    let tx = redb::ReadableDatabase::begin_read(db.as_ref())?;
    let t = match tx.open_table(SHA256_MAP) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some(v) = t.get(sha256)? else {
        return Ok(None);
    };
    let d: cryo_store::B3Digest = v.value().parse().map_err(MirrorError::Sha256Map)?;
    Ok(st.contains(&d)?.then_some(d))
}

/// Record that content with `sha256` is stored as `blake3`.
pub fn remember_sha256(
    st: &Store,
    sha256: &str,
    blake3: &cryo_store::B3Digest,
) -> Result<(), MirrorError> {
    let db = st.index().database();
    let tx = db.begin_write()?;
    tx.open_table(SHA256_MAP)?
        .insert(sha256, blake3.to_hex().as_str())?;
    tx.commit()?;
    Ok(())
}

fn is_indexed(st: &Store, d: &cryo_store::B3Digest) -> Result<bool, MirrorError> {
    super::indexstore::is_indexed(st, d)
}

/// One index to fetch: `base` is the path without compression suffix.
struct IndexJob<'a> {
    kind: IndexKind,
    component: &'a str,
    arch: Option<&'a str>,
    base: &'a str,
}

impl IndexJob<'_> {
    /// The record of this index stored as `blake3`.
    fn record(
        &self,
        path: String,
        sha256: String,
        size: u64,
        blake3: cryo_store::B3Digest,
    ) -> IndexRecord {
        IndexRecord {
            kind: self.kind,
            component: self.component.into(),
            arch: self.arch.map(str::to_string),
            path,
            sha256,
            size,
            blake3,
        }
    }
}

fn fetch_index(
    st: &Store,
    m: &MirrorConfig,
    rel: &Release,
    session: &Session,
    job: IndexJob<'_>,
) -> Result<(IndexRecord, bool), MirrorError> {
    let base = job.base;
    let listed: Vec<String> = [".xz", ".gz", ""]
        .iter()
        .map(|ext| format!("{base}{ext}"))
        .filter(|p| rel.sha256.contains_key(p))
        .collect();
    if listed.is_empty() {
        return Err(MirrorError::Integrity {
            archive: m.name.clone(),
            path: base.to_string(),
            message: "the signed Release lists no such index (check --component/--arch)".into(),
        });
    }
    let mut last_missing = None;
    for path in listed {
        let entry = &rel.sha256[&path];
        let sha_hex = entry.digest.to_string();
        // Unchanged index already verified and parsed: no new work.
        if let Some(b3) = known_blake3(st, &sha_hex)? {
            if is_indexed(st, &b3)? && st.hold(session, &b3).is_ok() {
                return Ok((job.record(path, sha_hex, entry.size, b3), false));
            }
        }
        let url = m.dist_url(&path);
        let t0 = std::time::Instant::now();
        let Some(bytes) = fetch_verified(m, &path, &url, entry.size, &sha_hex)? else {
            last_missing = Some(url);
            continue;
        };
        let b3 = ingest(st, m, session, job.kind, &path, &sha_hex, &bytes, t0)?;
        return Ok((job.record(path, sha_hex, entry.size, b3), true));
    }
    Err(MirrorError::Fetch {
        url: last_missing.unwrap_or_else(|| m.dist_url(base)),
        message: "the index listed in the signed Release is missing on the mirror".into(),
    })
}

/// The bytes of index `path` fetched from `url`, checked against the signed size and
/// SHA256; `None` when the mirror does not have it.
fn fetch_verified(
    m: &MirrorConfig,
    path: &str,
    url: &str,
    size: u64,
    sha_hex: &str,
) -> Result<Option<Vec<u8>>, MirrorError> {
    let bytes = match fetch::fetch_bytes(url, MAX_INDEX, Retry::default()) {
        Ok(b) => b,
        Err(FetchFailure::NotFound) => return Ok(None),
        Err(f) => return Err(fetch::to_error(url, f)),
    };
    let integrity = |message: String| MirrorError::Integrity {
        archive: m.name.clone(),
        path: path.to_string(),
        message,
    };
    if bytes.len() as u64 != size {
        return Err(integrity(format!(
            "size {} differs from the signed size {size} ({url})",
            bytes.len(),
        )));
    }
    let got = hex::encode(Sha256::digest(&bytes));
    if got != sha_hex {
        return Err(integrity(format!(
            "SHA256 {got} differs from the signed {sha_hex} ({url}); nothing was stored"
        )));
    }
    Ok(Some(bytes))
}

/// Store the verified index `bytes`, parse them into the per-name index and remember
/// their SHA256; returns the stored digest. `t0` is when the fetch started (for the log).
#[allow(clippy::too_many_arguments)]
fn ingest(
    st: &Store,
    m: &MirrorConfig,
    session: &Session,
    kind: IndexKind,
    path: &str,
    sha_hex: &str,
    bytes: &[u8],
    t0: std::time::Instant,
) -> Result<cryo_store::B3Digest, MirrorError> {
    // Store the verified raw bytes first: the store's index write then never queues
    // behind another index's bulk write.
    let t_fetched = t0.elapsed();
    let stored = st.put_bytes(bytes, ObjectKind::Blob, &[], Some(session))?;
    let t_store = t0.elapsed() - t_fetched;
    let text = compression::decompress(bytes, Some(path), MAX_INDEX_TEXT).map_err(|e| {
        MirrorError::Integrity {
            archive: m.name.clone(),
            path: path.to_string(),
            message: format!("cannot decompress: {e}"),
        }
    })?;
    let text = deb822::as_text(&text, Some(path)).map_err(|e| MirrorError::Parse {
        archive: m.name.clone(),
        path: path.to_string(),
        message: e.to_string(),
    })?;
    let grouped = group_stanzas(text, kind).map_err(|message| MirrorError::Parse {
        archive: m.name.clone(),
        path: path.to_string(),
        message,
    })?;
    let t_parse = t0.elapsed();
    super::indexstore::write(st, &stored.digest, &grouped)?;
    remember_sha256(st, sha_hex, &stored.digest)?;
    tracing::info!(
        archive = %m.name,
        %path,
        names = grouped.len(),
        fetch_verify_parse_ms = (t_parse - t_store).as_millis() as u64,
        store_ms = t_store.as_millis() as u64,
        index_ms = (t0.elapsed() - t_parse).as_millis() as u64,
        "index ingested"
    );
    Ok(stored.digest)
}

/// Stanzas of one index grouped by package name (in name order; stanzas of one name in
/// file order). Values borrow from the index text where possible.
use super::indexstore::Grouped;

/// `part` as a slice of `text` with `text`'s lifetime, if it points into it.
fn rebase<'a>(text: &'a str, part: &str) -> Option<&'a str> {
    let base = text.as_ptr() as usize;
    let start = part.as_ptr() as usize;
    (start >= base && start + part.len() <= base + text.len())
        .then(|| &text[start - base..start - base + part.len()])
}

/// Validate every stanza and group their raw text by package name.
fn group_stanzas(text: &str, kind: IndexKind) -> Result<Grouped<'_>, String> {
    let base = text.as_ptr() as usize;
    let mut all: Grouped<'_> = Vec::with_capacity(70_000);
    for p in deb822::paragraphs(text) {
        let p = p.map_err(|e| e.to_string())?;
        let name = p
            .get("Package")
            .ok_or_else(|| format!("line {}: stanza without Package field", p.line()))?;
        if p.get("Version").is_none() {
            return Err(format!("line {}: package {name} has no Version", p.line()));
        }
        if kind == IndexKind::Packages && p.get("Filename").is_none() {
            return Err(format!("line {}: package {name} has no Filename", p.line()));
        }
        let fields = p.fields();
        let span = match (fields.first(), fields.last()) {
            (Some(f), Some(l)) => {
                let start = f.name().as_ptr() as usize;
                let v = l.value();
                let end = v.as_ptr() as usize + v.len();
                (start >= base && end <= base + text.len() && start < end)
                    .then(|| (start - base, end - base))
            }
            _ => None,
        };
        let stanza = match span {
            // Borrow the stanza with its terminating blank line when the text has one.
            Some((a, b)) if text[b..].starts_with("\n\n") => {
                std::borrow::Cow::Borrowed(&text[a..b + 2])
            }
            Some((a, b)) => std::borrow::Cow::Owned(format!("{}\n\n", &text[a..b])),
            None => {
                let owned = deb822::write_paragraphs([&p.to_owned_paragraph()]);
                std::borrow::Cow::Owned(format!("{}\n\n", owned.trim_end()))
            }
        };
        let name: std::borrow::Cow<'_, str> = match rebase(text, name) {
            Some(n) => std::borrow::Cow::Borrowed(n),
            None => std::borrow::Cow::Owned(name.to_string()),
        };
        all.push((name, stanza));
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Grouped<'_> = Vec::with_capacity(all.len());
    for (name, stanza) in all {
        match out.last_mut() {
            Some((n, acc)) if *n == name => acc.to_mut().push_str(&stanza),
            _ => out.push((name, stanza)),
        }
    }
    Ok(out)
}
