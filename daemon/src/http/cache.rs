//! The cache's HTTP side (served on `cryod --listen`): `GET /cache/info`,
//! `GET /cache/drv/<id>`, `GET|HEAD /cache/blob/<blake3>` (zstd on the wire, Range).
//!
//! Anonymous clients reach these routes. A blob is served only when it is an output of a
//! realisation: one lookup in the index's output table, whatever the number of
//! realisations (a miss costs the same as a hit's check). Compression is bounded by
//! [`super::blobs`]; bodies are streamed from its temp files in chunks.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use std::sync::Arc;

use cryo_store::{B3Digest, StoreError};

use crate::cache::blobs::Encoded;
use crate::cache::{keys, signed};
use crate::http::ApiErr;
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cache/info", get(info))
        .route("/cache/drv/{id}", get(drv))
        .route("/cache/blob/{digest}", get(blob).head(blob))
}

/// `GET /cache/info` (the API's type).
pub use cryo_store::api::CacheInfo;

fn digest(s: &str) -> Result<B3Digest, ApiErr> {
    s.parse()
        .map_err(|e: cryo_store::digest::DigestError| ApiErr::bad_request(e.to_string()))
}

async fn info(State(st): State<AppState>) -> Result<Json<CacheInfo>, ApiErr> {
    let state = st.config.state.clone();
    let keys = tokio::task::spawn_blocking(move || keys::load_cached(&state))
        .await?
        .map_err(|e| ApiErr::internal(e.to_string()))?;
    Ok(Json(CacheInfo {
        name: st.config.cache_name.clone(),
        public_keys: keys.iter().map(|k| k.public()).collect(),
        priority: st.config.cache_priority,
    }))
}

/// What `GET /cache/drv/<id>` answered before, kept in memory: a signed realisation with
/// the key set it was signed with and the index's removal epoch (a realisation never
/// changes, but GC may remove it), or "not realised" with the index's addition epoch.
enum Answer {
    Signed {
        key_set: String,
        removed: u64,
        body: Bytes,
    },
    Missing {
        added: u64,
    },
}

type Answers = std::collections::HashMap<B3Digest, Answer>;

fn answers() -> &'static std::sync::Mutex<Answers> {
    static C: std::sync::OnceLock<std::sync::Mutex<Answers>> = std::sync::OnceLock::new();
    C.get_or_init(Default::default)
}

/// Entries kept in memory (all forgotten when full).
const ANSWERS_MAX: usize = 100_000;

fn remember(id: B3Digest, a: Answer) {
    let mut c = answers().lock().expect("drv answers");
    if c.len() >= ANSWERS_MAX {
        c.clear();
    }
    c.insert(id, a);
}

fn not_realised(id: &B3Digest) -> ApiErr {
    ApiErr::not_found(format!("derivation {id} is not realised here"))
}

/// The answer given before, if it still holds: no I/O, no hop to the blocking pool (the
/// hot path of substituters asking for many derivations). `None`: ask the store.
fn from_memory(st: &AppState, id: &B3Digest) -> Option<Result<Bytes, ApiErr>> {
    let keys = keys::recently_checked()?;
    let (added, removed) = st.store.index().realisation_epochs();
    let c = answers().lock().expect("drv answers");
    match c.get(id)? {
        Answer::Signed {
            key_set,
            removed: r,
            body,
        } if *key_set == keys.id && *r == removed => Some(Ok(body.clone())),
        Answer::Missing { added: a } if *a == added && !keys.is_empty() => {
            Some(Err(not_realised(id)))
        }
        _ => None,
    }
}

fn json_body(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn drv(State(st): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiErr> {
    let id = digest(&id)?;
    if let Some(answer) = from_memory(&st, &id) {
        return answer.map(json_body);
    }
    let body = tokio::task::spawn_blocking(move || -> Result<Bytes, ApiErr> {
        let keys =
            keys::load_cached(&st.config.state).map_err(|e| ApiErr::internal(e.to_string()))?;
        if keys.is_empty() {
            return Err(ApiErr {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "no_cache_key",
                message: "this cryod has no cache signing key (cryo cache keygen NAME)".into(),
            });
        }
        // Read before the lookup: a change racing with it makes the entry stale, not wrong.
        let (added, removed) = st.store.index().realisation_epochs();
        let Some(r) = st.store.realisation(&id)? else {
            remember(id, Answer::Missing { added });
            return Err(not_realised(&id));
        };
        let json = serde_json::to_vec(&signed::sign(&r, &keys))
            .map_err(|e| ApiErr::internal(e.to_string()))?;
        let body = Bytes::from(json);
        remember(
            id,
            Answer::Signed {
                key_set: keys.id.clone(),
                removed,
                body: body.clone(),
            },
        );
        Ok(body)
    })
    .await??;
    Ok(json_body(body))
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

/// Bytes read from a compressed body per chunk of a response.
const CHUNK: u64 = 256 * 1024;

async fn blob(
    State(st): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(d): Path<String>,
) -> Result<Response, ApiErr> {
    let d = digest(&d)?;
    let store = st.store.clone();
    let public = tokio::task::spawn_blocking(move || store.index().is_output(&d))
        .await?
        .map_err(StoreError::from)?;
    if !public {
        return Err(ApiErr::not_found(format!(
            "blob {d} is not a build output of this cache"
        )));
    }
    let encoded = st.blob_cache.encoded(&st.store, &d).await?;
    let len = encoded.len;
    let mut resp = Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_ENCODING, "zstd")
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, format!("\"{d}\""))
        .header("x-cryo-blake3", d.to_hex())
        .header("x-cryo-size", encoded.size.to_string());
    let (status, start, end) = match range(&headers, len) {
        Ok(None) => (StatusCode::OK, 0, len),
        Ok(Some((a, b))) => {
            resp = resp.header(header::CONTENT_RANGE, format!("bytes {a}-{b}/{len}"));
            (StatusCode::PARTIAL_CONTENT, a, b + 1)
        }
        Err(()) => {
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{len}"))],
            )
                .into_response())
        }
    };
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        file_body(encoded, start, end)
    };
    resp.status(status)
        .header(header::CONTENT_LENGTH, (end - start).to_string())
        .body(body)
        .map_err(|e| ApiErr::internal(e.to_string()))
}

/// Bytes `start..end` of a compressed body, read in chunks on the blocking pool: a slow
/// client holds one chunk of memory and no thread.
fn file_body(encoded: Arc<Encoded>, start: u64, end: u64) -> Body {
    let stream = futures_util::stream::try_unfold(start, move |pos| {
        let encoded = encoded.clone();
        async move {
            if pos >= end {
                return Ok(None);
            }
            let n = CHUNK.min(end - pos);
            let buf = tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; n as usize];
                encoded.read_at(&mut buf, pos).map(|()| buf)
            })
            .await
            .map_err(std::io::Error::other)??;
            Ok::<_, std::io::Error>(Some((Bytes::from(buf), pos + n)))
        }
    });
    Body::from_stream(stream)
}
