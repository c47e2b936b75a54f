//! Users, groups, tokens, project roles and the audit log:
//! `/api/v1/users`, `/api/v1/groups`, `/api/v1/tokens`, `/api/v1/projects/{p}/roles`,
//! `/api/v1/audit`. Writes to users and groups need an admin (enforced by the identity
//! middleware); tokens and roles are checked here.

use super::guard::{Admin, Caller, Local, Maintainer, ProjectRole};
use crate::project::model::ProjectExt;
use std::io::Read;

use axum::extract::{Path, Query, State};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;

use cryo_store::api::{
    CreatedToken, NewGroup, NewMember, NewToken, NewUser, RoleRequest, TokenInfo, WhoAmI,
};
use cryo_store::B3Digest;

use super::ApiErr;
use crate::auth::name::{Subject, UserName};
use crate::auth::tables::{self, Group, Token, User, GROUPS, TOKENS, USERS};
use crate::auth::{audit, require, AuthError, Credential, Denied, Principal, Role, RoleGrant};
use crate::http::AppState;
use crate::project::{ops, tables as ptables};
use crate::table::TableError;

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

fn check_name(kind: &'static str, s: &str) -> Result<UserName, ApiErr> {
    UserName::parse(kind, s).map_err(|e| ApiErr::bad_request(e.to_string()))
}

fn table_err(e: TableError) -> ApiErr {
    AuthError::from(e).into()
}

fn forbidden(message: String) -> ApiErr {
    Denied::Other(message).into()
}

fn conflict(message: String) -> ApiErr {
    ApiErr {
        status: axum::http::StatusCode::CONFLICT,
        code: "conflict",
        message,
    }
}

/// Why a user or group write did not happen (inside its transaction).
enum Refused {
    Api(ApiErr),
    Table(TableError),
}

impl From<TableError> for Refused {
    fn from(e: TableError) -> Self {
        Refused::Table(e)
    }
}

impl From<Refused> for ApiErr {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Api(e) => e,
            Refused::Table(e) => table_err(e),
        }
    }
}

async fn whoami(_guard: Local, Extension(who): Extension<Principal>) -> Json<WhoAmI> {
    Json(WhoAmI {
        admin: who.is_admin(),
        authenticated: who != Principal::Anonymous,
        name: who.name().to_string(),
    })
}

async fn users(_guard: Local, State(st): State<AppState>) -> Result<Json<Vec<User>>, ApiErr> {
    Ok(Json(
        blocking(move || USERS.all(st.store.index().database()).map_err(table_err)).await?,
    ))
}

