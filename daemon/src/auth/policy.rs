//! Who may do what: pure decisions, without sockets, tables or HTTP. Callers look up
//! what a decision needs (the principal, a project's grants, the caller's groups) and
//! map a [`Denied`] to their own error (401 or 403 over HTTP).
//!
//! - Admins may do everything.
//! - Projects: public ones are readable by anyone; every role grants reading a private
//!   one; `maintainer` covers every role; other roles cover only themselves.
//! - Endpoints outside projects ([`Need`]): some are open, reads are for local users
//!   (any uid on the socket) and authenticated users, a few writes for any authenticated
//!   user, everything else for admins.

/// OBS's project roles and a role given to a user or `@group`: wire types, also stored
/// in project rows.
pub use cryo_store::api::{Role, RoleGrant};

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
    /// The caller's name, unless anonymous.
    pub fn authenticated(&self) -> Result<&str, Denied> {
        match self {
            Principal::Anonymous => Err(Denied::Unauthenticated),
            p => Ok(p.name()),
        }
    }
    pub fn require_admin(&self) -> Result<(), Denied> {
        match self {
            Principal::Admin(_) => Ok(()),
            Principal::Anonymous => Err(Denied::Unauthenticated),
            Principal::User(n) => Err(Denied::NotAdmin {
                who: n.clone(),
                what: "this".into(),
            }),
        }
    }
}

/// What a decision about a project needs to know of it.
#[derive(Debug, Clone, Copy)]
pub struct ProjectAccess<'a> {
    pub name: &'a str,
    pub private: bool,
    pub grants: &'a [RoleGrant],
}

/// A refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Nobody is known to be asking (401).
    #[error("authentication required: send a token (CRYO_TOKEN / Authorization: Bearer)")]
    Unauthenticated,
    /// `what` needs an admin (403).
    #[error("{who} is not an admin; {what} needs an admin")]
    NotAdmin { who: String, what: String },
    /// A role on a project is missing (403).
    #[error("{who} lacks the role {} on project {project}", role.as_str())]
    LacksRole {
        who: String,
        role: Role,
        project: String,
    },
    /// Another refusal, stated (403).
    #[error("{0}")]
    Other(String),
}

/// The roles `who` (a member of `groups`) holds through `grants`.
pub fn roles_of(grants: &[RoleGrant], who: &str, groups: &[String]) -> Vec<Role> {
    grants
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

/// Require `need` on `project` of `who`, a member of `groups`: admins pass; reading a
/// public project needs nothing.
pub fn require_role(
    who: &Principal,
    project: ProjectAccess<'_>,
    groups: &[String],
    need: Role,
) -> Result<(), Denied> {
    if who.is_admin() || (need == Role::Reader && !project.private) {
        return Ok(());
    }
    let name = who.authenticated()?;
    if roles_of(project.grants, name, groups)
        .iter()
        .any(|r| r.covers(need))
    {
        return Ok(());
    }
    Err(Denied::LacksRole {
        who: name.to_string(),
        role: need,
        project: project.name.to_string(),
    })
}

/// What an endpoint outside projects needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone, even anonymous TCP clients.
    Open,
    /// Local users (any uid on the unix socket) and authenticated users: reads of the
    /// store, mirrors and snapshots, and requests that only read (resolve, fetch).
    Local,
    /// Any authenticated user (uploading sources for a commit).
    Authenticated,
    /// An admin.
    Admin,
}

