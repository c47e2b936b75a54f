//! Comparison of two whole `.deb` files: the entry point [`compare_debs`], its result
//! [`DebComparison`] and the error type for inputs that are not readable packages.
//!
//! Order of work: ar headers → `debian-binary` and other plain members → `data.tar` →
//! `control.tar` (last, because `md5sums` lines are classified by the data files they
//! describe). Everything happens in memory under [`Limits`]; nothing touches the disk.

use std::collections::BTreeMap;
use std::fmt;

use cryo_debian::compression::{self, CompressionError, DecoderLimits};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ar::{self, ArError, ArMember};
use crate::classify::{classify, Classification};
use crate::content::{self, Ctx};
use crate::diff::{prune, Category, Detail, DiffNode};
use crate::limits::{LimitHit, LimitKind, Limits};
use crate::listing::{self, DataView, Stream};
use crate::tar::{self, TarError, TarListing};

/// Which input a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Ours,
    Official,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Ours => "our",
            Side::Official => "official",
        })
    }
}

/// Why two inputs could not be compared (a malformed or truncated package).
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("{side} .deb is not a well-formed Debian package")]
    Ar {
        side: Side,
        #[source]
        source: ArError,
    },
    #[error("{side} .deb member {member} cannot be decompressed")]
    Decompress {
        side: Side,
        member: String,
        #[source]
        source: CompressionError,
    },
    #[error("{side} .rpm is not a readable RPM package")]
    Rpm {
        side: Side,
        #[source]
        source: cryo_rpm::package::RpmError,
    },
    #[error("{side} .deb member {member} is not a readable tar stream")]
    Tar {
        side: Side,
        member: String,
        #[source]
        source: TarError,
    },
}

/// Size and SHA-256 of one input `.deb`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebInfo {
    pub size: u64,
    pub sha256: String,
}

impl DebInfo {
    fn of(bytes: &[u8]) -> Self {
        Self {
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }
}

/// Package, Version and Architecture from the official package's `control` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageId {
    pub package: String,
    pub version: String,
    pub architecture: String,
}

/// The result of comparing our `.deb` with the official one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebComparison {
    pub ours: DebInfo,
    pub official: DebInfo,
    /// Identity read from the official control file (ours if the official one lacks it).
    pub package: Option<PackageId>,
    pub differences: Vec<DiffNode>,
    pub limits_hit: Vec<LimitHit>,
}

impl DebComparison {
    /// The verdict and its one-line explanation.
    pub fn classification(&self) -> Classification {
        classify(&self.differences)
    }
}

/// Compares our rebuilt `.deb` with the official one, bit for bit, explaining every difference.
///
/// Errors only when a package is structurally unreadable (not ar, truncated, members
/// missing or out of dpkg's order, corrupt compression or tar); limits produce an
/// inconclusive comparison instead.
pub fn compare_debs(
    ours: &[u8],
    official: &[u8],
    limits: &Limits,
) -> Result<DebComparison, CompareError> {
    let mut ctx = Ctx::new(limits);
    let mut result = DebComparison {
        ours: DebInfo::of(ours),
        official: DebInfo::of(official),
        package: None,
        differences: Vec::new(),
        limits_hit: Vec::new(),
    };
    for (side, bytes) in [(Side::Ours, ours), (Side::Official, official)] {
        if bytes.len() as u64 > limits.max_input_size {
            result
                .differences
                .push(ctx.hit(LimitKind::InputSize, &format!("{side} .deb")));
        }
    }
    if result.differences.is_empty() {
        result.differences = compare_members(&mut ctx, ours, official, &mut result.package)?;
        if result.differences.is_empty() && ours != official {
            result.differences.push(DiffNode::leaf(
                ".deb bytes",
                Category::Content,
                crate::binary::binary_detail(ours, official, limits.max_offsets_listed),
            ));
        }
    }
    let mut budget = limits.max_differences;
    let total: usize = result.differences.iter().map(DiffNode::count).sum();
    if total > budget {
        prune(&mut result.differences, &mut budget);
        ctx.hit(LimitKind::Differences, ".deb");
    }
    ctx.hits.sort();
    ctx.hits.dedup();
    result.limits_hit = ctx.hits;
    Ok(result)
}

/// The members of one side; the reader guarantees `debian-binary`, `control.tar*` and
/// `data.tar*`, in that order.
fn parse_ar(side: Side, bytes: &[u8], limits: &Limits) -> Result<Vec<ArMember>, CompareError> {
    ar::parse(bytes, limits.max_entries).map_err(|source| CompareError::Ar { side, source })
}

fn member<'m>(members: &'m [ArMember], role: &str) -> Option<&'m ArMember> {
    members.iter().find(|m| m.role() == role)
}

