//! The pinned clock: `libcryo-clock.so` (source `clock/cryo-clock.c`, built by `build.rs`),
//! a small preload library that shifts every time a build can observe by one offset, in both
//! directions (clocks and file times read: `real - offset`; file times written:
//! `given + offset`), so a pinned clock stays consistent with the file system. Builders put
//! the library into a job as a read-only bind mount at [`SHIM_PATH`] — outside the
//! distribution's package set, never registered with its package manager — and set
//! [`env`]'s variables.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::spec::BindMount;

/// The library's bytes, as compiled for this architecture.
pub const SHIM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libcryo-clock.so"));

/// Where builds see the library (a read-only bind mount; `/run` holds runtime files, not
/// the distribution's).
pub const SHIM_PATH: &str = "/run/cryo/libcryo-clock.so";

/// The behaviour's version: bump it when what a build observes changes (builders record it
/// in their version, so derivations built with another behaviour are not reused).
pub const SHIM_VERSION: u32 = 1;

/// The variable carrying the offset in seconds.
pub const OFFSET_VAR: &str = "CRYO_CLOCK_OFFSET";

/// Writes the library as `dir/libcryo-clock.so` (mode 0444) and returns the read-only bind
/// mount that shows it at [`SHIM_PATH`].
pub fn install(dir: &Path) -> std::io::Result<BindMount> {
    std::fs::create_dir_all(dir)?;
    let path: PathBuf = dir.join("libcryo-clock.so");
    let mut f = std::fs::File::create(&path)?;
    f.write_all(SHIM)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o444))?;
    Ok(BindMount {
        source: path,
        target: PathBuf::from(SHIM_PATH),
        writable: false,
        owner: None,
    })
}

/// The environment that pins the clock to `epoch` at the instant `now` (both seconds since
/// the epoch): the clock then runs from `epoch`, and every process of the job shares the one
/// offset. `LD_PRELOAD` is prepended to any preload already in `env`.
pub fn env(epoch: i64, now: i64, env: &mut BTreeMap<String, String>) {
    let preload = match env.get("LD_PRELOAD") {
        Some(p) if !p.is_empty() => format!("{SHIM_PATH}:{p}"),
        _ => SHIM_PATH.to_owned(),
    };
    env.insert("LD_PRELOAD".into(), preload);
    env.insert(OFFSET_VAR.into(), (now - epoch).to_string());
}

/// The current time in seconds since the epoch (for [`env`]'s `now`).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
