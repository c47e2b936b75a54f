//! Caps on everything a hostile `.rpm` could make us allocate or read.

use cryo_debian::compression::DecoderLimits;

/// Bounds for reading one package. The defaults follow rpm's own header limits
/// (`HEADER_TAGS_MAX`, `HEADER_DATA_MAX`) and leave room for the largest real packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest `.rpm` file read into memory by [`super::Package::read_file`].
    pub max_package_size: u64,
    /// Index entries of the signature header.
    pub max_signature_entries: usize,
    /// Data store bytes of the signature header.
    pub max_signature_data: usize,
    /// Index entries of the main header (rpm: 0xffff).
    pub max_header_entries: usize,
    /// Data store bytes of the main header (rpm: 256 MiB).
    pub max_header_data: usize,
    /// Files listed in the main header.
    pub max_files: usize,
    /// Length of one path in the payload archive.
    pub max_path_len: usize,
    /// Size of one payload file.
    pub max_file_size: u64,
    /// Decompressed payload in total.
    pub max_payload_size: u64,
    /// Decoder memory (xz dictionary, zstd window).
    pub decoder: DecoderLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_package_size: 4 << 30,
            max_signature_entries: 64,
            max_signature_data: 64 << 20,
            max_header_entries: 0xffff,
            max_header_data: 256 << 20,
            max_files: 1 << 20,
            max_path_len: 4096,
            max_file_size: 4 << 30,
            max_payload_size: 16 << 30,
            decoder: DecoderLimits::default(),
        }
    }
}
