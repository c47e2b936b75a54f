//! The file list of the main header: paths from `DIRNAMES`/`BASENAMES`/`DIRINDEXES` (or the
//! old `OLDFILENAMES`), and the per-file arrays (`FILEMODES`, `FILESIZES`/`LONGFILESIZES`,
//! `FILEUSERNAME`, `FILEGROUPNAME`, `FILEMTIMES`, `FILEDIGESTS` with `FILEDIGESTALGO`,
//! `FILELINKTOS`, `FILEFLAGS`), each checked to have one item per file.

use std::fmt;

use super::header::{Header, HeaderKind, Tag};
use super::limits::Limits;
use super::tags;
use super::RpmError;

/// A file digest algorithm (rpm's `PGPHASHALGO_*` numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgo {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgo {
    /// From `PGPHASHALGO_*`.
    pub fn from_pgp(n: u64) -> Option<DigestAlgo> {
        Some(match n {
            1 => DigestAlgo::Md5,
            2 => DigestAlgo::Sha1,
            8 => DigestAlgo::Sha256,
            9 => DigestAlgo::Sha384,
            10 => DigestAlgo::Sha512,
            11 => DigestAlgo::Sha224,
            _ => return None,
        })
    }

    /// Hex digest of `data`.
    pub fn hex(self, data: &[u8]) -> String {
        let mut h = Hasher::new(self);
        h.update(data);
        h.finish()
    }
}

impl fmt::Display for DigestAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DigestAlgo::Md5 => "md5",
            DigestAlgo::Sha1 => "sha1",
            DigestAlgo::Sha224 => "sha224",
            DigestAlgo::Sha256 => "sha256",
            DigestAlgo::Sha384 => "sha384",
            DigestAlgo::Sha512 => "sha512",
        })
    }
}

/// An incremental digest of any [`DigestAlgo`].
pub enum Hasher {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Hasher {
    pub fn new(algo: DigestAlgo) -> Hasher {
        use sha2::Digest;
        match algo {
            DigestAlgo::Md5 => Hasher::Md5(md5::Md5::new()),
            DigestAlgo::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            DigestAlgo::Sha224 => Hasher::Sha224(sha2::Sha224::new()),
            DigestAlgo::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            DigestAlgo::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            DigestAlgo::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        use sha2::Digest;
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha224(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    /// Lowercase hex of the digest.
    pub fn finish(self) -> String {
        use sha2::Digest;
        match self {
            Hasher::Md5(h) => hex::encode(h.finalize()),
            Hasher::Sha1(h) => hex::encode(h.finalize()),
            Hasher::Sha224(h) => hex::encode(h.finalize()),
            Hasher::Sha256(h) => hex::encode(h.finalize()),
            Hasher::Sha384(h) => hex::encode(h.finalize()),
            Hasher::Sha512(h) => hex::encode(h.finalize()),
        }
    }
}

/// `FILEFLAGS` bits (`RPMFILE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FileFlags(pub u32);

impl FileFlags {
    pub const CONFIG: u32 = 1 << 0;
    pub const DOC: u32 = 1 << 1;
    pub const MISSINGOK: u32 = 1 << 3;
    pub const NOREPLACE: u32 = 1 << 4;
    pub const GHOST: u32 = 1 << 6;
    pub const LICENSE: u32 = 1 << 7;
    pub const README: u32 = 1 << 8;
    pub const ARTIFACT: u32 = 1 << 12;

    pub fn config(self) -> bool {
        self.0 & Self::CONFIG != 0
    }
    pub fn doc(self) -> bool {
        self.0 & Self::DOC != 0
    }
    pub fn ghost(self) -> bool {
        self.0 & Self::GHOST != 0
    }
    pub fn license(self) -> bool {
        self.0 & Self::LICENSE != 0
    }
}

impl fmt::Display for FileFlags {
    /// `%config`-style names, comma separated (`-` when none).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Self::CONFIG, "config"),
            (Self::DOC, "doc"),
            (Self::MISSINGOK, "missingok"),
            (Self::NOREPLACE, "noreplace"),
            (Self::GHOST, "ghost"),
            (Self::LICENSE, "license"),
            (Self::README, "readme"),
            (Self::ARTIFACT, "artifact"),
        ];
        let set: Vec<&str> = names
            .iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|&(_, n)| n)
            .collect();
        if set.is_empty() {
            f.write_str("-")
        } else {
            f.write_str(&set.join(","))
        }
    }
}

/// One file as the main header describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Absolute path as installed (`/usr/bin/hello`), raw bytes.
    pub path: Vec<u8>,
    /// `st_mode` (type and permission bits).
    pub mode: u16,
    pub size: u64,
    pub user: String,
    pub group: String,
    pub mtime: u32,
    /// Hex digest (empty for non-regular files).
    pub digest: String,
    pub digest_algo: DigestAlgo,
    /// Symlink target (empty for other files).
    pub link_target: Vec<u8>,
    pub flags: FileFlags,
}

