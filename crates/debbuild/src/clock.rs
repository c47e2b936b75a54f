//! The build's clock. `Cryo-Clock: real` (the default, what Debian's build daemons run)
//! leaves it alone; `changelog` and `fixed N` pin it with the sandbox's consistent clock
//! (`cryo_sandbox::clock`: one offset for clocks, file times read and file times written),
//! mounted read-only from outside the build root. Only the epoch is decided here.

use cryo_prjconf::Clock;

/// Errors of the clock setup.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    #[error("the changelog date {0} is before 1970")]
    NegativeDate(i64),
}

/// The instant the clock starts at for `clock`, given the changelog's date; `None` for the
/// real clock.
pub fn pinned_epoch(clock: Clock, changelog_date: i64) -> Result<Option<i64>, ClockError> {
    match clock {
        Clock::Real => Ok(None),
        Clock::Fixed(n) => Ok(Some(n as i64)),
        Clock::Changelog if changelog_date < 0 => Err(ClockError::NegativeDate(changelog_date)),
        Clock::Changelog => Ok(Some(changelog_date)),
    }
}
