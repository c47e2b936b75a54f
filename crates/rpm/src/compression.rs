//! Decompression of rpm-md files (`.gz`, `.xz`, `.zst`, `.bz2` or plain), chosen by the
//! file name and checked against the magic bytes, with a hard cap on the output. xz, gzip
//! and zstd go through `cryo_debian::compression` (bounded decoder memory); bzip2 through
//! the `bzip2` crate behind the same kind of cap.

use std::io::{self, Read};

use cryo_debian::compression::{self as deb, CappedReader, Compression, Decoder, DecoderLimits};

/// Default cap on one decompressed metadata file (primary.xml of a large distribution is
/// a few hundred MiB; 2 GiB leaves room without letting a bomb fill memory).
pub const DEFAULT_LIMIT: u64 = 2 << 30;

/// The compression of an rpm-md file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaCompression {
    /// xz, gzip, zstd or none (shared with the Debian code).
    Deb(Compression),
    /// bzip2 (`.bz2`).
    Bzip2,
}

impl MetaCompression {
    /// From the file name's extension.
    pub fn from_name(name: &str) -> MetaCompression {
        if name.ends_with(".bz2") {
            MetaCompression::Bzip2
        } else {
            MetaCompression::Deb(Compression::from_extension(name))
        }
    }
    /// From the first bytes.
    pub fn from_magic(data: &[u8]) -> MetaCompression {
        if data.starts_with(b"BZh") {
            MetaCompression::Bzip2
        } else {
            MetaCompression::Deb(Compression::from_magic(data))
        }
    }
}

/// Decompression failed.
#[derive(Debug, thiserror::Error)]
pub enum DecompressError {
    /// The name says one format, the bytes another.
    #[error("{name}: the file name says {expected:?} but the content is {found:?}")]
    Mismatch {
        /// File name.
        name: String,
        /// From the extension.
        expected: MetaCompression,
        /// From the magic bytes.
        found: MetaCompression,
    },
    /// xz/gzip/zstd decoding (including the size cap).
    #[error("{name}: {source}")]
    Deb {
        /// File name.
        name: String,
        /// Cause.
        #[source]
        source: deb::CompressionError,
    },
    /// bzip2 decoding.
    #[error("{name}: bzip2 decoding failed")]
    Bzip2 {
        /// File name.
        name: String,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// More output than the cap.
    #[error("{name}: decompressed data exceeds the limit of {limit} bytes")]
    TooLarge {
        /// File name.
        name: String,
        /// The cap.
        limit: u64,
    },
}

/// Decompress a whole rpm-md file held in memory; `name` (its `location href`) gives the
/// expected format, which must match the content. Output capped at `limit` bytes.
pub fn decompress(data: &[u8], name: &str, limit: u64) -> Result<Vec<u8>, DecompressError> {
    let expected = MetaCompression::from_name(name);
    let found = MetaCompression::from_magic(data);
    if expected != found {
        return Err(DecompressError::Mismatch {
            name: name.to_owned(),
            expected,
            found,
        });
    }
    let mut out = Vec::new();
    open(data, name, limit)?
        .read_to_end(&mut out)
        .map_err(|e| read_error(name, expected, limit, e))?;
    Ok(out)
}

/// A streaming decoder of an rpm-md file by its name's extension, capped at `limit`
/// output bytes (reading past the cap fails with an `io::Error` whose inner error is the
/// [`DecompressError::TooLarge`]). Feed it to `primary::PrimaryReader` through a
/// `BufReader`.
pub fn open<'a, R: Read + 'a>(
    reader: R,
    name: &str,
    limit: u64,
) -> Result<Box<dyn Read + 'a>, DecompressError> {
    Ok(match MetaCompression::from_name(name) {
        MetaCompression::Bzip2 => Box::new(Capped {
            inner: CappedReader::new(bzip2::read::BzDecoder::new(reader), limit),
            name: name.to_owned(),
            limit,
        }),
        MetaCompression::Deb(format) => {
            let dec =
                Decoder::new(reader, format, &DecoderLimits::default()).map_err(|source| {
                    DecompressError::Deb {
                        name: name.to_owned(),
                        source,
                    }
                })?;
            Box::new(Capped {
                inner: CappedReader::new(dec, limit),
                name: name.to_owned(),
                limit,
            })
        }
    })
}

struct Capped<R> {
    inner: CappedReader<R>,
    name: String,
    limit: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if self.inner.exceeded() {
                io::Error::other(DecompressError::TooLarge {
                    name: self.name.clone(),
                    limit: self.limit,
                })
            } else {
                e
            }
        })
    }
}

fn read_error(name: &str, format: MetaCompression, limit: u64, e: io::Error) -> DecompressError {
    match e
        .get_ref()
        .and_then(|i| i.downcast_ref::<DecompressError>())
    {
        Some(DecompressError::TooLarge { .. }) => DecompressError::TooLarge {
            name: name.to_owned(),
            limit,
        },
        _ => match format {
            MetaCompression::Bzip2 => DecompressError::Bzip2 {
                name: name.to_owned(),
                source: e,
            },
            MetaCompression::Deb(format) => DecompressError::Deb {
                name: name.to_owned(),
                source: deb::CompressionError::Decode { format, source: e },
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn all_formats_round_trip_and_cap() {
        let text = b"<metadata/>".repeat(100);
        let mut gz = flate2_like_gzip(&text);
        assert_eq!(decompress(&gz, "x.xml.gz", 1 << 20).unwrap(), text);
        let mut bz = Vec::new();
        {
            let mut w = bzip2::write::BzEncoder::new(&mut bz, bzip2::Compression::fast());
            w.write_all(&text).unwrap();
        }
        assert_eq!(decompress(&bz, "x.xml.bz2", 1 << 20).unwrap(), text);
        assert!(matches!(
            decompress(&bz, "x.xml.bz2", 10),
            Err(DecompressError::TooLarge { .. })
        ));
        assert!(matches!(
            decompress(&gz, "x.xml.bz2", 1 << 20),
            Err(DecompressError::Mismatch { .. })
        ));
        assert_eq!(decompress(&text, "x.xml", 1 << 20).unwrap(), text);
        gz.truncate(gz.len() / 2);
        assert!(decompress(&gz, "x.xml.gz", 1 << 20).is_err());
        bz.truncate(bz.len() / 2);
        assert!(decompress(&bz, "x.xml.bz2", 1 << 20).is_err());
    }

    fn flate2_like_gzip(data: &[u8]) -> Vec<u8> {
        let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }
}