impl FileEntry {
    /// The path shown lossily.
    pub fn path_display(&self) -> String {
        String::from_utf8_lossy(&self.path).into_owned()
    }

    pub fn is_regular(&self) -> bool {
        u32::from(self.mode) & 0o170000 == 0o100000
    }

    pub fn is_symlink(&self) -> bool {
        u32::from(self.mode) & 0o170000 == 0o120000
    }

    pub fn is_dir(&self) -> bool {
        u32::from(self.mode) & 0o170000 == 0o040000
    }
}

/// The files of `header`, in header order.
pub fn list(header: &Header, limits: &Limits) -> Result<Vec<FileEntry>, RpmError> {
    let bad = |reason: String| RpmError::FileList { reason };
    let paths = paths(header)?;
    let n = paths.len();
    if n > limits.max_files {
        return Err(bad(format!("{n} files (limit {})", limits.max_files)));
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    let ints = |tag: Tag| -> Result<Vec<u64>, RpmError> {
        per_file(header, tag, n, false).map(|_| header.integers(tag))
    };
    let strs = |tag: Tag| -> Result<Vec<Vec<u8>>, RpmError> {
        per_file(header, tag, n, true)?;
        Ok(header.strings(tag))
    };
    let sizes = if header.entry(tags::LONGFILESIZES).is_some() {
        ints(tags::LONGFILESIZES)?
    } else {
        ints(tags::FILESIZES)?
    };
    let modes = ints(tags::FILEMODES)?;
    let mtimes = ints(tags::FILEMTIMES)?;
    let flags = optional(header, tags::FILEFLAGS, ints)?;
    let users = strs(tags::FILEUSERNAME)?;
    let groups = strs(tags::FILEGROUPNAME)?;
    let digests = optional(header, tags::FILEDIGESTS, strs)?;
    let links = optional(header, tags::FILELINKTOS, strs)?;
    let algo_num = header.integer(tags::FILEDIGESTALGO).unwrap_or(1);
    let digest_algo = DigestAlgo::from_pgp(algo_num)
        .ok_or_else(|| bad(format!("unknown FILEDIGESTALGO {algo_num}")))?;
    let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    Ok(paths
        .into_iter()
        .enumerate()
        .map(|(i, path)| FileEntry {
            path,
            mode: modes[i] as u16,
            size: sizes[i],
            user: text(&users[i]),
            group: text(&groups[i]),
            mtime: mtimes[i] as u32,
            digest: digests.as_ref().map(|d| text(&d[i])).unwrap_or_default(),
            digest_algo,
            link_target: links.as_ref().map(|l| l[i].clone()).unwrap_or_default(),
            flags: FileFlags(flags.as_ref().map_or(0, |f| f[i] as u32)),
        })
        .collect())
}

/// `get(tag)` when the header has `tag` (optional per-file arrays).
fn optional<T>(
    header: &Header,
    tag: Tag,
    get: impl Fn(Tag) -> Result<Vec<T>, RpmError>,
) -> Result<Option<Vec<T>>, RpmError> {
    match header.entry(tag) {
        Some(_) => get(tag).map(Some),
        None => Ok(None),
    }
}

/// Checks that `tag` exists with `n` items of the right kind.
fn per_file(header: &Header, tag: Tag, n: usize, string: bool) -> Result<(), RpmError> {
    let name = HeaderKind::Main.tag_name(tag);
    let v = header
        .value(tag)
        .ok_or_else(|| RpmError::MissingTag { tag: name.clone() })?;
    let count = if string {
        v.strings().map(|s| s.len())
    } else {
        v.integers().map(|i| i.len())
    };
    match count {
        Some(c) if c == n => Ok(()),
        Some(c) => Err(RpmError::FileList {
            reason: format!("{name} has {c} items for {n} files"),
        }),
        None => Err(RpmError::FileList {
            reason: format!("{name} has the wrong type"),
        }),
    }
}

fn paths(header: &Header) -> Result<Vec<Vec<u8>>, RpmError> {
    let bad = |reason: String| RpmError::FileList { reason };
    if header.entry(tags::BASENAMES).is_none() {
        return Ok(header.strings(tags::OLDFILENAMES));
    }
    let bases = header.strings(tags::BASENAMES);
    let dirs = header.strings(tags::DIRNAMES);
    let index = header.integers(tags::DIRINDEXES);
    if index.len() != bases.len() {
        return Err(bad(format!(
            "DIRINDEXES has {} items for {} BASENAMES",
            index.len(),
            bases.len()
        )));
    }
    bases
        .into_iter()
        .zip(index)
        .map(|(base, d)| {
            let dir = dirs
                .get(d as usize)
                .ok_or_else(|| bad(format!("DIRINDEXES {d} outside DIRNAMES ({})", dirs.len())))?;
            let mut path = dir.clone();
            path.extend_from_slice(&base);
            Ok(path)
        })
        .collect()
}
