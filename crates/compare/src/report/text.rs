//! Plain-text rendering for terminals; ANSI colour only when the caller asks for it.

use std::fmt::Write;

use super::{body, describe, explanation_lines, BinaryReport, Report};
use crate::classify::ClassKind;
use crate::diff::{Category, DiffNode};

struct Style {
    colour: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    fn kind(&self, kind: ClassKind) -> String {
        let code = match kind {
            ClassKind::Identical | ClassKind::SignatureOnly => "32",
            ClassKind::BuildMetadataOnly => "33",
            ClassKind::MetadataOnly | ClassKind::ControlOnly | ClassKind::BuildIdOnly => "33",
            ClassKind::Content | ClassKind::BuildFailed => "31",
            ClassKind::Inconclusive | ClassKind::MissingUpstream => "35",
        };
        self.paint(code, kind.label())
    }

    fn category(&self, cat: Category) -> String {
        let (code, label) = match cat {
            Category::Signature => ("36", "signature"),
            Category::BuildMetadata => ("36", "build-metadata"),
            Category::Metadata => ("36", "metadata"),
            Category::Control => ("36", "control"),
            Category::BuildId => ("33", "build-id"),
            Category::Inconclusive => ("35", "inconclusive"),
            Category::Content => ("31", "content"),
        };
        self.paint(code, &format!("[{label}]"))
    }
}

/// Renders `report` as indented text; `colour` enables ANSI escape codes.
pub fn render_text(report: &Report, colour: bool) -> String {
    let style = Style { colour };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.paint(
            "1",
            &format!(
                "cryo verification report (schema {})",
                report.schema_version
            )
        )
    );
    for source in &report.sources {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{} {}: {}",
            style.paint("1", &format!("source {}", source.source)),
            source.version,
            source.counts().line()
        );
        for binary in &source.binaries {
            render_binary(&mut out, &style, binary);
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} {}",
        style.paint("1", "summary:"),
        report.summary().total.line()
    );
    out
}

fn render_binary(out: &mut String, style: &Style, b: &BinaryReport) {
    let _ = writeln!(
        out,
        "  {} {} {}: {} — {}",
        b.id.package,
        b.id.version,
        b.id.architecture,
        style.kind(b.classification.kind),
        b.classification.explanation
    );
    let none = || "-".to_owned();
    let _ = writeln!(
        out,
        "    ours {}  official sha256:{}",
        b.ours_digest.clone().unwrap_or_else(none),
        b.official_sha256.clone().unwrap_or_else(none)
    );
    if let Some(e) = &b.explanation {
        let (head, lines) = explanation_lines(e);
        let _ = writeln!(out, "    {}", style.paint("1", &head));
        for l in lines {
            let _ = writeln!(out, "      {l}");
        }
    }
    for hit in &b.limits_hit {
        let _ = writeln!(
            out,
            "    limit {:?} ({}) reached at {}",
            hit.limit, hit.value, hit.location
        );
    }
    for node in &b.differences {
        render_node(out, style, node, 2);
    }
}

fn render_node(out: &mut String, style: &Style, node: &DiffNode, depth: usize) {
    let indent = "  ".repeat(depth);
    let text = describe(node);
    let sep = if text.is_empty() { "" } else { ": " };
    let _ = writeln!(
        out,
        "{indent}{} {}{sep}{text}",
        style.category(node.category),
        node.location
    );
    if let Some(body) = body(node) {
        for line in body.lines() {
            let painted = match line.as_bytes().first() {
                Some(b'+') => style.paint("32", line),
                Some(b'-') => style.paint("31", line),
                Some(b'@') => style.paint("36", line),
                _ => line.to_owned(),
            };
            let _ = writeln!(out, "{indent}  │ {painted}");
        }
    }
    for child in &node.children {
        render_node(out, style, child, depth + 1);
    }
}
