//! Bounded in-memory decompression of `.deb` members (xz, zstd, gzip, none).
//!
//! Output is capped ([`Limits::max_decompressed_size`] and the remaining total budget) and the
//! decoders' own memory is bounded (xz memlimit, zstd window), so a zip-bomb-like member stops
//! with a recorded limit instead of exhausting memory. Nothing is written to disk.

use std::io::{self, Read};

use crate::limits::{LimitKind, Limits};

/// Errors while decompressing a member.
#[derive(Debug, thiserror::Error)]
pub enum DecompressError {
    #[error("unsupported compression for member {name:?}")]
    Unsupported { name: String },
    #[error("cannot set up the {format} decoder")]
    Setup {
        format: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("corrupt {format} stream")]
    Corrupt {
        format: &'static str,
        #[source]
        source: io::Error,
    },
}

/// Compression of a member, chosen from its name suffix as dpkg does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Xz,
    Zstd,
    Gzip,
}

impl Compression {
    /// Detects the compression from a member name such as `data.tar.xz`.
    pub fn from_member_name(name: &str) -> Result<Self, DecompressError> {
        let suffix = name.rsplit_once(".tar").map(|(_, s)| s);
        match suffix {
            Some("") => Ok(Self::None),
            Some(".xz") => Ok(Self::Xz),
            Some(".zst") => Ok(Self::Zstd),
            Some(".gz") => Ok(Self::Gzip),
            _ => Err(DecompressError::Unsupported {
                name: name.to_owned(),
            }),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Xz => "xz",
            Self::Zstd => "zstd",
            Self::Gzip => "gzip",
        }
    }
}

/// Result of a bounded decompression.
#[derive(Debug)]
pub struct Decompressed {
    pub bytes: Vec<u8>,
    /// Set when the output was cut short by a limit.
    pub limit: Option<LimitKind>,
}

/// Reads at most `cap` bytes from `reader`; reports whether more was available.
pub fn read_capped<R: Read>(reader: R, cap: u64) -> io::Result<(Vec<u8>, bool)> {
    let mut bytes = Vec::new();
    reader.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    let over = bytes.len() as u64 > cap;
    if over {
        bytes.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
    }
    Ok((bytes, over))
}

/// Decompresses `data` with at most `min(max_decompressed_size, total_left)` bytes of output.
pub fn decompress(
    compression: Compression,
    data: &[u8],
    limits: &Limits,
    total_left: u64,
) -> Result<Decompressed, DecompressError> {
    let (cap, cap_kind) = if total_left < limits.max_decompressed_size {
        (total_left, LimitKind::TotalDecompressed)
    } else {
        (limits.max_decompressed_size, LimitKind::DecompressedSize)
    };
    let format = compression.label();
    let result = match compression {
        Compression::None => read_capped(data, cap),
        Compression::Gzip => read_capped(flate2::read::MultiGzDecoder::new(data), cap),
        Compression::Xz => {
            let stream = liblzma::stream::Stream::new_stream_decoder(
                limits.xz_memlimit,
                liblzma::stream::CONCATENATED,
            )
            .map_err(|e| DecompressError::Setup {
                format,
                source: e.into(),
            })?;
            read_capped(liblzma::read::XzDecoder::new_stream(data, stream), cap)
        }
        Compression::Zstd => {
            let mut decoder = zstd::stream::read::Decoder::new(data)
                .map_err(|source| DecompressError::Setup { format, source })?;
            decoder
                .window_log_max(limits.zstd_window_log_max)
                .map_err(|source| DecompressError::Setup { format, source })?;
            read_capped(decoder, cap)
        }
    };
    match result {
        Ok((bytes, false)) => Ok(Decompressed { bytes, limit: None }),
        Ok((bytes, true)) => Ok(Decompressed {
            bytes,
            limit: Some(cap_kind),
        }),
        Err(e) if is_xz_memlimit(&e) => Ok(Decompressed {
            bytes: Vec::new(),
            limit: Some(LimitKind::DecoderMemory),
        }),
        Err(source) => Err(DecompressError::Corrupt { format, source }),
    }
}

fn is_xz_memlimit(e: &io::Error) -> bool {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<liblzma::stream::Error>())
        .is_some_and(|inner| matches!(inner, liblzma::stream::Error::MemLimit))
}
