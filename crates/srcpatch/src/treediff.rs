//! [`diff_trees`]: a bounded, deterministic unified diff between two unpacked source
//! trees (`cryo package diff PROJECT PKG --against upstream`), in the style of
//! `diff -Nru a b`: files in sorted path order, text files as unified diffs (the
//! `similar` crate, patience algorithm), binary files as `Binary files ... differ`,
//! symlinks by target, and executable-bit changes. Symlinks are never followed.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use similar::{Algorithm, TextDiff};

/// Reading a tree failed.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct TreeDiffError {
    /// The file or directory.
    pub path: PathBuf,
    /// Cause.
    #[source]
    pub source: io::Error,
}

/// Bounds of [`diff_trees`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLimits {
    /// Most bytes of diff text; the rest is summarised.
    pub max_bytes: usize,
    /// Files larger than this are compared but not diffed line by line.
    pub max_file_bytes: u64,
    /// Top-level names to ignore (default `.pc`, quilt's backups).
    pub exclude: Vec<String>,
}

impl Default for DiffLimits {
    fn default() -> Self {
        Self {
            max_bytes: 1 << 20,
            max_file_bytes: 4 << 20,
            exclude: vec![".pc".to_owned()],
        }
    }
}

/// The diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeDiff {
    /// The diff text (empty when the trees are equal).
    pub text: String,
    /// Files that differ (added, removed or changed), all counted even past the limit.
    pub changed_files: usize,
    /// Whether `text` was cut at [`DiffLimits::max_bytes`].
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    File { path: PathBuf, len: u64, exec: bool },
    Symlink(PathBuf),
    Other,
}

