//! redb tables: `users` (name → [`User`]), `groups` (name → [`Group`]) and `tokens`
//! (id → [`Token`]; only the BLAKE3 of the secret is stored).

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use cryo_store::B3Digest;

use crate::http::ApiErr;
use crate::state::AppState;

pub const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
pub const GROUPS: TableDefinition<&str, &[u8]> = TableDefinition::new("groups");
pub const TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("tokens");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub admin: bool,
    /// Local uids that act as this user on the unix socket.
    #[serde(default)]
    pub uids: Vec<u32>,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub members: Vec<String>,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// Public id (also the first characters of the secret after `cryo_`).
    pub id: String,
    pub user: String,
    /// BLAKE3 of the whole secret string.
    pub hash: B3Digest,
    pub created: i64,
    #[serde(default)]
    pub expires: Option<i64>,
    #[serde(default)]
    pub revoked: Option<i64>,
}

fn db(e: impl std::fmt::Display) -> ApiErr {
    ApiErr::internal(format!("auth database: {e}"))
}

pub fn get<T: DeserializeOwned>(
    st: &AppState,
    t: TableDefinition<&str, &[u8]>,
    key: &str,
) -> Result<Option<T>, ApiErr> {
    let d = st.store.index().database();
    let tx = d.begin_read().map_err(db)?;
    let table = match tx.open_table(t) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(db(e)),
    };
    match table.get(key).map_err(db)? {
        Some(v) => Ok(Some(serde_json::from_slice(v.value()).map_err(db)?)),
        None => Ok(None),
    }
}

pub fn all<T: DeserializeOwned>(
    st: &AppState,
    t: TableDefinition<&str, &[u8]>,
) -> Result<Vec<T>, ApiErr> {
    let d = st.store.index().database();
    let tx = d.begin_read().map_err(db)?;
    let table = match tx.open_table(t) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(db(e)),
    };
    let mut out = Vec::new();
    for item in table.iter().map_err(db)? {
        let (_, v) = item.map_err(db)?;
        out.push(serde_json::from_slice(v.value()).map_err(db)?);
    }
    Ok(out)
}

pub fn put<T: Serialize>(
    st: &AppState,
    t: TableDefinition<&str, &[u8]>,
    key: &str,
    v: &T,
) -> Result<(), ApiErr> {
    let d = st.store.index().database();
    let tx = d.begin_write().map_err(db)?;
    tx.open_table(t)
        .map_err(db)?
        .insert(key, serde_json::to_vec(v).expect("serializable").as_slice())
        .map_err(db)?;
    tx.commit().map_err(db)
}

/// Groups `user` is a member of.
pub fn groups_of(st: &AppState, user: &str) -> Result<Vec<String>, ApiErr> {
    Ok(all::<Group>(st, GROUPS)?
        .into_iter()
        .filter(|g| g.members.iter().any(|m| m == user))
        .map(|g| g.name)
        .collect())
}

/// The user a local uid acts as.
pub fn user_by_uid(st: &AppState, uid: u32) -> Result<Option<User>, ApiErr> {
    Ok(all::<User>(st, USERS)?
        .into_iter()
        .find(|u| u.uids.contains(&uid)))
}
