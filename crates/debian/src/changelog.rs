//! `debian/changelog`: the first entry (source, version, distributions, urgency,
//! maintainer, date → unix time, which dpkg exports as `SOURCE_DATE_EPOCH`) and a
//! deterministic renderer for a new top entry.

use crate::date::{format_rfc2822, parse_rfc2822, DateError};
use crate::version::{Version, VersionError};

/// Changelog errors; lines are 1-based.
#[derive(Debug, thiserror::Error)]
pub enum ChangelogError {
    /// No entry header found.
    #[error("{file}: no changelog entry found")]
    Empty {
        /// File name for display.
        file: String,
    },
    /// A malformed header or trailer line.
    #[error("{file}:{line}: {message}: {text:?}")]
    Syntax {
        /// File name for display.
        file: String,
        /// Line number.
        line: usize,
        /// What was expected.
        message: &'static str,
        /// The line.
        text: String,
    },
    /// Bad version in the header.
    #[error("{file}:{line}: {source}")]
    Version {
        /// File name.
        file: String,
        /// Line number.
        line: usize,
        /// Cause.
        #[source]
        source: VersionError,
    },
    /// Bad date in the trailer.
    #[error("{file}:{line}: {source}")]
    Date {
        /// File name.
        file: String,
        /// Line number.
        line: usize,
        /// Cause.
        #[source]
        source: DateError,
    },
}

/// One changelog entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Source package name.
    pub source: String,
    /// Version.
    pub version: Version,
    /// Distributions (`unstable`, `bookworm-security`, ...).
    pub distributions: Vec<String>,
    /// `urgency=` value.
    pub urgency: String,
    /// Change lines without the two-space indent (blank lines around them removed).
    pub changes: Vec<String>,
    /// `Name <email>` from the trailer.
    pub maintainer: String,
    /// Trailer date in unix seconds (what dpkg uses for `SOURCE_DATE_EPOCH`).
    pub timestamp: i64,
    /// The trailer's UTC offset in minutes (kept so rendering reproduces the date text).
    pub utc_offset_minutes: i32,
}

/// Parse the first entry of a changelog. `file` is used for `file:line` messages.
pub fn parse_first_entry(text: &str, file: &str) -> Result<Entry, ChangelogError> {
    let syntax = |line: usize, message: &'static str, t: &str| ChangelogError::Syntax {
        file: file.to_owned(),
        line,
        message,
        text: t.to_owned(),
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (hline, header) = lines
        .by_ref()
        .find(|(_, l)| !l.trim().is_empty())
        .ok_or_else(|| ChangelogError::Empty {
            file: file.to_owned(),
        })?;
    let bad_header = || {
        syntax(
            hline,
            "expected `source (version) dists; urgency=u`",
            header,
        )
    };
    let (source, rest) = header.split_once(" (").ok_or_else(bad_header)?;
    let (version, rest) = rest.split_once(')').ok_or_else(bad_header)?;
    let (dists, meta) = rest.split_once(';').ok_or_else(bad_header)?;
    let urgency = meta
        .split(',')
        .find_map(|kv| kv.trim().strip_prefix("urgency="))
        .ok_or_else(bad_header)?;
    if source.is_empty() || source.contains(char::is_whitespace) {
        return Err(bad_header());
    }
    let version = version.parse().map_err(|source| ChangelogError::Version {
        file: file.to_owned(),
        line: hline,
        source,
    })?;
    let mut changes = Vec::new();
    for (n, line) in lines {
        if let Some(trailer) = line.strip_prefix(" -- ") {
            let (maintainer, date) = trailer
                .split_once("  ")
                .ok_or_else(|| syntax(n, "expected ` -- Name <email>  date`", line))?;
            let timestamp = parse_rfc2822(date.trim()).map_err(|source| ChangelogError::Date {
                file: file.to_owned(),
                line: n,
                source,
            })?;
            let utc_offset_minutes = offset_of(date.trim());
            while changes.last().is_some_and(|l: &String| l.is_empty()) {
                changes.pop();
            }
            return Ok(Entry {
                source: source.to_owned(),
                version,
                distributions: dists.split_whitespace().map(str::to_owned).collect(),
                urgency: urgency.to_owned(),
                changes,
                maintainer: maintainer.to_owned(),
                timestamp,
                utc_offset_minutes,
            });
        }
        if line.trim().is_empty() {
            if !changes.is_empty() {
                changes.push(String::new());
            }
        } else if let Some(c) = line.strip_prefix("  ") {
            changes.push(c.to_owned());
        } else {
            return Err(syntax(
                n,
                "expected a change line indented by two spaces or a trailer",
                line,
            ));
        }
    }
    Err(syntax(
        hline,
        "entry has no ` -- maintainer  date` trailer",
        header,
    ))
}

