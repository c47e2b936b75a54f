//! The trial area and undo record of [`crate::apply_patches`]: a temporary directory
//! holding a working copy and a pristine copy of every file the patches touch, so that
//! all patches can be tried in order without touching the tree, and the tree can be put
//! back if applying for real fails anyway. Also the quilt journal that undoes
//! bookkeeping writes (`series`, `.pc/`, stored patch files).

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use crate::parse::RelPath;

/// A staging failure.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct StageError {
    /// The file or directory.
    pub path: PathBuf,
    /// Cause.
    #[source]
    pub source: io::Error,
}

fn err(path: &Path) -> impl FnOnce(io::Error) -> StageError + '_ {
    move |source| StageError {
        path: path.to_owned(),
        source,
    }
}

/// Copies of the touched files (`work/` for the trial, `orig/` for undo) and the
/// directories of the tree that do not exist yet.
pub(crate) struct Stage {
    tmp: tempfile::TempDir,
    /// Touched paths and whether they existed in the tree.
    files: Vec<(RelPath, bool)>,
    /// Top-most directories (relative) that the patches may create.
    missing_dirs: BTreeSet<PathBuf>,
}

impl Stage {
    /// Copy every existing `touched` file of `tree` into the stage.
    pub fn new(tree: &Path, touched: &BTreeSet<RelPath>) -> Result<Self, StageError> {
        let tmp = tempfile::Builder::new()
            .prefix("cryo-srcpatch-")
            .tempdir()
            .map_err(err(&std::env::temp_dir()))?;
        let mut files = Vec::new();
        let mut missing_dirs = BTreeSet::new();
        for rel in touched {
            let src = tree.join(rel.as_str());
            let exists = src.is_file();
            if exists {
                for area in ["work", "orig"] {
                    copy_file(&src, &tmp.path().join(area).join(rel.as_str()))?;
                }
            }
            let mut prefix = PathBuf::new();
            let parts: Vec<&str> = rel.as_str().split('/').collect();
            for part in parts.iter().take(parts.len().saturating_sub(1)) {
                prefix.push(part);
                if !tree.join(&prefix).exists() {
                    missing_dirs.insert(prefix.clone());
                    break;
                }
            }
            files.push((rel.clone(), exists));
        }
        std::fs::create_dir_all(tmp.path().join("work")).map_err(err(tmp.path()))?;
        std::fs::create_dir_all(tmp.path().join("patches")).map_err(err(tmp.path()))?;
        Ok(Self {
            tmp,
            files,
            missing_dirs,
        })
    }

    /// The trial tree.
    pub fn work(&self) -> PathBuf {
        self.tmp.path().join("work")
    }

    /// Write patch number `i` into the stage and return its path.
    pub fn write_patch(&self, i: usize, content: &[u8]) -> Result<PathBuf, StageError> {
        let path = self.tmp.path().join("patches").join(format!("{i}.patch"));
        std::fs::write(&path, content).map_err(err(&path))?;
        Ok(path)
    }

    /// Put every touched file of `tree` back as it was; remove files and directories
    /// that did not exist.
    pub fn restore(&self, tree: &Path) -> Result<(), StageError> {
        for (rel, existed) in &self.files {
            let dst = tree.join(rel.as_str());
            remove_file_if_exists(&dst)?;
            if *existed {
                copy_file(&self.tmp.path().join("orig").join(rel.as_str()), &dst)?;
            }
        }
        for dir in &self.missing_dirs {
            remove_dir_if_exists(&tree.join(dir))?;
        }
        Ok(())
    }
}

fn copy_file(src: &Path, dst: &Path) -> Result<(), StageError> {
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent).map_err(err(parent))?;
    }
    std::fs::copy(src, dst).map_err(err(src))?;
    Ok(())
}

fn remove_file_if_exists(path: &Path) -> Result<(), StageError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(err(path)(e)),
        _ => Ok(()),
    }
}

fn remove_dir_if_exists(path: &Path) -> Result<(), StageError> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(err(path)(e)),
        _ => Ok(()),
    }
}

/// Quilt bookkeeping as it was before applying, to undo our writes.
pub(crate) struct QuiltJournal {
    series: Option<Vec<u8>>,
    applied: Option<Vec<u8>>,
    pc_existed: bool,
    patches_dir_existed: bool,
    /// Files and directories we created (stored patches, `.pc/<name>/`).
    pub created: Vec<PathBuf>,
}

impl QuiltJournal {
    /// Record the current bookkeeping of `tree`.
    pub fn record(tree: &Path) -> Result<Self, StageError> {
        let read = |p: PathBuf| match std::fs::read(&p) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(err(&p)(e)),
        };
        Ok(Self {
            series: read(crate::quilt::series_file(tree))?,
            applied: read(crate::quilt::applied_file(tree))?,
            pc_existed: tree.join(".pc").exists(),
            patches_dir_existed: tree.join("debian/patches").exists(),
            created: Vec::new(),
        })
    }

    /// Undo: restore `series` and `applied-patches`, remove what we created.
    pub fn rollback(&self, tree: &Path) -> Result<(), StageError> {
        for path in &self.created {
            if path.is_dir() {
                remove_dir_if_exists(path)?;
            } else {
                remove_file_if_exists(path)?;
            }
        }
        for (path, old) in [
            (crate::quilt::series_file(tree), &self.series),
            (crate::quilt::applied_file(tree), &self.applied),
        ] {
            match old {
                Some(bytes) => std::fs::write(&path, bytes).map_err(err(&path))?,
                None => remove_file_if_exists(&path)?,
            }
        }
        if !self.pc_existed {
            remove_dir_if_exists(&tree.join(".pc"))?;
        }
        if !self.patches_dir_existed {
            remove_dir_if_exists(&tree.join("debian/patches"))?;
        }
        Ok(())
    }
}
