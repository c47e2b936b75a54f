//! Queries over a snapshot: a package's versions and relations, and which files a
//! `PKG[=VERSION]` or `src:NAME[=VERSION]` request means.
//!
//! Selection follows apt: per (name, arch) the candidate from the archive with the highest
//! pin priority wins, then the highest version.

use cryo_debian::deb822;
use cryo_debian::index::{BinaryPackage, SourcePackage};
use cryo_debian::version::Version;

use super::dod::PoolFile;
use super::snapshot::{self, IndexKind, SnapshotInfo};
use super::MirrorError;
use cryo_store::Store;

pub use cryo_store::api::PackageEntry;

/// All stanzas named `name` (binary packages and source packages).
pub fn package(
    st: &Store,
    snap: &SnapshotInfo,
    name: &str,
) -> Result<Vec<PackageEntry>, MirrorError> {
    let mut out = Vec::new();
    for a in &snap.record.archives {
        for i in &a.indices {
            let Some(text) = snapshot::stanzas(st, &i.blake3, name)? else {
                continue;
            };
            for p in deb822::paragraphs(&text) {
                let p = p?;
                let arch = match i.kind {
                    IndexKind::Packages => p.get("Architecture").unwrap_or("").to_string(),
                    IndexKind::Sources => "source".to_string(),
                };
                out.push(PackageEntry {
                    kind: i.kind,
                    archive: a.mirror.clone(),
                    index: i.path.clone(),
                    priority: a.priority,
                    version: p.get("Version").unwrap_or("").to_string(),
                    arch,
                    selected: false,
                    fields: p
                        .fields()
                        .iter()
                        .map(|f| (f.name().to_string(), f.multiline()))
                        .collect(),
                });
            }
        }
    }
    mark_selected(&mut out);
    Ok(out)
}

fn mark_selected(entries: &mut [PackageEntry]) {
    let key = |e: &PackageEntry| (e.kind, e.arch.clone());
    let mut keys: Vec<_> = entries.iter().map(key).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let best = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| key(e) == k)
            .max_by(|(ia, a), (ib, b)| {
                let va: Option<Version> = a.version.parse().ok();
                let vb: Option<Version> = b.version.parse().ok();
                // On a tie the archive listed first in the snapshot wins.
                a.priority
                    .cmp(&b.priority)
                    .then(va.cmp(&vb))
                    .then(ib.cmp(ia))
            })
            .map(|(i, _)| i);
        if let Some(i) = best {
            entries[i].selected = true;
        }
    }
}

/// A package request: `NAME`, `NAME=VERSION`, `src:NAME`, `src:NAME=VERSION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub source: bool,
    pub name: String,
    pub version: Option<String>,
}

impl std::str::FromStr for Request {
    type Err = MirrorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (source, rest) = match s.strip_prefix("src:") {
            Some(r) => (true, r),
            None => (false, s),
        };
        let (name, version) = match rest.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (rest, None),
        };
        let ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b));
        if !ok || version.as_deref() == Some("") {
            return Err(MirrorError::Invalid(format!(
                "invalid package request {s:?}: use NAME, NAME=VERSION, src:NAME or src:NAME=VERSION"
            )));
        }
        Ok(Request {
            source,
            name: name.to_string(),
            version,
        })
    }
}

/// The files a request stands for (a .deb, or a .dsc and its files).
pub fn files_for(
    st: &Store,
    snap: &SnapshotInfo,
    req: &Request,
    host_arch: &str,
) -> Result<Vec<PoolFile>, MirrorError> {
    let entries = package(st, snap, &req.name)?;
    let kind = if req.source {
        IndexKind::Sources
    } else {
        IndexKind::Packages
    };
    let mut cands: Vec<&PackageEntry> = entries
        .iter()
        .filter(|e| e.kind == kind)
        .filter(|e| kind == IndexKind::Sources || e.arch == host_arch || e.arch == "all")
        .filter(|e| req.version.as_ref().is_none_or(|v| &e.version == v))
        .collect();
    if cands.is_empty() {
        return Err(not_found(snap, req, &entries, kind, host_arch));
    }
    // Prefer apt's pick, else the highest priority/version among matches.
    cands.sort_by(|a, b| {
        let va: Option<Version> = a.version.parse().ok();
        let vb: Option<Version> = b.version.parse().ok();
        b.selected
            .cmp(&a.selected)
            .then(b.priority.cmp(&a.priority))
            .then(vb.cmp(&va))
    });
    pool_files(cands[0], req.source)
}

/// Why no entry of `kind` matches `req`, naming the versions there are.
fn not_found(
    snap: &SnapshotInfo,
    req: &Request,
    entries: &[PackageEntry],
    kind: IndexKind,
    host_arch: &str,
) -> MirrorError {
    let what = if req.source {
        "source package"
    } else {
        "binary package"
    };
    let avail: Vec<String> = entries
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| format!("{} ({}, {})", e.version, e.arch, e.archive))
        .collect();
    MirrorError::NotFound(match (&req.version, avail.is_empty()) {
        (_, true) => format!("{what} {} is not in snapshot {}", req.name, snap.id),
        (Some(v), false) => format!(
            "{what} {} has no version {v} in snapshot {} (available: {})",
            req.name,
            snap.id,
            avail.join(", ")
        ),
        (None, false) => format!(
            "{what} {} is not available for {host_arch} in snapshot {} (available: {})",
            req.name,
            snap.id,
            avail.join(", ")
        ),
    })
}

/// The pool files of the chosen entry `e`: a source's `.dsc` and files, or one `.deb`.
fn pool_files(e: &PackageEntry, source: bool) -> Result<Vec<PoolFile>, MirrorError> {
    let text = stanza_text(e);
    let para = deb822::paragraphs(&text)
        .next()
        .ok_or(MirrorError::EmptyStanza)??;
    let parse_err = |m: String| MirrorError::Parse {
        archive: e.archive.clone(),
        path: e.index.clone(),
        message: m,
    };
    if source {
        let sp = SourcePackage::from_paragraph(&para).map_err(|x| parse_err(x.to_string()))?;
        let dir = sp
            .directory
            .clone()
            .ok_or_else(|| parse_err(format!("source {} has no Directory", sp.package)))?;
        Ok(sp
            .files
            .iter()
            .map(|f| PoolFile {
                package: format!("src:{}", sp.package),
                version: sp.version.to_string(),
                archive: e.archive.clone(),
                path: format!("{}/{}", dir.trim_end_matches('/'), f.name.as_str()),
                sha256: f.sha256.to_string(),
                size: f.size,
            })
            .collect())
    } else {
        let bp = BinaryPackage::from_paragraph(&para).map_err(|x| parse_err(x.to_string()))?;
        let (Some(path), Some(size), Some(sha)) = (bp.filename.clone(), bp.size, bp.sha256) else {
            return Err(parse_err(format!(
                "{} {} lacks Filename/Size/SHA256",
                bp.package, bp.version
            )));
        };
        Ok(vec![PoolFile {
            package: bp.package.clone(),
            version: bp.version.to_string(),
            archive: e.archive.clone(),
            path,
            sha256: sha.to_string(),
            size,
        }])
    }
}

fn stanza_text(e: &PackageEntry) -> String {
    let mut p = deb822::OwnedParagraph::new();
    for (k, v) in &e.fields {
        // Values came from a parsed stanza, so they are valid field values.
        let _ = p.set(k, v.clone());
    }
    deb822::write_paragraphs([&p])
}
