//! The source package of a build: its `.dsc` parsed with cryo-debian, every listed file
//! matched to a given path and checked by size and SHA-256, and the build path rendered
//! from the prjconf template.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use cryo_debian::dsc;
use cryo_prjconf::BuildPathTemplate;
use sha2::{Digest, Sha256};

use crate::settings::SourceFiles;

/// Errors of checking a source package.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid .dsc")]
    Dsc(#[from] dsc::DscError),
    #[error("the .dsc lists {0}, which was not given")]
    Missing(String),
    #[error("{0} was given but is not listed in the .dsc")]
    Unlisted(PathBuf),
    #[error("{path} does not match the .dsc ({what})")]
    Mismatch { path: PathBuf, what: &'static str },
    #[error("the build path {0} must be an absolute path below a directory other than /")]
    BadBuildPath(String),
}

/// A checked source package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSource {
    pub name: String,
    /// The full version (with epoch and revision).
    pub version: String,
    /// The upstream version (no epoch, no revision): dpkg-source's directory name
    /// `SRC-UPSTREAM` and `%{VER}` in the build path.
    pub upstream: String,
    /// File name → path: the `.dsc` and every file it lists.
    pub files: BTreeMap<String, PathBuf>,
    pub dsc_name: String,
}

fn file_name(p: &Path) -> Result<String, SourceError> {
    p.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| SourceError::Unlisted(p.into()))
}

/// Parses the `.dsc` and checks the files against it.
pub fn check_source(src: &SourceFiles) -> Result<CheckedSource, SourceError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| SourceError::Read {
            path: path.into(),
            source,
        })
    };
    let dsc_name = file_name(&src.dsc)?;
    let text = String::from_utf8_lossy(&read(&src.dsc)?).into_owned();
    let parsed = dsc::parse(&text, &dsc_name)?.source;
    let mut given: BTreeMap<String, &PathBuf> = BTreeMap::new();
    for p in &src.files {
        given.insert(file_name(p)?, p);
    }
    let dsc_path = src.dsc.canonicalize().map_err(|source| SourceError::Read {
        path: src.dsc.clone(),
        source,
    })?;
    let mut files = BTreeMap::from([(dsc_name.clone(), dsc_path)]);
    for f in &parsed.files {
        let name = f.name.as_str();
        let path = given
            .remove(name)
            .ok_or_else(|| SourceError::Missing(name.to_owned()))?;
        let (size, digest) = sha256_file(path)?;
        if size != f.size {
            return Err(SourceError::Mismatch {
                path: path.clone(),
                what: "size",
            });
        }
        if digest != f.sha256.0 {
            return Err(SourceError::Mismatch {
                path: path.clone(),
                what: "SHA-256",
            });
        }
        // Bind mounts need absolute paths without `..`.
        let canonical = path.canonicalize().map_err(|source| SourceError::Read {
            path: path.clone(),
            source,
        })?;
        files.insert(name.to_owned(), canonical);
    }
    if let Some((_, p)) = given.into_iter().next() {
        return Err(SourceError::Unlisted(p.clone()));
    }
    Ok(CheckedSource {
        name: parsed.package.clone(),
        version: parsed.version.as_str().to_owned(),
        upstream: parsed.version.upstream().to_owned(),
        files,
        dsc_name,
    })
}

fn sha256_file(path: &Path) -> Result<(u64, [u8; 32]), SourceError> {
    let err = |source| SourceError::Read {
        path: path.into(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(err)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(err)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((size, h.finalize().into()))
}

/// The build directory and its parent (where the outputs land) for `src`.
pub fn build_path(
    template: &BuildPathTemplate,
    src: &CheckedSource,
) -> Result<(String, String), SourceError> {
    let dir = template.render(&src.name, &src.upstream);
    let bad = || SourceError::BadBuildPath(dir.clone());
    let (parent, leaf) = dir.rsplit_once('/').ok_or_else(bad)?;
    if parent.is_empty() || leaf.is_empty() || !parent.starts_with('/') {
        return Err(bad());
    }
    Ok((dir.clone(), parent.to_owned()))
}
