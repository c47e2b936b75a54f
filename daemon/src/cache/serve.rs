//! The cache's HTTP side (served on `cryod --listen`): `GET /cache/info`,
//! `GET /cache/drv/<id>`, `GET|HEAD /cache/blob/<blake3>` (zstd on the wire, Range).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use cryo_store::B3Digest;

use super::{keys, signed};
use crate::http::ApiErr;
use crate::state::AppState;

/// Largest blob served (it is compressed in memory so that ranges are stable).
const MAX_SERVED: u64 = 1 << 30;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cache/info", get(info))
        .route("/cache/drv/{id}", get(drv))
        .route("/cache/blob/{digest}", get(blob).head(blob))
}

/// `GET /cache/info`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheInfo {
    pub name: String,
    pub public_keys: Vec<String>,
    pub priority: u32,
}

fn digest(s: &str) -> Result<B3Digest, ApiErr> {
    s.parse()
        .map_err(|e: cryo_store::digest::DigestError| ApiErr::bad_request(e.to_string()))
}

async fn info(State(st): State<AppState>) -> Result<Json<CacheInfo>, ApiErr> {
    let state = st.config.state.clone();
    let keys = tokio::task::spawn_blocking(move || keys::load_all(&state))
        .await?
        .map_err(|e| ApiErr::internal(e.to_string()))?;
    Ok(Json(CacheInfo {
        name: st.config.cache_name.clone(),
        public_keys: keys.iter().map(|k| k.public()).collect(),
        priority: st.config.cache_priority,
    }))
}

async fn drv(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<signed::SignedRealisation>, ApiErr> {
    let id = digest(&id)?;
    let r = tokio::task::spawn_blocking(move || -> Result<signed::SignedRealisation, ApiErr> {
        let keys = keys::load_all(&st.config.state).map_err(|e| ApiErr::internal(e.to_string()))?;
        if keys.is_empty() {
            return Err(ApiErr {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "no_cache_key",
                message: "this cryod has no cache signing key (cryo cache keygen NAME)".into(),
            });
        }
        let r = st
            .store
            .realisation(&id)?
            .ok_or_else(|| ApiErr::not_found(format!("derivation {id} is not realised here")))?;
        Ok(signed::sign(&r, &keys))
    })
    .await??;
    Ok(Json(r))
}

/// Parse a single `bytes=a-b` / `bytes=a-` / `bytes=-n` range against `len`.
pub(crate) fn range(h: &HeaderMap, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(v) = h.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let spec = v.strip_prefix("bytes=").ok_or(())?;
    if spec.contains(',') {
        return Err(());
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| ())?;
            (len.saturating_sub(n), len.saturating_sub(1))
        }
        (a, "") => (a.parse().map_err(|_| ())?, len.saturating_sub(1)),
        (a, b) => (
            a.parse().map_err(|_| ())?,
            b.parse::<u64>().map_err(|_| ())?.min(len.saturating_sub(1)),
        ),
    };
    if len == 0 || start > end || start >= len {
        return Err(());
    }
    Ok(Some((start, end)))
}

async fn blob(
    State(st): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(d): Path<String>,
) -> Result<Response, ApiErr> {
    let d = digest(&d)?;
    let (size, encoded) = tokio::task::spawn_blocking(move || -> Result<(u64, Vec<u8>), ApiErr> {
        // Only build outputs are public, not everything in the store.
        let public = st
            .store
            .index()
            .realisations()
            .map_err(|e| ApiErr::internal(e.to_string()))?
            .iter()
            .any(|r| r.outputs.values().any(|o| o.digest == d));
        if !public {
            return Err(ApiErr::not_found(format!(
                "blob {d} is not a build output of this cache"
            )));
        }
        let meta = st
            .store
            .meta(&d)?
            .ok_or_else(|| ApiErr::not_found(format!("blob {d} not found")))?;
        if meta.size > MAX_SERVED {
            return Err(ApiErr::bad_request(format!(
                "blob {d} is larger than {MAX_SERVED} bytes"
            )));
        }
        let content = st.store.read(&d)?;
        let encoded =
            zstd::bulk::compress(&content, 3).map_err(|e| ApiErr::internal(e.to_string()))?;
        Ok((content.len() as u64, encoded))
    })
    .await??;
    let len = encoded.len() as u64;
    let mut resp = Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_ENCODING, "zstd")
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, format!("\"{d}\""))
        .header("x-cryo-blake3", d.to_hex())
        .header("x-cryo-size", size.to_string());
    let (status, body) = match range(&headers, len) {
        Ok(None) => (StatusCode::OK, encoded),
        Ok(Some((a, b))) => {
            resp = resp.header(header::CONTENT_RANGE, format!("bytes {a}-{b}/{len}"));
            (
                StatusCode::PARTIAL_CONTENT,
                encoded[a as usize..=b as usize].to_vec(),
            )
        }
        Err(()) => {
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{len}"))],
            )
                .into_response())
        }
    };
    let body_len = body.len();
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(body)
    };
    resp.status(status)
        .header(header::CONTENT_LENGTH, body_len.to_string())
        .body(body)
        .map_err(|e| ApiErr::internal(e.to_string()))
}
