//! End-to-end comparisons of real fixture packages and synthetic variants built from them.

mod common;

use common::*;
use cryo_compare::diff::{Detail, DiffNode, FieldScope};
use cryo_compare::report::{
    render_html, render_json, render_text, BinaryReport, Report, SourceReport,
};
use cryo_compare::{compare_debs, Category, ClassKind, DebComparison, LimitKind, Limits};

fn compare(ours: &[u8], official: &[u8]) -> DebComparison {
    compare_debs(ours, official, &Limits::default()).expect("comparison")
}

/// All nodes of a comparison, flattened with their location paths joined by " > ".
fn flat(cmp: &DebComparison) -> Vec<(String, DiffNode)> {
    let mut out = Vec::new();
    for node in &cmp.differences {
        let mut path = Vec::new();
        node.walk(&mut path, &mut |p, n| out.push((p.join(" > "), n.clone())));
    }
    out
}

fn report_of(cmp: DebComparison) -> Report {
    let id = cmp.package.clone().expect("package id");
    Report::new(vec![SourceReport {
        source: id.package.clone(),
        version: id.version.clone(),
        binaries: vec![BinaryReport::from_comparison(id, None, cmp)],
    }])
}

/// Renders all three formats and checks what every report must satisfy.
fn render_all(cmp: DebComparison) -> (String, String, String) {
    let kind = cmp.classification().kind;
    let report = report_of(cmp);
    let text = render_text(&report, false);
    let json = render_json(&report);
    let html = render_html(&report);
    assert!(text.contains(kind.label()), "{text}");
    assert!(!text.contains('\x1b'), "no colour unless asked");
    assert!(render_text(&report, true).contains("\x1b["));
    let back: Report = serde_json::from_str(&json).expect("JSON parses back into a Report");
    assert_eq!(back, report);
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value["schema_version"], 1);
    assert_eq!(value["summary"]["total"]["analysed"], 1);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<style>") && html.contains("<details"));
    // Self-contained: no external assets (URLs inside escaped package text are fine).
    for asset in ["<script", "<link", "<img", "src=", "href=", "url("] {
        assert!(
            !html.contains(asset),
            "HTML must not reference assets: {asset}"
        );
    }
    assert!(html.contains(&format!("k-{}", kind.label())));
    (text, json, html)
}

#[test]
fn real_packages_compared_with_themselves_are_identical() {
    for rel in [HELLO, BASE_FILES, LIBUEV3, XFPT] {
        let deb = pool(rel);
        let cmp = compare(&deb, &deb);
        assert!(cmp.differences.is_empty(), "{rel}: {:?}", cmp.differences);
        assert_eq!(cmp.classification().kind, ClassKind::Identical);
        assert_eq!(cmp.ours.sha256, cmp.official.sha256);
        assert!(cmp.limits_hit.is_empty());
    }
    let cmp = compare(&pool(HELLO), &pool(HELLO));
    let id = cmp.package.clone().expect("id");
    assert_eq!(
        (
            id.package.as_str(),
            id.version.as_str(),
            id.architecture.as_str()
        ),
        ("hello", "2.10-3", "amd64")
    );
    let (text, _, _) = render_all(cmp);
    assert!(
        text.contains("1 binaries analysed, 1 identical (100.0%), 0 differ"),
        "{text}"
    );
}

#[test]
fn unmodified_repack_is_byte_identical() {
    // Guards the helpers: a no-op re-pack must not introduce differences of its own.
    let deb = pool(HELLO);
    let members = ar_members(&deb);
    let data = members
        .iter()
        .find(|m| m.header.identifier() == b"data.tar.xz")
        .expect("data");
    let stream = unxz(&data.data);
    assert_eq!(tar_pack(&tar_entries(&stream), stream.len()), stream);
}

