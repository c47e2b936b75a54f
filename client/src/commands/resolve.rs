//! `cryo resolve` (closure + derivation id) and `cryo drv show`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use cryo_store::api::PutResponse;
use hyper::Method;
use serde_json::{json, Value};

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
pub async fn dsc_spec(conn: &Conn, dsc: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(dsc).with_context(|| format!("reading {}", dsc.display()))?;
    let name = dsc
        .file_name()
        .and_then(|n| n.to_str())
        .context("the .dsc path has no file name")?
        .to_string();
    let parsed = cryo_debian::dsc::parse(&text, &dsc.display().to_string())?;
    let dir = dsc.parent().unwrap_or(Path::new("."));
    let mut files = BTreeMap::new();
    files.insert(name.clone(), upload(conn, dsc).await?.digest);
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
        files.insert(f.name.as_str().to_string(), upload(conn, &p).await?.digest);
    }
    Ok(json!({"kind": "dsc", "dsc": name, "files": files}))
}

/// Turn a SOURCE argument into the wire form, uploading files as needed.
pub async fn source_spec(conn: &Conn, source: &str) -> Result<Value> {
    if source.starts_with("src:") {
        return Ok(json!({"kind": "snapshot", "request": source}));
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

pub async fn run_resolve(g: &Global, a: ResolveArgs) -> Result<ExitCode> {
    let prjconf_text = std::fs::read_to_string(&a.prjconf)
        .with_context(|| format!("reading prjconf {}", a.prjconf.display()))?;
    let conn = connect(g).await?;
    let source = source_spec(&conn, &a.source).await?;
    let body = json!({
        "snapshot": a.snapshot,
        "prjconf": {"name": a.prjconf.display().to_string(), "text": prjconf_text},
        "source": source,
        "arch": a.arch,
        "build": a.build,
    });
    let pb = output::spinner(g, "resolving");
    let r: Result<Value> = conn
        .json(Method::POST, "/api/v1/resolve", Some(&body))
        .await;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let r = r?;
    if g.json {
        output::json(&r);
        return Ok(ExitCode::SUCCESS);
    }
    for w in r["warnings"].as_array().into_iter().flatten() {
        eprintln!("warning: {}", w.as_str().unwrap_or(""));
    }
    println!(
        "{} {} on {} (snapshot {})",
        r["source"].as_str().unwrap_or(""),
        r["version"].as_str().unwrap_or(""),
        r["arch"].as_str().unwrap_or(""),
        r["snapshot"].as_str().unwrap_or("")
    );
    for c in r["closure"].as_array().into_iter().flatten() {
        println!(
            "  {:<10} {:<32} {:<28} {:<6} {}",
            c["set"].as_str().unwrap_or(""),
            c["name"].as_str().unwrap_or(""),
            c["version"].as_str().unwrap_or(""),
            c["arch"].as_str().unwrap_or(""),
            c["origin"].as_str().unwrap_or("")
        );
    }
    println!(
        "{} packages ({} preinstall, {} install)",
        r["closure"].as_array().map_or(0, |c| c.len()),
        r["preinstall"],
        r["install"]
    );
    println!("derivation {}", r["derivation"].as_str().unwrap_or(""));
    Ok(ExitCode::SUCCESS)
}

pub async fn run_drv(g: &Global, cmd: DrvCmd) -> Result<ExitCode> {
    match cmd {
        DrvCmd::Show { id } => {
            id.parse::<cryo_store::B3Digest>()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let conn = connect(g).await?;
            let d: Value = conn
                .json(Method::GET, &format!("/api/v1/drv/{id}"), None::<&()>)
                .await?;
            if g.json {
                output::json(&d);
                return Ok(ExitCode::SUCCESS);
            }
            println!("derivation {id}");
            println!("format    {}", d["format"].as_str().unwrap_or(""));
            println!(
                "builder   {} {}",
                d["builder"]["kind"].as_str().unwrap_or(""),
                d["builder"]["version"].as_str().unwrap_or("")
            );
            println!("arch      {}", d["arch"].as_str().unwrap_or(""));
            println!("snapshot  {}", d["snapshot"].as_str().unwrap_or(""));
            println!(
                "prjconf   {} (normalised)",
                d["prjconf"].as_str().unwrap_or("")
            );
            println!(
                "source    {} {}",
                d["source"]["name"].as_str().unwrap_or(""),
                d["source"]["version"].as_str().unwrap_or("")
            );
            if let Some(files) = d["source"]["files"].as_object() {
                for (n, dg) in files {
                    println!("  file    {n} {}", dg.as_str().unwrap_or(""));
                }
            }
            if let Some(env) = d["env"].as_object() {
                for (k, v) in env {
                    println!("env       {k}={}", v.as_str().unwrap_or(""));
                }
            }
            let closure = d["closure"].as_array().cloned().unwrap_or_default();
            println!("closure   {} packages", closure.len());
            for c in closure {
                println!(
                    "  {:<10} {} {} {} sha256:{}",
                    c["set"].as_str().unwrap_or(""),
                    c["name"].as_str().unwrap_or(""),
                    c["version"].as_str().unwrap_or(""),
                    c["arch"].as_str().unwrap_or(""),
                    c["sha256"].as_str().unwrap_or("")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
