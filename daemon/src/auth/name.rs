//! `UserName`: a user or group name, and `Subject`: a user or `@group` holding a role.
//! Both are the API's validated names ([`cryo_store::api::names`]): letters, digits and
//! `+._-`, starting with a letter or digit, at most 100 bytes, checked on construction
//! and on deserialisation, so a user, group, member or token record can never hold an
//! unchecked name. A refused name is an [`InvalidName`] (its message names the kind and
//! the value).

pub use cryo_store::api::{InvalidName, Subject, UserName, MAX_USER_NAME};
