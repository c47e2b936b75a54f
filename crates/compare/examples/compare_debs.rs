//! Compares two `.deb` files and prints a report: `compare_debs OURS OFFICIAL [text|json|html]`.

use cryo_compare::report::{
    render_html, render_json, render_text, BinaryReport, Report, SourceReport,
};
use cryo_compare::{compare_debs, Limits, PackageId};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(ours), Some(official)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: compare_debs OURS.deb OFFICIAL.deb [text|json|html]");
        std::process::exit(2);
    };
    let cmp = compare_debs(
        &std::fs::read(ours)?,
        &std::fs::read(official)?,
        &Limits::default(),
    )?;
    let id = cmp.package.clone().unwrap_or(PackageId {
        package: official.clone(),
        version: String::new(),
        architecture: String::new(),
    });
    let report = Report::new(vec![SourceReport {
        source: id.package.clone(),
        version: id.version.clone(),
        binaries: vec![BinaryReport::from_comparison(id, None, cmp)],
    }]);
    let out = match args.get(3).map(String::as_str) {
        Some("json") => render_json(&report),
        Some("html") => render_html(&report),
        _ => render_text(&report, false),
    };
    print!("{out}");
    Ok(())
}
