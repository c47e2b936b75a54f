//! One streaming decoder over flate2's, liblzma's and zstd's readers, so that every caller
//! gets the same handling: concatenated streams are read to their end (gzip members, xz
//! streams, zstd frames), the decoder's own memory is bounded ([`DecoderLimits`]), and a
//! failed read is classified the same way ([`Decoder::error`]: truncated stream, memory
//! limit, corrupt data).

use std::io::{self, BufReader, Read};

use super::{Compression, CompressionError};

/// Bounds on what a decoder may allocate for itself (its output is capped separately, see
/// [`super::CappedReader`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderLimits {
    /// Memory limit handed to liblzma (bounds the dictionary an xz stream may ask for).
    pub xz_memlimit: u64,
    /// Largest zstd window, as log2 of its size in bytes.
    pub zstd_window_log_max: u32,
}

impl Default for DecoderLimits {
    /// 256 MiB for xz (`xz -9` needs 65 MiB to decode) and zstd's own default window
    /// limit of 128 MiB (2^27).
    fn default() -> Self {
        Self {
            xz_memlimit: 256 << 20,
            zstd_window_log_max: 27,
        }
    }
}

/// A reader yielding the decompressed bytes of `R`.
pub struct Decoder<R: Read> {
    inner: Inner<R>,
    limits: DecoderLimits,
}

enum Inner<R: Read> {
    Plain(R),
    Gzip(flate2::read::MultiGzDecoder<R>),
    Xz(liblzma::read::XzDecoder<R>),
    Zstd(zstd::stream::read::Decoder<'static, BufReader<R>>),
}

impl<R: Read> Decoder<R> {
    /// A decoder of `format` reading from `inner`. Fails only if a decoder cannot be set up
    /// with `limits` (e.g. an out-of-range zstd window).
    pub fn new(
        inner: R,
        format: Compression,
        limits: &DecoderLimits,
    ) -> Result<Self, CompressionError> {
        let setup = |source: io::Error| CompressionError::Decode { format, source };
        let inner = match format {
            Compression::None => Inner::Plain(inner),
            Compression::Gzip => Inner::Gzip(flate2::read::MultiGzDecoder::new(inner)),
            Compression::Xz => {
                let stream = liblzma::stream::Stream::new_stream_decoder(
                    limits.xz_memlimit,
                    liblzma::stream::CONCATENATED,
                )
                .map_err(|e| setup(e.into()))?;
                Inner::Xz(liblzma::read::XzDecoder::new_stream(inner, stream))
            }
            Compression::Zstd => {
                let mut decoder = zstd::stream::read::Decoder::new(inner).map_err(setup)?;
                decoder
                    .window_log_max(limits.zstd_window_log_max)
                    .map_err(setup)?;
                Inner::Zstd(decoder)
            }
        };
        Ok(Self {
            inner,
            limits: *limits,
        })
    }

    /// The format being decoded.
    pub fn format(&self) -> Compression {
        match self.inner {
            Inner::Plain(_) => Compression::None,
            Inner::Gzip(_) => Compression::Gzip,
            Inner::Xz(_) => Compression::Xz,
            Inner::Zstd(_) => Compression::Zstd,
        }
    }

    /// The compressed input.
    pub fn get_ref(&self) -> &R {
        match &self.inner {
            Inner::Plain(r) => r,
            Inner::Gzip(d) => d.get_ref(),
            Inner::Xz(d) => d.get_ref(),
            Inner::Zstd(d) => d.get_ref().get_ref(),
        }
    }

    /// The compressed input, mutably (reading from it corrupts the decoder's view).
    pub fn get_mut(&mut self) -> &mut R {
        match &mut self.inner {
            Inner::Plain(r) => r,
            Inner::Gzip(d) => d.get_mut(),
            Inner::Xz(d) => d.get_mut(),
            Inner::Zstd(d) => d.get_mut().get_mut(),
        }
    }

    /// The typed error for `source`, an error this decoder's `read` returned: the xz
    /// memory limit, a stream that ends before its end marker, or corrupt data.
    pub fn error(&self, source: io::Error) -> CompressionError {
        let format = self.format();
        let xz_memlimit = source
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<liblzma::stream::Error>())
            .is_some_and(|e| matches!(e, liblzma::stream::Error::MemLimit));
        if xz_memlimit {
            CompressionError::MemoryLimit {
                format,
                limit: self.limits.xz_memlimit,
            }
        } else if source.kind() == io::ErrorKind::UnexpectedEof {
            CompressionError::Truncated { format, source }
        } else {
            CompressionError::Decode { format, source }
        }
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Plain(r) => r.read(buf),
            Inner::Gzip(d) => d.read(buf),
            Inner::Xz(d) => d.read(buf),
            Inner::Zstd(d) => d.read(buf),
        }
    }
}
