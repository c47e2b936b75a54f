//! Debian package versions (`[epoch:]upstream[-revision]`) with ordering that matches
//! `dpkg --compare-versions` exactly.
//!
//! Written here rather than pulled from a crate because it is ~100 lines of dpkg's
//! `verrevcmp` and this crate needs `Eq`/`Hash` consistent with that order (dpkg treats
//! `1.0`, `1.0-0` and `0:1.00` as equal).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// Why a version string was rejected (mirrors dpkg's `parseversion`, but treating its
/// warnings as errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Empty string.
    #[error("version string is empty")]
    Empty,
    /// Contains whitespace.
    #[error("version {0:?} has embedded whitespace")]
    Whitespace(String),
    /// Epoch is not a non-negative integer that fits in `u32`.
    #[error("version {0:?}: epoch is not a small non-negative number")]
    BadEpoch(String),
    /// Nothing after the epoch colon, or an empty revision after the last `-`.
    #[error("version {0:?}: empty upstream version or revision")]
    EmptyPart(String),
    /// Upstream part does not start with a digit.
    #[error("version {0:?}: upstream version does not start with a digit")]
    NoLeadingDigit(String),
    /// A character outside the allowed set.
    #[error("version {0:?}: invalid character {1:?}")]
    InvalidChar(String, char),
}

/// A validated Debian version. `Ord`, `Eq` and `Hash` follow dpkg; `Display` reproduces
/// the original text.
#[derive(Clone)]
pub struct Version {
    text: String,
    epoch: u32,
    /// Byte range of the upstream part in `text`.
    upstream: (usize, usize),
    /// Start of the revision in `text` (after the last `-`), if any.
    revision: Option<usize>,
}

impl Version {
    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }
    /// The upstream version.
    pub fn upstream(&self) -> &str {
        &self.text[self.upstream.0..self.upstream.1]
    }
    /// The Debian revision, if present.
    pub fn revision(&self) -> Option<&str> {
        self.revision.map(|r| &self.text[r..])
    }
    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The version without epoch, as used in file names (`hello_2.10-3.dsc`).
    pub fn without_epoch(&self) -> &str {
        &self.text[self.upstream.0..]
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(VersionError::Empty);
        }
        let owned = || s.to_owned();
        if s.chars().any(char::is_whitespace) {
            return Err(VersionError::Whitespace(owned()));
        }
        let (epoch, up_start) = match s.find(':') {
            Some(i) => {
                let e = &s[..i];
                if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(VersionError::BadEpoch(owned()));
                }
                (
                    e.parse::<u32>()
                        .map_err(|_| VersionError::BadEpoch(owned()))?,
                    i + 1,
                )
            }
            None => (0, 0),
        };
        let (up_end, revision) = match s[up_start..].rfind('-') {
            Some(i) => (up_start + i, Some(up_start + i + 1)),
            None => (s.len(), None),
        };
        let upstream = &s[up_start..up_end];
        if upstream.is_empty() || revision.is_some_and(|r| r >= s.len()) {
            return Err(VersionError::EmptyPart(owned()));
        }
        if !upstream.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(VersionError::NoLeadingDigit(owned()));
        }
        if let Some(c) = upstream
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || ".-+~:".contains(c)))
        {
            return Err(VersionError::InvalidChar(owned(), c));
        }
        if let Some(r) = revision {
            if let Some(c) = s[r..]
                .chars()
                .find(|&c| !(c.is_ascii_alphanumeric() || ".+~".contains(c)))
            {
                return Err(VersionError::InvalidChar(owned(), c));
            }
        }
        Ok(Version {
            text: s.to_owned(),
            epoch,
            upstream: (up_start, up_end),
            revision,
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({:?})", self.text)
    }
}

/// dpkg's character weight: `~` sorts before everything (even the end), letters before
/// other characters.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`.
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied());
            let bc = order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

/// Feed the dpkg-equivalence class of `s` to a hasher: alternating non-digit runs and
/// digit runs without leading zeros; a trailing empty pair is dropped.
fn hash_part<H: Hasher>(s: &str, h: &mut H) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && !b[i].is_ascii_digit() {
            i += 1;
        }
        let nondigit = &b[start..i];
        while i < b.len() && b[i] == b'0' {
            i += 1;
        }
        let dstart = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if !(nondigit.is_empty() && dstart == i) {
            nondigit.hash(h);
            b[dstart..i].hash(h);
        }
    }
    0xffu8.hash(h);
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream().as_bytes(), other.upstream().as_bytes()))
            .then_with(|| {
                verrevcmp(
                    self.revision().unwrap_or("").as_bytes(),
                    other.revision().unwrap_or("").as_bytes(),
                )
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.epoch.hash(state);
        hash_part(self.upstream(), state);
        hash_part(self.revision().unwrap_or(""), state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn parts() {
        let x = v("1:2.10-3+deb12u1");
        assert_eq!(
            (x.epoch(), x.upstream(), x.revision()),
            (1, "2.10", Some("3+deb12u1"))
        );
        assert_eq!(x.without_epoch(), "2.10-3+deb12u1");
        let y = v("1.0-beta-2");
        assert_eq!((y.upstream(), y.revision()), ("1.0-beta", Some("2")));
        assert_eq!(x.to_string(), "1:2.10-3+deb12u1");
    }

    #[test]
    fn known_orderings() {
        assert!(v("1.0~rc1") < v("1.0"));
        assert!(v("1.0") < v("1.0+b1"));
        assert!(v("1:0.1") > v("9.9"));
        assert!(v("2.10-3") < v("2.10-10"));
        assert!(v("1.0a") > v("1.0"));
        assert!(v("1.0~") > v("1.0~~"));
        assert_eq!(v("1.0"), v("1.0-0"));
        assert_eq!(v("0:1.00"), v("1.0"));
    }

    #[test]
    fn equal_versions_hash_equal() {
        use std::collections::hash_map::DefaultHasher;
        let h = |x: &Version| {
            let mut s = DefaultHasher::new();
            x.hash(&mut s);
            s.finish()
        };
        assert_eq!(h(&v("1.0")), h(&v("0:1.00-0")));
        assert_eq!(h(&v("1.0")), h(&v("1.")));
        assert_ne!(h(&v("1.0")), h(&v("1.0a")));
    }

    #[test]
    fn rejects_invalid() {
        for bad in [
            "", "a1.0", "1.0-", ":1.0", "x:1.0", "1:", "1 .0", "1.0_1", "1.0-a_b",
        ] {
            assert!(bad.parse::<Version>().is_err(), "{bad:?} accepted");
        }
    }
}
