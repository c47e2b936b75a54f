//! The build's clock: `Cryo-Clock: changelog` (default) or `fixed N` pin `time()`,
//! `gettimeofday()` and `clock_gettime(CLOCK_REALTIME)` with libfaketime from the build
//! root; `real` leaves the clock alone. Only the environment is computed here.

use std::collections::BTreeMap;
use std::path::Path;

use cryo_prjconf::Clock;

/// Errors of the clock setup.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    #[error(
        "the clock policy {0:?} needs libfaketime in the build root \
         (usr/lib/<multiarch>/faketime/libfaketime.so.1): add libfaketime to the build \
         environment or use `Cryo-Clock: real`"
    )]
    FaketimeMissing(Clock),
    #[error("the changelog date {0} is before 1970")]
    NegativeDate(i64),
}

/// The library's path inside `root`, if installed.
pub fn find_libfaketime(root: &Path) -> Option<String> {
    let mut dirs: Vec<_> = std::fs::read_dir(root.join("usr/lib"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|d| format!("/usr/lib/{d}/faketime/libfaketime.so.1"))
        .find(|p| root.join(p.trim_start_matches('/')).is_file())
}

/// The variables that pin the clock for `clock`, given the changelog's date.
///
/// * `FAKETIME=@<secs>` with `FAKETIME_FMT=%s`: every process starts at that instant and
///   its clock then runs (a frozen clock breaks programs that wait for time to pass).
/// * `NO_FAKE_STAT=1`: `stat()` reports real file times; faked ones leak into the mtimes
///   that `dpkg-deb` clamps to `SOURCE_DATE_EPOCH`.
/// * `FAKETIME_DONT_FAKE_MONOTONIC=1`: timeouts measured on the monotonic clock stay real.
pub fn clock_env(
    root: &Path,
    clock: Clock,
    changelog_date: i64,
) -> Result<BTreeMap<String, String>, ClockError> {
    let secs = match clock {
        Clock::Real => return Ok(BTreeMap::new()),
        Clock::Fixed(n) => n.to_string(),
        Clock::Changelog if changelog_date < 0 => {
            return Err(ClockError::NegativeDate(changelog_date))
        }
        Clock::Changelog => changelog_date.to_string(),
    };
    let lib = find_libfaketime(root).ok_or(ClockError::FaketimeMissing(clock))?;
    Ok([
        ("LD_PRELOAD", lib),
        ("FAKETIME", format!("@{secs}")),
        ("FAKETIME_FMT", "%s".to_owned()),
        ("NO_FAKE_STAT", "1".to_owned()),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect())
}