fn offset_of(date: &str) -> i32 {
    let z = date.rsplit(' ').next().unwrap_or("");
    match (z.len(), z.strip_prefix('+').or_else(|| z.strip_prefix('-'))) {
        (5, Some(d)) => {
            let v: i32 = d.parse().unwrap_or(0);
            let m = v / 100 * 60 + v % 100;
            if z.starts_with('-') {
                -m
            } else {
                m
            }
        }
        _ => 0,
    }
}

impl Entry {
    /// Render this entry in Debian's format, ending with a blank line so it can be
    /// prepended to an existing changelog. Deterministic: a function of the fields only.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{} ({}) {}; urgency={}\n\n",
            self.source,
            self.version,
            self.distributions.join(" "),
            self.urgency
        );
        for c in &self.changes {
            if c.is_empty() {
                out.push('\n');
            } else {
                out.push_str("  ");
                out.push_str(c);
                out.push('\n');
            }
        }
        out.push_str(&format!(
            "\n -- {}  {}\n\n",
            self.maintainer,
            format_rfc2822(self.timestamp, self.utc_offset_minutes)
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CL: &str = "hello (2.10-3) unstable; urgency=medium\n\n  * Add some patches.\n    - detail\n\n  * Second.\n\n -- Santiago Vila <sanvila@debian.org>  Thu, 10 Nov 2022 14:46:36 +0100\n\nhello (2.10-2) unstable; urgency=low\n";

    #[test]
    fn first_entry() {
        let e = parse_first_entry(CL, "debian/changelog").unwrap();
        assert_eq!((e.source.as_str(), e.version.as_str()), ("hello", "2.10-3"));
        assert_eq!(e.distributions, ["unstable"]);
        assert_eq!(e.urgency, "medium");
        assert_eq!(
            e.changes,
            ["* Add some patches.", "  - detail", "", "* Second."]
        );
        assert_eq!(e.maintainer, "Santiago Vila <sanvila@debian.org>");
        // date -d 'Thu, 10 Nov 2022 14:46:36 +0100' +%s
        assert_eq!(e.timestamp, 1_668_087_996);
        let first = CL.split("hello (2.10-2)").next().unwrap_or_default();
        assert_eq!(e.render(), first);
    }

    #[test]
    fn errors_have_file_and_line() {
        let e = parse_first_entry("hello 2.10 unstable\n", "c")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("c:1: "), "{e}");
        let e = parse_first_entry("x (1) u; urgency=low\n\nbad line\n", "c")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("c:3: "), "{e}");
        let e = parse_first_entry("x (1) u; urgency=low\n\n  * a\n -- M <m@x>  someday\n", "c")
            .unwrap_err();
        assert!(matches!(e, ChangelogError::Date { line: 4, .. }), "{e}");
    }

    #[test]
    fn render_new_entry() {
        let e = Entry {
            source: "hello".into(),
            version: "2.10-3+cryo1".parse().unwrap(),
            distributions: vec!["bookworm-security".into()],
            urgency: "high".into(),
            changes: vec!["* Apply CVE fix.".into()],
            maintainer: "Cryo <cryo@example.invalid>".into(),
            timestamp: 0,
            utc_offset_minutes: 0,
        };
        let text = e.render();
        assert_eq!(text, "hello (2.10-3+cryo1) bookworm-security; urgency=high\n\n  * Apply CVE fix.\n\n -- Cryo <cryo@example.invalid>  Thu, 01 Jan 1970 00:00:00 +0000\n\n");
        assert_eq!(parse_first_entry(&text, "x").unwrap(), e);
    }
}
