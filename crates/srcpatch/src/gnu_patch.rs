//! Running GNU patch exactly as `dpkg-source` does for quilt patches, and turning its
//! messages (`Hunk #2 FAILED at 57.`, `Reversed (or previously applied) patch
//! detected!`, ...) into [`Failure`]s that quote the failing hunk from the patch.
//!
//! The options are dpkg's (`Dpkg::Source::Quilt::push`): `-t -F 0 -N -p1 -u -V never -E
//! --reject-file=-`, with quilt backups under `.pc/<name>/` (`-b -B`) or none. `-F 0`
//! (no fuzz) matters: a patch that only applies with fuzz would be accepted here but make
//! the rebuilt source fail to unpack.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::parse::{Hunk, ParsedPatch};

/// Most hunk body lines quoted in a [`HunkExcerpt`].
pub const EXCERPT_LINES: usize = 30;
/// Longest quoted line, in characters.
const EXCERPT_LINE_CHARS: usize = 200;
/// Most bytes of GNU patch output kept in errors.
pub const OUTPUT_LIMIT: usize = 4096;

/// GNU patch could not be run.
#[derive(Debug, thiserror::Error)]
#[error("cannot run {program}: {source}")]
pub struct ToolError {
    /// The program.
    pub program: PathBuf,
    /// Cause.
    #[source]
    pub source: std::io::Error,
}

/// What GNU patch printed and whether it succeeded.
#[derive(Debug, Clone)]
pub(crate) struct RunOutput {
    pub ok: bool,
    pub text: String,
}

/// Apply `patch_file` in `cwd`; `backup_dir` is quilt's `.pc/<name>/` (relative to `cwd`).
pub(crate) fn run(
    program: &Path,
    cwd: &Path,
    patch_file: &Path,
    backup_dir: Option<&str>,
) -> Result<RunOutput, ToolError> {
    let mut cmd = Command::new(program);
    cmd.current_dir(cwd)
        .env("LC_ALL", "C")
        .env_remove("POSIXLY_CORRECT")
        .env_remove("VERSION_CONTROL")
        .env_remove("PATCH_VERSION_CONTROL")
        .env_remove("SIMPLE_BACKUP_SUFFIX")
        .args(["-t", "-F", "0", "-N", "-p1", "-u", "-V", "never", "-E"])
        .arg("--quoting-style=literal");
    match backup_dir {
        Some(dir) => cmd.args(["-b", "-B", dir]),
        None => cmd.arg("--no-backup-if-mismatch"),
    };
    cmd.arg("--reject-file=-").arg("-i").arg(patch_file);
    let out = cmd.output().map_err(|source| ToolError {
        program: program.to_owned(),
        source,
    })?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok(RunOutput {
        ok: out.status.success(),
        text,
    })
}

/// How a section failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// `Hunk #N FAILED at L.`
    HunkFailed {
        /// Hunk number within its file section, from 1.
        number: usize,
        /// Line in the target file where patch tried it.
        at: Option<u64>,
    },
    /// The patch seems to be applied already (`Reversed (or previously applied) patch`).
    AlreadyApplied,
    /// The file to patch does not exist.
    FileMissing,
    /// The patch creates a file that already exists.
    FileExists,
    /// GNU patch could not read the patch (`malformed patch at line N`).
    Malformed {
        /// Line in the patch.
        line: Option<usize>,
    },
    /// Anything else: see the output in the error.
    Other,
}

/// The failing hunk as written in the patch, bounded to [`EXCERPT_LINES`] lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HunkExcerpt {
    /// Line of the `@@` header in the patch file.
    pub patch_line: usize,
    /// The `@@ -a,b +c,d @@` header.
    pub header: String,
    /// The first lines of the hunk body, newline-separated.
    pub text: String,
    /// Whether lines were left out.
    pub truncated: bool,
}

impl HunkExcerpt {
    fn new(h: &Hunk) -> Self {
        let lines: Vec<String> = h
            .body
            .iter()
            .take(EXCERPT_LINES)
            .map(|l| l.chars().take(EXCERPT_LINE_CHARS).collect())
            .collect();
        Self {
            patch_line: h.line,
            header: h.header.chars().take(EXCERPT_LINE_CHARS).collect(),
            text: lines.join("\n"),
            truncated: h.body.len() > EXCERPT_LINES
                || h.body
                    .iter()
                    .any(|l| l.chars().count() > EXCERPT_LINE_CHARS),
        }
    }
}

/// One failure reported by GNU patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The target file (path inside the tree), when known.
    pub file: Option<String>,
    /// What went wrong.
    pub kind: FailureKind,
    /// The hunk concerned, for [`FailureKind::HunkFailed`].
    pub hunk: Option<HunkExcerpt>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.as_deref().unwrap_or("?");
        match &self.kind {
            FailureKind::HunkFailed { number, at } => {
                write!(f, "{file}: hunk #{number} FAILED")?;
                if let Some(at) = at {
                    write!(f, " at line {at}")?;
                }
            }
            FailureKind::AlreadyApplied => write!(f, "{file}: patch already applied (reversed)")?,
            FailureKind::FileMissing => write!(f, "{file}: file to patch not found")?,
            FailureKind::FileExists => write!(f, "{file}: file to create already exists")?,
            FailureKind::Malformed { line: Some(l) } => write!(f, "malformed patch at line {l}")?,
            FailureKind::Malformed { line: None } => write!(f, "malformed patch")?,
            FailureKind::Other => write!(f, "patch failed")?,
        }
        if let Some(h) = &self.hunk {
            write!(
                f,
                " (patch line {}):\n{}\n{}",
                h.patch_line, h.header, h.text
            )?;
            if h.truncated {
                write!(f, "\n[... hunk shortened]")?;
            }
        }
        Ok(())
    }
}

