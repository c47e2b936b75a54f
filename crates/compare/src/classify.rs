//! Classification of one binary package comparison into a [`ClassKind`] with a one-line
//! human explanation. The rules (documented in `docs/report-format.md`) only look at node
//! categories, so every rule is decided where the evidence is found.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::diff::{Category, Detail, DiffNode};

/// The verdict for one binary package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassKind {
    /// Bit-for-bit identical.
    Identical,
    /// RPM: everything but the signature header is identical (ours is unsigned or signed
    /// with another key).
    SignatureOnly,
    /// RPM: only the build clock and host differ (`BUILDTIME`, `BUILDHOST`, file mtimes and
    /// what rpm derives from them), besides the signature header.
    BuildMetadataOnly,
    /// Only archive metadata (timestamps, member compression, order) differs.
    MetadataOnly,
    /// The data is identical; only `control` fields that record dependency versions
    /// (`Depends`, `Pre-Depends`, `Breaks`, `Provides`, …) differ (and archive metadata).
    ControlOnly,
    /// Only build-id related ELF sections (and the md5sums lines they imply) differ.
    BuildIdOnly,
    /// File contents, permissions, ownership or the file set differ.
    Content,
    /// A limit stopped the comparison before a verdict could be proven.
    Inconclusive,
    /// Our rebuild failed (set by the caller).
    BuildFailed,
    /// The distribution has no binary to compare against (set by the caller).
    MissingUpstream,
}

impl ClassKind {
    /// Whether this verdict counts as "identical" in summaries: bit-for-bit, or an RPM
    /// whose only difference is the signature header (the vendor signs, we do not).
    pub fn is_identical(self) -> bool {
        matches!(self, Self::Identical | Self::SignatureOnly)
    }

    /// Whether this verdict counts as "differs" in summaries.
    pub fn is_difference(self) -> bool {
        matches!(
            self,
            Self::BuildMetadataOnly
                | Self::MetadataOnly
                | Self::ControlOnly
                | Self::BuildIdOnly
                | Self::Content
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Identical => "identical",
            Self::SignatureOnly => "signature-only",
            Self::BuildMetadataOnly => "build-metadata-only",
            Self::MetadataOnly => "metadata-only",
            Self::ControlOnly => "control-only",
            Self::BuildIdOnly => "build-id-only",
            Self::Content => "content",
            Self::Inconclusive => "inconclusive",
            Self::BuildFailed => "build-failed",
            Self::MissingUpstream => "missing-upstream",
        }
    }
}

/// A verdict with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    pub kind: ClassKind,
    pub explanation: String,
}

const MAX_NAMED: usize = 5;

/// Classifies a tree of differences (empty tree = identical).
pub fn classify(nodes: &[DiffNode]) -> Classification {
    let Some(worst) = crate::diff::max_category(nodes) else {
        return Classification {
            kind: ClassKind::Identical,
            explanation: "bit-for-bit identical".into(),
        };
    };
    let files = files_with(nodes, worst);
    let (kind, explanation) = match worst {
        Category::Signature => (
            ClassKind::SignatureOnly,
            format!("identical apart from the signature header: {}", join(&files)),
        ),
        Category::BuildMetadata => (
            ClassKind::BuildMetadataOnly,
            format!(
                "only the build clock and host differ: {}",
                join(&files)
            ),
        ),
        Category::Metadata => (
            ClassKind::MetadataOnly,
            format!("only archive metadata differs: {}", join(&files)),
        ),
        Category::Control => (
            ClassKind::ControlOnly,
            format!(
                "data identical: only dependency fields of control differ: {} (the build environment had other package versions)",
                join(&files)
            ),
        ),
        Category::BuildId => (
            ClassKind::BuildIdOnly,
            format!(
                "code identical: only build-id sections differ in {} (typically a toolchain version string difference)",
                join(&files)
            ),
        ),
        Category::Inconclusive => (
            ClassKind::Inconclusive,
            format!("inconclusive: a limit was reached at {}", join(&files)),
        ),
        Category::Content => (ClassKind::Content, format!("content differs: {}", join(&files))),
    };
    Classification { kind, explanation }
}

/// Collects "file (what)" descriptions for the leaves of category `cat`, grouped per file.
fn files_with(nodes: &[DiffNode], cat: Category) -> Vec<String> {
    let mut per_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut path = Vec::new();
    for node in nodes {
        node.walk(&mut path, &mut |p, n| {
            if !n.children.is_empty() || n.category != cat {
                return;
            }
            let (file, what) = describe(p, n);
            if !per_file.contains_key(&file) {
                order.push(file.clone());
            }
            let entry = per_file.entry(file).or_default();
            if !entry.contains(&what) {
                entry.push(what);
            }
        });
    }
    order
        .into_iter()
        .map(|file| {
            let whats = per_file.remove(&file).unwrap_or_default();
            if whats.is_empty() {
                file
            } else {
                format!("{file} ({})", join_with(&whats, ", "))
            }
        })
        .collect()
}

/// Splits a leaf's path into (file, what): the file is the tar entry (second level) when the
/// leaf lies inside one, else the top-level member; `what` names the differing part.
fn describe(path: &[&str], leaf: &DiffNode) -> (String, String) {
    let only_in = matches!(
        leaf.detail,
        Detail::OnlyInOurs { .. } | Detail::OnlyInOfficial { .. }
    );
    let file_index = if path.len() >= 3 || (path.len() == 2 && only_in) {
        1
    } else {
        0
    };
    let file = path.get(file_index).copied().unwrap_or_default().to_owned();
    let what = match &leaf.detail {
        Detail::ElfSection { name, .. } => name.clone(),
        Detail::Field { field, .. } | Detail::ControlField { field, .. } => field.clone(),
        Detail::Md5sums { path, .. } => path.clone(),
        Detail::OnlyInOurs { .. } => "only in ours".into(),
        Detail::OnlyInOfficial { .. } => "only in official".into(),
        Detail::Limit { hit } => format!("{:?} limit", hit.limit),
        _ => leaf.location.clone(),
    };
    (file, what)
}

fn join(items: &[String]) -> String {
    join_with(items, "; ")
}

/// Joins at most [`MAX_NAMED`] items, then says how many more there are.
fn join_with(items: &[String], sep: &str) -> String {
    let mut out = items
        .iter()
        .take(MAX_NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(sep);
    if items.len() > MAX_NAMED {
        out.push_str(&format!("{sep}and {} more", items.len() - MAX_NAMED));
    }
    out
}
