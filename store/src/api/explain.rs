//! `POST /api/v1/explain` (`cryo explain REPORT|SOURCE`) and `POST /api/v1/verify/buildinfo`
//! (`cryo verify --buildinfo FILE`). The explanation types mirror `cryo_compare`'s
//! (`report::explain`): same names, same order, same JSON (docs/explain.md).

use serde::{Deserialize, Serialize};

use super::resolve::PrjconfText;
use super::verify::ClassKind;
use crate::digest::B3Digest;

/// `POST /api/v1/explain` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainRequest {
    /// A report id (or unique prefix of at least 8 hex characters), or a source
    /// `src:NAME[=VERSION]` (verified first, then explained).
    pub target: String,
    /// The snapshot (required for a source; default for a report: the report's).
    #[serde(default)]
    pub snapshot: Option<String>,
    /// The prjconf (required for a source and for reports older than explain; default for
    /// a report: the one it was verified with).
    #[serde(default)]
    pub prjconf: Option<PrjconfText>,
    #[serde(default)]
    pub arch: Option<String>,
    /// The bound on rebuilds per explained source (default [`DEFAULT_MAX_REBUILDS`]).
    #[serde(default)]
    pub max_rebuilds: Option<u32>,
}

/// Rebuilds per source when the request names no bound.
pub const DEFAULT_MAX_REBUILDS: u32 = 8;

/// How far the search got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExplanationVerdict {
    Reproduced,
    Improved,
    Unexplained,
}

/// What kind of environment difference a variation tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExplanationCause {
    Clock,
    BuildPath,
    ExtraPackages,
    Snapshot,
    Toolchain,
}

/// One rebuild of the search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplanationAttempt {
    pub cause: ExplanationCause,
    pub variation: String,
    pub derivation: Option<String>,
    pub class: ClassKind,
    pub note: String,
}

/// The explanation of one binary package (docs/explain.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub verdict: ExplanationVerdict,
    pub class_before: ClassKind,
    pub class_after: ClassKind,
    pub summary: String,
    pub explained_by: Vec<ExplanationAttempt>,
    pub tried: Vec<ExplanationAttempt>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remaining: Vec<String>,
    pub prjconf_addition: String,
    pub snapshot: String,
    pub rebuilds: u32,
    pub max_rebuilds: u32,
}

/// One explained binary package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryExplanation {
    pub source: String,
    pub package: String,
    pub version: String,
    pub architecture: String,
    pub explanation: Explanation,
}

/// What `POST /api/v1/explain` answers: the report explained (stored with it: `cryo report
/// show REPORT` shows the explanations) and one explanation per non-identical binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainOutcome {
    pub report: B3Digest,
    pub explanations: Vec<BinaryExplanation>,
}

/// `POST /api/v1/verify/buildinfo` body: a Debian `.buildinfo` file's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildinfoRequest {
    /// File name, for messages.
    pub name: String,
    pub text: String,
    /// The prjconf that shapes the build root (preinstalled set, builder tools).
    pub prjconf: PrjconfText,
    /// The snapshot to build in (default: the one holding the source and most of the
    /// installed packages).
    #[serde(default)]
    pub snapshot: Option<String>,
}

/// Where one installed package of a `.buildinfo` was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildinfoPackage {
    pub name: String,
    pub version: String,
    pub arch: String,
    /// The snapshot holding this exact version (hex id).
    pub snapshot: String,
}

/// One file the `.buildinfo` lists in `Checksums-Sha256`, and what the rebuild produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildinfoFile {
    pub name: String,
    pub expected_sha256: String,
    /// SHA-256 of the rebuilt file (`None`: the rebuild produced no such file).
    pub rebuilt_sha256: Option<String>,
    pub identical: bool,
}

/// What `POST /api/v1/verify/buildinfo` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildinfoOutcome {
    pub source: String,
    pub version: String,
    pub architecture: String,
    /// The snapshot the build ran in (the one holding most of the closure).
    pub snapshot: String,
    pub derivation: B3Digest,
    pub packages: Vec<BuildinfoPackage>,
    pub files: Vec<BuildinfoFile>,
    /// `Environment` variables applied to the build, and those cryo does not apply (with
    /// why).
    pub environment: Vec<String>,
    /// 0 every listed file identical, 1 some differ, 2 the build failed.
    pub exit_code: u8,
    /// Last lines of the log when the build failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}
