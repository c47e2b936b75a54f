//! An RPM header structure (the signature header and the main header share it): the 16-byte
//! intro (magic `8E AD E8 01`, 4 reserved bytes, index count, data size), the index entries
//! (tag, type, offset, count — 16 bytes each, big endian) and the data store. Every entry is
//! checked the way rpm's `hdrblobVerifyInfo` does: a known type, its alignment, its data
//! inside the store, strings NUL-terminated inside the store. The region tag
//! (`HEADERIMMUTABLE` / `HEADERSIGNATURES`) and its trailer are checked too.

use std::fmt;

use super::limits::Limits;
use super::tags;
use super::RpmError;

/// The header magic, version 1, followed by 4 reserved bytes.
pub const HEADER_MAGIC: [u8; 8] = [0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0];
const INTRO_LEN: usize = 16;
const ENTRY_LEN: usize = 16;

/// A tag number (`RPMTAG_*` or `RPMSIGTAG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(pub u32);

/// Which header a tag belongs to (their numbers overlap at 1000–1008).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HeaderKind {
    /// The signature header (`RPMSIGTAG_*`, region `HEADERSIGNATURES`).
    Signature,
    /// The main header (`RPMTAG_*`, region `HEADERIMMUTABLE`).
    Main,
}

impl HeaderKind {
    /// The tag's name in this header (`BUILDTIME`, `SHA256`, or `TAG_<n>` when unknown).
    pub fn tag_name(self, tag: Tag) -> String {
        tags::name(self, tag)
    }

    fn region_tag(self) -> Tag {
        match self {
            HeaderKind::Signature => tags::HEADERSIGNATURES,
            HeaderKind::Main => tags::HEADERIMMUTABLE,
        }
    }
}

/// The type of an index entry's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TagType {
    Null,
    Char,
    Int8,
    Int16,
    Int32,
    Int64,
    String,
    Bin,
    StringArray,
    I18nString,
}

impl TagType {
    fn from_raw(raw: u32) -> Option<TagType> {
        Some(match raw {
            0 => TagType::Null,
            1 => TagType::Char,
            2 => TagType::Int8,
            3 => TagType::Int16,
            4 => TagType::Int32,
            5 => TagType::Int64,
            6 => TagType::String,
            7 => TagType::Bin,
            8 => TagType::StringArray,
            9 => TagType::I18nString,
            _ => return None,
        })
    }

    /// The wire number of this type.
    pub fn raw(self) -> u32 {
        self as u32
    }

    /// Size of one fixed-size item, `None` for strings.
    fn item_size(self) -> Option<usize> {
        match self {
            TagType::Null => Some(0),
            TagType::Char | TagType::Int8 | TagType::Bin => Some(1),
            TagType::Int16 => Some(2),
            TagType::Int32 => Some(4),
            TagType::Int64 => Some(8),
            TagType::String | TagType::StringArray | TagType::I18nString => None,
        }
    }
}

impl fmt::Display for TagType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TagType::Null => "NULL",
            TagType::Char => "CHAR",
            TagType::Int8 => "INT8",
            TagType::Int16 => "INT16",
            TagType::Int32 => "INT32",
            TagType::Int64 => "INT64",
            TagType::String => "STRING",
            TagType::Bin => "BIN",
            TagType::StringArray => "STRING_ARRAY",
            TagType::I18nString => "I18NSTRING",
        })
    }
}

/// A typed tag value. Strings are raw bytes (rpm does not enforce an encoding on file names);
/// [`Value::display`] shows them lossily.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Char(Vec<u8>),
    Int8(Vec<u8>),
    Int16(Vec<u16>),
    Int32(Vec<u32>),
    Int64(Vec<u64>),
    String(Vec<u8>),
    Bin(Vec<u8>),
    StringArray(Vec<Vec<u8>>),
    I18nString(Vec<Vec<u8>>),
}

impl Value {
    /// Integers of any width as `u64` (`None` for non-integer types).
    pub fn integers(&self) -> Option<Vec<u64>> {
        Some(match self {
            Value::Char(v) | Value::Int8(v) => v.iter().map(|&x| u64::from(x)).collect(),
            Value::Int16(v) => v.iter().map(|&x| u64::from(x)).collect(),
            Value::Int32(v) => v.iter().map(|&x| u64::from(x)).collect(),
            Value::Int64(v) => v.clone(),
            _ => return None,
        })
    }

