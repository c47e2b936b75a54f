//! The `debian/changelog` entry of a patched source: [`add_changelog_entry`] prepends
//! a deterministic entry (new version, change bullets, CVE ids, committer, a date given
//! by the caller, rendered in UTC) after checking it against the previous top entry.
//! Rendering and parsing reuse [`cryo_debian::changelog`], so the entry reads back with
//! the same code that derives `SOURCE_DATE_EPOCH`.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use cryo_debian::changelog::{self as debcl, parse_first_entry, Entry};
use cryo_debian::version::Version;

use crate::cve::CveId;

/// Width of a rendered change line, including its two-space indent.
const WIDTH: usize = 80;
/// Latest accepted date: 9999-12-31T23:59:59Z.
const MAX_DATE: i64 = 253_402_300_799;

/// Why the entry was not added. The changelog is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum ChangelogError {
    /// Reading or writing `debian/changelog` failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// The existing top entry does not parse.
    #[error("existing changelog: {0}")]
    Previous(#[source] debcl::ChangelogError),
    /// A field of the new entry is unusable.
    #[error("changelog {field} {value:?}: {reason}")]
    Invalid {
        /// Field name.
        field: &'static str,
        /// The value, shortened.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The new version does not sort after the previous entry's.
    #[error("new version {new} is not greater than the changelog's {previous}")]
    NotNewer {
        /// Top entry's version.
        previous: String,
        /// The new version.
        new: String,
    },
    /// The entry names another source package than the changelog.
    #[error("source {given:?} differs from the changelog's {previous:?}")]
    SourceMismatch {
        /// Top entry's source.
        previous: String,
        /// Given source.
        given: String,
    },
    /// Neither change lines nor CVE ids.
    #[error("a changelog entry needs at least one change or CVE id")]
    NoChanges,
    /// The rendered entry did not read back (a bug in this crate).
    #[error("rendered entry does not parse: {0}")]
    Rendered(#[source] debcl::ChangelogError),
    /// The rendered entry read back with different fields (a bug in this crate).
    #[error("rendered entry reads back differently")]
    RoundTrip,
}

/// `urgency=` values dpkg knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Urgency {
    /// `low`
    Low,
    /// `medium`
    Medium,
    /// `high`
    High,
    /// `emergency`
    Emergency,
    /// `critical`
    Critical,
}

impl Urgency {
    /// The value as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Emergency => "emergency",
            Self::Critical => "critical",
        }
    }
}

/// The new entry. Defaults come from the previous top entry where noted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangelogEntry {
    /// Source package; default (and required to be) the previous entry's.
    pub source: Option<String>,
    /// The new version (see [`crate::next_version`]).
    pub version: Version,
    /// Distribution; default the previous entry's distribution(s).
    pub distribution: Option<String>,
    /// Urgency; default `high` when CVE ids are given, else `medium`.
    pub urgency: Option<Urgency>,
    /// Change messages, one bullet each (wrapped at 80 columns; `\n` starts a new line).
    pub changes: Vec<String>,
    /// CVE ids; those not named in a change get a `* Fix CVE-...` bullet.
    pub cves: Vec<CveId>,
    /// The committer, `Name <email>`.
    pub maintainer: String,
    /// Entry date, unix seconds (rendered in UTC).
    pub date: i64,
}

fn invalid(field: &'static str, value: &str, reason: &'static str) -> ChangelogError {
    ChangelogError::Invalid {
        field,
        value: value.chars().take(120).collect(),
        reason,
    }
}

