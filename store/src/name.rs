//! `SafeName`: a name that comes from a client and may become one path component on the
//! daemon's disk (an uploaded file name, a `.dsc` and the files it lists, a patch or output
//! name, a project, repository, package, user or group name).
//!
//! Validated on construction **and** on deserialisation, so an API body that names
//! `../../etc/passwd` is refused by the JSON extractor before any handler sees it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest name accepted (bytes): below Linux's `NAME_MAX` (255) with room for the
/// suffixes cryo adds (`.tmp-<pid>`, `.partial`).
pub const MAX_NAME_LEN: usize = 200;

/// Why a client-supplied name is refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error("invalid name {0:?}: names may not be empty")]
    Empty(String),
    #[error("invalid name {0:?}: `.` and `..` are not allowed")]
    Dot(String),
    #[error("invalid name {0:?}: names may not start with `.`")]
    LeadingDot(String),
    #[error("invalid name {0:?}: names may not contain `/` or `\\`")]
    Slash(String),
    #[error("invalid name {0:?}: names may not contain NUL or control characters")]
    Control(String),
    #[error("invalid name {0:?}: longer than {MAX_NAME_LEN} bytes")]
    TooLong(String),
}

/// A single safe path component: not empty, not `.`/`..`, no leading `.`, no `/` or `\`,
/// no NUL or other control character, at most [`MAX_NAME_LEN`] bytes, valid UTF-8.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SafeName(String);

impl SafeName {
    pub fn new(s: &str) -> Result<Self, NameError> {
        let shown = || s.chars().take(80).collect::<String>();
        if s.is_empty() {
            return Err(NameError::Empty(shown()));
        }
        if s == "." || s == ".." {
            return Err(NameError::Dot(shown()));
        }
        if s.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong(shown()));
        }
        if s.contains(['/', '\\']) {
            return Err(NameError::Slash(shown()));
        }
        if s.chars().any(char::is_control) {
            return Err(NameError::Control(shown()));
        }
        if s.starts_with('.') {
            return Err(NameError::LeadingDot(shown()));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::str::FromStr for SafeName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for SafeName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl AsRef<str> for SafeName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<std::path::Path> for SafeName {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(&self.0)
    }
}

impl std::ops::Deref for SafeName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for SafeName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SafeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SafeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Serialize for SafeName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SafeName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_traversal_and_oddities() {
        let long = "x".repeat(MAX_NAME_LEN + 1);
        for bad in [
            "",
            ".",
            "..",
            "../x.dsc",
            "../../../../tmp/x.dsc",
            "a/b",
            "/etc",
            "a\\b",
            "a\0b",
            "a\nb",
            ".hidden",
            long.as_str(),
        ] {
            assert!(SafeName::new(bad).is_err(), "{bad:?}");
        }
        for good in [
            "hello_2.10-3.dsc",
            "eol:12:staging",
            "a b",
            "x..y",
            "fix-CVE-1.patch",
        ] {
            assert_eq!(SafeName::new(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn deserialisation_validates() {
        let ok: SafeName = serde_json::from_str("\"hello.dsc\"").unwrap();
        assert_eq!(ok.as_str(), "hello.dsc");
        let bad = serde_json::from_str::<SafeName>("\"../../tmp/x.dsc\"");
        assert!(bad.is_err());
        let map: Result<std::collections::BTreeMap<SafeName, u32>, _> =
            serde_json::from_str("{\"../a\": 1}");
        assert!(map.is_err(), "map keys are validated too");
    }
}
