//! Root preparation without giving files away on the host: the Preinstall data is
//! unpacked as the daemon's own user (an unprivileged daemon's files appear inside as id
//! `CALLER_ID_INSIDE`; a root daemon shifts them to inside id 0 first), without set-id
//! bits on files, every entry's owner and mode as the archive gives them is kept in a
//! [`Manifest`], and a [`Fixup`]
//! (lists of paths per owner and per mode) is applied by uid 0 inside the first
//! writable-root sandbox job with the root's own `xargs`, `chown` and `chmod` (findutils
//! and coreutils are part of every Preinstall set; see `docs/builder.md`).

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::deb::{self, DataEntry, DebError, EntryKind};

/// Top-level directories the sandbox mounts over (`/proc`, `/dev`, `/tmp`, see
/// `docs/sandbox.md`): a job cannot reach the directories underneath, so they are left out
/// of the fixup and keep the daemon's ownership. No job ever sees them.
pub(crate) const SANDBOX_MOUNTS: [&str; 3] = ["proc", "dev", "tmp"];

/// Errors of unpacking with a manifest and writing the fixup.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(transparent)]
    Deb(#[from] DebError),
    #[error("i/o error on {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ManifestError + '_ {
    move |source| ManifestError::Io {
        path: path.into(),
        source,
    }
}

/// The owner and mode an entry should have (inside ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

/// What the extracted tree should look like: path (relative to the root, `""` for the
/// root itself) → owner and mode. Later packages replace earlier ones' entries, as files
/// on disk do.
#[derive(Debug, Default)]
pub(crate) struct Manifest {
    entries: BTreeMap<PathBuf, Meta>,
}

/// What one inode looks like on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OnDisk {
    pub is_symlink: bool,
    pub is_dir: bool,
    pub mode: u32,
}

impl OnDisk {
    /// A set-uid or set-gid file (set-gid directories only mean group inheritance).
    pub fn is_setid_file(&self) -> bool {
        !self.is_dir && !self.is_symlink && self.mode & 0o6000 != 0
    }
}

/// The changes to apply inside the sandbox: `chown -h` per owner, then `chmod` per mode.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Fixup {
    pub owners: BTreeMap<(u32, u32), BTreeSet<PathBuf>>,
    pub modes: BTreeMap<u32, BTreeSet<PathBuf>>,
}

impl Manifest {
    /// Unpacks `deb`'s data into `dest` as the current user and records its entries.
    /// Directories get `u+rwx` on disk (the manifest keeps their real mode), so that a
    /// read-only directory cannot stop a later package from unpacking into it.
    pub fn unpack(&mut self, deb: &Path, dest: &Path) -> Result<usize, ManifestError> {
        let entries = deb::extract_data_listing(deb, dest)?;
        for e in &entries {
            if e.kind == EntryKind::Directory && e.mode & 0o700 != 0o700 {
                let p = dest.join(&e.path);
                let mode = std::fs::Permissions::from_mode(e.mode | 0o700);
                std::fs::set_permissions(&p, mode).map_err(io(&p))?;
            }
        }
        let n = entries.len();
        self.record(entries);
        Ok(n)
    }

    /// Adds a package's entries; a hard link takes its target's entry (it is the same
    /// inode).
    pub fn record(&mut self, entries: Vec<DataEntry>) {
        for e in entries {
            let meta = match &e.kind {
                EntryKind::HardLink(target) => self.entries.get(target).copied(),
                _ => Some(Meta {
                    uid: e.uid,
                    gid: e.gid,
                    mode: e.mode,
                }),
            };
            match meta {
                Some(m) => self.entries.insert(e.path, m),
                None => self.entries.remove(&e.path),
            };
        }
    }

