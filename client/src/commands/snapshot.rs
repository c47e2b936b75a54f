//! `cryo snapshot list|show|diff|pkg|fetch`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Subcommand;
use hyper::Method;
use serde_json::{json, Value};

use crate::autostart::connect;
use crate::cli::Global;
use crate::conn::Conn;
use crate::output;

#[derive(Subcommand, Debug)]
pub enum SnapshotCmd {
    /// List snapshots, oldest first.
    List,
    /// Archives, dates, signers, expiry decisions and package counts of a snapshot.
    Show { id: String },
    /// Packages added, removed or changed between two snapshots (a point-release changelog).
    Diff { from: String, to: String },
    /// Versions and relations of a binary or source package in a snapshot.
    Pkg { id: String, name: String },
    /// Fetch package files (from the store, else from the mirror, verified) into a directory.
    Fetch {
        id: String,
        /// `NAME[=VERSION]` (a .deb) or `src:NAME[=VERSION]` (a .dsc and its files).
        #[arg(required = true)]
        packages: Vec<String>,
        /// Output directory (default: the current directory).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Architecture of binary packages (default: the daemon's).
        #[arg(long)]
        arch: Option<String>,
    },
}

pub async fn run(g: &Global, cmd: SnapshotCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    match cmd {
        SnapshotCmd::List => {
            let l: Vec<Value> = conn
                .json(Method::GET, "/api/v1/snapshots", None::<&()>)
                .await?;
            if g.json {
                output::json(&l);
            } else if l.is_empty() {
                println!("no snapshots yet: `cryo mirror add` then `cryo mirror sync`");
            } else {
                for s in l {
                    let names: Vec<String> = s["record"]["archives"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| a["mirror"].as_str().unwrap_or("").to_string())
                        .collect();
                    println!(
                        "{}  {}  {:>6} bin {:>6} src  {}",
                        s["id"].as_str().unwrap_or(""),
                        output::date(s["created"].as_i64().unwrap_or(0)),
                        s["binary_packages"],
                        s["source_packages"],
                        names.join(" + ")
                    );
                }
            }
        }
        SnapshotCmd::Show { id } => {
            let s: Value = conn
                .json(Method::GET, &format!("/api/v1/snapshots/{id}"), None::<&()>)
                .await?;
            if g.json {
                output::json(&s);
            } else {
                show(&s);
            }
        }
        SnapshotCmd::Diff { from, to } => {
            let d: Value = conn
                .json(
                    Method::GET,
                    &format!("/api/v1/snapshots/{from}/diff/{to}"),
                    None::<&()>,
                )
                .await?;
            if g.json {
                output::json(&d);
            } else {
                for (key, sign) in [("added", "+"), ("removed", "-"), ("changed", "~")] {
                    for c in d[key].as_array().into_iter().flatten() {
                        let kind = if c["kind"] == "sources" { "src:" } else { "" };
                        println!(
                            "{sign} {kind}{} {} {}",
                            c["name"].as_str().unwrap_or(""),
                            c["old"].as_str().unwrap_or(""),
                            c["new"]
                                .as_str()
                                .map(|n| format!("→ {n}"))
                                .unwrap_or_default()
                        );
                    }
                }
                println!(
                    "{} added, {} removed, {} changed",
                    d["added"].as_array().map_or(0, |a| a.len()),
                    d["removed"].as_array().map_or(0, |a| a.len()),
                    d["changed"].as_array().map_or(0, |a| a.len())
                );
            }
        }
        SnapshotCmd::Pkg { id, name } => {
            let e: Vec<Value> = conn
                .json(
                    Method::GET,
                    &format!("/api/v1/snapshots/{id}/packages/{name}"),
                    None::<&()>,
                )
                .await?;
            if g.json {
                output::json(&e);
            } else {
                for p in e {
                    let kind = if p["kind"] == "sources" {
                        "source"
                    } else {
                        "binary"
                    };
                    println!(
                        "{}{kind} {} {} [{}] from {} (priority {}){}",
                        if p["selected"].as_bool() == Some(true) {
                            "* "
                        } else {
                            "  "
                        },
                        name,
                        p["version"].as_str().unwrap_or(""),
                        p["arch"].as_str().unwrap_or(""),
                        p["archive"].as_str().unwrap_or(""),
                        p["priority"],
                        if p["selected"].as_bool() == Some(true) {
                            " — selected"
                        } else {
                            ""
                        }
                    );
                    for f in p["fields"].as_array().into_iter().flatten() {
                        let k = f[0].as_str().unwrap_or("");
                        if RELATION_FIELDS.contains(&k) {
                            println!(
                                "      {k}: {}",
                                f[1].as_str().unwrap_or("").replace('\n', " ")
                            );
                        }
                    }
                }
            }
        }
        SnapshotCmd::Fetch {
            id,
            packages,
            out,
            arch,
        } => {
            let dir = out.unwrap_or_else(|| PathBuf::from("."));
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            return fetch(g, conn, &id, packages, &dir, arch).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

const RELATION_FIELDS: &[&str] = &[
    "Depends",
    "Pre-Depends",
    "Provides",
    "Conflicts",
    "Breaks",
    "Replaces",
    "Recommends",
    "Multi-Arch",
    "Essential",
    "Binary",
    "Build-Depends",
    "Build-Depends-Arch",
    "Build-Depends-Indep",
    "Build-Conflicts",
    "Filename",
    "Directory",
];

fn show(s: &Value) {
    println!("snapshot {}", s["id"].as_str().unwrap_or(""));
    println!(
        "created  {}",
        output::date(s["created"].as_i64().unwrap_or(0))
    );
    println!(
        "packages {} binary, {} source",
        s["binary_packages"], s["source_packages"]
    );
    for a in s["record"]["archives"].as_array().into_iter().flatten() {
        let mirror = a["mirror"].as_str().unwrap_or("");
        println!(
            "archive  {mirror} ({})",
            s["urls"][mirror].as_str().unwrap_or("")
        );
        println!(
            "  suite {} codename {} origin {} version {}",
            a["suite"].as_str().unwrap_or("-"),
            a["codename"].as_str().unwrap_or("-"),
            a["origin"].as_str().unwrap_or("-"),
            a["version"].as_str().unwrap_or("-")
        );
        println!(
            "  date        {}",
            a["date"].as_i64().map(output::date).unwrap_or("-".into())
        );
        println!(
            "  valid until {}",
            a["valid_until"]
                .as_i64()
                .map(output::date)
                .unwrap_or("-".into())
        );
        println!(
            "  expired metadata {}",
            if a["allow_expired"].as_bool() == Some(true) {
                "allowed (--allow-expired)"
            } else {
                "refused"
            }
        );
        println!("  priority {}", a["priority"]);
        for f in a["signers"].as_array().into_iter().flatten() {
            println!("  signed by {}", f.as_str().unwrap_or(""));
        }
        for i in a["indices"].as_array().into_iter().flatten() {
            println!(
                "  {} sha256 {} ({} bytes)",
                i["path"].as_str().unwrap_or(""),
                i["sha256"].as_str().unwrap_or(""),
                i["size"]
            );
        }
    }
    for e in s["expired_accepted"].as_array().into_iter().flatten() {
        println!(
            "note: {} had expired at {} when it was accepted at {}",
            e["mirror"].as_str().unwrap_or(""),
            output::date(e["valid_until"].as_i64().unwrap_or(0)),
            output::date(e["checked_at"].as_i64().unwrap_or(0))
        );
    }
}

/// How many packages are fetched at once.
const PARALLEL: usize = 4;

async fn fetch(
    g: &Global,
    conn: Conn,
    id: &str,
    packages: Vec<String>,
    dir: &std::path::Path,
    arch: Option<String>,
) -> Result<ExitCode> {
    let pb = output::progress(g, packages.len() as u64, "fetching");
    let sem = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, p) in packages.into_iter().enumerate() {
        let conn = conn.clone();
        let sem = sem.clone();
        let path = format!("/api/v1/snapshots/{id}/fetch");
        let body = json!({"request": p, "arch": arch});
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let r: Result<Vec<Value>> = conn.json(Method::POST, &path, Some(&body)).await;
            (i, p, r)
        });
    }
    let mut results = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let r = r?;
        if let Some(pb) = &pb {
            pb.inc(1);
        }
        results.push(r);
    }
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    results.sort_by_key(|r| r.0);
    let mut failed = false;
    let mut written = Vec::new();
    for (_, p, r) in results {
        match r {
            Ok(files) => {
                for f in files {
                    let name = f["name"].as_str().unwrap_or("");
                    let name = cryo_store::SafeName::new(name)
                        .with_context(|| "the daemon returned an unsafe file name")?;
                    let digest = f["digest"].as_str().unwrap_or("");
                    let dest = dir.join(name.as_str());
                    download(&conn, digest, &dest).await?;
                    written.push(json!({"package": p, "file": dest, "digest": digest, "sha256": f["sha256"]}));
                    if !g.json {
                        println!("{}", dest.display());
                    }
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("cryo: {p}: {e:#}");
            }
        }
    }
    if g.json {
        output::json(&written);
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

async fn download(conn: &Conn, digest: &str, dest: &std::path::Path) -> Result<()> {
    let tmp = dest.with_extension("cryo-part");
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    if let Err(e) = conn.download(digest, &mut f).await {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    f.sync_all()?;
    std::fs::rename(&tmp, dest)?;
    Ok(())
}
