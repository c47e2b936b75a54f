//! Versions of rebuilt sources from OBS-style release counters: a [`VersionPattern`]
//! such as `+eol12u<CI_CNT>` (the same syntax as prjconf's `Cryo-ReleasePattern`) is
//! expanded with the [`ReleaseCounters`] and appended to the Debian version, so
//! `2.10-3` becomes `2.10-3+eol12u1`. A suffix produced earlier by the same pattern is
//! replaced rather than stacked, and the result must sort after the current version.

use std::fmt;
use std::str::FromStr;

use cryo_debian::version::{Version, VersionError};

/// Why a pattern or the next version was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NextVersionError {
    /// The pattern has an unknown placeholder, an unclosed `<`, or a character that is
    /// not allowed in a Debian revision.
    #[error("invalid version pattern {pattern:?}: {reason}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The result is not a valid Debian version.
    #[error("version {text:?} is invalid: {source}")]
    Invalid {
        /// The rejected text.
        text: String,
        /// Cause.
        #[source]
        source: VersionError,
    },
    /// The result does not sort after the current version (dpkg would not upgrade).
    #[error("new version {new} is not greater than {current}")]
    NotNewer {
        /// The current version.
        current: String,
        /// The computed version.
        new: String,
    },
}

/// OBS release counters: `<CI_CNT>` (check-in count: how many times the package's
/// sources changed in the project) and `<B_CNT>` (rebuild count of the same sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReleaseCounters {
    /// `<CI_CNT>`.
    pub ci_cnt: u64,
    /// `<B_CNT>`.
    pub b_cnt: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    CiCnt,
    BCnt,
}

/// A validated version suffix pattern: letters, digits, `+`, `.`, `~` and the
/// placeholders `<CI_CNT>` and `<B_CNT>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionPattern {
    text: String,
    segments: Vec<Segment>,
}

impl VersionPattern {
    /// cryo's default for a Debian release: `+eol<major>u<CI_CNT>` (`+eol12u<CI_CNT>`).
    pub fn default_for(debian_major: u32) -> Self {
        Self {
            text: format!("+eol{debian_major}u<CI_CNT>"),
            segments: vec![
                Segment::Literal(format!("+eol{debian_major}u")),
                Segment::CiCnt,
            ],
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The suffix for `counters`.
    pub fn expand(&self, counters: &ReleaseCounters) -> String {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.clone(),
                Segment::CiCnt => counters.ci_cnt.to_string(),
                Segment::BCnt => counters.b_cnt.to_string(),
            })
            .collect()
    }

    /// Whether `s` is entirely an expansion of this pattern (counters as digit runs).
    fn matches(&self, s: &str) -> bool {
        fn go(segs: &[Segment], s: &str) -> bool {
            match segs.split_first() {
                None => s.is_empty(),
                Some((Segment::Literal(l), rest)) => {
                    s.strip_prefix(l.as_str()).is_some_and(|t| go(rest, t))
                }
                Some((_, rest)) => {
                    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
                    (1..=digits).any(|n| go(rest, &s[n..]))
                }
            }
        }
        go(&self.segments, s)
    }
}

impl FromStr for VersionPattern {
    type Err = NextVersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason| NextVersionError::BadPattern {
            pattern: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(bad("empty"));
        }
        let mut segments = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('<') {
                let (name, tail) = after.split_once('>').ok_or_else(|| bad("unclosed `<`"))?;
                segments.push(match name {
                    "CI_CNT" => Segment::CiCnt,
                    "B_CNT" => Segment::BCnt,
                    _ => return Err(bad("unknown placeholder (known: <CI_CNT>, <B_CNT>)")),
                });
                rest = tail;
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                let lit = &rest[..end];
                if !lit
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.~".contains(c))
                {
                    return Err(bad(
                        "only letters, digits, `+`, `.`, `~` and placeholders may appear",
                    ));
                }
                segments.push(Segment::Literal(lit.to_owned()));
                rest = &rest[end..];
            }
        }
        if !matches!(segments.first(), Some(Segment::Literal(_))) {
            return Err(bad("must start with a literal such as `+eol12u`"));
        }
        if segments
            .windows(2)
            .any(|w| !matches!(w[0], Segment::Literal(_)) && !matches!(w[1], Segment::Literal(_)))
        {
            return Err(bad("two placeholders must be separated by a literal"));
        }
        Ok(Self {
            text: text.to_owned(),
            segments,
        })
    }
}

