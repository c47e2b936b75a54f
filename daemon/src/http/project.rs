//! `/api/v1/projects…`: projects, repositories, packages, commits, results, rebuild,
//! abort, the event stream (NDJSON) and live build logs.

use super::guard::{Admin, Caller, Maintainer, ProjectRole, Reader};
use crate::project::model::ProjectExt;
use std::convert::Infallible;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde::Deserialize;

use cryo_store::api::{
    Aborted, CommitRequest, ConfigText, Deleted, PackageRequest, PackageSummary, ProjectEvent,
    ProjectFlags, ProjectShow, ProjectStatus, ProjectSyncOutcome, ProjectSyncRequest,
    PublishAnswer, PublishRequest, Removed, Scheduled,
};

use super::resolve::{ApiJson, PrjconfText};
use super::ApiErr;
use crate::auth::Principal;
use crate::http::AppState;
use crate::project::model::{
    check_simple_name, result_key, JobResult, Package, Project, ProjectName,
};
use crate::project::ops::{self, CommitOutcome, CreateRequest, RepoRequest};
use crate::project::{tables, ProjectError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/projects", get(list).post(create))
        .route("/api/v1/projects/{name}", get(show).delete(delete))
        .route(
            "/api/v1/projects/{name}/config",
            get(config).put(set_config),
        )
        .route("/api/v1/projects/{name}/repositories", post(set_repository))
        .route("/api/v1/projects/{name}/sync", post(sync))
        .route("/api/v1/projects/{name}/packages", post(add_package))
        .route(
            "/api/v1/projects/{name}/packages/{pkg}",
            get(package).delete(remove_package).post(commit),
        )
        .route("/api/v1/projects/{name}/packages/{pkg}/log", get(log))
        .route("/api/v1/projects/{name}/results", get(results))
        .route("/api/v1/projects/{name}/status", get(status))
        .route("/api/v1/projects/{name}/rebuild", post(rebuild))
        .route("/api/v1/projects/{name}/abort", post(abort))
        .route("/api/v1/projects/{name}/events", get(events))
        .route("/api/v1/projects/{name}/publish-flag", put(set_flags))
        .route("/api/v1/projects/{name}/private", put(set_flags))
        .route("/api/v1/projects/{name}/publish", post(publish))
        .route("/api/v1/projects/{name}/key", get(key))
}

impl From<ProjectError> for ApiErr {
    fn from(e: ProjectError) -> Self {
        match e {
            ProjectError::Invalid(m) => ApiErr::bad_request(m),
            ProjectError::NotFound(m) => ApiErr::not_found(m),
            ProjectError::Conflict(m) => ApiErr {
                status: StatusCode::CONFLICT,
                code: "conflict",
                message: m,
            },
            ProjectError::Drv(d) => d.into(),
            ProjectError::Mirror(m) => m.into(),
            ProjectError::Store(s) => s.into(),
            ProjectError::Table(e) => ApiErr::internal(e.to_string()),
            ProjectError::Forbidden(m) => ApiErr::from(crate::auth::Denied::Other(m)),
            ProjectError::Auth(a) => a.into(),
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiErr> + Send + 'static,
) -> Result<T, ApiErr> {
    tokio::task::spawn_blocking(f).await?
}

fn pname(s: &str) -> Result<ProjectName, ApiErr> {
    Ok(ProjectName::parse(s).map_err(ProjectError::from)?)
}

async fn list(
    _guard: Caller,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Vec<Project>>, ApiErr> {
    Ok(Json(
        blocking(move || {
            Ok(tables::projects(&st.projects)?
                .into_iter()
                .filter(|p| {
                    crate::auth::require(&st.auth, &who, p.access(), crate::auth::Role::Reader)
                        .is_ok()
                })
                .collect())
        })
        .await?,
    ))
}

async fn create(
    _guard: Admin,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiJson(req): ApiJson<CreateRequest>,
) -> Result<Json<Project>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let p = ops::create(&st.projects, &who, &req)?;
            crate::auth::audit::record(
                &st.auth,
                who.name(),
                "project create",
                Some(p.name.as_str()),
                p.repositories
                    .iter()
                    .map(|r| format!("{} snapshot {}", r.name, r.snapshot))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            Ok(p)
        })
        .await?,
    ))
}

