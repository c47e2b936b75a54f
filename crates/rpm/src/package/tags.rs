//! Named tag numbers used by this crate, and name lookup for every known tag (the table in
//! `tagnames.rs`).

use super::header::{HeaderKind, Tag};
use super::tagnames;

macro_rules! tags {
    ($($(#[$m:meta])* $name:ident = $n:expr;)*) => {
        $($(#[$m])* pub const $name: Tag = Tag($n);)*
    };
}

tags! {
    /// Region tag of the signature header.
    HEADERSIGNATURES = 62;
    /// Region tag of the main header.
    HEADERIMMUTABLE = 63;
    HEADERI18NTABLE = 100;
    // Signature header (RPMSIGTAG_*).
    /// Header + payload size (32 bit).
    SIG_SIZE = 1000;
    /// OpenPGP signature over header + payload.
    SIG_PGP = 1002;
    /// MD5 over header + payload.
    SIG_MD5 = 1004;
    /// OpenPGP (GnuPG DSA) signature over header + payload.
    SIG_GPG = 1005;
    /// Uncompressed payload size (32 bit).
    SIG_PAYLOADSIZE = 1007;
    SIG_RESERVEDSPACE = 1008;
    /// DSA OpenPGP signature over the main header.
    SIG_DSA = 267;
    /// RSA (any algorithm in rpm ≥ 4.16) OpenPGP signature over the main header.
    SIG_RSA = 268;
    /// SHA-1 hex digest of the main header.
    SIG_SHA1 = 269;
    SIG_LONGSIZE = 270;
    SIG_LONGARCHIVESIZE = 271;
    /// SHA-256 hex digest of the main header.
    SIG_SHA256 = 273;
    // Main header (RPMTAG_*).
    NAME = 1000;
    VERSION = 1001;
    RELEASE = 1002;
    EPOCH = 1003;
    BUILDTIME = 1006;
    BUILDHOST = 1007;
    SIZE = 1009;
    ARCH = 1022;
    OLDFILENAMES = 1027;
    FILESIZES = 1028;
    FILEMODES = 1030;
    FILERDEVS = 1033;
    FILEMTIMES = 1034;
    FILEDIGESTS = 1035;
    FILELINKTOS = 1036;
    FILEFLAGS = 1037;
    FILEUSERNAME = 1039;
    FILEGROUPNAME = 1040;
    SOURCERPM = 1044;
    ARCHIVESIZE = 1046;
    COOKIE = 1094;
    FILEINODES = 1096;
    DIRINDEXES = 1116;
    BASENAMES = 1117;
    DIRNAMES = 1118;
    PAYLOADFORMAT = 1124;
    PAYLOADCOMPRESSOR = 1125;
    PAYLOADFLAGS = 1126;
    LONGFILESIZES = 5008;
    LONGSIZE = 5009;
    FILEDIGESTALGO = 5011;
    PAYLOADDIGEST = 5092;
    PAYLOADDIGESTALGO = 5093;
    PAYLOADDIGESTALT = 5097;
}

/// The name of `tag` in a header of `kind` (`TAG_<n>` when unknown).
pub fn name(kind: HeaderKind, tag: Tag) -> String {
    let table = match kind {
        HeaderKind::Signature if tag.0 >= 1000 => tagnames::SIGNATURE,
        HeaderKind::Signature => {
            // Signature tags below 1000 share the main header's numbers (RPMSIGTAG_SHA256 =
            // RPMTAG_SHA256HEADER); prefer the signature name when there is one.
            if let Ok(i) = tagnames::SIGNATURE.binary_search_by_key(&tag.0, |&(n, _)| n) {
                return tagnames::SIGNATURE[i].1.to_owned();
            }
            tagnames::MAIN
        }
        HeaderKind::Main => tagnames::MAIN,
    };
    match table.binary_search_by_key(&tag.0, |&(n, _)| n) {
        Ok(i) => table[i].1.to_owned(),
        Err(_) => format!("TAG_{}", tag.0),
    }
}

/// The tag of a main-header `name` (as `rpm --querytags` prints it), if known.
pub fn by_name(name: &str) -> Option<Tag> {
    tagnames::MAIN
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|&(n, _)| Tag(n))
}
