//! Who is asking, and may they? Users, groups, tokens, project roles and the audit log.
//!
//! Identity (`Principal`), resolved per request by `http/identity.rs` with
//! [`identity::from_token`] and [`identity::from_uid`]:
//! - a bearer token (`Authorization: Bearer cryo_…`, on the socket or TCP) names its user;
//!   an unknown, revoked or expired token is refused (401), never downgraded;
//! - otherwise, on the unix socket, the daemon's own uid and root are admins (as the user
//!   of that login name), and other uids map to users that list them (`cryo user add NAME
//!   --uid N`); unmapped local uids and TCP clients are anonymous.
//!
//! Authorisation is [`policy`] (pure; unit-tested): admins may do everything; project
//! operations check OBS roles; other writes are for admins. HTTP declares per route what
//! it needs with typed extractors (`http/guard.rs`). Every change is appended to the
//! audit log ([`audit`]).

pub mod audit;
pub mod identity;
pub mod name;
pub mod policy;
pub mod tables;

use std::sync::Arc;

use cryo_store::Store;

use crate::clock::Clock;
use crate::table::TableError;

pub use policy::{Denied, Principal, ProjectAccess, Role, RoleGrant};

/// Errors of the auth subsystem.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Denied(#[from] Denied),
    /// A token that cannot be used (401).
    #[error("token {id} {why}")]
    TokenRefused { id: String, why: String },
    #[error("{0}")]
    Invalid(String),
    #[error("auth database: {0}")]
    Table(#[from] TableError),
}

/// What the auth subsystem uses: the store's database and the clock (token expiry, audit
/// times).
pub struct Auth {
    pub store: Arc<Store>,
    pub clock: Clock,
}

/// The token a request was authenticated with (`None`: the socket identity or
/// anonymous). Kept next to the [`Principal`]: creating a token with a token is bounded
/// by it (`docs/teams.md`).
#[derive(Debug, Clone, Default)]
pub struct Credential(pub Option<tables::Token>);

/// `maintainer`, `bugowner`, `reviewer` or `reader`, or a clear error.
pub fn parse_role(s: &str) -> Result<Role, AuthError> {
    Role::parse(s).ok_or_else(|| {
        AuthError::Invalid(format!(
            "unknown role {s:?}: maintainer, bugowner, reviewer or reader"
        ))
    })
}

/// The roles `who` holds on `project` (directly or through groups).
pub fn roles_of(st: &Auth, who: &str, project: ProjectAccess<'_>) -> Vec<Role> {
    let groups = tables::groups_of(st, who).unwrap_or_default();
    policy::roles_of(project.grants, who, &groups)
}

/// Whether the user record `name` may read `project`: public projects, admins, and any
/// role on it (every role grants reading).
pub fn user_can_read(st: &Auth, name: &str, project: ProjectAccess<'_>) -> Result<bool, AuthError> {
    if !project.private || !roles_of(st, name, project).is_empty() {
        return Ok(true);
    }
    Ok(tables::user(st, name)?.is_some_and(|u| u.admin))
}

/// The users who maintain `project`: direct `maintainer` grants and the members of
/// groups granted `maintainer` (sorted, without duplicates).
pub fn maintainers(st: &Auth, project: ProjectAccess<'_>) -> Result<Vec<String>, AuthError> {
    let mut out = std::collections::BTreeSet::new();
    for g in project.grants.iter().filter(|g| g.role == Role::Maintainer) {
        match g.subject.group() {
            Some(grp) => {
                if let Some(grp) = tables::group(st, grp)? {
                    out.extend(grp.members.iter().map(|m| m.to_string()));
                }
            }
            None => {
                out.insert(g.subject.to_string());
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// Require `need` on `project`: admins pass; reading a public project needs nothing.
pub fn require(
    st: &Auth,
    who: &Principal,
    project: ProjectAccess<'_>,
    need: Role,
) -> Result<(), AuthError> {
    let groups = match who {
        Principal::User(n) if project.private || need != Role::Reader => tables::groups_of(st, n)?,
        _ => Vec::new(),
    };
    Ok(policy::require_role(who, project, &groups, need)?)
}

/// The login name of a local uid (`uid<N>` when it has none).
pub fn login_name(uid: Option<u32>) -> String {
    let Some(uid) = uid else {
        return "anonymous".into();
    };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
            })
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}
