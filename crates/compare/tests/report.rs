//! Report aggregation and rendering of caller-produced verdicts.

mod common;

use cryo_compare::report::{
    render_html, render_json, render_text, BinaryReport, Report, SourceReport,
};
use cryo_compare::{compare_debs, ClassKind, Limits, PackageId};

fn id(package: &str) -> PackageId {
    PackageId {
        package: package.into(),
        version: "1.0-1".into(),
        architecture: "amd64".into(),
    }
}

#[test]
fn summary_counts_like_guix_challenge() {
    let deb = common::pool(common::LIBUEV3);
    let identical = compare_debs(&deb, &deb, &Limits::default()).expect("comparison");
    let report = Report::new(vec![
        SourceReport {
            source: "libuev".into(),
            version: "2.4.0-1.1+deb12u1".into(),
            binaries: vec![
                BinaryReport::from_comparison(id("libuev3"), Some("b3:abc".into()), identical),
                BinaryReport::build_failed(
                    id("libuev-dev"),
                    None,
                    "dpkg-buildpackage exited with 2 <oops>",
                ),
            ],
        },
        SourceReport {
            source: "mxml".into(),
            version: "3.3.1".into(),
            binaries: vec![BinaryReport::missing_upstream(id("libmxml1"), None)],
        },
    ]);
    let summary = report.summary();
    assert_eq!(summary.total.analysed, 3);
    assert_eq!(summary.total.identical, 1);
    assert_eq!(summary.total.differ, 0);
    assert_eq!(summary.total.failed_or_inconclusive, 2);
    assert_eq!(summary.total.by_kind.get(&ClassKind::BuildFailed), Some(&1));
    assert_eq!(summary.per_source.len(), 2);
    assert_eq!(
        summary.per_source[0].counts.line(),
        "2 binaries analysed, 1 identical (50.0%), 0 differ, 1 failed/inconclusive"
    );

    let text = render_text(&report, false);
    assert!(
        text.contains(
            "summary: 3 binaries analysed, 1 identical (33.3%), 0 differ, 2 failed/inconclusive"
        ),
        "{text}"
    );
    assert!(text.contains("build-failed — build failed: dpkg-buildpackage exited with 2 <oops>"));
    assert!(text.contains("missing-upstream"));
    assert!(text.contains("ours b3:abc"));
    let html = render_html(&report);
    assert!(html.contains("exited with 2 &lt;oops&gt;"));
    assert!(!html.contains("<oops>"));
    let json = render_json(&report);
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value["summary"]["total"]["by_kind"]["missing-upstream"], 1);
    assert_eq!(
        value["sources"][0]["binaries"][1]["classification"]["kind"],
        "build-failed"
    );
    let back: Report = serde_json::from_str(&json).expect("round trip");
    assert_eq!(back, report);
}
