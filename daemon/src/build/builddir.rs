//! The build directory's trust boundary: who may write where build roots live, and when a
//! cached root is believed.
//!
//! - The build dir and its `roots/` and `builds/` are created by the daemon (`mkdir` with
//!   mode 0711, then checked) or, when they exist, accepted only if they are real
//!   directories (not symlinks) owned by the daemon's euid and not writable by group or
//!   others, below ancestors that nobody else can rename them out of (owned by root or
//!   the daemon; group/other-writable only with the sticky bit). Anything else is refused
//!   at start with an error naming the directory, its owner and mode: a local user who
//!   created `/var/tmp/cryo-build-<uid>` first must not decide what the daemon trusts.
//! - A root is prepared in `<key>.tmp-<pid>` (mode 0700, owned by the id that is root
//!   inside the sandboxes, so the sandbox can reach it and nobody else can), which is
//!   renamed to `<key>` when complete.
//! - A cached root is trusted only through its `ready` record, which the daemon writes
//!   after preparation: JSON `{format, key, manifest, …}` where `manifest` is the BLAKE3 of
//!   a listing of the root tree (path, type, mode, uid, gid, size, mtime, link target).
//!   On every use the cheap part is checked (the `<key>` dir is a private directory, the
//!   record is a regular file of the daemon's euid not writable by others and names this
//!   key); the listing is recomputed once per root per daemon process (lstat of every
//!   inode, well under a second for a build root; hashing file contents on every build
//!   would take seconds to minutes).

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{io, BuildError};

/// `format` of a root record.
pub const RECORD_FORMAT: &str = "cryo.root-ready/1";
/// A root record is small; a bigger `ready` file is not one of ours.
const MAX_RECORD_BYTES: u64 = 64 * 1024;

/// The daemon's effective uid.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

fn unsafe_dir(path: &Path, reason: String) -> BuildError {
    BuildError::UnsafeDir {
        path: path.display().to_string(),
        reason,
    }
}

/// Creates `path` (mode 0711) or accepts it if it exists as a directory of the daemon's
/// euid that neither group nor others can write; then sets its mode to 0711 (others may
/// traverse, as the sandbox's mapped ids must, but not list). A symlink is refused, never
/// followed.
pub fn private_dir(path: &Path) -> Result<(), BuildError> {
    match fs::DirBuilder::new().mode(0o711).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(path)(e)),
    }
    let md = fs::symlink_metadata(path).map_err(io(path))?;
    let me = euid();
    let mode = md.mode() & 0o7777;
    if md.file_type().is_symlink() {
        let target = fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "?".into());
        return Err(unsafe_dir(
            path,
            format!(
                "it is a symbolic link (to {target}, owner uid {}); cryod (uid {me}) only uses a real directory of its own",
                md.uid()
            ),
        ));
    }
    if !md.is_dir() {
        return Err(unsafe_dir(path, "it is not a directory".into()));
    }
    if md.uid() != me {
        return Err(unsafe_dir(
            path,
            format!(
                "it is owned by uid {} (mode {mode:04o}), not by cryod's uid {me}, so that user controls the build roots kept in it",
                md.uid()
            ),
        ));
    }
    if mode & 0o022 != 0 {
        return Err(unsafe_dir(
            path,
            format!(
                "it is writable by group or others (mode {mode:04o}, owner uid {}), so anyone could have planted build roots in it",
                md.uid()
            ),
        ));
    }
    if mode != 0o711 {
        fs::set_permissions(path, fs::Permissions::from_mode(0o711)).map_err(io(path))?;
    }
    Ok(())
}

