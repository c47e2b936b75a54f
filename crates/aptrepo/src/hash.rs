//! File digests an apt repository publishes for every pool file and index: size, MD5
//! (apt still reads `MD5sum`/`MD5Sum` and `by-hash/MD5Sum`) and SHA-256 (what apt trusts).
//! SHA-1 is left out on purpose: apt ignores it since 2.x and Debian stopped relying on it.

use std::io::{self, Read};

use cryo_debian::digest::{Md5Digest, Sha256Digest};
use md5::Md5;
use sha2::{Digest, Sha256};

/// Size and digests of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileHashes {
    /// Size in bytes.
    pub size: u64,
    /// MD5 digest.
    pub md5: Md5Digest,
    /// SHA-256 digest.
    pub sha256: Sha256Digest,
}

impl FileHashes {
    /// Hash an in-memory file.
    pub fn of_bytes(data: &[u8]) -> FileHashes {
        let mut h = Hasher::default();
        h.update(data);
        h.finish()
    }

    /// Hash everything `reader` yields.
    pub fn of_reader(reader: impl Read) -> io::Result<FileHashes> {
        let mut r = HashingReader::new(reader);
        io::copy(&mut r, &mut io::sink())?;
        Ok(r.finish())
    }
}

/// Incremental computation of [`FileHashes`].
#[derive(Default, Clone)]
pub struct Hasher {
    size: u64,
    md5: Md5,
    sha256: Sha256,
}

impl Hasher {
    /// Feed bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.size += data.len() as u64;
        self.md5.update(data);
        self.sha256.update(data);
    }

    /// The digests of everything fed so far.
    pub fn finish(self) -> FileHashes {
        FileHashes {
            size: self.size,
            md5: Md5Digest(self.md5.finalize().into()),
            sha256: Sha256Digest(self.sha256.finalize().into()),
        }
    }
}

/// A reader adapter that hashes every byte read through it, so a `.deb` is parsed and
/// hashed in one pass without holding it in memory.
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> HashingReader<R> {
    /// Wrap `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Hasher::default(),
        }
    }

    /// Digests of the bytes read so far.
    pub fn finish(self) -> FileHashes {
        self.hasher.finish()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let h = FileHashes::of_bytes(b"abc");
        assert_eq!(h.size, 3);
        assert_eq!(h.md5.to_string(), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            h.sha256.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let r = FileHashes::of_reader(&b"abc"[..]).unwrap();
        assert_eq!(r, h);
    }
}