async fn show(
    _guard: ProjectRole<Reader>,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ProjectShow>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let project = ops::get(&st.projects, &name)?;
            let packages = tables::packages(&st.projects, &project.name)?
                .into_iter()
                .map(|p| PackageSummary {
                    revisions: p.revisions.len(),
                    version: p.latest().map(|r| r.version.clone()),
                    name: p.name.to_string(),
                    rebuilds: p.rebuilds,
                })
                .collect();
            Ok(ProjectShow { project, packages })
        })
        .await?,
    ))
}

async fn delete(
    _guard: ProjectRole<Maintainer>,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Deleted>, ApiErr> {
    let n = name.clone();
    blocking(move || Ok(ops::delete(&st.projects, &name)?)).await?;
    Ok(Json(Deleted { deleted: n }))
}

#[derive(Deserialize)]
struct RepoQuery {
    repository: Option<String>,
}

async fn config(
    _guard: ProjectRole<Reader>,
    State(st): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<RepoQuery>,
) -> Result<Json<ConfigText>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let (n, text) = ops::config_text(&st.projects, &name, q.repository.as_deref())?;
            Ok(ConfigText {
                repository: q.repository,
                name: n,
                text,
            })
        })
        .await?,
    ))
}

async fn set_config(
    _guard: ProjectRole<Maintainer>,
    State(st): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<RepoQuery>,
    ApiJson(body): ApiJson<PrjconfText>,
) -> Result<Json<Project>, ApiErr> {
    Ok(Json(
        blocking(move || {
            Ok(ops::set_config(
                &st.projects,
                &name,
                q.repository.as_deref(),
                &body,
            )?)
        })
        .await?,
    ))
}

async fn set_repository(
    _guard: ProjectRole<Maintainer>,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<RepoRequest>,
) -> Result<Json<Project>, ApiErr> {
    Ok(Json(
        blocking(move || Ok(ops::set_repository(&st.projects, &who, &name, &body)?)).await?,
    ))
}

async fn sync(
    _guard: ProjectRole<Maintainer>,
    State(st): State<AppState>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<ProjectSyncRequest>,
) -> Result<Json<ProjectSyncOutcome>, ApiErr> {
    let changed =
        blocking(move || Ok(ops::sync_project(&st.projects, &name, body.allow_expired)?)).await?;
    Ok(Json(ProjectSyncOutcome {
        changed_repositories: changed,
    }))
}

/// `package add` / `commit` body ([`CommitRequest`]): the source's file names are
/// `SafeName`s, refused when the body is deserialised; the package name is checked before
/// anything is resolved.
async fn add_package(
    _guard: ProjectRole<Maintainer>,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<CommitRequest>,
) -> Result<Json<CommitOutcome>, ApiErr> {
    let author = who.name().to_string();
    if let Some(n) = &body.name {
        check_simple_name("package", n)?;
    }
    Ok(Json(
        blocking(move || {
            let msg = if body.message.is_empty() {
                "initial revision".to_string()
            } else {
                body.message
            };
            Ok(ops::commit(
                &st.projects,
                &name,
                body.name.as_deref(),
                &body.source,
                &author,
                &msg,
                true,
            )?)
        })
        .await?,
    ))
}

async fn commit(
    _guard: ProjectRole<Maintainer>,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((name, pkg)): Path<(String, String)>,
    ApiJson(body): ApiJson<CommitRequest>,
) -> Result<Json<CommitOutcome>, ApiErr> {
    let author = who.name().to_string();
    check_simple_name("package", &pkg)?;
    Ok(Json(
        blocking(move || {
            Ok(ops::commit(
                &st.projects,
                &name,
                Some(&pkg),
                &body.source,
                &author,
                &body.message,
                false,
            )?)
        })
        .await?,
    ))
}

async fn package(
    _guard: ProjectRole<Reader>,
    State(st): State<AppState>,
    Path((name, pkg)): Path<(String, String)>,
) -> Result<Json<Package>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let p = pname(&name)?;
            tables::package(&st.projects, &p, &pkg)?
                .ok_or_else(|| ApiErr::not_found(format!("no package {pkg} in {name}")))
        })
        .await?,
    ))
}

