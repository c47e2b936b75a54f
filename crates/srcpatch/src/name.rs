//! Patch names as stored in `debian/patches/` and `series`: one plain file name, never a
//! path. [`PatchName::new`] refuses anything that could escape the patch directory and
//! replaces other unusual characters with `-`, so the name is safe in a shell, in
//! `series` (which splits on whitespace and `#`) and in `.pc/<name>/`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Longest accepted patch name, in bytes.
pub const MAX_NAME_LEN: usize = 128;

/// Why a patch name or patch file was refused.
#[derive(Debug, thiserror::Error)]
pub enum NameError {
    /// The name is empty, a path, hidden, or reserved.
    #[error("invalid patch name {name:?}: {reason}")]
    Invalid {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A patch file could not be read.
    #[error("cannot read patch {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
}

/// A validated, sanitised patch file name (`CVE-2024-1234.patch`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PatchName(String);

impl PatchName {
    /// Validate `raw`: refuse `/`, `\`, NUL, `.`/`..`, a leading `.`, `series` and
    /// `*.series` (vendor series files) and names longer than [`MAX_NAME_LEN`]; replace
    /// every character outside `[A-Za-z0-9._+-]` by `-`.
    pub fn new(raw: &str) -> Result<Self, NameError> {
        let invalid = |reason| NameError::Invalid {
            name: raw.to_owned(),
            reason,
        };
        if raw.is_empty() {
            return Err(invalid("empty"));
        }
        if raw.contains(['/', '\\', '\0']) {
            return Err(invalid("must be a file name, not a path"));
        }
        if raw.starts_with('.') {
            return Err(invalid("must not start with `.`"));
        }
        if raw.len() > MAX_NAME_LEN {
            return Err(invalid("longer than 128 bytes"));
        }
        let clean: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._+-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        if clean == "series" || clean.ends_with(".series") {
            return Err(invalid("reserved for quilt series files"));
        }
        Ok(Self(clean))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PatchName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A patch to apply: its name in `debian/patches/` and its bytes, stored verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPatch {
    /// Name under `debian/patches/`.
    pub name: PatchName,
    /// The patch text (unified diff, optionally with a mail or DEP-3 header).
    pub content: Vec<u8>,
}

impl NamedPatch {
    /// A patch with the given (validated) name.
    pub fn new(name: &str, content: impl Into<Vec<u8>>) -> Result<Self, NameError> {
        Ok(Self {
            name: PatchName::new(name)?,
            content: content.into(),
        })
    }

    /// Read a patch file; its name is the file's last path component.
    pub fn read(path: &Path) -> Result<Self, NameError> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| NameError::Invalid {
                name: path.display().to_string(),
                reason: "the file name is missing or not UTF-8",
            })?;
        let content = std::fs::read(path).map_err(|source| NameError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::new(name, content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            PatchName::new("CVE-2024-1234.patch").unwrap().as_str(),
            "CVE-2024-1234.patch"
        );
        assert_eq!(
            PatchName::new("fix crash (#1).diff").unwrap().as_str(),
            "fix-crash---1-.diff"
        );
        for bad in [
            "",
            "../x.patch",
            "a/b.patch",
            "..",
            ".hidden",
            "series",
            "debian.series",
            "a\\b",
        ] {
            assert!(PatchName::new(bad).is_err(), "{bad:?} accepted");
        }
        assert!(PatchName::new(&"x".repeat(129)).is_err());
    }
}
