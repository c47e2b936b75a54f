//! Output caps for decompressed (or any untrusted) streams. [`CappedReader`] fails instead
//! of yielding more than its limit — `Read::take` would end the stream silently, which a
//! tar reader above it reports as a confusing format error and which hides a bomb — and
//! [`read_at_most`] keeps a bounded prefix for callers that can use one.

use std::io::{self, Read};

/// A reader that yields at most `limit` bytes of its inner reader and then fails with
/// [`io::ErrorKind::FileTooLarge`] if the inner reader has more; [`Self::exceeded`] says
/// afterwards whether that is why a read failed.
#[derive(Debug)]
pub struct CappedReader<R> {
    inner: R,
    limit: u64,
    read: u64,
    exceeded: bool,
}

impl<R: Read> CappedReader<R> {
    /// Caps `inner` at `limit` bytes.
    pub fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            limit,
            read: 0,
            exceeded: false,
        }
    }

    /// Whether the inner reader had more than `limit` bytes.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// The cap.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably (reading from it bypasses the cap).
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    fn too_large(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("more than {} bytes", self.limit),
        )
    }
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.exceeded {
            return Err(self.too_large());
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let room = self.limit - self.read;
        // One byte more than the room: that byte, if it comes, proves the excess.
        let want = usize::try_from(room.saturating_add(1))
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > room {
            self.exceeded = true;
            return Err(self.too_large());
        }
        self.read += n as u64;
        Ok(n)
    }
}

/// Reads `reader` to its end but keeps at most `limit` bytes; the flag says whether there
/// was more (then the bytes are the first `limit` and the rest was not read).
pub fn read_at_most(reader: impl Read, limit: u64) -> io::Result<(Vec<u8>, bool)> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    let over = bytes.len() as u64 > limit;
    if over {
        bytes.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok((bytes, over))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_reader_fails_past_the_limit_only() {
        let data = [7u8; 100];
        let mut out = Vec::new();
        let mut r = CappedReader::new(&data[..], 100);
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 100);
        assert!(!r.exceeded());

        let mut out = Vec::new();
        let mut r = CappedReader::new(&data[..], 99);
        let e = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(r.exceeded());
        assert!(out.len() <= 99);
        assert!(r.read(&mut [0; 4]).is_err(), "stays failed");

        let mut r = CappedReader::new(&data[..], 0);
        assert!(r.read(&mut [0; 4]).is_err());
        let mut r = CappedReader::new(&[][..], 0);
        assert_eq!(r.read(&mut [0; 4]).unwrap(), 0);
    }

    #[test]
    fn read_at_most_keeps_a_prefix() {
        let data = b"0123456789";
        assert_eq!(read_at_most(&data[..], 10).unwrap(), (data.to_vec(), false));
        assert_eq!(
            read_at_most(&data[..], 4).unwrap(),
            (b"0123".to_vec(), true)
        );
        assert_eq!(read_at_most(&data[..], 0).unwrap(), (Vec::new(), true));
    }
}
