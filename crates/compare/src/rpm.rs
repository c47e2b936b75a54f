//! Comparison of two `.rpm` files ([`compare_rpms`]) into the same tree of differences and
//! result type as `.deb`s ([`DebComparison`], alias [`PackageComparison`]).
//!
//! Order of work: the payload file by file first (cpio headers, then contents through the
//! shared dispatcher: ELF per section, gzip, text, bytes), so that header tags that only
//! record the payload (`FILEDIGESTS[path]`, `PAYLOADDIGEST`) take the category of the
//! payload difference they follow from; then every main-header tag; the signature header is
//! reported apart, as category `signature`. Categories are documented in
//! `docs/report-format.md` §5.

use std::collections::{BTreeMap, BTreeSet};

use cryo_rpm::package::{
    self as rpmpkg, tags, FileEntry, HeaderKind, Package, PayloadFile, RpmError, Tag, Value,
};

use crate::content::{self, Ctx};
use crate::deb::{CompareError, DebComparison, DebInfo, PackageId, Side};
use crate::diff::{display_bytes, prune, Category, Detail, DiffNode, FieldScope};
use crate::limits::{LimitKind, Limits};

/// The comparison result of any package format (`.deb` or `.rpm`).
pub type PackageComparison = DebComparison;

/// Main-header tags that record only the build clock or host: `BUILDTIME`, `BUILDHOST`,
/// `COOKIE` (rpmbuild writes `"<BUILDHOST> <BUILDTIME>"`) and `FILEMTIMES` (clamped to
/// `SOURCE_DATE_EPOCH` or the time files were written).
const BUILD_METADATA_TAGS: [Tag; 4] = [
    tags::BUILDTIME,
    tags::BUILDHOST,
    tags::COOKIE,
    tags::FILEMTIMES,
];

/// Per-file arrays, compared per path (`FILEDIGESTS[/usr/bin/x]`).
const PER_FILE: [&str; 22] = [
    "FILESIZES",
    "FILESTATES",
    "FILEMODES",
    "FILEUIDS",
    "FILEGIDS",
    "FILERDEVS",
    "FILEMTIMES",
    "FILEDIGESTS",
    "FILELINKTOS",
    "FILEFLAGS",
    "FILEUSERNAME",
    "FILEGROUPNAME",
    "FILEVERIFYFLAGS",
    "FILEDEVICES",
    "FILEINODES",
    "FILELANGS",
    "FILECOLORS",
    "FILECLASS",
    "FILEDEPENDSX",
    "FILEDEPENDSN",
    "LONGFILESIZES",
    "FILECAPS",
];

/// Tags that encode the file list's paths (compared as the file set, in the payload).
const PATH_TAGS: [Tag; 4] = [
    tags::BASENAMES,
    tags::DIRNAMES,
    tags::DIRINDEXES,
    tags::OLDFILENAMES,
];

/// Longest rendering of one tag value in a report.
const MAX_VALUE_CHARS: usize = 512;

/// Whether `bytes` starts like an RPM package (lead magic).
pub fn looks_like_rpm(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xed, 0xab, 0xee, 0xdb])
}

/// Compares two packages of the same format, dispatching on the file type: `.rpm` (lead
/// magic) to [`compare_rpms`], anything else to [`crate::compare_debs`].
pub fn compare_packages(
    ours: &[u8],
    official: &[u8],
    limits: &Limits,
) -> Result<PackageComparison, CompareError> {
    if looks_like_rpm(official) || looks_like_rpm(ours) {
        compare_rpms(ours, official, limits)
    } else {
        crate::compare_debs(ours, official, limits)
    }
}