/// Diff tree `a` (old) against tree `b` (new); paths are shown as `a/PATH`, `b/PATH`.
pub fn diff_trees(a: &Path, b: &Path, limits: &DiffLimits) -> Result<TreeDiff, TreeDiffError> {
    let (ta, tb) = (walk(a, limits)?, walk(b, limits)?);
    let paths: BTreeSet<&String> = ta.keys().chain(tb.keys()).collect();
    let mut out = TreeDiff {
        text: String::new(),
        changed_files: 0,
        truncated: false,
    };
    for p in paths {
        let piece = diff_one(p, ta.get(p), tb.get(p), limits)?;
        if piece.is_empty() {
            continue;
        }
        out.changed_files += 1;
        if out.truncated {
            continue;
        }
        if out.text.len() + piece.len() > limits.max_bytes {
            let room = limits.max_bytes.saturating_sub(out.text.len());
            let cut = piece[..floor_boundary(&piece, room)]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            out.text.push_str(&piece[..cut]);
            out.truncated = true;
        } else {
            out.text.push_str(&piece);
        }
    }
    if out.truncated {
        out.text.push_str(&format!(
            "[diff truncated at {} bytes; {} files differ in total]\n",
            limits.max_bytes, out.changed_files
        ));
    }
    Ok(out)
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn diff_one(
    p: &str,
    a: Option<&Node>,
    b: Option<&Node>,
    limits: &DiffLimits,
) -> Result<String, TreeDiffError> {
    let (la, lb) = (format!("a/{p}"), format!("b/{p}"));
    match (a, b) {
        (Some(Node::Symlink(x)), Some(Node::Symlink(y))) if x == y => Ok(String::new()),
        (Some(Node::Symlink(x)), Some(Node::Symlink(y))) => Ok(format!(
            "Symbolic link {p}: {} changed to {}\n",
            x.display(),
            y.display()
        )),
        (Some(Node::Other), _) | (_, Some(Node::Other)) => {
            Ok(format!("Special file {p} differs or is not comparable\n"))
        }
        (Some(Node::Symlink(_)), _) | (_, Some(Node::Symlink(_))) => Ok(format!(
            "File {p} changed type (symbolic link vs regular file)\n"
        )),
        (fa, fb) => {
            let read = |n: Option<&Node>| -> Result<(Vec<u8>, bool, bool), TreeDiffError> {
                match n {
                    Some(Node::File { path, len, exec }) => {
                        if *len > limits.max_file_bytes {
                            return Ok((Vec::new(), *exec, true));
                        }
                        let data = std::fs::read(path).map_err(|source| TreeDiffError {
                            path: path.clone(),
                            source,
                        })?;
                        Ok((data, *exec, false))
                    }
                    _ => Ok((Vec::new(), false, false)),
                }
            };
            let ((da, xa, big_a), (db, xb, big_b)) = (read(fa)?, read(fb)?);
            let mut out = String::new();
            if fa.is_some() && fb.is_some() && xa != xb {
                out.push_str(&format!("Executable bit of {p} changed: {xa} -> {xb}\n"));
            }
            let (la, lb) = (
                if fa.is_some() {
                    la
                } else {
                    "/dev/null".to_owned()
                },
                if fb.is_some() {
                    lb
                } else {
                    "/dev/null".to_owned()
                },
            );
            if big_a || big_b {
                if same_file(fa, fb)? {
                    return Ok(out);
                }
                out.push_str(&format!("Files {la} and {lb} differ (too large to diff)\n"));
                return Ok(out);
            }
            if da == db && fa.is_some() == fb.is_some() {
                return Ok(out);
            }
            match (text(&da), text(&db)) {
                (Some(ta), Some(tb)) => {
                    out.push_str(&format!("diff -Nru {la} {lb}\n"));
                    let diff = TextDiff::configure()
                        .algorithm(Algorithm::Patience)
                        .diff_lines(ta, tb);
                    out.push_str(
                        &diff
                            .unified_diff()
                            .context_radius(3)
                            .header(&la, &lb)
                            .to_string(),
                    );
                }
                _ => out.push_str(&format!("Binary files {la} and {lb} differ\n")),
            }
            Ok(out)
        }
    }
}

fn text(d: &[u8]) -> Option<&str> {
    if d.contains(&0) {
        return None;
    }
    std::str::from_utf8(d).ok()
}

/// Compare two large files in chunks without loading them whole.
fn same_file(a: Option<&Node>, b: Option<&Node>) -> Result<bool, TreeDiffError> {
    use std::io::Read;
    let (
        Some(Node::File {
            path: pa, len: la, ..
        }),
        Some(Node::File {
            path: pb, len: lb, ..
        }),
    ) = (a, b)
    else {
        return Ok(false);
    };
    if la != lb {
        return Ok(false);
    }
    let open = |p: &PathBuf| {
        std::fs::File::open(p).map_err(|source| TreeDiffError {
            path: p.clone(),
            source,
        })
    };
    let (mut fa, mut fb) = (open(pa)?, open(pb)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = fa.read(&mut ba).map_err(|source| TreeDiffError {
            path: pa.clone(),
            source,
        })?;
        if n == 0 {
            return Ok(true);
        }
        fb.read_exact(&mut bb[..n])
            .map_err(|source| TreeDiffError {
                path: pb.clone(),
                source,
            })?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}

/// Every non-directory entry under `root`, keyed by its `/`-separated relative path.
fn walk(root: &Path, limits: &DiffLimits) -> Result<BTreeMap<String, Node>, TreeDiffError> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let err = |source| TreeDiffError {
            path: dir.clone(),
            source,
        };
        for entry in std::fs::read_dir(&dir).map_err(err)? {
            let entry = entry.map_err(err)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if rel.is_empty() && limits.exclude.contains(&name) {
                continue;
            }
            let path = entry.path();
            let rel_path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let meta = std::fs::symlink_metadata(&path).map_err(|source| TreeDiffError {
                path: path.clone(),
                source,
            })?;
            let ft = meta.file_type();
            let node = if ft.is_dir() {
                stack.push((path, rel_path));
                continue;
            } else if ft.is_symlink() {
                let target = std::fs::read_link(&path).map_err(|source| TreeDiffError {
                    path: path.clone(),
                    source,
                })?;
                Node::Symlink(target)
            } else if ft.is_file() {
                Node::File {
                    path,
                    len: meta.len(),
                    exec: meta.permissions().mode() & 0o111 != 0,
                }
            } else {
                Node::Other
            };
            out.insert(rel_path, node);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_text_binary_added_removed() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let w = |d: &Path, p: &str, c: &[u8]| {
            let f = d.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, c).unwrap();
        };
        w(a.path(), "src/x.c", b"one\ntwo\nthree\n");
        w(b.path(), "src/x.c", b"one\nTWO\nthree\n");
        w(a.path(), "same", b"s\n");
        w(b.path(), "same", b"s\n");
        w(a.path(), "bin", b"\0\x01");
        w(b.path(), "bin", b"\0\x02");
        w(a.path(), "gone", b"bye\n");
        w(b.path(), "new", b"hi\n");
        w(b.path(), ".pc/ignored", b"x\n");
        let d = diff_trees(a.path(), b.path(), &DiffLimits::default()).unwrap();
        assert_eq!(d.changed_files, 4, "{}", d.text);
        assert!(!d.truncated);
        assert!(d.text.contains("Binary files a/bin and b/bin differ\n"));
        assert!(
            d.text
                .contains("--- a/gone\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"),
            "{}",
            d.text
        );
        assert!(d.text.contains("--- /dev/null\n+++ b/new\n"));
        assert!(d
            .text
            .contains("--- a/src/x.c\n+++ b/src/x.c\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n"));
        let order: Vec<usize> = ["a/bin", "a/gone", "b/new", "a/src/x.c"]
            .iter()
            .map(|s| d.text.find(s).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "sorted output");
        let small = DiffLimits {
            max_bytes: 60,
            ..DiffLimits::default()
        };
        let d = diff_trees(a.path(), b.path(), &small).unwrap();
        assert!(d.truncated);
        assert_eq!(d.changed_files, 4);
        assert!(d.text.len() < 60 + 80, "{}", d.text);
        assert_eq!(
            diff_trees(a.path(), a.path(), &small)
                .unwrap()
                .changed_files,
            0
        );
    }
}
