//! `POST /api/v1/resolve` (closure + derivation) and `GET /api/v1/drv/{id}`.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use cryo_store::derivation::Derivation;
use cryo_store::{B3Digest, ObjectKind};

use super::ApiErr;
use crate::drv::derive::{self, Resolved};
use crate::drv::source::{self, SourceSpec};
use crate::drv::DrvError;
use crate::mirror::snapshot;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/resolve", post(resolve))
        .route("/api/v1/drv/{id}", get(show))
}

/// The prjconf as sent by the client.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrjconfText {
    /// File name, used in error messages (`file:line`).
    pub name: String,
    pub text: String,
}

/// `POST /api/v1/resolve` body.
#[derive(Debug, Serialize, Deserialize)]
pub struct ResolveRequestBody {
    pub snapshot: String,
    pub prjconf: PrjconfText,
    pub source: SourceSpec,
    pub arch: Option<String>,
    /// `full` (dpkg-buildpackage -b, default), `arch` (-B) or `indep` (-A).
    pub build: Option<String>,
}

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
    State(st): State<AppState>,
    Json(req): Json<ResolveRequestBody>,
) -> Result<Json<Resolved>, ApiErr> {
    let out = tokio::task::spawn_blocking(move || resolve_blocking(&st, &req)).await??;
    Ok(Json(out))
}

/// Resolve a request into a stored derivation (blocking).
pub fn resolve_blocking(st: &AppState, req: &ResolveRequestBody) -> Result<Resolved, ApiErr> {
    let snap = snapshot::get(st, &req.snapshot)?;
    let arch = req.arch.clone().unwrap_or_else(|| st.host_arch.clone());
    let session = st.store.session();
    let pc = derive::parse_prjconf(st, &req.prjconf.name, &req.prjconf.text, &arch, &session)?;
    let src = source::resolve(st, &snap, &req.source, &session)?;
    let build = req.build.clone().unwrap_or_else(|| "full".into());
    let (_, _, resolved) = derive::derive(st, &snap, &pc, &src, &arch, &build, &session)?;
    Ok(resolved)
}

async fn show(
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
