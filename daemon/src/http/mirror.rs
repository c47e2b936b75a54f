//! `/api/v1/mirrors...`: register archives and sync them into snapshots.

use super::guard::{Admin, Local};
use axum::extract::{Path, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};

use cryo_store::api::Removed;

use super::ApiErr;
use crate::http::AppState;
use crate::mirror::config::{self, MirrorConfig, DEFAULT_PRIORITY};
use crate::mirror::sync::{self, SyncOptions, SyncOutcome};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/mirrors", get(list).post(add))
        .route("/api/v1/mirrors/{name}", delete(remove))
        .route("/api/v1/mirrors/sync", post(sync_mirrors))
}

/// `POST /api/v1/mirrors` body (the API's type). The keyring must already be in the store.
pub use cryo_store::api::AddMirror;

async fn add(
    _guard: Admin,
    State(st): State<AppState>,
    Json(req): Json<AddMirror>,
) -> Result<Json<MirrorConfig>, ApiErr> {
    let m = MirrorConfig {
        name: req.name,
        url: req.url,
        suite: req.suite,
        components: if req.components.is_empty() {
            vec!["main".into()]
        } else {
            req.components
        },
        arches: if req.arches.is_empty() {
            vec![st.deriver.host_arch.clone()]
        } else {
            req.arches
        },
        keyring: req.keyring,
        priority: req.priority.unwrap_or(DEFAULT_PRIORITY),
        sources: req.sources,
    };
    let st2 = st.clone();
    let m2 = m.clone();
    tokio::task::spawn_blocking(move || -> Result<(), ApiErr> {
        if !st2.store.contains(&m2.keyring)? {
            return Err(ApiErr::bad_request(format!(
                "keyring {} is not in the store",
                m2.keyring
            )));
        }
        // Refuse a keyring that does not parse now rather than at the first sync.
        let bytes = st2.store.read(&m2.keyring)?;
        cryo_debian::openpgp::Keyring::from_bytes(&bytes)
            .map_err(|e| ApiErr::bad_request(format!("keyring of mirror {}: {e}", m2.name)))?;
        st2.store
            .add_root(&format!("mirror-keyring/{}", m2.name), &m2.keyring)?;
        config::put(&st2.store, &m2)?;
        Ok(())
    })
    .await??;
    Ok(Json(m))
}

async fn list(
    _guard: Local,
    State(st): State<AppState>,
) -> Result<Json<Vec<MirrorConfig>>, ApiErr> {
    Ok(Json(
        tokio::task::spawn_blocking(move || config::list(&st.store)).await??,
    ))
}

async fn remove(
    _guard: Admin,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Removed>, ApiErr> {
    let n = name.clone();
    let existed = tokio::task::spawn_blocking(move || config::remove(&st.store, &n)).await??;
    if !existed {
        return Err(ApiErr::not_found(format!("unknown mirror {name:?}")));
    }
    Ok(Json(Removed { removed: name }))
}

/// `POST /api/v1/mirrors/sync` body (the API's type).
pub use cryo_store::api::SyncRequest;

async fn sync_mirrors(
    _guard: Admin,
    State(st): State<AppState>,
    Json(req): Json<SyncRequest>,
) -> Result<Json<SyncOutcome>, ApiErr> {
    if req.mirrors.is_empty() {
        return Err(ApiErr::bad_request("name at least one mirror to sync"));
    }
    let out = tokio::task::spawn_blocking(move || -> Result<SyncOutcome, ApiErr> {
        let mut ms = Vec::new();
        for n in &req.mirrors {
            if ms.iter().any(|m: &MirrorConfig| &m.name == n) {
                return Err(ApiErr::bad_request(format!("mirror {n:?} named twice")));
            }
            ms.push(config::get(&st.store, n)?);
        }
        let opts = SyncOptions {
            allow_expired: req.allow_expired,
            now: st.clock.now(),
        };
        Ok(sync::sync(&st.store, &ms, &opts)?)
    })
    .await??;
    Ok(Json(out))
}
