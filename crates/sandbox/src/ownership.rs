//! Shifting the ownership of a directory tree into a sandbox's id range: a tree extracted
//! outside (e.g. `.deb` data unpacked by the daemon running as root) has owners that are
//! meant as ids INSIDE the sandbox; each inode is lchowned to the matching outside id so
//! that root inside can modify it (overlay copy-up and dpkg both need that). An inode with
//! several names (hard links, e.g. gzip's `gunzip`/`uncompress`) is shifted exactly once.

use std::collections::BTreeSet;
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
/// other file systems) from inside id `n` to the outside id `map` gives for `n`, each inode
/// once however many hard links it has. Needs the privilege to chown (root). Not
/// idempotent: run it once on a freshly extracted tree.
pub fn shift_ownership(root: &Path, map: &ResolvedIdMap) -> Result<(), OwnershipError> {
    let dev = std::fs::symlink_metadata(root)
        .map_err(|source| OwnershipError::Read {
            path: root.into(),
            source,
        })?
        .dev();
    // An explicit stack instead of recursion: trees can be deep.
    let mut stack = vec![root.to_path_buf()];
    // Inodes with more than one name that were already shifted (one file system, so the
    // inode number alone identifies them). Directories cannot be hard-linked.
    let mut shifted = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let md = std::fs::symlink_metadata(&path).map_err(|source| OwnershipError::Read {
            path: path.clone(),
            source,
        })?;
        if md.dev() != dev || (!md.is_dir() && md.nlink() > 1 && !shifted.insert(md.ino())) {
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    use super::*;
    use crate::idmap::{IdExtent, MapWriter};

    const BASE: u32 = 1_500_000_000;

    fn map() -> ResolvedIdMap {
        let ext = vec![IdExtent {
            inside: 0,
            outside: BASE,
            count: crate::RANGE_SIZE,
        }];
        ResolvedIdMap {
            uid: ext.clone(),
            gid: ext,
            writer: MapWriter::Direct,
            setgroups_allowed: true,
        }
    }

    fn owner(p: &Path) -> (u32, u32) {
        let md = std::fs::symlink_metadata(p).unwrap();
        (md.uid(), md.gid())
    }

    #[test]
    fn hard_linked_inodes_are_shifted_once_and_set_id_bits_survive() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: chown to arbitrary ids needs root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("tree");
        std::fs::create_dir_all(t.join("usr/bin")).unwrap();
        // gzip's layout: one inode, three names, two of them in the same directory.
        let gzip = t.join("usr/bin/gunzip");
        std::fs::write(&gzip, b"#!/bin/sh\n").unwrap();
        std::fs::hard_link(&gzip, t.join("usr/bin/uncompress")).unwrap();
        std::fs::hard_link(&gzip, t.join("gz-elsewhere")).unwrap();
        std::os::unix::fs::lchown(&gzip, Some(0), Some(0)).unwrap();
        // A set-uid file owned by inside 0:42, also hard-linked.
        let su = t.join("usr/bin/su");
        std::fs::write(&su, b"x").unwrap();
        std::os::unix::fs::lchown(&su, Some(0), Some(42)).unwrap();
        std::fs::set_permissions(&su, std::fs::Permissions::from_mode(0o4755)).unwrap();
        std::fs::hard_link(&su, t.join("usr/bin/su.link")).unwrap();
        let user = t.join("usr/bin/user-file");
        std::fs::write(&user, b"u").unwrap();
        std::os::unix::fs::lchown(&user, Some(1000), Some(1000)).unwrap();
        symlink("gunzip", t.join("usr/bin/gzip-link")).unwrap();
        for p in [&t, &t.join("usr"), &t.join("usr/bin")] {
            std::os::unix::fs::lchown(p, Some(0), Some(0)).unwrap();
        }

        shift_ownership(&t, &map()).unwrap();

        for name in ["usr/bin/gunzip", "usr/bin/uncompress", "gz-elsewhere"] {
            assert_eq!(owner(&t.join(name)), (BASE, BASE), "{name}");
        }
        for name in ["usr/bin/su", "usr/bin/su.link"] {
            let md = std::fs::symlink_metadata(t.join(name)).unwrap();
            assert_eq!((md.uid(), md.gid()), (BASE, BASE + 42), "{name}");
            assert_eq!(md.mode() & 0o7777, 0o4755, "{name}");
        }
        assert_eq!(owner(&user), (BASE + 1000, BASE + 1000));
        assert_eq!(owner(&t.join("usr/bin/gzip-link")), (BASE, BASE));
        for p in [&t, &t.join("usr"), &t.join("usr/bin")] {
            assert_eq!(owner(p), (BASE, BASE), "{}", p.display());
        }
        // Not idempotent by design: a second run finds ids outside the map.
        let again = shift_ownership(&t, &map());
        assert!(
            matches!(again, Err(OwnershipError::Unmapped { .. })),
            "{again:?}"
        );
    }
}
