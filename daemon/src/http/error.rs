//! The API error type: explicit status + `{code, message}`.

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

impl IntoResponse for ApiErr {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "request failed");
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
            StoreError::Blob(BlobError::Corrupt { .. }) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "corrupt")
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
            M::Fetch { .. } => (StatusCode::BAD_GATEWAY, "fetch_failed"),
            M::Signature { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "bad_signature"),
            M::Expired { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "expired"),
            M::Integrity { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "hash_mismatch"),
            M::Parse { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "malformed"),
            M::Db(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
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
