//! Trees ↔ tar streams: how directories cross the daemon socket.
//!
//! The client packs a directory as a tar stream; the daemon turns it into a tree without
//! touching its own filesystem (except the store). Export produces a deterministic tar
//! (mtime 0, uid/gid 0, mode 0644/0755). Paths are validated component by component:
//! absolute paths, `..`, and entries below a symlink are refused.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;

use crate::component::PathComponent;
use crate::digest::B3Digest;
use crate::index::ObjectKind;
use crate::store::{Session, Store, StoreError};
use crate::tree::{EntryKind, Tree, TreeEntry};

#[derive(Default)]
struct Dir {
    children: BTreeMap<PathComponent, Node>,
}

enum Node {
    Dir(Dir),
    Leaf(EntryKind),
}

fn components(path: &[u8]) -> Result<Vec<PathComponent>, StoreError> {
    if path.starts_with(b"/") {
        return Err(StoreError::Invalid(format!(
            "tar entry {:?} has an absolute path",
            String::from_utf8_lossy(path)
        )));
    }
    path.split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(|c| {
            PathComponent::new(c).map_err(|e| {
                StoreError::Invalid(format!(
                    "tar entry {:?}: {e}",
                    String::from_utf8_lossy(path)
                ))
            })
        })
        .collect()
}

impl Dir {
    fn dir_mut(&mut self, parts: &[PathComponent], whole: &[u8]) -> Result<&mut Dir, StoreError> {
        let mut cur = self;
        for p in parts {
            let node = cur
                .children
                .entry(p.clone())
                .or_insert_with(|| Node::Dir(Dir::default()));
            cur = match node {
                Node::Dir(d) => d,
                Node::Leaf(_) => {
                    return Err(StoreError::Invalid(format!(
                        "tar entry {:?} is below a non-directory",
                        String::from_utf8_lossy(whole)
                    )))
                }
            };
        }
        Ok(cur)
    }

    fn lookup(&self, parts: &[PathComponent]) -> Option<&EntryKind> {
        let (last, dirs) = parts.split_last()?;
        let mut cur = self;
        for p in dirs {
            match cur.children.get(p)? {
                Node::Dir(d) => cur = d,
                Node::Leaf(_) => return None,
            }
        }
        match cur.children.get(last)? {
            Node::Leaf(k) => Some(k),
            Node::Dir(_) => None,
        }
    }
}

impl Store {
    /// Build a tree from a tar stream (files, directories, symlinks, hard links to earlier
    /// files). Anything else is refused with the entry's path.
    pub fn import_tar(&self, reader: impl Read, session: &Session) -> Result<B3Digest, StoreError> {
        let mut ar = tar::Archive::new(reader);
        let mut root = Dir::default();
        let bad = |e: std::io::Error| StoreError::Invalid(format!("reading tar stream: {e}"));
        for entry in ar.entries().map_err(bad)? {
            let mut entry = entry.map_err(bad)?;
            let path = entry.path_bytes().into_owned();
            let parts = components(&path)?;
            let ty = entry.header().entry_type();
            if ty.is_dir() {
                root.dir_mut(&parts, &path)?;
                continue;
            }
            let Some((name, dirs)) = parts.split_last() else {
                return Err(StoreError::Invalid("tar entry with an empty path".into()));
            };
            let kind = if ty.is_file() {
                let executable = entry.header().mode().map_err(bad)? & 0o111 != 0;
                let s = self.put_reader(&mut entry, ObjectKind::Blob, &[], Some(session))?;
                EntryKind::File {
                    executable,
                    size: s.size,
                    digest: s.digest,
                }
            } else if ty.is_symlink() {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| StoreError::Invalid("symlink without target".into()))?;
                EntryKind::Symlink {
                    target: target.into_owned(),
                }
            } else if ty.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| StoreError::Invalid("hard link without target".into()))?;
                let tparts = components(&target)?;
                root.lookup(&tparts).cloned().ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "hard link {:?} points to {:?}, which is not an earlier file",
                        String::from_utf8_lossy(&path),
                        String::from_utf8_lossy(&target)
                    ))
                })?
            } else {
                return Err(StoreError::Invalid(format!(
                    "tar entry {:?}: unsupported type {:?}",
                    String::from_utf8_lossy(&path),
                    ty
                )));
            };
            let dir = root.dir_mut(dirs, &path)?;
            if dir
                .children
                .insert(name.clone(), Node::Leaf(kind))
                .is_some()
            {
                return Err(StoreError::Invalid(format!(
                    "tar entry {:?} appears twice",
                    String::from_utf8_lossy(&path)
                )));
            }
        }
        self.put_dir_node(root, session)
    }

    fn put_dir_node(&self, dir: Dir, session: &Session) -> Result<B3Digest, StoreError> {
        let mut entries = Vec::with_capacity(dir.children.len());
        for (name, node) in dir.children {
            let kind = match node {
                Node::Dir(d) => EntryKind::Directory {
                    digest: self.put_dir_node(d, session)?,
                },
                Node::Leaf(k) => k,
            };
            entries.push(TreeEntry { name, kind });
        }
        self.put_tree(&Tree::new(entries)?, session)
    }

    /// Write tree `digest` as a deterministic tar stream.
    pub fn export_tar(&self, digest: &B3Digest, writer: impl Write) -> Result<(), StoreError> {
        let mut b = tar::Builder::new(writer);
        self.tar_dir(&mut b, digest, &mut Vec::new())?;
        b.into_inner()
            .and_then(|mut w| w.flush())
            .map_err(|e| StoreError::Invalid(format!("writing tar stream: {e}")))?;
        Ok(())
    }

    fn tar_dir<W: Write>(
        &self,
        b: &mut tar::Builder<W>,
        digest: &B3Digest,
        prefix: &mut Vec<u8>,
    ) -> Result<(), StoreError> {
        let io = |e: std::io::Error| StoreError::Invalid(format!("writing tar stream: {e}"));
        for e in self.get_tree(digest)?.entries() {
            let len = prefix.len();
            prefix.extend_from_slice(e.name.as_bytes());
            let path = std::path::Path::new(std::ffi::OsStr::from_bytes(prefix));
            let mut h = tar::Header::new_gnu();
            h.set_mtime(0);
            h.set_uid(0);
            h.set_gid(0);
            match &e.kind {
                EntryKind::Directory { digest } => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_mode(0o755);
                    h.set_size(0);
                    b.append_data(&mut h, path, std::io::empty()).map_err(io)?;
                    prefix.push(b'/');
                    self.tar_dir(b, digest, prefix)?;
                }
                EntryKind::Symlink { target } => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_mode(0o777);
                    h.set_size(0);
                    b.append_link(
                        &mut h,
                        path,
                        std::path::Path::new(std::ffi::OsStr::from_bytes(target)),
                    )
                    .map_err(io)?;
                }
                EntryKind::File {
                    executable,
                    size,
                    digest,
                } => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_mode(if *executable { 0o755 } else { 0o644 });
                    h.set_size(*size);
                    let r = self.open_blob(digest)?;
                    b.append_data(&mut h, path, r).map_err(io)?;
                }
            }
            prefix.truncate(len);
        }
        Ok(())
    }
}
