//! The identity middleware: every request gets its [`Principal`], [`Credential`] and
//! [`LocalPeer`] as extensions (authorization is the routes' guards, `guard.rs`), and
//! every successful change gets a generic audit entry (user, group, token, role and
//! request changes record their own, more detailed ones).

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::guard::LocalPeer;
use super::{ApiErr, Peer};
use crate::auth::{identity, AuthError, Credential, Denied, Principal};
use crate::http::AppState;

/// The principal of a request and the token it used (if any).
fn resolve(
    st: &AppState,
    peer: &Peer,
    auth: Option<&str>,
) -> Result<(Principal, Credential), ApiErr> {
    if let Some(h) = auth {
        let secret = h
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiErr::bad_request("Authorization must be `Bearer <token>`"))?;
        let (who, t) = identity::from_token(&st.auth, secret.trim())?;
        return Ok((who, Credential(Some(t))));
    }
    Ok((identity::from_uid(&st.auth, peer.uid)?, Credential(None)))
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
    req.extensions_mut().insert(who.clone());
    req.extensions_mut().insert(cred);
    req.extensions_mut().insert(LocalPeer(peer.uid.is_some()));
    let method = req.method().clone();
    let resp = next.run(req).await;
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
            crate::auth::audit::record(
                &st.auth,
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

impl From<Denied> for ApiErr {
    fn from(d: Denied) -> Self {
        use axum::http::StatusCode;
        let (status, code) = match d {
            Denied::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthorized"),
            _ => (StatusCode::FORBIDDEN, "forbidden"),
        };
        ApiErr {
            status,
            code,
            message: d.to_string(),
        }
    }
}

impl From<AuthError> for ApiErr {
    fn from(e: AuthError) -> Self {
        use axum::http::StatusCode;
        match e {
            AuthError::Denied(d) => d.into(),
            AuthError::TokenRefused { .. } => ApiErr {
                status: StatusCode::UNAUTHORIZED,
                code: "unauthorized",
                message: e.to_string(),
            },
            AuthError::Invalid(m) => ApiErr::bad_request(m),
            AuthError::Table(_) => ApiErr::internal(e.to_string()),
        }
    }
}
