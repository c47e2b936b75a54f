//! Tar streams (`control.tar`, `data.tar`): parsing into an entry map with the `tar` crate and
//! comparing entry sets, order and header metadata.
//!
//! Entries are keyed by their normalised path (leading `./` and trailing `/` removed) so that
//! spelling differences are reported as a metadata field, not as a removed plus an added
//! file. Paths are opaque bytes: nothing is ever unpacked, so traversal names (`../x`, `/x`)
//! are harmless here and are shown escaped. File contents are borrowed from the decompressed
//! stream (no copy) except for GNU sparse files, which are expanded with a cap.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Cursor;

use crate::diff::{display_bytes, Category, Detail, DiffNode, FieldScope};
use crate::limits::{LimitKind, Limits};
use cryo_debian::compression::read_at_most;

/// Errors while walking a tar stream.
#[derive(Debug, thiserror::Error)]
pub enum TarError {
    #[error("malformed tar stream at entry #{index}")]
    Malformed {
        index: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("tar entry {path:?} claims {size} bytes beyond the end of the stream")]
    OutOfBounds { path: String, size: u64 },
}

/// One tar entry with the metadata we compare.
#[derive(Debug, Clone)]
pub struct TarEntry<'a> {
    /// The path exactly as stored (after long-name/PAX processing).
    pub raw_path: String,
    pub entry_type: &'static str,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub uname: String,
    pub gname: String,
    pub mtime: u64,
    pub size: u64,
    pub link: Option<String>,
    pub device: Option<(u32, u32)>,
    /// PAX extension records of this entry (key → value, lossy UTF-8).
    pub pax: BTreeMap<String, String>,
    pub content: Cow<'a, [u8]>,
}

/// All entries of one tar stream.
#[derive(Debug, Default)]
pub struct TarListing<'a> {
    /// Normalised path → entry.
    pub entries: BTreeMap<String, TarEntry<'a>>,
    /// Normalised paths in archive order.
    pub order: Vec<String>,
    /// Set when reading stopped at a limit; the listing is then incomplete.
    pub limit: Option<LimitKind>,
}

/// Normalises a tar path: strips leading `./` and `/` runs and a trailing `/`.
pub fn normalise(path: &str) -> String {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    let p = p.strip_suffix('/').unwrap_or(p);
    if p.is_empty() || p == "." {
        ".".to_owned()
    } else {
        p.to_owned()
    }
}

fn type_name(t: tar::EntryType) -> &'static str {
    match t {
        tar::EntryType::Regular | tar::EntryType::Continuous => "file",
        tar::EntryType::Directory => "directory",
        tar::EntryType::Symlink => "symlink",
        tar::EntryType::Link => "hardlink",
        tar::EntryType::Char => "char-device",
        tar::EntryType::Block => "block-device",
        tar::EntryType::Fifo => "fifo",
        tar::EntryType::GNUSparse => "sparse-file",
        _ => "other",
    }
}

/// Parses a complete tar stream held in memory.
pub fn parse<'a>(stream: &'a [u8], limits: &Limits) -> Result<TarListing<'a>, TarError> {
    let mut listing = TarListing::default();
    let mut archive = tar::Archive::new(Cursor::new(stream));
    let malformed = |index, source| TarError::Malformed { index, source };
    let entries = archive.entries().map_err(|e| malformed(0, e))?;
    for (index, entry) in (0u64..).zip(entries) {
        if index >= limits.max_entries {
            listing.limit = Some(LimitKind::Entries);
            break;
        }
        let mut entry = entry.map_err(|e| malformed(index, e))?;
        let raw_path = display_bytes(&entry.path_bytes());
        let header = entry.header().clone();
        let entry_type = type_name(header.entry_type());
        let field = |r: std::io::Result<u64>| r.map_err(|e| malformed(index, e));
        let pax = match entry.pax_extensions().map_err(|e| malformed(index, e))? {
            Some(exts) => exts
                .filter_map(Result::ok)
                .map(|e| (display_bytes(e.key_bytes()), display_bytes(e.value_bytes())))
                .collect(),
            None => BTreeMap::new(),
        };
        let size = entry.size();
        let content: Cow<'a, [u8]> = if header.entry_type().is_gnu_sparse() {
            let (bytes, over) = read_at_most(&mut entry, limits.max_decompressed_size)
                .map_err(|e| malformed(index, e))?;
            if over {
                listing.limit = Some(LimitKind::DecompressedSize);
                break;
            }
            Cow::Owned(bytes)
        } else {
            let start = entry.raw_file_position();
            let end = start.checked_add(size);
            let slice = end.and_then(|end| {
                stream.get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
            });
            match slice {
                Some(s) => Cow::Borrowed(s),
                None => {
                    return Err(TarError::OutOfBounds {
                        path: raw_path,
                        size,
                    })
                }
            }
        };
        let device = match (header.device_major(), header.device_minor()) {
            (Ok(Some(major)), Ok(Some(minor))) if entry_type.ends_with("device") => {
                Some((major, minor))
            }
            _ => None,
        };
        let parsed = TarEntry {
            entry_type,
            mode: header.mode().map_err(|e| malformed(index, e))?,
            uid: field(header.uid())?,
            gid: field(header.gid())?,
            uname: header
                .username_bytes()
                .map(display_bytes)
                .unwrap_or_default(),
            gname: header
                .groupname_bytes()
                .map(display_bytes)
                .unwrap_or_default(),
            mtime: field(header.mtime())?,
            size,
            link: entry.link_name_bytes().map(|l| display_bytes(&l)),
            device,
            pax,
            content,
            raw_path,
        };
        let mut key = normalise(&parsed.raw_path);
        let mut dup = 1;
        while listing.entries.contains_key(&key) {
            dup += 1;
            key = format!("{} (duplicate {dup})", normalise(&parsed.raw_path));
        }
        listing.order.push(key.clone());
        listing.entries.insert(key, parsed);
    }
    Ok(listing)
}

