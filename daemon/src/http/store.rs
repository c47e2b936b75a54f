//! `/api/v1/store/...`: put, cat, import/export trees, roots, verify, gc, stats.

use super::guard::{Admin, Local, Uploader};
use crate::auth::Role;
use crate::project::model::ProjectExt;
use std::io::Write;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use cryo_store::api::{GcReport, PutResponse, Removed, RootInfo, StoreStats, VerifyReport};
use cryo_store::{B3Digest, ObjectKind};
use serde::Deserialize;

use super::resolve::ApiJson;
use super::stream::{body_reader, ChannelWriter};
use super::ApiErr;
use crate::http::AppState;

/// Blobs up to this size are verified completely before the first byte is sent, so that a
/// corrupt object gives a clean error answer; larger ones are checked in a first pass and
/// streamed in a second (a change in between aborts the stream).
const VERIFY_IN_MEMORY: u64 = 64 << 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/store/blobs", post(put_blob))
        .route("/api/v1/store/blobs/{digest}", get(get_blob))
        .route("/api/v1/store/trees", post(put_tree))
        .route("/api/v1/store/trees/{digest}", get(get_tree))
        .route("/api/v1/store/roots", get(list_roots).post(add_root))
        .route("/api/v1/store/roots/{*name}", delete(remove_root))
        .route("/api/v1/store/verify", post(verify))
        .route("/api/v1/store/gc", post(gc))
        .route("/api/v1/store/stats", get(stats))
}

fn parse_digest(s: &str) -> Result<B3Digest, ApiErr> {
    s.parse()
        .map_err(|e: cryo_store::digest::DigestError| ApiErr::bad_request(e.to_string()))
}

#[derive(Deserialize)]
struct PutQuery {
    /// Name of the GC root to create; default `put/<digest>`; empty for none.
    root: Option<String>,
}

fn root_name(q: &PutQuery, digest: &B3Digest) -> Option<String> {
    match &q.root {
        Some(r) if r.is_empty() => None,
        Some(r) => Some(r.clone()),
        None => Some(format!("put/{digest}")),
    }
}

async fn put_blob(
    _guard: Uploader,
    State(st): State<AppState>,
    Query(q): Query<PutQuery>,
    body: Body,
) -> Result<Json<PutResponse>, ApiErr> {
    if let Some(r) = q.root.as_deref().filter(|r| !r.is_empty()) {
        cryo_store::store::validate_root_name(r)?;
    }
    let mut reader = body_reader(body);
    let store = st.store.clone();
    let resp = tokio::task::spawn_blocking(move || -> Result<PutResponse, ApiErr> {
        let session = store.session();
        let s = store.put_reader(&mut reader, ObjectKind::Blob, &[], Some(&session))?;
        let root = root_name(&q, &s.digest);
        if let Some(r) = &root {
            store.add_root(r, &s.digest)?;
        }
        Ok(PutResponse {
            digest: s.digest,
            size: s.size,
            stored_size: s.stored_size,
            encoding: Some(s.encoding),
            root,
        })
    })
    .await??;
    Ok(Json(resp))
}

async fn get_blob(
    _guard: Local,
    State(st): State<AppState>,
    Path(d): Path<String>,
) -> Result<Response, ApiErr> {
    let digest = parse_digest(&d)?;
    let store = st.store.clone();
    let meta = tokio::task::spawn_blocking({
        let store = store.clone();
        move || store.meta(&digest)
    })
    .await??;
    let size = meta.as_ref().map(|m| m.size).unwrap_or(0);
    if size <= VERIFY_IN_MEMORY {
        let bytes = tokio::task::spawn_blocking(move || store.read(&digest)).await??;
        return Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response());
    }
    tokio::task::spawn_blocking({
        let store = store.clone();
        move || store.check(&digest)
    })
    .await??;
    let (mut w, body) = ChannelWriter::new();
    tokio::task::spawn_blocking(move || match store.open_blob(&digest) {
        Ok(mut r) => match std::io::copy(&mut r, &mut w) {
            Ok(_) => {
                let _ = w.flush();
            }
            Err(e) => w.fail(e),
        },
        Err(e) => w.fail(std::io::Error::other(e.to_string())),
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
        ],
        body,
    )
        .into_response())
}

async fn put_tree(
    _guard: Admin,
    State(st): State<AppState>,
    Query(q): Query<PutQuery>,
    body: Body,
) -> Result<Json<PutResponse>, ApiErr> {
    if let Some(r) = q.root.as_deref().filter(|r| !r.is_empty()) {
        cryo_store::store::validate_root_name(r)?;
    }
    let reader = body_reader(body);
    let store = st.store.clone();
    let resp = tokio::task::spawn_blocking(move || -> Result<PutResponse, ApiErr> {
        let session = store.session();
        let digest = store.import_tar(reader, &session)?;
        let meta = store
            .meta(&digest)?
            .ok_or_else(|| ApiErr::internal("imported tree vanished"))?;
        let root = root_name(&q, &digest);
        if let Some(r) = &root {
            store.add_root(r, &digest)?;
        }
        Ok(PutResponse {
            digest,
            size: meta.size,
            stored_size: meta.stored_size,
            encoding: Some(meta.encoding),
            root,
        })
    })
    .await??;
    Ok(Json(resp))
}

