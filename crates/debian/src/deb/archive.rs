//! Walking the members of an ar archive in one forward pass over any reader: the magic,
//! each header, the member's bytes (counted, so that a member shorter than its header says
//! is an error rather than a silent end), the rest of a member a caller did not read, and
//! the padding byte after odd-sized members. Member order is the caller's business
//! ([`super::DebReader`]).

use std::io::{self, Read};

use super::error::DebReadError;
use super::header::{self, MemberHeader, AR_MAGIC, HEADER_LEN};

/// The member being read.
struct Current {
    name: String,
    size: u64,
    /// Bytes of its data not read yet.
    left: u64,
    /// The input ended before `size` bytes.
    short: bool,
    /// The input failed while reading the member (kept for the typed error).
    io_error: Option<io::Error>,
}

/// An ar archive read forward from `R`.
pub(super) struct Archive<R> {
    inner: R,
    /// Bytes consumed from `inner`.
    offset: u64,
    /// Headers read so far.
    headers: usize,
    current: Option<Current>,
    /// Set by an error that leaves the position in the input unknown.
    poisoned: bool,
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl<R: Read> Archive<R> {
    /// Reads and checks the global header.
    pub(super) fn open(mut inner: R) -> Result<Self, DebReadError> {
        let mut magic = [0u8; 8];
        let n = read_full(&mut inner, &mut magic).map_err(DebReadError::Io)?;
        if n == 0 || magic[..n] != AR_MAGIC[..n] {
            return Err(DebReadError::NotAr);
        }
        if n < magic.len() {
            return Err(DebReadError::ShortMagic { read: n });
        }
        Ok(Self {
            inner,
            offset: magic.len() as u64,
            headers: 0,
            current: None,
            poisoned: false,
        })
    }

    /// Position of the current member (0 for the first).
    pub(super) fn index(&self) -> usize {
        self.headers.saturating_sub(1)
    }

    /// Marks the reader unusable and returns `e`.
    pub(super) fn poison<T>(&mut self, e: DebReadError) -> Result<T, DebReadError> {
        self.poisoned = true;
        Err(e)
    }

    /// Skips what is left of the current member and its padding, then reads the next
    /// header; `None` at the end of the archive.
    pub(super) fn next_header(&mut self) -> Result<Option<MemberHeader>, DebReadError> {
        if self.poisoned {
            return Err(DebReadError::Poisoned);
        }
        match self.advance() {
            Ok(h) => Ok(h),
            Err(e) => self.poison(e),
        }
    }

    fn advance(&mut self) -> Result<Option<MemberHeader>, DebReadError> {
        if let Some(cur) = self.current.take() {
            let skipped = io::copy(&mut (&mut self.inner).take(cur.left), &mut io::sink())
                .map_err(DebReadError::Io)?;
            self.offset += skipped;
            if skipped < cur.left {
                return Err(DebReadError::ShortMember {
                    name: cur.name,
                    expected: cur.size,
                    actual: cur.size - cur.left + skipped,
                });
            }
            if cur.size % 2 == 1 {
                let mut pad = [0u8; 1];
                // A missing padding byte at the very end is tolerated, as by dpkg and ar.
                if read_full(&mut self.inner, &mut pad).map_err(DebReadError::Io)? == 0 {
                    return Ok(None);
                }
                if pad[0] != b'\n' {
                    return Err(DebReadError::BadPadding {
                        offset: self.offset,
                        byte: pad[0],
                    });
                }
                self.offset += 1;
            }
        }
        let offset = self.offset;
        let index = self.headers;
        let mut raw = [0u8; HEADER_LEN];
        let n = read_full(&mut self.inner, &mut raw).map_err(DebReadError::Io)?;
        self.offset += n as u64;
        match n {
            0 => return Ok(None),
            HEADER_LEN => {}
            read => {
                return Err(DebReadError::ShortHeader {
                    index,
                    offset,
                    read,
                })
            }
        }
        let header = header::parse(&raw, offset).map_err(|fault| DebReadError::BadHeader {
            index,
            offset,
            fault,
        })?;
        self.headers += 1;
        self.current = Some(Current {
            name: header.name(),
            size: header.size,
            left: header.size,
            short: false,
            io_error: None,
        });
        Ok(Some(header))
    }

    /// Reads data of the current member. Fails with `UnexpectedEof` when the input ends
    /// before the member does; [`Self::member_fault`] gives the typed error afterwards.
    pub(super) fn read_member(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(cur) = self.current.as_mut() else {
            return Ok(0);
        };
        let want = usize::try_from(cur.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        match self.inner.read(&mut buf[..want]) {
            Ok(0) => {
                cur.short = true;
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the .deb ends inside member {:?}", cur.name),
                ))
            }
            Ok(n) => {
                cur.left -= n as u64;
                self.offset += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let replacement = io::Error::new(e.kind(), "reading the .deb failed");
                cur.io_error = Some(e);
                Err(replacement)
            }
        }
    }

    /// The container error behind a failed [`Self::read_member`] (a short member or a read
    /// error of the input), if there was one; either poisons the reader.
    pub(super) fn member_fault(&mut self) -> Option<DebReadError> {
        let cur = self.current.as_mut()?;
        let fault = if cur.short {
            DebReadError::ShortMember {
                name: cur.name.clone(),
                expected: cur.size,
                actual: cur.size - cur.left,
            }
        } else {
            DebReadError::Io(cur.io_error.take()?)
        };
        self.poisoned = true;
        Some(fault)
    }

    /// All remaining data of the current member, which must be at most `limit` bytes.
    pub(super) fn read_member_to_end(&mut self, limit: u64) -> Result<Vec<u8>, DebReadError> {
        let Some(cur) = self.current.as_ref() else {
            return Ok(Vec::new());
        };
        if cur.size > limit {
            return Err(DebReadError::MemberTooLarge {
                name: cur.name.clone(),
                size: cur.size,
                limit,
            });
        }
        // Grows with what arrives: the size is the header's claim, not an allocation.
        let mut out = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match self.read_member(&mut chunk) {
                Ok(0) => return Ok(out),
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.member_fault().unwrap_or(DebReadError::Io(e))),
            }
        }
    }
}
