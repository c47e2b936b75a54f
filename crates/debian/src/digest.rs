//! Hex digests as they appear in Debian indices (`SHA256`, `MD5Sum`, `Checksums-Sha256`):
//! fixed-size newtypes parsed from and displayed as lowercase hex.

use std::fmt;
use std::str::FromStr;

/// A digest string that is not the right length of hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} digest {text:?}: expected {len} hex digits")]
pub struct DigestError {
    /// Which digest was being parsed.
    pub kind: &'static str,
    /// Expected number of hex digits.
    pub len: usize,
    /// The offending text.
    pub text: String,
}

fn parse_hex<const N: usize>(s: &str, kind: &'static str) -> Result<[u8; N], DigestError> {
    let err = || DigestError {
        kind,
        len: N * 2,
        text: s.to_owned(),
    };
    let b = s.as_bytes();
    if b.len() != N * 2 {
        return Err(err());
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nib(b[2 * i]).ok_or_else(err)? << 4) | nib(b[2 * i + 1]).ok_or_else(err)?;
    }
    Ok(out)
}

macro_rules! digest {
    ($(#[$doc:meta])* $name:ident, $n:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(transparent)]
        pub struct $name(pub [u8; $n]);

        impl FromStr for $name {
            type Err = DigestError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex::<$n>(s, $kind).map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for b in self.0 {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }
    };
}

digest!(
    /// A SHA-256 digest.
    Sha256Digest, 32, "SHA256"
);
digest!(
    /// An MD5 digest (only for completeness of Release parsing; never trust it).
    Md5Digest, 16, "MD5"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_errors() {
        let h = "31e066137a962676e89f69d1b65382de95a7ef7d914b8cb956f41ea72e0f516b";
        let d: Sha256Digest = h.parse().unwrap();
        assert_eq!(d.to_string(), h);
        assert_eq!(h.to_uppercase().parse::<Sha256Digest>().unwrap(), d);
        assert!("abc".parse::<Sha256Digest>().is_err());
        assert!(h.replace('3', "g").parse::<Sha256Digest>().is_err());
        assert!("0ed6d4c8891eb86358b94bb35d9e4da4"
            .parse::<Md5Digest>()
            .is_ok());
    }
}
