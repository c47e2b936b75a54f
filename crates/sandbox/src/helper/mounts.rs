//! The sandbox's file-system view, built by init inside its private mount namespace: the
//! root (overlayfs over the shared lower directory, or a writable directory), a fresh
//! `/proc`, a minimal `/dev`, tmpfs `/tmp`, the caller's bind mounts, then `pivot_root`.
//! Also brings up the loopback interface of the new network namespace.

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::fs::{symlink, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::statvfs::{statvfs, FsFlags};

use super::{Ctx, HelperError};
use crate::idmap::ResolvedIdMap;
use crate::spec::{RootFs, SandboxSpec};

/// Device nodes bind-mounted from the host (device nodes cannot be created in a user ns).
pub(crate) const DEV_NODES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

const NONE: Option<&str> = None;

fn do_mount(
    src: Option<&OsStr>,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), HelperError> {
    mount(src, target, fstype, flags, data).ctx(|| {
        format!(
            "mount {} on {} (type {}, options {})",
            src.map(|s| s.to_string_lossy()).unwrap_or_default(),
            target.display(),
            fstype.unwrap_or("bind"),
            data.unwrap_or("")
        )
    })
}

/// Builds the whole view and pivots into it. On return `/` is the build root.
pub(super) fn build_root(spec: &SandboxSpec, map: &ResolvedIdMap) -> Result<(), HelperError> {
    mount(NONE, "/", NONE, MsFlags::MS_REC | MsFlags::MS_PRIVATE, NONE)
        .ctx(|| "make / private".into())?;
    // The view is mounted over its own base path: it is only visible in this mount namespace.
    let root = match &spec.root {
        RootFs::Overlay { lower, upper, work } => {
            let opts = format!(
                "lowerdir={},upperdir={},workdir={},userxattr",
                lower.display(),
                upper.display(),
                work.display()
            );
            do_mount(
                Some(OsStr::new("overlay")),
                lower,
                Some("overlay"),
                MsFlags::empty(),
                Some(&opts),
            )?;
            lower.clone()
        }
        RootFs::Writable { dir } => {
            do_mount(
                Some(dir.as_os_str()),
                dir,
                None,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None,
            )?;
            dir.clone()
        }
    };
    let nosuid_nodev = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    let proc_dir = ensure_dir(&root, Path::new("/proc"))?;
    do_mount(
        Some(OsStr::new("proc")),
        &proc_dir,
        Some("proc"),
        nosuid_nodev | MsFlags::MS_NOEXEC,
        None,
    )?;
    build_dev(&root, map)?;
    let tmp = ensure_dir(&root, Path::new("/tmp"))?;
    do_mount(
        Some(OsStr::new("tmpfs")),
        &tmp,
        Some("tmpfs"),
        nosuid_nodev,
        Some("mode=1777"),
    )?;
    for b in &spec.binds {
        let is_dir = std::fs::metadata(&b.source)
            .ctx(|| format!("bind source {}", b.source.display()))?
            .is_dir();
        let target = if is_dir {
            ensure_dir(&root, &b.target)?
        } else {
            ensure_file(&root, &b.target)?
        };
        do_mount(
            Some(b.source.as_os_str()),
            &target,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
        )?;
        if !b.writable {
            remount_readonly(&target)?;
        }
    }
    nix::unistd::chdir(&root).ctx(|| format!("chdir {}", root.display()))?;
    nix::unistd::pivot_root(".", ".").ctx(|| format!("pivot_root into {}", root.display()))?;
    umount2(".", MntFlags::MNT_DETACH).ctx(|| "detach the old root".into())?;
    nix::unistd::chdir("/").ctx(|| "chdir /".into())?;
    Ok(())
}

fn build_dev(root: &Path, map: &ResolvedIdMap) -> Result<(), HelperError> {
    let dev = ensure_dir(root, Path::new("/dev"))?;
    do_mount(
        Some(OsStr::new("tmpfs")),
        &dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("mode=0755"),
    )?;
    for n in DEV_NODES {
        let t = dev.join(n);
        File::create(&t).ctx(|| format!("create {}", t.display()))?;
        let host = Path::new("/dev").join(n);
        do_mount(Some(host.as_os_str()), &t, None, MsFlags::MS_BIND, None)?;
    }
    let pts = dev.join("pts");
    std::fs::create_dir(&pts).ctx(|| format!("mkdir {}", pts.display()))?;
    // gid 5 is Debian's `tty` group; only name it when it is mapped.
    let tty_gid = if map.outside_gid(5).is_some() {
        ",gid=5"
    } else {
        ""
    };
    let opts = format!("newinstance,ptmxmode=0666,mode=0620{tty_gid}");
    do_mount(
        Some(OsStr::new("devpts")),
        &pts,
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some(&opts),
    )?;
    let shm = dev.join("shm");
    std::fs::create_dir(&shm).ctx(|| format!("mkdir {}", shm.display()))?;
    do_mount(
        Some(OsStr::new("tmpfs")),
        &shm,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=1777"),
    )?;
    let links = [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ];
    for (name, to) in links {
        symlink(to, dev.join(name)).ctx(|| format!("symlink /dev/{name}"))?;
    }
    Ok(())
}

/// Makes a bind mount read-only, keeping the flags the kernel locks in a user namespace.
fn remount_readonly(target: &Path) -> Result<(), HelperError> {
    let st = statvfs(target).ctx(|| format!("statvfs {}", target.display()))?;
    let f = st.flags();
    let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    for (fs, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if f.contains(fs) {
            flags |= ms;
        }
    }
    do_mount(None, target, None, flags, None)
}

/// The host path of `inside` under `root`, creating missing directories and refusing
/// symlinks (which would otherwise be resolved against the host's root at this point).
fn ensure_dir(root: &Path, inside: &Path) -> Result<PathBuf, HelperError> {
    let mut cur = root.to_path_buf();
    for c in inside.components() {
        let Component::Normal(name) = c else { continue };
        cur.push(name);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(HelperError::Other(format!(
                    "{} is a symlink in the build root; refusing to mount through it",
                    cur.display()
                )))
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(HelperError::Other(format!(
                    "{} is not a directory",
                    cur.display()
                )))
            }
            Err(_) => std::fs::create_dir(&cur).ctx(|| format!("mkdir {}", cur.display()))?,
        }
    }
    Ok(cur)
}

