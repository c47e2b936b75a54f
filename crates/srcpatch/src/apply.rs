//! [`apply_patches`]: add security patches to an unpacked source tree (after
//! `dpkg-source -x`), so that `dpkg-source -b` builds the patched source package.
//!
//! All or nothing: every patch is first analysed ([`crate::parse`]) and tried, in order,
//! on copies of the files it touches ([`crate::stage`]); only when all apply is the tree
//! changed. For `3.0 (quilt)` each patch is stored in `debian/patches/`, appended to
//! `series` and applied with quilt backups in `.pc/<name>/` plus an entry in
//! `.pc/applied-patches`, exactly as `dpkg-source` itself pushes a patch. For `1.0` and
//! `3.0 (native)` the patch is applied to the tree directly.
//!
//! GNU patch, not a Rust diff crate, applies the patches: `dpkg-source -x` applies the
//! series with GNU patch when the rebuilt source is unpacked, so trying with the same
//! program and the same options (no fuzz) is the only way to be sure the stored patch
//! will apply there too. It also handles multi-file and `git format-patch` input, which
//! single-file crates such as `diffy` do not.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use crate::format::{FormatError, SourceFormat};
use crate::gnu_patch::{self, Failure, ToolError};
use crate::name::{NamedPatch, PatchName};
use crate::parse::{parse_patch, ParseError, ParsedPatch, RelPath};
use crate::quilt::{self, QuiltError};
use crate::stage::{QuiltJournal, Stage, StageError};

/// Why patches were not applied. Unless stated otherwise the tree is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The source format could not be read or is not supported.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The quilt bookkeeping is inconsistent or unreadable.
    #[error(transparent)]
    Quilt(#[from] QuiltError),
    /// The patch is not a usable `-p1` unified diff.
    #[error("patch {patch}: {source}")]
    Invalid {
        /// The patch.
        patch: PatchName,
        /// Cause.
        #[source]
        source: ParseError,
    },
    /// The name is already used (in `series`, `debian/patches/`, `.pc/` or twice in
    /// this call).
    #[error("patch {patch}: name already used: {reason}")]
    NameClash {
        /// The patch.
        patch: PatchName,
        /// Where.
        reason: &'static str,
    },
    /// The patch touches a path it must not (`.pc/`, or `debian/` in a quilt tree,
    /// through a symlink, or something that is not a regular file).
    #[error("patch {patch}: refusing to patch {path}: {reason}")]
    ForbiddenPath {
        /// The patch.
        patch: PatchName,
        /// The path inside the tree.
        path: String,
        /// Why.
        reason: &'static str,
    },
    /// GNU patch refused the patch; `failures` quote the failing hunks.
    #[error("patch {patch} does not apply: {}", describe(failures, output))]
    DoesNotApply {
        /// The patch.
        patch: PatchName,
        /// What GNU patch reported, in order.
        failures: Vec<Failure>,
        /// GNU patch's output, bounded.
        output: String,
    },
    /// GNU patch could not be run.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// Staging, storing or undoing failed. If this happens while undoing, the tree may
    /// be partly patched.
    #[error(transparent)]
    Stage(#[from] StageError),
    /// Reading the tree failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
}

fn describe(failures: &[Failure], output: &str) -> String {
    match failures {
        [] => format!("GNU patch said:\n{output}"),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first}\n(and {} more failures)", rest.len()),
    }
}

/// How to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOptions {
    /// The GNU patch program (default `patch` from `PATH`).
    pub patch_program: PathBuf,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            patch_program: PathBuf::from("patch"),
        }
    }
}

/// A patch that was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPatch {
    /// Its name.
    pub name: PatchName,
    /// Files it touches (relative to the tree), sorted.
    pub files: Vec<RelPath>,
    /// Where it was stored, relative to the tree (`debian/patches/<name>`), for quilt.
    pub stored_as: Option<PathBuf>,
}

