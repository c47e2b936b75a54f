//! Users, groups, tokens, project roles and the audit log: `/api/v1/users`,
//! `/api/v1/groups`, `/api/v1/groups/{group}/members`, `/api/v1/tokens`,
//! `/api/v1/tokens/{id}`, `/api/v1/projects/{p}/roles`, `/api/v1/audit[?project=P]` and
//! `/api/v1/whoami`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::names::{Subject, UserName};

/// OBS's project roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Maintainer,
    Bugowner,
    Reviewer,
    Reader,
}

impl Role {
    /// `maintainer`, `bugowner`, `reviewer` or `reader`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "maintainer" => Some(Role::Maintainer),
            "bugowner" => Some(Role::Bugowner),
            "reviewer" => Some(Role::Reviewer),
            "reader" => Some(Role::Reader),
            _ => None,
        }
    }
    /// Whether holding `self` satisfies a need for `need`: `maintainer` covers every
    /// role, every role covers `reader`, other roles only themselves.
    pub fn covers(self, need: Role) -> bool {
        self == need || self == Role::Maintainer || need == Role::Reader
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Maintainer => "maintainer",
            Role::Bugowner => "bugowner",
            Role::Reviewer => "reviewer",
            Role::Reader => "reader",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A role on a project, given to a user or to `@group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGrant {
    pub subject: Subject,
    pub role: Role,
}

/// `POST` and `DELETE /api/v1/projects/{p}/roles` body; both answer the project's
/// `[RoleGrant]`. Plain strings: the daemon checks them and names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRequest {
    /// A user name or `@group`.
    pub subject: String,
    /// `maintainer`, `bugowner`, `reviewer` or `reader`.
    pub role: String,
}

/// A user (`GET /api/v1/users` lists them; `POST` answers the one added).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: UserName,
    pub admin: bool,
    /// Local uids that act as this user on the unix socket.
    #[serde(default)]
    pub uids: Vec<u32>,
    pub created: i64,
}

/// `POST /api/v1/users` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub name: String,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub uids: Vec<u32>,
}

/// A group (`GET /api/v1/groups` lists them; `POST`s answer the one changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub name: UserName,
    pub members: Vec<UserName>,
    pub created: i64,
}

/// `POST /api/v1/groups` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGroup {
    pub name: String,
}

/// `POST /api/v1/groups/{group}/members` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMember {
    pub user: String,
}

/// A token as listed (never the secret): `GET /api/v1/tokens`, `DELETE /api/v1/tokens/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: String,
    pub user: String,
    pub created: i64,
    pub expires: Option<i64>,
    pub revoked: Option<i64>,
    /// The token it was created with (`null`: created without a token).
    pub parent: Option<String>,
}

/// `POST /api/v1/tokens` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    /// Default: the caller.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub expires_days: Option<u64>,
}

/// `POST /api/v1/tokens` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub id: String,
    pub user: String,
    /// The secret, shown once.
    pub token: String,
    pub expires: Option<i64>,
    pub parent: Option<String>,
}

/// One entry of the audit log (`GET /api/v1/audit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub time: i64,
    pub user: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    pub detail: String,
}

/// `GET /api/v1/whoami`. Fields in the order the daemon writes them (sorted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    pub admin: bool,
    pub authenticated: bool,
    pub name: String,
}
