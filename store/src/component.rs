//! `PathComponent`: one validated file name inside a tree.

use std::fmt;

/// Why a name cannot be a tree entry.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ComponentError {
    #[error("invalid file name {0:?}: names may not be empty")]
    Empty(String),
    #[error("invalid file name {0:?}: `.` and `..` are not allowed")]
    Dot(String),
    #[error("invalid file name {0:?}: names may not contain `/`")]
    Slash(String),
    #[error("invalid file name {0:?}: names may not contain NUL")]
    Nul(String),
    #[error("invalid file name {0:?}: longer than 255 bytes")]
    TooLong(String),
}

/// A single path component: not empty, not `.`/`..`, no `/`, no NUL, at most 255 bytes.
/// Arbitrary bytes otherwise (Linux file names need not be UTF-8).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathComponent(Vec<u8>);

impl PathComponent {
    pub fn new(bytes: &[u8]) -> Result<Self, ComponentError> {
        let shown = || String::from_utf8_lossy(bytes).into_owned();
        if bytes.is_empty() {
            return Err(ComponentError::Empty(shown()));
        }
        if bytes == b"." || bytes == b".." {
            return Err(ComponentError::Dot(shown()));
        }
        if bytes.contains(&b'/') {
            return Err(ComponentError::Slash(shown()));
        }
        if bytes.contains(&0) {
            return Err(ComponentError::Nul(shown()));
        }
        if bytes.len() > 255 {
            return Err(ComponentError::TooLong(shown()));
        }
        Ok(Self(bytes.to_vec()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// As an OS string, for filesystem calls.
    pub fn as_os_str(&self) -> &std::ffi::OsStr {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(&self.0)
    }
}

impl TryFrom<&str> for PathComponent {
    type Error = ComponentError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s.as_bytes())
    }
}

impl fmt::Display for PathComponent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl fmt::Debug for PathComponent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_names() {
        for bad in [&b""[..], b".", b"..", b"a/b", b"a\0b", &[b'x'; 256][..]] {
            assert!(PathComponent::new(bad).is_err(), "{bad:?}");
        }
        for good in [&b"a"[..], b"...", b".hidden", b"\xff\xfe", b"a b"] {
            assert!(PathComponent::new(good).is_ok(), "{good:?}");
        }
    }
}
