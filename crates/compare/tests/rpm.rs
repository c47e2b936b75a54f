//! `compare_rpms` on RPMs built in the test by the host's `rpmbuild` from one tiny spec:
//! (a) same clock and host → identical, and signature-only once one side is signed;
//! (b) other `_buildhost` and clock → build-metadata-only;
//! (c) a changed file → content, naming the file;
//! (d) a changed ELF section (other `-O`) → content, naming the section.

#[path = "../../rpm/tests/common/rpmbuild.rs"]
mod rpmbuild;

use std::path::Path;

use cryo_compare::report::{render_json, render_text, BinaryReport, Report, SourceReport};
use cryo_compare::{compare_packages, compare_rpms, Category, ClassKind, Detail, DiffNode, Limits};
use rpmbuild::{have_tools, Gpg, Spec};

fn compare(ours: &Path, official: &Path) -> cryo_compare::PackageComparison {
    let (a, b) = (
        std::fs::read(ours).unwrap(),
        std::fs::read(official).unwrap(),
    );
    compare_rpms(&a, &b, &Limits::default()).unwrap()
}

fn build(spec: &Spec, dir: &Path, name: &str) -> std::path::PathBuf {
    spec.build(&dir.join(name))
}

fn leaves(nodes: &[DiffNode]) -> Vec<(String, Category)> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    for n in nodes {
        n.walk(&mut path, &mut |p, node| {
            if node.children.is_empty() {
                out.push((p.join(" > "), node.category));
            }
        });
    }
    out
}

#[test]
fn same_inputs_are_identical_and_signing_is_signature_only() {
    if !have_tools(&["rpmbuild", "rpmsign", "gpg", "gpgconf"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec::new("cryocmp");
    let a = build(&spec, dir.path(), "a");
    let b = build(&spec, dir.path(), "b");
    let cmp = compare(&a, &b);
    assert_eq!(
        cmp.classification().kind,
        ClassKind::Identical,
        "{:#?}",
        cmp.differences
    );
    assert_eq!(cmp.package.as_ref().unwrap().package, "cryocmp");

    // The vendor signs its copy; ours stays unsigned.
    let vendor = Gpg::new("cryo vendor <vendor@example.org>");
    let signed = dir.path().join("signed.rpm");
    std::fs::copy(&b, &signed).unwrap();
    vendor.sign(&signed);
    let cmp = compare(&a, &signed);
    let class = cmp.classification();
    assert_eq!(
        class.kind,
        ClassKind::SignatureOnly,
        "{:#?}",
        cmp.differences
    );
    assert!(class.kind.is_identical());
    assert!(
        leaves(&cmp.differences)
            .iter()
            .all(|(p, c)| p.starts_with("signature header") && *c == Category::Signature),
        "{:#?}",
        cmp.differences
    );
    assert!(class.explanation.contains("RSAHEADER") || class.explanation.contains("RSA"));
    // The format-generic entry point dispatches on the lead magic.
    let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&signed).unwrap());
    let generic = compare_packages(&x, &y, &Limits::default()).unwrap();
    assert_eq!(generic.classification().kind, ClassKind::SignatureOnly);
}

#[test]
fn other_clock_and_host_is_build_metadata_only() {
    if !have_tools(&["rpmbuild"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec::new("cryocmp");
    let mut other = spec.clone();
    other.buildhost = "elsewhere.example".into();
    other.epoch_time += 86_400;
    let a = build(&spec, dir.path(), "a");
    let b = build(&other, dir.path(), "b");
    let cmp = compare(&a, &b);
    let class = cmp.classification();
    assert_eq!(
        class.kind,
        ClassKind::BuildMetadataOnly,
        "{:#?}",
        cmp.differences
    );
    let fields: Vec<String> = leaves(&cmp.differences)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    for wanted in [
        "header > BUILDTIME",
        "header > BUILDHOST",
        "header > FILEMTIMES[/etc/cryocmp.conf]",
    ] {
        assert!(
            fields.iter().any(|f| f == wanted),
            "{wanted} not in {fields:#?}"
        );
    }
    assert!(
        class.explanation.contains("BUILDHOST"),
        "{}",
        class.explanation
    );
    // Both values are in the report.
    let json = serde_json::to_string(&cmp.differences).unwrap();
    assert!(json.contains("elsewhere.example") && json.contains("cryo-test.example"));
}

#[test]
fn a_changed_file_is_content_and_named() {
    if !have_tools(&["rpmbuild"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec::new("cryocmp");
    let mut other = spec.clone();
    other.files[0].1 = b"hello, world\n".to_vec();
    let a = build(&spec, dir.path(), "a");
    let b = build(&other, dir.path(), "b");
    let cmp = compare(&a, &b);
    let class = cmp.classification();
    assert_eq!(class.kind, ClassKind::Content);
    assert!(
        class.explanation.contains("/usr/share/doc/cryocmp/README"),
        "{}",
        class.explanation
    );
    let all = leaves(&cmp.differences);
    assert!(all.iter().any(
        |(p, c)| p == "header > FILEDIGESTS[/usr/share/doc/cryocmp/README]"
            && *c == Category::Content
    ));
    assert!(all
        .iter()
        .any(|(p, _)| p.starts_with("payload > /usr/share/doc/cryocmp/README > text")));
    // The renderers take the comparison like a deb's.
    let id = cmp.package.clone().unwrap();
    let report = Report {
        schema_version: 1,
        sources: vec![SourceReport {
            source: "cryocmp".into(),
            version: "1.0-1".into(),
            binaries: vec![BinaryReport::from_comparison(id, None, cmp)],
        }],
    };
    let text = render_text(&report, false);
    assert!(
        text.contains("FILEDIGESTS[/usr/share/doc/cryocmp/README]"),
        "{text}"
    );
    assert!(render_json(&report).contains("\"rpm_header\""));
}

#[test]
fn a_changed_elf_section_is_named() {
    if !have_tools(&["rpmbuild", "gcc"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut spec = Spec::new("cryoelf");
    spec.program = Some((
        "/usr/bin/cryoprog".into(),
        rpmbuild::PROGRAM.into(),
        "-O0".into(),
    ));
    let mut other = spec.clone();
    other.program.as_mut().unwrap().2 = "-O2".into();
    let a = build(&spec, dir.path(), "a");
    let b = build(&other, dir.path(), "b");
    let cmp = compare(&a, &b);
    let class = cmp.classification();
    assert_eq!(class.kind, ClassKind::Content);
    assert!(
        class.explanation.contains("/usr/bin/cryoprog") && class.explanation.contains(".text"),
        "{}",
        class.explanation
    );
    let mut sections = Vec::new();
    let mut path = Vec::new();
    for n in &cmp.differences {
        n.walk(&mut path, &mut |p, node| {
            if let Detail::ElfSection { name, .. } = &node.detail {
                sections.push((p.join(" > "), name.clone()));
            }
        });
    }
    assert!(
        sections
            .iter()
            .any(|(p, s)| s == ".text" && p.starts_with("payload > /usr/bin/cryoprog")),
        "{sections:#?}"
    );
}
