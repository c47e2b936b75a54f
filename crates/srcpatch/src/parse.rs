//! Static analysis of a patch before anything runs: the files each `---`/`+++` section
//! touches (validated relative paths, `-p1`) and the header and text of every hunk (for
//! error reports). The applying itself is GNU patch's job (see [`crate::apply`]).
//!
//! Hand-written rather than taken from a unified-diff crate because it must accept
//! exactly what `dpkg-source -x` accepts, and this is a line-by-line port of dpkg's
//! `Dpkg::Source::Patch::analyze` rules: text before a `--- ` line is a comment (mail or
//! DEP-3 header, `git format-patch` preamble), a `--- ` line must be followed by `+++ `,
//! C-quoted names are refused, hunk line counts must add up (a short final hunk with
//! fewer than three missing context lines is tolerated). On top of that it refuses what
//! dpkg would silently get wrong: `..` components, and git extended headers (renames,
//! copies, mode changes, binary patches) that GNU patch applies but dpkg ignores.

use std::fmt;

/// Why a patch was refused before applying it. Lines are 1-based lines of the patch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// No `---`/`+++` section at all.
    #[error("contains no diff (no `--- `/`+++ ` file header)")]
    NoDiff,
    /// `--- ` not followed by `+++ `, or a hunk line where a header was expected.
    #[error("line {line}: {message}")]
    Syntax {
        /// Line in the patch.
        line: usize,
        /// What was expected.
        message: &'static str,
    },
    /// A path that is absolute, has `..` components, has no directory to strip for `-p1`,
    /// is not UTF-8, or is C-quoted.
    #[error("line {line}: unsafe or unusable path {path:?}: {reason}")]
    BadPath {
        /// Line in the patch.
        line: usize,
        /// The path as written.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A git extended header whose effect dpkg-source would not reproduce.
    #[error("line {line}: unsupported git diff feature {what:?} (renames, copies, mode changes and binary patches are refused)")]
    GitFeature {
        /// Line in the patch.
        line: usize,
        /// The offending line, shortened.
        what: String,
    },
}

/// A path inside the source tree, relative, without `.`/`..`/empty components.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelPath(String);

impl RelPath {
    /// Validate and normalise (`a//b/./c` → `a/b/c`).
    pub fn new(raw: &str) -> Result<Self, &'static str> {
        if raw.starts_with('/') {
            return Err("absolute path");
        }
        if raw.contains('\0') || raw.contains('\\') {
            return Err("NUL or backslash in path");
        }
        let mut parts = Vec::new();
        for c in raw.split('/') {
            match c {
                "" | "." => {}
                ".." => return Err("`..` component"),
                c => parts.push(c),
            }
        }
        if parts.is_empty() {
            return Err("empty path");
        }
        Ok(Self(parts.join("/")))
    }

    /// The path with `/` separators.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its first component (`debian` for `debian/rules`).
    pub fn first_component(&self) -> &str {
        self.0.split('/').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One hunk, kept for error reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// Line of the `@@` header in the patch.
    pub line: usize,
    /// The `@@ -a,b +c,d @@ context` line.
    pub header: String,
    /// The hunk's lines after the header (lossily decoded if not UTF-8).
    pub body: Vec<String>,
}

/// One `---`/`+++` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSection {
    /// Line of the `--- ` header.
    pub line: usize,
    /// The old file (`None` for `/dev/null`), first component stripped.
    pub old: Option<RelPath>,
    /// The new file (`None` for `/dev/null`), first component stripped.
    pub new: Option<RelPath>,
    /// The hunks in order (GNU patch numbers them from 1 per section).
    pub hunks: Vec<Hunk>,
}

impl FileSection {
    /// The file the section patches (the new name unless it is deleted).
    pub fn target(&self) -> Option<&RelPath> {
        self.new.as_ref().or(self.old.as_ref())
    }

    /// Both paths GNU patch may use.
    pub fn paths(&self) -> impl Iterator<Item = &RelPath> {
        self.old.iter().chain(self.new.iter())
    }
}

/// The analysed patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPatch {
    /// Sections in patch order.
    pub sections: Vec<FileSection>,
}

const GIT_REFUSED: [&str; 8] = [
    "rename from ",
    "rename to ",
    "copy from ",
    "copy to ",
    "old mode ",
    "new mode ",
    "GIT binary patch",
    "Binary files ",
];