/// Compares our rebuilt `.rpm` with the official one, bit for bit, explaining every
/// difference. Errors only when a package is structurally unreadable; limits make the
/// comparison inconclusive instead.
pub fn compare_rpms(
    ours: &[u8],
    official: &[u8],
    limits: &Limits,
) -> Result<PackageComparison, CompareError> {
    let mut ctx = Ctx::new(limits);
    let mut result = DebComparison {
        ours: info(ours),
        official: info(official),
        package: None,
        differences: Vec::new(),
        limits_hit: Vec::new(),
    };
    for (side, bytes) in [(Side::Ours, ours), (Side::Official, official)] {
        if bytes.len() as u64 > limits.max_input_size {
            result
                .differences
                .push(ctx.hit(LimitKind::InputSize, &format!("{side} .rpm")));
        }
    }
    if result.differences.is_empty() && ours != official {
        let rl = rpm_limits(limits);
        let parse = |side, bytes| {
            Package::parse(bytes, &rl).map_err(|source| CompareError::Rpm { side, source })
        };
        let a = parse(Side::Ours, ours)?;
        let b = parse(Side::Official, official)?;
        result.package = b.nevra().or_else(|_| a.nevra()).ok().map(|n| PackageId {
            package: n.name,
            version: match n.epoch {
                Some(e) => format!("{e}:{}-{}", n.version, n.release),
                None => format!("{}-{}", n.version, n.release),
            },
            architecture: n.arch,
        });
        result.differences = compare_parsed(&mut ctx, &a, &b)?;
        if result.differences.is_empty() {
            result.differences.push(DiffNode::leaf(
                ".rpm bytes",
                Category::Content,
                crate::binary::binary_detail(ours, official, limits.max_offsets_listed),
            ));
        }
    } else if ours == official {
        let rl = rpm_limits(limits);
        if let Ok(p) = Package::parse(official, &rl) {
            result.package = p.nevra().ok().map(|n| PackageId {
                package: n.name,
                version: format!("{}-{}", n.version, n.release),
                architecture: n.arch,
            });
        }
    }
    let mut budget = limits.max_differences;
    let total: usize = result.differences.iter().map(DiffNode::count).sum();
    if total > budget {
        prune(&mut result.differences, &mut budget);
        ctx.hit(LimitKind::Differences, ".rpm");
    }
    ctx.hits.sort();
    ctx.hits.dedup();
    result.limits_hit = ctx.hits;
    Ok(result)
}

fn info(bytes: &[u8]) -> DebInfo {
    use sha2::{Digest, Sha256};
    DebInfo {
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
    }
}

fn rpm_limits(limits: &Limits) -> rpmpkg::Limits {
    rpmpkg::Limits {
        max_package_size: limits.max_input_size,
        max_files: limits.max_entries as usize,
        max_file_size: limits.max_decompressed_size,
        max_payload_size: limits.max_decompressed_size,
        decoder: cryo_debian::compression::DecoderLimits {
            xz_memlimit: limits.xz_memlimit,
            zstd_window_log_max: limits.zstd_window_log_max,
        },
        ..rpmpkg::Limits::default()
    }
}

fn compare_parsed(
    ctx: &mut Ctx<'_>,
    ours: &Package<'_>,
    official: &Package<'_>,
) -> Result<Vec<DiffNode>, CompareError> {
    let mut nodes = Vec::new();
    // The signature header, apart.
    let sig = compare_headers(
        &ours.signature.entries,
        &official.signature.entries,
        |_| (Category::Signature, FieldScope::RpmSignature),
        HeaderKind::Signature,
    );
    nodes.extend(DiffNode::group("signature header", sig));
    // The payload, file by file.
    let payload = compare_payloads(ctx, ours, official)?;
    let payload_cat = crate::diff::max_category(&payload.nodes);
    // The main header, tag by tag.
    let files_o = ours.files().map_err(|source| rpm_err(Side::Ours, source))?;
    let files_t = official
        .files()
        .map_err(|source| rpm_err(Side::Official, source))?;
    // Whole-value tags first (BUILDTIME, BUILDHOST, … are named first in explanations),
    // then the per-file arrays.
    let mut header = compare_headers(
        &filtered(&ours.header.entries),
        &filtered(&official.header.entries),
        |tag| {
            let cat = if BUILD_METADATA_TAGS.contains(&tag) {
                Category::BuildMetadata
            } else if tag == tags::PAYLOADDIGEST || tag == tags::PAYLOADDIGESTALT {
                // The digests follow the payload: compressed-only differences make only
                // PAYLOADDIGEST differ (metadata); otherwise the payload's own category.
                payload_cat.unwrap_or(if payload.compressed_differ {
                    Category::Metadata
                } else {
                    Category::Content
                })
            } else {
                Category::Content
            };
            (cat, FieldScope::RpmHeader)
        },
        HeaderKind::Main,
    );
    header.extend(per_file_tags(
        ours,
        official,
        &files_o,
        &files_t,
        &payload.per_file,
    ));
    nodes.extend(DiffNode::group("header", header));
    let mut payload_nodes = payload.nodes;
    if payload_nodes.is_empty() && payload.compressed_differ {
        payload_nodes.push(DiffNode::leaf(
            "compressed stream",
            Category::Metadata,
            Detail::CompressedOnly {
                format: official
                    .compressor()
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
            },
        ));
    }
    nodes.extend(DiffNode::group("payload", payload_nodes));
    Ok(nodes)
}

fn rpm_err(side: Side, source: RpmError) -> CompareError {
    CompareError::Rpm { side, source }
}