    /// Strings of any string type (`None` for other types).
    pub fn strings(&self) -> Option<Vec<&[u8]>> {
        Some(match self {
            Value::String(s) => vec![s.as_slice()],
            Value::StringArray(v) | Value::I18nString(v) => v.iter().map(Vec::as_slice).collect(),
            _ => return None,
        })
    }

    /// A one-line human rendering: integers in decimal, strings lossily, binary in hex,
    /// arrays as `[a, b]`.
    pub fn display(&self) -> String {
        let list = |items: Vec<String>| {
            if items.len() == 1 {
                items.into_iter().next().unwrap_or_default()
            } else {
                format!("[{}]", items.join(", "))
            }
        };
        match self {
            Value::Null => "(null)".into(),
            Value::Bin(b) => hex::encode(b),
            Value::String(s) => String::from_utf8_lossy(s).into_owned(),
            Value::StringArray(v) | Value::I18nString(v) if v.len() == 1 => {
                String::from_utf8_lossy(&v[0]).into_owned()
            }
            Value::StringArray(v) | Value::I18nString(v) => list(
                v.iter()
                    .map(|s| format!("{:?}", String::from_utf8_lossy(s)))
                    .collect(),
            ),
            other => list(
                other
                    .integers()
                    .unwrap_or_default()
                    .iter()
                    .map(u64::to_string)
                    .collect(),
            ),
        }
    }
}

/// One index entry with its raw data bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub tag: Tag,
    pub ty: TagType,
    /// Offset into the data store.
    pub offset: u32,
    pub count: u32,
    /// The entry's bytes in the data store (for strings: through the last NUL).
    pub raw: Vec<u8>,
    /// Whether the entry lies inside the header's immutable region.
    pub in_region: bool,
}

