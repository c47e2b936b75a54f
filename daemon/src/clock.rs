//! The daemon's clock, injectable for tests.
//!
//! `CRYOD_NOW=<unix seconds>` pins the clock used for metadata validity checks
//! (`Valid-Until`), so that tests do not depend on today's date. It is a test hook:
//! production daemons leave it unset. Whatever it says is recorded where it matters (a
//! snapshot that accepted expired metadata records the clock it was checked against).

use std::time::{SystemTime, UNIX_EPOCH};

/// `CRYOD_NOW` does not hold a unix timestamp.
#[derive(Debug, thiserror::Error)]
#[error("CRYOD_NOW={value:?} is not a unix timestamp")]
pub struct ClockError {
    pub value: String,
    #[source]
    pub source: std::num::ParseIntError,
}

/// Where "now" comes from.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Fixed(i64),
}

impl Clock {
    /// From `CRYOD_NOW`, else the system clock. An unparsable value is an error.
    pub fn from_env() -> Result<Self, ClockError> {
        match std::env::var("CRYOD_NOW") {
            Ok(v) if !v.is_empty() => match v.parse::<i64>() {
                Ok(t) => Ok(Clock::Fixed(t)),
                Err(source) => Err(ClockError { value: v, source }),
            },
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
