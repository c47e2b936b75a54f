//! `cryo build` and `cryo log`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use cryo_store::api::{BuildOutcome, BuildRequest, BuildStatus, ResolveRequest, Resolved};
use hyper::Method;

use super::resolve::{prjconf_text, source_spec};
use crate::autostart::connect;
use crate::cli::Global;
use crate::conn::Conn;
use crate::output;

/// Arguments of `cryo build`.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// Snapshot id (or unique prefix).
    #[arg(long, required_unless_present_any = ["drv", "check"])]
    pub snapshot: Option<String>,
    /// Project config (OBS prjconf syntax).
    #[arg(long, value_name = "FILE", required_unless_present_any = ["drv", "check"])]
    pub prjconf: Option<PathBuf>,
    /// `src:NAME[=VERSION]`, a `.dsc` file or a source tree with `debian/`.
    #[arg(required_unless_present_any = ["drv", "check"])]
    pub source: Option<String>,
    /// Build an existing derivation instead.
    #[arg(long, value_name = "DERIVATION", conflicts_with_all = ["snapshot", "prjconf", "source"])]
    pub drv: Option<String>,
    /// Rebuild a realised derivation with deliberate variations (as reprotest does) and
    /// compare each rebuilt .deb with the recorded one; prints a report. Exit 0 when no
    /// variation changes anything, 1 when one does, 2 on failures.
    #[arg(long, value_name = "DERIVATION", conflicts_with_all = ["snapshot", "prjconf", "source", "drv", "rebuild", "out"])]
    pub check: Option<String>,
    /// Variations for --check, comma-separated: build-path, time, umask, locale,
    /// hostname (default all).
    #[arg(long, value_delimiter = ',', requires = "check")]
    pub vary: Vec<String>,
    /// Architecture (Debian name; default: the daemon's).
    #[arg(long)]
    pub arch: Option<String>,
    /// What dpkg-buildpackage builds: full (-b), arch (-B) or indep (-A).
    #[arg(long, default_value = "full")]
    pub build: String,
    /// Build again even if the derivation is realised, and compare bit for bit.
    #[arg(long)]
    pub rebuild: bool,
    /// Write the outputs (.deb, .buildinfo, .changes) to this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub async fn run_build(g: &Global, a: BuildArgs) -> Result<ExitCode> {
    if let Some(drv) = &a.check {
        return super::verify::run_check(g, drv, &a.vary).await;
    }
    let conn = connect(g).await?;
    let body = build_request(&conn, &a).await?;
    let r = if g.json {
        let pb = output::spinner(g, "building");
        let r: Result<BuildOutcome> = conn.json(Method::POST, "/api/v1/build", Some(&body)).await;
        if let Some(pb) = pb {
            pb.finish_and_clear();
        }
        r?
    } else {
        build_streaming(&conn, &body).await?
    };
    if let Some(dir) = &a.out {
        write_outputs(&conn, &r, dir).await?;
    }
    let failed = r.status == BuildStatus::Failed;
    let differs = r
        .rebuild_differences
        .as_ref()
        .is_some_and(|d| !d.is_empty());
    if g.json {
        output::json_answer(&r);
    } else {
        print_outcome(&r);
    }
    Ok(if failed || differs {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The body of `POST /api/v1/build`: `--drv`, or what to resolve (uploading sources).
async fn build_request(conn: &Conn, a: &BuildArgs) -> Result<BuildRequest> {
    if let Some(d) = &a.drv {
        d.parse::<cryo_store::B3Digest>()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok(BuildRequest {
            derivation: Some(d.clone()),
            resolve: None,
            rebuild: a.rebuild,
        });
    }
    let (Some(snapshot), Some(prjconf), Some(source)) = (&a.snapshot, &a.prjconf, &a.source) else {
        bail!("give --snapshot, --prjconf and SOURCE, or --drv");
    };
    let prjconf = prjconf_text(prjconf)?;
    Ok(BuildRequest {
        derivation: None,
        resolve: Some(ResolveRequest {
            snapshot: snapshot.clone(),
            prjconf,
            source: source_spec(conn, source).await?,
            arch: a.arch.clone(),
            build: Some(a.build.clone()),
        }),
        rebuild: a.rebuild,
    })
}

/// `--out DIR`: download every output into DIR.
async fn write_outputs(conn: &Conn, r: &BuildOutcome, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for o in &r.outputs {
        let name = cryo_store::SafeName::new(&o.name)
            .with_context(|| "the daemon returned an unsafe output name")?;
        let dest = dir.join(name.as_str());
        let mut f =
            std::fs::File::create(&dest).with_context(|| format!("creating {}", dest.display()))?;
        conn.download(&o.blake3.to_string(), &mut f).await?;
    }
    Ok(())
}

fn print_outcome(r: &BuildOutcome) {
    if let Some(t) = &r.log_tail {
        eprintln!("{t}");
    }
    println!(
        "{} {} ({:.1}s)",
        r.derivation,
        r.status.as_str(),
        r.duration_secs
    );
    for o in &r.outputs {
        println!(
            "  {} {} sha256:{} {}",
            o.name,
            o.blake3,
            o.sha256,
            output::bytes(o.size)
        );
    }
    if let Some(d) = &r.rebuild_differences {
        if d.is_empty() {
            println!("rebuild: every output is bit-for-bit identical to the recorded one");
        }
        let or_dash = |x: &Option<cryo_store::B3Digest>| {
            x.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
        };
        for x in d {
            println!(
                "rebuild: {} differs (recorded {}, rebuilt {})",
                x.name,
                or_dash(&x.recorded),
                or_dash(&x.rebuilt)
            );
        }
    }
    if r.status == BuildStatus::Failed {
        println!("build failed; full log: cryo log {}", r.derivation);
    }
}

/// `cryo log DERIVATION [-f]`: the latest build log; with `-f`, a running build's log
/// streamed to its end (or the latest log when none runs).
pub async fn run_log(g: &Global, drv: String, follow: bool) -> Result<ExitCode> {
    use http_body_util::BodyExt;
    use std::io::Write;
    drv.parse::<cryo_store::B3Digest>()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let conn = connect(g).await?;
    let live = format!("/api/v1/drv/{drv}/log?follow=true");
    let resp = match follow {
        true => match conn.request(Method::GET, &live, crate::conn::empty()).await {
            Ok(r) if r.status().is_success() => r,
            _ => {
                let path = format!("/api/v1/drv/{drv}/log");
                conn.checked(Method::GET, &path, crate::conn::empty())
                    .await?
            }
        },
        false => {
            let path = format!("/api/v1/drv/{drv}/log");
            conn.checked(Method::GET, &path, crate::conn::empty())
                .await?
        }
    };
    let mut body = resp.into_body();
    let mut out = std::io::stdout();
    while let Some(f) = body.frame().await {
        if let Some(d) = f.context("reading the log")?.data_ref() {
            out.write_all(d)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Build while streaming the build log to stderr: resolve first (to know the derivation),
/// start the build, and follow `/api/v1/drv/<id>/log?follow=true` while it runs.
async fn build_streaming(conn: &Conn, body: &BuildRequest) -> Result<BuildOutcome> {
    use http_body_util::BodyExt;
    use std::io::Write;
    let id = match (&body.derivation, &body.resolve) {
        (Some(d), _) => d.clone(),
        (None, Some(req)) => {
            let r: Resolved = conn
                .json(Method::POST, "/api/v1/resolve", Some(req))
                .await?;
            r.derivation.to_string()
        }
        (None, None) => bail!("give --snapshot, --prjconf and SOURCE, or --drv"),
    };
    let c2 = conn.clone();
    let req = BuildRequest {
        derivation: Some(id.clone()),
        resolve: None,
        rebuild: body.rebuild,
    };
    let mut task = tokio::spawn(async move {
        c2.json::<BuildOutcome>(Method::POST, "/api/v1/build", Some(&req))
            .await
    });
    let path = format!("/api/v1/drv/{id}/log?follow=true");
    loop {
        tokio::select! {
            r = &mut task => return r?,
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
        }
        let Ok(resp) = conn.request(Method::GET, &path, crate::conn::empty()).await else {
            continue;
        };
        if !resp.status().is_success() {
            continue; // not running (yet, or cached / substituted)
        }
        let mut b = resp.into_body();
        let mut err = std::io::stderr();
        while let Some(Ok(f)) = b.frame().await {
            if let Some(d) = f.data_ref() {
                let _ = err.write_all(d);
            }
        }
        return task.await?;
    }
}