#[test]
fn mtime_change_is_metadata_only() {
    let official = pool(HELLO);
    let ours = modify_data(&official, false, |entries| {
        let e = entry(entries, "./usr/share/doc/hello/copyright");
        e.header.set_mtime(1_700_000_000);
        e.header.set_cksum();
    });
    let cmp = compare(&ours, &official);
    let class = cmp.classification();
    assert_eq!(
        class.kind,
        ClassKind::MetadataOnly,
        "{class:?} {:#?}",
        cmp.differences
    );
    assert!(
        class
            .explanation
            .contains("./usr/share/doc/hello/copyright (mtime)"),
        "{}",
        class.explanation
    );
    let mtime = flat(&cmp).into_iter().find(|(_, n)| {
        matches!(&n.detail, Detail::Field { scope: FieldScope::TarHeader, field, ours, .. } if field == "mtime" && ours == "1700000000")
    });
    assert!(mtime.is_some());
    render_all(cmp);
}

#[test]
fn removed_file_is_content_naming_the_path() {
    let official = pool(HELLO);
    let ours = modify_data(&official, true, |entries| {
        entries.retain(|e| e.path != "./usr/share/doc/hello/NEWS.gz");
    });
    let cmp = compare(&ours, &official);
    let class = cmp.classification();
    assert_eq!(class.kind, ClassKind::Content);
    assert!(
        class.explanation.contains("./usr/share/doc/hello/NEWS.gz"),
        "{}",
        class.explanation
    );
    assert!(flat(&cmp)
        .iter()
        .any(|(p, n)| p.ends_with("./usr/share/doc/hello/NEWS.gz")
            && matches!(&n.detail, Detail::OnlyInOfficial { what } if what == "file")));
    let (text, _, html) = render_all(cmp);
    assert!(text.contains("NEWS.gz") && html.contains("NEWS.gz"));
}

#[test]
fn text_change_is_content_with_unified_diff() {
    let official = pool(HELLO);
    let ours = modify_data(&official, true, |entries| {
        let e = entry(entries, "./usr/share/doc/hello/copyright");
        let text = String::from_utf8(e.data.clone()).expect("utf8").replacen(
            "The changes were very minimal:",
            "The changes were <very> minimal & small:",
            1,
        );
        set_data(e, text.into_bytes());
    });
    let cmp = compare(&ours, &official);
    assert_eq!(cmp.classification().kind, ClassKind::Content);
    let diff = flat(&cmp).into_iter().find_map(|(_, n)| match n.detail {
        Detail::TextDiff { unified, truncated } => Some((unified, truncated)),
        _ => None,
    });
    let (unified, truncated) = diff.expect("a text diff");
    assert!(!truncated);
    assert!(
        unified.contains(
            "-The changes were very minimal:\n+The changes were <very> minimal & small:\n"
        ),
        "{unified}"
    );
    assert!(unified.starts_with("--- official/data.tar.xz/./usr/share/doc/hello/copyright"));
    // md5sums was updated consistently, so its line follows the data file: content.
    assert!(flat(&cmp).iter().any(|(_, n)| matches!(&n.detail,
        Detail::Md5sums { path, consistent_with_data: true, .. } if path == "usr/share/doc/hello/copyright")));
    let (text, _, html) = render_all(cmp);
    assert!(text.contains("+The changes were <very> minimal & small:"));
    assert!(
        html.contains("+The changes were &lt;very&gt; minimal &amp; small:"),
        "HTML must escape diff text"
    );
}

fn patch_hello_elf(section: &str, update_md5sums: bool) -> (Vec<u8>, Vec<u8>) {
    let official = pool(HELLO);
    let ours = modify_data(&official, update_md5sums, |entries| {
        let e = entry(entries, "./usr/bin/hello");
        let (offset, size) = section_range(&e.data, section);
        assert!(size > 20);
        // Flip bytes in the middle of the section (past a note's 16-byte header).
        let mut data = e.data.clone();
        for b in &mut data[offset + 16..offset + 20] {
            *b ^= 0xff;
        }
        set_data(e, data);
    });
    (ours, official)
}