/// Like [`ensure_dir`] for the parent, then an (empty) file as mount point.
fn ensure_file(root: &Path, inside: &Path) -> Result<PathBuf, HelperError> {
    let parent = inside.parent().unwrap_or(Path::new("/"));
    let name = inside
        .file_name()
        .ok_or_else(|| HelperError::Other(format!("bad bind target {}", inside.display())))?;
    let p = ensure_dir(root, parent)?.join(name);
    match std::fs::symlink_metadata(&p) {
        Ok(m) if m.file_type().is_symlink() => {
            Err(HelperError::Other(format!("{} is a symlink", p.display())))
        }
        Ok(_) => Ok(p),
        Err(_) => {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .open(&p)
                .ctx(|| format!("create {}", p.display()))?;
            Ok(p)
        }
    }
}

/// Sets IFF_UP on `lo` of the (new) network namespace.
pub(super) fn loopback_up() -> Result<(), HelperError> {
    // SAFETY: plain socket(2); the fd is wrapped immediately.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(HelperError::Sys {
            what: "socket for lo".into(),
            source: nix::errno::Errno::last(),
        });
    }
    // SAFETY: fresh fd owned by nobody else.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let raw = std::os::fd::AsRawFd::as_raw_fd(&sock);
    // SAFETY: ifreq is plain old data; zeroed is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write the ifreq we pass.
    unsafe {
        if libc::ioctl(raw, libc::SIOCGIFFLAGS, &mut ifr) < 0 {
            return Err(HelperError::Sys {
                what: "SIOCGIFFLAGS lo".into(),
                source: nix::errno::Errno::last(),
            });
        }
        ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(raw, libc::SIOCSIFFLAGS, &ifr) < 0 {
            return Err(HelperError::Sys {
                what: "SIOCSIFFLAGS lo up".into(),
                source: nix::errno::Errno::last(),
            });
        }
    }
    Ok(())
}