async fn get_tree(
    _guard: Local,
    State(st): State<AppState>,
    Path(d): Path<String>,
) -> Result<Response, ApiErr> {
    let digest = parse_digest(&d)?;
    let store = st.store.clone();
    // Decode the top tree first so that "not a tree" / "not found" are clean errors.
    tokio::task::spawn_blocking({
        let store = store.clone();
        move || store.get_tree(&digest)
    })
    .await??;
    let (mut w, body) = ChannelWriter::new();
    tokio::task::spawn_blocking(move || match store.export_tar(&digest, &mut w) {
        Ok(()) => {}
        Err(e) => w.fail(std::io::Error::other(e.to_string())),
    });
    Ok(([(header::CONTENT_TYPE, "application/x-tar")], body).into_response())
}

/// Every root, but those of private projects the caller may not read
/// (`project/<p>/…`, `publish/<p>/…`): their digests would lead to the sources.
async fn list_roots(
    Local(who): Local,
    State(st): State<AppState>,
) -> Result<Json<Vec<RootInfo>>, ApiErr> {
    let roots = tokio::task::spawn_blocking(move || -> Result<Vec<RootInfo>, ApiErr> {
        let hidden: Vec<String> = crate::project::tables::projects(&st.projects)?
            .into_iter()
            .filter(|p| crate::auth::require(&st.auth, &who, p.access(), Role::Reader).is_err())
            .map(|p| p.name.to_string())
            .collect();
        let private = |name: &str| {
            let mut parts = name.splitn(3, '/');
            matches!(parts.next(), Some("project" | "publish"))
                && parts.next().is_some_and(|p| hidden.iter().any(|h| h == p))
        };
        Ok(st
            .store
            .roots()?
            .into_iter()
            .filter(|(name, _)| !private(name))
            .map(|(name, digest)| RootInfo { name, digest })
            .collect())
    })
    .await??;
    Ok(Json(roots))
}

async fn add_root(
    _guard: Admin,
    State(st): State<AppState>,
    ApiJson(r): ApiJson<RootInfo>,
) -> Result<Json<RootInfo>, ApiErr> {
    let store = st.store.clone();
    let (name, digest) = (r.name.clone(), r.digest);
    tokio::task::spawn_blocking(move || store.add_root(&name, &digest)).await??;
    Ok(Json(r))
}

async fn remove_root(
    _guard: Admin,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Removed>, ApiErr> {
    let store = st.store.clone();
    let n = name.clone();
    let existed = tokio::task::spawn_blocking(move || store.remove_root(&n)).await??;
    if !existed {
        return Err(ApiErr::not_found(format!("no root named {name:?}")));
    }
    Ok(Json(Removed { removed: name }))
}

async fn verify(_guard: Admin, State(st): State<AppState>) -> Result<Json<VerifyReport>, ApiErr> {
    let store = st.store.clone();
    Ok(Json(
        tokio::task::spawn_blocking(move || store.verify()).await??,
    ))
}

/// Store GC, then eviction of cached build roots beyond `roots_max_bytes`.
async fn gc(_guard: Admin, State(st): State<AppState>) -> Result<Json<GcReport>, ApiErr> {
    let store = st.store.clone();
    let mut report = tokio::task::spawn_blocking(move || store.gc()).await??;
    let builder = st.builder.clone();
    let evicted =
        tokio::task::spawn_blocking(move || crate::build::roots::evict_now(&builder)).await?;
    report.roots_removed = evicted.removed;
    report.roots_bytes_freed = evicted.bytes_freed;
    report.roots_in_use = evicted.kept_in_use;
    Ok(Json(report))
}

async fn stats(_guard: Local, State(st): State<AppState>) -> Result<Json<StoreStats>, ApiErr> {
    let store = st.store.clone();
    let stats =
        tokio::task::spawn_blocking(move || -> Result<StoreStats, cryo_store::StoreError> {
            let mut s = StoreStats::default();
            for (_, m) in store.index().objects()? {
                s.objects += 1;
                s.bytes += m.size;
                s.stored_bytes += m.stored_size;
                match m.kind {
                    ObjectKind::Blob => s.blobs += 1,
                    ObjectKind::Tree => s.trees += 1,
                    ObjectKind::Derivation => s.derivations += 1,
                    ObjectKind::Record => s.records += 1,
                }
            }
            s.roots = store.roots()?.len() as u64;
            s.realisations = store.index().realisations()?.len() as u64;
            Ok(s)
        })
        .await??;
    Ok(Json(stats))
}