    /// The changes that turn the tree `disk` (as [`scan`] lists it) into the manifest's:
    /// every inode gets the archive's owner (root:root if no archive named it: parents
    /// created implicitly, cryo's own files); a mode is set where it differs from the
    /// archive's or carries set-id/sticky bits (`chown` clears set-id bits).
    pub fn fixup(&self, disk: &BTreeMap<PathBuf, OnDisk>) -> Fixup {
        let mut f = Fixup::default();
        for (path, d) in disk {
            let want = self.entries.get(path).copied().unwrap_or(Meta {
                uid: 0,
                gid: 0,
                mode: d.mode,
            });
            f.owners
                .entry((want.uid, want.gid))
                .or_default()
                .insert(path.clone());
            if !d.is_symlink && (want.mode != d.mode || want.mode & 0o7000 != 0) {
                f.modes.entry(want.mode).or_default().insert(path.clone());
            }
        }
        f
    }
}

/// Every inode under `root` (relative paths, `""` for `root`), without following symlinks
/// and without [`SANDBOX_MOUNTS`] and their contents.
pub(crate) fn scan(root: &Path) -> Result<BTreeMap<PathBuf, OnDisk>, ManifestError> {
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let path = root.join(&rel);
        let md = std::fs::symlink_metadata(&path).map_err(io(&path))?;
        if md.is_dir() {
            for e in std::fs::read_dir(&path).map_err(io(&path))? {
                let name = e.map_err(io(&path))?.file_name();
                let top_mount = rel.as_os_str().is_empty()
                    && SANDBOX_MOUNTS.iter().any(|m| name.as_os_str() == *m);
                if !top_mount {
                    stack.push(rel.join(name));
                }
            }
        }
        let d = OnDisk {
            is_symlink: md.file_type().is_symlink(),
            is_dir: md.is_dir(),
            mode: md.mode() & 0o7777,
        };
        out.insert(rel, d);
    }
    Ok(out)
}

/// A path as `xargs` gets it inside the sandbox (run from `/`): `./rel`, never starting
/// with `-`.
fn arg(rel: &Path) -> Vec<u8> {
    let mut v = b"./".to_vec();
    v.extend_from_slice(rel.as_os_str().as_encoded_bytes());
    v
}

impl Fixup {
    /// Writes the lists into `dir` (`owner.UID:GID` and `mode.MODE`, NUL-separated paths)
    /// and returns a log line.
    pub fn write(&self, dir: &Path) -> Result<String, ManifestError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let write = |name: String, paths: &BTreeSet<PathBuf>| {
            let mut data = Vec::new();
            for p in paths {
                data.extend(arg(p));
                data.push(0);
            }
            let p = dir.join(name);
            std::fs::write(&p, data).map_err(io(&p))
        };
        for ((uid, gid), paths) in &self.owners {
            write(format!("owner.{uid}:{gid}"), paths)?;
        }
        for (mode, paths) in &self.modes {
            write(format!("mode.{mode:04o}"), paths)?;
        }
        let n: usize = self.owners.values().map(BTreeSet::len).sum();
        let m: usize = self.modes.values().map(BTreeSet::len).sum();
        Ok(format!(
            "manifest: {n} inodes in {} owner groups, {m} modes to set\n",
            self.owners.len()
        ))
    }
}

