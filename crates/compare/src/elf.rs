//! ELF comparison per section (name, type, flags, address, size, content hash) with the
//! `object` crate, plus the bytes outside all sections (ELF header, program headers, section
//! header table, padding).
//!
//! A file is build-id-only exactly when its section layout is identical, the bytes outside
//! sections are identical and the only sections whose bytes differ are in
//! [`BUILD_ID_SECTIONS`]: everything else (code, data, headers) is then proven byte-identical.

use std::collections::BTreeMap;

use object::elf::{FileHeader32, FileHeader64};
use object::read::elf::{FileHeader, SectionHeader};
use object::{Endianness, FileKind};

use crate::binary::differing_ranges;
use crate::diff::{Category, Detail, DiffNode, SectionSummary};
use crate::limits::Limits;

/// Sections whose content is derived from the build's identity rather than its code.
pub const BUILD_ID_SECTIONS: [&str; 3] =
    [".note.gnu.build-id", ".gnu_debuglink", ".gnu_debugaltlink"];

/// Errors while reading an ELF file.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    #[error("not an ELF file")]
    NotElf,
    #[error("malformed ELF: {0}")]
    Malformed(#[from] object::read::Error),
}

/// Whether `data` starts with the ELF magic.
pub fn looks_like_elf(data: &[u8]) -> bool {
    data.starts_with(b"\x7fELF")
}

#[derive(Debug, Clone)]
struct Section<'a> {
    name: String,
    summary: SectionSummary,
    offset: u64,
    data: &'a [u8],
}

fn parse_sections<Elf: FileHeader<Endian = Endianness>>(
    data: &[u8],
) -> Result<Vec<Section<'_>>, ElfError> {
    let header = Elf::parse(data)?;
    let endian = header.endian()?;
    let table = header.sections(endian, data)?;
    let mut out = Vec::new();
    for sh in table.iter() {
        let name = crate::diff::display_bytes(table.section_name(endian, sh)?);
        let bytes = sh.data(endian, data)?;
        let sh_type = sh.sh_type(endian);
        let summary = SectionSummary {
            section_type: sh_type
                .name()
                .map_or_else(|| format!("{:#x}", sh_type.0), str::to_owned),
            flags: format!("{:#x}", sh.sh_flags(endian).0),
            addr: format!("{:#x}", sh.sh_addr(endian).into()),
            size: sh.sh_size(endian).into(),
            blake3: blake3::hash(bytes).to_hex().to_string(),
        };
        out.push(Section {
            name,
            summary,
            offset: sh.sh_offset(endian).into(),
            data: bytes,
        });
    }
    Ok(out)
}

fn sections(data: &[u8]) -> Result<Vec<Section<'_>>, ElfError> {
    match FileKind::parse(data) {
        Ok(FileKind::Elf32) => parse_sections::<FileHeader32<Endianness>>(data),
        Ok(FileKind::Elf64) => parse_sections::<FileHeader64<Endianness>>(data),
        _ => Err(ElfError::NotElf),
    }
}

/// The bytes of the first section named `name`; `None` when the file is no readable ELF or
/// has no such section.
pub fn section_bytes<'a>(data: &'a [u8], name: &str) -> Option<&'a [u8]> {
    sections(data)
        .ok()?
        .into_iter()
        .find(|s| s.name == name)
        .map(|s| s.data)
}

/// Keys sections by name (in file order), disambiguating repeated names with `#n`.
fn keyed<'s, 'a>(sections: &'s [Section<'a>]) -> Vec<(String, &'s Section<'a>)> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    sections
        .iter()
        .map(|s| {
            let n = seen.entry(s.name.as_str()).or_insert(0);
            *n += 1;
            let key = if *n == 1 {
                s.name.clone()
            } else {
                format!("{}#{n}", s.name)
            };
            (key, s)
        })
        .collect()
}

fn section_category(name: &str) -> Category {
    if BUILD_ID_SECTIONS.contains(&name) {
        Category::BuildId
    } else {
        Category::Content
    }
}

