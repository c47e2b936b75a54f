//! The sandbox's init (pid 1 of the new pid namespace). It waits for the id maps, becomes
//! root inside, builds the root filesystem and pivots into it, sets the hostname, brings up
//! loopback, forks the command, reaps every zombie, and reports the command's exit status to
//! the outer helper. When it exits, the kernel kills whatever is left in the namespace.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{ForkResult, Gid, Pid, Uid};

use super::{chain, exec, fix_ownership_inside, mounts, Ctx, HelperError};
use crate::idmap::ResolvedIdMap;
use crate::protocol::HelperReport;
use crate::spec::SandboxSpec;

/// Runs in the cloned child; returns the process exit code.
pub(super) fn child_main(
    spec: &SandboxSpec,
    map: &ResolvedIdMap,
    sync: OwnedFd,
    report: OwnedFd,
) -> i32 {
    // If the outer helper dies (e.g. the job is cancelled), so does init, and with it the
    // whole pid namespace.
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() {
        return 1;
    }
    let mut byte = [0u8; 1];
    // The outer helper writes one byte once the id maps are installed; EOF means it failed.
    // It keeps its end open until we are gone, so a hang-up later means it died.
    let mut sync = std::fs::File::from(sync);
    match sync.read(&mut byte) {
        Ok(1) => {}
        _ => return 1,
    }
    let rep = run_init(spec, map, &sync);
    let json = serde_json::to_vec(&rep).unwrap_or_default();
    match nix::unistd::write(&report, &json) {
        Ok(_) => 0,
        Err(_) => 1,
    }
}

fn run_init(spec: &SandboxSpec, map: &ResolvedIdMap, sync: &std::fs::File) -> HelperReport {
    if let Err(e) = setup(spec, map, sync) {
        return HelperReport::SetupFailed { message: chain(&e) };
    }
    let prepared = match exec::Prepared::new(spec, map) {
        Ok(p) => p,
        Err(e) => return HelperReport::SetupFailed { message: chain(&e) },
    };
    match spawn_and_reap(spec, &prepared) {
        Ok(r) => r,
        Err(e) => HelperReport::SetupFailed { message: chain(&e) },
    }
}

/// Everything done as root inside before the command is started.
fn setup(spec: &SandboxSpec, map: &ResolvedIdMap, sync: &std::fs::File) -> Result<(), HelperError> {
    // Become the first mapped id (root for a range) so that files we create are owned by a
    // mapped id; we keep the full capability set of the new user namespace.
    let (uid, gid) = (map.uid[0].inside, map.gid[0].inside);
    if map.setgroups_allowed {
        nix::unistd::setgroups(&[]).ctx(|| "setgroups".into())?;
    }
    nix::unistd::setresgid(Gid::from_raw(gid), Gid::from_raw(gid), Gid::from_raw(gid))
        .ctx(|| format!("setresgid {gid}"))?;
    nix::unistd::setresuid(Uid::from_raw(uid), Uid::from_raw(uid), Uid::from_raw(uid))
        .ctx(|| format!("setresuid {uid}"))?;
    // A credential change clears the parent-death signal: arm it again, then make sure the
    // helper did not die in between (its end of the sync pipe would have hung up).
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).ctx(|| "PR_SET_PDEATHSIG".into())?;
    let mut fds = [PollFd::new(sync.as_fd(), PollFlags::POLLIN)];
    let ready = poll(&mut fds, PollTimeout::ZERO).ctx(|| "poll the sync pipe".into())?;
    if ready > 0 {
        return Err(HelperError::Other(
            "the sandbox helper died during setup".into(),
        ));
    }
    fix_ownership_inside(spec, map)?;
    mounts::build_root(spec, map)?;
    nix::unistd::sethostname(&spec.hostname).ctx(|| "sethostname".into())?;
    mounts::loopback_up()?;
    Ok(())
}

fn spawn_and_reap(
    spec: &SandboxSpec,
    prepared: &exec::Prepared,
) -> Result<HelperReport, HelperError> {
    let (err_r, err_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).ctx(|| "pipe".into())?;
    // SAFETY: init is single-threaded, so the child may run arbitrary code after fork.
    let child = match unsafe { nix::unistd::fork() }.ctx(|| "fork the command".into())? {
        ForkResult::Child => {
            drop(err_r);
            let e = exec::run_command(spec, prepared);
            let _ = nix::unistd::write(&err_w, chain(&e).as_bytes());
            // SAFETY: leave without running the parent's exit handlers.
            unsafe { libc::_exit(127) }
        }
        ForkResult::Parent { child } => child,
    };
    drop(err_w);
    let mut msg = Vec::new();
    // EOF with nothing written means execve succeeded (the pipe is close-on-exec).
    let _ = std::fs::File::from(err_r).read_to_end(&mut msg);
    let status = reap_until(child)?;
    if !msg.is_empty() {
        return Ok(HelperReport::ExecFailed {
            message: String::from_utf8_lossy(&msg).into_owned(),
        });
    }
    Ok(status)
}

/// Reaps children (orphans are re-parented to us) until `main` has exited.
fn reap_until(main: Pid) -> Result<HelperReport, HelperError> {
    loop {
        match waitpid(None::<Pid>, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == main => {
                return Ok(HelperReport::Exited { code })
            }
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == main => {
                return Ok(HelperReport::Signaled { signal: sig as i32 })
            }
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(source) => {
                return Err(HelperError::Sys {
                    what: "waitpid".into(),
                    source,
                })
            }
        }
    }
}