impl fmt::Display for VersionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Where the new version's suffix comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suffix<'a> {
    /// The project's pattern, expanded with the counters.
    Pattern(&'a VersionPattern),
    /// An explicit `--version-suffix`, appended as given.
    Explicit(&'a str),
}

/// The version of the rebuilt source: `current` with the suffix appended. With a
/// pattern, a trailing suffix the same pattern produced before is replaced
/// (`2.10-3+eol12u1` → `2.10-3+eol12u2`). The epoch is kept. The result must be a
/// valid Debian version greater than `current`.
pub fn next_version(
    current: &Version,
    suffix: Suffix<'_>,
    counters: &ReleaseCounters,
) -> Result<Version, NextVersionError> {
    let text = current.as_str();
    let (base, add) = match suffix {
        Suffix::Pattern(p) => {
            let upstream_start = text.len() - current.without_epoch().len();
            let base = (upstream_start + 1..text.len())
                .filter(|&i| text.is_char_boundary(i))
                .find(|&i| p.matches(&text[i..]))
                .map_or(text, |i| &text[..i]);
            (base, p.expand(counters))
        }
        Suffix::Explicit(s) => (text, s.to_owned()),
    };
    let new_text = format!("{base}{add}");
    let new: Version = new_text
        .parse()
        .map_err(|source| NextVersionError::Invalid {
            text: new_text.clone(),
            source,
        })?;
    if new <= *current {
        return Err(NextVersionError::NotNewer {
            current: text.to_owned(),
            new: new_text,
        });
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(cur: &str, pat: &str, ci: u64, b: u64) -> Result<String, NextVersionError> {
        let p: VersionPattern = pat.parse()?;
        let c = ReleaseCounters {
            ci_cnt: ci,
            b_cnt: b,
        };
        next_version(&cur.parse().unwrap(), Suffix::Pattern(&p), &c).map(|v| v.to_string())
    }

    #[test]
    fn appends_pattern() {
        assert_eq!(
            next("2.10-3", "+eol12u<CI_CNT>", 1, 0).unwrap(),
            "2.10-3+eol12u1"
        );
        assert_eq!(
            next("12.4+deb12u15", "+eol12u<CI_CNT>", 1, 0).unwrap(),
            "12.4+deb12u15+eol12u1"
        );
        assert_eq!(
            next("1:2.3-4", "+eol12u<CI_CNT>", 7, 0).unwrap(),
            "1:2.3-4+eol12u7"
        );
        assert_eq!(
            next("2.10-3", "+eol12u<CI_CNT>.<B_CNT>", 3, 2).unwrap(),
            "2.10-3+eol12u3.2"
        );
        let d = VersionPattern::default_for(12);
        assert_eq!(d.as_str(), "+eol12u<CI_CNT>");
        assert_eq!(d, "+eol12u<CI_CNT>".parse().unwrap());
    }

    #[test]
    fn replaces_own_suffix() {
        assert_eq!(
            next("2.10-3+eol12u1", "+eol12u<CI_CNT>", 2, 0).unwrap(),
            "2.10-3+eol12u2"
        );
        assert_eq!(
            next("1:2.10-3+eol12u9.1", "+eol12u<CI_CNT>.<B_CNT>", 10, 1).unwrap(),
            "1:2.10-3+eol12u10.1"
        );
        let e = next("2.10-3+eol12u2", "+eol12u<CI_CNT>", 1, 0).unwrap_err();
        assert!(matches!(e, NextVersionError::NotNewer { .. }), "{e}");
    }

    #[test]
    fn explicit_suffix_and_errors() {
        let c = ReleaseCounters::default();
        let v = next_version(&"2.10-3".parse().unwrap(), Suffix::Explicit("+deb12u1"), &c);
        assert_eq!(v.unwrap().as_str(), "2.10-3+deb12u1");
        let v = next_version(&"2.10-3".parse().unwrap(), Suffix::Explicit("~rc1"), &c);
        assert!(matches!(v, Err(NextVersionError::NotNewer { .. })));
        let v = next_version(&"2.10-3".parse().unwrap(), Suffix::Explicit("+a b"), &c);
        assert!(matches!(v, Err(NextVersionError::Invalid { .. })));
        for bad in [
            "",
            "+x<FOO>",
            "+x<CI_CNT",
            "-1<CI_CNT>",
            "+<CI_CNT><B_CNT>",
            "+a:b",
            "<CI_CNT>",
        ] {
            assert!(bad.parse::<VersionPattern>().is_err(), "{bad:?}");
        }
    }
}
