//! `/api/v1/requests…`: submit, list, show (with the build comparison), accept, decline,
//! revoke, review. Permissions are checked in `crate::request`.

use super::guard::Caller;
use crate::project::model::ProjectExt;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;

use cryo_store::api::{RequestAction, RequestShow, SubmitRequest};

use super::ApiErr;
use crate::auth::{require, Principal, Role};
use crate::http::AppState;
use crate::project::ops;
use crate::request::{self, Request};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/requests", get(list).post(submit))
        .route("/api/v1/requests/{id}", get(show))
        .route("/api/v1/requests/{id}/{action}", post(act))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiErr> + Send + 'static,
) -> Result<T, ApiErr> {
    tokio::task::spawn_blocking(f).await?
}

async fn submit(
    _guard: Caller,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Json(b): Json<SubmitRequest>,
) -> Result<Json<Request>, ApiErr> {
    Ok(Json(
        blocking(move || {
            Ok(request::submit(
                &st.requests,
                &who,
                &b.source_project,
                &b.package,
                &b.target_project,
                &b.message,
            )?)
        })
        .await?,
    ))
}

#[derive(Deserialize)]
struct ListQuery {
    project: Option<String>,
    state: Option<String>,
}

/// Requests the caller may read (both projects readable).
fn readable(st: &AppState, who: &Principal, r: &Request) -> bool {
    [&r.source_project, &r.target_project].iter().all(|p| {
        ops::get(&st.projects, p)
            .is_ok_and(|p| require(&st.auth, who, p.access(), Role::Reader).is_ok())
    })
}

async fn list(
    _guard: Caller,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<Request>>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let state = q.state.as_deref().map(request::parse_state).transpose()?;
            Ok(request::list(&st.requests)?
                .into_iter()
                .filter(|r| {
                    q.project
                        .as_ref()
                        .is_none_or(|p| *p == r.source_project || *p == r.target_project)
                })
                .filter(|r| state.is_none_or(|s| s == r.state))
                .filter(|r| readable(&st, &who, r))
                .collect())
        })
        .await?,
    ))
}

async fn show(
    _guard: Caller,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<u64>,
) -> Result<Json<RequestShow>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let r = request::get(&st.requests, id)?;
            if !readable(&st, &who, &r) {
                return Err(ApiErr::from(crate::auth::Denied::Other(format!(
                    "{} may not read request {id}",
                    who.name()
                ))));
            }
            // Read-only: a GET writes nothing.
            let comparison = request::compare(&st.requests, &r)?;
            Ok(RequestShow {
                request: r,
                comparison,
            })
        })
        .await?,
    ))
}

async fn act(
    _guard: Caller,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((id, action)): Path<(u64, String)>,
    Json(b): Json<RequestAction>,
) -> Result<Json<Request>, ApiErr> {
    Ok(Json(
        blocking(move || match action.as_str() {
            "review" => {
                let accept = b
                    .accept
                    .ok_or_else(|| ApiErr::bad_request("review needs accept: true|false"))?;
                Ok(request::review(&st.requests, &who, id, accept, &b.message)?)
            }
            "accept" | "decline" | "revoke" => Ok(request::decide(
                &st.requests,
                &who,
                id,
                &action,
                &b.message,
            )?),
            other => Err(ApiErr::not_found(format!(
                "no request action {other:?}: accept, decline, revoke, review"
            ))),
        })
        .await?,
    ))
}
