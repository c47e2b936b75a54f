//! Authorization declared per route: each handler takes the guard its route needs as its
//! first argument, and the guard decides with [`crate::auth::policy`] before anything
//! else of the request is read.
//!
//! | guard | who passes |
//! |---|---|
//! | [`Caller`] | everyone (the handler decides; it gets the principal) |
//! | [`Local`] | local users (any uid on the socket), authenticated users, admins |
//! | [`Authenticated`] | any user with a name (token or mapped uid) |
//! | [`Admin`] | admins |
//! | [`Uploader`] | authenticated users for unrooted blob uploads (`?root=`), else admins |
//! | [`ProjectRole<R>`] | holders of role `R` on the project named by the route's first path parameter (admins; readers of public projects); unknown projects pass, the handler answers 404 |
//!
//! A route without a guard is open to anyone (status, the binary cache). The in-process
//! route tests (`daemon/tests/api_routes.rs`) list every route with its expected answer
//! per role, so a route added without the right guard fails them.

use crate::project::model::ProjectExt;
use std::marker::PhantomData;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use super::ApiErr;
use crate::auth::policy::{self, Need};
use crate::auth::{Credential, Principal, Role};
use crate::http::AppState;
use crate::project::model::ProjectName;

/// Whether the request came over the unix socket from a known uid (set by the identity
/// middleware next to the [`Principal`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalPeer(pub bool);

/// The caller, for handlers that decide themselves (tokens, requests, audit).
#[derive(Debug, Clone)]
pub struct Caller {
    pub who: Principal,
    pub credential: Credential,
    pub local: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiErr;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiErr> {
        Ok(Caller {
            who: parts
                .extensions
                .get::<Principal>()
                .cloned()
                .unwrap_or(Principal::Anonymous),
            credential: parts
                .extensions
                .get::<Credential>()
                .cloned()
                .unwrap_or_default(),
            local: parts.extensions.get::<LocalPeer>().is_some_and(|l| l.0),
        })
    }
}

fn need(parts: &Parts, n: Need) -> Result<Principal, ApiErr> {
    let who = parts
        .extensions
        .get::<Principal>()
        .cloned()
        .unwrap_or(Principal::Anonymous);
    let local = parts.extensions.get::<LocalPeer>().is_some_and(|l| l.0);
    let what = format!("{} {}", parts.method, parts.uri.path());
    policy::require(&who, local, n, &what)?;
    Ok(who)
}

macro_rules! global_guard {
    ($(#[$doc:meta])* $name:ident, $need:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Principal);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = ApiErr;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiErr> {
                need(parts, $need).map($name)
            }
        }
    };
}

global_guard!(
    /// Reads outside projects: local users and authenticated users.
    Local,
    Need::Local
);
global_guard!(
    /// Any authenticated user.
    Authenticated,
    Need::Authenticated
);
global_guard!(
    /// Admins only.
    Admin,
    Need::Admin
);

/// `POST /api/v1/store/blobs`: an unrooted upload (`?root=`, the sources of a commit) is
/// for any authenticated user; rooting a blob is for admins.
#[derive(Debug, Clone)]
pub struct Uploader(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Uploader {
    type Rejection = ApiErr;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiErr> {
        let n = if parts.uri.query() == Some("root=") {
            Need::Authenticated
        } else {
            Need::Admin
        };
        need(parts, n).map(Uploader)
    }
}

/// A project role, as a type.
pub trait RoleMarker: Send + Sync + 'static {
    const ROLE: Role;
}

/// `reader` (every role grants it; public projects need none).
pub struct Reader;
impl RoleMarker for Reader {
    const ROLE: Role = Role::Reader;
}

/// `maintainer` (covers every role).
pub struct Maintainer;
impl RoleMarker for Maintainer {
    const ROLE: Role = Role::Maintainer;
}

/// Role `R` on the project named by the route's first path parameter.
pub struct ProjectRole<R>(pub Principal, PhantomData<R>);

impl<R: RoleMarker> FromRequestParts<AppState> for ProjectRole<R> {
    type Rejection = ApiErr;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiErr> {
        let who = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .unwrap_or(Principal::Anonymous);
        let name = RawPathParams::from_request_parts(parts, st)
            .await
            .ok()
            .and_then(|p| p.iter().next().map(|(_, v)| v.to_string()));
        // A name that does not parse names no project: the handler answers it.
        let Some(pn) = name.and_then(|n| ProjectName::parse(&n).ok()) else {
            return Ok(ProjectRole(who, PhantomData));
        };
        let (st, who2) = (st.clone(), who.clone());
        tokio::task::spawn_blocking(move || -> Result<(), ApiErr> {
            let Some(project) = crate::project::tables::project(&st.projects, &pn)? else {
                return Ok(());
            };
            crate::auth::require(&st.auth, &who2, project.access(), R::ROLE)?;
            Ok(())
        })
        .await??;
        Ok(ProjectRole(who, PhantomData))
    }
}
