//! Build roots and base layers are a cache: this module records their use and evicts the
//! least recently used ones when they take more than `roots_max_bytes` (`cryod.toml`).
//!
//! Every cached root (`<build dir>/roots/<key>/`, base layers included) has a `used` file.
//! A build that mounts the root holds a shared `flock` on it for as long as it runs
//! ([`RootUse`]), and its mtime is the root's last use. Eviction takes the exclusive lock
//! without waiting: a root whose lock it cannot get is in use (by this daemon or another
//! one sharing the build directory) and is kept. A root it can lock is renamed out of the
//! way (`<key>.tmp-<pid>-evicted`, so no new build can find it) before it is removed; a
//! build that opened `used` meanwhile notices that the file it locked is no longer the
//! root's (`RootUse::acquire` compares inodes) and prepares the root again.
//!
//! The disk use of a root is measured once, when its `ready` record is written
//! (`builddir::tree_listing`); records from before that are measured when eviction first
//! looks at them.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use super::builddir::{self, RootRecord};

/// The file whose lock marks a root in use and whose mtime is its last use.
const USED: &str = "used";

/// A root a build is using: holds a shared lock on its `used` file until dropped.
#[derive(Debug)]
pub struct RootUse {
    _file: File,
    /// `<key>/root`.
    pub root: PathBuf,
}

fn open_used(dir: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dir.join(USED))
}

