//! `cryo snapshot list|show|diff|pkg|fetch`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Subcommand;
use cryo_store::api::{
    FetchRequest, FetchedFile, IndexKind, PackageEntry, SnapshotDiff, SnapshotInfo,
};
use hyper::Method;
use serde_json::json;

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
        SnapshotCmd::List => list(g, &conn).await?,
        SnapshotCmd::Show { id } => {
            let s: SnapshotInfo = conn
                .json(Method::GET, &format!("/api/v1/snapshots/{id}"), None::<&()>)
                .await?;
            if g.json {
                output::json_answer(&s);
            } else {
                show(&s);
            }
        }
        SnapshotCmd::Diff { from, to } => diff(g, &conn, &from, &to).await?,
        SnapshotCmd::Pkg { id, name } => pkg(g, &conn, &id, &name).await?,
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

/// `cryo snapshot list`.
async fn list(g: &Global, conn: &Conn) -> Result<()> {
    let l: Vec<SnapshotInfo> = conn
        .json(Method::GET, "/api/v1/snapshots", None::<&()>)
        .await?;
    if g.json {
        output::json_answer(&l);
    } else if l.is_empty() {
        println!("no snapshots yet: `cryo mirror add` then `cryo mirror sync`");
    } else {
        for s in l {
            let names: Vec<&str> = s
                .record
                .archives
                .iter()
                .map(|a| a.mirror.as_str())
                .collect();
            // The counts were never padded (they used to be JSON values, whose Display
            // ignores the width): kept as it was.
            println!(
                "{}  {}  {} bin {} src  {}",
                s.id,
                output::date(s.created),
                s.binary_packages,
                s.source_packages,
                names.join(" + ")
            );
        }
    }
    Ok(())
}

/// `cryo snapshot diff FROM TO`.
async fn diff(g: &Global, conn: &Conn, from: &str, to: &str) -> Result<()> {
    let d: SnapshotDiff = conn
        .json(
            Method::GET,
            &format!("/api/v1/snapshots/{from}/diff/{to}"),
            None::<&()>,
        )
        .await?;
    if g.json {
        output::json_answer(&d);
        return Ok(());
    }
    for (changes, sign) in [(&d.added, "+"), (&d.removed, "-"), (&d.changed, "~")] {
        for c in changes {
            let kind = if c.kind == IndexKind::Sources {
                "src:"
            } else {
                ""
            };
            println!(
                "{sign} {kind}{} {} {}",
                c.name,
                c.old.as_deref().unwrap_or(""),
                c.new
                    .as_deref()
                    .map(|n| format!("→ {n}"))
                    .unwrap_or_default()
            );
        }
    }
    println!(
        "{} added, {} removed, {} changed",
        d.added.len(),
        d.removed.len(),
        d.changed.len()
    );
    Ok(())
}

/// `cryo snapshot pkg ID NAME`.
async fn pkg(g: &Global, conn: &Conn, id: &str, name: &str) -> Result<()> {
    let e: Vec<PackageEntry> = conn
        .json(
            Method::GET,
            &format!("/api/v1/snapshots/{id}/packages/{name}"),
            None::<&()>,
        )
        .await?;
    if g.json {
        output::json_answer(&e);
        return Ok(());
    }
    for p in e {
        let kind = if p.kind == IndexKind::Sources {
            "source"
        } else {
            "binary"
        };
        println!(
            "{}{kind} {} {} [{}] from {} (priority {}){}",
            if p.selected { "* " } else { "  " },
            name,
            p.version,
            p.arch,
            p.archive,
            p.priority,
            if p.selected { " — selected" } else { "" }
        );
        for (k, v) in &p.fields {
            if RELATION_FIELDS.contains(&k.as_str()) {
                println!("      {k}: {}", v.replace('\n', " "));
            }
        }
    }
    Ok(())
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

fn show(s: &SnapshotInfo) {
    println!("snapshot {}", s.id);
    println!("created  {}", output::date(s.created));
    println!(
        "packages {} binary, {} source",
        s.binary_packages, s.source_packages
    );
    for a in &s.record.archives {
        let mirror = a.mirror.as_str();
        println!(
            "archive  {mirror} ({})",
            s.urls.get(mirror).map_or("", String::as_str)
        );
        println!(
            "  suite {} codename {} origin {} version {}",
            a.suite,
            a.codename.as_deref().unwrap_or("-"),
            a.origin.as_deref().unwrap_or("-"),
            a.version.as_deref().unwrap_or("-")
        );
        println!(
            "  date        {}",
            a.date.map(output::date).unwrap_or("-".into())
        );
        println!(
            "  valid until {}",
            a.valid_until.map(output::date).unwrap_or("-".into())
        );
        println!(
            "  expired metadata {}",
            if a.allow_expired {
                "allowed (--allow-expired)"
            } else {
                "refused"
            }
        );
        println!("  priority {}", a.priority);
        for f in &a.signers {
            println!("  signed by {f}");
        }
        for i in &a.indices {
            println!("  {} sha256 {} ({} bytes)", i.path, i.sha256, i.size);
        }
    }
    for e in &s.expired_accepted {
        println!(
            "note: {} had expired at {} when it was accepted at {}",
            e.mirror,
            output::date(e.valid_until),
            output::date(e.checked_at)
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
        let body = FetchRequest {
            request: p.clone(),
            arch: arch.clone(),
        };
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let r: Result<Vec<FetchedFile>> = conn.json(Method::POST, &path, Some(&body)).await;
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
                    let name = cryo_store::SafeName::new(&f.name)
                        .with_context(|| "the daemon returned an unsafe file name")?;
                    let digest = f.digest.to_string();
                    let dest = dir.join(name.as_str());
                    download(&conn, &digest, &dest).await?;
                    written.push(json!({"package": p, "file": dest, "digest": digest, "sha256": f.file.sha256}));
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
