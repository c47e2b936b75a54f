//! `POST /api/v1/verify`, `GET /api/v1/reports`, `GET /api/v1/reports/{id}`.

use super::guard::{Admin, Local};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::resolve::ApiJson;
use super::ApiErr;
use crate::http::AppState;
use crate::verify::{self, ReportInfo, VerifyOutcome};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/verify", post(run))
        .route("/api/v1/check", post(check))
        .route("/api/v1/reports", get(list))
        .route("/api/v1/reports/{id}", get(show))
}

/// `POST /api/v1/verify` and `POST /api/v1/check` bodies (the API's types).
pub use cryo_store::api::{CheckRequest, VerifyRequest};

async fn run(
    _guard: Admin,
    State(st): State<AppState>,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<Json<VerifyOutcome>, ApiErr> {
    if req.sources.is_empty() {
        return Err(ApiErr::bad_request("name at least one src:NAME[=VERSION]"));
    }
    if let Some(bad) = req.sources.iter().find(|s| !s.starts_with("src:")) {
        return Err(ApiErr::bad_request(format!(
            "{bad:?}: verify takes upstream sources as src:NAME[=VERSION]"
        )));
    }
    let out = tokio::task::spawn_blocking(move || {
        verify::verify(
            &st.verifier,
            &req.snapshot,
            &req.prjconf,
            &req.sources,
            req.arch.as_deref(),
        )
    })
    .await?
    .map_err(|e| ApiErr::bad_request(e.to_string()))?;
    Ok(Json(out))
}

async fn list(_guard: Local, State(st): State<AppState>) -> Result<Json<Vec<ReportInfo>>, ApiErr> {
    let l = tokio::task::spawn_blocking(move || verify::list(&st.verifier))
        .await?
        .map_err(|e| ApiErr::internal(e.to_string()))?;
    Ok(Json(l))
}

#[derive(Deserialize)]
struct ShowQuery {
    format: Option<String>,
    #[serde(default)]
    colour: bool,
}

async fn show(
    _guard: Local,
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, ApiErr> {
    let format = q.format.unwrap_or_else(|| "text".into());
    let (body, ctype) =
        tokio::task::spawn_blocking(move || -> Result<(String, &'static str), ApiErr> {
            let report = crate::explain::load_explained(&st.verifier, &id)
                .map_err(|e| ApiErr::internal(e.to_string()))?
                .ok_or_else(|| {
                    ApiErr::not_found(format!(
                        "no report {id:?} (give at least 8 hex characters of a listed id)"
                    ))
                })?;
            verify::render(&report, &format, q.colour)
                .map_err(|e| ApiErr::bad_request(e.to_string()))
        })
        .await??;
    Ok(([(header::CONTENT_TYPE, ctype)], body).into_response())
}

async fn check(
    _guard: Admin,
    State(st): State<AppState>,
    ApiJson(req): ApiJson<CheckRequest>,
) -> Result<Json<VerifyOutcome>, ApiErr> {
    let id: cryo_store::B3Digest = req
        .derivation
        .parse()
        .map_err(|e: cryo_store::digest::DigestError| ApiErr::bad_request(e.to_string()))?;
    let out = tokio::task::spawn_blocking(move || verify::check(&st.verifier, &id, &req.vary))
        .await?
        .map_err(|e| ApiErr::bad_request(e.to_string()))?;
    Ok(Json(out))
}