async fn add_user(
    _guard: Admin,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Json(b): Json<NewUser>,
) -> Result<Json<User>, ApiErr> {
    Ok(Json(
        blocking(move || {
            who.require_admin()?;
            let name = check_name("user", &b.name)?;
            let u = User {
                name,
                admin: b.admin,
                uids: b.uids,
                created: st.clock.now(),
            };
            // The name and the uids are checked and the user written in one transaction.
            crate::table::write(st.store.index().database(), USERS.name(), |tx| {
                let mut w = USERS.open(tx)?;
                if w.get(u.name.as_str())?.is_some() {
                    return Err(Refused::Api(conflict(format!("user {} exists", u.name))));
                }
                for other in w.all()? {
                    if let Some(uid) = u.uids.iter().find(|x| other.uids.contains(x)) {
                        return Err(Refused::Api(ApiErr::bad_request(format!(
                            "uid {uid} already acts as user {}",
                            other.name
                        ))));
                    }
                }
                w.put(u.name.as_str(), &u)?;
                Ok(())
            })?;
            audit::record(
                &st.auth,
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

async fn groups(_guard: Local, State(st): State<AppState>) -> Result<Json<Vec<Group>>, ApiErr> {
    Ok(Json(
        blocking(move || GROUPS.all(st.store.index().database()).map_err(table_err)).await?,
    ))
}

async fn add_group(
    _guard: Admin,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Json(b): Json<NewGroup>,
) -> Result<Json<Group>, ApiErr> {
    Ok(Json(
        blocking(move || {
            who.require_admin()?;
            let g = Group {
                name: check_name("group", &b.name)?,
                members: Vec::new(),
                created: st.clock.now(),
            };
            if !GROUPS
                .insert_new(st.store.index().database(), g.name.as_str(), &g)
                .map_err(table_err)?
            {
                return Err(conflict(format!("group {} exists", g.name)));
            }
            audit::record(&st.auth, who.name(), "group add", None, g.name.to_string());
            Ok(g)
        })
        .await?,
    ))
}

async fn add_member(
    _guard: Admin,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(group): Path<String>,
    Json(b): Json<NewMember>,
) -> Result<Json<Group>, ApiErr> {
    Ok(Json(
        blocking(move || {
            who.require_admin()?;
            let user = check_name("user", &b.user)?;
            let g = crate::table::write(st.store.index().database(), GROUPS.name(), |tx| {
                if USERS.open(tx)?.get(user.as_str())?.is_none() {
                    return Err(Refused::Api(ApiErr::not_found(format!("no user {user}"))));
                }
                let mut w = GROUPS.open(tx)?;
                let mut g = w
                    .get(group.as_str())?
                    .ok_or_else(|| Refused::Api(ApiErr::not_found(format!("no group {group}"))))?;
                if !g.members.contains(&user) {
                    g.members.push(user.clone());
                    g.members.sort();
                }
                w.put(group.as_str(), &g)?;
                Ok(g)
            })?;
            audit::record(
                &st.auth,
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

async fn tokens(
    _guard: Caller,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Vec<TokenInfo>>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let me = who.authenticated()?.to_string();
            Ok(TOKENS
                .all(st.store.index().database())
                .map_err(table_err)?
                .into_iter()
                .filter(|t| who.is_admin() || t.user == me)
                .map(|t| t.info())
                .collect())
        })
        .await?,
    ))
}

fn random_hex(n: usize) -> Result<String, ApiErr> {
    let mut b = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| ApiErr::internal(format!("reading /dev/urandom: {e}")))?;
    Ok(hex::encode(b))
}

/// The expiry of a new token. Without a parent token (the socket identity): `days`, or
/// never. With one, the new token may not outlive it: it must expire, at the latest
/// when the parent does (the default when the parent expires; required otherwise).
fn token_expiry(
    now: i64,
    days: Option<u64>,
    parent: Option<&Token>,
) -> Result<Option<i64>, ApiErr> {
    let asked = match days {
        None => None,
        Some(d) => Some(
            i64::try_from(d)
                .ok()
                .and_then(|d| d.checked_mul(86_400))
                .and_then(|s| now.checked_add(s))
                .ok_or_else(|| ApiErr::bad_request(format!("--expires {d}: too many days")))?,
        ),
    };
    let Some(p) = parent else {
        return Ok(asked);
    };
    match (asked, p.expires) {
        (None, Some(pe)) => Ok(Some(pe)),
        (None, None) => Err(forbidden(format!(
            "a token created with a token must expire: give --expires DAYS (token {} was used)",
            p.id
        ))),
        (Some(e), Some(pe)) if e > pe => Err(forbidden(format!(
            "a token cannot create a token that outlives it: token {} expires at {pe}, \
             the new one would expire at {e}",
            p.id
        ))),
        (Some(e), _) => Ok(Some(e)),
    }
}

async fn create_token(
    _guard: Caller,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Extension(cred): Extension<Credential>,
    Json(b): Json<NewToken>,
) -> Result<Json<CreatedToken>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let me = who.authenticated()?.to_string();
            let user = match &b.user {
                Some(u) => check_name("user", u)?,
                None => UserName::parse("user", &me).map_err(|_| {
                    ApiErr::bad_request(format!(
                        "{me:?} cannot be a cryo user name; create a user (cryo user add NAME) \
                         and its token with --user NAME"
                    ))
                })?,
            };
            if user != me {
                // Tokens for others are for admins (a token of an admin user is an admin
                // principal, so this never grants more than the caller has).
                who.require_admin()?;
            }
            let parent = cred.0.as_ref();
            let now = st.clock.now();
            let expires = token_expiry(now, b.expires_days, parent)?;
            if tables::user(&st.auth, &user)?.is_none() {
                if user == me && who.is_admin() && parent.is_none() {
                    // The daemon's owner (or root) acting for the first time: record it.
                    let u = User {
                        name: user.clone(),
                        admin: true,
                        uids: Vec::new(),
                        created: now,
                    };
                    USERS
                        .insert_new(st.store.index().database(), u.name.as_str(), &u)
                        .map_err(table_err)?;
                } else {
                    return Err(ApiErr::not_found(format!(
                        "no user {user}: cryo user add {user}"
                    )));
                }
            }
            let id = random_hex(4)?;
            let secret = format!("cryo_{id}_{}", random_hex(32)?);
            let t = Token {
                id: id.clone(),
                user: user.clone(),
                hash: B3Digest::of(secret.as_bytes()),
                created: now,
                expires,
                revoked: None,
                parent: parent.map(|p| p.id.clone()),
            };
            if !TOKENS
                .insert_new(st.store.index().database(), id.as_str(), &t)
                .map_err(table_err)?
            {
                return Err(ApiErr::internal(format!("token id {id} exists; try again")));
            }
            let via = parent
                .map(|p| format!(" (with token {})", p.id))
                .unwrap_or_default();
            audit::record(
                &st.auth,
                &me,
                "token create",
                None,
                format!("{id} for {user}{via}"),
            );
            Ok(CreatedToken {
                id,
                user: user.to_string(),
                token: secret,
                expires,
                parent: t.parent,
            })
        })
        .await?,
    ))
}

async fn revoke_token(
    _guard: Caller,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<TokenInfo>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let me = who.authenticated()?.to_string();
            let t: Token = tables::token(&st.auth, &id)?
                .ok_or_else(|| ApiErr::not_found(format!("no token {id}")))?;
            if t.user != me {
                who.require_admin()?;
            }
            // The token and every token created with it, transitively, in one transaction.
            let revoked = tables::revoke_tree(&st.auth, &id, st.clock.now())?;
            for r in &revoked {
                let detail = if r.id == id {
                    format!("{} of {}", r.id, r.user)
                } else {
                    format!("{} of {} (created with revoked token {id})", r.id, r.user)
                };
                audit::record(&st.auth, &me, "token revoke", None, detail);
            }
            let t = tables::token(&st.auth, &id)?.unwrap_or(t);
            Ok(t.info())
        })
        .await?,
    ))
}