/// Analyse `content` as a `-p1` unified diff.
pub fn parse_patch(content: &[u8]) -> Result<ParsedPatch, ParseError> {
    let lines: Vec<String> = content
        .split(|&b| b == b'\n')
        .map(|l| String::from_utf8_lossy(l.strip_suffix(b"\r").unwrap_or(l)).into_owned())
        .collect();
    // `split` yields one empty item after a final newline: that is not a line.
    let count = match content.last() {
        Some(b'\n') => lines.len() - 1,
        _ => lines.len(),
    };
    let lines = &lines[..count];
    let raw_lines: Vec<&[u8]> = content.split(|&b| b == b'\n').take(count).collect();
    let mut sections = Vec::new();
    let mut i = 0;
    let mut in_git_header = false;
    while i < lines.len() {
        let l = &lines[i];
        if !(l.starts_with("--- ") || l.starts_with("+++ ") || l.starts_with("@@ -")) {
            if l.starts_with("diff --git ") {
                in_git_header = true;
            } else if in_git_header && GIT_REFUSED.iter().any(|p| l.starts_with(p)) {
                return Err(ParseError::GitFeature {
                    line: i + 1,
                    what: l.chars().take(80).collect(),
                });
            }
            i += 1;
            continue;
        }
        in_git_header = false;
        let Some(old_raw) = l.strip_prefix("--- ") else {
            return Err(syntax(i, "expected a `--- ` file header"));
        };
        let old = header_path(old_raw, raw_lines[i], i)?;
        let Some(next) = lines.get(i + 1) else {
            return Err(syntax(i + 1, "diff ends between `---` and `+++`"));
        };
        let Some(new_raw) = next.strip_prefix("+++ ") else {
            return Err(syntax(i + 1, "expected `+++ ` after `--- `"));
        };
        let new = header_path(new_raw, raw_lines[i + 1], i + 1)?;
        if old.is_none() && new.is_none() {
            return Err(syntax(i + 1, "both file names are /dev/null"));
        }
        let mut section = FileSection {
            line: i + 1,
            old,
            new,
            hunks: Vec::new(),
        };
        i += 2;
        while i < lines.len() {
            if lines[i].starts_with("\\ ") {
                i += 1;
                continue;
            }
            let Some((mut olines, mut nlines)) = hunk_counts(&lines[i]) else {
                break;
            };
            let mut hunk = Hunk {
                line: i + 1,
                header: lines[i].clone(),
                body: Vec::new(),
            };
            i += 1;
            while olines > 0 || nlines > 0 {
                let Some(l) = lines.get(i) else {
                    if olines == nlines && olines < 3 {
                        break;
                    }
                    return Err(syntax(i, "diff ends in the middle of a hunk"));
                };
                if !l.starts_with("\\ ") {
                    match l.as_bytes().first() {
                        None | Some(b' ') => {
                            olines = olines.saturating_sub(1);
                            nlines = nlines.saturating_sub(1);
                        }
                        Some(b'-') => olines = olines.saturating_sub(1),
                        Some(b'+') => nlines = nlines.saturating_sub(1),
                        Some(_) => {
                            return Err(syntax(
                                i + 1,
                                "expected a hunk line starting with ` `, `-` or `+`",
                            ))
                        }
                    }
                }
                hunk.body.push(l.clone());
                i += 1;
            }
            section.hunks.push(hunk);
        }
        if section.hunks.is_empty() {
            return Err(syntax(
                i.min(lines.len()),
                "file header without any `@@` hunk",
            ));
        }
        sections.push(section);
    }
    if sections.is_empty() {
        return Err(ParseError::NoDiff);
    }
    Ok(ParsedPatch { sections })
}

fn syntax(line0: usize, message: &'static str) -> ParseError {
    ParseError::Syntax {
        line: line0 + 1,
        message,
    }
}

/// The path of a `---`/`+++` header with its first component stripped (`-p1`); `None`
/// for `/dev/null`. Like dpkg: the name ends at a tab, else at the first whitespace.
fn header_path(rest: &str, raw: &[u8], line0: usize) -> Result<Option<RelPath>, ParseError> {
    let rest = rest.trim_start();
    let bad = |reason| ParseError::BadPath {
        line: line0 + 1,
        path: rest.chars().take(200).collect(),
        reason,
    };
    if rest.starts_with('"') {
        return Err(bad("C-quoted file names are not supported by dpkg-source"));
    }
    if std::str::from_utf8(raw).is_err() {
        return Err(bad("file name is not UTF-8"));
    }
    let name = match rest.split_once('\t') {
        Some((n, _)) => n,
        None => rest.split(char::is_whitespace).next().unwrap_or(rest),
    };
    if name == "/dev/null" {
        return Ok(None);
    }
    if name.starts_with('/') {
        return Err(bad("absolute path"));
    }
    let Some((_, stripped)) = name.split_once('/') else {
        return Err(bad("no leading directory to strip (patches must be -p1)"));
    };
    if name.split('/').any(|c| c == "..") {
        return Err(bad("`..` component"));
    }
    RelPath::new(stripped.trim_start_matches('/'))
        .map(Some)
        .map_err(bad)
}