/// Render `entry` as the entry to put on top of a changelog whose top entry is `previous`.
pub fn render_entry(previous: &Entry, entry: &ChangelogEntry) -> Result<String, ChangelogError> {
    let source = match &entry.source {
        Some(s) if *s != previous.source => {
            return Err(ChangelogError::SourceMismatch {
                previous: previous.source.clone(),
                given: s.clone(),
            })
        }
        _ => previous.source.clone(),
    };
    if entry.version <= previous.version {
        return Err(ChangelogError::NotNewer {
            previous: previous.version.to_string(),
            new: entry.version.to_string(),
        });
    }
    let distributions = match &entry.distribution {
        Some(d) => {
            if d.is_empty()
                || !d
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-+._".contains(c))
            {
                return Err(invalid(
                    "distribution",
                    d,
                    "expected one name like bookworm-security",
                ));
            }
            vec![d.clone()]
        }
        None => previous.distributions.clone(),
    };
    check_maintainer(&entry.maintainer)?;
    if !(0..=MAX_DATE).contains(&entry.date) {
        return Err(invalid(
            "date",
            &entry.date.to_string(),
            "outside 1970..9999",
        ));
    }
    let mut changes = Vec::new();
    for c in &entry.changes {
        if c.chars().any(|ch| ch.is_control() && ch != '\n') {
            return Err(invalid("change", c, "control characters are not allowed"));
        }
        let lines: Vec<&str> = c.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        if lines.is_empty() {
            return Err(invalid("change", c, "empty"));
        }
        let mut prefix = "* ";
        for (n, line) in lines.into_iter().enumerate() {
            // `-m "* Fix x"` must not become `* * Fix x`.
            let line = if n == 0 {
                line.strip_prefix("* ").unwrap_or(line)
            } else {
                line
            };
            wrap(line, prefix, &mut changes);
            prefix = "  ";
        }
    }
    let cves: BTreeSet<&CveId> = entry.cves.iter().collect();
    let unnamed: Vec<&str> = cves
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !entry.changes.iter().any(|t| t.contains(c)))
        .collect();
    if !unnamed.is_empty() {
        wrap(&format!("Fix {}.", unnamed.join(", ")), "* ", &mut changes);
    }
    if changes.is_empty() {
        return Err(ChangelogError::NoChanges);
    }
    let urgency = entry.urgency.unwrap_or(if cves.is_empty() {
        Urgency::Medium
    } else {
        Urgency::High
    });
    let rendered = Entry {
        source,
        version: entry.version.clone(),
        distributions,
        urgency: urgency.as_str().to_owned(),
        changes,
        maintainer: entry.maintainer.clone(),
        timestamp: entry.date,
        utc_offset_minutes: 0,
    };
    let text = rendered.render();
    match parse_first_entry(&text, "new entry") {
        Ok(back) if back == rendered => Ok(text),
        Ok(_) => Err(ChangelogError::RoundTrip),
        Err(e) => Err(ChangelogError::Rendered(e)),
    }
}