/// Interpret GNU patch's output for `parsed`. Sections are matched in order (GNU patch
/// processes them in patch order and names each with `patching file X`).
pub(crate) fn failures(output: &str, parsed: &ParsedPatch) -> Vec<Failure> {
    let mut found = Vec::new();
    let mut current: Option<usize> = None;
    let name_of = |i: Option<usize>| {
        i.and_then(|i| parsed.sections.get(i))
            .and_then(|s| s.target())
            .map(|p| p.as_str().to_owned())
    };
    let advance = |current: Option<usize>, name: &str| {
        let next = current.map_or(0, |c| c + 1);
        let by_name = parsed
            .sections
            .iter()
            .enumerate()
            .skip(next)
            .find(|(_, s)| s.paths().any(|p| p.as_str() == name))
            .map(|(i, _)| i);
        Some(by_name.unwrap_or(next))
    };
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("patching file ") {
            current = advance(current, name.trim());
        } else if let Some(rest) = line.strip_prefix("The next patch would create the file ") {
            let name = rest.trim_end_matches(',').trim();
            current = advance(current, name);
            found.push(simple(name_of(current), FailureKind::FileExists));
        } else if let Some(rest) = line.strip_prefix("can't find file to patch at input line ") {
            let at: usize = rest.trim().parse().unwrap_or(0);
            current = parsed.sections.iter().rposition(|s| s.line <= at);
            found.push(simple(name_of(current), FailureKind::FileMissing));
        } else if line.starts_with("Reversed (or previously applied) patch detected!") {
            found.push(simple(name_of(current), FailureKind::AlreadyApplied));
        } else if let Some(rest) = line.strip_prefix("Hunk #") {
            let Some((num, tail)) = rest.split_once(' ') else {
                continue;
            };
            let (Ok(number), Some(tail)) = (num.parse::<usize>(), tail.strip_prefix("FAILED"))
            else {
                continue;
            };
            let at = tail
                .trim()
                .strip_prefix("at ")
                .and_then(|a| a.trim_end_matches('.').parse().ok());
            let hunk = current
                .and_then(|c| parsed.sections.get(c))
                .and_then(|s| s.hunks.get(number.wrapping_sub(1)))
                .map(HunkExcerpt::new);
            found.push(Failure {
                file: name_of(current),
                kind: FailureKind::HunkFailed { number, at },
                hunk,
            });
        } else if let Some(pos) = line.find("malformed patch at line ") {
            let rest = &line[pos + "malformed patch at line ".len()..];
            let num = rest
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap_or("");
            found.push(simple(
                None,
                FailureKind::Malformed {
                    line: num.parse().ok(),
                },
            ));
        }
    }
    found
}

fn simple(file: Option<String>, kind: FailureKind) -> Failure {
    Failure {
        file,
        kind,
        hunk: None,
    }
}

/// `text` cut to [`OUTPUT_LIMIT`] bytes at a character boundary.
pub(crate) fn bounded(text: &str) -> String {
    if text.len() <= OUTPUT_LIMIT {
        return text.to_owned();
    }
    let mut end = OUTPUT_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[... output shortened]", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_patch;

    const TWO: &str = "--- a/src/hello.c\n+++ b/src/hello.c\n@@ -57,3 +57,3 @@ main\n x\n-y\n+z\n w\n--- a/src/missing.c\n+++ b/src/missing.c\n@@ -1 +1 @@\n-a\n+b\n";

    #[test]
    fn parses_gnu_patch_messages() {
        // Real GNU patch 2.7.6 output for TWO on a tree where both sections fail.
        let out = "patching file src/hello.c\nHunk #1 FAILED at 57.\n1 out of 1 hunk FAILED\ncan't find file to patch at input line 10\nPerhaps you used the wrong -p or --strip option?\nNo file to patch.  Skipping patch.\n1 out of 1 hunk ignored\n";
        let parsed = parse_patch(TWO.as_bytes()).unwrap();
        let f = failures(out, &parsed);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].file.as_deref(), Some("src/hello.c"));
        assert_eq!(
            f[0].kind,
            FailureKind::HunkFailed {
                number: 1,
                at: Some(57)
            }
        );
        let h = f[0].hunk.as_ref().unwrap();
        assert_eq!(
            (h.header.as_str(), h.text.as_str()),
            ("@@ -57,3 +57,3 @@ main", " x\n-y\n+z\n w")
        );
        assert!(f[0]
            .to_string()
            .contains("@@ -57,3 +57,3 @@ main\n x\n-y\n+z\n w"));
        assert_eq!(f[1].file.as_deref(), Some("src/missing.c"));
        assert_eq!(f[1].kind, FailureKind::FileMissing);
    }

    #[test]
    fn bounded_output() {
        let long = "é".repeat(OUTPUT_LIMIT);
        assert!(bounded(&long).len() < OUTPUT_LIMIT + 40);
        assert_eq!(bounded("short"), "short");
    }
}
