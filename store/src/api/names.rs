//! Validated names of the API: [`ProjectName`], [`SimpleName`] (repositories and
//! packages), [`UserName`] (users and groups) and [`Subject`] (who holds a role).
//!
//! Each serialises as a plain JSON string and is checked on construction **and** on
//! deserialisation, with the daemon's rules and messages, so a body or record can never
//! hold a name that was not checked. File names use [`crate::SafeName`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SafeName;

/// Why a name is refused; the message names the kind of name and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidName(pub String);

/// `[A-Za-z0-9][A-Za-z0-9+._-]*`, at most 100 bytes: a segment of a project name, and a
/// whole repository or package name.
fn valid_segment(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphanumeric())
        && c.all(|ch| ch.is_ascii_alphanumeric() || "+._-".contains(ch))
        && s.len() <= 100
}

/// Implements the string-like traits shared by every name type.
macro_rules! string_name {
    ($t:ident) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl std::borrow::Borrow<str> for $t {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq<str> for $t {
            fn eq(&self, o: &str) -> bool {
                self.as_str() == o
            }
        }

        impl PartialEq<&str> for $t {
            fn eq(&self, o: &&str) -> bool {
                self.as_str() == *o
            }
        }

        impl PartialEq<String> for $t {
            fn eq(&self, o: &String) -> bool {
                self.as_str() == o
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.as_str())
            }
        }

        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl From<$t> for String {
            fn from(n: $t) -> String {
                n.as_str().to_string()
            }
        }
    };
}

/// An OBS-style project name: `:`-separated segments of `[A-Za-z0-9][A-Za-z0-9+._-]*`
/// (each at most 100 bytes, the whole at most 200), e.g. `eol:12:staging`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProjectName(String);

string_name!(ProjectName);

impl ProjectName {
    pub fn parse(s: &str) -> Result<Self, InvalidName> {
        if s.split(':').all(valid_segment) && s.len() <= 200 {
            Ok(Self(s.to_string()))
        } else {
            Err(InvalidName(format!(
                "invalid project name {s:?}: use `:`-separated segments of letters, digits and + . _ - (e.g. eol:12:staging)"
            )))
        }
    }
}

impl TryFrom<String> for ProjectName {
    type Error = InvalidName;
    fn try_from(s: String) -> Result<Self, InvalidName> {
        Self::parse(&s)
    }
}

impl std::str::FromStr for ProjectName {
    type Err = InvalidName;
    fn from_str(s: &str) -> Result<Self, InvalidName> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for ProjectName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A repository or package name: Debian source package name rules,
/// `[A-Za-z0-9][A-Za-z0-9+._-]*`, at most 100 bytes. Stricter than [`SafeName`] (which
/// every name passing it also is).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimpleName(String);

string_name!(SimpleName);

impl SimpleName {
    /// `kind` (`package`, `repository`) only names the thing in the error.
    pub fn parse(kind: &str, s: &str) -> Result<Self, InvalidName> {
        if valid_segment(s) {
            debug_assert!(SafeName::new(s).is_ok());
            Ok(Self(s.to_string()))
        } else {
            Err(InvalidName(format!(
                "invalid {kind} name {s:?}: letters, digits and + . _ - only, starting with a letter or digit"
            )))
        }
    }
}

impl<'de> Deserialize<'de> for SimpleName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse("repository or package", &s).map_err(serde::de::Error::custom)
    }
}

/// The longest user or group name (bytes).
pub const MAX_USER_NAME: usize = 100;

/// A user or group name: letters, digits and `+._-`, starting with a letter or digit, at
/// most [`MAX_USER_NAME`] bytes (and a [`SafeName`]).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserName(String);

string_name!(UserName);

impl UserName {
    /// `kind` (`user`, `group`) only names the thing in the error.
    pub fn parse(kind: &str, s: &str) -> Result<Self, InvalidName> {
        let mut c = s.chars();
        let shape = matches!(c.next(), Some(f) if f.is_ascii_alphanumeric())
            && c.all(|ch| ch.is_ascii_alphanumeric() || "+._-".contains(ch))
            && s.len() <= MAX_USER_NAME;
        if shape && SafeName::new(s).is_ok() {
            return Ok(Self(s.to_string()));
        }
        let shown: String = s.chars().take(80).collect();
        Err(InvalidName(format!(
            "invalid {kind} name {shown:?}: letters, digits and + . _ - only, starting with a letter or digit, at most {MAX_USER_NAME} bytes"
        )))
    }
}

impl<'de> Deserialize<'de> for UserName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse("user", &s).map_err(serde::de::Error::custom)
    }
}

/// Who a project role is given to: a user name, or `@` and a group name.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subject(String);

string_name!(Subject);

impl Subject {
    pub fn parse(s: &str) -> Result<Self, InvalidName> {
        match s.strip_prefix('@') {
            Some(g) => UserName::parse("group", g)?,
            None => UserName::parse("user", s)?,
        };
        Ok(Subject(s.to_string()))
    }

    /// The group name of `@group`.
    pub fn group(&self) -> Option<&str> {
        self.0.strip_prefix('@')
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
    fn project_names() {
        for good in ["eol:12:staging", "a", "home:alice+x", "p.1_2-3"] {
            let n: ProjectName = serde_json::from_str(&format!("{good:?}")).unwrap();
            assert_eq!(n.as_str(), good);
            assert_eq!(serde_json::to_string(&n).unwrap(), format!("{good:?}"));
        }
        for bad in ["", "../x", "a/b", ".x", "a::b", ":a", "a:", "a b"] {
            assert!(ProjectName::parse(bad).is_err(), "{bad:?}");
            assert!(serde_json::from_str::<ProjectName>(&format!("{bad:?}")).is_err());
        }
        assert!(ProjectName::parse(&"a".repeat(101)).is_err());
        assert!(ProjectName::parse(&["a".repeat(100), "b".repeat(100)].join(":")).is_err());
    }

    #[test]
    fn simple_names() {
        assert_eq!(SimpleName::parse("package", "hello").unwrap(), "hello");
        for bad in ["", "../hello", "a/b", ".x", "-x", "a:b"] {
            assert!(SimpleName::parse("package", bad).is_err(), "{bad:?}");
        }
        let e = serde_json::from_str::<SimpleName>("\"../x\"").unwrap_err();
        assert!(e.to_string().contains("invalid repository or package name"));
    }

    #[test]
    fn user_names_and_subjects() {
        for good in ["alice", "bob.smith", "ci-bot_2", "a+b", "0day"] {
            assert_eq!(UserName::parse("user", good).unwrap().as_str(), good);
        }
        let long = "a".repeat(MAX_USER_NAME + 1);
        for bad in [
            "", ".", "..", "../x", "a/b", ".a", "-a", "a b", "a\0", "@g", &long,
        ] {
            assert!(UserName::parse("user", bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Vec<UserName>>("[\"ok\", \"no way\"]").is_err());
        assert_eq!(Subject::parse("@team").unwrap().group(), Some("team"));
        assert_eq!(Subject::parse("alice").unwrap().group(), None);
        for bad in ["@", "@@x", "@../x", "a/b", "", "@ x"] {
            assert!(Subject::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Subject>("\"@../../x\"").is_err());
    }

    #[test]
    fn display_pads_like_a_str() {
        let n = SimpleName::parse("package", "hello").unwrap();
        assert_eq!(format!("[{n:<8}]"), "[hello   ]");
    }
}
