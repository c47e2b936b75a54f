//! A streaming reader of the cpio "newc" archive in an RPM payload (`070701`/`070702`
//! headers, 4-byte padding, `TRAILER!!!`), and of rpm's stripped variant (`07070X` + file
//! index, used for packages with files over 4 GiB, whose metadata lives only in the header).
//!
//! Why not the `cpio` crate (0.4): it requires UTF-8 names (rpm paths are bytes), reads a
//! name of whatever length the header claims (up to 4 GiB), hands the reader back and forth
//! by value per entry, and knows no stripped headers. This reader is ~150 lines with caps on
//! names, sizes and entry counts.

use std::io::{self, Read};

/// One archive header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpioHeader {
    /// The name as stored (`./usr/bin/hello`), NUL removed.
    pub name: Vec<u8>,
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub size: u64,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    /// For a stripped header: the index into the header's file list.
    pub file_index: Option<u32>,
}

/// What the next record is.
#[derive(Debug)]
pub enum Record {
    Entry(CpioHeader),
    Trailer,
}

/// Errors found in the archive (wrapped by the caller with the entry index).
#[derive(Debug, thiserror::Error)]
pub enum CpioError {
    #[error("archive ends early (in {0})")]
    Truncated(&'static str),
    #[error("bad magic {0:?} (not a cpio newc archive)")]
    Magic(String),
    #[error("bad hex field {field}: {value:?}")]
    Hex { field: &'static str, value: String },
    #[error("name of {len} bytes (limit {limit})")]
    NameTooLong { len: u64, limit: usize },
    #[error("name is empty or not NUL-terminated")]
    BadName,
    #[error(transparent)]
    Io(io::Error),
}

/// Reads records from a decompressed stream, tracking the position for padding.
pub struct CpioReader<R> {
    inner: R,
    pos: u64,
    max_name: usize,
    /// Bytes of the current entry's content not yet read.
    left: u64,
    /// Padding after the current entry's content.
    pad: u64,
}

fn io_err(e: io::Error, what: &'static str) -> CpioError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        CpioError::Truncated(what)
    } else {
        CpioError::Io(e)
    }
}

impl<R: Read> CpioReader<R> {
    pub fn new(inner: R, max_name: usize) -> Self {
        Self {
            inner,
            pos: 0,
            max_name,
            left: 0,
            pad: 0,
        }
    }

    fn read_exact(&mut self, buf: &mut [u8], what: &'static str) -> Result<(), CpioError> {
        self.inner.read_exact(buf).map_err(|e| io_err(e, what))?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn skip(&mut self, n: u64, what: &'static str) -> Result<(), CpioError> {
        let copied = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())
            .map_err(|e| io_err(e, what))?;
        self.pos += copied;
        if copied < n {
            return Err(CpioError::Truncated(what));
        }
        Ok(())
    }

    fn align4(&mut self, what: &'static str) -> Result<(), CpioError> {
        let pad = (4 - self.pos % 4) % 4;
        self.skip(pad, what)
    }

    /// Skips what is left of the current entry and reads the next header.
    /// `stripped_size` gives the content size of a stripped entry from its file index.
    pub fn next_record(
        &mut self,
        stripped_size: impl Fn(u32) -> Option<u64>,
    ) -> Result<Record, CpioError> {
        let (left, pad) = (self.left, self.pad);
        self.skip(left + pad, "entry content")?;
        self.left = 0;
        self.pad = 0;
        let mut magic = [0u8; 6];
        self.read_exact(&mut magic, "header")?;
        if &magic == b"07070X" {
            let mut fx = [0u8; 8];
            self.read_exact(&mut fx, "header")?;
            let index = hex32(&fx, "file index")?;
            self.align4("header padding")?;
            let size = stripped_size(index).ok_or(CpioError::Hex {
                field: "file index",
                value: format!("{index} (no such file in the header)"),
            })?;
            self.start_content(size);
            return Ok(Record::Entry(CpioHeader {
                name: Vec::new(),
                ino: 0,
                mode: 0,
                uid: 0,
                gid: 0,
                nlink: 0,
                mtime: 0,
                size,
                rdev_major: 0,
                rdev_minor: 0,
                file_index: Some(index),
            }));
        }
        if &magic != b"070701" && &magic != b"070702" {
            return Err(CpioError::Magic(
                String::from_utf8_lossy(&magic).into_owned(),
            ));
        }
        let mut fields = [0u8; 13 * 8];
        self.read_exact(&mut fields, "header")?;
        let f = |i: usize, name: &'static str| hex32(&fields[i * 8..i * 8 + 8], name);
        let namesize = f(11, "namesize")?;
        if namesize as usize > self.max_name + 1 {
            return Err(CpioError::NameTooLong {
                len: u64::from(namesize),
                limit: self.max_name,
            });
        }
        let mut name = vec![0u8; namesize as usize];
        self.read_exact(&mut name, "name")?;
        if name.pop() != Some(0) || name.is_empty() || name.contains(&0) {
            return Err(CpioError::BadName);
        }
        self.align4("name padding")?;
        if name == b"TRAILER!!!" {
            return Ok(Record::Trailer);
        }
        let header = CpioHeader {
            name,
            ino: f(0, "ino")?,
            mode: f(1, "mode")?,
            uid: f(2, "uid")?,
            gid: f(3, "gid")?,
            nlink: f(4, "nlink")?,
            mtime: f(5, "mtime")?,
            size: u64::from(f(6, "filesize")?),
            rdev_major: f(9, "rdevmajor")?,
            rdev_minor: f(10, "rdevminor")?,
            file_index: None,
        };
        self.start_content(header.size);
        Ok(Record::Entry(header))
    }

