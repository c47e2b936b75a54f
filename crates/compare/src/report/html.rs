//! One self-contained HTML file: inline CSS, `<details>` for the tree of differences, no
//! scripts and no external assets; every string from the input is HTML-escaped.

use std::fmt::Write;

use super::{body, describe, explanation_lines, BinaryReport, Report};
use crate::diff::{Category, DiffNode};

const CSS: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}\
.kind{display:inline-block;padding:0 .4em;border-radius:3px;font-weight:bold;color:#fff}\
.k-identical,.k-signature-only{background:#2a7}.k-build-metadata-only,.k-metadata-only,.k-control-only,.k-build-id-only{background:#c80}\
.k-content,.k-build-failed{background:#c33}.k-inconclusive,.k-missing-upstream{background:#85a}\
.cat{font-size:.8em;padding:0 .3em;border:1px solid;border-radius:3px;margin-right:.4em}\
.c-signature{color:#077}.c-build_metadata{color:#077}.c-metadata{color:#077}.c-control{color:#077}.c-build_id{color:#a60}.c-inconclusive{color:#85a}.c-content{color:#c33}\
ul.tree{list-style:none;padding-left:1.2em}pre{background:#f6f6f6;padding:.5em;overflow-x:auto}\
.explanation{border-left:3px solid #077;padding-left:.8em}.ins{color:#070}.del{color:#a00}.hunk{color:#077}code{font-size:.95em}";

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Renders `report` as a single HTML document.
pub fn render_html(report: &Report) -> String {
    let mut out = String::new();
    let summary = report.summary();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>cryo verification report</title><style>{CSS}</style></head><body>\n\
         <h1>cryo verification report</h1>\n<p>schema version {} — {}</p>\n",
        report.schema_version,
        escape(&summary.total.line())
    );
    for source in &report.sources {
        let _ = writeln!(
            out,
            "<section><h2>source {} {}</h2><p>{}</p>",
            escape(&source.source),
            escape(&source.version),
            escape(&source.counts().line())
        );
        for binary in &source.binaries {
            render_binary(&mut out, binary);
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body></html>\n");
    out
}

fn render_binary(out: &mut String, b: &BinaryReport) {
    let kind = b.classification.kind.label();
    let open = if b.differences.is_empty() {
        ""
    } else {
        " open"
    };
    let _ = writeln!(
        out,
        "<details{open}><summary><code>{} {} {}</code> <span class=\"kind k-{kind}\">{kind}</span> {}</summary>",
        escape(&b.id.package),
        escape(&b.id.version),
        escape(&b.id.architecture),
        escape(&b.classification.explanation)
    );
    let none = || "-".to_owned();
    let _ = writeln!(
        out,
        "<p>ours <code>{}</code><br>official sha256 <code>{}</code></p>",
        escape(&b.ours_digest.clone().unwrap_or_else(none)),
        escape(&b.official_sha256.clone().unwrap_or_else(none))
    );
    if let Some(e) = &b.explanation {
        let (head, lines) = explanation_lines(e);
        let _ = write!(
            out,
            "<div class=\"explanation\"><p><strong>{}</strong></p><ul>",
            escape(&head)
        );
        for l in lines {
            let _ = write!(out, "<li>{}</li>", escape(&l));
        }
        out.push_str("</ul></div>\n");
    }
    for hit in &b.limits_hit {
        let _ = writeln!(
            out,
            "<p>limit {} ({}) reached at <code>{}</code></p>",
            escape(&format!("{:?}", hit.limit)),
            hit.value,
            escape(&hit.location)
        );
    }
    if !b.differences.is_empty() {
        out.push_str("<ul class=\"tree\">\n");
        for node in &b.differences {
            render_node(out, node);
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</details>\n");
}

fn category_badge(cat: Category) -> String {
    let (class, label) = match cat {
        Category::Signature => ("signature", "signature"),
        Category::BuildMetadata => ("build_metadata", "build-metadata"),
        Category::Metadata => ("metadata", "metadata"),
        Category::Control => ("control", "control"),
        Category::BuildId => ("build_id", "build-id"),
        Category::Inconclusive => ("inconclusive", "inconclusive"),
        Category::Content => ("content", "content"),
    };
    format!("<span class=\"cat c-{class}\">{label}</span>")
}

fn render_node(out: &mut String, node: &DiffNode) {
    let text = describe(node);
    let line = format!(
        "{}<code>{}</code>{}{}",
        category_badge(node.category),
        escape(&node.location),
        if text.is_empty() { "" } else { ": " },
        escape(&text)
    );
    if node.children.is_empty() {
        let _ = write!(out, "<li>{line}");
        if let Some(body) = body(node) {
            out.push_str("<pre>");
            for l in body.lines() {
                let class = match l.as_bytes().first() {
                    Some(b'+') => "ins",
                    Some(b'-') => "del",
                    Some(b'@') => "hunk",
                    _ => "",
                };
                let _ = writeln!(out, "<span class=\"{class}\">{}</span>", escape(l));
            }
            out.push_str("</pre>");
        }
        out.push_str("</li>\n");
        return;
    }
    let _ = writeln!(
        out,
        "<li><details open><summary>{line}</summary><ul class=\"tree\">"
    );
    for child in &node.children {
        render_node(out, child);
    }
    out.push_str("</ul></details></li>\n");
}
