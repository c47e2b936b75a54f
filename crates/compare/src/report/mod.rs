//! The report model (schema version 1): a [`Report`] of source packages, each with its binary
//! package comparisons, and a `guix challenge`-style [`Summary`]. Renderers live in
//! [`text`], [`json`] and [`html`]; the JSON form is documented in `docs/report-format.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::classify::{ClassKind, Classification};
use crate::deb::{DebComparison, PackageId};
use crate::diff::{Detail, DiffNode, FieldScope, SectionSummary};
use crate::limits::LimitHit;

pub mod explain;
pub mod html;
pub mod json;
pub mod text;

pub use html::render_html;
pub use json::render_json;
pub use text::render_text;

/// Version of the JSON schema written by [`render_json`].
pub const SCHEMA_VERSION: u32 = 1;

/// A verification report over one or more source packages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub sources: Vec<SourceReport>,
}

/// All binary package comparisons of one source package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceReport {
    pub source: String,
    pub version: String,
    pub binaries: Vec<BinaryReport>,
}

/// The comparison of one binary package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryReport {
    #[serde(flatten)]
    pub id: PackageId,
    /// Digest of our rebuilt `.deb` (the store's digest when known, else `sha256:<hex>`).
    pub ours_digest: Option<String>,
    /// SHA-256 (hex) of the official `.deb`.
    pub official_sha256: Option<String>,
    pub classification: Classification,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<DiffNode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits_hit: Vec<LimitHit>,
    /// Why it differs, when `cryo explain` searched (attached when the report is shown; the
    /// stored report itself never changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<explain::Explanation>,
}

impl BinaryReport {
    /// A report from a finished comparison; `ours_digest` defaults to our `.deb`'s SHA-256.
    pub fn from_comparison(id: PackageId, ours_digest: Option<String>, cmp: DebComparison) -> Self {
        let classification = cmp.classification();
        Self {
            id,
            ours_digest: ours_digest.or_else(|| Some(format!("sha256:{}", cmp.ours.sha256))),
            official_sha256: Some(cmp.official.sha256),
            classification,
            differences: cmp.differences,
            limits_hit: cmp.limits_hit,
            explanation: None,
        }
    }

    /// Our build failed, so there is nothing to compare.
    pub fn build_failed(id: PackageId, official_sha256: Option<String>, reason: &str) -> Self {
        Self::without_comparison(
            id,
            None,
            official_sha256,
            ClassKind::BuildFailed,
            format!("build failed: {reason}"),
        )
    }

    /// The distribution publishes no such binary to compare against.
    pub fn missing_upstream(id: PackageId, ours_digest: Option<String>) -> Self {
        Self::without_comparison(
            id,
            ours_digest,
            None,
            ClassKind::MissingUpstream,
            "no official binary to compare against".into(),
        )
    }

    fn without_comparison(
        id: PackageId,
        ours_digest: Option<String>,
        official_sha256: Option<String>,
        kind: ClassKind,
        explanation: String,
    ) -> Self {
        Self {
            id,
            ours_digest,
            official_sha256,
            classification: Classification { kind, explanation },
            differences: Vec::new(),
            limits_hit: Vec::new(),
            explanation: None,
        }
    }
}

/// Counts over a set of binary packages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub analysed: u64,
    pub identical: u64,
    /// metadata-only + control-only + build-id-only + content.
    pub differ: u64,
    /// build-failed + missing-upstream + inconclusive.
    pub failed_or_inconclusive: u64,
    pub by_kind: BTreeMap<ClassKind, u64>,
}

impl Counts {
    fn add(&mut self, kind: ClassKind) {
        self.analysed += 1;
        if kind.is_identical() {
            self.identical += 1;
        } else if kind.is_difference() {
            self.differ += 1;
        } else {
            self.failed_or_inconclusive += 1;
        }
        *self.by_kind.entry(kind).or_default() += 1;
    }

    /// Percentage of identical binaries (0 when nothing was analysed).
    pub fn identical_percent(&self) -> f64 {
        if self.analysed == 0 {
            0.0
        } else {
            self.identical as f64 * 100.0 / self.analysed as f64
        }
    }

    /// `N binaries analysed, X identical (p%), Y differ, Z failed/inconclusive`.
    pub fn line(&self) -> String {
        format!(
            "{} binaries analysed, {} identical ({:.1}%), {} differ, {} failed/inconclusive",
            self.analysed,
            self.identical,
            self.identical_percent(),
            self.differ,
            self.failed_or_inconclusive
        )
    }
}

/// Counts of one source package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSummary {
    pub source: String,
    pub version: String,
    pub counts: Counts,
}

/// Totals and per-source counts of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub total: Counts,
    pub per_source: Vec<SourceSummary>,
}

impl SourceReport {
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for b in &self.binaries {
            counts.add(b.classification.kind);
        }
        counts
    }
}