/// Main-header entries compared as whole values: all but the region tag, the per-file
/// arrays and the path tags (those are compared per file).
fn filtered(entries: &[rpmpkg::Entry]) -> Vec<rpmpkg::Entry> {
    entries
        .iter()
        .filter(|e| {
            e.tag != tags::HEADERIMMUTABLE
                && !PATH_TAGS.contains(&e.tag)
                && !PER_FILE.contains(&HeaderKind::Main.tag_name(e.tag).as_str())
        })
        .cloned()
        .collect()
}

fn show(v: Option<&Value>) -> String {
    let mut s = match v {
        None => "(absent)".to_owned(),
        Some(v) => v.display(),
    };
    if s.chars().count() > MAX_VALUE_CHARS {
        let total = s.len();
        s = s.chars().take(MAX_VALUE_CHARS).collect();
        s.push_str(&format!("… ({total} bytes)"));
    }
    s
}

/// Every tag whose value differs (or exists on one side only), in tag order.
fn compare_headers(
    ours: &[rpmpkg::Entry],
    official: &[rpmpkg::Entry],
    category: impl Fn(Tag) -> (Category, FieldScope),
    kind: HeaderKind,
) -> Vec<DiffNode> {
    let map = |entries: &[rpmpkg::Entry]| -> BTreeMap<Tag, Value> {
        let mut m = BTreeMap::new();
        for e in entries {
            if e.tag == tags::HEADERSIGNATURES {
                continue;
            }
            m.entry(e.tag).or_insert_with(|| e.value());
        }
        m
    };
    let (a, b) = (map(ours), map(official));
    let all: BTreeSet<Tag> = a.keys().chain(b.keys()).copied().collect();
    let mut out = Vec::new();
    for tag in all {
        let (x, y) = (a.get(&tag), b.get(&tag));
        if x == y {
            continue;
        }
        let (cat, scope) = category(tag);
        let name = kind.tag_name(tag);
        out.push(DiffNode::leaf(
            name.clone(),
            cat,
            Detail::Field {
                scope,
                field: name,
                ours: show(x),
                official: show(y),
            },
        ));
    }
    out
}

/// Per-file arrays compared per path present on both sides. `FILEMTIMES` is build
/// metadata; `FILEDIGESTS`/sizes follow the payload category of their file.
fn per_file_tags(
    ours: &Package<'_>,
    official: &Package<'_>,
    files_o: &[FileEntry],
    files_t: &[FileEntry],
    per_file: &BTreeMap<Vec<u8>, Category>,
) -> Vec<DiffNode> {
    let index = |files: &[FileEntry]| -> BTreeMap<Vec<u8>, usize> {
        files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect()
    };
    let (io, it) = (index(files_o), index(files_t));
    let items = |v: &Value| -> Vec<String> {
        match v {
            Value::StringArray(s) | Value::I18nString(s) => {
                s.iter().map(|x| display_bytes(x)).collect()
            }
            other => other
                .integers()
                .map(|i| i.iter().map(u64::to_string).collect())
                .unwrap_or_else(|| vec![other.display()]),
        }
    };
    let mut out = Vec::new();
    for name in PER_FILE {
        let Some(tag) = tags::by_name(name) else {
            continue;
        };
        let (vo, vt) = (ours.header.value(tag), official.header.value(tag));
        if vo == vt {
            continue;
        }
        let (xo, xt) = (
            vo.as_ref().map(items).unwrap_or_default(),
            vt.as_ref().map(items).unwrap_or_default(),
        );
        let per_path = xo.len() == files_o.len() && xt.len() == files_t.len();
        if !per_path {
            out.push(DiffNode::leaf(
                name,
                Category::Content,
                Detail::Field {
                    scope: FieldScope::RpmHeader,
                    field: name.to_owned(),
                    ours: show(vo.as_ref()),
                    official: show(vt.as_ref()),
                },
            ));
            continue;
        }
        for (path, &j) in &it {
            let Some(&i) = io.get(path) else { continue };
            if xo[i] == xt[j] {
                continue;
            }
            let cat = if tag == tags::FILEMTIMES {
                Category::BuildMetadata
            } else if tag == tags::FILEINODES {
                Category::Metadata
            } else if matches!(name, "FILEDIGESTS" | "FILESIZES" | "LONGFILESIZES") {
                per_file.get(path).copied().unwrap_or(Category::Content)
            } else {
                Category::Content
            };
            let field = format!("{name}[{}]", display_bytes(path));
            out.push(DiffNode::leaf(
                field.clone(),
                cat,
                Detail::Field {
                    scope: FieldScope::RpmHeader,
                    field,
                    ours: xo[i].clone(),
                    official: xt[j].clone(),
                },
            ));
        }
    }
    out
}

struct PayloadResult {
    nodes: Vec<DiffNode>,
    /// Most severe category per path with a difference.
    per_file: BTreeMap<Vec<u8>, Category>,
    compressed_differ: bool,
}

