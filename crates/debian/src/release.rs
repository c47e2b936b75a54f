//! `Release` / `InRelease` bodies: suite metadata, the signed file lists (`SHA256`,
//! `MD5Sum`) and the `Valid-Until` check with an explicit policy for expired metadata.
//!
//! Parse only text returned by [`crate::openpgp`] verification, never a raw InRelease.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::date::{format_rfc2822, parse_rfc2822, DateError};
use crate::deb822::{self, Deb822Error};
use crate::digest::{DigestError, Md5Digest, Sha256Digest};

/// Errors of Release parsing and validity checks.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// deb822 syntax error.
    #[error(transparent)]
    Syntax(#[from] Deb822Error),
    /// The text holds no paragraph, or more than one.
    #[error("a Release file must hold exactly one paragraph, found {0}")]
    ParagraphCount(usize),
    /// A date field is not RFC 2822.
    #[error("field {field}: {source}")]
    Date {
        /// `Date` or `Valid-Until`.
        field: &'static str,
        /// Parse error.
        #[source]
        source: DateError,
    },
    /// A line of a checksum list is malformed.
    #[error("{field} line {line:?}: expected `<hash> <size> <path>`")]
    FileLine {
        /// The list's field name.
        field: &'static str,
        /// The offending line.
        line: String,
    },
    /// A hash in a checksum list is malformed.
    #[error("{field}: {source}")]
    Digest {
        /// The list's field name.
        field: &'static str,
        /// Parse error.
        #[source]
        source: DigestError,
    },
    /// The metadata has expired and the policy refuses expired metadata.
    #[error(
        "Release file expired: Valid-Until is {} ({valid_until}) but now is {} ({now}); \
         use an explicit expired-metadata policy to accept a frozen mirror",
        format_rfc2822(*valid_until, 0), format_rfc2822(*now, 0)
    )]
    Expired {
        /// Valid-Until in unix seconds.
        valid_until: i64,
        /// The injected current time in unix seconds.
        now: i64,
    },
}

/// One entry of a checksum list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry<D> {
    /// The digest.
    pub digest: D,
    /// Size in bytes.
    pub size: u64,
}

/// A parsed Release body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Release {
    /// `Origin`.
    pub origin: Option<String>,
    /// `Label`.
    pub label: Option<String>,
    /// `Suite`.
    pub suite: Option<String>,
    /// `Codename`.
    pub codename: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `Date`, unix seconds.
    pub date: Option<i64>,
    /// `Valid-Until`, unix seconds.
    pub valid_until: Option<i64>,
    /// `Architectures`.
    pub architectures: Vec<String>,
    /// `Components`.
    pub components: Vec<String>,
    /// `Acquire-By-Hash: yes`.
    pub acquire_by_hash: bool,
    /// `SHA256` list: path relative to the suite directory → digest and size.
    pub sha256: BTreeMap<String, FileEntry<Sha256Digest>>,
    /// `MD5Sum` list (informational only).
    pub md5sum: BTreeMap<String, FileEntry<Md5Digest>>,
}

/// What to do with a Release whose `Valid-Until` lies in the past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryPolicy {
    /// Refuse expired metadata (apt's default).
    Enforce,
    /// Accept expired metadata; the caller must record this decision (frozen EOL mirror).
    AllowExpired,
}

/// The outcome of [`Release::check_valid_until`] when it does not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// No `Valid-Until` field.
    NoExpiry,
    /// Still valid until the given unix time.
    ValidUntil(i64),
    /// Expired at `valid_until`, accepted because of [`ExpiryPolicy::AllowExpired`].
    ExpiredAccepted {
        /// Valid-Until in unix seconds.
        valid_until: i64,
        /// The injected current time.
        now: i64,
    },
}