async fn add_role(
    _guard: ProjectRole<Maintainer>,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Json(b): Json<RoleRequest>,
) -> Result<Json<Vec<RoleGrant>>, ApiErr> {
    change_role(st, who, name, b, true).await
}

async fn remove_role(
    _guard: ProjectRole<Maintainer>,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Json(b): Json<RoleRequest>,
) -> Result<Json<Vec<RoleGrant>>, ApiErr> {
    change_role(st, who, name, b, false).await
}

async fn change_role(
    st: AppState,
    who: Principal,
    name: String,
    b: RoleRequest,
    add: bool,
) -> Result<Json<Vec<RoleGrant>>, ApiErr> {
    Ok(Json(
        blocking(move || {
            let p = ops::get(&st.projects, &name)?;
            require(&st.auth, &who, p.access(), Role::Maintainer)?;
            let role = crate::auth::parse_role(&b.role)?;
            let subject =
                Subject::parse(&b.subject).map_err(|e| ApiErr::bad_request(e.to_string()))?;
            match subject.group() {
                Some(g) => {
                    if tables::group(&st.auth, g)?.is_none() {
                        return Err(ApiErr::not_found(format!("no group {g}")));
                    }
                }
                None => {
                    if tables::user(&st.auth, &subject)?.is_none() {
                        return Err(ApiErr::not_found(format!("no user {subject}")));
                    }
                }
            }
            let grant = RoleGrant { subject, role };
            // Read-modify-write of the project's grants in one transaction.
            let p = ptables::update_project(&st.projects, &p.name, |p| {
                if add {
                    if !p.roles.contains(&grant) {
                        p.roles.push(grant.clone());
                    }
                } else {
                    p.roles.retain(|g| *g != grant);
                }
                Ok(())
            })?;
            // Who may read this project, and who maintains it, decide whether repository
            // paths to private projects still hold: evaluate it and its dependents again.
            st.projects.scheduler.evaluate_now(&st.projects, &p.name);
            for d in crate::project::eval::dependents(&st.projects, &p.name)? {
                st.projects.scheduler.evaluate_now(&st.projects, &d);
            }
            let verb = if add { "role add" } else { "role remove" };
            audit::record(
                &st.auth,
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
    _guard: Caller,
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<audit::AuditEntry>>, ApiErr> {
    Ok(Json(
        blocking(move || {
            match &q.project {
                Some(name) => {
                    let p = ops::get(&st.projects, name)?;
                    require(&st.auth, &who, p.access(), Role::Reader)?;
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
            Ok(audit::list(&st.auth, q.project.as_deref())?)
        })
        .await?,
    ))
}
