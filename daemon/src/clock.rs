//! The daemon's clock, injectable for tests.
//!
//! `CRYOD_NOW=<unix seconds>` pins the clock used for metadata validity checks
//! (`Valid-Until`), so that tests do not depend on today's date. It is a test hook:
//! production daemons leave it unset. Whatever it says is recorded where it matters (a
//! snapshot that accepted expired metadata records the clock it was checked against).

use std::time::{SystemTime, UNIX_EPOCH};

/// Where "now" comes from.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Fixed(i64),
}

impl Clock {
    /// From `CRYOD_NOW`, else the system clock. An unparsable value is an error.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("CRYOD_NOW") {
            Ok(v) if !v.is_empty() => v
                .parse::<i64>()
                .map(Clock::Fixed)
                .map_err(|_| format!("CRYOD_NOW={v:?} is not a unix timestamp")),
            _ => Ok(Clock::System),
        }
    }

    /// Current unix time.
    pub fn now(&self) -> i64 {
        match self {
            Clock::Fixed(t) => *t,
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        }
    }
}
