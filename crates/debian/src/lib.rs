//! cryo-debian: the Debian archive formats that cryo's mirror sync, resolver and builder
//! share. Pure library: no networking, no daemon, no global state; every function takes
//! its inputs (text, bytes, the current time, the host architecture) from the caller.
//!
//! Modules:
//! * [`deb822`] — fast zero-copy paragraph parser (Packages, Sources, Release, control,
//!   .dsc, .buildinfo) with `file:line` errors, and a deterministic writer.
//! * [`version`] — [`version::Version`] ordered exactly like `dpkg --compare-versions`.
//! * [`relation`] — `Depends`/`Build-Depends`-style fields, arch and build-profile
//!   restrictions, and their reduction for a host architecture and profile set.
//! * [`arch`] — architecture names, wildcards, host detection, GNU/multiarch/rpm names.
//! * [`release`] — Release/InRelease bodies and the `Valid-Until` policy check.
//! * [`openpgp`] — verification of InRelease / Release.gpg / signed .dsc against a
//!   keyring; callers must parse only the verified text it returns.
//! * [`index`] — typed [`index::BinaryPackage`] / [`index::SourcePackage`] views.
//! * [`compression`] — xz/gzip/zstd/plain decompression with a size cap and bounded
//!   decoder memory, in one piece or streaming.
//! * [`deb`] — the `.deb` container: dpkg's member order, truncation checks, capped
//!   streaming access to `control.tar*` and `data.tar*`.
//! * [`dsc`] — `.dsc` files with path-traversal-safe file names.
//! * [`changelog`] — first `debian/changelog` entry (→ `SOURCE_DATE_EPOCH`) and rendering.
//! * [`control`] — `debian/control` (source + binary paragraphs).
//! * [`digest`], [`date`] — shared SHA-256/MD5 hex newtypes and RFC 2822 dates.
//!
//! Typical flow: read `InRelease` → [`openpgp::verify_clearsigned`] → [`release::Release::parse`]
//! on the verified text → [`release::Release::check_valid_until`] with an explicit policy →
//! fetch an index listed in `sha256` → [`compression::decompress`] → [`index::parse_packages`].

#![deny(missing_docs)]

pub mod arch;
pub mod changelog;
pub mod compression;
pub mod control;
pub mod date;
pub mod deb;
pub mod deb822;
pub mod digest;
pub mod dsc;
pub mod index;
pub mod openpgp;
pub mod relation;
pub mod release;
pub mod version;