/// `(old, new)` line counts of a `@@ -a[,b] +c[,d] @@[ text]` header.
fn hunk_counts(line: &str) -> Option<(usize, usize)> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, tail) = rest.split_once(" @@")?;
    if !(tail.is_empty() || tail.starts_with(' ')) {
        return None;
    }
    let (old, new) = ranges.split_once(" +")?;
    let count = |r: &str| -> Option<usize> {
        let (start, len) = match r.split_once(',') {
            Some((s, l)) => (s, l.parse().ok()?),
            None => (r, 1),
        };
        start.parse::<u64>().ok()?;
        Some(len)
    };
    Some((count(old)?, count(new)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMAT_PATCH: &str = "From 0 Mon Sep 17 00:00:00 2001\nFrom: T <t@x>\nSubject: [PATCH] x\n\n---\n src/a.c | 2 +-\n\ndiff --git a/src/a.c b/src/a.c\nindex 1..2 100644\n--- a/src/a.c\n+++ b/src/a.c\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n@@ -10 +10 @@ f()\n-x\n+y\n--- /dev/null\n+++ b/new/file\t2024-01-01\n@@ -0,0 +1 @@\n+hi\n\\ No newline at end of file\n-- \n2.47.3\n";

    #[test]
    fn format_patch_sections() {
        let p = parse_patch(FORMAT_PATCH.as_bytes()).unwrap();
        assert_eq!(p.sections.len(), 2);
        let s = &p.sections[0];
        assert_eq!(s.line, 10);
        assert_eq!(s.target().map(RelPath::as_str), Some("src/a.c"));
        assert_eq!(s.hunks.len(), 2);
        assert_eq!(s.hunks[0].header, "@@ -1,3 +1,3 @@");
        assert_eq!(s.hunks[0].body, [" one", "-two", "+TWO", " three"]);
        assert_eq!(s.hunks[1].line, 17);
        let n = &p.sections[1];
        assert_eq!(
            (n.old.as_ref(), n.target().map(RelPath::as_str)),
            (None, Some("new/file"))
        );
    }

    #[test]
    fn refusals() {
        type Check = fn(&ParseError) -> bool;
        let cases: [(&str, Check); 7] = [
            ("just text\n", |e| *e == ParseError::NoDiff),
            ("--- a/x\n@@ -1 +1 @@\n", |e| {
                matches!(e, ParseError::Syntax { line: 2, .. })
            }),
            (
                "--- a/../etc/passwd\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n",
                |e| matches!(e, ParseError::BadPath { line: 1, .. }),
            ),
            (
                "--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n",
                |e| matches!(e, ParseError::BadPath { .. }),
            ),
            ("--- x\n+++ x\n@@ -1 +1 @@\n-a\n+b\n", |e| {
                matches!(e, ParseError::BadPath { .. })
            }),
            (
                "diff --git a/x b/y\nsimilarity index 90%\nrename from x\nrename to y\n",
                |e| matches!(e, ParseError::GitFeature { line: 3, .. }),
            ),
            ("--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n-a\n+b\n", |e| {
                matches!(e, ParseError::Syntax { .. })
            }),
        ];
        for (text, ok) in cases {
            let e = parse_patch(text.as_bytes()).unwrap_err();
            assert!(ok(&e), "{text:?}: {e}");
        }
    }

    #[test]
    fn tolerated_short_final_hunk() {
        // dpkg tolerates a final hunk missing up to two trailing context lines.
        let p = parse_patch(b"--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-a\n+b\n").unwrap();
        assert_eq!(p.sections[0].hunks[0].body, ["-a", "+b"]);
    }

    #[test]
    fn relpath() {
        assert_eq!(RelPath::new("a//b/./c").unwrap().as_str(), "a/b/c");
        assert!(RelPath::new("a/../b").is_err());
        assert!(RelPath::new("/a").is_err());
        assert!(RelPath::new("./").is_err());
        assert_eq!(
            RelPath::new("debian/rules").unwrap().first_component(),
            "debian"
        );
    }
}
