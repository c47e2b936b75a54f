//! redb tables: `users` (name → [`User`]), `groups` (name → [`Group`]) and `tokens`
//! (id → [`Token`]; only the BLAKE3 of the secret is stored). Names are [`UserName`]s, so
//! no record can hold an unchecked name. Every read-modify-write (creating a user or a
//! group, adding a member, revoking tokens) is one write transaction
//! ([`crate::table::JsonTable`]).

use serde::{Deserialize, Serialize};

use cryo_store::B3Digest;

use super::name::UserName;
use super::{Auth, AuthError};
use crate::table::{JsonTable, TableError};

pub const USERS: JsonTable<&str, User> = JsonTable::new("users");
pub const GROUPS: JsonTable<&str, Group> = JsonTable::new("groups");
pub const TOKENS: JsonTable<&str, Token> = JsonTable::new("tokens");

/// Users and groups are stored as they are answered (same serde attributes).
pub use cryo_store::api::{Group, User};

/// A token row. Not a wire type: it holds the secret's hash; it is answered as a
/// [`cryo_store::api::TokenInfo`] ([`Token::info`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// Public id (also the first characters of the secret after `cryo_`).
    pub id: String,
    pub user: UserName,
    /// BLAKE3 of the whole secret string.
    pub hash: B3Digest,
    pub created: i64,
    #[serde(default)]
    pub expires: Option<i64>,
    #[serde(default)]
    pub revoked: Option<i64>,
    /// The token this one was created with (`None`: created on the socket without a
    /// token). Revoking a token revokes every token created with it.
    #[serde(default)]
    pub parent: Option<String>,
}

impl Token {
    /// The token as listed (never the hash).
    pub fn info(&self) -> cryo_store::api::TokenInfo {
        cryo_store::api::TokenInfo {
            id: self.id.clone(),
            user: self.user.to_string(),
            created: self.created,
            expires: self.expires,
            revoked: self.revoked,
            parent: self.parent.clone(),
        }
    }
}

pub fn user(st: &Auth, name: &str) -> Result<Option<User>, AuthError> {
    Ok(USERS.get(st.store.index().database(), name)?)
}

pub fn group(st: &Auth, name: &str) -> Result<Option<Group>, AuthError> {
    Ok(GROUPS.get(st.store.index().database(), name)?)
}

pub fn token(st: &Auth, id: &str) -> Result<Option<Token>, AuthError> {
    Ok(TOKENS.get(st.store.index().database(), id)?)
}

/// Groups `user` is a member of.
pub fn groups_of(st: &Auth, user: &str) -> Result<Vec<String>, AuthError> {
    Ok(GROUPS
        .all(st.store.index().database())?
        .into_iter()
        .filter(|g| g.members.iter().any(|m| m == user))
        .map(|g| g.name.to_string())
        .collect())
}

/// The user a local uid acts as.
pub fn user_by_uid(st: &Auth, uid: u32) -> Result<Option<User>, AuthError> {
    Ok(USERS
        .all(st.store.index().database())?
        .into_iter()
        .find(|u| u.uids.contains(&uid)))
}

/// The token and its ancestors (parent first), stopping at a missing parent or a loop.
pub fn chain(st: &Auth, t: &Token) -> Result<Vec<Token>, AuthError> {
    let mut out = Vec::new();
    let mut next = t.parent.clone();
    while let Some(id) = next {
        if out.iter().any(|x: &Token| x.id == id) || id == t.id {
            break;
        }
        let Some(p) = token(st, &id)? else { break };
        next = p.parent.clone();
        out.push(p);
    }
    Ok(out)
}

/// Revoke `id` and every token created with it (transitively), in one transaction.
/// Returns the tokens newly revoked (the first is `id` itself when it was not revoked
/// yet).
pub fn revoke_tree(st: &Auth, id: &str, now: i64) -> Result<Vec<Token>, AuthError> {
    crate::table::write(st.store.index().database(), TOKENS.name(), |tx| {
        let mut w = TOKENS.open(tx)?;
        let all = w.all()?;
        let mut ids = vec![id.to_string()];
        let mut i = 0;
        while i < ids.len() {
            let cur = ids[i].clone();
            for t in &all {
                if t.parent.as_deref() == Some(cur.as_str()) && !ids.contains(&t.id) {
                    ids.push(t.id.clone());
                }
            }
            i += 1;
        }
        let mut changed = Vec::new();
        for t in all.into_iter().filter(|t| ids.contains(&t.id)) {
            if t.revoked.is_none() {
                let mut t = t;
                t.revoked = Some(now);
                w.put(t.id.as_str(), &t)?;
                changed.push(t);
            }
        }
        changed.sort_by_key(|t| t.id != id);
        Ok::<_, TableError>(changed)
    })
    .map_err(AuthError::from)
}
