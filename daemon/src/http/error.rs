//! The API error type: explicit status + `{code, message}`.
//!
//! A 500 never shows its cause: whatever its code and message, the client gets
//! `{code: "internal", message: "internal error (request id <id>)", request_id}` and the
//! detail goes to the log under the same id. Every `ApiErr` becomes a response here, so no
//! handler can forget this; [`mask_internal`] also covers 500s built any other way.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cryo_store::api::ApiError;
use cryo_store::blob::BlobError;
use cryo_store::StoreError;

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiErr {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiErr {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: message.into(),
        }
    }
}

/// Body of a 500: nothing but the request id.
#[derive(serde::Serialize)]
struct InternalBody {
    code: &'static str,
    message: String,
    request_id: String,
}

/// Marks a 500 whose body was already masked (and its detail logged).
#[derive(Clone, Copy)]
struct Masked;

/// The one 500 whose answer says what is wrong: a stored object failed its hash check.
/// Its public message is built by [`ApiErr::from_store`] from the digest alone (which the
/// client named); the reason (header, offsets, paths) is only logged.
const CORRUPT: &str = "corrupt";

/// The masked answer of an internal error with request id `id` (`public`: the message of
/// a [`CORRUPT`] error).
fn internal_response(id: String, public: Option<String>) -> Response {
    let (code, message) = match public {
        Some(m) => (CORRUPT, format!("{m} (request id {id})")),
        None => ("internal", format!("internal error (request id {id})")),
    };
    let mut r = (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(InternalBody {
            code,
            message,
            request_id: id,
        }),
    )
        .into_response();
    r.extensions_mut().insert(Masked);
    r
}

impl IntoResponse for ApiErr {
    fn into_response(self) -> Response {
        if self.status == StatusCode::INTERNAL_SERVER_ERROR {
            let id = super::request_id::current().unwrap_or_else(super::request_id::next);
            tracing::error!(request_id = %id, code = self.code, detail = %self.message, "internal error");
            // `from_store` starts the message with "blob <digest> is corrupt"; nothing else
            // of it is shown.
            let public = (self.code == CORRUPT)
                .then(|| self.message.strip_prefix("blob ")?.get(..64)?.parse().ok())
                .flatten()
                .map(|d: cryo_store::B3Digest| format!("blob {d} is corrupt"));
            return internal_response(id, public);
        }
        if self.status.is_server_error() {
            tracing::warn!(code = self.code, message = %self.message, "request failed");
        }
        (
            self.status,
            Json(ApiError {
                code: self.code.to_string(),
                message: self.message,
            }),
        )
            .into_response()
    }
}

/// Replace the body of a 500 that did not come from [`ApiErr`] (a framework rejection, a
/// handler building its own response) by the masked one; `id` is the request's id.
pub fn mask_internal(resp: Response, id: &str) -> Response {
    if resp.status() != StatusCode::INTERNAL_SERVER_ERROR
        || resp.extensions().get::<Masked>().is_some()
    {
        return resp;
    }
    tracing::error!(request_id = %id, "internal error (body not from ApiErr, replaced)");
    internal_response(id.to_string(), None)
}

impl From<StoreError> for ApiErr {
    fn from(e: StoreError) -> Self {
        let message = e.to_string();
        ApiErr::from_store(&e, message)
    }
}

