//! `GET|HEAD /repos/<project>/<repository>/<path>`: published repositories over HTTP
//! (unix socket and `--listen`), with content types, ETag/Last-Modified, conditional
//! requests (`If-None-Match`, `If-Modified-Since` → 304) and single byte ranges.

use super::guard::{ProjectRole, Reader};
use std::io::Read;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::http::ApiErr;
use crate::http::AppState;
use crate::project::model::ProjectName;
use crate::publish::manifest::{self, Entry};

pub fn routes() -> Router<AppState> {
    Router::new().route("/repos/{project}/{repo}/{*path}", get(file).head(file))
}

fn content_type(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("deb") | Some("udeb") => "application/vnd.debian.binary-package",
        Some("dsc") => "text/plain; charset=utf-8",
        Some("gz") => "application/gzip",
        Some("xz") => "application/x-xz",
        Some("zst") => "application/zstd",
        Some("gpg") => "application/pgp-signature",
        Some("asc") => "application/pgp-keys",
        _ if path.contains("/by-hash/") => "application/octet-stream",
        _ if matches!(name, "Release" | "InRelease" | "Packages" | "Sources") => {
            "text/plain; charset=utf-8"
        }
        _ => "application/octet-stream",
    }
}

/// Find `path` in the current generation, or (for `by-hash/` paths, which clients holding
/// an older InRelease may still ask for) in an older kept one.
fn lookup(st: &AppState, project: &str, repo: &str, path: &str) -> Result<(Entry, i64), ApiErr> {
    let pn = ProjectName::parse(project).map_err(|e| ApiErr::not_found(e.to_string()))?;
    let publication =
        manifest::get(&st.publisher, &pn, repo).map_err(|e| ApiErr::internal(e.to_string()))?;
    let missing = || ApiErr::not_found(format!("/repos/{project}/{repo}/{path}: no such file"));
    let cur = publication.current_generation().ok_or_else(missing)?;
    let mut order = vec![(cur.clone(), publication.switched)];
    if path.contains("/by-hash/") {
        order.extend(
            publication
                .generations
                .iter()
                .rev()
                .filter(|g| g.number != cur.number)
                .map(|g| (g.clone(), g.created)),
        );
    }
    for (g, modified) in order {
        let m = st
            .publisher
            .publish_manifests
            .get(&st.publisher, &g.manifest)
            .map_err(|e| ApiErr::internal(e.to_string()))?;
        if let Some(e) = m.files.get(path) {
            return Ok((e.clone(), modified));
        }
    }
    Err(missing())
}

async fn file(
    _guard: ProjectRole<Reader>,
    State(st): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path((project, repo, path)): Path<(String, String, String)>,
) -> Result<Response, ApiErr> {
    let st2 = st.clone();
    let (p2, r2, path2) = (project.clone(), repo.clone(), path.clone());
    let (entry, created) =
        tokio::task::spawn_blocking(move || lookup(&st2, &p2, &r2, &path2)).await??;
    let etag = format!("\"{}\"", entry.blake3);
    let modified = std::time::UNIX_EPOCH + std::time::Duration::from_secs(created.max(0) as u64);
    let last_modified = httpdate::fmt_http_date(modified);
    let not_modified = match headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        Some(inm) => inm.split(',').any(|t| t.trim() == etag || t.trim() == "*"),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .is_some_and(|since| modified <= since),
    };
    let base = || {
        Response::builder()
            .header(header::ETAG, &etag)
            .header(header::LAST_MODIFIED, &last_modified)
            .header(header::ACCEPT_RANGES, "bytes")
            .header(
                header::CACHE_CONTROL,
                if path.contains("/by-hash/") || path.starts_with("pool/") {
                    "max-age=86400"
                } else {
                    "no-cache"
                },
            )
    };
    if not_modified {
        return base()
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .map_err(|e| ApiErr::internal(e.to_string()));
    }
    let len = entry.size;
    let (status, start, count, range_hdr) = match super::cache::range(&headers, len) {
        Ok(None) => (StatusCode::OK, 0, len, None),
        Ok(Some((a, b))) => (
            StatusCode::PARTIAL_CONTENT,
            a,
            b - a + 1,
            Some(format!("bytes {a}-{b}/{len}")),
        ),
        Err(()) => {
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{len}"))],
            )
                .into_response())
        }
    };
    let mut resp = base()
        .status(status)
        .header(header::CONTENT_TYPE, content_type(&path))
        .header(header::CONTENT_LENGTH, count.to_string());
    if let Some(r) = range_hdr {
        resp = resp.header(header::CONTENT_RANGE, r);
    }
    if method == Method::HEAD {
        return resp
            .body(Body::empty())
            .map_err(|e| ApiErr::internal(e.to_string()));
    }
    // Stream the blob (verified while read) from a blocking thread.
    let (mut w, body) = crate::http::stream::ChannelWriter::new();
    let d = entry.blake3;
    tokio::task::spawn_blocking(move || {
        let res = (|| -> std::io::Result<()> {
            let mut r = st.store.open_blob(&d).map_err(std::io::Error::other)?;
            if start == 0 && count == len {
                // Whole file: read to the end so the store's reader checks the hash.
                std::io::copy(&mut r, &mut w)?;
            } else {
                std::io::copy(&mut (&mut r).take(start), &mut std::io::sink())?;
                std::io::copy(&mut r.take(count), &mut w)?;
            }
            std::io::Write::flush(&mut w)
        })();
        if let Err(e) = res {
            tracing::warn!(blob = %d, error = %e, "serving a repository file failed");
            w.fail(e);
        }
    });
    resp.body(body).map_err(|e| ApiErr::internal(e.to_string()))
}
