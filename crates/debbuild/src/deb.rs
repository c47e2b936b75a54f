//! Reading `.deb` files on the host without running anything from them: the `control`
//! paragraph, single members of `control.tar.*` (maintainer scripts for the bootstrap's
//! Runscripts) and the extraction of `data.tar.*` into a directory (the Preinstall phase)
//! as the current user, without set-id bits on files, listing what each entry asked for
//! so that owners and modes can be applied later inside a sandbox.
//! A `.deb` is an `ar` archive (`debian-binary`, `control.tar.*`, `data.tar.*`); the
//! members are read with the `ar` and `tar` crates and decompressed as streams.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use cryo_debian::deb822::{self, OwnedParagraph};

/// A binary package file of a build environment: its name and version as the resolver
/// chose them, and where the file is. [`read_control`] checks that the file agrees.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DebFile {
    pub name: String,
    pub version: String,
    pub path: PathBuf,
}

/// Errors of reading a `.deb`.
#[derive(Debug, thiserror::Error)]
pub enum DebError {
    #[error("cannot open {path}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid .deb archive")]
    Ar {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: unsupported .deb format version {found:?} (expected 2.x)")]
    Format { path: PathBuf, found: String },
    #[error("{path}: no {member} member")]
    MissingMember { path: PathBuf, member: &'static str },
    #[error("{path}: member {member} has an unsupported compression")]
    Compression { path: PathBuf, member: String },
    #[error("{path}: cannot read {member}")]
    Member {
        path: PathBuf,
        member: String,
        source: std::io::Error,
    },
    #[error("{path}: invalid control file")]
    Control {
        path: PathBuf,
        source: deb822::Deb822Error,
    },
    #[error("{path}: the control file holds {count} paragraphs, expected 1")]
    ControlParagraphs { path: PathBuf, count: usize },
    #[error("cannot unpack the data of {path} into {dest}")]
    Extract {
        path: PathBuf,
        dest: PathBuf,
        source: std::io::Error,
    },
}

/// Wraps a member reader in the decompressor its name asks for.
fn decoder<'a, R: Read + 'a>(name: &str, r: R) -> Option<Box<dyn Read + 'a>> {
    let ext = name.rsplit_once(".tar").map(|(_, e)| e)?;
    Some(match ext {
        "" => Box::new(r),
        ".xz" => Box::new(liblzma::read::XzDecoder::new(r)),
        ".gz" => Box::new(flate2::read::GzDecoder::new(r)),
        ".zst" => Box::new(zstd::stream::read::Decoder::new(r).ok()?),
        _ => return None,
    })
}

/// Calls `f` with the decompressed stream of the member whose name starts with `prefix`
/// (`control.tar` or `data.tar`).
fn with_member<T>(
    path: &Path,
    prefix: &'static str,
    f: impl FnOnce(&mut dyn Read, &str) -> Result<T, DebError>,
) -> Result<T, DebError> {
    let file = File::open(path).map_err(|source| DebError::Open {
        path: path.into(),
        source,
    })?;
    let mut archive = ar::Archive::new(file);
    let mut first = true;
    while let Some(entry) = archive.next_entry() {
        let mut entry = entry.map_err(|source| DebError::Ar {
            path: path.into(),
            source,
        })?;
        let name = String::from_utf8_lossy(entry.header().identifier()).into_owned();
        if first {
            first = false;
            let mut v = String::new();
            // A version member larger than a few bytes is not a .deb either.
            (&mut entry)
                .take(64)
                .read_to_string(&mut v)
                .map_err(|source| DebError::Ar {
                    path: path.into(),
                    source,
                })?;
            if name != "debian-binary" || !v.starts_with("2.") {
                return Err(DebError::Format {
                    path: path.into(),
                    found: format!("{name}: {}", v.trim_end()),
                });
            }
            continue;
        }
        if name.starts_with(prefix) {
            let Some(mut r) = decoder(&name, entry) else {
                return Err(DebError::Compression {
                    path: path.into(),
                    member: name,
                });
            };
            return f(&mut r, &name);
        }
    }
    Err(DebError::MissingMember {
        path: path.into(),
        member: prefix,
    })
}

/// The files named `wanted` (e.g. `control`, `postinst`) of `control.tar.*`, by name.
pub fn read_control_members(
    path: &Path,
    wanted: &[&str],
) -> Result<BTreeMap<String, Vec<u8>>, DebError> {
    with_member(path, "control.tar", |r, member| {
        let err = |source| DebError::Member {
            path: path.into(),
            member: member.to_owned(),
            source,
        };
        let mut out = BTreeMap::new();
        let mut tar = tar::Archive::new(r);
        for entry in tar.entries().map_err(err)? {
            let mut entry = entry.map_err(err)?;
            let name = entry.path().map_err(err)?.to_string_lossy().into_owned();
            let name = name.trim_start_matches("./");
            if entry.header().entry_type().is_file() && wanted.contains(&name) {
                let name = name.to_owned();
                let mut data = Vec::new();
                entry.read_to_end(&mut data).map_err(err)?;
                out.insert(name, data);
            }
        }
        Ok(out)
    })
}

/// The `control` paragraph of a `.deb`.
pub fn read_control(path: &Path) -> Result<OwnedParagraph, DebError> {
    let members = read_control_members(path, &["control"])?;
    let data = members.get("control").ok_or(DebError::MissingMember {
        path: path.into(),
        member: "control.tar:control",
    })?;
    let control_err = |source| DebError::Control {
        path: path.into(),
        source,
    };
    let text = deb822::as_text(data, None).map_err(control_err)?;
    let paragraphs = deb822::parse(text).map_err(control_err)?;
    match paragraphs.as_slice() {
        [p] => Ok(p.to_owned_paragraph()),
        other => Err(DebError::ControlParagraphs {
            path: path.into(),
            count: other.len(),
        }),
    }
}

/// Unpacks `data.tar.*` of `path` into `dest` like `dpkg-deb -x` does, but as the
/// current user and without set-id bits on anything but directories (see
/// [`extract_data_listing`]). Entries that would land outside `dest` are refused by the
/// `tar` crate.
pub fn extract_data(path: &Path, dest: &Path) -> Result<(), DebError> {
    extract_data_listing(path, dest).map(drop)
}

/// What kind of inode an archive entry is, as far as fixing its owner and mode goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Directory,
    Symlink,
    /// A hard link to the entry at this (normalised, relative) path.
    HardLink(PathBuf),
    /// Regular files and anything else.
    Other,
}

