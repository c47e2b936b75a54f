//! Resolving the [`Principal`] of each request (stored as a request extension) and the
//! coarse rule for endpoints outside projects: reads are open to local users and to
//! anyone for public endpoints; writes need an admin. Project and request endpoints do
//! their own, finer checks.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use cryo_store::B3Digest;

use super::tables::{self, Token};
use super::{unauthorized, Credential, Principal};
use crate::http::{ApiErr, Peer};
use crate::state::AppState;

fn login_name(uid: u32) -> String {
    crate::project::ops::user_name(Some(uid))
}

/// The principal behind a bearer token, and the token. A token is refused when it, or
/// any token it was created with, is revoked or expired.
fn from_token(st: &AppState, secret: &str) -> Result<(Principal, Token), ApiErr> {
    let id = token_id(secret).ok_or_else(unauthorized)?;
    let t: Token = tables::token(st, &id)?.ok_or_else(unauthorized)?;
    if t.hash != B3Digest::of(secret.as_bytes()) {
        return Err(unauthorized());
    }
    let refuse = |why: String| ApiErr {
        status: axum::http::StatusCode::UNAUTHORIZED,
        code: "unauthorized",
        message: format!("token {id} {why}"),
    };
    let now = st.clock.now();
    if t.revoked.is_some() {
        return Err(refuse("was revoked".into()));
    }
    if t.expires.is_some_and(|e| now >= e) {
        return Err(refuse("has expired".into()));
    }
    for p in tables::chain(st, &t)? {
        if p.revoked.is_some() {
            return Err(refuse(format!(
                "was revoked (with token {} it was created with)",
                p.id
            )));
        }
        if p.expires.is_some_and(|e| now >= e) {
            return Err(refuse(format!(
                "has expired (with token {} it was created with)",
                p.id
            )));
        }
    }
    let u = tables::user(st, &t.user)?.ok_or_else(|| refuse("belongs to a deleted user".into()))?;
    let who = if u.admin {
        Principal::Admin(u.name.to_string())
    } else {
        Principal::User(u.name.to_string())
    };
    Ok((who, t))
}

/// `cryo_<id>_<secret>` → `<id>`.
pub fn token_id(secret: &str) -> Option<String> {
    let rest = secret.strip_prefix("cryo_")?;
    let (id, _) = rest.split_once('_')?;
    (id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id.to_string())
}

/// The principal of a request and the token it used (if any).
pub fn resolve(
    st: &AppState,
    peer: &Peer,
    auth: Option<&str>,
) -> Result<(Principal, Credential), ApiErr> {
    if let Some(h) = auth {
        let secret = h
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiErr::bad_request("Authorization must be `Bearer <token>`"))?;
        let (who, t) = from_token(st, secret.trim())?;
        return Ok((who, Credential(Some(t))));
    }
    Ok((resolve_socket(st, peer)?, Credential(None)))
}

fn resolve_socket(st: &AppState, peer: &Peer) -> Result<Principal, ApiErr> {
    let Some(uid) = peer.uid else {
        return Ok(Principal::Anonymous);
    };
    // SAFETY: geteuid has no preconditions.
    let owner = unsafe { libc::geteuid() };
    if uid == 0 || uid == owner {
        return Ok(Principal::Admin(login_name(uid)));
    }
    Ok(match tables::user_by_uid(st, uid)? {
        Some(u) if u.admin => Principal::Admin(u.name.to_string()),
        Some(u) => Principal::User(u.name.to_string()),
        None => Principal::Anonymous,
    })
}

/// Paths whose handlers check permissions themselves.
fn self_checked(path: &str) -> bool {
    path.starts_with("/api/v1/projects")
        || path.starts_with("/api/v1/requests")
        || path.starts_with("/api/v1/tokens")
        || path.starts_with("/api/v1/audit")
        || path.starts_with("/repos/")
        || path.starts_with("/cache/")
        || path == "/api/v1/status"
}

