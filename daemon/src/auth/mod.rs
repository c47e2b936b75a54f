//! Who is asking, and may they? Users, groups, tokens, project roles and the audit log.
//!
//! Identity (`Principal`), resolved per request by [`middleware::identify`]:
//! - a bearer token (`Authorization: Bearer cryo_…`, on the socket or TCP) names its user;
//!   an unknown, revoked or expired token is refused (401), never downgraded;
//! - otherwise, on the unix socket, the daemon's own uid and root are admins (as the user
//!   of that login name), and other uids map to users that list them (`cryo user add NAME
//!   --uid N`); unmapped local uids and TCP clients are anonymous.
//!
//! Authorisation: admins may do everything. Project operations check OBS roles
//! (`maintainer` ⊇ everything on the project; `reviewer`, `bugowner`, `reader` grant
//! reading); public projects are readable by anyone, private ones need a role. Other
//! writes (mirrors, store, users…) are for admins. A refusal is a 403 naming the missing
//! role. Every change is appended to the audit log.

pub mod audit;
pub mod middleware;
pub mod name;
pub mod tables;

use serde::{Deserialize, Serialize};

use crate::http::ApiErr;
use crate::project::model::Project;

/// OBS's project roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Maintainer,
    Bugowner,
    Reviewer,
    Reader,
}

impl Role {
    pub fn parse(s: &str) -> Result<Role, ApiErr> {
        match s {
            "maintainer" => Ok(Role::Maintainer),
            "bugowner" => Ok(Role::Bugowner),
            "reviewer" => Ok(Role::Reviewer),
            "reader" => Ok(Role::Reader),
            other => Err(ApiErr::bad_request(format!(
                "unknown role {other:?}: maintainer, bugowner, reviewer or reader"
            ))),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Maintainer => "maintainer",
            Role::Bugowner => "bugowner",
            Role::Reviewer => "reviewer",
            Role::Reader => "reader",
        }
    }
    /// Whether holding `self` satisfies a need for `need`.
    pub fn covers(self, need: Role) -> bool {
        self == need || self == Role::Maintainer || need == Role::Reader
    }
}

/// A role on a project, given to a user or to `@group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGrant {
    /// A user name, or `@group` (validated: it can only hold such a name).
    pub subject: name::Subject,
    pub role: Role,
}

/// The token a request was authenticated with (`None`: the socket identity or
/// anonymous). A request extension next to the [`Principal`]: creating a token with a
/// token is bounded by it (`docs/teams.md`).
#[derive(Debug, Clone, Default)]
pub struct Credential(pub Option<tables::Token>);

/// Who sends a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Admin(String),
    User(String),
    Anonymous,
}

impl Principal {
    pub fn name(&self) -> &str {
        match self {
            Principal::Admin(n) | Principal::User(n) => n,
            Principal::Anonymous => "anonymous",
        }
    }
    pub fn is_admin(&self) -> bool {
        matches!(self, Principal::Admin(_))
    }

    /// 401 for anonymous callers, else nothing.
    pub fn authenticated(&self) -> Result<&str, ApiErr> {
        match self {
            Principal::Anonymous => Err(unauthorized()),
            p => Ok(p.name()),
        }
    }

    pub fn require_admin(&self) -> Result<(), ApiErr> {
        match self {
            Principal::Admin(_) => Ok(()),
            Principal::Anonymous => Err(unauthorized()),
            Principal::User(n) => Err(forbidden(format!(
                "{n} is not an admin; this needs an admin"
            ))),
        }
    }
}

pub fn unauthorized() -> ApiErr {
    ApiErr {
        status: axum::http::StatusCode::UNAUTHORIZED,
        code: "unauthorized",
        message: "authentication required: send a token (CRYO_TOKEN / Authorization: Bearer)"
            .into(),
    }
}

pub fn forbidden(message: String) -> ApiErr {
    ApiErr {
        status: axum::http::StatusCode::FORBIDDEN,
        code: "forbidden",
        message,
    }
}

/// The roles `who` holds on `project` (directly or through groups).
pub fn roles_of(st: &crate::state::AppState, who: &str, project: &Project) -> Vec<Role> {
    let groups = tables::groups_of(st, who).unwrap_or_default();
    project
        .roles
        .iter()
        .filter(|g| {
            g.subject == who
                || g.subject
                    .group()
                    .is_some_and(|grp| groups.iter().any(|x| x == grp))
        })
        .map(|g| g.role)
        .collect()
}

/// Whether the user record `name` may read `project`: public projects, admins, and any
/// role on it (every role grants reading).
pub fn user_can_read(
    st: &crate::state::AppState,
    name: &str,
    project: &Project,
) -> Result<bool, ApiErr> {
    if !project.private || !roles_of(st, name, project).is_empty() {
        return Ok(true);
    }
    Ok(tables::user(st, name)?.is_some_and(|u| u.admin))
}

/// The users who maintain `project`: direct `maintainer` grants and the members of
/// groups granted `maintainer` (sorted, without duplicates).
pub fn maintainers(st: &crate::state::AppState, project: &Project) -> Result<Vec<String>, ApiErr> {
    let mut out = std::collections::BTreeSet::new();
    for g in project.roles.iter().filter(|g| g.role == Role::Maintainer) {
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
    st: &crate::state::AppState,
    who: &Principal,
    project: &Project,
    need: Role,
) -> Result<(), ApiErr> {
    if who.is_admin() || (need == Role::Reader && !project.private) {
        return Ok(());
    }
    let name = who.authenticated()?;
    if roles_of(st, name, project).iter().any(|r| r.covers(need)) {
        return Ok(());
    }
    Err(forbidden(format!(
        "{name} lacks the role {} on project {}",
        need.as_str(),
        project.name
    )))
}