/// Prepend `entry` to `DIR/debian/changelog` (written via a temporary file and a rename).
/// Returns the rendered entry.
pub fn add_changelog_entry(dir: &Path, entry: &ChangelogEntry) -> Result<String, ChangelogError> {
    let path = dir.join("debian/changelog");
    let io_err = |source| ChangelogError::Io {
        path: path.clone(),
        source,
    };
    let old = std::fs::read_to_string(&path).map_err(io_err)?;
    let previous = parse_first_entry(&old, "debian/changelog").map_err(ChangelogError::Previous)?;
    let text = render_entry(&previous, entry)?;
    let tmp = dir.join("debian/.changelog.cryo-new");
    std::fs::write(&tmp, format!("{text}{old}")).map_err(|source| ChangelogError::Io {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, &path).map_err(io_err)?;
    Ok(text)
}

/// `Name <email>` with a non-empty name, an email with `@`, and no double space (the
/// trailer separates maintainer and date with two spaces).
fn check_maintainer(m: &str) -> Result<(), ChangelogError> {
    let bad = |reason| invalid("maintainer", m, reason);
    if m.chars().any(char::is_control) || m.contains("  ") {
        return Err(bad("control characters or double spaces"));
    }
    let (name, rest) = m
        .rsplit_once(" <")
        .ok_or_else(|| bad("expected `Name <email>`"))?;
    let email = rest
        .strip_suffix('>')
        .ok_or_else(|| bad("expected `Name <email>`"))?;
    if name.trim().is_empty() || name.contains(['<', '>']) || name.starts_with(' ') {
        return Err(bad("empty or malformed name"));
    }
    if !email.contains('@') || email.contains(['<', '>', ' ']) {
        return Err(bad("malformed email"));
    }
    Ok(())
}

/// Word-wrap `text` into `out`: the first line starts with `first` (`* `), the rest are
/// indented by two spaces, each at most `WIDTH - 2` characters (render adds two more).
fn wrap(text: &str, first: &str, out: &mut Vec<String>) {
    let limit = WIDTH - 2;
    let mut line = first.to_owned();
    let mut has_word = false;
    for word in text.split_whitespace() {
        if has_word && line.chars().count() + 1 + word.chars().count() > limit {
            out.push(std::mem::replace(&mut line, "  ".to_owned()));
            has_word = false;
        }
        if has_word {
            line.push(' ');
        }
        line.push_str(word);
        has_word = true;
    }
    if has_word {
        out.push(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn previous() -> Entry {
        parse_first_entry(
            "hello (2.10-3) unstable; urgency=medium\n\n  * x\n\n -- A <a@b>  Mon, 26 Dec 2022 16:30:00 +0100\n",
            "c",
        )
        .unwrap()
    }

    fn entry() -> ChangelogEntry {
        ChangelogEntry {
            source: None,
            version: "2.10-3+eol12u1".parse().unwrap(),
            distribution: None,
            urgency: None,
            changes: vec!["Fix greeting overflow (CVE-2099-0001).".into()],
            cves: vec![
                "CVE-2099-0002".parse().unwrap(),
                "CVE-2099-0001".parse().unwrap(),
            ],
            maintainer: "Cryo Builder <cryo@example.org>".into(),
            date: 1_783_764_997,
        }
    }

    #[test]
    fn renders_deterministic_entry() {
        let text = render_entry(&previous(), &entry()).unwrap();
        assert_eq!(
            text,
            "hello (2.10-3+eol12u1) unstable; urgency=high\n\n  * Fix greeting overflow (CVE-2099-0001).\n  * Fix CVE-2099-0002.\n\n -- Cryo Builder <cryo@example.org>  Sat, 11 Jul 2026 10:16:37 +0000\n\n"
        );
        let mut e = entry();
        e.cves.clear();
        e.distribution = Some("bookworm-security".into());
        e.changes = vec![format!("* {} end\nsecond line", "word ".repeat(30))];
        let text = render_entry(&previous(), &e).unwrap();
        assert!(text.starts_with("hello (2.10-3+eol12u1) bookworm-security; urgency=medium\n"));
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
        assert!(text.contains("\n    second line\n"), "{text}");
        assert!(text.contains("\n  * word word"), "{text}");
    }

    #[test]
    fn validation() {
        let p = previous();
        let with = |f: fn(&mut ChangelogEntry)| {
            let mut e = entry();
            f(&mut e);
            render_entry(&p, &e)
        };
        assert!(matches!(
            with(|e| e.version = "2.10-3".parse().unwrap()),
            Err(ChangelogError::NotNewer { .. })
        ));
        assert!(matches!(
            with(|e| e.source = Some("bye".into())),
            Err(ChangelogError::SourceMismatch { .. })
        ));
        assert!(matches!(
            with(|e| {
                e.changes.clear();
                e.cves.clear()
            }),
            Err(ChangelogError::NoChanges)
        ));
        for m in ["nobody", "A  B <a@b>", "<a@b>", "A <ab>", "A <a@b>\n -- x"] {
            let mut e = entry();
            e.maintainer = m.into();
            assert!(render_entry(&p, &e).is_err(), "{m:?}");
        }
        assert!(with(|e| e.changes = vec!["a\u{1b}[31m".into()]).is_err());
        assert!(with(|e| e.distribution = Some("a b".into())).is_err());
        assert!(with(|e| e.date = -1).is_err());
    }
}