/// Apply `patches` in order to the unpacked source tree `dir` (see the module docs).
pub fn apply_patches(
    dir: &Path,
    patches: &[NamedPatch],
    opts: &ApplyOptions,
) -> Result<Vec<AppliedPatch>, PatchError> {
    let format = SourceFormat::detect(dir)?;
    let is_quilt = format == SourceFormat::Quilt;
    if patches.is_empty() {
        return Ok(Vec::new());
    }
    let series = if is_quilt {
        quilt::load(dir)?.series
    } else {
        Vec::new()
    };
    let mut seen = BTreeSet::new();
    let mut parsed = Vec::new();
    let mut touched = BTreeSet::new();
    for p in patches {
        let clash = |reason| PatchError::NameClash {
            patch: p.name.clone(),
            reason,
        };
        if !seen.insert(p.name.as_str()) {
            return Err(clash("given twice"));
        }
        if is_quilt {
            if series.iter().any(|s| s == p.name.as_str()) {
                return Err(clash("listed in debian/patches/series"));
            }
            if dir.join("debian/patches").join(p.name.as_str()).exists() {
                return Err(clash("debian/patches/ has a file of that name"));
            }
            if dir.join(".pc").join(p.name.as_str()).exists() {
                return Err(clash(".pc/ has a directory of that name"));
            }
        }
        let pp = parse_patch(&p.content).map_err(|source| PatchError::Invalid {
            patch: p.name.clone(),
            source,
        })?;
        for path in pp.sections.iter().flat_map(|s| s.paths()) {
            check_path(dir, is_quilt, &p.name, path)?;
            touched.insert(path.clone());
        }
        parsed.push(pp);
    }

    // Trial run on copies: the tree is not touched until every patch applied.
    let stage = Stage::new(dir, &touched)?;
    let mut staged = Vec::new();
    for (i, (p, pp)) in patches.iter().zip(&parsed).enumerate() {
        let file = stage.write_patch(i, &p.content)?;
        let out = gnu_patch::run(&opts.patch_program, &stage.work(), &file, None)?;
        if !out.ok {
            return Err(does_not_apply(&p.name, pp, &out.text));
        }
        staged.push(file);
    }

    let mut journal = if is_quilt {
        Some(QuiltJournal::record(dir)?)
    } else {
        None
    };
    let result = apply_for_real(dir, patches, &parsed, &staged, opts, journal.as_mut());
    if result.is_err() {
        stage.restore(dir)?;
        if let Some(j) = &journal {
            j.rollback(dir)?;
        }
    }
    result
}

fn apply_for_real(
    dir: &Path,
    patches: &[NamedPatch],
    parsed: &[ParsedPatch],
    staged: &[PathBuf],
    opts: &ApplyOptions,
    mut journal: Option<&mut QuiltJournal>,
) -> Result<Vec<AppliedPatch>, PatchError> {
    let mut applied = Vec::new();
    for ((p, pp), staged_file) in patches.iter().zip(parsed).zip(staged) {
        let name = p.name.as_str();
        let stored_as = match journal.as_deref_mut() {
            Some(journal) => {
                quilt::setup_db(dir)?;
                let patches_dir = dir.join("debian/patches");
                std::fs::create_dir_all(&patches_dir).map_err(|source| PatchError::Io {
                    path: patches_dir.clone(),
                    source,
                })?;
                let stored = patches_dir.join(name);
                journal.created.push(stored.clone());
                std::fs::write(&stored, &p.content).map_err(|source| PatchError::Io {
                    path: stored.clone(),
                    source,
                })?;
                journal.created.push(dir.join(".pc").join(name));
                // GNU patch runs in `dir`: give it paths relative to the tree.
                let relative = Path::new("debian/patches").join(name);
                let backup = format!(".pc/{name}/");
                let out = gnu_patch::run(&opts.patch_program, dir, &relative, Some(&backup))?;
                if !out.ok {
                    return Err(does_not_apply(&p.name, pp, &out.text));
                }
                quilt::add_line(&quilt::series_file(dir), name)?;
                quilt::add_line(&quilt::applied_file(dir), name)?;
                Some(relative)
            }
            None => {
                let out = gnu_patch::run(&opts.patch_program, dir, staged_file, None)?;
                if !out.ok {
                    return Err(does_not_apply(&p.name, pp, &out.text));
                }
                None
            }
        };
        let files: BTreeSet<RelPath> = pp
            .sections
            .iter()
            .filter_map(|s| s.target().cloned())
            .collect();
        applied.push(AppliedPatch {
            name: p.name.clone(),
            files: files.into_iter().collect(),
            stored_as,
        });
    }
    Ok(applied)
}

fn does_not_apply(name: &PatchName, parsed: &ParsedPatch, output: &str) -> PatchError {
    PatchError::DoesNotApply {
        patch: name.clone(),
        failures: gnu_patch::failures(output, parsed),
        output: gnu_patch::bounded(output),
    }
}

/// Refuse `.pc/`, `debian/` (quilt: the patch would be applied twice on unpack), paths
/// through symlinks (dpkg-source refuses them too) and non-regular files.
fn check_path(
    dir: &Path,
    is_quilt: bool,
    patch: &PatchName,
    path: &RelPath,
) -> Result<(), PatchError> {
    let forbidden = |reason| PatchError::ForbiddenPath {
        patch: patch.clone(),
        path: path.to_string(),
        reason,
    };
    match path.first_component() {
        ".pc" => return Err(forbidden("quilt's .pc/ directory")),
        "debian" if is_quilt => {
            return Err(forbidden(
                "3.0 (quilt) patches must not change debian/ (it ships as its own tarball)",
            ))
        }
        _ => {}
    }
    let mut prefix = dir.to_path_buf();
    for part in path.as_str().split('/') {
        prefix.push(part);
        match std::fs::symlink_metadata(&prefix) {
            Ok(m) if m.file_type().is_symlink() => return Err(forbidden("goes through a symlink")),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(PatchError::Io {
                    path: prefix,
                    source,
                })
            }
        }
    }
    if !prefix.is_file() {
        return Err(forbidden("not a regular file"));
    }
    Ok(())
}
