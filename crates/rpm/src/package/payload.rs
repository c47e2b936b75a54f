//! The payload: a compressed cpio archive, decompressed as a stream (gzip, xz, zstd through
//! cryo-debian's capped decoders, bzip2 through the `bzip2` crate) and read entry by entry.
//! Entry names are normalised to absolute paths; `..`, empty names and NULs are refused; every
//! size is capped ([`Limits`]).

use std::fmt;
use std::io::{self, Read};

use cryo_debian::compression::{Compression, Decoder};

use super::cpio::{CpioError, CpioReader, Record};
use super::files::FileEntry;
use super::limits::Limits;
use super::RpmError;

/// The payload compressor (`PAYLOADCOMPRESSOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compressor {
    None,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

impl Compressor {
    /// From the tag's value; rpm reads a package without the tag as gzip.
    pub fn from_tag(value: Option<&str>) -> Result<Compressor, RpmError> {
        Ok(match value {
            None | Some("gzip") => Compressor::Gzip,
            Some("bzip2") => Compressor::Bzip2,
            Some("xz") => Compressor::Xz,
            Some("zstd") => Compressor::Zstd,
            Some("identity") => Compressor::None,
            Some(other) => return Err(RpmError::Compressor(other.to_owned())),
        })
    }
}

impl fmt::Display for Compressor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compressor::None => "identity",
            Compressor::Gzip => "gzip",
            Compressor::Bzip2 => "bzip2",
            Compressor::Xz => "xz",
            Compressor::Zstd => "zstd",
        })
    }
}

/// Counts decompressed bytes and fails past the cap.
struct Capped<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(io::Error::other(format!(
                "decompressed payload exceeds the limit of {} bytes",
                self.limit
            )));
        }
        Ok(n)
    }
}

/// The decompressed payload as a stream, capped at [`Limits::max_payload_size`].
pub fn decoder<'a>(
    payload: &'a [u8],
    compressor: Compressor,
    limits: &Limits,
) -> Result<Box<dyn Read + 'a>, RpmError> {
    let inner: Box<dyn Read + 'a> = match compressor {
        Compressor::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(payload)),
        other => {
            let format = match other {
                Compressor::Gzip => Compression::Gzip,
                Compressor::Xz => Compression::Xz,
                Compressor::Zstd => Compression::Zstd,
                _ => Compression::None,
            };
            Box::new(Decoder::new(payload, format, &limits.decoder).map_err(RpmError::Decompress)?)
        }
    };
    Ok(Box::new(Capped {
        inner,
        read: 0,
        limit: limits.max_payload_size,
    }))
}

/// The type of a payload entry (from its mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadEntryKind {
    Regular,
    Directory,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
}

impl PayloadEntryKind {
    fn from_mode(mode: u32) -> Option<Self> {
        Some(match mode & 0o170000 {
            0o100000 => Self::Regular,
            0o040000 => Self::Directory,
            0o120000 => Self::Symlink,
            0o020000 => Self::CharDevice,
            0o060000 => Self::BlockDevice,
            0o010000 => Self::Fifo,
            0o140000 => Self::Socket,
            _ => return None,
        })
    }
}

/// One archive entry's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadEntry {
    /// Normalised absolute path (`/usr/bin/hello`).
    pub path: Vec<u8>,
    pub kind: PayloadEntryKind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: u32,
    /// Content bytes in the archive (0 for all but the last link of a hard-link set).
    pub size: u64,
    pub nlink: u32,
    pub ino: u32,
    /// The main header's record of this path, if it lists it.
    pub file: Option<FileEntry>,
}

impl PayloadEntry {
    /// The path shown lossily.
    pub fn path_display(&self) -> String {
        String::from_utf8_lossy(&self.path).into_owned()
    }
}

/// One entry with its content (symlinks: the target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFile {
    pub entry: PayloadEntry,
    pub content: Vec<u8>,
}

/// Streams the payload entry by entry: [`PayloadReader::next_entry`] then optionally
/// [`PayloadReader::read_content`] (a lending API), or iterate [`PayloadFile`]s.
pub struct PayloadReader<'a> {
    cpio: CpioReader<Box<dyn Read + 'a>>,
    files: Vec<FileEntry>,
    /// Indices of `files` sorted by path, for lookups.
    by_path: Vec<usize>,
    limits: Limits,
    index: usize,
    done: bool,
}

impl<'a> PayloadReader<'a> {
    /// A reader of `payload` compressed with `compressor`; `files` is the header's file list.
    pub fn new(
        payload: &'a [u8],
        compressor: Compressor,
        files: Vec<FileEntry>,
        limits: &Limits,
    ) -> Result<Self, RpmError> {
        let stream = decoder(payload, compressor, limits)?;
        let mut by_path: Vec<usize> = (0..files.len()).collect();
        by_path.sort_by(|&a, &b| files[a].path.cmp(&files[b].path));
        Ok(Self {
            cpio: CpioReader::new(stream, limits.max_path_len),
            files,
            by_path,
            limits: limits.clone(),
            index: 0,
            done: false,
        })
    }

