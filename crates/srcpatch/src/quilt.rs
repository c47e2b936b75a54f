//! The quilt bookkeeping of a `3.0 (quilt)` tree, written the way `dpkg-source`
//! (`Dpkg::Source::Quilt`) writes it: `debian/patches/series`, and under `.pc/` the
//! files `.version` (`2`), `.quilt_patches` (`debian/patches`), `.quilt_series`
//! (`series`), `applied-patches` and one backup directory per applied patch.

use std::io;
use std::path::{Path, PathBuf};

/// A quilt bookkeeping problem.
#[derive(Debug, thiserror::Error)]
pub enum QuiltError {
    /// Reading or writing a bookkeeping file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// Not every patch of `series` is applied (the tree was unpacked with
    /// `--skip-patches`, or a patch was popped): new patches must go on top.
    #[error("the tree's series is not fully applied: series has {series:?}, .pc/applied-patches has {applied:?} (unpack with `dpkg-source -x` without --skip-patches)")]
    NotFullyApplied {
        /// Patches in `series`.
        series: Vec<String>,
        /// Patches in `.pc/applied-patches`.
        applied: Vec<String>,
    },
    /// A vendor series (`debian/patches/<vendor>.series`) exists; which one dpkg-source
    /// uses depends on the build host's vendor, so cryo refuses to guess.
    #[error("{0} exists: vendor-specific series files are not supported")]
    VendorSeries(PathBuf),
    /// A series entry with `..` (dpkg-source refuses it too).
    #[error("debian/patches/series has an insecure entry {0:?}")]
    InsecureEntry(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> QuiltError + '_ {
    move |source| QuiltError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The series and applied patches of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QuiltState {
    pub series: Vec<String>,
    pub applied: Vec<String>,
}

/// `debian/patches/series` of `dir`.
pub(crate) fn series_file(dir: &Path) -> PathBuf {
    dir.join("debian/patches/series")
}

/// `.pc/applied-patches` of `dir`.
pub(crate) fn applied_file(dir: &Path) -> PathBuf {
    dir.join(".pc/applied-patches")
}

/// Read the state and check that every series patch is applied, in order.
pub(crate) fn load(dir: &Path) -> Result<QuiltState, QuiltError> {
    let patches = dir.join("debian/patches");
    if patches.is_dir() {
        for entry in std::fs::read_dir(&patches).map_err(io_err(&patches))? {
            let entry = entry.map_err(io_err(&patches))?;
            let name = entry.file_name();
            if name.to_string_lossy().ends_with(".series") {
                return Err(QuiltError::VendorSeries(entry.path()));
            }
        }
    }
    let series = read_patch_list(&series_file(dir))?;
    let applied = read_patch_list(&applied_file(dir))?;
    if series != applied {
        return Err(QuiltError::NotFullyApplied { series, applied });
    }
    Ok(QuiltState { series, applied })
}

/// Read a series-style list like dpkg: trim, drop `#` comments and per-patch options.
fn read_patch_list(path: &Path) -> Result<Vec<String>, QuiltError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(path)(e)),
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let line = match line.find('#') {
            Some(0) => "",
            Some(i) if line[..i].ends_with(char::is_whitespace) => &line[..i],
            _ => line,
        };
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        if name.starts_with("../") || name.contains("/../") {
            return Err(QuiltError::InsecureEntry(name.to_owned()));
        }
        out.push(name.to_owned());
    }
    Ok(out)
}

/// Create `.pc/` and its metadata files if missing (dpkg's `setup_db`).
pub(crate) fn setup_db(dir: &Path) -> Result<(), QuiltError> {
    let pc = dir.join(".pc");
    std::fs::create_dir_all(&pc).map_err(io_err(&pc))?;
    for (name, content) in [
        (".version", "2\n"),
        (".quilt_patches", "debian/patches\n"),
        (".quilt_series", "series\n"),
    ] {
        let path = pc.join(name);
        if !path.exists() {
            std::fs::write(&path, content).map_err(io_err(&path))?;
        }
    }
    Ok(())
}

/// Append `line` to `file` (created if missing), keeping one entry per line.
pub(crate) fn add_line(file: &Path, line: &str) -> Result<(), QuiltError> {
    let mut text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io_err(file)(e)),
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    std::fs::write(file, text).map_err(io_err(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_roundtrip_and_consistency() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(load(d).unwrap().series, Vec::<String>::new());
        std::fs::create_dir_all(d.join("debian/patches")).unwrap();
        std::fs::write(
            series_file(d),
            "# comment\na.patch -p1\n  b.patch # why\n\n",
        )
        .unwrap();
        let err = load(d).unwrap_err();
        assert!(matches!(err, QuiltError::NotFullyApplied { .. }), "{err}");
        setup_db(d).unwrap();
        add_line(&applied_file(d), "a.patch").unwrap();
        add_line(&applied_file(d), "b.patch").unwrap();
        let st = load(d).unwrap();
        assert_eq!(st.series, ["a.patch", "b.patch"]);
        assert_eq!(
            std::fs::read_to_string(d.join(".pc/.version")).unwrap(),
            "2\n"
        );
        std::fs::write(series_file(d), "../evil.patch\n").unwrap();
        assert!(matches!(load(d), Err(QuiltError::InsecureEntry(_))));
        std::fs::write(d.join("debian/patches/debian.series"), "").unwrap();
        assert!(matches!(load(d), Err(QuiltError::VendorSeries(_))));
    }
}