pub async fn identify(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    mut req: Request,
    next: Next,
) -> Response {
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // Without a token, a TCP client is anonymous: no database work (the binary cache and
    // repositories serve mostly such requests).
    let (who, cred) = if auth.is_none() && peer.uid.is_none() {
        (Principal::Anonymous, Credential(None))
    } else {
        let st2 = st.clone();
        match tokio::task::spawn_blocking(move || resolve(&st2, &peer, auth.as_deref())).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => return e.into_response(),
            Err(e) => return ApiErr::internal(e.to_string()).into_response(),
        }
    };
    let path = req.uri().path().to_string();
    if path.starts_with("/api/v1/projects") || path.starts_with("/repos/") {
        let (st3, who3, method, path3) =
            (st.clone(), who.clone(), req.method().clone(), path.clone());
        match tokio::task::spawn_blocking(move || project_guard(&st3, &who3, &method, &path3)).await
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return e.into_response(),
            Err(e) => return ApiErr::internal(e.to_string()).into_response(),
        }
    }
    if !self_checked(&path) {
        let read = matches!(*req.method(), Method::GET | Method::HEAD);
        // Local users may read everything outside projects; writes are for admins.
        // Authenticated users may upload sources (unrooted blobs) for their commits.
        let upload = *req.method() == Method::POST
            && path == "/api/v1/store/blobs"
            && req.uri().query() == Some("root=")
            && who != Principal::Anonymous;
        // POSTs that only read (resolution, fetching a snapshot's files on demand).
        let read_like = *req.method() == Method::POST
            && (path == "/api/v1/resolve"
                || (path.starts_with("/api/v1/snapshots/") && path.ends_with("/fetch")))
            && who != Principal::Anonymous;
        let allowed = who.is_admin()
            || upload
            || read_like
            || (read && (peer.uid.is_some() || who != Principal::Anonymous));
        if !allowed {
            let e = if who == Principal::Anonymous {
                unauthorized()
            } else {
                super::forbidden(format!(
                    "{} is not an admin; {} {} needs an admin",
                    who.name(),
                    req.method(),
                    path
                ))
            };
            return e.into_response();
        }
    }
    req.extensions_mut().insert(who.clone());
    req.extensions_mut().insert(cred);
    let method = req.method().clone();
    let resp = next.run(req).await;
    // Every successful change is audited (user, group, token and role changes record
    // their own, more detailed entries).
    let explicit = [
        "/api/v1/users",
        "/api/v1/groups",
        "/api/v1/tokens",
        "/api/v1/requests",
    ]
    .iter()
    .any(|p| path.starts_with(p))
        || path.ends_with("/roles")
        || path == "/api/v1/projects";
    if !matches!(method, Method::GET | Method::HEAD) && resp.status().is_success() && !explicit {
        let rest = path.strip_prefix("/api/v1/").unwrap_or(&path).to_string();
        let project = rest
            .strip_prefix("projects/")
            .and_then(|r| r.split('/').next())
            .map(percent_decode);
        let _ = tokio::task::spawn_blocking(move || {
            super::audit::record(
                &st,
                who.name(),
                &format!("{method} {rest}"),
                project.as_deref(),
                rest.clone(),
            )
        })
        .await;
    }
    resp
}

/// Roles for project paths: `/api/v1/projects/{name}…` and `/repos/{name}/…`. Reads need
/// `reader` (nothing for public projects), every other method `maintainer`; creating a
/// project needs an admin. Unknown projects pass (the handler answers 404).
fn project_guard(
    st: &AppState,
    who: &Principal,
    method: &Method,
    path: &str,
) -> Result<(), ApiErr> {
    let read = matches!(*method, Method::GET | Method::HEAD);
    let name = if let Some(rest) = path.strip_prefix("/api/v1/projects") {
        match rest.strip_prefix('/') {
            None if rest.is_empty() => {
                return if read { Ok(()) } else { who.require_admin() };
            }
            Some(r) => r.split('/').next().unwrap_or(""),
            None => return Ok(()),
        }
    } else if let Some(rest) = path.strip_prefix("/repos/") {
        rest.split('/').next().unwrap_or("")
    } else {
        return Ok(());
    };
    let decoded = percent_decode(name);
    let Ok(pn) = crate::project::model::ProjectName::parse(&decoded) else {
        return Ok(());
    };
    let Some(project) =
        crate::project::tables::project(st, &pn).map_err(|e| ApiErr::internal(e.to_string()))?
    else {
        return Ok(());
    };
    let need = if read {
        super::Role::Reader
    } else {
        super::Role::Maintainer
    };
    super::require(st, who, &project, need)
}

/// `%3A` → `:` (clients may escape the project name's colons).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
