//! On-disk blob file format (version 1).
//!
//! ```text
//! offset  size  field
//! 0       8     magic "cryoblob"
//! 8       1     format version (1)
//! 9       1     encoding: 0 = raw, 1 = zstd (single stream)
//! 10      6     reserved, zero
//! 16      8     uncompressed size, little endian
//! 24      ...   payload (raw bytes or one zstd frame sequence)
//! ```
//! The digest is not in the file: the file *name* is the digest, and readers re-hash.

use serde::{Deserialize, Serialize};

pub const MAGIC: &[u8; 8] = b"cryoblob";
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 24;

/// How a blob's payload is encoded at rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Raw,
    Zstd,
}

impl Encoding {
    fn byte(self) -> u8 {
        match self {
            Encoding::Raw => 0,
            Encoding::Zstd => 1,
        }
    }
}

/// Header for a blob whose size is not yet known (patched after streaming).
pub fn header(encoding: Encoding, size: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8] = VERSION;
    h[9] = encoding.byte();
    h[16..24].copy_from_slice(&size.to_le_bytes());
    h
}

/// Parse a header; `Err` carries a human reason.
pub fn parse_header(h: &[u8; HEADER_LEN]) -> Result<(Encoding, u64), String> {
    if &h[..8] != MAGIC {
        return Err("not a cryo blob file (bad magic)".into());
    }
    if h[8] != VERSION {
        return Err(format!("unsupported blob format version {}", h[8]));
    }
    let enc = match h[9] {
        0 => Encoding::Raw,
        1 => Encoding::Zstd,
        other => return Err(format!("unknown blob encoding {other}")),
    };
    let mut size = [0u8; 8];
    size.copy_from_slice(&h[16..24]);
    Ok((enc, u64::from_le_bytes(size)))
}
