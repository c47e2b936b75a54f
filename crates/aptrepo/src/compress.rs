//! Deterministic compression of index files: gzip without a name or timestamp in the
//! header (like `gzip -n`) and single-threaded xz at preset 6, so the same index always
//! compresses to the same bytes and the same `Release` hashes.

use std::io::{self, Write};

/// Compression failures (the encoders write to memory, so these indicate an encoder bug).
#[derive(Debug, thiserror::Error)]
pub enum CompressError {
    /// The encoder failed.
    #[error("{format} compression failed")]
    Encoder {
        /// `gzip` or `xz`.
        format: &'static str,
        /// The encoder error.
        #[source]
        source: io::Error,
    },
}

/// gzip level 9 with mtime 0, no file name, OS byte "unknown".
pub fn gzip(data: &[u8]) -> Result<Vec<u8>, CompressError> {
    let err = |source| CompressError::Encoder {
        format: "gzip",
        source,
    };
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::best());
    enc.write_all(data).map_err(err)?;
    enc.finish().map_err(err)
}

/// xz preset 6 (xz's default), CRC64 check, single-threaded.
pub fn xz(data: &[u8]) -> Result<Vec<u8>, CompressError> {
    let err = |source| CompressError::Encoder {
        format: "xz",
        source,
    };
    let mut enc = liblzma::write::XzEncoder::new(Vec::with_capacity(data.len() / 4), 6);
    enc.write_all(data).map_err(err)?;
    enc.finish().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn deterministic_and_roundtrip() {
        let data = b"Package: a\nVersion: 1\n\n".repeat(50);
        let g = gzip(&data).unwrap();
        assert_eq!(g, gzip(&data).unwrap());
        // Header: magic, deflate, no flags, mtime 0, xfl 2 (best), OS 255.
        assert_eq!(&g[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&g[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        let x = xz(&data).unwrap();
        assert_eq!(x, xz(&data).unwrap());
        let mut out = Vec::new();
        liblzma::read::XzDecoder::new(&x[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }
}