/// Require `need` of `who`; `local`: the request came over the unix socket from a known
/// uid; `what` names the operation for the refusal (`POST /api/v1/mirrors`).
pub fn require(who: &Principal, local: bool, need: Need, what: &str) -> Result<(), Denied> {
    let ok = match need {
        Need::Open => true,
        Need::Local => who.is_admin() || local || *who != Principal::Anonymous,
        Need::Authenticated => *who != Principal::Anonymous,
        Need::Admin => who.is_admin(),
    };
    match (ok, who) {
        (true, _) => Ok(()),
        (false, Principal::Anonymous) => Err(Denied::Unauthenticated),
        (false, _) => Err(Denied::NotAdmin {
            who: who.name().to_string(),
            what: what.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryo_store::api::Subject;

    fn grant(subject: &str, role: Role) -> RoleGrant {
        RoleGrant {
            subject: Subject::parse(subject).unwrap(),
            role,
        }
    }

    fn user(n: &str) -> Principal {
        Principal::User(n.into())
    }

    #[test]
    fn roles_cover_as_obs_says() {
        use Role::*;
        for r in [Maintainer, Bugowner, Reviewer, Reader] {
            assert!(Maintainer.covers(r));
            assert!(r.covers(Reader));
            assert!(r.covers(r));
        }
        assert!(!Reviewer.covers(Maintainer));
        assert!(!Reader.covers(Reviewer));
        assert!(!Bugowner.covers(Reviewer));
        for r in [Maintainer, Bugowner, Reviewer, Reader] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("owner"), None);
    }

    #[test]
    fn project_roles_direct_and_through_groups() {
        let grants = [
            grant("alice", Role::Maintainer),
            grant("@qa", Role::Reviewer),
        ];
        let private = ProjectAccess {
            name: "p",
            private: true,
            grants: &grants,
        };
        let public = ProjectAccess {
            private: false,
            ..private
        };
        let none: [String; 0] = [];
        let qa = ["qa".to_string()];
        // Direct grant.
        assert_eq!(
            require_role(&user("alice"), private, &none, Role::Maintainer),
            Ok(())
        );
        // Through a group: reviewer covers reading and reviewing, not maintaining.
        assert_eq!(
            require_role(&user("bob"), private, &qa, Role::Reader),
            Ok(())
        );
        assert_eq!(
            require_role(&user("bob"), private, &qa, Role::Reviewer),
            Ok(())
        );
        assert_eq!(
            require_role(&user("bob"), private, &qa, Role::Maintainer),
            Err(Denied::LacksRole {
                who: "bob".into(),
                role: Role::Maintainer,
                project: "p".into()
            })
        );
        // No role: private projects are closed, public ones readable.
        assert!(require_role(&user("carol"), private, &none, Role::Reader).is_err());
        assert_eq!(
            require_role(&user("carol"), public, &none, Role::Reader),
            Ok(())
        );
        assert!(require_role(&user("carol"), public, &none, Role::Maintainer).is_err());
        // Anonymous: public reads only, else 401 (not 403).
        assert_eq!(
            require_role(&Principal::Anonymous, public, &none, Role::Reader),
            Ok(())
        );
        assert_eq!(
            require_role(&Principal::Anonymous, private, &none, Role::Reader),
            Err(Denied::Unauthenticated)
        );
        // Admins pass everything.
        let admin = Principal::Admin("root".into());
        assert_eq!(
            require_role(&admin, private, &none, Role::Maintainer),
            Ok(())
        );
        // A user named like a group is not the group.
        let g = [grant("@alice", Role::Maintainer)];
        let p = ProjectAccess {
            name: "p",
            private: true,
            grants: &g,
        };
        assert!(require_role(&user("alice"), p, &none, Role::Reader).is_err());
    }

    #[test]
    fn endpoints_outside_projects() {
        let admin = Principal::Admin("root".into());
        let anon = Principal::Anonymous;
        let u = user("alice");
        for (who, local) in [(&admin, false), (&anon, false), (&u, false), (&anon, true)] {
            assert_eq!(require(who, local, Need::Open, "x"), Ok(()));
        }
        // Local reads: socket uids and authenticated users; anonymous TCP is refused.
        assert_eq!(require(&anon, true, Need::Local, "x"), Ok(()));
        assert_eq!(require(&u, false, Need::Local, "x"), Ok(()));
        assert_eq!(
            require(&anon, false, Need::Local, "x"),
            Err(Denied::Unauthenticated)
        );
        // Authenticated: a local anonymous uid is not enough.
        assert_eq!(
            require(&anon, true, Need::Authenticated, "x"),
            Err(Denied::Unauthenticated)
        );
        assert_eq!(require(&u, false, Need::Authenticated, "x"), Ok(()));
        // Admin: users get 403 naming the operation, anonymous 401.
        assert_eq!(
            require(&u, true, Need::Admin, "POST /api/v1/mirrors"),
            Err(Denied::NotAdmin {
                who: "alice".into(),
                what: "POST /api/v1/mirrors".into()
            })
        );
        assert_eq!(
            Denied::NotAdmin {
                who: "alice".into(),
                what: "POST /api/v1/mirrors".into()
            }
            .to_string(),
            "alice is not an admin; POST /api/v1/mirrors needs an admin"
        );
        assert_eq!(
            require(&anon, true, Need::Admin, "x"),
            Err(Denied::Unauthenticated)
        );
        assert_eq!(require(&admin, false, Need::Admin, "x"), Ok(()));
        assert_eq!(
            u.require_admin().unwrap_err().to_string(),
            "alice is not an admin; this needs an admin"
        );
    }
}
