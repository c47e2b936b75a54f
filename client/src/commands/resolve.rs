//! `cryo resolve` (closure + derivation id) and `cryo drv show`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use cryo_store::api::{PrjconfText, PutResponse, ResolveRequest, Resolved, SourceSpec};
use cryo_store::derivation::Derivation;
use cryo_store::SafeName;
use hyper::Method;

use crate::autostart::connect;
use crate::cli::Global;
use crate::conn::Conn;
use crate::output;

/// Arguments of `cryo resolve`.
#[derive(Args, Debug)]
pub struct ResolveArgs {
    /// Snapshot id (or unique prefix).
    #[arg(long)]
    pub snapshot: String,
    /// Project config (OBS prjconf syntax, see docs/prjconf.md).
    #[arg(long, value_name = "FILE")]
    pub prjconf: PathBuf,
    /// `src:NAME[=VERSION]` from the snapshot, a `.dsc` file (its files are read from the
    /// same directory), or an unpacked source tree with `debian/` (turned into a source
    /// package deterministically with `dpkg-source -b`, see docs/cli.md).
    pub source: String,
    /// Architecture (Debian name; default: the daemon's).
    #[arg(long)]
    pub arch: Option<String>,
    /// What dpkg-buildpackage builds: full (-b), arch (-B) or indep (-A).
    #[arg(long, default_value = "full")]
    pub build: String,
}

#[derive(Subcommand, Debug)]
pub enum DrvCmd {
    /// Print every input of a derivation.
    Show { id: String },
}

async fn upload(conn: &Conn, path: &Path) -> Result<PutResponse> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    conn.upload(bytes).await
}

/// Upload a `.dsc` and the files it lists; returns the source spec.
pub async fn dsc_spec(conn: &Conn, dsc: &Path) -> Result<SourceSpec> {
    let text =
        std::fs::read_to_string(dsc).with_context(|| format!("reading {}", dsc.display()))?;
    let name = dsc
        .file_name()
        .and_then(|n| n.to_str())
        .context("the .dsc path has no file name")?
        .to_string();
    let parsed = cryo_debian::dsc::parse(&text, &dsc.display().to_string())?;
    let dir = dsc.parent().unwrap_or(Path::new("."));
    let dsc_name = safe_name(&name)?;
    let mut files = BTreeMap::new();
    files.insert(dsc_name.clone(), upload(conn, dsc).await?.digest);
    for f in &parsed.source.files {
        let p = dir.join(f.name.as_str());
        if !p.is_file() {
            bail!(
                "{} lists {}, which is not next to it ({})",
                name,
                f.name.as_str(),
                p.display()
            );
        }
        files.insert(safe_name(f.name.as_str())?, upload(conn, &p).await?.digest);
    }
    Ok(SourceSpec::Dsc {
        dsc: dsc_name,
        files,
    })
}

fn safe_name(name: &str) -> Result<SafeName> {
    SafeName::new(name).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Turn a SOURCE argument into the wire form, uploading files as needed.
pub async fn source_spec(conn: &Conn, source: &str) -> Result<SourceSpec> {
    if source.starts_with("src:") {
        return Ok(SourceSpec::Snapshot {
            request: source.to_string(),
        });
    }
    let p = PathBuf::from(source);
    if p.is_dir() {
        let built = crate::srcpkg::build_source_package(&p)?;
        return dsc_spec(conn, &built.dsc).await;
    }
    if p.extension().and_then(|e| e.to_str()) != Some("dsc") || !p.is_file() {
        bail!("SOURCE {source:?} must be src:NAME[=VERSION], a .dsc file or a source tree with debian/");
    }
    dsc_spec(conn, &p).await
}

/// A prjconf file as the daemon takes it.
pub fn prjconf_text(path: &Path) -> Result<PrjconfText> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading prjconf {}", path.display()))?;
    Ok(PrjconfText {
        name: path.display().to_string(),
        text,
    })
}

pub async fn run_resolve(g: &Global, a: ResolveArgs) -> Result<ExitCode> {
    let prjconf = prjconf_text(&a.prjconf)?;
    let conn = connect(g).await?;
    let body = ResolveRequest {
        snapshot: a.snapshot,
        prjconf,
        source: source_spec(&conn, &a.source).await?,
        arch: a.arch,
        build: Some(a.build),
    };
    let pb = output::spinner(g, "resolving");
    let r: Result<Resolved> = conn
        .json(Method::POST, "/api/v1/resolve", Some(&body))
        .await;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let r = r?;
    if g.json {
        output::json_answer(&r);
        return Ok(ExitCode::SUCCESS);
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    println!(
        "{} {} on {} (snapshot {})",
        r.source, r.version, r.arch, r.snapshot
    );
    for c in &r.closure {
        println!(
            "  {:<10} {:<32} {:<28} {:<6} {}",
            c.set, c.name, c.version, c.arch, c.origin
        );
    }
    println!(
        "{} packages ({} preinstall, {} install)",
        r.closure.len(),
        r.preinstall,
        r.install
    );
    println!("derivation {}", r.derivation);
    Ok(ExitCode::SUCCESS)
}

pub async fn run_drv(g: &Global, cmd: DrvCmd) -> Result<ExitCode> {
    match cmd {
        DrvCmd::Show { id } => {
            id.parse::<cryo_store::B3Digest>()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let conn = connect(g).await?;
            let d: Derivation = conn
                .json(Method::GET, &format!("/api/v1/drv/{id}"), None::<&()>)
                .await?;
            if g.json {
                output::json_answer(&d);
            } else {
                print_derivation(&id, &d);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_derivation(id: &str, d: &Derivation) {
    println!("derivation {id}");
    println!("format    {}", d.format);
    println!("builder   {} {}", d.builder.kind, d.builder.version);
    println!("arch      {}", d.arch);
    println!("snapshot  {}", d.snapshot);
    println!("prjconf   {} (normalised)", d.prjconf);
    println!("source    {} {}", d.source.name, d.source.version);
    for (n, dg) in &d.source.files {
        println!("  file    {n} {dg}");
    }
    for (k, v) in &d.env {
        println!("env       {k}={v}");
    }
    println!("closure   {} packages", d.closure.len());
    for c in &d.closure {
        println!(
            "  {:<10} {} {} {} sha256:{}",
            c.set, c.name, c.version, c.arch, c.sha256
        );
    }
}
