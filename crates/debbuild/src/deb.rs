//! Reading `.deb` files on the host without running anything from them: the `control`
//! paragraph, single members of `control.tar.*` (maintainer scripts for the bootstrap's
//! Runscripts) and the extraction of `data.tar.*` into a directory (the Preinstall phase).
//! A `.deb` is an `ar` archive (`debian-binary`, `control.tar.*`, `data.tar.*`); the
//! members are read with the `ar` and `tar` crates and decompressed as streams.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

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

/// Unpacks `data.tar.*` of `path` into `dest` the way `dpkg-deb -x` does (permissions,
/// modification times, and with `preserve_owners` the numeric owners of the archive).
/// Entries that would land outside `dest` are refused by the `tar` crate.
pub fn extract_data(path: &Path, dest: &Path, preserve_owners: bool) -> Result<(), DebError> {
    with_member(path, "data.tar", |r, _| {
        let mut tar = tar::Archive::new(r);
        tar.set_preserve_permissions(true);
        tar.set_preserve_ownerships(preserve_owners);
        tar.set_preserve_mtime(true);
        tar.set_overwrite(true);
        tar.set_unpack_xattrs(false);
        tar.unpack(dest).map_err(|source| DebError::Extract {
            path: path.into(),
            dest: dest.into(),
            source,
        })
    })
}
