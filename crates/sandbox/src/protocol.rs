//! The report the helper writes on its stdout (one JSON document) when a job ends: how the
//! command ended, or why the sandbox could not be set up. Internal wire type between
//! [`crate::Sandbox`] and [`crate::helper_main`]; both sides are built from the same crate.

use serde::{Deserialize, Serialize};

/// How a job ended, as seen by the helper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum HelperReport {
    /// The command exited with this code.
    Exited { code: i32 },
    /// The command was killed by this signal.
    Signaled { signal: i32 },
    /// The wall-clock limit expired; the pid namespace was killed.
    TimedOut,
    /// The sandbox could not be set up (namespaces, mounts, id maps, ...).
    SetupFailed { message: String },
    /// The sandbox was set up but the command could not be started.
    ExecFailed { message: String },
}