/// One extracted entry of a `data.tar`: its path relative to the destination (`""` for the
/// top directory `./`) and the owner and mode the archive gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataEntry {
    pub path: PathBuf,
    pub kind: EntryKind,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits including set-id and sticky bits (`mode & 0o7777`).
    pub mode: u32,
}

/// `p` without `./`, or `None` if it is absolute or climbs out with `..`.
fn relative(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::Normal(n) => out.push(n),
            _ => return None,
        }
    }
    Some(out)
}

fn entry_meta<R: Read>(e: &tar::Entry<'_, R>) -> std::io::Result<Option<DataEntry>> {
    let h = e.header();
    let Some(path) = relative(&e.path()?) else {
        return Ok(None);
    };
    let kind = match h.entry_type() {
        tar::EntryType::Directory => EntryKind::Directory,
        tar::EntryType::Symlink => EntryKind::Symlink,
        tar::EntryType::Link => match e.link_name()?.as_deref().and_then(relative) {
            Some(target) => EntryKind::HardLink(target),
            None => return Ok(None),
        },
        _ => EntryKind::Other,
    };
    let id = |v: u64| u32::try_from(v).map_err(std::io::Error::other);
    Ok(Some(DataEntry {
        path,
        kind,
        uid: id(h.uid()?)?,
        gid: id(h.gid()?)?,
        mode: h.mode()? & 0o7777,
    }))
}

/// Unpacks `data.tar.*` of `path` into `dest` as the current user (no owners; modes and
/// modification times kept, except that files never get set-id or sticky bits: those are
/// applied inside the sandbox's user namespace, never on the host) and returns every
/// extracted entry with the owner and mode the archive asks for, in archive order
/// (directories last, deepest first, as the `tar` crate unpacks them). This is
/// `tar::Archive::unpack` written out, because that function does not say what it
/// extracted. Entries outside `dest` are skipped, as `tar` does.
pub fn extract_data_listing(path: &Path, dest: &Path) -> Result<Vec<DataEntry>, DebError> {
    with_member(path, "data.tar", |r, _| {
        let err = |source| DebError::Extract {
            path: path.into(),
            dest: dest.into(),
            source,
        };
        let dest = dest.canonicalize().map_err(err)?;
        let mut tar = tar::Archive::new(r);
        tar.set_preserve_permissions(true);
        tar.set_preserve_ownerships(false);
        tar.set_preserve_mtime(true);
        tar.set_overwrite(true);
        tar.set_unpack_xattrs(false);
        let mut out = Vec::new();
        let mut dirs = Vec::new();
        for entry in tar.entries().map_err(err)? {
            let mut entry = entry.map_err(err)?;
            if entry.header().entry_type() == tar::EntryType::Directory {
                dirs.push(entry);
                continue;
            }
            let meta = entry_meta(&entry).map_err(err)?;
            // `mode & 0o777`: a set-id file owned by the daemon (root) must never exist on
            // the host, not even for the moment between writing and chmod.
            entry.set_preserve_permissions(false);
            if entry.unpack_in(&dest).map_err(err)? {
                out.extend(meta);
            }
        }
        // Parents before children would let a read-only directory block its own content.
        dirs.sort_by(|a, b| b.path_bytes().cmp(&a.path_bytes()));
        for mut entry in dirs {
            let meta = entry_meta(&entry).map_err(err)?;
            if entry.unpack_in(&dest).map_err(err)? {
                out.extend(meta);
            }
        }
        Ok(out)
    })
}