impl Entry {
    /// The entry decoded according to its type.
    pub fn value(&self) -> Value {
        let raw = &self.raw;
        let n = self.count as usize;
        match self.ty {
            TagType::Null => Value::Null,
            TagType::Char => Value::Char(raw.clone()),
            TagType::Int8 => Value::Int8(raw.clone()),
            TagType::Bin => Value::Bin(raw.clone()),
            TagType::Int16 => Value::Int16(
                raw.chunks_exact(2)
                    .take(n)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect(),
            ),
            TagType::Int32 => Value::Int32(
                raw.chunks_exact(4)
                    .take(n)
                    .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            TagType::Int64 => Value::Int64(
                raw.chunks_exact(8)
                    .take(n)
                    .map(|c| u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                    .collect(),
            ),
            TagType::String => Value::String(split_strings(raw).next().unwrap_or(&[]).to_vec()),
            TagType::StringArray => {
                Value::StringArray(split_strings(raw).map(<[u8]>::to_vec).collect())
            }
            TagType::I18nString => {
                Value::I18nString(split_strings(raw).map(<[u8]>::to_vec).collect())
            }
        }
    }
}

fn split_strings(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = raw.strip_suffix(&[0]).unwrap_or(raw);
    body.split(|&b| b == 0)
}

/// A parsed header: its entries in index order and its exact bytes (magic included), which
/// the header digests and signatures cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub kind: HeaderKind,
    pub entries: Vec<Entry>,
    /// Number of index entries covered by the region tag (`None`: no region tag).
    pub region_entries: Option<u32>,
    /// The header as stored: intro, index, data store.
    pub bytes: Vec<u8>,
}

impl Header {
    /// Parses the header at the start of `data`; returns it and its length in bytes (without
    /// the signature header's alignment padding).
    pub fn parse(
        data: &[u8],
        kind: HeaderKind,
        limits: &Limits,
    ) -> Result<(Header, usize), RpmError> {
        let what = match kind {
            HeaderKind::Signature => "signature header",
            HeaderKind::Main => "main header",
        };
        let bad = |reason: String| RpmError::Header { what, reason };
        if data.len() < INTRO_LEN {
            return Err(RpmError::Truncated { what });
        }
        if data[..8] != HEADER_MAGIC {
            return Err(bad(format!("bad magic {}", hex::encode(&data[..8]))));
        }
        let il = be32(&data[8..12]) as usize;
        let dl = be32(&data[12..16]) as usize;
        let (max_il, max_dl) = match kind {
            HeaderKind::Signature => (limits.max_signature_entries, limits.max_signature_data),
            HeaderKind::Main => (limits.max_header_entries, limits.max_header_data),
        };
        if il == 0 || il > max_il {
            return Err(bad(format!("{il} index entries (allowed: 1 to {max_il})")));
        }
        if dl > max_dl {
            return Err(bad(format!("data store of {dl} bytes (limit {max_dl})")));
        }
        let total = INTRO_LEN + il * ENTRY_LEN + dl;
        if data.len() < total {
            return Err(RpmError::Truncated { what });
        }
        let index = &data[INTRO_LEN..INTRO_LEN + il * ENTRY_LEN];
        let store = &data[INTRO_LEN + il * ENTRY_LEN..total];
        let mut entries = Vec::with_capacity(il);
        for (i, e) in index.chunks_exact(ENTRY_LEN).enumerate() {
            let tag = Tag(be32(&e[0..4]));
            let raw_type = be32(&e[4..8]);
            let offset = be32(&e[8..12]);
            let count = be32(&e[12..16]);
            let name = kind.tag_name(tag);
            let ty = TagType::from_raw(raw_type)
                .ok_or_else(|| bad(format!("entry {i} ({name}): unknown type {raw_type}")))?;
            let is_region = i == 0 && tag == kind.region_tag();
            let raw = if is_region {
                // The region tag's offset points at its 16-byte trailer.
                entry_data(store, ty, offset, 16, true)
            } else {
                entry_data(store, ty, offset, count, false)
            }
            .map_err(|reason| bad(format!("entry {i} ({name} {ty}): {reason}")))?;
            entries.push(Entry {
                tag,
                ty,
                offset,
                count,
                raw,
                in_region: false,
            });
        }
        let region_entries = region(kind, &entries, il).map_err(bad)?;
        if let Some(ril) = region_entries {
            for e in entries.iter_mut().take(ril as usize) {
                e.in_region = true;
            }
        }
        Ok((
            Header {
                kind,
                entries,
                region_entries,
                bytes: data[..total].to_vec(),
            },
            total,
        ))
    }

    /// The first entry with `tag`.
    pub fn entry(&self, tag: Tag) -> Option<&Entry> {
        self.entries.iter().find(|e| e.tag == tag)
    }

    /// The typed value of `tag`.
    pub fn value(&self, tag: Tag) -> Option<Value> {
        self.entry(tag).map(Entry::value)
    }

    /// The first string of a string tag, lossily decoded.
    pub fn string(&self, tag: Tag) -> Option<String> {
        let v = self.value(tag)?;
        let s = v
            .strings()?
            .first()
            .map(|s| String::from_utf8_lossy(s).into_owned());
        s
    }

    /// All strings of a string tag as raw bytes (empty when absent).
    pub fn strings(&self, tag: Tag) -> Vec<Vec<u8>> {
        self.value(tag)
            .and_then(|v| v.strings().map(|s| s.iter().map(|x| x.to_vec()).collect()))
            .unwrap_or_default()
    }

    /// All integers of an integer tag (empty when absent).
    pub fn integers(&self, tag: Tag) -> Vec<u64> {
        self.value(tag)
            .and_then(|v| v.integers())
            .unwrap_or_default()
    }

    /// The first integer of an integer tag.
    pub fn integer(&self, tag: Tag) -> Option<u64> {
        self.integers(tag).first().copied()
    }

