//! cryo-aptrepo: turns built `.deb`s (and optionally source packages) into the complete,
//! signed file tree of an apt repository, as a map of relative paths to file sources. No
//! HTTP, no store access, no clock: the daemon writes the tree as an atomic generation and
//! serves it; see `docs/publishing.md`.
//!
//! Modules:
//! * [`spec`] — [`RepoSpec`] and the validated names ([`Component`], [`Architecture`],
//!   [`Codename`]).
//! * [`deb`] — one-pass `.deb` scanning on `cryo_debian::deb`'s reader: `./control` and
//!   the file's digests, with caps.
//! * [`hash`] — size/MD5/SHA-256 of files, streaming.
//! * [`pool`] — Debian's pool layout rule (`pool/main/libu/libuev/`).
//! * [`sources`] — `.dsc` inputs → `Sources` stanzas.
//! * [`compress`] — deterministic gzip and xz.
//! * [`release`] — the `Release` file.
//! * [`signing`] — the OpenPGP signing key (Ed25519), `InRelease` and `Release.gpg`.
//! * [`build`] — [`build_repository`]: indices, by-hash aliases, signatures, pool entries.

pub mod build;
pub mod compress;
pub mod deb;
pub mod hash;
pub mod pool;
pub mod release;
pub mod signing;
pub mod sources;
pub mod spec;

pub use build::{build_repository, FileSource, PackageInput, PublishError, RepoTree};
pub use deb::{scan_deb, scan_deb_bytes, DebError, ScannedDeb};
pub use hash::FileHashes;
pub use signing::{SigningError, SigningKey};
pub use sources::{SourceError, SourceFileInput, SourceInput};
pub use spec::{Architecture, Codename, Component, RepoSpec, SpecError};

#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;

    /// The read-only fixture mirror (`CRYO_FIXTURE_MIRROR` overrides).
    pub fn fixture_mirror() -> PathBuf {
        match std::env::var_os("CRYO_FIXTURE_MIRROR") {
            Some(p) => PathBuf::from(p),
            None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mirror"),
        }
    }
}