impl ApiErr {
    fn from_store(e: &StoreError, message: String) -> Self {
        let (status, code) = match e {
            StoreError::Blob(BlobError::NotFound(_)) => (StatusCode::NOT_FOUND, "not_found"),
            StoreError::Blob(BlobError::Corrupt { digest, reason }) => {
                return Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: CORRUPT,
                    message: format!("blob {digest} is corrupt: {reason}"),
                };
            }
            StoreError::Blob(BlobError::Input(_)) => (StatusCode::BAD_REQUEST, "bad_input"),
            StoreError::Tree(_)
            | StoreError::Name(_)
            | StoreError::BadRootName(_)
            | StoreError::WrongKind { .. }
            | StoreError::Invalid(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        Self {
            status,
            code,
            message,
        }
    }
}

impl From<crate::mirror::MirrorError> for ApiErr {
    fn from(e: crate::mirror::MirrorError) -> Self {
        use crate::mirror::MirrorError as M;
        let message = e.to_string();
        let (status, code) = match &e {
            M::Store(inner) => return ApiErr::from_store(inner, message),
            M::Invalid(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            M::UnknownMirror(_) | M::UnknownSnapshot(_) | M::NotFound(_) => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            M::Fetch { .. } | M::Download { .. } => (StatusCode::BAD_GATEWAY, "fetch_failed"),
            M::Signature { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "bad_signature"),
            M::Expired { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "expired"),
            M::Integrity { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "hash_mismatch"),
            M::Parse { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "malformed"),
            M::Redb(_)
            | M::Table(_)
            | M::NotIndexed(_)
            | M::Stanza(_)
            | M::EmptyStanza
            | M::Sha256Map(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        Self {
            status,
            code,
            message,
        }
    }
}

impl From<crate::cache::CacheError> for ApiErr {
    fn from(e: crate::cache::CacheError) -> Self {
        use crate::cache::CacheError as C;
        let message = e.to_string();
        let (status, code) = match &e {
            C::Store(inner) => return ApiErr::from_store(inner, message),
            C::Invalid(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            C::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            C::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            C::Io { .. } | C::Task(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        Self {
            status,
            code,
            message,
        }
    }
}

impl From<crate::request::RequestError> for ApiErr {
    fn from(e: crate::request::RequestError) -> Self {
        use crate::request::RequestError as R;
        let message = e.to_string();
        let (status, code) = match e {
            R::Auth(a) => return a.into(),
            R::Project(p) => return p.into(),
            R::Invalid(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            R::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            R::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            R::ReviewsOpen(_) => (StatusCode::CONFLICT, "reviews_open"),
            R::Table(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        Self {
            status,
            code,
            message,
        }
    }
}

impl From<tokio::task::JoinError> for ApiErr {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiErr::internal(format!("background task failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(r: Response) -> serde_json::Value {
        let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        serde_json::from_slice(&b).unwrap()
    }

    #[tokio::test]
    async fn internal_errors_show_only_the_request_id() {
        let r = super::super::request_id::scope("00ff00ff00000001".into(), async {
            ApiErr::internal("auth database: table users is corrupt at /root/state").into_response()
        })
        .await;
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let v = body(r).await;
        assert_eq!(v["code"], "internal");
        assert_eq!(v["request_id"], "00ff00ff00000001");
        assert_eq!(v["message"], "internal error (request id 00ff00ff00000001)");
        // Store errors that map to 500 (corrupt blobs, I/O) are masked the same way.
        let e: ApiErr = StoreError::Blob(BlobError::Corrupt {
            digest: cryo_store::B3Digest::of(b"x"),
            reason: "bad header at /var/lib/cryo/blobs/ab".into(),
        })
        .into();
        let v = body(e.into_response()).await;
        assert_eq!(v["code"], "corrupt");
        let d = cryo_store::B3Digest::of(b"x");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("blob {d} is corrupt (request id ")),
            "{v}"
        );
        assert!(!v.to_string().contains("/var/lib"), "{v}");
        // A message with "corrupt" in it under another code is masked like any other.
        let v = body(ApiErr::internal("blob x is corrupt at /var/lib").into_response()).await;
        assert_eq!(v["code"], "internal");
        // Other statuses keep their useful message.
        let v = body(ApiErr::not_found("blob abc not found").into_response()).await;
        assert_eq!(v["message"], "blob abc not found");
        // A 500 built by hand is replaced by the middleware's helper.
        let raw = (StatusCode::INTERNAL_SERVER_ERROR, "database at /secret").into_response();
        let v = body(mask_internal(raw, "id-1")).await;
        assert_eq!(v["request_id"], "id-1");
        assert!(!v.to_string().contains("/secret"));
    }
}
