//! `POST /api/v1/build` (realise a derivation, resolving it first if needed) and
//! `GET /api/v1/drv/{id}/log`.

use super::guard::{Admin, Local};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use cryo_store::B3Digest;

use super::resolve::{resolve_blocking, ApiJson};
use super::ApiErr;
use crate::build::run::{self, BuildOutcome};
use crate::build::BuildError;
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/build", post(build))
        .route("/api/v1/drv/{id}/log", get(log))
}

/// `POST /api/v1/build` body: a derivation id, or what `resolve` takes (the API's type,
/// parsed with [`BuildRequest::from_json`]: the resolve part's error is the answer).
pub use cryo_store::api::BuildRequest;

impl From<BuildError> for ApiErr {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Mirror(m) => m.into(),
            BuildError::Store(s) => s.into(),
            BuildError::Invalid(m) => ApiErr::bad_request(m),
            other => ApiErr {
                status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                code: "build_error",
                message: other.to_string(),
            },
        }
    }
}

fn digest(s: &str) -> Result<B3Digest, ApiErr> {
    s.parse()
        .map_err(|e: cryo_store::digest::DigestError| ApiErr::bad_request(e.to_string()))
}

async fn build(
    _guard: Admin,
    State(st): State<AppState>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<BuildOutcome>, ApiErr> {
    if !body.is_object() {
        return Err(ApiErr::bad_request(
            "give a derivation or a source to resolve",
        ));
    }
    let req = BuildRequest::from_json(body).map_err(|e| ApiErr::bad_request(e.0))?;
    let out = tokio::task::spawn_blocking(move || -> Result<BuildOutcome, ApiErr> {
        let id = match (&req.derivation, &req.resolve) {
            (Some(d), _) => digest(d)?,
            (None, Some(r)) => resolve_blocking(&st, r)?.derivation,
            (None, None) => {
                return Err(ApiErr::bad_request(
                    "give a derivation or a source to resolve",
                ))
            }
        };
        match st.store.meta(&id)? {
            Some(m) if m.kind == cryo_store::ObjectKind::Derivation => {}
            _ => {
                return Err(ApiErr::not_found(format!(
                    "no derivation {id} in the store"
                )))
            }
        }
        let live = st.projects.scheduler.register_live(id);
        let out = run::realise_observed(&st.builder, &id, req.rebuild, Some(live.observer()));
        st.projects.scheduler.unregister_live(&live);
        Ok(out?)
    })
    .await??;
    Ok(Json(out))
}

#[derive(Deserialize)]
struct LogQuery {
    #[serde(default)]
    follow: bool,
}

/// The latest build log of a derivation; with `follow=true`, the log of its running
/// build, streamed to the end (404 `not_running` when none runs).
async fn log(
    _guard: Local,
    State(st): State<AppState>,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<LogQuery>,
) -> Result<Response, ApiErr> {
    let id = digest(&id)?;
    if let Some(run) = st.projects.scheduler.live(&id) {
        let text = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
        if q.follow {
            return Ok((text, super::stream::follow_body(run, &st.shutdown)).into_response());
        }
        return Ok((text, run.log.read_from(0).0).into_response());
    }
    if q.follow {
        return Err(ApiErr {
            status: axum::http::StatusCode::NOT_FOUND,
            code: "not_running",
            message: format!("no build of {id} is running"),
        });
    }
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiErr> {
        let d =
            st.builder.build_logs.get(&id).ok_or_else(|| {
                ApiErr::not_found(format!("derivation {id} has no build log yet"))
            })?;
        Ok(st.store.read(&d)?)
    })
    .await??;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], bytes).into_response())
}
