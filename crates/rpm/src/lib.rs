//! cryo-rpm: the RPM formats of cryo. Modules: [`evr`] (epoch:version-release and rpm's
//! `rpmvercmp`), [`deps`] (dependencies and rpm's range overlap), [`checksum`],
//! [`compression`] (capped decoders of rpm-md files), [`repomd`], [`primary`],
//! [`filelists`] (rpm-md metadata, streaming), [`universe`] and [`resolve`] (the
//! build-environment resolver), [`package`] (.rpm files: lead, signature and main headers,
//! tags, the cpio payload, digest and signature checks). Reference: `docs/rpm.md`.

pub mod checksum;
pub mod compression;
pub mod deps;
pub mod evr;
pub mod filelists;
pub mod name;
pub mod package;
pub mod primary;
pub mod repomd;
pub mod resolve;
pub mod universe;
pub mod xml;
