//! `UserName`: a user or group name, and `Subject`: a user or `@group` holding a role. Stricter than [`cryo_store::SafeName`] (which it
//! also is): letters, digits and `+._-`, starting with a letter or digit, at most 100
//! bytes. Validated on construction and on deserialisation, so a user, group, member or
//! token record can never hold an unchecked name.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use cryo_store::SafeName;

/// The longest user or group name (bytes).
pub const MAX_USER_NAME: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} name {name:?}: letters, digits and + . _ - only, starting with a letter or digit, at most {MAX_USER_NAME} bytes")]
pub struct BadName {
    pub kind: &'static str,
    pub name: String,
}

/// A validated user or group name.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserName(SafeName);

impl UserName {
    /// `kind` ("user", "group") only names the thing in the error.
    pub fn parse(kind: &'static str, s: &str) -> Result<Self, BadName> {
        let bad = || BadName {
            kind,
            name: s.chars().take(80).collect(),
        };
        let mut c = s.chars();
        let shape = matches!(c.next(), Some(f) if f.is_ascii_alphanumeric())
            && c.all(|ch| ch.is_ascii_alphanumeric() || "+._-".contains(ch))
            && s.len() <= MAX_USER_NAME;
        if !shape {
            return Err(bad());
        }
        SafeName::new(s).map(UserName).map_err(|_| bad())
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::ops::Deref for UserName {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for UserName {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for UserName {
    fn eq(&self, o: &str) -> bool {
        self.as_str() == o
    }
}

impl PartialEq<&str> for UserName {
    fn eq(&self, o: &&str) -> bool {
        self.as_str() == *o
    }
}

impl PartialEq<String> for UserName {
    fn eq(&self, o: &String) -> bool {
        self.as_str() == o
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl Serialize for UserName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for UserName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        UserName::parse("user", &s).map_err(serde::de::Error::custom)
    }
}

/// Who a project role is given to: a user name, or `@` and a group name. Validated like
/// [`UserName`] on construction and on deserialisation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subject(String);

impl Subject {
    pub fn parse(s: &str) -> Result<Self, BadName> {
        match s.strip_prefix('@') {
            Some(g) => UserName::parse("group", g)?,
            None => UserName::parse("user", s)?,
        };
        Ok(Subject(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The group name of `@group`.
    pub fn group(&self) -> Option<&str> {
        self.0.strip_prefix('@')
    }
}

impl std::ops::Deref for Subject {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Subject {
    fn eq(&self, o: &str) -> bool {
        self.0 == o
    }
}

impl PartialEq<&str> for Subject {
    fn eq(&self, o: &&str) -> bool {
        self.0 == *o
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Serialize for Subject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Subject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Subject::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["alice", "bob.smith", "ci-bot_2", "a+b", "0day"] {
            assert_eq!(UserName::parse("user", good).unwrap().as_str(), good);
        }
        let long = "a".repeat(MAX_USER_NAME + 1);
        for bad in [
            "", ".", "..", "../x", "a/b", ".a", "-a", "a b", "uid 0", "a\0", "@g", &long,
        ] {
            assert!(UserName::parse("user", bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<UserName>("\"../etc\"").is_err());
        assert!(serde_json::from_str::<Vec<UserName>>("[\"ok\", \"no way\"]").is_err());
    }

    #[test]
    fn subjects() {
        assert_eq!(Subject::parse("@team").unwrap().group(), Some("team"));
        assert_eq!(Subject::parse("alice").unwrap().group(), None);
        for bad in ["@", "@@x", "@../x", "a/b", "", "@ x"] {
            assert!(Subject::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Subject>("\"@../../x\"").is_err());
    }
}
