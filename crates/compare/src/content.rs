//! The content dispatcher: compares two file bodies as ELF, gzip, text or raw bytes, with a
//! shared budget of decompressed bytes and a nesting depth limit.
//!
//! Any difference found here means the installed file's bytes differ, so it is
//! [`Category::Content`] unless the ELF comparison proves it is build-id-only.

use crate::binary::binary_detail;
use crate::diff::{Category, Detail, DiffNode};
use crate::limits::{LimitHit, LimitKind, Limits};
use crate::{elf, gzip, text};

/// Mutable state shared by one comparison: limits, remaining budget, limits hit.
#[derive(Debug)]
pub struct Ctx<'l> {
    pub limits: &'l Limits,
    /// Decompressed bytes still allowed (both sides together).
    pub total_left: u64,
    pub hits: Vec<LimitHit>,
}

impl<'l> Ctx<'l> {
    pub fn new(limits: &'l Limits) -> Self {
        Self {
            limits,
            total_left: limits.max_total_decompressed,
            hits: Vec::new(),
        }
    }

    /// Records a limit hit and returns the node that reports it.
    pub fn hit(&mut self, limit: LimitKind, location: &str) -> DiffNode {
        let value = match limit {
            LimitKind::InputSize => self.limits.max_input_size,
            LimitKind::DecompressedSize => self.limits.max_decompressed_size,
            LimitKind::TotalDecompressed => self.limits.max_total_decompressed,
            LimitKind::Entries => self.limits.max_entries,
            LimitKind::Depth => u64::from(self.limits.max_depth),
            LimitKind::DiffLines => self.limits.max_diff_lines as u64,
            LimitKind::TextDiffSize => self.limits.max_text_diff_size,
            LimitKind::SectionsListed => self.limits.max_sections_listed as u64,
            LimitKind::OffsetsListed => self.limits.max_offsets_listed as u64,
            LimitKind::Differences => self.limits.max_differences as u64,
            LimitKind::DecoderMemory => self.limits.xz_memlimit,
        };
        let hit = LimitHit {
            limit,
            value,
            location: location.to_owned(),
        };
        self.hits.push(hit.clone());
        DiffNode::leaf(
            "limit reached",
            Category::Inconclusive,
            Detail::Limit { hit },
        )
    }

    /// Takes `n` bytes from the decompression budget.
    pub fn spend(&mut self, n: u64) {
        self.total_left = self.total_left.saturating_sub(n);
    }
}

/// Compares two file bodies; empty when identical. `location` names the file for limit
/// records and diff headers; `depth` is the current nesting level.
pub fn compare(
    ctx: &mut Ctx<'_>,
    location: &str,
    ours: &[u8],
    official: &[u8],
    depth: u32,
) -> Vec<DiffNode> {
    if ours == official {
        return Vec::new();
    }
    let max_offsets = ctx.limits.max_offsets_listed;
    let bytes = || {
        DiffNode::leaf(
            "bytes",
            Category::Content,
            binary_detail(ours, official, max_offsets),
        )
    };
    if depth > ctx.limits.max_depth {
        return vec![ctx.hit(LimitKind::Depth, location), bytes()];
    }
    if elf::looks_like_elf(ours) && elf::looks_like_elf(official) {
        return match elf::compare(ours, official, ctx.limits) {
            Ok(nodes) => nodes,
            Err(e) => vec![
                not_parseable("ELF", ours, official, &e.to_string()),
                bytes(),
            ],
        };
    }
    if gzip::looks_like_gzip(ours) && gzip::looks_like_gzip(official) {
        return compare_gzip(ctx, location, ours, official, depth);
    }
    if text::is_text(ours) && text::is_text(official) {
        let max = ctx.limits.max_text_diff_size;
        if ours.len() as u64 <= max && official.len() as u64 <= max {
            let (a, b) = (
                String::from_utf8_lossy(ours),
                String::from_utf8_lossy(official),
            );
            let detail = text::unified(&a, &b, location, ctx.limits.max_diff_lines);
            if let Detail::TextDiff {
                truncated: true, ..
            } = detail
            {
                ctx.hit(LimitKind::DiffLines, location);
            }
            return vec![DiffNode::leaf("text", Category::Content, detail)];
        }
        ctx.hit(LimitKind::TextDiffSize, location);
    }
    vec![bytes()]
}

fn not_parseable(format: &str, ours: &[u8], official: &[u8], reason: &str) -> DiffNode {
    let side = match (ours.is_empty(), official.is_empty()) {
        (true, _) => "ours",
        (_, true) => "official",
        _ => "ours or official",
    };
    DiffNode::leaf(
        format!("not parseable as {format}"),
        Category::Content,
        Detail::NotParseable {
            format: format.into(),
            side: side.into(),
            reason: reason.into(),
        },
    )
}

fn compare_gzip(
    ctx: &mut Ctx<'_>,
    location: &str,
    ours: &[u8],
    official: &[u8],
    depth: u32,
) -> Vec<DiffNode> {
    let max_offsets = ctx.limits.max_offsets_listed;
    let bytes = || {
        DiffNode::leaf(
            "bytes",
            Category::Content,
            binary_detail(ours, official, max_offsets),
        )
    };
    let cap = ctx.limits.max_decompressed_size.min(ctx.total_left / 2);
    let (a, b) = match (gzip::decode(ours, cap), gzip::decode(official, cap)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return vec![
                not_parseable("gzip", ours, official, &e.to_string()),
                bytes(),
            ]
        }
    };
    ctx.spend((a.payload.len() + b.payload.len()) as u64);
    let mut nodes: Vec<DiffNode> = gzip::header_differences(&a, &b)
        .into_iter()
        .map(|(field, o, t)| {
            DiffNode::leaf(
                format!("gzip header {field}"),
                Category::Content,
                Detail::Field {
                    scope: gzip::SCOPE,
                    field: field.into(),
                    ours: o,
                    official: t,
                },
            )
        })
        .collect();
    if a.truncated || b.truncated {
        let kind = if cap < ctx.limits.max_decompressed_size {
            LimitKind::TotalDecompressed
        } else {
            LimitKind::DecompressedSize
        };
        nodes.push(ctx.hit(kind, location));
        nodes.push(bytes());
        return nodes;
    }
    let inner_location = location.strip_suffix(".gz").unwrap_or(location).to_owned();
    let inner = compare(ctx, &inner_location, &a.payload, &b.payload, depth + 1);
    if inner.is_empty() && nodes.is_empty() {
        nodes.push(DiffNode::leaf(
            "deflate stream",
            Category::Content,
            Detail::CompressedOnly {
                format: "gzip".into(),
            },
        ));
    }
    nodes.extend(DiffNode::group("decompressed", inner));
    nodes
}
