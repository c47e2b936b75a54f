//! `POST /api/v1/resolve` (closure + derivation) and `GET /api/v1/drv/{id}`; also
//! [`ApiJson`], the JSON body extractor of the endpoints that take client names.

use super::guard::{Authenticated, Local};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;

use cryo_store::derivation::Derivation;
use cryo_store::{B3Digest, ObjectKind};

use super::ApiErr;
use crate::drv::derive::Resolved;
use crate::drv::DrvError;
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/resolve", post(resolve))
        .route("/api/v1/drv/{id}", get(show))
}

/// A JSON request body. A body that does not deserialise (a name that is not a single
/// safe path component among them: see `cryo_store::SafeName`) is answered 400
/// `bad_request` with serde's message, which names the field and the value, instead of
/// axum's plain-text 422.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiErr;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiErr> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiErr {
    let status = match r.status() {
        StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
        other => other,
    };
    ApiErr {
        status,
        code: "bad_request",
        message: r.body_text(),
    }
}

pub use crate::drv::request::{PrjconfText, ResolveRequestBody};

impl From<DrvError> for ApiErr {
    fn from(e: DrvError) -> Self {
        match e {
            DrvError::Mirror(m) => m.into(),
            DrvError::Store(s) => s.into(),
            DrvError::Invalid(m) => ApiErr::bad_request(m),
            DrvError::Prjconf(m) => ApiErr {
                status: axum::http::StatusCode::BAD_REQUEST,
                code: "bad_prjconf",
                message: m,
            },
            DrvError::Unresolvable(m) => ApiErr {
                status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                code: "unresolvable",
                message: m,
            },
        }
    }
}

async fn resolve(
    _guard: Authenticated,
    State(st): State<AppState>,
    ApiJson(req): ApiJson<ResolveRequestBody>,
) -> Result<Json<Resolved>, ApiErr> {
    let out = tokio::task::spawn_blocking(move || resolve_blocking(&st, &req)).await??;
    Ok(Json(out))
}

/// Resolve a request into a stored derivation (blocking).
pub fn resolve_blocking(st: &AppState, req: &ResolveRequestBody) -> Result<Resolved, ApiErr> {
    Ok(crate::drv::request::resolve(&st.deriver, req)?)
}

async fn show(
    _guard: Local,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Derivation>, ApiErr> {
    let d = tokio::task::spawn_blocking(move || -> Result<Derivation, ApiErr> {
        let id: B3Digest = id
            .parse()
            .map_err(|e: cryo_store::digest::DigestError| ApiErr::bad_request(e.to_string()))?;
        match st.store.meta(&id)? {
            Some(m) if m.kind == ObjectKind::Derivation => {}
            Some(m) => {
                return Err(ApiErr::bad_request(format!(
                    "{id} is a {:?}, not a derivation",
                    m.kind
                )))
            }
            None => {
                return Err(ApiErr::not_found(format!(
                    "no derivation {id} in the store"
                )))
            }
        }
        let bytes = st.store.read(&id)?;
        Derivation::decode(&bytes).map_err(|e| ApiErr::internal(format!("derivation {id}: {e}")))
    })
    .await??;
    Ok(Json(d))
}
