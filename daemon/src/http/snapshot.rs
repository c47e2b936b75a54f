//! `/api/v1/snapshots...`: list, show, diff, package queries, fetch on demand.

use super::guard::{Authenticated, Local};
use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use cryo_debian::version::Version;
use cryo_store::B3Digest;

use super::resolve::ApiJson;
use super::ApiErr;
use crate::http::AppState;
use crate::mirror::dod;
use crate::mirror::query::{self, PackageEntry, Request};
use crate::mirror::snapshot::{self, IndexKind, SnapshotInfo};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/snapshots", get(list))
        .route("/api/v1/snapshots/{id}", get(show))
        .route("/api/v1/snapshots/{id}/diff/{other}", get(diff))
        .route("/api/v1/snapshots/{id}/packages/{name}", get(package))
        .route("/api/v1/snapshots/{id}/fetch", post(fetch))
}

async fn list(
    _guard: Local,
    State(st): State<AppState>,
) -> Result<Json<Vec<SnapshotInfo>>, ApiErr> {
    Ok(Json(
        tokio::task::spawn_blocking(move || snapshot::list(&st.store)).await??,
    ))
}

async fn show(
    _guard: Local,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SnapshotInfo>, ApiErr> {
    Ok(Json(
        tokio::task::spawn_blocking(move || snapshot::get(&st.store, &id)).await??,
    ))
}

/// One changed package between two snapshots, and `GET /api/v1/snapshots/{a}/diff/{b}`:
/// the API's types.
pub use cryo_store::api::{SnapshotChange as Change, SnapshotDiff as Diff};

fn winners(
    st: &AppState,
    s: &SnapshotInfo,
    kind: IndexKind,
) -> Result<BTreeMap<String, String>, ApiErr> {
    let mut best: BTreeMap<String, (i32, Version, String)> = BTreeMap::new();
    for a in &s.record.archives {
        for i in a.indices.iter().filter(|i| i.kind == kind) {
            for (name, v) in snapshot::versions(&st.store, &i.blake3)? {
                let Ok(ver) = v.parse::<Version>() else {
                    continue;
                };
                let cand = (a.priority, ver, v);
                match best.get(&name) {
                    Some(cur) if (cur.0, &cur.1) >= (cand.0, &cand.1) => {}
                    _ => {
                        best.insert(name, cand);
                    }
                }
            }
        }
    }
    Ok(best.into_iter().map(|(k, v)| (k, v.2)).collect())
}

async fn diff(
    _guard: Local,
    State(st): State<AppState>,
    Path((a, b)): Path<(String, String)>,
) -> Result<Json<Diff>, ApiErr> {
    let d = tokio::task::spawn_blocking(move || -> Result<Diff, ApiErr> {
        let sa = snapshot::get(&st.store, &a)?;
        let sb = snapshot::get(&st.store, &b)?;
        let mut d = Diff {
            from: sa.id,
            to: sb.id,
            added: vec![],
            removed: vec![],
            changed: vec![],
        };
        for kind in [IndexKind::Packages, IndexKind::Sources] {
            let wa = winners(&st, &sa, kind)?;
            let wb = winners(&st, &sb, kind)?;
            for (n, v) in &wb {
                match wa.get(n) {
                    None => d.added.push(Change {
                        kind,
                        name: n.clone(),
                        old: None,
                        new: Some(v.clone()),
                    }),
                    Some(o) if o != v => d.changed.push(Change {
                        kind,
                        name: n.clone(),
                        old: Some(o.clone()),
                        new: Some(v.clone()),
                    }),
                    _ => {}
                }
            }
            for (n, v) in &wa {
                if !wb.contains_key(n) {
                    d.removed.push(Change {
                        kind,
                        name: n.clone(),
                        old: Some(v.clone()),
                        new: None,
                    });
                }
            }
        }
        Ok(d)
    })
    .await??;
    Ok(Json(d))
}

async fn package(
    _guard: Local,
    State(st): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<Vec<PackageEntry>>, ApiErr> {
    let entries = tokio::task::spawn_blocking(move || -> Result<Vec<PackageEntry>, ApiErr> {
        let s = snapshot::get(&st.store, &id)?;
        let e = query::package(&st.store, &s, &name)?;
        if e.is_empty() {
            return Err(ApiErr::not_found(format!(
                "no binary or source package named {name:?} in snapshot {}",
                s.id
            )));
        }
        Ok(e)
    })
    .await??;
    Ok(Json(entries))
}

/// `POST /api/v1/snapshots/{id}/fetch` body, and a fetched file: the API's types.
pub use cryo_store::api::{FetchRequest, FetchedFile};

#[derive(Deserialize)]
struct FetchQuery {
    /// Only list the files; do not fetch.
    #[serde(default)]
    dry_run: bool,
}

async fn fetch(
    _guard: Authenticated,
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<FetchQuery>,
    ApiJson(req): ApiJson<FetchRequest>,
) -> Result<Json<Vec<FetchedFile>>, ApiErr> {
    let out = tokio::task::spawn_blocking(move || -> Result<Vec<FetchedFile>, ApiErr> {
        let s = snapshot::get(&st.store, &id)?;
        let r: Request = req.request.parse()?;
        let arch = req.arch.unwrap_or_else(|| st.deriver.host_arch.clone());
        let files = query::files_for(&st.store, &s, &r, &arch)?;
        let session = st.store.session();
        let mut out = Vec::new();
        for f in files {
            let digest = if q.dry_run {
                B3Digest::from_bytes([0; 32])
            } else {
                let d = dod::ensure(&st.store, &s, &f, &session)?;
                st.store.add_root(&format!("fetched/{}", f.sha256), &d)?;
                d
            };
            out.push(FetchedFile {
                name: f.file_name().to_string(),
                file: f,
                digest,
            });
        }
        Ok(out)
    })
    .await??;
    Ok(Json(out))
}