/// Reads one side's payload into memory under the comparison's budget.
fn read_payload(
    ctx: &mut Ctx<'_>,
    side: Side,
    pkg: &Package<'_>,
) -> Result<Result<BTreeMap<Vec<u8>, PayloadFile>, LimitKind>, CompareError> {
    let mut out = BTreeMap::new();
    let reader = pkg
        .payload_reader()
        .map_err(|source| rpm_err(side, source))?;
    for file in reader {
        let file = match file {
            Ok(f) => f,
            Err(RpmError::PayloadLimit { .. }) => return Ok(Err(LimitKind::DecompressedSize)),
            Err(source) => return Err(rpm_err(side, source)),
        };
        let n = file.content.len() as u64;
        if n > ctx.total_left {
            return Ok(Err(LimitKind::TotalDecompressed));
        }
        ctx.spend(n);
        out.insert(file.entry.path.clone(), file);
    }
    Ok(Ok(out))
}

fn compare_payloads(
    ctx: &mut Ctx<'_>,
    ours: &Package<'_>,
    official: &Package<'_>,
) -> Result<PayloadResult, CompareError> {
    let mut result = PayloadResult {
        nodes: Vec::new(),
        per_file: BTreeMap::new(),
        compressed_differ: ours.payload != official.payload,
    };
    if !result.compressed_differ {
        return Ok(result);
    }
    let co = ours.compressor().map_err(|s| rpm_err(Side::Ours, s))?;
    let ct = official
        .compressor()
        .map_err(|s| rpm_err(Side::Official, s))?;
    if co != ct {
        result.nodes.push(DiffNode::leaf(
            "PAYLOADCOMPRESSOR",
            Category::Metadata,
            Detail::Field {
                scope: FieldScope::RpmHeader,
                field: "compressor".into(),
                ours: co.to_string(),
                official: ct.to_string(),
            },
        ));
    }
    let a = match read_payload(ctx, Side::Ours, ours)? {
        Ok(a) => a,
        Err(limit) => {
            result.nodes.push(ctx.hit(limit, "our payload"));
            return Ok(result);
        }
    };
    let b = match read_payload(ctx, Side::Official, official)? {
        Ok(b) => b,
        Err(limit) => {
            result.nodes.push(ctx.hit(limit, "official payload"));
            return Ok(result);
        }
    };
    let paths: BTreeSet<&Vec<u8>> = a.keys().chain(b.keys()).collect();
    for path in paths {
        let shown = display_bytes(path);
        let node = match (a.get(path), b.get(path)) {
            (Some(_), None) => Some(DiffNode::leaf(
                shown.clone(),
                Category::Content,
                Detail::OnlyInOurs {
                    what: shown.clone(),
                },
            )),
            (None, Some(_)) => Some(DiffNode::leaf(
                shown.clone(),
                Category::Content,
                Detail::OnlyInOfficial {
                    what: shown.clone(),
                },
            )),
            (Some(x), Some(y)) => {
                let mut children = cpio_fields(x, y);
                children.extend(content::compare(ctx, &shown, &x.content, &y.content, 1));
                DiffNode::group(shown.clone(), children)
            }
            (None, None) => None,
        };
        if let Some(node) = node {
            result.per_file.insert(path.clone(), node.category);
            result.nodes.push(node);
        }
    }
    Ok(result)
}

/// cpio header fields: mode/uid/gid/nlink/rdev are content, the mtime is build metadata,
/// the inode number is metadata.
fn cpio_fields(ours: &PayloadFile, official: &PayloadFile) -> Vec<DiffNode> {
    let (x, y) = (&ours.entry, &official.entry);
    let fields: [(&str, String, String, Category); 5] = [
        (
            "mode",
            format!("{:o}", x.mode),
            format!("{:o}", y.mode),
            Category::Content,
        ),
        (
            "uid:gid",
            format!("{}:{}", x.uid, x.gid),
            format!("{}:{}", y.uid, y.gid),
            Category::Content,
        ),
        (
            "nlink",
            x.nlink.to_string(),
            y.nlink.to_string(),
            Category::Content,
        ),
        (
            "mtime",
            x.mtime.to_string(),
            y.mtime.to_string(),
            Category::BuildMetadata,
        ),
        (
            "ino",
            x.ino.to_string(),
            y.ino.to_string(),
            Category::Metadata,
        ),
    ];
    fields
        .into_iter()
        .filter(|(_, o, t, _)| o != t)
        .map(|(name, o, t, cat)| {
            DiffNode::leaf(
                format!("cpio {name}"),
                cat,
                Detail::Field {
                    scope: FieldScope::CpioHeader,
                    field: name.into(),
                    ours: o,
                    official: t,
                },
            )
        })
        .collect()
}