/// PAX keys that only carry timestamps.
fn pax_is_time(key: &str) -> bool {
    matches!(key, "mtime" | "atime" | "ctime" | "LIBARCHIVE.creationtime")
}

/// Compares the headers of one entry present on both sides (not its content).
pub fn compare_entry_headers(ours: &TarEntry<'_>, official: &TarEntry<'_>) -> Vec<DiffNode> {
    use Category::{Content, Metadata};
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let dev = |d: Option<(u32, u32)>| d.map(|(a, b)| format!("{a},{b}")).unwrap_or_default();
    let mut fields: Vec<(String, Category, String, String)> = vec![
        (
            "path spelling".into(),
            Metadata,
            ours.raw_path.clone(),
            official.raw_path.clone(),
        ),
        (
            "type".into(),
            Content,
            ours.entry_type.into(),
            official.entry_type.into(),
        ),
        (
            "mode".into(),
            Content,
            format!("{:o}", ours.mode),
            format!("{:o}", official.mode),
        ),
        (
            "uid".into(),
            Content,
            ours.uid.to_string(),
            official.uid.to_string(),
        ),
        (
            "gid".into(),
            Content,
            ours.gid.to_string(),
            official.gid.to_string(),
        ),
        (
            "uname".into(),
            Content,
            ours.uname.clone(),
            official.uname.clone(),
        ),
        (
            "gname".into(),
            Content,
            ours.gname.clone(),
            official.gname.clone(),
        ),
        (
            "mtime".into(),
            Metadata,
            ours.mtime.to_string(),
            official.mtime.to_string(),
        ),
        (
            "size".into(),
            Content,
            ours.size.to_string(),
            official.size.to_string(),
        ),
        (
            "link target".into(),
            Content,
            opt(&ours.link),
            opt(&official.link),
        ),
        (
            "device".into(),
            Content,
            dev(ours.device),
            dev(official.device),
        ),
    ];
    let keys: std::collections::BTreeSet<&String> =
        ours.pax.keys().chain(official.pax.keys()).collect();
    for key in keys {
        // `path`/`linkpath`/`size` records are already reflected in the fields above.
        if matches!(key.as_str(), "path" | "linkpath" | "size") {
            continue;
        }
        let cat = if pax_is_time(key) { Metadata } else { Content };
        let get = |m: &BTreeMap<String, String>| m.get(key).cloned().unwrap_or_default();
        fields.push((
            format!("pax {key}"),
            cat,
            get(&ours.pax),
            get(&official.pax),
        ));
    }
    fields
        .into_iter()
        .filter(|(_, _, a, b)| a != b)
        .map(|(field, cat, ours, official)| {
            DiffNode::leaf(
                field.clone(),
                cat,
                Detail::Field {
                    scope: FieldScope::TarHeader,
                    field,
                    ours,
                    official,
                },
            )
        })
        .collect()
}

/// Reports the first position where the common entries appear in a different order.
pub fn compare_order(ours: &TarListing<'_>, official: &TarListing<'_>) -> Option<DiffNode> {
    let a: Vec<&String> = ours
        .order
        .iter()
        .filter(|k| official.entries.contains_key(*k))
        .collect();
    let b: Vec<&String> = official
        .order
        .iter()
        .filter(|k| ours.entries.contains_key(*k))
        .collect();
    let pos = a.iter().zip(&b).position(|(x, y)| x != y)?;
    Some(DiffNode::leaf(
        "entry order",
        Category::Metadata,
        Detail::Order {
            position: pos as u64,
            ours: a[pos].clone(),
            official: b[pos].clone(),
        },
    ))
}
