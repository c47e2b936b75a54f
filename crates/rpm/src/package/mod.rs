//! Reading `.rpm` files: the lead, the signature header (padded to 8 bytes), the main header
//! (every tag, raw and typed), the file list, and the payload (a compressed cpio "newc"
//! archive) streamed file by file; plus the digest and OpenPGP signature checks
//! ([`signature`]).
//!
//! Why not the `rpm` crate (rpm-rs, 0.30): it would pull a second rPGP (`pgp` 0.20, while the
//! workspace verifies with 0.21) for signatures, needs Rust 1.88 (the workspace's MSRV is
//! 1.85), and its header reader allocates whatever size a header announces
//! (`vec![0; data_size + entries * 16]`, up to 4 GiB, overflowing in debug) with no cap. The
//! format is small; this reader checks every entry like rpm's `hdrblobVerifyInfo` under
//! [`Limits`].
//!
//! Layout of a package (rpm's `docs/manual/format.md`):
//! `lead (96) | signature header | pad to 8 | main header | payload`.

pub mod cpio;
pub mod files;
pub mod header;
pub mod lead;
pub mod limits;
pub mod payload;
pub mod signature;
mod tagnames;
pub mod tags;

use std::fmt;
use std::io::Read;
use std::path::Path;

pub use files::{DigestAlgo, FileEntry, FileFlags};
pub use header::{Entry, Header, HeaderKind, Tag, TagType, Value};
pub use lead::{Lead, PackageType};
pub use limits::Limits;
pub use payload::{Compressor, PayloadEntry, PayloadEntryKind, PayloadFile, PayloadReader};
pub use signature::{DigestCheck, SignatureCheck, SignatureKind, Verification, VerifyError};

/// Why a package could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RpmError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("package of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error("truncated package: the {what} ends early")]
    Truncated { what: &'static str },
    #[error("bad lead: {reason}")]
    Lead { reason: String },
    #[error("bad {what}: {reason}")]
    Header { what: &'static str, reason: String },
    #[error("the main header lacks {tag}")]
    MissingTag { tag: String },
    #[error("bad file list in the main header: {reason}")]
    FileList { reason: String },
    #[error("payload format {0:?} is not supported (only cpio)")]
    PayloadFormat(String),
    #[error("payload compressor {0:?} is not supported (gzip, bzip2, xz, zstd, identity)")]
    Compressor(String),
    #[error("payload cannot be decompressed")]
    Decompress(#[source] cryo_debian::compression::CompressionError),
    #[error("bad payload archive at entry {index}: {reason}")]
    Cpio { index: usize, reason: String },
    #[error("payload limit exceeded: {what} ({size} bytes, limit {limit})")]
    PayloadLimit { what: String, size: u64, limit: u64 },
}

/// Name, epoch, version, release, arch of a package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nevra {
    pub name: String,
    pub epoch: Option<u32>,
    pub version: String,
    pub release: String,
    /// The header's ARCH; `src` for source packages (as rpm names them).
    pub arch: String,
}

impl fmt::Display for Nevra {
    /// `name-[epoch:]version-release.arch`, as `rpm -q --qf '%{NEVRA}'` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-", self.name)?;
        if let Some(e) = self.epoch {
            write!(f, "{e}:")?;
        }
        write!(f, "{}-{}.{}", self.version, self.release, self.arch)
    }
}

/// A parsed package over its bytes: lead, both headers, and where the payload lies.
#[derive(Debug)]
pub struct Package<'a> {
    pub lead: Lead,
    pub signature: Header,
    pub header: Header,
    /// Byte offset of the main header in the file.
    pub header_offset: usize,
    /// The compressed payload (everything after the main header).
    pub payload: &'a [u8],
    limits: Limits,
}