fn compare_members(
    ctx: &mut Ctx<'_>,
    ours: &[u8],
    official: &[u8],
    package: &mut Option<PackageId>,
) -> Result<Vec<DiffNode>, CompareError> {
    let a = parse_ar(Side::Ours, ours, ctx.limits)?;
    let b = parse_ar(Side::Official, official, ctx.limits)?;
    let mut nodes = ar::compare_headers(&a, &b);
    // Plain members (debian-binary, signatures, ...) are compared as file contents.
    for theirs in b
        .iter()
        .filter(|m| !matches!(m.role(), "control.tar" | "data.tar"))
    {
        if let Some(mine) = member(&a, theirs.role()) {
            let children = content::compare(ctx, &theirs.name, &mine.data, &theirs.data, 0);
            nodes.extend(DiffNode::group(theirs.name.clone(), children));
        }
    }
    let mut unpacked = BTreeMap::new();
    for role in ["data.tar", "control.tar"] {
        for (side, members) in [(Side::Ours, &a), (Side::Official, &b)] {
            if let Some(m) = member(members, role) {
                unpacked.insert((role, side), unpack(ctx, side, m)?);
            }
        }
    }
    let get = |role, side| {
        unpacked
            .get(&(role, side))
            .and_then(|u: &Unpacked| u.bytes.as_deref())
    };
    // Identity first, so that even an inconclusive comparison names its package.
    for side in [Side::Official, Side::Ours] {
        if package.is_none() {
            let listing = get("control.tar", side).and_then(|c| tar::parse(c, ctx.limits).ok());
            *package = listing.as_ref().and_then(package_id);
        }
    }
    let (Some(od), Some(td), Some(oc), Some(tc)) = (
        get("data.tar", Side::Ours),
        get("data.tar", Side::Official),
        get("control.tar", Side::Ours),
        get("control.tar", Side::Official),
    ) else {
        // A limit stopped decompression of at least one stream: nothing more can be proven.
        for ((role, side), u) in &unpacked {
            if let Some(limit) = u.limit {
                nodes.push(ctx.hit(limit, &format!("{side} {role}")));
            }
        }
        return Ok(nodes);
    };
    let parse = |side, name: &str, bytes| {
        tar::parse(bytes, ctx.limits).map_err(|source| CompareError::Tar {
            side,
            member: name.to_owned(),
            source,
        })
    };
    let data_name = member(&b, "data.tar").map_or("data.tar", |m| m.name.as_str());
    let control_name = member(&b, "control.tar").map_or("control.tar", |m| m.name.as_str());
    let (dl_o, dl_t) = (
        parse(Side::Ours, data_name, od)?,
        parse(Side::Official, data_name, td)?,
    );
    let (cl_o, cl_t) = (
        parse(Side::Ours, control_name, oc)?,
        parse(Side::Official, control_name, tc)?,
    );
    let limited = [
        (&dl_o, data_name),
        (&dl_t, data_name),
        (&cl_o, control_name),
        (&cl_t, control_name),
    ]
    .into_iter()
    .filter_map(|(l, name)| l.limit.map(|k| (k, name)))
    .collect::<Vec<_>>();
    if !limited.is_empty() {
        for (kind, name) in limited {
            nodes.push(ctx.hit(kind, name));
        }
        return Ok(nodes);
    }
    let (data_nodes, categories) = listing::compare(
        ctx,
        data_name,
        Stream {
            bytes: od,
            listing: &dl_o,
        },
        Stream {
            bytes: td,
            listing: &dl_t,
        },
        None,
    );
    let view = DataView {
        ours: &dl_o,
        official: &dl_t,
        categories: &categories,
    };
    let (control_nodes, _) = listing::compare(
        ctx,
        control_name,
        Stream {
            bytes: oc,
            listing: &cl_o,
        },
        Stream {
            bytes: tc,
            listing: &cl_t,
        },
        Some(&view),
    );
    for (role, name, mut children) in [
        ("control.tar", control_name, control_nodes),
        ("data.tar", data_name, data_nodes),
    ] {
        let compressed_differ =
            member(&a, role).map(|m| &m.data) != member(&b, role).map(|m| &m.data);
        if children.is_empty() && compressed_differ {
            let format = member(&b, role).map_or("", |m| m.name.rsplit('.').next().unwrap_or(""));
            children.push(DiffNode::leaf(
                "compressed stream",
                Category::Metadata,
                Detail::CompressedOnly {
                    format: format.into(),
                },
            ));
        }
        nodes.extend(DiffNode::group(name, children));
    }
    Ok(nodes)
}

struct Unpacked {
    bytes: Option<Vec<u8>>,
    limit: Option<LimitKind>,
}

fn unpack(ctx: &mut Ctx<'_>, side: Side, m: &ArMember) -> Result<Unpacked, CompareError> {
    let (cap, cap_kind) = if ctx.total_left < ctx.limits.max_decompressed_size {
        (ctx.total_left, LimitKind::TotalDecompressed)
    } else {
        (
            ctx.limits.max_decompressed_size,
            LimitKind::DecompressedSize,
        )
    };
    let decoder = DecoderLimits {
        xz_memlimit: ctx.limits.xz_memlimit,
        zstd_window_log_max: ctx.limits.zstd_window_log_max,
    };
    let stopped = |limit| Unpacked {
        bytes: None,
        limit: Some(limit),
    };
    match compression::decompress_with(&m.data, m.compression, cap, &decoder) {
        Ok(bytes) => {
            ctx.spend(bytes.len() as u64);
            Ok(Unpacked {
                bytes: Some(bytes),
                limit: None,
            })
        }
        Err(CompressionError::TooLarge { .. }) => {
            // The cap's worth was decompressed before the limit stopped it.
            ctx.spend(cap);
            Ok(stopped(cap_kind))
        }
        Err(CompressionError::MemoryLimit { .. }) => Ok(stopped(LimitKind::DecoderMemory)),
        Err(source) => Err(CompareError::Decompress {
            side,
            member: m.name.clone(),
            source,
        }),
    }
}

fn package_id(control: &TarListing<'_>) -> Option<PackageId> {
    let text = std::str::from_utf8(&control.entries.get("control")?.content).ok()?;
    let field = |name: &str| {
        text.lines().take_while(|l| !l.is_empty()).find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix(':')
                .map(|v| v.trim().to_owned())
        })
    };
    Some(PackageId {
        package: field("Package")?,
        version: field("Version")?,
        architecture: field("Architecture")?,
    })
}
