//! Who a request comes from: a bearer token, or the uid of a unix-socket peer.

use cryo_store::B3Digest;

use super::tables::{self, Token};
use super::{Auth, AuthError, Denied, Principal};

/// The principal behind a bearer token, and the token. A token is refused when it, or
/// any token it was created with, is revoked or expired.
pub fn from_token(st: &Auth, secret: &str) -> Result<(Principal, Token), AuthError> {
    let unknown = || AuthError::Denied(Denied::Unauthenticated);
    let id = token_id(secret).ok_or_else(unknown)?;
    let t: Token = tables::token(st, &id)?.ok_or_else(unknown)?;
    if t.hash != B3Digest::of(secret.as_bytes()) {
        return Err(unknown());
    }
    let refuse = |why: String| AuthError::TokenRefused {
        id: id.clone(),
        why,
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

/// The principal of a unix-socket peer with `uid` (`None`: not a socket peer): root and
/// the daemon's own uid are admins, mapped uids their users, others anonymous.
pub fn from_uid(st: &Auth, uid: Option<u32>) -> Result<Principal, AuthError> {
    let Some(uid) = uid else {
        return Ok(Principal::Anonymous);
    };
    // SAFETY: geteuid has no preconditions.
    let owner = unsafe { libc::geteuid() };
    if uid == 0 || uid == owner {
        return Ok(Principal::Admin(super::login_name(Some(uid))));
    }
    Ok(match tables::user_by_uid(st, uid)? {
        Some(u) if u.admin => Principal::Admin(u.name.to_string()),
        Some(u) => Principal::User(u.name.to_string()),
        None => Principal::Anonymous,
    })
}