#[test]
fn build_id_change_is_build_id_only_despite_md5sums() {
    let (ours, official) = patch_hello_elf(".note.gnu.build-id", true);
    let cmp = compare(&ours, &official);
    let class = cmp.classification();
    assert_eq!(
        class.kind,
        ClassKind::BuildIdOnly,
        "{class:?} {:#?}",
        cmp.differences
    );
    assert!(
        class.explanation.starts_with("code identical"),
        "{}",
        class.explanation
    );
    assert!(
        class
            .explanation
            .contains("./usr/bin/hello (.note.gnu.build-id)"),
        "{}",
        class.explanation
    );
    assert!(class.explanation.contains("toolchain version string"));
    let nodes = flat(&cmp);
    assert!(nodes.iter().any(|(p, n)| p.contains("./usr/bin/hello")
        && n.category == Category::BuildId
        && matches!(&n.detail, Detail::ElfSection { name, .. } if name == ".note.gnu.build-id")));
    assert!(nodes.iter().any(|(_, n)| n.category == Category::BuildId
        && matches!(&n.detail, Detail::Md5sums { path, consistent_with_data: true, .. } if path == "usr/bin/hello")));
    assert!(
        !nodes.iter().any(|(_, n)| n.category == Category::Content),
        "{nodes:#?}"
    );
    let (text, json, html) = render_all(cmp);
    assert!(text.contains(".note.gnu.build-id"));
    assert!(json.contains("\"build-id-only\""));
    assert!(html.contains(".note.gnu.build-id"));
}

#[test]
fn build_id_change_with_wrong_md5sums_is_content() {
    // An md5sums line that matches neither data file is a real inconsistency, not a build-id effect.
    let (ours, official) = patch_hello_elf(".note.gnu.build-id", true);
    let ours = modify_member(&ours, "control.tar", |entries| {
        let e = entry(entries, "./md5sums");
        let text = String::from_utf8(e.data.clone()).expect("utf8");
        let text: String = text
            .lines()
            .map(|l| match l.split_once("  ") {
                Some((_, "usr/bin/hello")) => format!("{}  usr/bin/hello\n", "a".repeat(32)),
                _ => format!("{l}\n"),
            })
            .collect();
        set_data(e, text.into_bytes());
    });
    let cmp = compare(&ours, &official);
    assert_eq!(cmp.classification().kind, ClassKind::Content);
    assert!(flat(&cmp)
        .iter()
        .any(|(_, n)| n.category == Category::Content
            && matches!(
                &n.detail,
                Detail::Md5sums {
                    consistent_with_data: false,
                    ..
                }
            )));
}

#[test]
fn code_change_is_content_naming_text_section() {
    let (ours, official) = patch_hello_elf(".text", true);
    let cmp = compare(&ours, &official);
    let class = cmp.classification();
    assert_eq!(class.kind, ClassKind::Content);
    assert!(
        class.explanation.contains("./usr/bin/hello (.text)"),
        "{}",
        class.explanation
    );
    let (text, _, html) = render_all(cmp);
    assert!(text.contains("ELF section .text differs"));
    assert!(html.contains(".text"));
}

#[test]
fn truncated_official_deb_is_a_clear_error() {
    let deb = pool(HELLO);
    for cut in [4, 70, 200, deb.len() / 2, deb.len() - 1] {
        let err = compare_debs(&deb, &deb[..cut], &Limits::default())
            .expect_err("truncated input must fail");
        let msg = err.to_string();
        assert!(msg.starts_with("official .deb"), "cut {cut}: {msg}");
    }
    let err = compare_debs(b"not a deb", &deb, &Limits::default()).expect_err("garbage");
    assert!(err.to_string().starts_with("our .deb"));
}

#[test]
fn gzip_header_mtime_is_reported() {
    let official = pool(HELLO);
    let ours = modify_data(&official, true, |entries| {
        let e = entry(entries, "./usr/share/doc/hello/changelog.Debian.gz");
        let mut data = e.data.clone();
        data[4..8].copy_from_slice(&1_600_000_000u32.to_le_bytes());
        set_data(e, data);
    });
    let cmp = compare(&ours, &official);
    assert_eq!(cmp.classification().kind, ClassKind::Content);
    let field = flat(&cmp).into_iter().find_map(|(p, n)| match n.detail {
        Detail::Field {
            scope: FieldScope::GzipHeader,
            field,
            ours,
            ..
        } => Some((p, field, ours)),
        _ => None,
    });
    let (path, field, value) = field.expect("gzip header difference");
    assert!(path.contains("changelog.Debian.gz"), "{path}");
    assert_eq!((field.as_str(), value.as_str()), ("mtime", "1600000000"));
    let (text, _, _) = render_all(cmp);
    assert!(text.contains("gzip header mtime"));
}

