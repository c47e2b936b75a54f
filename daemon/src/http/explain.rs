//! `POST /api/v1/explain` (`cryo explain`) and `POST /api/v1/verify/buildinfo`
//! (`cryo verify --buildinfo`): unix socket, admin (they build).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

use super::guard::Admin;
use super::resolve::ApiJson;
use super::ApiErr;
use crate::explain::{self, ExplainError};
use crate::http::AppState;

pub use cryo_store::api::{BuildinfoOutcome, BuildinfoRequest, ExplainOutcome, ExplainRequest};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/explain", post(run))
        .route("/api/v1/verify/buildinfo", post(buildinfo))
}

impl From<ExplainError> for ApiErr {
    fn from(e: ExplainError) -> Self {
        match e {
            ExplainError::UnknownReport(_) => ApiErr::not_found(e.to_string()),
            ExplainError::Table(_) | ExplainError::Store(_) => ApiErr::internal(e.to_string()),
            _ => ApiErr::bad_request(e.to_string()),
        }
    }
}

fn progress(what: &str) {
    tracing::info!(target: "cryo::explain", "{what}");
}

async fn run(
    _guard: Admin,
    State(st): State<AppState>,
    ApiJson(req): ApiJson<ExplainRequest>,
) -> Result<Json<ExplainOutcome>, ApiErr> {
    let out = tokio::task::spawn_blocking(move || explain::explain(&st.verifier, &req, &progress))
        .await??;
    Ok(Json(out))
}

async fn buildinfo(
    _guard: Admin,
    State(st): State<AppState>,
    ApiJson(req): ApiJson<BuildinfoRequest>,
) -> Result<Json<BuildinfoOutcome>, ApiErr> {
    let out = tokio::task::spawn_blocking(move || {
        explain::buildinfo::verify_buildinfo(&st.verifier, &req, &progress)
    })
    .await??;
    Ok(Json(out))
}
