//! Moving a tree unpacked on the host into the sandbox's id range. This is
//! `cryo_sandbox::shift_ownership` plus one fix: an inode with several hard links (e.g.
//! gzip's `uncompress`/`gunzip`) is shifted once, not once per name; the sandbox crate's
//! version shifts it again on the second name and then fails with "unmapped". Reported to
//! the sandbox's owner; switch back when fixed.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use cryo_sandbox::ResolvedIdMap;

/// Errors of [`shift_tree`].
#[derive(Debug, thiserror::Error)]
pub enum ShiftError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot chown {path}")]
    Chown {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is owned by {uid}:{gid}, which the id map does not cover")]
    Unmapped { path: PathBuf, uid: u32, gid: u32 },
}

/// Re-owns every inode under `root` (included; symlinks not followed; one file system)
/// from inside id `n` to `map`'s outside id for `n`, each inode exactly once. Set-id bits
/// of files do not survive (chown clears them).
pub(crate) fn shift_tree(root: &Path, map: &ResolvedIdMap) -> Result<(), ShiftError> {
    let read = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ShiftError::Read { path, source }
    };
    let dev = std::fs::symlink_metadata(root).map_err(read(root))?.dev();
    let mut seen = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let md = std::fs::symlink_metadata(&path).map_err(read(&path))?;
        if md.dev() != dev || (md.nlink() > 1 && !md.is_dir() && !seen.insert(md.ino())) {
            continue;
        }
        if md.is_dir() {
            for e in std::fs::read_dir(&path).map_err(read(&path))? {
                stack.push(e.map_err(read(&path))?.path());
            }
        }
        let (Some(uid), Some(gid)) = (map.outside_uid(md.uid()), map.outside_gid(md.gid())) else {
            return Err(ShiftError::Unmapped {
                path,
                uid: md.uid(),
                gid: md.gid(),
            });
        };
        let chown = |source| ShiftError::Chown {
            path: path.clone(),
            source,
        };
        // chown clears set-id bits on regular files, and they are not put back: set-id
        // modes are applied inside the sandbox (`manifest.rs`), never from the host.
        std::os::unix::fs::lchown(&path, Some(uid), Some(gid)).map_err(chown)?;
    }
    Ok(())
}
