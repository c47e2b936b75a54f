//! cryo-compare: the bit-for-bit comparison engine for rebuilt packages.
//!
//! [`compare_debs`] compares our rebuilt `.deb` with the distribution's official one — ar
//! members and headers, `control.tar`/`data.tar` entry by entry, ELF files per section, gzip
//! headers and payloads, text as bounded unified diffs, other bytes by differing ranges — and
//! classifies the result ([`ClassKind`]) with a one-line explanation. The [`report`] module
//! aggregates comparisons per source package and renders them as text, JSON (schema version 1,
//! documented in `docs/report-format.md`) or one self-contained HTML file. Pure library: no
//! I/O besides the byte slices it is given, every stage bounded by [`Limits`].

pub mod ar;
pub mod binary;
pub mod classify;
pub mod content;
pub mod control;
pub mod deb;
pub mod diff;
pub mod elf;
pub mod gzip;
pub mod limits;
pub mod listing;
pub mod md5sums;
pub mod report;
pub mod rpm;
pub mod tar;
pub mod text;

pub use classify::{ClassKind, Classification};
pub use deb::{compare_debs, CompareError, DebComparison, DebInfo, PackageId, Side};
pub use diff::{Category, Detail, DiffNode};
pub use limits::{LimitHit, LimitKind, Limits};
pub use rpm::{compare_packages, compare_rpms, looks_like_rpm, PackageComparison};
