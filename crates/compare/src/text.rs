//! Text detection and bounded unified diffs (with the `similar` crate, patience algorithm).

use similar::{Algorithm, TextDiff};

use crate::diff::Detail;

/// Whether `data` looks like text: valid UTF-8 without NUL bytes.
pub fn is_text(data: &[u8]) -> bool {
    !data.contains(&0) && std::str::from_utf8(data).is_ok()
}

/// A unified diff (`---` official, `+++` ours) cut to at most `max_lines` lines.
/// Both inputs must be text (see [`is_text`]).
pub fn unified(ours: &str, official: &str, label: &str, max_lines: usize) -> Detail {
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .diff_lines(official, ours);
    let full = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("official/{label}"), &format!("ours/{label}"))
        .to_string();
    let mut lines = full.lines();
    let kept: Vec<&str> = lines.by_ref().take(max_lines).collect();
    let truncated = lines.next().is_some();
    let mut unified = kept.join("\n");
    unified.push('\n');
    Detail::TextDiff { unified, truncated }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_is_bounded() {
        let a: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let b: String = (0..100).map(|i| format!("LINE {i}\n")).collect();
        let Detail::TextDiff { unified, truncated } = unified(&a, &b, "f", 10) else {
            panic!("expected a text diff");
        };
        assert!(truncated);
        assert_eq!(unified.lines().count(), 10);
        assert!(unified.starts_with("--- official/f\n+++ ours/f\n"));
    }

    #[test]
    fn text_detection() {
        assert!(is_text(b"hello\n"));
        assert!(!is_text(b"\x7fELF\0"));
        assert!(!is_text(b"\xff\xfe"));
    }
}
