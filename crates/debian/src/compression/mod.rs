//! Decompression of archive indices and `.deb` members (`.xz`, `.gz`, `.zst`, plain) with
//! a hard output-size cap and bounded decoder memory, so hostile input cannot exhaust
//! memory. The one set of capped decoders of the workspace:
//! * [`Compression`] — the format, from magic bytes, a file extension or a `.deb` member
//!   suffix;
//! * [`Decoder`] — a streaming decoder of any format with [`DecoderLimits`];
//! * [`CappedReader`] — fails rather than yield more than a cap; [`read_at_most`] keeps a
//!   bounded prefix instead;
//! * [`decompress`], [`decompress_as`], [`decompress_with`], [`read_capped`] — whole
//!   in-memory inputs.

use std::io::{self, Read};

mod capped;
mod decoder;

pub use capped::{read_at_most, CappedReader};
pub use decoder::{Decoder, DecoderLimits};

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
    /// The compressed stream ends before its end marker.
    #[error("{format:?} data is truncated")]
    Truncated {
        /// Format being decoded.
        format: Compression,
        /// Decoder error.
        #[source]
        source: io::Error,
    },
    /// The stream asks for more decoder memory than [`DecoderLimits`] allow.
    #[error("{format:?} data needs more than {limit} bytes of decoder memory")]
    MemoryLimit {
        /// Format being decoded.
        format: Compression,
        /// The limit in bytes.
        limit: u64,
    },
    /// The decoder failed (corrupt data).
    #[error("{format:?} decoding failed")]
    Decode {
        /// Format being decoded.
        format: Compression,
        /// Decoder error.
        #[source]
        source: io::Error,
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

    /// The format of a `.deb` member from what follows `control.tar` / `data.tar` in its
    /// name, as dpkg reads it: `""`, `.gz`, `.xz` or `.zst`; anything else is `None`
    /// (unsupported, unlike [`Compression::None`]).
    pub fn from_member_suffix(suffix: &str) -> Option<Compression> {
        match suffix {
            "" => Some(Compression::None),
            ".gz" => Some(Compression::Gzip),
            ".xz" => Some(Compression::Xz),
            ".zst" => Some(Compression::Zstd),
            _ => None,
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

/// Decompress `data` as `format`, capped at `limit` output bytes, with the default
/// [`DecoderLimits`].
pub fn decompress_as(
    data: &[u8],
    format: Compression,
    limit: u64,
) -> Result<Vec<u8>, CompressionError> {
    decompress_with(data, format, limit, &DecoderLimits::default())
}

/// Decompress `data` as `format`, capped at `limit` output bytes and with the decoder's
/// memory bounded by `limits`.
pub fn decompress_with(
    data: &[u8],
    format: Compression,
    limit: u64,
    limits: &DecoderLimits,
) -> Result<Vec<u8>, CompressionError> {
    let mut reader = CappedReader::new(Decoder::new(data, format, limits)?, limit);
    let mut out = Vec::new();
    match reader.read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(_) if reader.exceeded() => Err(CompressionError::TooLarge { limit }),
        Err(e) => Err(reader.get_ref().error(e)),
    }
}

/// Read a whole stream of `format` with the size cap (for callers that stream from a file
/// through their own decoder).
pub fn read_capped(
    reader: impl Read,
    format: Compression,
    limit: u64,
) -> Result<Vec<u8>, CompressionError> {
    let mut reader = CappedReader::new(reader, limit);
    let mut out = Vec::new();
    match reader.read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(_) if reader.exceeded() => Err(CompressionError::TooLarge { limit }),
        Err(source) => Err(CompressionError::Decode { format, source }),
    }
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

    #[test]
    fn truncated_streams_are_typed() {
        for (fmt, data) in samples() {
            if fmt == Compression::None {
                continue;
            }
            for cut in [1, data.len() / 2, data.len() - 1] {
                let e = decompress_as(&data[..cut], fmt, 1 << 20).unwrap_err();
                assert!(
                    matches!(e, CompressionError::Truncated { format, .. } if format == fmt),
                    "{fmt:?} cut at {cut}: {e}"
                );
            }
        }
    }

    #[test]
    fn decoder_memory_is_bounded() {
        let s = samples();
        let tight = DecoderLimits {
            xz_memlimit: 1 << 10,
            ..DecoderLimits::default()
        };
        let e = decompress_with(&s[1].1, Compression::Xz, 1 << 20, &tight).unwrap_err();
        assert!(
            matches!(e, CompressionError::MemoryLimit { limit: 1024, .. }),
            "{e}"
        );
        // A zstd frame with a 2^20 window refused by a 2^10 limit.
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        enc.set_parameter(zstd::zstd_safe::CParameter::WindowLog(20))
            .unwrap();
        enc.write_all(&vec![1u8; 1 << 21]).unwrap();
        let big = enc.finish().unwrap();
        let small_window = DecoderLimits {
            zstd_window_log_max: 10,
            ..DecoderLimits::default()
        };
        assert!(decompress_with(&big, Compression::Zstd, 4 << 20, &small_window).is_err());
        assert!(
            decompress_with(&big, Compression::Zstd, 4 << 20, &DecoderLimits::default()).is_ok()
        );
    }

    #[test]
    fn member_suffixes() {
        assert_eq!(Compression::from_member_suffix(""), Some(Compression::None));
        assert_eq!(
            Compression::from_member_suffix(".xz"),
            Some(Compression::Xz)
        );
        assert_eq!(
            Compression::from_member_suffix(".gz"),
            Some(Compression::Gzip)
        );
        assert_eq!(
            Compression::from_member_suffix(".zst"),
            Some(Compression::Zstd)
        );
        assert_eq!(Compression::from_member_suffix(".bz2"), None);
        assert_eq!(Compression::from_member_suffix("xz"), None);
    }
}
