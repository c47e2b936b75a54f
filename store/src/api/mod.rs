//! Wire types of the daemon's JSON API (`/api/v1/...`, `/cache/...`), shared by `cryod`
//! and `cryo`: every request and response body, one module per endpoint group.
//!
//! | module | routes |
//! |---|---|
//! | [`status`] | `GET /status`, `POST /shutdown` |
//! | [`store`] | `/store/{blobs,trees,roots,verify,gc,stats}` |
//! | [`mirror`] | `/mirrors`, `/mirrors/{name}`, `/mirrors/sync` |
//! | [`snapshot`] | `/snapshots`, `/snapshots/{id}[/diff/{b}, /packages/{name}, /fetch]` |
//! | [`resolve`] | `POST /resolve`, `GET /drv/{id}` |
//! | [`build`] | `POST /build`, `GET /drv/{id}/log` (text) |
//! | [`verify`] | `POST /verify`, `POST /check`, `/reports`, `/reports/{id}` (rendered) |
//! | [`explain`] | `POST /explain`, `POST /verify/buildinfo` |
//! | [`cache`] | `/cache/keys`, and the cache protocol: `/cache/info`, `/cache/drv/{id}` |
//! | [`project`] | `/projects...`: projects, packages, results, events, publishing |
//! | [`team`] | `/users`, `/groups`, `/tokens`, `/projects/{p}/roles`, `/audit`, `/whoami` |
//! | [`request`] | `/requests...` |
//! | [`campaign`] | `/campaigns...`: verification campaigns, results, rebuilderd export |
//!
//! [`names`] holds the validated name types. Every type serialises exactly as the daemon
//! answers (field names and order, `null`s and omitted fields), so that a client can
//! re-serialise what it read without changing it.
//!
//! Every error response has the body [`ApiError`] and an HTTP status that says what kind of
//! failure it is (400 bad input, 404 unknown object, 409 conflict, 500 internal); a 500's
//! body is an [`InternalError`].

use serde::{Deserialize, Serialize};

pub mod build;
pub mod cache;
pub mod campaign;
pub mod explain;
pub mod mirror;
pub mod names;
pub mod project;
pub mod request;
pub mod resolve;
pub mod snapshot;
pub mod status;
pub mod store;
pub mod team;
pub mod verify;

pub use build::*;
pub use cache::*;
pub use campaign::*;
pub use explain::*;
pub use mirror::*;
pub use names::*;
pub use project::*;
pub use request::*;
pub use resolve::*;
pub use snapshot::*;
pub use status::*;
pub use store::*;
pub use team::*;
pub use verify::*;

/// API version prefix.
pub const API_PREFIX: &str = "/api/v1";

/// Error body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `not_found`, `corrupt`, `bad_request`.
    pub code: String,
    pub message: String,
}

/// Body of a 500: `code` is `internal` (or `corrupt`), the message shows nothing but the
/// request id (and the digest of a corrupt blob); the detail is in the daemon's log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InternalError {
    pub code: String,
    pub message: String,
    pub request_id: String,
}

/// `{"removed": NAME}`: `DELETE /store/roots/{name}`, `DELETE /mirrors/{name}`,
/// `DELETE /projects/{p}/packages/{pkg}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    pub removed: String,
}

#[cfg(test)]
mod tests;
