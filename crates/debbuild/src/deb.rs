//! Reading `.deb` files on the host without running anything from them: the `control`
//! paragraph, single members of `control.tar.*` (maintainer scripts for the bootstrap's
//! Runscripts) and the extraction of `data.tar.*` into a directory (the Preinstall phase)
//! as the current user, without set-id bits on files, listing what each entry asked for
//! so that owners and modes can be applied later inside a sandbox.
//! The container — member order, truncation, decompression with a size cap — is read by
//! [`cryo_debian::deb::DebReader`]; this module reads the tar streams it hands out.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use cryo_debian::compression::DecoderLimits;
use cryo_debian::deb::{DebReadError, DebReader, DecodedMember};
use cryo_debian::deb822::{self, OwnedParagraph};

/// Largest decompressed `control.tar` read (control files and maintainer scripts).
pub const MAX_CONTROL_TAR: u64 = 128 << 20;
/// Largest decompressed `data.tar` unpacked: what one package may write into a root.
pub const MAX_DATA_TAR: u64 = 16 << 30;

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
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The container is not a `.deb` as dpkg reads it (order, truncation, compression,
    /// size caps).
    #[error("{path} is not a valid .deb archive")]
    Ar { path: PathBuf, source: DebReadError },
    #[error("{path}: no {member} member")]
    MissingMember { path: PathBuf, member: &'static str },
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

/// The decompressed stream of one member of a `.deb` file.
type Stream<'a> = DecodedMember<'a, BufReader<File>>;

/// The error for a failure of the container reader on `path`.
fn container(path: &Path) -> impl Fn(DebReadError) -> DebError + '_ {
    move |e| match e {
        DebReadError::Io(source) => DebError::Read {
            path: path.into(),
            source,
        },
        source => DebError::Ar {
            path: path.into(),
            source,
        },
    }
}

fn open(path: &Path) -> Result<DebReader<BufReader<File>>, DebError> {
    let file = File::open(path).map_err(|source| DebError::Open {
        path: path.into(),
        source,
    })?;
    DebReader::new(BufReader::new(file)).map_err(container(path))
}

/// `f` over `stream`; when it fails, the stream's own fault (truncation, corrupt
/// compression, the cap) if it had one, else `layer` of the error.
fn read_stream<T>(
    path: &Path,
    stream: &mut Stream<'_>,
    f: impl FnOnce(&mut Stream<'_>) -> io::Result<T>,
    layer: impl FnOnce(io::Error) -> DebError,
) -> Result<T, DebError> {
    f(stream).map_err(|e| match stream.take_fault() {
        Some(fault) => container(path)(fault),
        None => layer(e),
    })
}

/// The files named `wanted` (e.g. `control`, `postinst`) of `control.tar.*`, by name.
pub fn read_control_members(
    path: &Path,
    wanted: &[&str],
) -> Result<BTreeMap<String, Vec<u8>>, DebError> {
    let mut deb = open(path)?;
    let member = deb.control().map_err(container(path))?;
    let name = member.name();
    let mut stream = member
        .decode(MAX_CONTROL_TAR, &DecoderLimits::default())
        .map_err(container(path))?;
    read_stream(
        path,
        &mut stream,
        |r| control_files(r, wanted),
        |source| DebError::Member {
            path: path.into(),
            member: name,
            source,
        },
    )
}

fn control_files(r: impl Read, wanted: &[&str]) -> io::Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut tar = tar::Archive::new(r);
    for entry in tar.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().into_owned();
        let name = name.trim_start_matches("./");
        if entry.header().entry_type().is_file() && wanted.contains(&name) {
            let name = name.to_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data)?;
            out.insert(name, data);
        }
    }
    Ok(out)
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
/// extracted. Entries outside `dest` are skipped, as `tar` does. At most
/// [`MAX_DATA_TAR`] bytes are unpacked; the members after `data.tar.*` are checked too.
pub fn extract_data_listing(path: &Path, dest: &Path) -> Result<Vec<DataEntry>, DebError> {
    let extract = |source| DebError::Extract {
        path: path.into(),
        dest: dest.into(),
        source,
    };
    let mut deb = open(path)?;
    let canonical = dest.canonicalize().map_err(extract)?;
    let mut stream = deb
        .data()
        .and_then(|m| m.decode(MAX_DATA_TAR, &DecoderLimits::default()))
        .map_err(container(path))?;
    let listing = read_stream(path, &mut stream, |r| unpack(r, &canonical), extract)?;
    drop(stream);
    deb.finish().map_err(container(path))?;
    Ok(listing)
}

/// The body of [`extract_data_listing`] over the decompressed `data.tar` stream.
fn unpack(r: impl Read, dest: &Path) -> io::Result<Vec<DataEntry>> {
    let mut tar = tar::Archive::new(r);
    tar.set_preserve_permissions(true);
    tar.set_preserve_ownerships(false);
    tar.set_preserve_mtime(true);
    tar.set_overwrite(true);
    tar.set_unpack_xattrs(false);
    let mut out = Vec::new();
    let mut dirs = Vec::new();
    for entry in tar.entries()? {
        let mut entry = entry?;
        if entry.header().entry_type() == tar::EntryType::Directory {
            dirs.push(entry);
            continue;
        }
        let meta = entry_meta(&entry)?;
        // `mode & 0o777`: a set-id file owned by the daemon (root) must never exist on
        // the host, not even for the moment between writing and chmod.
        entry.set_preserve_permissions(false);
        if entry.unpack_in(dest)? {
            out.extend(meta);
        }
    }
    // Parents before children would let a read-only directory block its own content.
    dirs.sort_by(|a, b| b.path_bytes().cmp(&a.path_bytes()));
    for mut entry in dirs {
        let meta = entry_meta(&entry)?;
        if entry.unpack_in(dest)? {
            out.extend(meta);
        }
    }
    Ok(out)
}
