//! Versions the way rpm compares them: [`rpmvercmp`] (segments of digits or letters, `~`
//! before everything, `^` after the base version but before anything else that follows),
//! and [`Evr`], `[EPOCH:]VERSION[-RELEASE]`, ordered like rpm's `rpmverCmp` (a missing
//! epoch is 0, a missing release sorts before any release). Dependency matching, where a
//! missing release matches any release, is `deps::Constraint::overlaps`.

use std::cmp::Ordering;
use std::fmt;

/// Why a string is not an `[E:]V[-R]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvrError {
    /// Nothing to parse.
    #[error("empty version")]
    Empty,
    /// `E:` with an epoch that does not fit 32 bits (rpm's `RPMTAG_EPOCH` is an int32).
    #[error("epoch of {0:?} is out of range")]
    Epoch(String),
    /// `E:-R` or `E:`.
    #[error("no version in {0:?}")]
    NoVersion(String),
    /// `V-` with nothing after the dash.
    #[error("empty release in {0:?}")]
    EmptyRelease(String),
    /// Whitespace or control characters, or a `:` / `-` where rpm would not accept one.
    #[error("invalid character {ch:?} in {text:?}")]
    Char {
        /// The offending character.
        ch: char,
        /// The whole text.
        text: String,
    },
}