#[test]
fn decompressed_size_limit_is_reported_not_exhausted() {
    // A zip-bomb-like data.tar.xz: 64 MiB of zeros compressing to a few KiB.
    let official = pool(HELLO);
    let mut members = ar_members(&official);
    let data = members
        .iter_mut()
        .find(|m| m.header.identifier() == b"data.tar.xz")
        .expect("data");
    data.data = xz(&vec![0u8; 64 << 20]);
    let ours = ar_pack(&members);
    let limits = Limits {
        max_decompressed_size: 1 << 20,
        ..Limits::default()
    };
    let cmp = compare_debs(&ours, &official, &limits).expect("limits never error");
    assert_eq!(cmp.classification().kind, ClassKind::Inconclusive);
    assert!(
        cmp.limits_hit
            .iter()
            .any(|h| h.limit == LimitKind::DecompressedSize),
        "{:?}",
        cmp.limits_hit
    );
    let (text, json, _) = render_all(cmp);
    assert!(text.contains("DecompressedSize"));
    assert!(json.contains("decompressed_size"));
}

#[test]
fn entry_and_input_limits_are_reported() {
    let deb = pool(HELLO);
    let few = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let cmp = compare_debs(&deb, &deb, &few).expect("comparison");
    assert_eq!(cmp.classification().kind, ClassKind::Inconclusive);
    assert!(cmp.limits_hit.iter().any(|h| h.limit == LimitKind::Entries));
    let small = Limits {
        max_input_size: 1000,
        ..Limits::default()
    };
    let cmp = compare_debs(&deb, &deb, &small).expect("comparison");
    assert!(cmp
        .limits_hit
        .iter()
        .any(|h| h.limit == LimitKind::InputSize));
    assert_eq!(cmp.classification().kind, ClassKind::Inconclusive);
}

#[test]
fn different_packages_are_content_and_bounded() {
    let limits = Limits {
        max_differences: 50,
        ..Limits::default()
    };
    let cmp = compare_debs(&pool(XFPT), &pool(HELLO), &limits).expect("comparison");
    assert_eq!(cmp.classification().kind, ClassKind::Content);
    let total: usize = cmp.differences.iter().map(DiffNode::count).sum();
    assert!(
        total <= 52,
        "pruned to the budget plus omitted markers: {total}"
    );
    assert!(flat(&cmp)
        .iter()
        .any(|(_, n)| matches!(n.detail, Detail::Omitted { .. })));
}

#[test]
fn recompressed_members_are_metadata_only() {
    let official = pool(HELLO);
    for (name, compress) in [
        (
            "data.tar.zst",
            (|t: &[u8]| zstd::encode_all(t, 19).expect("zstd")) as fn(&[u8]) -> Vec<u8>,
        ),
        ("data.tar.gz", |t: &[u8]| {
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(t).expect("gzip");
            enc.finish().expect("gzip")
        }),
        ("data.tar", |t: &[u8]| t.to_vec()),
    ] {
        let mut members = ar_members(&official);
        let data = members
            .iter_mut()
            .find(|m| m.header.identifier() == b"data.tar.xz")
            .expect("data");
        data.data = compress(&unxz(&data.data));
        data.header.set_identifier(name.as_bytes().to_vec());
        let ours = ar_pack(&members);
        let cmp = compare(&ours, &official);
        assert_eq!(
            cmp.classification().kind,
            ClassKind::MetadataOnly,
            "{name}: {:#?}",
            cmp.differences
        );
        assert!(flat(&cmp).iter().any(|(_, n)| matches!(&n.detail,
            Detail::Field { scope: FieldScope::ArHeader, field, ours, .. } if field == "name" && ours == name)));
    }
}

