//! `POST /api/v1/cache/keys` (generate a signing key) and `GET /api/v1/cache/keys`.

use super::guard::{Admin, Local};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::ApiErr;
use crate::cache::{keys, CacheError};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/cache/keys", get(list).post(generate))
}

/// A key's public form, and the keygen body: the API's types.
pub use cryo_store::api::{KeyInfo, KeygenRequest};

async fn generate(
    _guard: Admin,
    State(st): State<AppState>,
    Json(req): Json<KeygenRequest>,
) -> Result<Json<KeyInfo>, ApiErr> {
    let k = tokio::task::spawn_blocking(move || keys::generate(&st.config.state, &req.name))
        .await?
        .map_err(|e| match e {
            CacheError::Invalid(m) => ApiErr::bad_request(m),
            other => ApiErr::internal(other.to_string()),
        })?;
    Ok(Json(KeyInfo {
        name: k.name.clone(),
        public_key: k.public(),
    }))
}

async fn list(_guard: Local, State(st): State<AppState>) -> Result<Json<Vec<KeyInfo>>, ApiErr> {
    let ks = tokio::task::spawn_blocking(move || keys::load_all(&st.config.state))
        .await?
        .map_err(|e| ApiErr::internal(e.to_string()))?;
    Ok(Json(
        ks.iter()
            .map(|k| KeyInfo {
                name: k.name.clone(),
                public_key: k.public(),
            })
            .collect(),
    ))
}
