//! Checksums of rpm-md: the `type` attribute (`sha256`, `sha512`, `sha384`, `sha224`,
//! `sha1` and its old spelling `sha`) and the lowercase hex digest, validated on parse and
//! verifiable against bytes.

use std::fmt;

use sha1::Digest as _;

/// A checksum algorithm rpm-md names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChecksumType {
    /// `sha1`, or `sha` as old createrepo writes it.
    Sha1,
    /// `sha224`.
    Sha224,
    /// `sha256`.
    Sha256,
    /// `sha384`.
    Sha384,
    /// `sha512`.
    Sha512,
}

impl ChecksumType {
    /// From the `type` attribute.
    pub fn parse(s: &str) -> Option<ChecksumType> {
        Some(match s {
            "sha" | "sha1" => ChecksumType::Sha1,
            "sha224" => ChecksumType::Sha224,
            "sha256" => ChecksumType::Sha256,
            "sha384" => ChecksumType::Sha384,
            "sha512" => ChecksumType::Sha512,
            _ => return None,
        })
    }
    /// The canonical name (`sha1`, `sha256`, …).
    pub fn name(self) -> &'static str {
        match self {
            ChecksumType::Sha1 => "sha1",
            ChecksumType::Sha224 => "sha224",
            ChecksumType::Sha256 => "sha256",
            ChecksumType::Sha384 => "sha384",
            ChecksumType::Sha512 => "sha512",
        }
    }
    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            ChecksumType::Sha1 => 20,
            ChecksumType::Sha224 => 28,
            ChecksumType::Sha256 => 32,
            ChecksumType::Sha384 => 48,
            ChecksumType::Sha512 => 64,
        }
    }
    /// A streaming hasher of this type.
    pub fn hasher(self) -> Hasher {
        Hasher(match self {
            ChecksumType::Sha1 => HasherInner::Sha1(sha1::Sha1::new()),
            ChecksumType::Sha224 => HasherInner::Sha224(sha2::Sha224::new()),
            ChecksumType::Sha256 => HasherInner::Sha256(sha2::Sha256::new()),
            ChecksumType::Sha384 => HasherInner::Sha384(sha2::Sha384::new()),
            ChecksumType::Sha512 => HasherInner::Sha512(sha2::Sha512::new()),
        })
    }
}

impl fmt::Display for ChecksumType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a checksum is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecksumError {
    /// Unknown `type` (md5 and others rpm-md never needs for verification).
    #[error("unsupported checksum type {0:?}")]
    Type(String),
    /// Not hex, or not the length of the type.
    #[error("{kind} checksum {value:?} is not {len} hex digits")]
    Digest {
        /// The type.
        kind: ChecksumType,
        /// The value as found.
        value: String,
        /// Expected number of hex digits.
        len: usize,
    },
}

/// A typed digest (`sha256` + 64 lowercase hex digits).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Checksum {
    kind: ChecksumType,
    hex: String,
}

impl Checksum {
    /// From an rpm-md `type` attribute and the element text (hex, any case; stored lowercase).
    pub fn new(kind: &str, value: &str) -> Result<Checksum, ChecksumError> {
        let kind = ChecksumType::parse(kind).ok_or_else(|| ChecksumError::Type(kind.to_owned()))?;
        let v = value.trim();
        if v.len() != kind.digest_len() * 2 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ChecksumError::Digest {
                kind,
                value: value.to_owned(),
                len: kind.digest_len() * 2,
            });
        }
        Ok(Checksum {
            kind,
            hex: v.to_ascii_lowercase(),
        })
    }
    /// The checksum of `data` with `kind`.
    pub fn of(kind: ChecksumType, data: &[u8]) -> Checksum {
        let mut h = kind.hasher();
        h.update(data);
        h.finish()
    }
    /// The algorithm.
    pub fn kind(&self) -> ChecksumType {
        self.kind
    }
    /// Lowercase hex digest.
    pub fn hex(&self) -> &str {
        &self.hex
    }
    /// Does `data` have this checksum?
    pub fn verify(&self, data: &[u8]) -> bool {
        Checksum::of(self.kind, data) == *self
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.hex)
    }
}

enum HasherInner {
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

/// Incremental hashing for downloads verified while they stream.
pub struct Hasher(HasherInner);

impl Hasher {
    /// Feed bytes.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            HasherInner::Sha1(h) => h.update(data),
            HasherInner::Sha224(h) => h.update(data),
            HasherInner::Sha256(h) => h.update(data),
            HasherInner::Sha384(h) => h.update(data),
            HasherInner::Sha512(h) => h.update(data),
        }
    }
    /// The checksum of everything fed.
    pub fn finish(self) -> Checksum {
        let (kind, bytes) = match self.0 {
            HasherInner::Sha1(h) => (ChecksumType::Sha1, h.finalize().to_vec()),
            HasherInner::Sha224(h) => (ChecksumType::Sha224, h.finalize().to_vec()),
            HasherInner::Sha256(h) => (ChecksumType::Sha256, h.finalize().to_vec()),
            HasherInner::Sha384(h) => (ChecksumType::Sha384, h.finalize().to_vec()),
            HasherInner::Sha512(h) => (ChecksumType::Sha512, h.finalize().to_vec()),
        };
        Checksum {
            kind,
            hex: hex::encode(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_verifies_and_rejects() {
        let c = Checksum::of(ChecksumType::Sha256, b"abc");
        assert_eq!(
            c.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(Checksum::new("sha256", &c.hex().to_uppercase())
            .unwrap()
            .verify(b"abc"));
        let s = Checksum::new("sha", "a9993e364706816aba3e25717850c26c9cd0d89d").unwrap();
        assert_eq!(s.kind(), ChecksumType::Sha1);
        assert!(s.verify(b"abc"));
        assert!(!s.verify(b"abd"));
        assert_eq!(
            Checksum::new("md5", "00"),
            Err(ChecksumError::Type("md5".into()))
        );
        assert!(matches!(
            Checksum::new("sha256", "abc"),
            Err(ChecksumError::Digest { .. })
        ));
        assert!(matches!(
            Checksum::new("sha1", "z9993e364706816aba3e25717850c26c9cd0d89d"),
            Err(ChecksumError::Digest { .. })
        ));
    }
}
