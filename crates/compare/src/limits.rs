//! Resource limits for one comparison and the record of which limit was hit.
//!
//! Every stage of the engine (ar parsing, decompression, tar walking, nested gzip, text diff,
//! report size) consults [`Limits`]; a limit that is reached never aborts the process or
//! exhausts memory: the stage stops, records a [`LimitHit`] and the comparison becomes
//! inconclusive unless a content difference was already proven.

use serde::{Deserialize, Serialize};

/// Caps applied while comparing two packages. All sizes are bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest accepted `.deb` (each side).
    pub max_input_size: u64,
    /// Largest output of one decompressed stream (a `data.tar.*` or a nested `.gz`).
    pub max_decompressed_size: u64,
    /// Total decompressed bytes held in memory for both sides together.
    pub max_total_decompressed: u64,
    /// Most entries read from one tar stream.
    pub max_entries: u64,
    /// Deepest nesting of containers (deb → tar → file → gzip → ...).
    pub max_depth: u32,
    /// Most lines of one unified text diff.
    pub max_diff_lines: usize,
    /// Largest text (each side) that is diffed line by line; larger texts are compared as binary.
    pub max_text_diff_size: u64,
    /// Most differing ELF sections listed per file.
    pub max_sections_listed: usize,
    /// Most differing byte ranges listed for a binary file.
    pub max_offsets_listed: usize,
    /// Most difference nodes in one comparison (the rest is summarised by a limit node).
    pub max_differences: usize,
    /// Memory limit handed to the xz decoder (dictionary size bound).
    pub xz_memlimit: u64,
    /// Largest zstd window (log2) accepted.
    pub zstd_window_log_max: u32,
}

impl Default for Limits {
    fn default() -> Self {
        const MIB: u64 = 1024 * 1024;
        Self {
            max_input_size: 2048 * MIB,
            max_decompressed_size: 2048 * MIB,
            max_total_decompressed: 4096 * MIB,
            max_entries: 200_000,
            max_depth: 6,
            max_diff_lines: 200,
            max_text_diff_size: MIB,
            max_sections_listed: 64,
            max_offsets_listed: 16,
            max_differences: 5_000,
            xz_memlimit: 256 * MIB,
            zstd_window_log_max: 27,
        }
    }
}

/// Which limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    InputSize,
    DecompressedSize,
    TotalDecompressed,
    Entries,
    Depth,
    DiffLines,
    TextDiffSize,
    SectionsListed,
    OffsetsListed,
    Differences,
    DecoderMemory,
}

/// A limit reached during comparison, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LimitHit {
    pub limit: LimitKind,
    /// The configured value of the limit.
    pub value: u64,
    /// Where it was hit, e.g. `data.tar.xz` or `data.tar.xz/./usr/share/doc/x/changelog.gz`.
    pub location: String,
}
