//! `GET /api/v1/status` and `POST /api/v1/shutdown`.

use super::guard::Admin;
use axum::extract::{ConnectInfo, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use cryo_store::api::{DaemonStatus, ShutdownResponse};

use super::Peer;
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/status", get(status))
        .route("/api/v1/shutdown", post(shutdown))
}

pub fn public_routes() -> Router<AppState> {
    Router::new().route("/api/v1/status", get(status))
}

async fn status(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
) -> Json<DaemonStatus> {
    Json(DaemonStatus {
        version: env!("CARGO_PKG_VERSION").to_string(),
        pid: std::process::id(),
        uptime_secs: st.started.elapsed().as_secs(),
        state_dir: st.config.state.display().to_string(),
        socket: st.config.socket.display().to_string(),
        listen: st.config.listen.map(|l| l.to_string()),
        peer_uid: peer.uid,
        workers: st.config.workers,
        builds_run: st
            .builder
            .builds_run
            .load(std::sync::atomic::Ordering::Relaxed),
    })
}

async fn shutdown(_guard: Admin, State(st): State<AppState>) -> Json<ShutdownResponse> {
    tracing::info!("shutdown requested over the API");
    st.shutdown.cancel();
    Json(ShutdownResponse { stopping: true })
}