    /// The bytes of a BIN tag.
    pub fn binary(&self, tag: Tag) -> Option<&[u8]> {
        self.entry(tag)
            .filter(|e| e.ty == TagType::Bin)
            .map(|e| e.raw.as_slice())
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The bytes of one entry, checked like rpm's `hdrblobVerifyInfo`.
fn entry_data(
    store: &[u8],
    ty: TagType,
    offset: u32,
    count: u32,
    region: bool,
) -> Result<Vec<u8>, String> {
    let start = offset as usize;
    if start > store.len() {
        return Err(format!(
            "offset {offset} outside the {}-byte data store",
            store.len()
        ));
    }
    if count == 0 && !region {
        return Err("count 0".into());
    }
    if ty == TagType::String && count != 1 {
        return Err(format!("STRING with count {count}"));
    }
    match ty.item_size() {
        Some(size) => {
            // Item sizes are powers of two.
            if size > 1 && start & (size - 1) != 0 {
                return Err(format!("offset {offset} not aligned to {size}"));
            }
            let len = (count as usize)
                .checked_mul(size)
                .filter(|len| start + len <= store.len())
                .ok_or_else(|| {
                    format!("{count} items at offset {offset} overrun the data store")
                })?;
            Ok(store[start..start + len].to_vec())
        }
        None => {
            let mut end = start;
            for _ in 0..count {
                let nul = store[end..]
                    .iter()
                    .position(|&b| b == 0)
                    .ok_or_else(|| format!("string at offset {end} not NUL-terminated"))?;
                end += nul + 1;
            }
            Ok(store[start..end].to_vec())
        }
    }
}

/// Checks the region tag: first entry, type BIN, count 16, a trailer naming the same tag
/// whose negative offset counts the entries inside the region. Returns that count.
fn region(kind: HeaderKind, entries: &[Entry], il: usize) -> Result<Option<u32>, String> {
    let Some(first) = entries.first() else {
        return Ok(None);
    };
    let region_tag = kind.region_tag();
    if first.tag != region_tag {
        if entries.iter().any(|e| e.tag == region_tag) {
            return Err(format!(
                "region tag {} is not the first entry",
                kind.tag_name(region_tag)
            ));
        }
        return Ok(None);
    }
    if first.ty != TagType::Bin || first.count != 16 {
        return Err(format!(
            "region tag has type {} count {} (expected BIN 16)",
            first.ty, first.count
        ));
    }
    let t = &first.raw;
    let trailer_tag = Tag(be32(&t[0..4]));
    let trailer_type = be32(&t[4..8]);
    let trailer_offset = be32(&t[8..12]) as i32;
    let trailer_count = be32(&t[12..16]);
    if trailer_tag != region_tag || trailer_type != TagType::Bin.raw() || trailer_count != 16 {
        return Err("region trailer does not repeat the region tag".into());
    }
    if trailer_offset >= 0 || trailer_offset % ENTRY_LEN as i32 != 0 {
        return Err(format!(
            "region trailer offset {trailer_offset} is not -16·n"
        ));
    }
    let ril = trailer_offset.unsigned_abs() / ENTRY_LEN as u32;
    if ril as usize > il || ril == 0 {
        return Err(format!("region covers {ril} entries of {il}"));
    }
    Ok(Some(ril))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a header blob from (tag, type, data, count) with the data laid out as given
    /// (callers pad for alignment), preceded by a region tag covering every entry.
    fn blob(entries: &[(u32, TagType, Vec<u8>, u32)]) -> Vec<u8> {
        let mut store = Vec::new();
        let mut index = Vec::new();
        let mut push = |tag: u32, ty: u32, offset: u32, count: u32| {
            for v in [tag, ty, offset, count] {
                index.extend_from_slice(&v.to_be_bytes());
            }
        };
        let il = entries.len() as u32 + 1;
        let mut offsets = Vec::new();
        for (_, ty, data, _) in entries {
            let align = ty.item_size().unwrap_or(1).max(1);
            while store.len() % align != 0 {
                store.push(0);
            }
            offsets.push(store.len() as u32);
            store.extend_from_slice(data);
        }
        let trailer = store.len() as u32;
        for v in [63u32, 7, (-(il as i32 * 16)) as u32, 16] {
            store.extend_from_slice(&v.to_be_bytes());
        }
        push(63, 7, trailer, 16);
        for ((tag, ty, _, count), off) in entries.iter().zip(offsets) {
            push(*tag, ty.raw(), off, *count);
        }
        let mut out = HEADER_MAGIC.to_vec();
        out.extend_from_slice(&il.to_be_bytes());
        out.extend_from_slice(&(store.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(store);
        out
    }

    #[test]
    fn every_type_decodes() {
        let data = blob(&[
            (1000, TagType::String, b"name\0".to_vec(), 1),
            (1001, TagType::Char, b"ab".to_vec(), 2),
            (1002, TagType::Int8, vec![1, 2, 3], 3),
            (1003, TagType::Int16, vec![0, 1, 0xff, 0xff], 2),
            (1004, TagType::Int32, 7u32.to_be_bytes().to_vec(), 1),
            (1005, TagType::Int64, (1u64 << 40).to_be_bytes().to_vec(), 1),
            (1006, TagType::Bin, vec![0xde, 0xad], 2),
            (1007, TagType::StringArray, b"a\0bc\0".to_vec(), 2),
            (1008, TagType::I18nString, b"hi\0".to_vec(), 1),
            (1009, TagType::Null, vec![], 1),
        ]);
        let (h, len) = Header::parse(&data, HeaderKind::Main, &Limits::default()).unwrap();
        assert_eq!(len, data.len());
        assert_eq!(h.region_entries, Some(11));
        let v = |t| h.value(Tag(t)).unwrap();
        assert_eq!(v(1000), Value::String(b"name".to_vec()));
        assert_eq!(v(1001), Value::Char(b"ab".to_vec()));
        assert_eq!(v(1002), Value::Int8(vec![1, 2, 3]));
        assert_eq!(v(1003), Value::Int16(vec![1, 0xffff]));
        assert_eq!(v(1004), Value::Int32(vec![7]));
        assert_eq!(v(1005), Value::Int64(vec![1 << 40]));
        assert_eq!(v(1006), Value::Bin(vec![0xde, 0xad]));
        assert_eq!(
            v(1007),
            Value::StringArray(vec![b"a".to_vec(), b"bc".to_vec()])
        );
        assert_eq!(v(1008).display(), "hi");
        assert_eq!(v(1009), Value::Null);
        assert_eq!(v(1007).display(), "[\"a\", \"bc\"]");
        assert_eq!(HeaderKind::Main.tag_name(Tag(1000)), "NAME");
        assert_eq!(HeaderKind::Signature.tag_name(Tag(1000)), "SIZE");
        assert_eq!(HeaderKind::Signature.tag_name(Tag(273)), "SHA256");
        assert_eq!(HeaderKind::Main.tag_name(Tag(4242)), "TAG_4242");
    }

    #[test]
    fn malformed_entries_are_refused() {
        let limits = Limits::default();
        let parse = |d: &[u8]| Header::parse(d, HeaderKind::Main, &limits).map(|_| ());
        // A string without its NUL.
        let mut d = blob(&[(1000, TagType::String, b"abc\0".to_vec(), 1)]);
        let n = d.len();
        // Overwrite the NUL and everything after it (the region trailer) with letters.
        for b in &mut d[n - 17..] {
            *b = b'x';
        }
        assert!(parse(&d).is_err());
        // Misaligned INT32.
        let mut d = blob(&[(1004, TagType::Int32, 7u32.to_be_bytes().to_vec(), 1)]);
        let off = 16 + 16 + 8; // second index entry's offset field
        d[off..off + 4].copy_from_slice(&1u32.to_be_bytes());
        assert!(parse(&d).unwrap_err().to_string().contains("aligned"));
        // Items overrunning the store.
        let mut d = blob(&[(1004, TagType::Int32, 7u32.to_be_bytes().to_vec(), 1)]);
        d[off + 4..off + 8].copy_from_slice(&1000u32.to_be_bytes());
        assert!(parse(&d).unwrap_err().to_string().contains("overrun"));
        // Unknown type.
        let mut d = blob(&[(1004, TagType::Int32, 7u32.to_be_bytes().to_vec(), 1)]);
        d[off - 4..off].copy_from_slice(&42u32.to_be_bytes());
        assert!(parse(&d).unwrap_err().to_string().contains("unknown type"));
        // A region trailer claiming more entries than the index holds.
        let mut d = blob(&[(1004, TagType::Int32, 7u32.to_be_bytes().to_vec(), 1)]);
        let n = d.len();
        d[n - 8..n - 4].copy_from_slice(&(-(16 * 9i32) as u32).to_be_bytes());
        assert!(parse(&d).unwrap_err().to_string().contains("region"));
    }
}
