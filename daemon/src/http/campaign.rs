//! `/api/v1/campaigns...` (unix socket only, like `verify`): creating, pausing, resuming,
//! updating and deleting a campaign starts or stops builds and needs an admin (as
//! `POST /api/v1/verify`); reading is open to local peers (as `GET /api/v1/reports`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::guard::{Admin, Local};
use super::resolve::ApiJson;
use super::ApiErr;
use crate::campaign::{self, CampaignError};
use crate::http::AppState;
use cryo_store::api::{
    Campaign, CampaignCreate, CampaignResults, CampaignUpdate, RebuilderdExport, UpdateOutcome,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/campaigns", get(list).post(create))
        .route("/api/v1/campaigns/{name}", get(show).delete(delete))
        .route("/api/v1/campaigns/{name}/results", get(results))
        .route("/api/v1/campaigns/{name}/export", get(export))
        .route("/api/v1/campaigns/{name}/pause", post(pause))
        .route("/api/v1/campaigns/{name}/resume", post(resume))
        .route("/api/v1/campaigns/{name}/update", post(update))
}

impl From<CampaignError> for ApiErr {
    fn from(e: CampaignError) -> Self {
        match e {
            CampaignError::Invalid(m) => ApiErr::bad_request(m),
            CampaignError::NotFound(m) => ApiErr::not_found(m),
            CampaignError::Conflict(m) => ApiErr {
                status: StatusCode::CONFLICT,
                code: "conflict",
                message: m,
            },
            CampaignError::Mirror(m) => m.into(),
            CampaignError::Drv(d) => d.into(),
            CampaignError::Store(s) => s.into(),
            CampaignError::Verify(v) => ApiErr::internal(v.to_string()),
            CampaignError::Table(t) => ApiErr::internal(t.to_string()),
        }
    }
}

/// Run a campaign operation on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CampaignError> + Send + 'static,
) -> Result<Json<T>, ApiErr> {
    Ok(Json(tokio::task::spawn_blocking(f).await??))
}

async fn list(_guard: Local, State(st): State<AppState>) -> Result<Json<Vec<Campaign>>, ApiErr> {
    blocking(move || campaign::list(&st.campaigns)).await
}

async fn create(
    _guard: Admin,
    State(st): State<AppState>,
    ApiJson(req): ApiJson<CampaignCreate>,
) -> Result<Json<Campaign>, ApiErr> {
    blocking(move || campaign::create(&st.campaigns, req)).await
}

async fn show(
    _guard: Local,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Campaign>, ApiErr> {
    blocking(move || campaign::show(&st.campaigns, &name)).await
}

async fn delete(
    _guard: Admin,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Campaign>, ApiErr> {
    blocking(move || campaign::delete(&st.campaigns, &name)).await
}

async fn results(
    _guard: Local,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<CampaignResults>, ApiErr> {
    blocking(move || campaign::results(&st.campaigns, &name)).await
}

async fn export(
    _guard: Local,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<RebuilderdExport>, ApiErr> {
    blocking(move || campaign::export(&st.campaigns, &name)).await
}

async fn pause(
    _guard: Admin,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Campaign>, ApiErr> {
    blocking(move || campaign::pause(&st.campaigns, &name)).await
}

async fn resume(
    _guard: Admin,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Campaign>, ApiErr> {
    blocking(move || campaign::resume(&st.campaigns, &name)).await
}

async fn update(
    _guard: Admin,
    State(st): State<AppState>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<CampaignUpdate>,
) -> Result<Json<UpdateOutcome>, ApiErr> {
    blocking(move || campaign::update(&st.campaigns, &name, req)).await
}
