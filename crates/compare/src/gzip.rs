//! gzip members inside packages (changelogs, man pages, info files): header fields (mtime,
//! file name, comment, extra, OS, XFL) and the decompressed payload, which is compared again
//! by the content dispatcher one nesting level deeper.

use std::io::Read;

use crate::diff::{display_bytes, FieldScope};
use cryo_debian::compression::read_at_most;

/// Errors while reading a gzip file.
#[derive(Debug, thiserror::Error)]
pub enum GzipError {
    #[error("not a gzip stream")]
    NotGzip,
    #[error("corrupt gzip stream")]
    Corrupt(#[source] std::io::Error),
}

/// Whether `data` starts with the gzip magic and the deflate method.
pub fn looks_like_gzip(data: &[u8]) -> bool {
    data.starts_with(&[0x1f, 0x8b, 0x08])
}

/// A decoded gzip file: first member's header fields and the (capped) payload.
#[derive(Debug)]
pub struct Gzip {
    /// (field name, display value) in a fixed order.
    pub header: Vec<(&'static str, String)>,
    pub payload: Vec<u8>,
    /// Whether the payload was cut at `cap`.
    pub truncated: bool,
}

/// Decodes `data` (all members) with at most `cap` bytes of output.
pub fn decode(data: &[u8], cap: u64) -> Result<Gzip, GzipError> {
    if !looks_like_gzip(data) {
        return Err(GzipError::NotGzip);
    }
    let mut decoder = flate2::read::MultiGzDecoder::new(data);
    // Reading drives header parsing; an empty read is enough for an empty payload.
    let (payload, truncated) = read_at_most(decoder.by_ref(), cap).map_err(GzipError::Corrupt)?;
    let header = decoder.header().ok_or(GzipError::NotGzip)?;
    let opt = |v: Option<&[u8]>| v.map(display_bytes).unwrap_or_else(|| "(none)".into());
    let fields = vec![
        ("mtime", header.mtime().to_string()),
        ("file name", opt(header.filename())),
        ("comment", opt(header.comment())),
        (
            "extra",
            header
                .extra()
                .map(hex::encode)
                .unwrap_or_else(|| "(none)".into()),
        ),
        ("os", header.operating_system().to_string()),
        // XFL (compression level hint) is not exposed by flate2; it is byte 8 of the header.
        ("xfl", data.get(8).map(u8::to_string).unwrap_or_default()),
    ];
    Ok(Gzip {
        header: fields,
        payload,
        truncated,
    })
}

/// Header fields that differ, as (field, ours, official).
pub fn header_differences(ours: &Gzip, official: &Gzip) -> Vec<(&'static str, String, String)> {
    ours.header
        .iter()
        .zip(&official.header)
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, b)| (a.0, a.1.clone(), b.1.clone()))
        .collect()
}

/// The scope used for gzip header field nodes.
pub const SCOPE: FieldScope = FieldScope::GzipHeader;
