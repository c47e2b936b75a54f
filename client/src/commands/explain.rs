//! `cryo explain REPORT|SOURCE` and `cryo verify --buildinfo FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use cryo_store::api::{
    BuildinfoOutcome, BuildinfoRequest, ExplainOutcome, ExplainRequest, PrjconfText,
};
use hyper::Method;

use super::resolve::prjconf_text;
use crate::autostart::connect;
use crate::cli::Global;
use crate::output;

/// Arguments of `cryo explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// A report id (or unique prefix of at least 8 hex characters), or a source
    /// `src:NAME[=VERSION]` (verified first).
    pub target: String,
    /// Snapshot id (required for a source; default for a report: the report's).
    #[arg(long)]
    pub snapshot: Option<String>,
    /// Project config (required for a source; default for a report: the one it was
    /// verified with).
    #[arg(long, value_name = "FILE")]
    pub prjconf: Option<PathBuf>,
    /// Architecture (Debian name; default: the report's, else the daemon's).
    #[arg(long)]
    pub arch: Option<String>,
    /// At most this many rebuilds per explained source (cached like any build).
    #[arg(long, value_name = "N")]
    pub max_rebuilds: Option<u32>,
}

pub async fn run_explain(g: &Global, a: ExplainArgs) -> Result<ExitCode> {
    let prjconf: Option<PrjconfText> = a.prjconf.as_deref().map(prjconf_text).transpose()?;
    if a.target.starts_with("src:") && (a.snapshot.is_none() || prjconf.is_none()) {
        bail!("explaining {} needs --snapshot and --prjconf", a.target);
    }
    let conn = connect(g).await?;
    let msg = format!("explaining {} (rebuilds run in cryod)", a.target);
    if !g.json && !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprintln!(
            "explaining {}: rebuilding variations, this takes a while",
            a.target
        );
    }
    let body = ExplainRequest {
        target: a.target,
        snapshot: a.snapshot,
        prjconf,
        arch: a.arch,
        max_rebuilds: a.max_rebuilds,
    };
    let r: ExplainOutcome = output::with_spinner(
        g,
        &msg,
        conn.json(Method::POST, "/api/v1/explain", Some(&body)),
    )
    .await?;
    if g.json {
        output::json_answer(&r);
        return Ok(ExitCode::SUCCESS);
    }
    if r.explanations.is_empty() {
        println!(
            "report {}: nothing to explain (no binary differs)",
            r.report
        );
    }
    for b in &r.explanations {
        let e = &b.explanation;
        let kind = |k| {
            serde_json::to_value(k)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        println!(
            "{} {} {}: {} → {}: {}",
            b.package,
            b.version,
            b.architecture,
            kind(e.class_before),
            kind(e.class_after),
            e.summary
        );
        for x in &e.explained_by {
            println!("  by {} → {}", x.variation, kind(x.class));
        }
        for x in &e.remaining {
            println!("  remaining: {x}");
        }
        for x in &e.tried {
            println!("  tried {}: {} — {}", x.variation, kind(x.class), x.note);
        }
        if !e.prjconf_addition.is_empty() {
            println!("  prjconf addition:");
            for l in e.prjconf_addition.lines() {
                println!("    {l}");
            }
        }
        println!("  {} of at most {} rebuilds", e.rebuilds, e.max_rebuilds);
    }
    println!(
        "report {} (cryo report show {} shows the explanations)",
        r.report,
        &r.report.to_string()[..12]
    );
    Ok(ExitCode::SUCCESS)
}

/// `cryo verify --buildinfo FILE --prjconf FILE [--snapshot S]`.
pub async fn run_buildinfo(
    g: &Global,
    file: &std::path::Path,
    prjconf: &std::path::Path,
    snapshot: Option<String>,
) -> Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let body = BuildinfoRequest {
        name: file.display().to_string(),
        text,
        prjconf: prjconf_text(prjconf)?,
        snapshot,
    };
    let conn = connect(g).await?;
    let r: BuildinfoOutcome = output::with_spinner(
        g,
        &format!("rebuilding {}", file.display()),
        conn.json(Method::POST, "/api/v1/verify/buildinfo", Some(&body)),
    )
    .await?;
    if g.json {
        output::json_answer(&r);
    } else {
        println!(
            "{} {} {}: derivation {} in snapshot {}",
            r.source, r.version, r.architecture, r.derivation, r.snapshot
        );
        let snaps: std::collections::BTreeSet<&str> =
            r.packages.iter().map(|p| p.snapshot.as_str()).collect();
        println!(
            "  {} installed packages pinned from {} snapshot(s)",
            r.packages.len(),
            snaps.len()
        );
        for e in &r.environment {
            println!("  {e}");
        }
        for f in &r.files {
            println!(
                "  {}: {} (expected sha256 {}, rebuilt {})",
                f.name,
                if f.identical { "identical" } else { "DIFFERS" },
                f.expected_sha256,
                f.rebuilt_sha256.as_deref().unwrap_or("(not produced)")
            );
        }
        if let Some(t) = &r.failure {
            println!("  the build failed:\n{t}");
        }
    }
    Ok(ExitCode::from(r.exit_code))
}
