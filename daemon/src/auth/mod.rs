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
    /// A user name, or `@group`.
    pub subject: String,
    pub role: Role,
}

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
                    .strip_prefix('@')
                    .is_some_and(|grp| groups.iter().any(|x| x == grp))
        })
        .map(|g| g.role)
        .collect()
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
