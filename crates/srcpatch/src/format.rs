//! The source package format of an unpacked tree, read from `debian/source/format`
//! (a missing file means `1.0`, as for `dpkg-source`). The format decides how
//! [`crate::apply_patches`] records a patch: as a quilt patch for `3.0 (quilt)`, or
//! directly in the tree for `1.0` and `3.0 (native)`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why the format could not be determined.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// `debian/source/format` exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// A format cryo does not patch (`3.0 (git)`, `2.0`, ...).
    #[error("unsupported source format {0:?} (supported: 1.0, 3.0 (quilt), 3.0 (native))")]
    Unsupported(String),
}

/// A Debian source package format that cryo can patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    /// `1.0`: orig tarball + `.diff.gz` (or a native tarball); patches go into the tree.
    V1,
    /// `3.0 (quilt)`: patches live in `debian/patches/` and are listed in `series`.
    Quilt,
    /// `3.0 (native)`: one tarball, no patch system; patches go into the tree.
    Native,
}

impl SourceFormat {
    /// Read `DIR/debian/source/format`; a missing file is `1.0`.
    pub fn detect(dir: &Path) -> Result<Self, FormatError> {
        let path = dir.join("debian/source/format");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Self::V1),
            Err(source) => return Err(FormatError::Io { path, source }),
        };
        match text.trim() {
            "1.0" => Ok(Self::V1),
            "3.0 (quilt)" => Ok(Self::Quilt),
            "3.0 (native)" => Ok(Self::Native),
            other => Err(FormatError::Unsupported(other.to_owned())),
        }
    }

    /// The format as written in `debian/source/format`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "1.0",
            Self::Quilt => "3.0 (quilt)",
            Self::Native => "3.0 (native)",
        }
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_formats() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(SourceFormat::detect(dir.path()).unwrap(), SourceFormat::V1);
        std::fs::create_dir_all(dir.path().join("debian/source")).unwrap();
        let file = dir.path().join("debian/source/format");
        for (text, want) in [
            ("3.0 (quilt)\n", SourceFormat::Quilt),
            ("3.0 (native)\n", SourceFormat::Native),
            ("1.0\n", SourceFormat::V1),
        ] {
            std::fs::write(&file, text).unwrap();
            assert_eq!(SourceFormat::detect(dir.path()).unwrap(), want);
            assert_eq!(format!("{want}\n"), text);
        }
        std::fs::write(&file, "3.0 (git)\n").unwrap();
        let err = SourceFormat::detect(dir.path()).unwrap_err();
        assert!(matches!(err, FormatError::Unsupported(ref f) if f == "3.0 (git)"));
    }
}