/// rpm's `rpmvercmp(a, b)`: -1, 0 or 1 as an [`Ordering`], character for character the
/// algorithm of rpm ≥ 4.15 (`rpmio/rpmvercmp.c`): separators are every byte that is not an
/// ASCII letter or digit, `~` or `^`; digit segments compare numerically (leading zeros
/// dropped, longer wins), letter segments with `strcmp`, a digit segment beats a letter
/// segment; `~` sorts before anything (even the end), `^` after the end but before
/// anything else.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0usize, 0usize);
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    while i < a.len() || j < b.len() {
        while i < a.len() && sep(a[i]) {
            i += 1;
        }
        while j < b.len() && sep(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(ca), Some(_)) = (ca, cb) else {
            break;
        };
        let isnum = ca.is_ascii_digit();
        let class = |c: &u8| {
            if isnum {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let ea = i + a[i..].iter().take_while(|c| class(c)).count();
        let eb = j + b[j..].iter().take_while(|c| class(c)).count();
        // The segment of `b` is empty: the two segments are of different kinds.
        if eb == j {
            return if isnum {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (mut sa, mut sb) = (&a[i..ea], &b[j..eb]);
        if isnum {
            while sa.first() == Some(&b'0') {
                sa = &sa[1..];
            }
            while sb.first() == Some(&b'0') {
                sb = &sb[1..];
            }
            match sa.len().cmp(&sb.len()) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        match sa.cmp(sb) {
            Ordering::Equal => {}
            other => return other,
        }
        i = ea;
        j = eb;
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

/// `[EPOCH:]VERSION[-RELEASE]`. The epoch is `None` when not written (it compares as 0),
/// the release `None` when not written (in dependencies: "any release").
///
/// Equality is rpm's comparison (`1.0` equals `1_0`, `0:1` equals `1`); [`Evr::same_text`]
/// compares the spelling.
#[derive(Debug, Clone)]
pub struct Evr {
    epoch: Option<u32>,
    version: String,
    release: Option<String>,
}

fn check_chars(text: &str, part: &str, forbid: &[char]) -> Result<(), EvrError> {
    match part
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || forbid.contains(c))
    {
        Some(ch) => Err(EvrError::Char {
            ch,
            text: text.to_owned(),
        }),
        None => Ok(()),
    }
}

impl Evr {
    /// Build from parts; the version must be non-empty and hold no `-`, the release (if
    /// any) non-empty; neither may hold `:` or whitespace.
    pub fn new(epoch: Option<u32>, version: &str, release: Option<&str>) -> Result<Evr, EvrError> {
        let text = Evr::display_parts(epoch, version, release);
        if version.is_empty() {
            return Err(EvrError::NoVersion(text));
        }
        check_chars(&text, version, &[':', '-'])?;
        if let Some(r) = release {
            if r.is_empty() {
                return Err(EvrError::EmptyRelease(text));
            }
            check_chars(&text, r, &[':', '-'])?;
        }
        Ok(Evr {
            epoch,
            version: version.to_owned(),
            release: release.map(str::to_owned),
        })
    }

    /// Parse `[E:]V[-R]` as rpm's `parseEVR` splits it: the epoch is the leading digits
    /// before a `:` (an empty epoch, `:1.0`, is 0), the release what follows the last `-`.
    pub fn parse(text: &str) -> Result<Evr, EvrError> {
        if text.is_empty() {
            return Err(EvrError::Empty);
        }
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let (epoch, rest) = match text[digits..].strip_prefix(':') {
            Some(rest) if digits == 0 => (Some(0), rest),
            Some(rest) => (
                Some(
                    text[..digits]
                        .parse::<u32>()
                        .map_err(|_| EvrError::Epoch(text.to_owned()))?,
                ),
                rest,
            ),
            None => (None, text),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v, Some(r)),
            None => (rest, None),
        };
        if version.is_empty() {
            return Err(EvrError::NoVersion(text.to_owned()));
        }
        if release == Some("") {
            return Err(EvrError::EmptyRelease(text.to_owned()));
        }
        check_chars(text, version, &[':', '-'])?;
        if let Some(r) = release {
            check_chars(text, r, &[':'])?;
        }
        Ok(Evr {
            epoch,
            version: version.to_owned(),
            release: release.map(str::to_owned),
        })
    }

    fn display_parts(epoch: Option<u32>, version: &str, release: Option<&str>) -> String {
        let mut s = String::new();
        if let Some(e) = epoch {
            s.push_str(&format!("{e}:"));
        }
        s.push_str(version);
        if let Some(r) = release {
            s.push('-');
            s.push_str(r);
        }
        s
    }

    /// The epoch as written.
    pub fn epoch(&self) -> Option<u32> {
        self.epoch
    }
    /// The epoch, 0 when not written.
    pub fn epoch_or_zero(&self) -> u32 {
        self.epoch.unwrap_or(0)
    }
    /// The version.
    pub fn version(&self) -> &str {
        &self.version
    }
    /// The release, if written.
    pub fn release(&self) -> Option<&str> {
        self.release.as_deref()
    }
    /// The same spelling (epoch, version and release as written).
    pub fn same_text(&self, other: &Evr) -> bool {
        self.epoch == other.epoch && self.version == other.version && self.release == other.release
    }
    /// `V-R` without the epoch, as file names and `dnf` print it.
    pub fn version_release(&self) -> String {
        Evr::display_parts(None, &self.version, self.release.as_deref())
    }
}

impl fmt::Display for Evr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Evr::display_parts(
            self.epoch,
            &self.version,
            self.release.as_deref(),
        ))
    }
}

impl std::str::FromStr for Evr {
    type Err = EvrError;
    fn from_str(s: &str) -> Result<Evr, EvrError> {
        Evr::parse(s)
    }
}

impl Ord for Evr {
    /// rpm's `rpmverCmp`: epochs (missing = 0), then versions with [`rpmvercmp`], then
    /// releases, a missing release before any written one.
    fn cmp(&self, other: &Evr) -> Ordering {
        self.epoch_or_zero()
            .cmp(&other.epoch_or_zero())
            .then_with(|| rpmvercmp(&self.version, &other.version))
            .then_with(|| match (&self.release, &other.release) {
                (None, None) => Ordering::Equal,
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
                (Some(a), Some(b)) => rpmvercmp(a, b),
            })
    }
}

impl PartialOrd for Evr {
    fn partial_cmp(&self, other: &Evr) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Evr {
    fn eq(&self, other: &Evr) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Evr {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_splits_like_rpm() {
        let e = Evr::parse("2:1.0-3.el7").unwrap();
        assert_eq!(
            (e.epoch(), e.version(), e.release()),
            (Some(2), "1.0", Some("3.el7"))
        );
        let e = Evr::parse("1.0").unwrap();
        assert_eq!((e.epoch(), e.release()), (None, None));
        assert_eq!(Evr::parse(":1.0").unwrap().epoch(), Some(0));
        assert_eq!(Evr::parse("1.0-3").unwrap().to_string(), "1.0-3");
        assert_eq!(Evr::parse("0:1.0-3").unwrap().to_string(), "0:1.0-3");
        assert!(Evr::parse("").is_err());
        assert!(Evr::parse("1:").is_err());
        assert!(Evr::parse("1.0-").is_err());
        assert!(Evr::parse("1 0").is_err());
        assert!(Evr::parse("99999999999:1").is_err());
        // A `-` in the version is impossible: the last `-` starts the release.
        let e = Evr::parse("1-2-3");
        assert!(e.is_err(), "{e:?}");
    }

    #[test]
    fn epoch_missing_is_zero_release_missing_is_lowest() {
        let p = |s| Evr::parse(s).unwrap();
        assert_eq!(p("0:1.0"), p("1.0"));
        assert!(p("1:0.1") > p("9.9"));
        assert!(p("1.0-1") > p("1.0"));
        assert!(p("1.0-1") < p("1.0-2"));
        assert!(!p("1.0").same_text(&p("0:1.0")));
    }
}
