//! Users, groups, tokens, project roles and the audit log:
//! `/api/v1/users`, `/api/v1/groups`, `/api/v1/tokens`, `/api/v1/projects/{p}/roles`,
//! `/api/v1/audit`. Writes to users and groups need an admin (enforced by the identity
//! middleware); tokens and roles are checked here.

use std::io::Read;

use axum::extract::{Path, Query, State};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

use cryo_store::B3Digest;

use super::ApiErr;
use crate::auth::tables::{self, Group, Token, User, GROUPS, TOKENS, USERS};
use crate::auth::{audit, forbidden, require, Principal, Role, RoleGrant};
use crate::project::{ops, tables as ptables};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(users).post(add_user))
        .route("/api/v1/groups", get(groups).post(add_group))
        .route("/api/v1/groups/{group}/members", post(add_member))
        .route("/api/v1/tokens", get(tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route(
            "/api/v1/projects/{name}/roles",
            post(add_role).delete(remove_role),
        )
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/whoami", get(whoami))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiErr> + Send + 'static,
) -> Result<T, ApiErr> {
    tokio::task::spawn_blocking(f).await?
}

fn check_name(kind: &str, s: &str) -> Result<(), ApiErr> {
    crate::project::model::check_simple_name(kind, s)
        .map_err(|e| ApiErr::bad_request(e.to_string()))
}

async fn whoami(Extension(who): Extension<Principal>) -> Json<serde_json::Value> {
    Json(
        serde_json::json!({"name": who.name(), "admin": who.is_admin(), "authenticated": who != Principal::Anonymous}),
    )
}

async fn users(State(st): State<AppState>) -> Result<Json<Vec<User>>, ApiErr> {
    Ok(Json(blocking(move || tables::all(&st, USERS)).await?))
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    uids: Vec<u32>,
}

async fn add_user(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Json(b): Json<NewUser>,
) -> Result<Json<User>, ApiErr> {
    Ok(Json(
        blocking(move || {
            who.require_admin()?;
            check_name("user", &b.name)?;
            if tables::get::<User>(&st, USERS, &b.name)?.is_some() {
                return Err(ApiErr {
                    status: axum::http::StatusCode::CONFLICT,
                    code: "conflict",
                    message: format!("user {} exists", b.name),
                });
            }
            for uid in &b.uids {
                if let Some(u) = tables::user_by_uid(&st, *uid)? {
                    return Err(ApiErr::bad_request(format!(
                        "uid {uid} already acts as user {}",
                        u.name
                    )));
                }
            }
            let u = User {
                name: b.name,
                admin: b.admin,
                uids: b.uids,
                created: st.clock.now(),
            };
            tables::put(&st, USERS, &u.name, &u)?;
            audit::record(
                &st,
                who.name(),
                "user add",
                None,
                format!("{} admin={} uids={:?}", u.name, u.admin, u.uids),
            );
            Ok(u)
        })
        .await?,
    ))
}

async fn groups(State(st): State<AppState>) -> Result<Json<Vec<Group>>, ApiErr> {
    Ok(Json(blocking(move || tables::all(&st, GROUPS)).await?))
}

#[derive(Deserialize)]
struct NewGroup {
    name: String,
}

async fn add_group(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Json(b): Json<NewGroup>,
) -> Result<Json<Group>, ApiErr> {
    Ok(Json(
        blocking(move || {
            who.require_admin()?;
            check_name("group", &b.name)?;
            if tables::get::<Group>(&st, GROUPS, &b.name)?.is_some() {
                return Err(ApiErr {
                    status: axum::http::StatusCode::CONFLICT,
                    code: "conflict",
                    message: format!("group {} exists", b.name),
                });
            }
            let g = Group {
                name: b.name,
                members: Vec::new(),
                created: st.clock.now(),
            };
            tables::put(&st, GROUPS, &g.name, &g)?;
            audit::record(&st, who.name(), "group add", None, g.name.clone());
            Ok(g)
        })
        .await?,
    ))
}

#[derive(Deserialize)]
struct Member {
    user: String,
}

async fn add_member(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(group): Path<String>,
    Json(b): Json<Member>,
) -> Result<Json<Group>, ApiErr> {
    Ok(Json(
        blocking(move || {
            who.require_admin()?;
            let mut g: Group = tables::get(&st, GROUPS, &group)?
                .ok_or_else(|| ApiErr::not_found(format!("no group {group}")))?;
            if tables::get::<User>(&st, USERS, &b.user)?.is_none() {
                return Err(ApiErr::not_found(format!("no user {}", b.user)));
            }
            if !g.members.contains(&b.user) {
                g.members.push(b.user.clone());
                g.members.sort();
            }
            tables::put(&st, GROUPS, &g.name, &g)?;
            audit::record(
                &st,
                who.name(),
                "group member add",
                None,
                format!("{} {}", g.name, b.user),
            );
            Ok(g)
        })
        .await?,
    ))
}

/// A token as listed (never the secret).
#[derive(Serialize)]
struct TokenInfo {
    id: String,
    user: String,
    created: i64,
    expires: Option<i64>,
    revoked: Option<i64>,
}

impl From<Token> for TokenInfo {
    fn from(t: Token) -> Self {
        TokenInfo {
            id: t.id,
            user: t.user,
            created: t.created,
            expires: t.expires,
            revoked: t.revoked,
        }
    }
}

async fn tokens(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Vec<TokenInfo>>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let me = who.authenticated()?.to_string();
            Ok(tables::all::<Token>(&st, TOKENS)?
                .into_iter()
                .filter(|t| who.is_admin() || t.user == me)
                .map(TokenInfo::from)
                .collect())
        })
        .await?,
    ))
}

