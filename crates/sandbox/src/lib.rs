//! cryo-sandbox: cryo's Linux build sandbox. A job ([`SandboxSpec`]) runs one command in new
//! user, mount, pid, network (loopback only), ipc, uts and cgroup namespaces, on a private
//! copy-on-write view of a shared read-only root (or a writable root), with a minimal
//! `/dev`, a fresh `/proc`, tmpfs `/tmp`, extra bind mounts, an exact environment,
//! `no_new_privs`, landlock write restrictions, rlimits, a wall-clock timeout and a capped
//! log. Nothing here knows about Debian: a builder layer turns derivations into jobs.
//!
//! The library side ([`Sandbox`]) never forks itself: it starts the single-threaded helper
//! process ([`helper_main`], e.g. the `cryo-sandbox-helper` binary), which does the
//! namespace work. See `docs/sandbox.md` for the isolation model and id mapping.

pub mod clock;
mod helper;
pub mod idmap;
mod ownership;
mod protocol;
mod run;
pub mod spec;

pub use helper::helper_main;
pub use idmap::{
    IdMapError, IdMapping, ResolvedIdMap, CALLER_ID_INSIDE, DEFAULT_ROOT_BASE, RANGE_SIZE,
};
pub use ownership::{shift_ownership, OwnershipError};
pub use run::{
    ExitStatusKind, HelperCommand, JobObserver, KillHandle, Outcome, RunningSandbox, Sandbox,
    SandboxError,
};
pub use spec::{
    BindMount, CommandSpec, LandlockSpec, Limits, LogLimitAction, Owner, RootFs, SandboxSpec,
    SpecError, DEFAULT_HOSTNAME,
};
