//! `cryo verify` and `cryo report list|show`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use cryo_store::api::{CheckRequest, ReportInfo, VerifyOutcome, VerifyRequest};
use http_body_util::BodyExt;
use hyper::Method;

use super::resolve::prjconf_text;
use crate::autostart::connect;
use crate::cli::Global;
use crate::conn::{empty, Conn};
use crate::output;

/// Arguments of `cryo verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Snapshot id (or unique prefix). Required but with --buildinfo (default there: the
    /// snapshot holding the source and most of the installed packages).
    #[arg(long)]
    pub snapshot: Option<String>,
    /// Project config (OBS prjconf syntax) that recreates the distribution's build env.
    #[arg(long, value_name = "FILE")]
    pub prjconf: PathBuf,
    /// Upstream sources to rebuild and compare: `src:NAME[=VERSION]`.
    pub sources: Vec<String>,
    /// Read more `src:NAME[=VERSION]` lines from a file (`#` comments allowed).
    #[arg(long, value_name = "LIST")]
    pub from_file: Option<PathBuf>,
    /// Architecture (Debian name; default: the daemon's).
    #[arg(long)]
    pub arch: Option<String>,
    /// Rebuild what a Debian `.buildinfo` describes (exact installed versions, build path,
    /// environment, architecture) and compare with the checksums it lists.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["sources", "from_file", "arch"])]
    pub buildinfo: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ReportCmd {
    /// Every stored verification report.
    List,
    /// Show a report again.
    Show {
        id: String,
        /// text (terminal, colour on a tty), json (docs/report-format.md) or html (one
        /// self-contained file).
        #[arg(long, default_value = "text")]
        format: String,
        /// Write to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

async fn fetch_report(conn: &Conn, id: &str, format: &str, colour: bool) -> Result<Vec<u8>> {
    let resp = conn
        .checked(
            Method::GET,
            &format!("/api/v1/reports/{id}?format={format}&colour={colour}"),
            empty(),
        )
        .await?;
    Ok(resp.into_body().collect().await?.to_bytes().to_vec())
}

/// The `src:NAME[=VERSION]` lines of a list file (`#` comments and blank lines allowed).
pub fn read_source_list(f: &std::path::Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
    parse_source_list(f, &text)
}

/// The `src:NAME[=VERSION]` lines of `text` (read from `f`, named in errors).
pub fn parse_source_list(f: &std::path::Path, text: &str) -> Result<Vec<String>> {
    let mut sources = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if !line.starts_with("src:") {
            bail!(
                "{}:{}: expected src:NAME[=VERSION], got {line:?}",
                f.display(),
                n + 1
            );
        }
        sources.push(line.to_string());
    }
    Ok(sources)
}

pub async fn run_verify(g: &Global, a: VerifyArgs) -> Result<ExitCode> {
    if let Some(file) = &a.buildinfo {
        return super::explain::run_buildinfo(g, file, &a.prjconf, a.snapshot.clone()).await;
    }
    let Some(snapshot) = a.snapshot.clone() else {
        bail!("--snapshot is required (but with --buildinfo)");
    };
    let mut sources = a.sources.clone();
    if let Some(f) = &a.from_file {
        sources.extend(read_source_list(f)?);
    }
    if sources.is_empty() {
        bail!("name at least one src:NAME[=VERSION] (or --from-file)");
    }
    let prjconf = prjconf_text(&a.prjconf)?;
    let conn = connect(g).await?;
    let pb = output::spinner(g, &format!("verifying {} source package(s)", sources.len()));
    let body = VerifyRequest {
        snapshot,
        prjconf,
        sources,
        arch: a.arch,
    };
    let r: Result<VerifyOutcome> = conn.json(Method::POST, "/api/v1/verify", Some(&body)).await;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let r = r?;
    let code = r.exit_code;
    let id = r.report.to_string();
    if g.json {
        output::json_answer(&r);
    } else {
        let colour = std::io::stdout().is_terminal();
        let text = fetch_report(&conn, &id, "text", colour).await?;
        print!("{}", String::from_utf8_lossy(&text));
        println!(
            "report {id} (cryo report show {} --format html --out report.html)",
            &id[..12.min(id.len())]
        );
    }
    Ok(ExitCode::from(code))
}

pub async fn run_report(g: &Global, cmd: ReportCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    match cmd {
        ReportCmd::List => {
            let l: Vec<ReportInfo> = conn
                .json(Method::GET, "/api/v1/reports", None::<&()>)
                .await?;
            if g.json {
                output::json_answer(&l);
            } else {
                for r in l {
                    println!(
                        "{}  {}  exit {}  {}  [{}]",
                        r.id,
                        output::date(r.created),
                        r.exit_code,
                        r.summary,
                        r.sources.join(" ")
                    );
                }
            }
        }
        ReportCmd::Show { id, format, out } => {
            let format = if g.json { "json".to_string() } else { format };
            let colour = out.is_none() && format == "text" && std::io::stdout().is_terminal();
            let bytes = fetch_report(&conn, &id, &format, colour).await?;
            match out {
                Some(p) => std::fs::write(&p, &bytes)
                    .with_context(|| format!("writing {}", p.display()))?,
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&bytes)?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cryo build --check DRV [--vary ...]`.
pub async fn run_check(g: &Global, drv: &str, vary: &[String]) -> Result<ExitCode> {
    drv.parse::<cryo_store::B3Digest>()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let conn = connect(g).await?;
    let pb = output::spinner(g, "rebuilding with variations");
    let body = CheckRequest {
        derivation: drv.to_string(),
        vary: vary.to_vec(),
    };
    let r: Result<VerifyOutcome> = conn.json(Method::POST, "/api/v1/check", Some(&body)).await;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let r = r?;
    let code = r.exit_code;
    let id = r.report.to_string();
    if g.json {
        output::json_answer(&r);
    } else {
        let colour = std::io::stdout().is_terminal();
        print!(
            "{}",
            String::from_utf8_lossy(&fetch_report(&conn, &id, "text", colour).await?)
        );
        println!("report {id}");
    }
    Ok(ExitCode::from(code))
}
