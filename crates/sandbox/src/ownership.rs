//! Shifting the ownership of a directory tree into a sandbox's id range: a tree extracted
//! outside (e.g. `.deb` data unpacked by the daemon running as root) has owners that are
//! meant as ids INSIDE the sandbox; each inode is lchowned to the matching outside id so
//! that root inside can modify it (overlay copy-up and dpkg both need that).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::idmap::ResolvedIdMap;

/// Errors of [`shift_ownership`].
#[derive(Debug, thiserror::Error)]
pub enum OwnershipError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot chown {path} to {uid}:{gid}")]
    Chown {
        path: PathBuf,
        uid: u32,
        gid: u32,
        source: std::io::Error,
    },
    #[error("{path} is owned by {uid}:{gid}, which the id map does not cover")]
    Unmapped { path: PathBuf, uid: u32, gid: u32 },
}

/// Re-owns every inode under `root` (included, symlinks not followed, no crossing into
/// other file systems) from inside id `n` to the outside id `map` gives for `n`. Needs the
/// privilege to chown (root). Not idempotent: run it once on a freshly extracted tree.
pub fn shift_ownership(root: &Path, map: &ResolvedIdMap) -> Result<(), OwnershipError> {
    let dev = std::fs::symlink_metadata(root)
        .map_err(|source| OwnershipError::Read {
            path: root.into(),
            source,
        })?
        .dev();
    // An explicit stack instead of recursion: trees can be deep.
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let md = std::fs::symlink_metadata(&path).map_err(|source| OwnershipError::Read {
            path: path.clone(),
            source,
        })?;
        if md.dev() != dev {
            continue;
        }
        let (iu, ig) = (md.uid(), md.gid());
        let (Some(uid), Some(gid)) = (map.outside_uid(iu), map.outside_gid(ig)) else {
            return Err(OwnershipError::Unmapped {
                path,
                uid: iu,
                gid: ig,
            });
        };
        if md.is_dir() {
            let rd = std::fs::read_dir(&path).map_err(|source| OwnershipError::Read {
                path: path.clone(),
                source,
            })?;
            for e in rd {
                let e = e.map_err(|source| OwnershipError::Read {
                    path: path.clone(),
                    source,
                })?;
                stack.push(e.path());
            }
        }
        // lchown clears set-id bits on regular files; put the mode back.
        std::os::unix::fs::lchown(&path, Some(uid), Some(gid)).map_err(|source| {
            OwnershipError::Chown {
                path: path.clone(),
                uid,
                gid,
                source,
            }
        })?;
        if md.is_file() && md.mode() & 0o6000 != 0 {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(md.mode() & 0o7777))
                .map_err(|source| OwnershipError::Chown {
                    path: path.clone(),
                    uid,
                    gid,
                    source,
                })?;
        }
    }
    Ok(())
}
