//! cryo-srcpatch: the security-patch workflow on an unpacked Debian source tree (issue
//! 9, `cryo patch`). The caller unpacks a source package with `dpkg-source -x`, calls
//! this crate on the directory, and rebuilds the source package with `dpkg-source -b`.
//!
//! * [`format`] — [`SourceFormat::detect`] from `debian/source/format`.
//! * [`apply`] — [`apply_patches`]: all-or-nothing patch application with GNU patch;
//!   quilt patches for `3.0 (quilt)`, direct application for `1.0`/`3.0 (native)`.
//! * [`parse`] — static analysis of a patch (files, hunks, unsafe paths), dpkg's rules.
//! * [`gnu_patch`] — running GNU patch with dpkg-source's options; [`Failure`]s that
//!   quote the failing hunk.
//! * [`quilt`] — `series` and `.pc/` bookkeeping as dpkg-source writes it.
//! * [`version`] — [`next_version`] from an OBS-style [`VersionPattern`] and
//!   [`ReleaseCounters`] (`2.10-3` → `2.10-3+eol12u1`).
//! * [`changelog`] — [`add_changelog_entry`] with CVE ids and a deterministic date.
//! * [`cve`] — validated [`CveId`]s.
//! * [`treediff`] — [`diff_trees`]: bounded unified diff of two trees.
//!
//! See `docs/patching.md` for the contract.

#![deny(missing_docs)]

pub mod apply;
pub mod changelog;
pub mod cve;
pub mod format;
pub mod gnu_patch;
pub mod name;
pub mod parse;
pub mod quilt;
mod stage;
pub mod treediff;
pub mod version;

pub use apply::{apply_patches, AppliedPatch, ApplyOptions, PatchError};
pub use changelog::{add_changelog_entry, ChangelogEntry, ChangelogError, Urgency};
pub use cve::{CveError, CveId};
pub use format::SourceFormat;
pub use gnu_patch::{Failure, FailureKind, HunkExcerpt};
pub use name::{NamedPatch, PatchName};
pub use stage::StageError;
pub use treediff::{diff_trees, DiffLimits, TreeDiff, TreeDiffError};
pub use version::{next_version, NextVersionError, ReleaseCounters, Suffix, VersionPattern};