fn flock(f: &File, op: libc::c_int) -> std::io::Result<()> {
    // SAFETY: flock on an open descriptor has no memory-safety preconditions.
    if unsafe { libc::flock(f.as_raw_fd(), op) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl RootUse {
    /// Marks the cached root `dir` (= `<roots>/<key>`) in use and records the use.
    /// `Ok(None)` if the directory is gone or was evicted while we waited for the lock.
    pub fn acquire(dir: &Path) -> std::io::Result<Option<RootUse>> {
        let f = match open_used(dir) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        flock(&f, libc::LOCK_SH)?;
        // Eviction renames the directory while it holds the exclusive lock: the file we
        // locked must still be the root's.
        let locked = f.metadata()?;
        match std::fs::symlink_metadata(dir.join(USED)) {
            Ok(m) if (m.dev(), m.ino()) == (locked.dev(), locked.ino()) => {}
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
        f.set_modified(SystemTime::now())?;
        Ok(Some(RootUse {
            _file: f,
            root: dir.join("root"),
        }))
    }

    /// The same use after its directory was renamed to `dir` (the lock follows the inode).
    pub(super) fn renamed(mut self, dir: &Path) -> RootUse {
        self.root = dir.join("root");
        self
    }
}

/// What one eviction pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EvictReport {
    /// Roots and base layers removed.
    pub removed: u64,
    /// Their disk use.
    pub bytes_freed: u64,
    /// Roots over the limit that were kept because a build uses them.
    pub kept_in_use: u64,
    /// Disk use of the cached roots after the pass.
    pub bytes_kept: u64,
}

/// One cached root as eviction sees it.
#[derive(Debug)]
struct Cached {
    key: String,
    dir: PathBuf,
    bytes: u64,
    last_used: SystemTime,
}

/// Every cached root with a readable record under `<build dir>/roots` (temporary and
/// evicted directories excluded), least recently used first.
fn cached_roots(build_dir: &Path) -> Vec<Cached> {
    let Ok(rd) = std::fs::read_dir(build_dir.join("roots")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let Some(key) = e.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if key.contains('.') {
            continue;
        }
        let dir = e.path();
        let Ok(data) = std::fs::read(dir.join("ready")) else {
            continue;
        };
        let Ok(rec) = serde_json::from_slice::<RootRecord>(&data) else {
            continue;
        };
        let bytes = if rec.bytes > 0 {
            rec.bytes
        } else {
            builddir::tree_listing(&dir.join("root"))
                .map(|l| l.bytes)
                .unwrap_or(0)
        };
        let mtime = |name: &str| {
            std::fs::symlink_metadata(dir.join(name))
                .and_then(|m| m.modified())
                .ok()
        };
        let last_used = mtime(USED)
            .or_else(|| mtime("ready"))
            .unwrap_or(SystemTime::UNIX_EPOCH);
        out.push(Cached {
            key,
            dir,
            bytes,
            last_used,
        });
    }
    out.sort_by(|a, b| a.last_used.cmp(&b.last_used).then(a.key.cmp(&b.key)));
    out
}

/// Removes least recently used roots until the cached roots take at most `max_bytes`;
/// never one in use. Blocking (a removal may take a second or two).
pub fn evict(build_dir: &Path, max_bytes: u64) -> EvictReport {
    let roots = cached_roots(build_dir);
    let mut total: u64 = roots.iter().map(|r| r.bytes).sum();
    let mut report = EvictReport::default();
    for r in roots {
        if total <= max_bytes {
            break;
        }
        match try_remove(&r) {
            Ok(true) => {
                total -= r.bytes;
                report.removed += 1;
                report.bytes_freed += r.bytes;
                tracing::info!(key = %r.key, bytes = r.bytes, "evicted a cached build root (least recently used)");
            }
            Ok(false) => report.kept_in_use += 1,
            Err(e) => {
                tracing::warn!(key = %r.key, error = %e, "could not evict a cached build root")
            }
        }
    }
    report.bytes_kept = total;
    report
}

/// Removes `r` unless it is in use: `Ok(false)` if a build holds it.
fn try_remove(r: &Cached) -> std::io::Result<bool> {
    let f = match open_used(&r.dir) {
        Ok(f) => f,
        // Gone already (another daemon sharing the build directory evicted it).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(e),
    };
    match flock(&f, libc::LOCK_EX | libc::LOCK_NB) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(false),
        Err(e) => return Err(e),
    }
    let parent = r.dir.parent().unwrap_or(Path::new("/"));
    let aside = parent.join(format!("{}.tmp-{}-evicted", r.key, std::process::id()));
    std::fs::rename(&r.dir, &aside)?;
    drop(f);
    super::remove_work(&aside, &aside.join("root"));
    Ok(true)
}

/// For tests and `cryo store gc`: the record of a cached root, if any.
pub fn record(dir: &Path) -> Option<RootRecord> {
    serde_json::from_slice(&std::fs::read(dir.join("ready")).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A synthetic cached root of about `kib` KiB whose last use was `age` seconds ago.
    fn fake_root(roots: &Path, key: &str, kib: usize, age: u64) -> PathBuf {
        let dir = roots.join(key);
        std::fs::create_dir_all(dir.join("root/usr/lib")).unwrap();
        std::fs::write(dir.join("root/usr/lib/blob"), vec![7u8; kib * 1024]).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        builddir::write_record(&dir, key, 1, 0.1).unwrap();
        let used = open_used(&dir).unwrap();
        used.set_modified(SystemTime::now() - std::time::Duration::from_secs(age))
            .unwrap();
        dir
    }

    #[test]
    fn the_least_recently_used_root_goes_first_and_one_in_use_stays() {
        let t = tempfile::tempdir().unwrap();
        let build_dir = builddir::prepare(&t.path().join("bd")).unwrap();
        let roots = build_dir.join("roots");
        let oldest = fake_root(&roots, "aaaa", 256, 3000);
        let old = fake_root(&roots, "bbbb", 256, 2000);
        let recent = fake_root(&roots, "cccc", 256, 1000);
        let rec = record(&old).unwrap();
        assert!(rec.bytes >= 256 * 1024, "{rec:?}");

        // A build uses the oldest root: its use is recorded and it is locked.
        let in_use = RootUse::acquire(&oldest).unwrap().unwrap();
        assert_eq!(in_use.root, oldest.join("root"));

        // Room for two roots: using the oldest made it the most recent, so the next least
        // recently used goes.
        let two = rec.bytes * 2 + rec.bytes / 2;
        let r = evict(&build_dir, two);
        assert_eq!((r.removed, r.kept_in_use), (1, 0), "{r:?}");
        assert_eq!(r.bytes_freed, rec.bytes);
        assert!(oldest.exists() && recent.exists());
        assert!(
            !old.exists(),
            "the least recently used root not in use stays"
        );
        assert!(
            std::fs::read_dir(&roots).unwrap().count() == 2,
            "the evicted root was removed, not just renamed"
        );

        // Room for none: the root in use is kept, the other goes.
        let r = evict(&build_dir, 0);
        assert_eq!((r.removed, r.kept_in_use), (1, 1), "{r:?}");
        assert!(oldest.exists() && !recent.exists());

        // Once the build ends it can go too.
        drop(in_use);
        let r = evict(&build_dir, 0);
        assert_eq!(r.removed, 1, "{r:?}");
        assert!(!oldest.exists());
        assert_eq!(r.bytes_kept, 0);
    }

    #[test]
    fn a_use_of_an_evicted_root_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let build_dir = builddir::prepare(&t.path().join("bd")).unwrap();
        let dir = fake_root(&build_dir.join("roots"), "dddd", 4, 10);
        // What a build that opened `used` just before the eviction renamed the root sees.
        let f = open_used(&dir).unwrap();
        std::fs::rename(&dir, build_dir.join("roots/dddd.tmp-1-evicted")).unwrap();
        assert!(RootUse::acquire(&dir).unwrap().is_none());
        drop(f);
        // A missing root is not in use, and there is nothing to acquire.
        assert!(RootUse::acquire(&build_dir.join("roots/none"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn the_use_moves_a_root_to_the_back_of_the_queue() {
        let t = tempfile::tempdir().unwrap();
        let build_dir = builddir::prepare(&t.path().join("bd")).unwrap();
        let roots = build_dir.join("roots");
        let a = fake_root(&roots, "aaaa", 64, 3000);
        let b = fake_root(&roots, "bbbb", 64, 2000);
        drop(RootUse::acquire(&a).unwrap().unwrap());
        let one = record(&a).unwrap().bytes;
        let r = evict(&build_dir, one);
        assert_eq!(r.removed, 1);
        assert!(a.exists() && !b.exists());
    }
}