/// `sh -c` applying the lists in `dir_inside` (absolute, inside the sandbox): all owners
/// first, then the modes (`chown` clears set-id bits).
pub(crate) fn fixup_command(dir_inside: &str) -> Vec<String> {
    let script = r#"set -eu
cd /
for f in "$1"/owner.*; do
  [ -e "$f" ] || continue
  xargs -0r chown -h -- "${f##*/owner.}" < "$f"
done
for f in "$1"/mode.*; do
  [ -e "$f" ] || continue
  xargs -0r chmod -- "${f##*/mode.}" < "$f"
done
echo "cryo: applied the recorded owners and modes"
"#;
    ["/bin/sh", "-c", script, "sh", dir_inside]
        .map(str::to_owned)
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: EntryKind, uid: u32, gid: u32, mode: u32) -> DataEntry {
        DataEntry {
            path: path.into(),
            kind,
            uid,
            gid,
            mode,
        }
    }

    fn disk(items: &[(&str, bool, u32)]) -> BTreeMap<PathBuf, OnDisk> {
        items
            .iter()
            .map(|&(p, is_symlink, mode)| {
                let d = OnDisk {
                    is_symlink,
                    is_dir: false,
                    mode,
                };
                (PathBuf::from(p), d)
            })
            .collect()
    }

    #[test]
    fn owners_and_modes_come_from_the_archive_and_default_to_root() {
        let mut m = Manifest::default();
        m.record(vec![
            entry("", EntryKind::Directory, 0, 0, 0o755),
            entry("var/local", EntryKind::Directory, 0, 50, 0o2775),
            entry("usr/bin/chage", EntryKind::Other, 0, 42, 0o2755),
            entry("bin/su", EntryKind::Other, 0, 0, 0o4755),
            entry("bin/sh", EntryKind::Symlink, 0, 0, 0o777),
            entry("root", EntryKind::Directory, 0, 0, 0o500),
        ]);
        // A later package replaces a file; a hard link follows its target.
        m.record(vec![
            entry("bin/su", EntryKind::Other, 0, 0, 0o755),
            entry(
                "usr/bin/expiry",
                EntryKind::HardLink("usr/bin/chage".into()),
                0,
                0,
                0,
            ),
            entry("gone", EntryKind::HardLink("missing".into()), 0, 0, 0),
        ]);
        let f = m.fixup(&disk(&[
            ("", false, 0o755),
            ("var/local", false, 0o2775),
            ("usr/bin/chage", false, 0o2755),
            ("usr/bin/expiry", false, 0o2755),
            ("bin/su", false, 0o755),
            ("bin/sh", true, 0o777),
            ("root", false, 0o700),
            ("gone", false, 0o644),
            ("var/lib/dpkg/status", false, 0o644),
        ]));
        let set = |v: &[&str]| v.iter().map(PathBuf::from).collect::<BTreeSet<_>>();
        assert_eq!(
            f.owners,
            BTreeMap::from([
                (
                    (0, 0),
                    set(&[
                        "",
                        "bin/su",
                        "bin/sh",
                        "root",
                        "gone",
                        "var/lib/dpkg/status"
                    ])
                ),
                ((0, 42), set(&["usr/bin/chage", "usr/bin/expiry"])),
                ((0, 50), set(&["var/local"])),
            ])
        );
        assert_eq!(
            f.modes,
            BTreeMap::from([
                (0o500, set(&["root"])),
                (0o2755, set(&["usr/bin/chage", "usr/bin/expiry"])),
                (0o2775, set(&["var/local"])),
            ])
        );
    }

    #[test]
    fn lists_are_written_nul_separated_and_relative() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = Fixup::default();
        f.owners
            .entry((0, 0))
            .or_default()
            .extend(["".into(), PathBuf::from("-odd name")]);
        f.modes.entry(0o4755).or_default().insert("bin/su".into());
        let log = f.write(dir.path()).unwrap();
        assert_eq!(
            log,
            "manifest: 2 inodes in 1 owner groups, 1 modes to set\n"
        );
        assert_eq!(
            std::fs::read(dir.path().join("owner.0:0")).unwrap(),
            b"./\0./-odd name\0"
        );
        assert_eq!(
            std::fs::read(dir.path().join("mode.4755")).unwrap(),
            b"./bin/su\0"
        );
    }

    #[test]
    fn scan_skips_the_sandbox_mount_points() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["proc/x", "dev", "tmp", "etc/tmp"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        std::os::unix::fs::symlink("etc", dir.path().join("link")).unwrap();
        let s = scan(dir.path()).unwrap();
        let names: Vec<&str> = s.keys().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(names, ["", "etc", "etc/tmp", "link"]);
        assert!(s[Path::new("link")].is_symlink);
    }
}