fn words(v: Option<&str>) -> Vec<String> {
    v.map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn file_list<D: FromStr<Err = DigestError>>(
    p: &deb822::Paragraph<'_>,
    field: &'static str,
) -> Result<BTreeMap<String, FileEntry<D>>, ReleaseError> {
    let mut out = BTreeMap::new();
    let Some(f) = p.field(field) else {
        return Ok(out);
    };
    for line in f.lines().filter(|l| !l.trim().is_empty()) {
        let bad = || ReleaseError::FileLine {
            field,
            line: line.to_owned(),
        };
        let mut it = line.split_whitespace();
        let (Some(h), Some(size), Some(path), None) = (it.next(), it.next(), it.next(), it.next())
        else {
            return Err(bad());
        };
        let digest = h
            .parse()
            .map_err(|source| ReleaseError::Digest { field, source })?;
        let size = size.parse().map_err(|_| bad())?;
        out.insert(path.to_owned(), FileEntry { digest, size });
    }
    Ok(out)
}

impl Release {
    /// Parse a Release body (the verified text of an InRelease, or a Release file).
    pub fn parse(text: &str) -> Result<Release, ReleaseError> {
        let mut ps = deb822::parse(text)?;
        if ps.len() != 1 {
            return Err(ReleaseError::ParagraphCount(ps.len()));
        }
        let p = ps.remove(0);
        let s = |n: &str| p.get(n).map(str::to_owned);
        let date = |field: &'static str| {
            p.get(field)
                .map(parse_rfc2822)
                .transpose()
                .map_err(|source| ReleaseError::Date { field, source })
        };
        Ok(Release {
            origin: s("Origin"),
            label: s("Label"),
            suite: s("Suite"),
            codename: s("Codename"),
            version: s("Version"),
            date: date("Date")?,
            valid_until: date("Valid-Until")?,
            architectures: words(p.get("Architectures")),
            components: words(p.get("Components")),
            acquire_by_hash: p
                .get("Acquire-By-Hash")
                .is_some_and(|v| v.eq_ignore_ascii_case("yes")),
            sha256: file_list(&p, "SHA256")?,
            md5sum: file_list(&p, "MD5Sum")?,
        })
    }

    /// Check `Valid-Until` against the caller's `now` (unix seconds) under `policy`.
    pub fn check_valid_until(
        &self,
        now: i64,
        policy: ExpiryPolicy,
    ) -> Result<Validity, ReleaseError> {
        match self.valid_until {
            None => Ok(Validity::NoExpiry),
            Some(v) if now <= v => Ok(Validity::ValidUntil(v)),
            Some(valid_until) => match policy {
                ExpiryPolicy::Enforce => Err(ReleaseError::Expired { valid_until, now }),
                ExpiryPolicy::AllowExpired => Ok(Validity::ExpiredAccepted { valid_until, now }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "Origin: Debian\nSuite: stable-security\nCodename: bookworm-security\n\
        Date: Tue, 24 Nov 2026 00:34:33 UTC\nValid-Until: Tue, 01 Dec 2026 00:34:33 UTC\n\
        Architectures: amd64 arm64\nComponents: main\nAcquire-By-Hash: yes\nMD5Sum:\n \
        0ed6d4c8891eb86358b94bb35d9e4da4 12 main/binary-amd64/Packages\nSHA256:\n \
        31e066137a962676e89f69d1b65382de95a7ef7d914b8cb956f41ea72e0f516b 12 main/binary-amd64/Packages\n";

    #[test]
    fn parses_fields_and_lists() {
        let r = Release::parse(BODY).unwrap();
        assert_eq!(r.codename.as_deref(), Some("bookworm-security"));
        assert_eq!(r.architectures, ["amd64", "arm64"]);
        assert!(r.acquire_by_hash);
        assert_eq!(r.sha256["main/binary-amd64/Packages"].size, 12);
        assert_eq!(r.md5sum.len(), 1);
        assert_eq!(r.date, Some(1_795_480_473));
    }

    #[test]
    fn valid_until_policy() {
        let r = Release::parse(BODY).unwrap();
        let until = r.valid_until.unwrap();
        assert_eq!(
            r.check_valid_until(until - 1, ExpiryPolicy::Enforce)
                .unwrap(),
            Validity::ValidUntil(until)
        );
        let e = r
            .check_valid_until(until + 86_400, ExpiryPolicy::Enforce)
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("Tue, 01 Dec 2026 00:34:33 +0000") && msg.contains("Wed, 02 Dec 2026"),
            "{msg}"
        );
        assert!(matches!(
            r.check_valid_until(until + 1, ExpiryPolicy::AllowExpired),
            Ok(Validity::ExpiredAccepted { .. })
        ));
    }

    #[test]
    fn rejects_bad_lists() {
        let bad = BODY.replace(
            " 12 main/binary-amd64/Packages\nSHA256",
            " x main/binary-amd64/Packages\nSHA256",
        );
        assert!(matches!(
            Release::parse(&bad),
            Err(ReleaseError::FileLine { .. })
        ));
        assert!(matches!(
            Release::parse("A: 1\n\nB: 2\n"),
            Err(ReleaseError::ParagraphCount(2))
        ));
    }
}
