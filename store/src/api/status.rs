//! `GET /api/v1/status` and `POST /api/v1/shutdown`.

use serde::{Deserialize, Serialize};

/// `GET /api/v1/status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DaemonStatus {
    pub version: String,
    pub pid: u32,
    pub uptime_secs: u64,
    pub state_dir: String,
    pub socket: String,
    pub listen: Option<String>,
    /// Uid of the caller as seen through SO_PEERCRED.
    pub peer_uid: Option<u32>,
    pub workers: usize,
    /// Sandbox builds run since the daemon started.
    #[serde(default)]
    pub builds_run: u64,
}

/// `POST /api/v1/shutdown` answer: `{"stopping": true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownResponse {
    pub stopping: bool,
}