impl<'a> Package<'a> {
    /// Parses the package in `bytes`.
    pub fn parse(bytes: &'a [u8], limits: &Limits) -> Result<Package<'a>, RpmError> {
        if bytes.len() as u64 > limits.max_package_size {
            return Err(RpmError::TooLarge {
                size: bytes.len() as u64,
                limit: limits.max_package_size,
            });
        }
        let lead = Lead::parse(bytes)?;
        let rest = &bytes[lead::LEAD_LEN..];
        let (signature, sig_len) = Header::parse(rest, HeaderKind::Signature, limits)?;
        let padded = sig_len.div_ceil(8) * 8;
        if rest.len() < padded {
            return Err(RpmError::Truncated {
                what: "signature header padding",
            });
        }
        let header_offset = lead::LEAD_LEN + padded;
        let (header, header_len) =
            Header::parse(&bytes[header_offset..], HeaderKind::Main, limits)?;
        let payload = &bytes[header_offset + header_len..];
        Ok(Package {
            lead,
            signature,
            header,
            header_offset,
            payload,
            limits: limits.clone(),
        })
    }

    /// Reads `path` (refusing files over [`Limits::max_package_size`]) for [`Package::parse`].
    pub fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>, RpmError> {
        let io = |source| RpmError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size > limits.max_package_size {
            return Err(RpmError::TooLarge {
                size,
                limit: limits.max_package_size,
            });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        file.take(limits.max_package_size + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > limits.max_package_size {
            return Err(RpmError::TooLarge {
                size: bytes.len() as u64,
                limit: limits.max_package_size,
            });
        }
        Ok(bytes)
    }

    /// The limits this package was parsed with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Name, epoch, version, release and architecture.
    pub fn nevra(&self) -> Result<Nevra, RpmError> {
        let h = &self.header;
        let need = |tag: Tag| {
            h.string(tag).ok_or_else(|| RpmError::MissingTag {
                tag: HeaderKind::Main.tag_name(tag),
            })
        };
        let arch = if self.is_source() {
            "src".to_owned()
        } else {
            need(tags::ARCH)?
        };
        Ok(Nevra {
            name: need(tags::NAME)?,
            epoch: h.integer(tags::EPOCH).map(|e| e as u32),
            version: need(tags::VERSION)?,
            release: need(tags::RELEASE)?,
            arch,
        })
    }

    /// Whether this is a source package (rpm: the main header has no SOURCERPM).
    pub fn is_source(&self) -> bool {
        self.header.entry(tags::SOURCERPM).is_none()
    }

    /// The files the main header lists, in header order.
    pub fn files(&self) -> Result<Vec<FileEntry>, RpmError> {
        files::list(&self.header, &self.limits)
    }

    /// The payload compressor (`PAYLOADCOMPRESSOR`). When absent rpm opens the payload with
    /// zlib's gzip reader, which passes plain data through (rpmbuild's `w0.ufdio` omits the
    /// tag): gzip when the payload has the gzip magic, else identity.
    pub fn compressor(&self) -> Result<Compressor, RpmError> {
        let format = self
            .header
            .string(tags::PAYLOADFORMAT)
            .unwrap_or_else(|| "cpio".into());
        if format != "cpio" {
            return Err(RpmError::PayloadFormat(format));
        }
        match self.header.string(tags::PAYLOADCOMPRESSOR) {
            Some(name) => Compressor::from_tag(Some(&name)),
            None if self.payload.starts_with(&[0x1f, 0x8b]) => Ok(Compressor::Gzip),
            None => Ok(Compressor::None),
        }
    }

    /// A streaming reader of the payload's files.
    pub fn payload_reader(&self) -> Result<PayloadReader<'a>, RpmError> {
        let files = self.files()?;
        PayloadReader::new(self.payload, self.compressor()?, files, &self.limits)
    }

    /// The header and payload digests and the OpenPGP signatures checked against `keyring`.
    pub fn verify(&self, keyring: &cryo_debian::openpgp::Keyring) -> Verification {
        signature::verify(self, keyring)
    }
}