async fn remove_package(
    _guard: ProjectRole<Maintainer>,
    State(st): State<AppState>,
    Path((name, pkg)): Path<(String, String)>,
) -> Result<Json<Removed>, ApiErr> {
    let n = pkg.clone();
    blocking(move || Ok(ops::remove_package(&st.projects, &name, &pkg)?)).await?;
    Ok(Json(Removed { removed: n }))
}

async fn results(
    _guard: ProjectRole<Reader>,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<JobResult>>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let p = ops::get(&st.projects, &name)?;
            let mut rows = tables::results(&st.projects, &p.name)?;
            for r in &mut rows {
                for o in &mut r.outputs {
                    o.control = None;
                }
            }
            Ok(rows)
        })
        .await?,
    ))
}

async fn rebuild(
    _guard: ProjectRole<Maintainer>,
    State(st): State<AppState>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<PackageRequest>,
) -> Result<Json<Scheduled>, ApiErr> {
    let n = blocking(move || {
        let p = ops::get(&st.projects, &name)?;
        // The counters (`<B_CNT>`) change in one write transaction.
        tables::count_rebuilds(&st.projects, &p.name, body.package.as_deref())?;
        Ok(st
            .projects
            .scheduler
            .rebuild(&st.projects, &p.name, body.package.as_deref())?)
    })
    .await?;
    Ok(Json(Scheduled { scheduled: n }))
}

async fn abort(
    _guard: ProjectRole<Maintainer>,
    State(st): State<AppState>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<PackageRequest>,
) -> Result<Json<Aborted>, ApiErr> {
    let n = blocking(move || {
        let p = ops::get(&st.projects, &name)?;
        Ok(st
            .projects
            .scheduler
            .abort(&st.projects, &p.name, body.package.as_deref())?)
    })
    .await?;
    Ok(Json(Aborted { aborted: n }))
}

fn line(e: &ProjectEvent) -> String {
    serde_json::to_string(e).expect("serializable")
}

/// NDJSON: one [`crate::project::scheduler::Event`] per line, for this project, until the
/// client goes away. A `{"heartbeat":…}` line every 15 s keeps proxies and clients awake.
async fn events(
    _guard: ProjectRole<Reader>,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiErr> {
    let p = pname(&name)?;
    let rx = st.projects.scheduler.subscribe();
    let stream = futures_util::stream::unfold((rx, p), |(mut rx, p)| async move {
        loop {
            let ev = tokio::time::timeout(std::time::Duration::from_secs(15), rx.recv()).await;
            let line = match ev {
                Err(_) => line(&ProjectEvent::Heartbeat { heartbeat: true }),
                Ok(Ok(e)) if e.project == p => line(&ProjectEvent::Change(e)),
                Ok(Ok(_)) => continue,
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(n))) => {
                    line(&ProjectEvent::Lagged { lagged: n })
                }
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => return None,
            };
            return Some((Ok::<Bytes, Infallible>(Bytes::from(line + "\n")), (rx, p)));
        }
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        super::stream::until_shutdown(stream, &st.shutdown),
    )
        .into_response())
}

#[derive(Deserialize)]
struct LogQuery {
    repository: Option<String>,
    arch: Option<String>,
    #[serde(default)]
    follow: bool,
}

/// The build log of a package: live (following it with `follow=true`) while it builds,
/// else the stored log of its last build.
async fn log(
    _guard: ProjectRole<Reader>,
    State(st): State<AppState>,
    Path((name, pkg)): Path<(String, String)>,
    Query(q): Query<LogQuery>,
) -> Result<Response, ApiErr> {
    let st2 = st.clone();
    let (key, row) = blocking(move || {
        let p = ops::get(&st2.projects, &name)?;
        let repo = match &q.repository {
            Some(r) => r.clone(),
            None => p
                .repositories
                .first()
                .map(|r| r.name.to_string())
                .unwrap_or_default(),
        };
        let arch = q.arch.clone().unwrap_or_else(|| {
            p.repositories
                .iter()
                .find(|r| r.name == repo)
                .and_then(|r| r.arches.first().cloned())
                .unwrap_or_else(|| st2.deriver.host_arch.clone())
        });
        let key = result_key(&p.name, &repo, &arch, &pkg);
        let row = tables::result(&st2.projects, &key)?.ok_or_else(|| {
            ApiErr::not_found(format!("no result for {pkg} in {name} ({repo}/{arch})"))
        })?;
        Ok((key, row))
    })
    .await?;
    let text = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    if let Some(run) = st.projects.scheduler.running(&key) {
        if q.follow {
            return Ok((text, super::stream::follow_body(run, &st.shutdown)).into_response());
        }
        let (bytes, _) = run.log.read_from(0);
        return Ok((text, bytes).into_response());
    }
    let digest = row
        .log
        .or_else(|| row.derivation.and_then(|d| st.builder.build_logs.get(&d)))
        .ok_or_else(|| {
            ApiErr::not_found(format!(
                "{} has no build log yet (state {})",
                row.package,
                row.state.as_str()
            ))
        })?;
    let bytes = blocking(move || Ok(st.store.read(&digest)?)).await?;
    Ok((text, bytes).into_response())
}