    fn err(&self, reason: impl fmt::Display) -> RpmError {
        RpmError::Cpio {
            index: self.index,
            reason: reason.to_string(),
        }
    }

    fn lookup(&self, path: &[u8]) -> Option<&FileEntry> {
        self.by_path
            .binary_search_by(|&i| self.files[i].path.as_slice().cmp(path))
            .ok()
            .map(|k| &self.files[self.by_path[k]])
    }

    /// The next entry (skipping the rest of the previous one), `None` after the trailer.
    pub fn next_entry(&mut self) -> Result<Option<PayloadEntry>, RpmError> {
        if self.done {
            return Ok(None);
        }
        let files = &self.files;
        let max_file = self.limits.max_file_size;
        let record = self
            .cpio
            .next_record(|i| {
                files
                    .get(i as usize)
                    .map(|f| f.size.min(max_file.saturating_add(1)))
            })
            .map_err(|e| self.cpio_err(e))?;
        let header = match record {
            Record::Trailer => {
                self.done = true;
                return Ok(None);
            }
            Record::Entry(h) => h,
        };
        self.index += 1;
        if self.index > self.limits.max_files {
            return Err(self.err(format!("more than {} entries", self.limits.max_files)));
        }
        if header.size > self.limits.max_file_size {
            return Err(RpmError::PayloadLimit {
                what: format!("entry {}", String::from_utf8_lossy(&header.name)),
                size: header.size,
                limit: self.limits.max_file_size,
            });
        }
        let entry = match header.file_index {
            Some(i) => {
                let f = self.files[i as usize].clone();
                PayloadEntry {
                    path: f.path.clone(),
                    kind: PayloadEntryKind::from_mode(u32::from(f.mode))
                        .ok_or_else(|| self.err(format!("file mode {:o}", f.mode)))?,
                    mode: u32::from(f.mode),
                    uid: 0,
                    gid: 0,
                    mtime: f.mtime,
                    size: header.size,
                    nlink: 1,
                    ino: 0,
                    file: Some(f),
                }
            }
            None => {
                let path = normalise(&header.name).map_err(|r| self.err(r))?;
                let kind = PayloadEntryKind::from_mode(header.mode).ok_or_else(|| {
                    self.err(format!(
                        "{}: file mode {:o}",
                        String::from_utf8_lossy(&path),
                        header.mode
                    ))
                })?;
                PayloadEntry {
                    file: self.lookup(&path).cloned(),
                    path,
                    kind,
                    mode: header.mode,
                    uid: header.uid,
                    gid: header.gid,
                    mtime: header.mtime,
                    size: header.size,
                    nlink: header.nlink,
                    ino: header.ino,
                }
            }
        };
        Ok(Some(entry))
    }

    fn cpio_err(&self, e: CpioError) -> RpmError {
        self.err(e)
    }

    /// Reads the current entry's content (0 at its end).
    pub fn read_content(&mut self, buf: &mut [u8]) -> Result<usize, RpmError> {
        self.cpio.read_content(buf).map_err(|e| self.cpio_err(e))
    }

    /// The whole content of the current entry (its size is already capped).
    pub fn content(&mut self, size: u64) -> Result<Vec<u8>, RpmError> {
        let mut out = Vec::with_capacity(size.min(1 << 20) as usize);
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = self.read_content(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }
}

impl Iterator for PayloadReader<'_> {
    type Item = Result<PayloadFile, RpmError>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = match self.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => return None,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        Some(match self.content(entry.size) {
            Ok(content) => Ok(PayloadFile { entry, content }),
            Err(e) => {
                self.done = true;
                Err(e)
            }
        })
    }
}

/// `./usr/bin/x` or `/usr/bin/x` → `/usr/bin/x`; refuses `..`, empty names and `.`-only.
fn normalise(name: &[u8]) -> Result<Vec<u8>, String> {
    let shown = || String::from_utf8_lossy(name).into_owned();
    let rest = name
        .strip_prefix(b"./")
        .or_else(|| name.strip_prefix(b"/"))
        .unwrap_or(name);
    let mut out = Vec::with_capacity(name.len() + 1);
    for part in rest.split(|&b| b == b'/') {
        match part {
            b"" | b"." => continue,
            b".." => return Err(format!("path {:?} escapes the root (`..`)", shown())),
            p => {
                out.push(b'/');
                out.extend_from_slice(p);
            }
        }
    }
    if out.is_empty() {
        return Err(format!("entry name {:?} names no file", shown()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn names_are_normalised_and_traversal_refused() {
        assert_eq!(normalise(b"./usr/bin/x").unwrap(), b"/usr/bin/x");
        assert_eq!(normalise(b"/etc//a/./b").unwrap(), b"/etc/a/b");
        assert!(normalise(b"./usr/../../etc/passwd").is_err());
        assert!(normalise(b".").is_err());
    }
}
