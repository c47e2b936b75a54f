//! The `ar` framing of a `.deb`: the global magic and the 60-byte member header.
//!
//! Hand-written rather than read with the `ar` crate: a `.deb` uses only the common ar
//! format (names of at most 16 bytes, no symbol or name tables), which is all dpkg reads,
//! while `ar` 0.9 also interprets GNU and BSD extensions on untrusted input — it indexes
//! the GNU name table with an unchecked offset (a member named `/99` panics), allocates a
//! name table of the size a header claims, and does not check the header terminator. The
//! format is 60 fixed-width ASCII fields; parsing it here keeps every check explicit.

/// The global header of an ar archive.
pub const AR_MAGIC: &[u8; 8] = b"!<arch>\n";

/// Size of a member header.
pub const HEADER_LEN: usize = 60;

/// The fields of one member header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberHeader {
    /// The name as stored, without the trailing spaces and the one trailing `/` (GNU
    /// style) that dpkg strips too.
    pub identifier: Vec<u8>,
    /// Modification time (seconds since the epoch).
    pub mtime: u64,
    /// Owner id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Mode (octal in the header).
    pub mode: u32,
    /// Size of the member's data in bytes (the header's claim; the reader checks it).
    pub size: u64,
    /// Offset of this header in the file.
    pub offset: u64,
}

impl MemberHeader {
    /// The name for messages and comparisons (lossy UTF-8; dpkg's names are ASCII).
    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.identifier).into_owned()
    }
}

/// What is wrong with a member header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderFault {
    /// The header does not end in the two bytes `` `\n ``.
    #[error("no `\\n terminator")]
    Terminator,
    /// A numeric field is not a number in its radix (or is empty where one is required).
    #[error("invalid {field} field {value:?}")]
    Number {
        /// Which field.
        field: &'static str,
        /// Its bytes (lossy UTF-8).
        value: String,
    },
    /// The name field is empty.
    #[error("empty member name")]
    EmptyName,
}

/// Parses one 60-byte header found at `offset`.
pub fn parse(raw: &[u8; HEADER_LEN], offset: u64) -> Result<MemberHeader, HeaderFault> {
    if &raw[58..60] != b"`\n" {
        return Err(HeaderFault::Terminator);
    }
    let mut identifier = raw[..16].to_vec();
    while identifier.last() == Some(&b' ') {
        identifier.pop();
    }
    if identifier.last() == Some(&b'/') {
        identifier.pop();
    }
    if identifier.is_empty() {
        return Err(HeaderFault::EmptyName);
    }
    let narrow = |field, v: u64| {
        u32::try_from(v).map_err(|_| HeaderFault::Number {
            field,
            value: v.to_string(),
        })
    };
    Ok(MemberHeader {
        identifier,
        mtime: number("mtime", &raw[16..28], 10, true)?,
        uid: narrow("uid", number("uid", &raw[28..34], 10, true)?)?,
        gid: narrow("gid", number("gid", &raw[34..40], 10, true)?)?,
        mode: narrow("mode", number("mode", &raw[40..48], 8, true)?)?,
        size: number("size", &raw[48..58], 10, false)?,
        offset,
    })
}

/// A left-aligned, space-padded number. All spaces reads as 0 where `empty_ok` (dpkg
/// ignores every field but the size, and some ar writers leave owner fields blank).
fn number(
    field: &'static str,
    bytes: &[u8],
    radix: u32,
    empty_ok: bool,
) -> Result<u64, HeaderFault> {
    let fault = || HeaderFault::Number {
        field,
        value: String::from_utf8_lossy(bytes).into_owned(),
    };
    let end = bytes.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    let digits = &bytes[..end];
    if digits.is_empty() {
        return if empty_ok { Ok(0) } else { Err(fault()) };
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        let d = char::from(b).to_digit(radix).ok_or_else(fault)?;
        acc.checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or_else(fault)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(name: &str, mtime: &str, mode: &str, size: &str, end: &[u8; 2]) -> [u8; HEADER_LEN] {
        let text = format!(
            "{name:<16}{mtime:<12}{:<6}{:<6}{mode:<8}{size:<10}",
            "0", "0"
        );
        let mut out = [0u8; HEADER_LEN];
        out[..58].copy_from_slice(text.as_bytes());
        out[58..].copy_from_slice(end);
        out
    }

    #[test]
    fn dpkg_header() {
        let h = parse(
            &raw("debian-binary", "1700000000", "100644", "4", b"`\n"),
            8,
        )
        .unwrap();
        assert_eq!(h.identifier, b"debian-binary");
        assert_eq!((h.mtime, h.uid, h.gid), (1_700_000_000, 0, 0));
        assert_eq!((h.mode, h.size, h.offset), (0o100644, 4, 8));
        let gnu = parse(&raw("data.tar.xz/", "0", "644", "12", b"`\n"), 0).unwrap();
        assert_eq!(gnu.name(), "data.tar.xz");
        let blank = parse(&raw("_x", "", "", "1", b"`\n"), 0).unwrap();
        assert_eq!((blank.mtime, blank.mode), (0, 0));
    }

    #[test]
    fn faults() {
        let bad = |r: [u8; HEADER_LEN]| parse(&r, 0).unwrap_err();
        assert_eq!(
            bad(raw("x", "0", "644", "1", b"``")),
            HeaderFault::Terminator
        );
        assert_eq!(
            bad(raw("", "0", "644", "1", b"`\n")),
            HeaderFault::EmptyName
        );
        assert_eq!(
            bad(raw("/", "0", "644", "1", b"`\n")),
            HeaderFault::EmptyName
        );
        for (mtime, mode, size) in [
            ("x", "644", "1"),
            ("0", "9", "1"),
            ("0", "644", ""),
            ("0", "644", "+1"),
            ("0", "644", " 1"),
        ] {
            assert!(
                matches!(
                    bad(raw("x", mtime, mode, size, b"`\n")),
                    HeaderFault::Number { .. }
                ),
                "{mtime:?} {mode:?} {size:?}"
            );
        }
        assert!(parse(&raw("x", "0", "644", "9999999999", b"`\n"), 0).is_ok());
    }
}