#[derive(Deserialize)]
struct NewToken {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    expires_days: Option<u64>,
}

#[derive(Serialize)]
struct CreatedToken {
    id: String,
    user: String,
    /// The secret, shown once.
    token: String,
    expires: Option<i64>,
}

fn random_hex(n: usize) -> Result<String, ApiErr> {
    let mut b = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| ApiErr::internal(format!("reading /dev/urandom: {e}")))?;
    Ok(hex::encode(b))
}

async fn create_token(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Json(b): Json<NewToken>,
) -> Result<Json<CreatedToken>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let me = who.authenticated()?.to_string();
            let user = b.user.clone().unwrap_or_else(|| me.clone());
            if user != me {
                who.require_admin()?;
            }
            if tables::get::<User>(&st, USERS, &user)?.is_none() {
                if user == me && who.is_admin() {
                    // The daemon's owner (or root) acting for the first time: record it.
                    let u = User {
                        name: me.clone(),
                        admin: true,
                        uids: Vec::new(),
                        created: st.clock.now(),
                    };
                    tables::put(&st, USERS, &u.name, &u)?;
                } else {
                    return Err(ApiErr::not_found(format!(
                        "no user {user}: cryo user add {user}"
                    )));
                }
            }
            let id = random_hex(4)?;
            let secret = format!("cryo_{id}_{}", random_hex(32)?);
            let now = st.clock.now();
            let expires = match b.expires_days {
                None => None,
                Some(d) => Some(
                    i64::try_from(d)
                        .ok()
                        .and_then(|d| d.checked_mul(86_400))
                        .and_then(|s| now.checked_add(s))
                        .ok_or_else(|| {
                            ApiErr::bad_request(format!("--expires {d}: too many days"))
                        })?,
                ),
            };
            let t = Token {
                id: id.clone(),
                user: user.clone(),
                hash: B3Digest::of(secret.as_bytes()),
                created: now,
                expires,
                revoked: None,
            };
            tables::put(&st, TOKENS, &id, &t)?;
            audit::record(&st, &me, "token create", None, format!("{id} for {user}"));
            Ok(CreatedToken {
                id,
                user,
                token: secret,
                expires,
            })
        })
        .await?,
    ))
}

async fn revoke_token(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<TokenInfo>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let me = who.authenticated()?.to_string();
            let mut t: Token = tables::get(&st, TOKENS, &id)?
                .ok_or_else(|| ApiErr::not_found(format!("no token {id}")))?;
            if t.user != me {
                who.require_admin()?;
            }
            if t.revoked.is_none() {
                t.revoked = Some(st.clock.now());
                tables::put(&st, TOKENS, &id, &t)?;
                audit::record(
                    &st,
                    &me,
                    "token revoke",
                    None,
                    format!("{id} of {}", t.user),
                );
            }
            Ok(TokenInfo::from(t))
        })
        .await?,
    ))
}

#[derive(Deserialize)]
struct RoleBody {
    subject: String,
    role: String,
}

async fn add_role(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Json(b): Json<RoleBody>,
) -> Result<Json<Vec<RoleGrant>>, ApiErr> {
    change_role(st, who, name, b, true).await
}

async fn remove_role(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Json(b): Json<RoleBody>,
) -> Result<Json<Vec<RoleGrant>>, ApiErr> {
    change_role(st, who, name, b, false).await
}

async fn change_role(
    st: AppState,
    who: Principal,
    name: String,
    b: RoleBody,
    add: bool,
) -> Result<Json<Vec<RoleGrant>>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let mut p = ops::get(&st, &name)?;
            require(&st, &who, &p, Role::Maintainer)?;
            let role = Role::parse(&b.role)?;
            match b.subject.strip_prefix('@') {
                Some(g) => {
                    if tables::get::<Group>(&st, GROUPS, g)?.is_none() {
                        return Err(ApiErr::not_found(format!("no group {g}")));
                    }
                }
                None => {
                    if tables::get::<User>(&st, USERS, &b.subject)?.is_none() {
                        return Err(ApiErr::not_found(format!("no user {}", b.subject)));
                    }
                }
            }
            let grant = RoleGrant {
                subject: b.subject.clone(),
                role,
            };
            if add {
                if !p.roles.contains(&grant) {
                    p.roles.push(grant);
                }
            } else {
                p.roles.retain(|g| *g != grant);
            }
            ptables::put_project(&st, &p)?;
            let verb = if add { "role add" } else { "role remove" };
            audit::record(
                &st,
                who.name(),
                verb,
                Some(p.name.as_str()),
                format!("{} {}", b.subject, role.as_str()),
            );
            Ok(p.roles)
        })
        .await?,
    ))
}

#[derive(Deserialize)]
struct AuditQuery {
    project: Option<String>,
}

async fn audit_log(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<audit::AuditEntry>>, ApiErr> {
    Ok(Json(
        blocking(move || {
            match &q.project {
                Some(name) => {
                    let p = ops::get(&st, name)?;
                    require(&st, &who, &p, Role::Reader)?;
                    if p.private && !who.is_admin() {
                        who.authenticated()?;
                    }
                }
                None => {
                    if !who.is_admin() {
                        return Err(forbidden(format!(
                            "{}: the whole audit log is for admins; name a project",
                            who.name()
                        )));
                    }
                }
            }
            audit::list(&st, q.project.as_deref())
        })
        .await?,
    ))
}
