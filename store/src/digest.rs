//! `B3Digest`: the BLAKE3 digest that names every object in the store.
//!
//! The canonical text form is 64 lowercase hex characters. Parsing accepts only that
//! length; upper-case hex is accepted and normalised, anything else is a clear error.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Length of a BLAKE3 digest in bytes.
pub const DIGEST_LEN: usize = 32;

/// A BLAKE3-256 digest.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct B3Digest([u8; DIGEST_LEN]);

/// Why a string or byte slice is not a digest.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DigestError {
    #[error("invalid digest {input:?}: expected 64 hex characters, got {len}")]
    Length { input: String, len: usize },
    #[error("invalid digest {input:?}: character {ch:?} at position {pos} is not hex")]
    NotHex { input: String, ch: char, pos: usize },
    #[error("invalid digest: expected {DIGEST_LEN} bytes, got {0}")]
    ByteLength(usize),
}

impl B3Digest {
    /// Digest of an in-memory byte string.
    pub fn of(data: &[u8]) -> Self {
        Self(*blake3::hash(data).as_bytes())
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; DIGEST_LEN] {
        &self.0
    }

    /// Canonical lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Build from raw bytes.
    pub const fn from_bytes(bytes: [u8; DIGEST_LEN]) -> Self {
        Self(bytes)
    }
}

impl From<blake3::Hash> for B3Digest {
    fn from(h: blake3::Hash) -> Self {
        Self(*h.as_bytes())
    }
}

impl TryFrom<&[u8]> for B3Digest {
    type Error = DigestError;
    fn try_from(value: &[u8]) -> Result<Self, Self::Error> {
        let arr: [u8; DIGEST_LEN] = value
            .try_into()
            .map_err(|_| DigestError::ByteLength(value.len()))?;
        Ok(Self(arr))
    }
}

impl FromStr for B3Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some((pos, ch)) = s.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
            // Report a wrong length first when the string is clearly not a digest.
            if s.chars().count() != DIGEST_LEN * 2 {
                return Err(DigestError::Length {
                    input: truncate(s),
                    len: s.chars().count(),
                });
            }
            return Err(DigestError::NotHex {
                input: truncate(s),
                ch,
                pos,
            });
        }
        if s.len() != DIGEST_LEN * 2 {
            return Err(DigestError::Length {
                input: truncate(s),
                len: s.len(),
            });
        }
        let mut out = [0u8; DIGEST_LEN];
        hex::decode_to_slice(s, &mut out).map_err(|_| DigestError::Length {
            input: truncate(s),
            len: s.len(),
        })?;
        Ok(Self(out))
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

impl fmt::Display for B3Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for B3Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "B3Digest({})", self.to_hex())
    }
}

impl Serialize for B3Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for B3Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Incremental hasher producing a [`B3Digest`].
#[derive(Default, Clone)]
pub struct B3Hasher(blake3::Hasher);

impl B3Hasher {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    pub fn finalize(&self) -> B3Digest {
        self.0.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_roundtrip_and_known_value() {
        let d = B3Digest::of(b"");
        assert_eq!(
            d.to_string(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(d.to_string().parse::<B3Digest>().unwrap(), d);
        assert_eq!(d.to_string().to_uppercase().parse::<B3Digest>().unwrap(), d);
    }

    #[test]
    fn bad_strings_are_clear_errors() {
        let e = "abc".parse::<B3Digest>().unwrap_err();
        assert!(
            e.to_string().contains("expected 64 hex characters, got 3"),
            "{e}"
        );
        let bad = format!("{}g", "a".repeat(63));
        let e = bad.parse::<B3Digest>().unwrap_err();
        assert!(e.to_string().contains("not hex"), "{e}");
        let e = "é".repeat(64).parse::<B3Digest>().unwrap_err();
        assert!(matches!(e, DigestError::NotHex { .. }), "{e}");
        assert!(B3Digest::try_from(&[0u8; 31][..]).is_err());
    }

    #[test]
    fn serde_is_hex_string() {
        let d = B3Digest::of(b"x");
        let j = serde_json::to_string(&d).unwrap();
        assert_eq!(j, format!("\"{d}\""));
        assert_eq!(serde_json::from_str::<B3Digest>(&j).unwrap(), d);
        assert!(serde_json::from_str::<B3Digest>("\"zz\"").is_err());
    }
}