impl Report {
    pub fn new(sources: Vec<SourceReport>) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            sources,
        }
    }

    pub fn summary(&self) -> Summary {
        let mut total = Counts::default();
        let per_source = self
            .sources
            .iter()
            .map(|s| {
                for b in &s.binaries {
                    total.add(b.classification.kind);
                }
                SourceSummary {
                    source: s.source.clone(),
                    version: s.version.clone(),
                    counts: s.counts(),
                }
            })
            .collect();
        Summary { total, per_source }
    }
}

fn section(s: &Option<SectionSummary>) -> String {
    match s {
        Some(s) => format!(
            "{} size {} flags {} addr {} blake3 {}",
            s.section_type,
            s.size,
            s.flags,
            s.addr,
            short(&s.blake3)
        ),
        None => "(absent)".into(),
    }
}

fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

/// One-line description of a node, shared by the text and HTML renderers.
pub fn describe(node: &DiffNode) -> String {
    match &node.detail {
        Detail::Group => String::new(),
        Detail::OnlyInOurs { what } => format!("{what} only in ours"),
        Detail::OnlyInOfficial { what } => format!("{what} only in official"),
        Detail::Field {
            scope,
            field,
            ours,
            official,
        } => {
            let scope = match scope {
                FieldScope::ArHeader => "ar header",
                FieldScope::TarHeader => "tar header",
                FieldScope::GzipHeader => "gzip header",
                FieldScope::RpmSignature => "rpm signature header",
                FieldScope::RpmHeader => "rpm header",
                FieldScope::CpioHeader => "cpio header",
            };
            format!("{scope} {field}: official {official:?}, ours {ours:?}")
        }
        Detail::ControlField {
            field,
            ours,
            official,
        } => {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
            format!(
                "control field {field}: official {:?}, ours {:?}",
                show(official),
                show(ours)
            )
        }
        Detail::Order {
            position,
            ours,
            official,
        } => {
            format!("order differs at position {position}: official {official:?}, ours {ours:?}")
        }
        Detail::CompressedOnly { format } => {
            format!("{format} compressed bytes differ, decompressed content identical")
        }
        Detail::ElfSection {
            name,
            ours,
            official,
        } => {
            format!(
                "ELF section {name} differs: official {}; ours {}",
                section(official),
                section(ours)
            )
        }
        Detail::ElfOther {
            description,
            ranges,
        } => format!("{description}{}", ranges_text(ranges)),
        Detail::NotParseable {
            format,
            side,
            reason,
        } => format!("not parseable as {format} ({side}): {reason}"),
        Detail::TextDiff { truncated, .. } => {
            format!(
                "text differs{}",
                if *truncated { " (diff truncated)" } else { "" }
            )
        }
        Detail::Binary {
            ours_size,
            official_size,
            ranges,
            ranges_truncated,
        } => format!(
            "bytes differ: official {official_size} bytes, ours {ours_size} bytes{}{}",
            ranges_text(ranges),
            if *ranges_truncated { " …" } else { "" }
        ),
        Detail::Md5sums {
            path,
            ours,
            official,
            consistent_with_data,
        } => format!(
            "md5sums line for {path}: official {official}, ours {ours} ({})",
            if *consistent_with_data {
                "matches the data files"
            } else {
                "does NOT match the data files"
            }
        ),
        Detail::Limit { hit } => format!(
            "limit {:?} ({}) reached at {}",
            hit.limit, hit.value, hit.location
        ),
        Detail::Omitted { count } => format!("{count} more differences omitted"),
    }
}

fn ranges_text(ranges: &[crate::diff::ByteRange]) -> String {
    if ranges.is_empty() {
        return String::new();
    }
    let list: Vec<String> = ranges
        .iter()
        .map(|r| format!("{:#x}+{}", r.offset, r.len))
        .collect();
    format!("; differing at {}", list.join(", "))
}

/// The multi-line body of a node (the unified diff), if any.
pub fn body(node: &DiffNode) -> Option<&str> {
    match &node.detail {
        Detail::TextDiff { unified, .. } => Some(unified),
        _ => None,
    }
}

/// The lines that present an explanation (shared by the text and HTML renderers): a
/// headline, then the accepted variations, what remains, and every rebuild tried.
pub fn explanation_lines(e: &explain::Explanation) -> (String, Vec<String>) {
    let head = format!(
        "explained: {} ({} → {}): {}",
        e.verdict.label(),
        e.class_before.label(),
        e.class_after.label(),
        e.summary
    );
    let mut lines = Vec::new();
    for a in &e.explained_by {
        lines.push(format!(
            "by {} [{}] → {}",
            a.variation,
            a.cause.label(),
            a.class.label()
        ));
    }
    for r in &e.remaining {
        lines.push(format!("remaining: {r}"));
    }
    for a in &e.tried {
        lines.push(format!(
            "tried {} [{}]: {} — {}{}",
            a.variation,
            a.cause.label(),
            a.class.label(),
            a.note,
            a.derivation
                .as_deref()
                .map(|d| format!(" (drv {})", short(d)))
                .unwrap_or_default()
        ));
    }
    lines.push(format!(
        "{} of at most {} rebuilds",
        e.rebuilds, e.max_rebuilds
    ));
    (head, lines)
}
