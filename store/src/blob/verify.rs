//! A reader that re-hashes what it yields and fails at the end on a mismatch.

use std::io::{self, Read};

use crate::digest::{B3Digest, B3Hasher};

/// Wraps the decoded content of a blob; `read` returns an `InvalidData` error instead of the
/// final EOF when the content does not hash to the expected digest or has the wrong size.
pub struct VerifyingReader<R> {
    inner: R,
    hasher: B3Hasher,
    expected: B3Digest,
    expected_size: u64,
    seen: u64,
    finished: bool,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, expected: B3Digest, expected_size: u64) -> Self {
        Self {
            inner,
            hasher: B3Hasher::new(),
            expected,
            expected_size,
            seen: 0,
            finished: false,
        }
    }

    /// The digest this reader checks against.
    pub fn digest(&self) -> B3Digest {
        self.expected
    }

    /// The uncompressed size announced by the blob header.
    pub fn size(&self) -> u64 {
        self.expected_size
    }

    fn corrupt(&self, why: String) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("blob {} is corrupt: {why}", self.expected),
        )
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.finished {
            return Ok(0);
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) => return Err(self.corrupt(format!("unreadable payload ({e})"))),
        };
        if n == 0 {
            if self.seen != self.expected_size {
                return Err(self.corrupt(format!(
                    "size {} differs from the recorded size {}",
                    self.seen, self.expected_size
                )));
            }
            let got = self.hasher.finalize();
            if got != self.expected {
                return Err(self.corrupt(format!("content hashes to {got}")));
            }
            self.finished = true;
            return Ok(0);
        }
        self.seen += n as u64;
        if self.seen > self.expected_size {
            return Err(self.corrupt(format!(
                "longer than the recorded size {}",
                self.expected_size
            )));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}