impl From<crate::publish::PublishError> for ApiErr {
    fn from(e: crate::publish::PublishError) -> Self {
        use crate::publish::PublishError as E;
        match e {
            E::Invalid(m) => ApiErr::bad_request(m),
            E::NotFound(m) => ApiErr::not_found(m),
            E::Project(p) => p.into(),
            E::Mirror(m) => m.into(),
            E::Store(s) => s.into(),
            // Its text already names its causes (a failed tree build with its whole
            // chain): walking the typed sources again would change what users see.
            e @ E::Repo(_) => ApiErr::internal(e.to_string()),
            other => ApiErr::internal(crate::build::chain(&other)),
        }
    }
}

/// `cryo publish PROJECT [--repository R] [--rollback] [--export DIR]`.
async fn publish(
    _guard: ProjectRole<Maintainer>,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<PublishRequest>,
) -> Result<Json<PublishAnswer>, ApiErr> {
    use crate::publish::generation as p;
    let v = blocking(move || {
        let repo = body.repository.as_deref();
        if let Some(dir) = &body.export {
            // The daemon writes the export with its own rights, anywhere it is told to:
            // only admins may choose where.
            who.require_admin()?;
            return Ok(PublishAnswer::Exported(p::export(
                &st.publisher,
                &name,
                repo,
                dir,
            )?));
        }
        let out = if body.rollback {
            p::rollback(&st.publisher, &name, repo)?
        } else {
            p::publish(&st.publisher, &name, repo)?
        };
        Ok(PublishAnswer::Published(out))
    })
    .await?;
    Ok(Json(v))
}

/// `cryo project key PROJECT`: the armored public key (created on first use).
async fn key(
    _guard: ProjectRole<Reader>,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiErr> {
    let text = blocking(move || {
        let p = ops::get(&st.projects, &name)?;
        let k = crate::publish::keys::load_or_create(&st.publisher, &p.name)?;
        k.public_armored()
            .map_err(|e| ApiErr::internal(format!("exporting the key: {e}")))
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/pgp-keys")], text).into_response())
}

/// Scheduler-side state of a project that is not in its result rows.
async fn status(
    _guard: ProjectRole<Reader>,
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ProjectStatus>, ApiErr> {
    let p = pname(&name)?;
    Ok(Json(ProjectStatus {
        publish_pending: st.projects.scheduler.publish_pending(&p),
        project: name,
    }))
}

/// `PUT …/publish-flag` and `PUT …/private`: a project's flags (absent ones unchanged).
async fn set_flags(
    _guard: ProjectRole<Maintainer>,
    State(st): State<AppState>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<ProjectFlags>,
) -> Result<Json<Project>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let p = ops::get(&st.projects, &name)?;
            // One write transaction: a concurrent role change is not overwritten.
            let p = tables::update_project(&st.projects, &p.name, |p| {
                if let Some(v) = body.publish {
                    p.publish = v;
                }
                if let Some(v) = body.private {
                    p.private = v;
                }
                Ok(())
            })?;
            // Who may read it changed: projects with it in a repository path check again.
            if body.private.is_some() {
                for d in crate::project::eval::dependents(&st.projects, &p.name)? {
                    st.projects.scheduler.evaluate_now(&st.projects, &d);
                }
            }
            Ok(p)
        })
        .await?,
    ))
}
