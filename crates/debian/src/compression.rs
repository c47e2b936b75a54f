//! Decompression of archive indices by magic bytes or file extension (`.xz`, `.gz`,
//! `.zst`, plain) with a hard output-size cap so hostile input cannot exhaust memory.

use std::io::Read;

/// Decompression errors.
#[derive(Debug, thiserror::Error)]
pub enum CompressionError {
    /// The output would exceed the caller's cap.
    #[error("decompressed data exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// The file name says one format but the bytes are another (or unknown).
    #[error("{name}: extension says {expected:?} but the content is {found:?}")]
    Mismatch {
        /// File name used as hint.
        name: String,
        /// Format implied by the extension.
        expected: Compression,
        /// Format detected from magic bytes.
        found: Compression,
    },
    /// The decoder failed (corrupt or truncated data).
    #[error("{format:?} decoding failed")]
    Decode {
        /// Format being decoded.
        format: Compression,
        /// Decoder error.
        #[source]
        source: std::io::Error,
    },
}

/// A supported compression format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// xz (`.xz`).
    Xz,
    /// gzip (`.gz`).
    Gzip,
    /// Zstandard (`.zst`).
    Zstd,
    /// Not compressed.
    None,
}

impl Compression {
    /// Detect from the leading magic bytes; anything unknown is `None` (plain).
    pub fn from_magic(data: &[u8]) -> Compression {
        if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Compression::Xz
        } else if data.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
    /// The format implied by a file name's extension (`None` for anything else).
    pub fn from_extension(name: &str) -> Compression {
        if name.ends_with(".xz") {
            Compression::Xz
        } else if name.ends_with(".gz") {
            Compression::Gzip
        } else if name.ends_with(".zst") {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Decompress `data` whose format is detected from magic bytes and, if `name` is given,
/// cross-checked against its extension. Fails with [`CompressionError::TooLarge`] as soon
/// as the output would exceed `limit` bytes.
pub fn decompress(
    data: &[u8],
    name: Option<&str>,
    limit: u64,
) -> Result<Vec<u8>, CompressionError> {
    let found = Compression::from_magic(data);
    if let Some(name) = name {
        let expected = Compression::from_extension(name);
        if expected != found {
            return Err(CompressionError::Mismatch {
                name: name.to_owned(),
                expected,
                found,
            });
        }
    }
    decompress_as(data, found, limit)
}

/// Decompress `data` as `format`, capped at `limit` output bytes.
pub fn decompress_as(
    data: &[u8],
    format: Compression,
    limit: u64,
) -> Result<Vec<u8>, CompressionError> {
    let reader: Box<dyn Read + '_> = match format {
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(data)),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(data)
                .map_err(|source| CompressionError::Decode { format, source })?,
        ),
        Compression::None => Box::new(data),
    };
    read_capped(reader, format, limit)
}

/// Read a whole stream of `format` with the size cap (for callers that stream from a file).
pub fn read_capped(
    reader: impl Read,
    format: Compression,
    limit: u64,
) -> Result<Vec<u8>, CompressionError> {
    let mut out = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|source| CompressionError::Decode { format, source })?;
    if out.len() as u64 > limit {
        return Err(CompressionError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn samples() -> Vec<(Compression, Vec<u8>)> {
        let plain = b"Package: a\n\nPackage: b\n".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&plain).unwrap();
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
        xz.write_all(&plain).unwrap();
        vec![
            (Compression::Gzip, gz.finish().unwrap()),
            (Compression::Xz, xz.finish().unwrap()),
            (Compression::Zstd, zstd::encode_all(&plain[..], 3).unwrap()),
            (Compression::None, plain),
        ]
    }

    #[test]
    fn all_formats_and_caps() {
        let plain = b"Package: a\n\nPackage: b\n".repeat(100);
        for (fmt, data) in samples() {
            assert_eq!(Compression::from_magic(&data), fmt);
            assert_eq!(decompress(&data, None, 1 << 20).unwrap(), plain, "{fmt:?}");
            assert_eq!(
                decompress(&data, None, plain.len() as u64).unwrap().len(),
                plain.len()
            );
            let e = decompress(&data, None, plain.len() as u64 - 1).unwrap_err();
            assert!(
                matches!(e, CompressionError::TooLarge { .. }),
                "{fmt:?}: {e}"
            );
        }
    }

    #[test]
    fn extension_mismatch_and_corruption() {
        let s = samples();
        let e = decompress(&s[0].1, Some("Packages.xz"), 1 << 20).unwrap_err();
        assert!(matches!(e, CompressionError::Mismatch { .. }), "{e}");
        assert!(decompress(&s[1].1, Some("Packages.xz"), 1 << 20).is_ok());
        let mut bad = s[1].1.clone();
        let n = bad.len();
        bad[n / 2] ^= 0xff;
        assert!(matches!(
            decompress(&bad, None, 1 << 20),
            Err(CompressionError::Decode { .. })
        ));
    }
}