#[test]
fn traversal_and_non_utf8_names_are_opaque() {
    let official = pool(HELLO);
    let ours = modify_data(&official, false, |entries| {
        let mut header = entry(entries, "./usr/share/doc/hello/copyright")
            .header
            .clone();
        // Written raw: `Header::set_path` (rightly) refuses such names.
        let name = b"../../etc/evil\xff";
        header.as_mut_bytes()[..100].fill(0);
        header.as_mut_bytes()[..name.len()].copy_from_slice(name);
        header.set_size(4);
        header.set_cksum();
        entries.insert(
            entries.len() - 1,
            RawEntry {
                path: String::new(),
                header,
                data: b"boo\n".to_vec(),
            },
        );
    });
    let cmp = compare(&ours, &official);
    assert_eq!(cmp.classification().kind, ClassKind::Content);
    assert!(flat(&cmp)
        .iter()
        .any(|(_, n)| n.location == "../../etc/evil\\xff"
            && matches!(&n.detail, Detail::OnlyInOurs { what } if what == "file")));
    render_all(cmp);
}

/// Rewrites the `Depends` line of hello's `control` file.
fn hello_with_depends(deb: &[u8], depends: &str) -> Vec<u8> {
    modify_member(deb, "control.tar", |entries| {
        let e = entry(entries, "./control");
        let text = String::from_utf8(e.data.clone()).expect("utf8");
        let text: String = text
            .lines()
            .map(|l| {
                if l.starts_with("Depends:") {
                    format!("Depends: {depends}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        set_data(e, text.into_bytes());
    })
}

#[test]
fn dependency_versions_in_control_are_control_only() {
    let official = pool(HELLO);
    let ours = hello_with_depends(&official, "libc6 (>= 2.36)");
    let cmp = compare(&ours, &official);
    let class = cmp.classification();
    assert_eq!(
        class.kind,
        ClassKind::ControlOnly,
        "{class:?} {:#?}",
        cmp.differences
    );
    assert!(
        class.explanation.contains("Depends"),
        "{}",
        class.explanation
    );
    assert!(flat(&cmp).iter().any(|(_, n)| n.category == Category::Control
        && matches!(&n.detail, Detail::ControlField { field, ours: Some(o), .. } if field == "Depends" && o == "libc6 (>= 2.36)")));
    let (text, json, html) = render_all(cmp);
    assert!(text.contains("control-only"), "{text}");
    assert!(text.contains("control field Depends"), "{text}");
    assert!(json.contains("\"control-only\""));
    assert!(json.contains("\"control_field\""));
    assert!(html.contains("k-control-only"));
}

#[test]
fn control_only_ranks_between_metadata_and_build_id() {
    assert!(ClassKind::MetadataOnly < ClassKind::ControlOnly);
    assert!(ClassKind::ControlOnly < ClassKind::BuildIdOnly);
    // Depends plus a build-id difference: the worse class wins.
    let (ours, official) = patch_hello_elf(".note.gnu.build-id", true);
    let ours = hello_with_depends(&ours, "libc6 (>= 2.36)");
    assert_eq!(
        compare(&ours, &official).classification().kind,
        ClassKind::BuildIdOnly
    );
    // Depends plus an mtime difference: control-only.
    let official = pool(HELLO);
    let ours = modify_data(&official, false, |entries| {
        let e = entry(entries, "./usr/share/doc/hello/copyright");
        e.header.set_mtime(1_700_000_000);
        e.header.set_cksum();
    });
    let ours = hello_with_depends(&ours, "libc6 (>= 2.36)");
    assert_eq!(
        compare(&ours, &official).classification().kind,
        ClassKind::ControlOnly
    );
}

#[test]
fn other_control_fields_are_content() {
    let official = pool(HELLO);
    let ours = modify_member(&official, "control.tar", |entries| {
        let e = entry(entries, "./control");
        let text = String::from_utf8(e.data.clone()).expect("utf8");
        set_data(
            e,
            text.replace("Maintainer:", "Maintainer: X\nX-Other:")
                .into_bytes(),
        );
    });
    let cmp = compare(&ours, &official);
    assert_eq!(cmp.classification().kind, ClassKind::Content);
}
