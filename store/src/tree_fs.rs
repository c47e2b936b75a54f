//! Import a directory into the store as a tree, and export a tree back to a directory.

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use crate::component::PathComponent;
use crate::digest::B3Digest;
use crate::index::ObjectKind;
use crate::store::{Session, Store, StoreError};
use crate::tree::{EntryKind, Tree, TreeEntry};

impl Store {
    /// Store a tree object (its children must already be stored).
    pub fn put_tree(&self, tree: &Tree, session: &Session) -> Result<B3Digest, StoreError> {
        for c in tree.references() {
            if !self.contains(&c)? {
                return Err(StoreError::Invalid(format!(
                    "tree refers to {c}, which is not in the store"
                )));
            }
        }
        let enc = tree.encode();
        Ok(self
            .put_bytes(&enc, ObjectKind::Tree, &tree.references(), Some(session))?
            .digest)
    }

    /// Read and decode a tree object.
    pub fn get_tree(&self, digest: &B3Digest) -> Result<Tree, StoreError> {
        if let Some(meta) = self.meta(digest)? {
            if meta.kind != ObjectKind::Tree {
                return Err(StoreError::WrongKind {
                    digest: *digest,
                    expected: ObjectKind::Tree,
                    actual: meta.kind,
                });
            }
        }
        Ok(Tree::decode(&self.read(digest)?)?)
    }

    /// Import `dir` recursively. Symlinks are recorded, never followed; devices, fifos and
    /// sockets are refused.
    pub fn import_dir(&self, dir: &Path, session: &Session) -> Result<B3Digest, StoreError> {
        let meta = fs::symlink_metadata(dir).map_err(|e| StoreError::fs(dir, e))?;
        if !meta.is_dir() {
            return Err(StoreError::fs(dir, "not a directory"));
        }
        let mut entries = Vec::new();
        let mut listing: Vec<_> = fs::read_dir(dir)
            .map_err(|e| StoreError::fs(dir, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::fs(dir, e))?;
        listing.sort_by_key(|e| e.file_name());
        for e in listing {
            let path = e.path();
            let name = PathComponent::new(e.file_name().as_bytes())?;
            let m = fs::symlink_metadata(&path).map_err(|e| StoreError::fs(&path, e))?;
            let ft = m.file_type();
            let kind = if ft.is_dir() {
                EntryKind::Directory {
                    digest: self.import_dir(&path, session)?,
                }
            } else if ft.is_symlink() {
                let t = fs::read_link(&path).map_err(|e| StoreError::fs(&path, e))?;
                EntryKind::Symlink {
                    target: t.as_os_str().as_bytes().to_vec(),
                }
            } else if ft.is_file() {
                let mut f = fs::File::open(&path).map_err(|e| StoreError::fs(&path, e))?;
                let s = self.put_reader(&mut f, ObjectKind::Blob, &[], Some(session))?;
                EntryKind::File {
                    executable: m.permissions().mode() & 0o111 != 0,
                    size: s.size,
                    digest: s.digest,
                }
            } else {
                return Err(StoreError::fs(
                    &path,
                    "unsupported file type (only files, directories and symlinks can be imported)",
                ));
            };
            entries.push(TreeEntry { name, kind });
        }
        self.put_tree(&Tree::new(entries)?, session)
    }

    /// Write tree `digest` to `dest`, which must not exist or be an empty directory.
    /// Every file is verified while it is written.
    pub fn export_tree(&self, digest: &B3Digest, dest: &Path) -> Result<(), StoreError> {
        match fs::read_dir(dest) {
            Ok(mut it) => {
                if it.next().is_some() {
                    return Err(StoreError::fs(dest, "destination exists and is not empty"));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(dest).map_err(|e| StoreError::fs(dest, e))?
            }
            Err(e) => return Err(StoreError::fs(dest, e)),
        }
        self.export_into(digest, dest)
    }

    fn export_into(&self, digest: &B3Digest, dir: &Path) -> Result<(), StoreError> {
        let tree = self.get_tree(digest)?;
        for e in tree.entries() {
            let path = dir.join(e.name.as_os_str());
            match &e.kind {
                EntryKind::Directory { digest } => {
                    fs::create_dir(&path).map_err(|e| StoreError::fs(&path, e))?;
                    self.export_into(digest, &path)?;
                }
                EntryKind::Symlink { target } => {
                    symlink(std::ffi::OsStr::from_bytes(target), &path)
                        .map_err(|e| StoreError::fs(&path, e))?;
                }
                EntryKind::File {
                    executable, digest, ..
                } => {
                    let mut r = self.open_blob(digest)?;
                    let mut f =
                        fs::File::create_new(&path).map_err(|e| StoreError::fs(&path, e))?;
                    io::copy(&mut r, &mut f).map_err(|e| StoreError::fs(&path, e))?;
                    let mode = if *executable { 0o755 } else { 0o644 };
                    fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                        .map_err(|e| StoreError::fs(&path, e))?;
                }
            }
        }
        Ok(())
    }
}
