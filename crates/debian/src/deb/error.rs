//! Why a `.deb` could not be read: one typed error for the container (framing, member
//! order, truncation, caps) and the decompression of its members.

use std::io;

use super::header::HeaderFault;
use super::Role;
use crate::compression::CompressionError;

/// Errors of [`super::DebReader`] and its members.
#[derive(Debug, thiserror::Error)]
pub enum DebReadError {
    /// Reading the underlying file or stream failed.
    #[error("reading the .deb failed")]
    Io(#[source] io::Error),
    /// The input does not start with the ar magic.
    #[error("not an ar archive (no `!<arch>` magic)")]
    NotAr,
    /// The input ends inside the 8-byte ar magic.
    #[error("truncated ar magic: {read} of 8 bytes")]
    ShortMagic {
        /// Bytes present.
        read: usize,
    },
    /// The input ends inside a member header.
    #[error("ar header of member #{index} at offset {offset} is truncated: {read} of 60 bytes")]
    ShortHeader {
        /// Position of the member (0 is `debian-binary`).
        index: usize,
        /// Offset of the header.
        offset: u64,
        /// Bytes present.
        read: usize,
    },
    /// A member header is malformed.
    #[error("ar header of member #{index} at offset {offset} is invalid")]
    BadHeader {
        /// Position of the member.
        index: usize,
        /// Offset of the header.
        offset: u64,
        /// What is wrong.
        #[source]
        fault: HeaderFault,
    },
    /// The byte after an odd-sized member is not the `\n` padding.
    #[error("invalid ar padding byte {byte:#04x} at offset {offset}")]
    BadPadding {
        /// Offset of the byte.
        offset: u64,
        /// The byte found.
        byte: u8,
    },
    /// A member's data ends before the size its header gives.
    #[error("member {name:?} is truncated: its header says {expected} bytes, {actual} present")]
    ShortMember {
        /// Member name.
        name: String,
        /// Size from the header.
        expected: u64,
        /// Bytes present.
        actual: u64,
    },
    /// `debian-binary` does not hold a `2.x` format version.
    #[error("unsupported .deb format version {found:?} (expected 2.x)")]
    Version {
        /// What the member holds (lossy UTF-8).
        found: String,
    },
    /// A member is not the one dpkg's order requires at its position.
    #[error("member #{index} is {found:?}, expected {expected}")]
    Order {
        /// Position of the member.
        index: usize,
        /// Its name.
        found: String,
        /// What belongs there.
        expected: Role,
    },
    /// The archive ends before a required member.
    #[error("no {expected} member")]
    Missing {
        /// The missing member.
        expected: Role,
    },
    /// A `control.tar*` / `data.tar*` member has a compression suffix dpkg does not
    /// accept there (or this reader cannot decode).
    #[error("member {name:?} uses an unsupported compression")]
    UnsupportedCompression {
        /// Member name.
        name: String,
    },
    /// A member is larger than the caller's cap on its raw bytes.
    #[error("member {name:?} is {size} bytes, more than the limit of {limit}")]
    MemberTooLarge {
        /// Member name.
        name: String,
        /// Size from the header.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// Decompressing a member failed: corrupt or truncated stream, more output than the
    /// caller's cap, or more decoder memory than allowed.
    #[error("member {name:?} cannot be decompressed")]
    Decompress {
        /// Member name.
        name: String,
        /// Why.
        #[source]
        source: CompressionError,
    },
    /// The caller asked for a member the reader has already gone past.
    #[error("the {wanted} member was already passed")]
    Passed {
        /// The member asked for.
        wanted: Role,
    },
    /// An earlier error left the reader at an unknown position in the file.
    #[error("an earlier error stopped reading this .deb")]
    Poisoned,
}
