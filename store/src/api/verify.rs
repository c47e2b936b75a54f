//! `POST /api/v1/verify`, `POST /api/v1/check`, `GET /api/v1/reports` and
//! `GET /api/v1/reports/{id}?format=text|json|html[&colour=true]`, which answers the
//! rendered report (the JSON form is specified in `docs/report-format.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::resolve::PrjconfText;
use crate::digest::B3Digest;

/// `POST /api/v1/verify` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyRequest {
    pub snapshot: String,
    pub prjconf: PrjconfText,
    /// `src:NAME[=VERSION]` requests.
    pub sources: Vec<String>,
    pub arch: Option<String>,
}

/// `POST /api/v1/check` body (`cryo build --check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRequest {
    pub derivation: String,
    /// Variations (`build-path`, `time`, `umask`, `locale`, `hostname`); empty for all.
    #[serde(default)]
    pub vary: Vec<String>,
}

/// The verdict for one binary package (ordered as the daemon orders `by_kind` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassKind {
    /// Bit-for-bit identical.
    Identical,
    /// RPM: only the signature header differs (counted as identical in summaries).
    SignatureOnly,
    /// RPM: only the build clock and host differ (`BUILDTIME`, `BUILDHOST`, file mtimes).
    BuildMetadataOnly,
    /// Only archive metadata (timestamps, member compression, order) differs.
    MetadataOnly,
    /// The data is identical; only `control` fields that record dependency versions differ.
    ControlOnly,
    /// Only build-id related ELF sections (and the md5sums lines they imply) differ.
    BuildIdOnly,
    /// File contents, permissions, ownership or the file set differ.
    Content,
    /// A limit stopped the comparison before a verdict could be proven.
    Inconclusive,
    /// Our rebuild failed.
    BuildFailed,
    /// The distribution has no binary to compare against.
    MissingUpstream,
}

/// Counts over a set of binary packages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportCounts {
    pub analysed: u64,
    pub identical: u64,
    /// build-metadata-only + metadata-only + control-only + build-id-only + content.
    pub differ: u64,
    /// build-failed + missing-upstream + inconclusive.
    pub failed_or_inconclusive: u64,
    pub by_kind: BTreeMap<ClassKind, u64>,
}

/// Counts of one source package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSummary {
    pub source: String,
    pub version: String,
    pub counts: ReportCounts,
}

/// Totals and per-source counts of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub total: ReportCounts,
    pub per_source: Vec<SourceSummary>,
}

/// What `POST /api/v1/verify` and `POST /api/v1/check` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyOutcome {
    pub report: B3Digest,
    /// 0 all identical, 1 some differ, 2 something failed or could not be compared.
    pub exit_code: u8,
    pub summary: ReportSummary,
}

/// A stored report's listing entry (`GET /api/v1/reports`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportInfo {
    pub id: B3Digest,
    pub created: i64,
    pub snapshot: String,
    pub sources: Vec<String>,
    pub summary: String,
    pub exit_code: u8,
    /// The prjconf the report was verified with (reports written before `cryo explain`
    /// lack it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prjconf: Option<PrjconfText>,
    /// The architecture built for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
}
