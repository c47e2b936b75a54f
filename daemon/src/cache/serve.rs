//! The cache's HTTP side (served on `cryod --listen`): `GET /cache/info`,
//! `GET /cache/drv/<id>`, `GET|HEAD /cache/blob/<blake3>` (zstd on the wire, Range).

use axum::body::{Body, Bytes};
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

/// Compressed bodies kept in memory, most recently used first, up to this many bytes:
/// concurrent and repeated downloads of a blob share one compression (and one copy).
const ENCODED_CACHE_BYTES: usize = 512 << 20;

/// The serving side's memory: compressed bodies, the per-blob compression locks (one
/// compression per blob at a time: 16 clients asking for the same blob wait for one), and
/// the set of public blobs (build outputs), refreshed when a digest is not in it.
/// A compressed body: digest, zstd bytes, content size.
type Encoded = (B3Digest, std::sync::Arc<Vec<u8>>, u64);

#[derive(Default)]
struct BlobCache {
    encoded: std::sync::Mutex<Vec<Encoded>>,
    inflight:
        std::sync::Mutex<std::collections::HashMap<B3Digest, std::sync::Arc<std::sync::Mutex<()>>>>,
    public: std::sync::Mutex<std::collections::HashSet<B3Digest>>,
}

fn cache() -> &'static BlobCache {
    static C: std::sync::OnceLock<BlobCache> = std::sync::OnceLock::new();
    C.get_or_init(BlobCache::default)
}

impl BlobCache {
    fn is_public(&self, st: &AppState, d: &B3Digest) -> Result<bool, ApiErr> {
        if self.public.lock().expect("public").contains(d) {
            return Ok(true);
        }
        // Only build outputs are public, not everything in the store. Realisations are
        // immutable, so the set only grows: rescan when a digest is not known yet.
        let set: std::collections::HashSet<B3Digest> = st
            .store
            .index()
            .realisations()
            .map_err(|e| ApiErr::internal(e.to_string()))?
            .iter()
            .flat_map(|r| r.outputs.values().map(|o| o.digest))
            .collect();
        let found = set.contains(d);
        *self.public.lock().expect("public") = set;
        Ok(found)
    }

    fn lookup(&self, d: &B3Digest) -> Option<(std::sync::Arc<Vec<u8>>, u64)> {
        let mut e = self.encoded.lock().expect("encoded");
        let i = e.iter().position(|(k, _, _)| k == d)?;
        let item = e.remove(i);
        let out = (item.1.clone(), item.2);
        e.insert(0, item);
        Some(out)
    }

    fn remember(&self, d: B3Digest, body: std::sync::Arc<Vec<u8>>, size: u64) {
        let mut e = self.encoded.lock().expect("encoded");
        e.retain(|(k, _, _)| *k != d);
        e.insert(0, (d, body, size));
        let mut total = 0;
        e.retain(|(_, b, _)| {
            total += b.len();
            total <= ENCODED_CACHE_BYTES
        });
    }

    /// The zstd body of `d` and its content size: from memory, or compressed once.
    fn encoded(
        &self,
        st: &AppState,
        d: &B3Digest,
    ) -> Result<(std::sync::Arc<Vec<u8>>, u64), ApiErr> {
        if let Some(hit) = self.lookup(d) {
            return Ok(hit);
        }
        let lock = self
            .inflight
            .lock()
            .expect("inflight")
            .entry(*d)
            .or_default()
            .clone();
        let _g = lock.lock().expect("blob lock");
        if let Some(hit) = self.lookup(d) {
            return Ok(hit);
        }
        let meta = st
            .store
            .meta(d)?
            .ok_or_else(|| ApiErr::not_found(format!("blob {d} not found")))?;
        if meta.size > MAX_SERVED {
            return Err(ApiErr::bad_request(format!(
                "blob {d} is larger than {MAX_SERVED} bytes"
            )));
        }
        // Streamed from the store (verified while read) straight into the encoder.
        let mut r = st.store.open_blob(d)?;
        let mut enc = zstd::stream::Encoder::new(Vec::new(), 3)
            .map_err(|e| ApiErr::internal(e.to_string()))?;
        let size = std::io::copy(&mut r, &mut enc)
            .map_err(|e| ApiErr::internal(format!("reading blob {d}: {e}")))?;
        let body = std::sync::Arc::new(enc.finish().map_err(|e| ApiErr::internal(e.to_string()))?);
        self.remember(*d, body.clone(), size);
        self.inflight.lock().expect("inflight").remove(d);
        Ok((body, size))
    }
}

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
    let keys = tokio::task::spawn_blocking(move || keys::load_cached(&state))
        .await?
        .map_err(|e| ApiErr::internal(e.to_string()))?;
    Ok(Json(CacheInfo {
        name: st.config.cache_name.clone(),
        public_keys: keys.iter().map(|k| k.public()).collect(),
        priority: st.config.cache_priority,
    }))
}

/// Signed realisations already served, as JSON bytes, with the key set they were signed
/// with (realisations never change; a new key set re-signs).
type SignedCache = std::collections::HashMap<B3Digest, (String, Bytes)>;

fn signed_cache() -> &'static std::sync::Mutex<SignedCache> {
    static C: std::sync::OnceLock<std::sync::Mutex<SignedCache>> = std::sync::OnceLock::new();
    C.get_or_init(Default::default)
}

/// Entries kept in the signed-realisation cache (cleared when full).
const SIGNED_CACHE_MAX: usize = 100_000;

async fn drv(State(st): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiErr> {
    let id = digest(&id)?;
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
        let key_set: String = keys.iter().map(|k| k.public() + " ").collect();
        if let Some((k, b)) = signed_cache().lock().expect("signed cache").get(&id) {
            if *k == key_set {
                return Ok(b.clone());
            }
        }
        let r = st
            .store
            .realisation(&id)?
            .ok_or_else(|| ApiErr::not_found(format!("derivation {id} is not realised here")))?;
        let json = serde_json::to_vec(&signed::sign(&r, &keys))
            .map_err(|e| ApiErr::internal(e.to_string()))?;
        let body = Bytes::from(json);
        let mut c = signed_cache().lock().expect("signed cache");
        if c.len() >= SIGNED_CACHE_MAX {
            c.clear();
        }
        c.insert(id, (key_set, body.clone()));
        Ok(body)
    })
    .await??;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
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
    let (encoded, size) = tokio::task::spawn_blocking(move || {
        let c = cache();
        if !c.is_public(&st, &d)? {
            return Err(ApiErr::not_found(format!(
                "blob {d} is not a build output of this cache"
            )));
        }
        c.encoded(&st, &d)
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
        Ok(None) => (StatusCode::OK, Bytes::from_owner(ArcBody(encoded.clone()))),
        Ok(Some((a, b))) => {
            resp = resp.header(header::CONTENT_RANGE, format!("bytes {a}-{b}/{len}"));
            (
                StatusCode::PARTIAL_CONTENT,
                Bytes::copy_from_slice(&encoded[a as usize..=b as usize]),
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

/// A shared compressed body handed to the response without copying.
struct ArcBody(std::sync::Arc<Vec<u8>>);

impl AsRef<[u8]> for ArcBody {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
