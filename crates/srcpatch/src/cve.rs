//! CVE identifiers (`CVE-2024-1234`), validated on construction so a changelog entry
//! or report can only ever carry well-formed ids.

use std::fmt;
use std::str::FromStr;

/// Not a `CVE-YYYY-NNNN` id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CVE id {0:?} (expected CVE-YYYY-NNNN with at least four digits)")]
pub struct CveError(pub String);

/// A CVE identifier, `CVE-YYYY-NNNN` with four or more digits after the year.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CveId(String);

impl CveId {
    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CveId {
    type Err = CveError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        let ok = s
            .strip_prefix("CVE-")
            .and_then(|r| r.split_once('-'))
            .is_some_and(|(y, n)| {
                y.len() == 4 && digits(y) && n.len() >= 4 && n.len() <= 19 && digits(n)
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(CveError(s.chars().take(64).collect()))
        }
    }
}

impl fmt::Display for CveId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids() {
        for bad in [
            "CVE-99-1234",
            "CVE-2024-123",
            "cve-2024-1234",
            "CVE-2024-12a4",
            "CVE-2024-",
        ] {
            assert!(bad.parse::<CveId>().is_err(), "{bad}");
        }
        assert!("CVE-2024-1234567".parse::<CveId>().is_ok());
        assert_eq!(
            "CVE-2024-1234".parse::<CveId>().unwrap().to_string(),
            "CVE-2024-1234"
        );
    }
}