/// Every ancestor of `path` (which exists) must be owned by root or the daemon, and be
/// writable by group or others only with the sticky bit (as `/tmp` and `/var/tmp` are):
/// otherwise its owner or anyone could rename the build dir away and put another in its
/// place after the checks.
pub fn check_ancestors(path: &Path) -> Result<(), BuildError> {
    let me = euid();
    let canon = fs::canonicalize(path).map_err(io(path))?;
    for a in canon.ancestors().skip(1) {
        let md = fs::metadata(a).map_err(io(a))?;
        let mode = md.mode() & 0o7777;
        if md.uid() != 0 && md.uid() != me {
            return Err(unsafe_dir(
                path,
                format!(
                    "its parent {} is owned by uid {} (mode {mode:04o}), who can replace it",
                    a.display(),
                    md.uid()
                ),
            ));
        }
        if mode & 0o022 != 0 && mode & 0o1000 == 0 {
            return Err(unsafe_dir(
                path,
                format!(
                    "its parent {} is writable by group or others without the sticky bit (mode {mode:04o}), so anyone can replace it",
                    a.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Makes `dir` a safe build directory: it and its `roots/` and `builds/`
/// ([`private_dir`]), below safe ancestors ([`check_ancestors`]). Returns the canonical
/// path (the sandbox wants absolute paths without `..`).
pub fn prepare(dir: &Path) -> Result<PathBuf, BuildError> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    private_dir(dir)?;
    check_ancestors(dir)?;
    let dir = fs::canonicalize(dir).map_err(io(dir))?;
    for sub in ["roots", "builds"] {
        private_dir(&dir.join(sub))?;
    }
    Ok(dir)
}

/// Outside uid and gid of root inside the sandboxes (a root daemon's mapped range; the
/// daemon itself otherwise, whose ids the sandbox maps too).
pub fn sandbox_root_owner() -> Result<(u32, u32), BuildError> {
    let me = euid();
    if me != 0 {
        // SAFETY: getegid has no preconditions.
        return Ok((me, unsafe { libc::getegid() }));
    }
    let map = cryo_sandbox::IdMapping::default()
        .resolve_for_current_process()
        .map_err(|e| BuildError::IdMap(Box::new(e)))?;
    match (map.outside_uid(0), map.outside_gid(0)) {
        (Some(u), Some(g)) => Ok((u, g)),
        _ => Err(BuildError::NoRootInside),
    }
}

/// Creates `tmp` (must not exist) with mode 0700, owned by [`sandbox_root_owner`]: the
/// parent of a root being prepared, which holds set-id files once the sandbox applied
/// the packages' modes. Nobody but the daemon and the sandbox can reach below it.
pub fn create_tmp_parent(tmp: &Path) -> Result<(), BuildError> {
    fs::DirBuilder::new()
        .mode(0o700)
        .create(tmp)
        .map_err(io(tmp))?;
    fs::set_permissions(tmp, fs::Permissions::from_mode(0o700)).map_err(io(tmp))?;
    let (uid, gid) = sandbox_root_owner()?;
    if (uid, gid) != (euid(), unsafe { libc::getegid() }) {
        std::os::unix::fs::lchown(tmp, Some(uid), Some(gid)).map_err(io(tmp))?;
    }
    Ok(())
}

/// The `ready` record of a cached root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootRecord {
    pub format: String,
    /// The root key, equal to the directory's name.
    pub key: String,
    /// BLAKE3 (hex) of the listing of the root tree ([`tree_digest`]).
    pub manifest: String,
    pub packages: usize,
    pub prepared_secs: f64,
    /// Disk use of the tree (allocated blocks of every inode, hard links once), for
    /// eviction (`super::evict`). Records written before it existed read as 0 and are
    /// measured when eviction looks at them.
    #[serde(default)]
    pub bytes: u64,
}

/// Writes `dir/ready` (a new file, mode 0644) for the root `dir/root`.
pub fn write_record(
    dir: &Path,
    key: &str,
    packages: usize,
    prepared_secs: f64,
) -> Result<(), BuildError> {
    let root = dir.join("root");
    let listing = tree_listing(&root).map_err(io(&root))?;
    let manifest = listing.digest;
    let rec = RootRecord {
        format: RECORD_FORMAT.into(),
        key: key.into(),
        manifest: manifest.clone(),
        packages,
        prepared_secs,
        bytes: listing.bytes,
    };
    let path = dir.join("ready");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(io(&path))?;
    let mut data = serde_json::to_vec(&rec).expect("serialises");
    data.push(b'\n');
    f.write_all(&data).map_err(io(&path))?;
    f.sync_all().map_err(io(&path))?;
    remember(dir, &manifest);
    Ok(())
}

/// Roots whose listing this process checked (or wrote): (dir, manifest digest).
static VERIFIED: Mutex<BTreeSet<(PathBuf, String)>> = Mutex::new(BTreeSet::new());

fn remember(dir: &Path, manifest: &str) {
    VERIFIED
        .lock()
        .expect("verified roots")
        .insert((dir.to_path_buf(), manifest.to_owned()));
}

/// Whether the cached root `dir` (= `<roots>/<key>`) may be used: `Ok(None)` if there is
/// none, `Ok(Some(record))` if it checks out, `Err(reason)` if something is there that
/// the daemon did not write or that changed since. See the module docs.
pub fn check_root(dir: &Path, key: &str) -> Result<Option<RootRecord>, String> {
    check_root_with(dir, key, true)
}

/// [`check_root`]; with `use_cache` false the listing is always recomputed.
pub fn check_root_with(
    dir: &Path,
    key: &str,
    use_cache: bool,
) -> Result<Option<RootRecord>, String> {
    let md = match fs::symlink_metadata(dir) {
        Ok(md) => md,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let me = euid();
    let (sandbox_uid, _) = sandbox_root_owner().map_err(|e| e.to_string())?;
    if !md.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    if md.uid() != me && md.uid() != sandbox_uid {
        return Err(format!(
            "{} is owned by uid {}, not by cryod ({me}) or its sandbox ({sandbox_uid})",
            dir.display(),
            md.uid()
        ));
    }
    if md.mode() & 0o022 != 0 {
        return Err(format!(
            "{} is writable by group or others (mode {:04o})",
            dir.display(),
            md.mode() & 0o7777
        ));
    }
    let ready = dir.join("ready");
    let rmd = match fs::symlink_metadata(&ready) {
        Ok(m) => m,
        Err(e) => return Err(format!("{}: {e}", ready.display())),
    };
    if !rmd.file_type().is_file() {
        return Err(format!("{} is not a regular file", ready.display()));
    }
    if rmd.uid() != me {
        return Err(format!(
            "{} is owned by uid {}, not by cryod ({me})",
            ready.display(),
            rmd.uid()
        ));
    }
    if rmd.mode() & 0o022 != 0 || rmd.len() > MAX_RECORD_BYTES {
        return Err(format!(
            "{} is writable by others (mode {:04o}) or too big",
            ready.display(),
            rmd.mode() & 0o7777
        ));
    }
    let data = fs::read(&ready).map_err(|e| format!("{}: {e}", ready.display()))?;
    let rec: RootRecord = serde_json::from_slice(&data)
        .map_err(|e| format!("{} is not a root record: {e}", ready.display()))?;
    if rec.format != RECORD_FORMAT {
        return Err(format!(
            "{} has format {:?}, expected {RECORD_FORMAT}",
            ready.display(),
            rec.format
        ));
    }
    if rec.key != key {
        return Err(format!(
            "{} is the record of root {}, not of {key}",
            ready.display(),
            rec.key
        ));
    }
    let verified = use_cache
        && VERIFIED
            .lock()
            .expect("verified roots")
            .contains(&(dir.to_path_buf(), rec.manifest.clone()));
    if !verified {
        let root = dir.join("root");
        let found = tree_digest(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        if found != rec.manifest {
            return Err(format!(
                "{} changed since it was prepared (listing {found}, recorded {})",
                root.display(),
                rec.manifest
            ));
        }
        remember(dir, &rec.manifest);
    }
    Ok(Some(rec))
}

/// BLAKE3 (hex) of the listing of the tree at `root` (which must be a directory, not a
/// symlink): for every inode in path order, its relative path, type, mode, uid, gid,
/// size, mtime (ns) and, for symlinks, the target. File contents are not read.
pub fn tree_digest(root: &Path) -> std::io::Result<String> {
    tree_listing(root).map(|l| l.digest)
}

/// What one walk of a root tree finds: [`tree_digest`] and the disk use.
pub struct Listing {
    pub digest: String,
    /// Allocated bytes (`st_blocks` × 512) of every inode reached, hard links counted once.
    pub bytes: u64,
}

/// [`tree_digest`] and the tree's disk use, in one walk.
pub fn tree_listing(root: &Path) -> std::io::Result<Listing> {
    let md = fs::symlink_metadata(root)?;
    if !md.is_dir() {
        return Err(std::io::Error::other("not a directory"));
    }
    let mut h = blake3::Hasher::new();
    let mut bytes = 0u64;
    let mut linked = std::collections::HashSet::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let path = root.join(&rel);
        let md = fs::symlink_metadata(&path)?;
        if md.nlink() < 2 || md.is_dir() || linked.insert((md.dev(), md.ino())) {
            bytes += md.blocks() * 512;
        }
        let ft = md.file_type();
        let kind = if ft.is_dir() {
            'd'
        } else if ft.is_symlink() {
            'l'
        } else if ft.is_file() {
            'f'
        } else {
            'o'
        };
        h.update(rel.as_os_str().as_encoded_bytes());
        h.update(
            format!(
                "\0{kind} {:o} {}:{} {} {}.{:09}",
                md.mode(),
                md.uid(),
                md.gid(),
                md.size(),
                md.mtime(),
                md.mtime_nsec()
            )
            .as_bytes(),
        );
        if ft.is_symlink() {
            h.update(b" -> ");
            h.update(fs::read_link(&path)?.as_os_str().as_encoded_bytes());
        }
        h.update(b"\n");
        if ft.is_dir() {
            // An unprivileged daemon cannot list directories that the sandbox gave to
            // subordinate ids with mode 0700 (`/root`, spool dirs). Only the daemon's own
            // namespaces can write there; the directory's metadata above (its mtime moves
            // when an entry is added or removed) stands for its contents.
            let entries = match fs::read_dir(&path) {
                Ok(rd) => rd,
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    h.update(b"\0unreadable\n");
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut names: Vec<_> = entries
                .map(|e| e.map(|e| e.file_name()))
                .collect::<Result<_, _>>()?;
            // Popped in ascending order.
            names.sort_by(|a, b| b.cmp(a));
            stack.extend(names.into_iter().map(|n| rel.join(n)));
        }
    }
    Ok(Listing {
        digest: h.finalize().to_hex().to_string(),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tests that chown need root; under CI=true they must run.
    fn require_root() -> bool {
        if euid() == 0 {
            return true;
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: this test needs root (chown)"
        );
        eprintln!("skipping: needs root (chown); this fails under CI=true");
        false
    }

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn private_dirs_are_created_0711_and_squatted_ones_refused() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("bd");
        let got = prepare(&d).unwrap();
        assert_eq!(got, fs::canonicalize(&d).unwrap());
        for p in [d.clone(), d.join("roots"), d.join("builds")] {
            assert_eq!(mode(&p), 0o711, "{}", p.display());
        }
        // Ours and 0755: accepted and tightened.
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
        prepare(&d).unwrap();
        assert_eq!(mode(&d), 0o711);

        // World-writable: refused, naming the directory and its mode, and left alone.
        let ww = t.path().join("ww");
        fs::create_dir(&ww).unwrap();
        fs::set_permissions(&ww, fs::Permissions::from_mode(0o777)).unwrap();
        let e = prepare(&ww).unwrap_err().to_string();
        assert!(
            e.contains(&ww.display().to_string()) && e.contains("mode 0777"),
            "{e}"
        );
        assert_eq!(mode(&ww), 0o777);
        // A good build dir whose roots/ is group-writable.
        let g = t.path().join("g");
        prepare(&g).unwrap();
        fs::set_permissions(g.join("roots"), fs::Permissions::from_mode(0o775)).unwrap();
        let e = prepare(&g).unwrap_err().to_string();
        assert!(e.contains("/g/roots") && e.contains("mode 0775"), "{e}");

        // A symlink to a good directory: refused, not followed.
        let l = t.path().join("link");
        std::os::unix::fs::symlink(&d, &l).unwrap();
        let e = prepare(&l).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");

        // A regular file.
        let f = t.path().join("file");
        fs::write(&f, "x").unwrap();
        assert!(prepare(&f).is_err());
    }

    #[test]
    fn a_build_dir_owned_by_another_user_is_refused() {
        if !require_root() {
            return;
        }
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("bd");
        fs::create_dir(&d).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::lchown(&d, Some(65534), Some(65534)).unwrap();
        let e = prepare(&d).unwrap_err().to_string();
        assert!(
            e.contains(&d.display().to_string()) && e.contains("uid 65534") && e.contains("0755"),
            "{e}"
        );
        // Nothing was created in it.
        assert_eq!(fs::read_dir(&d).unwrap().count(), 0);
        // A good build dir whose roots/ another user created.
        let g = t.path().join("g");
        fs::create_dir_all(g.join("roots")).unwrap();
        std::os::unix::fs::lchown(g.join("roots"), Some(65534), None).unwrap();
        let e = prepare(&g).unwrap_err().to_string();
        assert!(e.contains("/g/roots") && e.contains("uid 65534"), "{e}");
        // A parent owned by another user (who could rename the build dir away).
        let p = t.path().join("p");
        fs::create_dir(&p).unwrap();
        std::os::unix::fs::lchown(&p, Some(65534), None).unwrap();
        let e = prepare(&p.join("bd")).unwrap_err().to_string();
        assert!(e.contains("parent") && e.contains("uid 65534"), "{e}");
    }

    /// A fake prepared root `<dir>/root` with a few files.
    fn fake_root(dir: &Path) {
        fs::create_dir_all(dir.join("root/usr/bin")).unwrap();
        fs::write(dir.join("root/usr/bin/tool"), "#!/bin/sh\n").unwrap();
        std::os::unix::fs::symlink("usr/bin", dir.join("root/bin")).unwrap();
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).unwrap();
    }

    #[test]
    fn only_records_the_daemon_wrote_for_this_tree_are_trusted() {
        let t = tempfile::tempdir().unwrap();
        let key = "k1";
        let dir = t.path().join(key);
        assert_eq!(check_root_with(&dir, key, false), Ok(None));
        fs::create_dir(&dir).unwrap();
        fake_root(&dir);
        // A bare `ready` file (what the old code wrote and trusted).
        fs::write(dir.join("ready"), "190 packages, prepared in 12.0s\n").unwrap();
        let e = check_root_with(&dir, key, false).unwrap_err();
        assert!(e.contains("not a root record"), "{e}");
        fs::remove_file(dir.join("ready")).unwrap();

        write_record(&dir, key, 3, 1.5).unwrap();
        let rec = check_root_with(&dir, key, false).unwrap().unwrap();
        assert_eq!((rec.key.as_str(), rec.packages), (key, 3));
        assert_eq!(mode(&dir.join("ready")), 0o644);

        // The same record under another key's directory.
        let other = t.path().join("k2");
        fs::rename(&dir, &other).unwrap();
        let e = check_root_with(&other, "k2", false).unwrap_err();
        assert!(e.contains("not of k2"), "{e}");
        fs::rename(&other, &dir).unwrap();

        // A record others may write.
        fs::set_permissions(dir.join("ready"), fs::Permissions::from_mode(0o666)).unwrap();
        assert!(check_root_with(&dir, key, false).is_err());
        fs::set_permissions(dir.join("ready"), fs::Permissions::from_mode(0o644)).unwrap();
        // A root directory others may write.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(check_root_with(&dir, key, false).is_err());
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        assert!(check_root_with(&dir, key, false).is_ok());

        // The tree changed after the record was written: a new file, or a changed mode.
        fs::write(dir.join("root/usr/bin/planted"), "x").unwrap();
        let e = check_root_with(&dir, key, false).unwrap_err();
        assert!(e.contains("changed since it was prepared"), "{e}");
        // Removing it again still leaves the directory's mtime changed.
        fs::remove_file(dir.join("root/usr/bin/planted")).unwrap();
        assert!(check_root_with(&dir, key, false).is_err());
        fs::remove_file(dir.join("ready")).unwrap();
        write_record(&dir, key, 3, 1.5).unwrap();
        assert!(check_root_with(&dir, key, false).is_ok());
        fs::set_permissions(
            dir.join("root/usr/bin/tool"),
            fs::Permissions::from_mode(0o4755),
        )
        .unwrap();
        assert!(check_root_with(&dir, key, false).is_err());
        // The per-process cache: this tree was verified (written) before the change, so a
        // cached check passes; a new daemon (empty cache) recomputes and refuses.
        assert!(check_root(&dir, key).is_ok());

        // A symlink named like the root is refused.
        let l = t.path().join("k3");
        std::os::unix::fs::symlink(&dir, &l).unwrap();
        assert!(check_root_with(&l, "k3", false).is_err());
    }

    #[test]
    fn a_record_planted_by_another_user_is_not_trusted() {
        if !require_root() {
            return;
        }
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("k");
        fs::create_dir(&dir).unwrap();
        fake_root(&dir);
        write_record(&dir, "k", 1, 0.1).unwrap();
        assert!(check_root_with(&dir, "k", false).is_ok());
        std::os::unix::fs::lchown(dir.join("ready"), Some(65534), None).unwrap();
        let e = check_root_with(&dir, "k", false).unwrap_err();
        assert!(e.contains("uid 65534"), "{e}");
        std::os::unix::fs::lchown(dir.join("ready"), Some(0), None).unwrap();
        std::os::unix::fs::lchown(&dir, Some(65534), None).unwrap();
        let e = check_root_with(&dir, "k", false).unwrap_err();
        assert!(e.contains("uid 65534"), "{e}");
    }

    #[test]
    fn the_tmp_parent_is_private_to_the_sandbox() {
        if !require_root() {
            return;
        }
        let t = tempfile::tempdir().unwrap();
        let tmp = t.path().join("k.tmp-1");
        create_tmp_parent(&tmp).unwrap();
        let md = fs::symlink_metadata(&tmp).unwrap();
        assert_eq!(md.mode() & 0o7777, 0o700);
        assert_eq!(
            (md.uid(), md.gid()),
            (
                cryo_sandbox::DEFAULT_ROOT_BASE,
                cryo_sandbox::DEFAULT_ROOT_BASE
            )
        );
        // Never reused.
        assert!(create_tmp_parent(&tmp).is_err());
    }
}