/// Compares two ELF files; `Err` when either side cannot be parsed as ELF.
pub fn compare(ours: &[u8], official: &[u8], limits: &Limits) -> Result<Vec<DiffNode>, ElfError> {
    let our_secs = sections(ours)?;
    let their_secs = sections(official)?;
    let (a_list, b_list) = (keyed(&our_secs), keyed(&their_secs));
    let a: BTreeMap<&str, &Section<'_>> = a_list.iter().map(|(k, s)| (k.as_str(), *s)).collect();
    let b: BTreeMap<&str, &Section<'_>> = b_list.iter().map(|(k, s)| (k.as_str(), *s)).collect();
    let mut section_nodes = Vec::new();
    // Official order first (the order readers know from `readelf -S`), then ours-only.
    for (key, s) in &b_list {
        let theirs = Some(s.summary.clone());
        let ours_s = a.get(key.as_str()).map(|o| o.summary.clone());
        if ours_s == theirs {
            continue;
        }
        let category = if ours_s.is_some() {
            section_category(&s.name)
        } else {
            Category::Content
        };
        section_nodes.push(DiffNode::leaf(
            key.clone(),
            category,
            Detail::ElfSection {
                name: s.name.clone(),
                ours: ours_s,
                official: theirs,
            },
        ));
    }
    for (key, s) in a_list.iter().filter(|(k, _)| !b.contains_key(k.as_str())) {
        section_nodes.push(DiffNode::leaf(
            key.clone(),
            Category::Content,
            Detail::ElfSection {
                name: s.name.clone(),
                ours: Some(s.summary.clone()),
                official: None,
            },
        ));
    }
    let mut nodes = Vec::new();
    let layout = |secs: &[Section<'_>]| -> Vec<(String, u64, u64)> {
        secs.iter()
            .map(|s| (s.name.clone(), s.offset, s.data.len() as u64))
            .collect()
    };
    if layout(&our_secs) != layout(&their_secs) || ours.len() != official.len() {
        nodes.push(DiffNode::leaf(
            "section layout",
            Category::Content,
            Detail::ElfOther {
                description: "section layout (offsets, sizes or file size) differs".into(),
                ranges: Vec::new(),
            },
        ));
    } else {
        let outside = outside_ranges(ours, official, &their_secs, limits.max_offsets_listed);
        if !outside.is_empty() {
            nodes.push(DiffNode::leaf(
                "bytes outside sections",
                Category::Content,
                Detail::ElfOther {
                    description: "ELF header, program headers, section header table or padding differ"
                        .into(),
                    ranges: outside,
                },
            ));
        }
    }
    let listed = limits.max_sections_listed;
    if section_nodes.len() > listed {
        let rest = section_nodes.split_off(listed);
        let category = crate::diff::max_category(&rest).unwrap_or(Category::Content);
        section_nodes.push(DiffNode::leaf(
            "more sections",
            category,
            Detail::Omitted {
                count: rest.len() as u64,
            },
        ));
    }
    section_nodes.extend(nodes);
    Ok(section_nodes)
}

/// Differing ranges of two same-layout files, ignoring bytes that belong to a section.
fn outside_ranges(
    ours: &[u8],
    official: &[u8],
    secs: &[Section<'_>],
    max: usize,
) -> Vec<crate::diff::ByteRange> {
    let mut covered: Vec<(usize, usize)> = secs
        .iter()
        .filter_map(|s| {
            let start = usize::try_from(s.offset).ok()?;
            Some((start, start.checked_add(s.data.len())?))
        })
        .filter(|(a, b)| a < b)
        .collect();
    covered.sort_unstable();
    let mut out = Vec::new();
    let mut pos = 0usize;
    let check = |from: usize, to: usize, out: &mut Vec<crate::diff::ByteRange>| {
        let (Some(x), Some(y)) = (ours.get(from..to), official.get(from..to)) else {
            return;
        };
        let (ranges, _) = differing_ranges(x, y, max);
        out.extend(ranges.into_iter().map(|mut r| {
            r.offset += from as u64;
            r
        }));
    };
    for (start, end) in covered {
        if start > pos {
            check(pos, start, &mut out);
        }
        pos = pos.max(end);
    }
    check(pos, ours.len(), &mut out);
    out.truncate(max);
    out
}
