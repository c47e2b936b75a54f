//! The tree of differences produced by the engine and serialised into reports.
//!
//! Every node carries a [`Category`] that says what kind of difference it proves; a group's
//! category is the most severe of its children, so the root categories alone decide the
//! classification (see `classify`). Locations are human-readable paths such as
//! `data.tar.xz` → `./usr/bin/hello` → `.note.gnu.build-id`.

use serde::{Deserialize, Serialize};

use crate::limits::LimitHit;

/// What a difference proves, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// RPM only: the signature header (ours unsigned or signed by another key).
    Signature,
    /// RPM only: the build clock and host (`BUILDTIME`, `BUILDHOST`, file mtimes and the
    /// header tags derived from them, see `docs/report-format.md`).
    BuildMetadata,
    /// Archive headers only (ar/tar headers, mtimes, owners, compression of members).
    Metadata,
    /// A `control` field that records relations to other packages (`Depends`, `Pre-Depends`,
    /// `Breaks`, `Provides`, …): the versions of the build environment, not the code.
    Control,
    /// Only build-id related ELF sections (and what follows from them, e.g. md5sums).
    BuildId,
    /// Part of the input was not examined because a limit was hit.
    Inconclusive,
    /// Installed file content (or semantics such as link targets) differs.
    Content,
}

/// Where a header field lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldScope {
    ArHeader,
    TarHeader,
    GzipHeader,
    /// A tag of an RPM's signature header.
    RpmSignature,
    /// A tag of an RPM's main header (`TAG` or `TAG[/path]` for per-file arrays).
    RpmHeader,
    /// A field of a cpio entry header in an RPM payload.
    CpioHeader,
}

/// One ELF section as seen on one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionSummary {
    /// `sh_type` as its ELF constant name (`SHT_PROGBITS`) or hex.
    pub section_type: String,
    /// `sh_flags` in hex.
    pub flags: String,
    /// `sh_addr` in hex.
    pub addr: String,
    pub size: u64,
    /// BLAKE3 of the section's file bytes (empty data for `SHT_NOBITS`).
    pub blake3: String,
}

/// A half-open byte range `[offset, offset + len)` where two files differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteRange {
    pub offset: u64,
    pub len: u64,
}

/// The payload of a difference node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Detail {
    /// A container (ar member, tar entry, nested file) whose children hold the differences.
    Group,
    /// Present only in our rebuilt package.
    OnlyInOurs { what: String },
    /// Present only in the official package.
    OnlyInOfficial { what: String },
    /// A header field differs.
    Field {
        scope: FieldScope,
        field: String,
        ours: String,
        official: String,
    },
    /// Same members/entries in a different order; first position that differs.
    Order {
        position: u64,
        ours: String,
        official: String,
    },
    /// Compressed bytes differ but the decompressed streams are identical.
    CompressedOnly { format: String },
    /// An ELF section differs (or exists on one side only).
    ElfSection {
        name: String,
        ours: Option<SectionSummary>,
        official: Option<SectionSummary>,
    },
    /// ELF bytes outside all sections (headers, program headers, padding) or the layout differ.
    ElfOther {
        description: String,
        ranges: Vec<ByteRange>,
    },
    /// The file looked like `format` on one side but could not be parsed; compared as bytes.
    NotParseable {
        format: String,
        side: String,
        reason: String,
    },
    /// A bounded unified diff of a text file (`---` official, `+++` ours).
    TextDiff { unified: String, truncated: bool },
    /// Bytes differ: sizes and the first differing ranges.
    Binary {
        ours_size: u64,
        official_size: u64,
        ranges: Vec<ByteRange>,
        ranges_truncated: bool,
    },
    /// A field of the `control` file differs (`None` = absent on that side).
    ControlField {
        field: String,
        ours: Option<String>,
        official: Option<String>,
    },
    /// An `md5sums` line differs; its category follows the data file it describes.
    Md5sums {
        path: String,
        ours: String,
        official: String,
        consistent_with_data: bool,
    },
    /// A limit was reached here.
    Limit { hit: LimitHit },
    /// Further differences were omitted to keep the report bounded.
    Omitted { count: u64 },
}

/// A node in the tree of differences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffNode {
    /// Human-readable location of this node relative to its parent.
    pub location: String,
    /// The most severe category in this subtree.
    pub category: Category,
    pub detail: Detail,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<DiffNode>,
}

impl DiffNode {
    /// A leaf node.
    pub fn leaf(location: impl Into<String>, category: Category, detail: Detail) -> Self {
        Self {
            location: location.into(),
            category,
            detail,
            children: Vec::new(),
        }
    }

    /// A group node; `None` when there are no children (nothing differs).
    pub fn group(location: impl Into<String>, children: Vec<DiffNode>) -> Option<Self> {
        let category = max_category(&children)?;
        Some(Self {
            location: location.into(),
            category,
            detail: Detail::Group,
            children,
        })
    }

    /// Number of nodes in this subtree.
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(DiffNode::count).sum::<usize>()
    }

    /// Visits every node depth-first with its path of locations.
    pub fn walk<'a>(
        &'a self,
        path: &mut Vec<&'a str>,
        f: &mut dyn FnMut(&[&'a str], &'a DiffNode),
    ) {
        path.push(&self.location);
        f(path, self);
        for child in &self.children {
            child.walk(path, f);
        }
        path.pop();
    }
}

/// The most severe category among `nodes`, `None` if empty.
pub fn max_category(nodes: &[DiffNode]) -> Option<Category> {
    nodes.iter().map(|n| n.category).max()
}

/// Keeps at most `budget` nodes (depth first); the rest is replaced by [`Detail::Omitted`]
/// nodes that keep the most severe omitted category, so classification is unchanged.
pub fn prune(nodes: &mut Vec<DiffNode>, budget: &mut usize) {
    let mut kept = Vec::new();
    let mut omitted_count = 0u64;
    let mut omitted_cat: Option<Category> = None;
    for mut node in nodes.drain(..) {
        if *budget == 0 {
            omitted_count += node.count() as u64;
            omitted_cat = omitted_cat.max(Some(node.category));
            continue;
        }
        *budget -= 1;
        prune(&mut node.children, budget);
        kept.push(node);
    }
    if let Some(category) = omitted_cat {
        kept.push(DiffNode::leaf(
            "…",
            category,
            Detail::Omitted {
                count: omitted_count,
            },
        ));
    }
    *nodes = kept;
}

/// Lossless-enough display of a byte path: UTF-8 as is, other bytes as `\xNN`.
pub fn display_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}
