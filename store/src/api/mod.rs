//! Wire types of the daemon's JSON API (`/api/v1/...`), shared by `cryod` and `cryo`, one
//! module per endpoint group.
//!
//! Every error response has the body [`ApiError`] and an HTTP status that says what kind of
//! failure it is (400 bad input, 404 unknown object, 409 conflict, 500 internal).

use serde::{Deserialize, Serialize};

pub mod names;
pub mod status;
pub mod store;

pub use names::*;
pub use status::*;
pub use store::*;

/// API version prefix.
pub const API_PREFIX: &str = "/api/v1";

/// Error body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `not_found`, `corrupt`, `bad_request`.
    pub code: String,
    pub message: String,
}