    fn start_content(&mut self, size: u64) {
        self.left = size;
        self.pad = (4 - (self.pos + size) % 4) % 4;
    }

    /// Reads up to `buf.len()` bytes of the current entry's content (0 at its end).
    pub fn read_content(&mut self, buf: &mut [u8]) -> Result<usize, CpioError> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self
            .inner
            .read(&mut buf[..want])
            .map_err(|e| io_err(e, "content"))?;
        if n == 0 {
            return Err(CpioError::Truncated("entry content"));
        }
        self.left -= n as u64;
        self.pos += n as u64;
        Ok(n)
    }

    /// Whatever follows the trailer (rpm writes none; padding zeros are tolerated).
    pub fn into_inner(self) -> R {
        self.inner
    }
}

fn hex32(b: &[u8], field: &'static str) -> Result<u32, CpioError> {
    let s = std::str::from_utf8(b).ok();
    s.and_then(|s| u32::from_str_radix(s, 16).ok())
        .ok_or_else(|| CpioError::Hex {
            field,
            value: String::from_utf8_lossy(b).into_owned(),
        })
}

#[cfg(test)]
mod tests {
    use crate::package::payload::{Compressor, PayloadReader};
    use crate::package::{FileEntry, FileFlags, Limits, RpmError};

    /// One newc record: header, name + NUL padded to 4, content padded to 4.
    fn record(out: &mut Vec<u8>, name: &str, mode: u32, content: &[u8]) {
        let fields = [
            1,
            mode,
            0,
            0,
            1,
            1_700_000_000,
            content.len() as u32,
            0,
            0,
            0,
            0,
        ];
        out.extend_from_slice(b"070701");
        for f in fields {
            out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        out.extend_from_slice(format!("{:08x}", name.len() + 1).as_bytes());
        out.extend_from_slice(b"00000000");
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while out.len() & 3 != 0 {
            out.push(0);
        }
        out.extend_from_slice(content);
        while out.len() & 3 != 0 {
            out.push(0);
        }
    }

    fn trailer(out: &mut Vec<u8>) {
        record(out, "TRAILER!!!", 0, b"");
    }

    fn file(path: &str, size: u64) -> FileEntry {
        FileEntry {
            path: path.as_bytes().to_vec(),
            mode: 0o100644,
            size,
            user: "root".into(),
            group: "root".into(),
            mtime: 1,
            digest: String::new(),
            digest_algo: crate::package::DigestAlgo::Sha256,
            link_target: Vec::new(),
            flags: FileFlags::default(),
        }
    }

    #[test]
    fn newc_and_stripped_entries_stream_with_content() {
        let mut a = Vec::new();
        record(&mut a, "./usr/bin/x", 0o100755, b"hello");
        // A stripped entry (rpm's large-file format) for file index 1: content only.
        a.extend_from_slice(b"07070X00000001");
        while a.len() & 3 != 0 {
            a.push(0);
        }
        a.extend_from_slice(b"abc");
        while a.len() & 3 != 0 {
            a.push(0);
        }
        trailer(&mut a);
        let files = vec![file("/usr/bin/x", 5), file("/usr/share/big", 3)];
        let got: Vec<_> = PayloadReader::new(&a, Compressor::None, files, &Limits::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].entry.path, b"/usr/bin/x");
        assert_eq!(got[0].content, b"hello");
        assert_eq!(got[0].entry.mode, 0o100755);
        assert!(got[0].entry.file.is_some());
        assert_eq!(got[1].entry.path, b"/usr/share/big");
        assert_eq!(got[1].content, b"abc");
    }

    #[test]
    fn hostile_archives_are_refused() {
        let read = |a: &[u8], limits: &Limits| -> Result<Vec<_>, RpmError> {
            PayloadReader::new(a, Compressor::None, Vec::new(), limits)
                .unwrap()
                .collect()
        };
        let limits = Limits::default();
        // Path traversal.
        let mut a = Vec::new();
        record(&mut a, "./usr/../../etc/passwd", 0o100644, b"x");
        trailer(&mut a);
        let err = read(&a, &limits).unwrap_err().to_string();
        assert!(err.contains("escapes the root"), "{err}");
        // Truncated content.
        let mut a = Vec::new();
        record(&mut a, "./a", 0o100644, b"0123456789");
        a.truncate(a.len() - 6);
        let err = read(&a, &limits).unwrap_err().to_string();
        assert!(err.contains("ends early"), "{err}");
        // Missing trailer: the stream ends at a header.
        let mut a = Vec::new();
        record(&mut a, "./a", 0o100644, b"01");
        let err = read(&a, &limits).unwrap_err().to_string();
        assert!(err.contains("ends early"), "{err}");
        // A name longer than the cap.
        let mut a = Vec::new();
        record(&mut a, &"n".repeat(5000), 0o100644, b"");
        let err = read(&a, &limits).unwrap_err().to_string();
        assert!(err.contains("name of"), "{err}");
        // An entry over the per-file cap, before its content is read.
        let mut a = Vec::new();
        record(&mut a, "./big", 0o100644, &[0u8; 64]);
        trailer(&mut a);
        let small = Limits {
            max_file_size: 63,
            ..Limits::default()
        };
        assert!(matches!(
            read(&a, &small),
            Err(RpmError::PayloadLimit { .. })
        ));
        // Not cpio at all.
        let err = read(b"PK\x03\x04 not cpio", &limits)
            .unwrap_err()
            .to_string();
        assert!(err.contains("magic"), "{err}");
        // The total decompressed cap.
        let mut a = Vec::new();
        record(&mut a, "./a", 0o100644, &[1u8; 4096]);
        trailer(&mut a);
        let tiny = Limits {
            max_payload_size: 1024,
            ..Limits::default()
        };
        assert!(read(&a, &tiny).is_err());
    }
}
