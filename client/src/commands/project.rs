//! Projects and packages (the OBS workflow): `cryo project …`, `cryo package …`,
//! `cryo commit`, `cryo results`, `cryo rebuild`, `cryo abort`, `cryo wait`, and
//! `cryo log PROJECT PKG [-f]`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::Method;
use serde_json::{json, Value};

use super::resolve::source_spec;
use crate::autostart::connect;
use crate::cli::Global;
use crate::conn::{empty, Conn};
use crate::output;

/// Where a repository's packages come from.
#[derive(Args, Debug, Clone)]
pub struct RepoArgs {
    /// Repository name (published at /repos/PROJECT/REPOSITORY).
    #[arg(long, default_value = "debian")]
    pub repository: String,
    /// Snapshot id (or unique prefix) the repository builds against.
    #[arg(long, required_unless_present = "mirror", conflicts_with = "mirror")]
    pub snapshot: Option<String>,
    /// Follow these registered mirrors instead (synced now; `cryo project sync` re-syncs).
    #[arg(long)]
    pub mirror: Vec<String>,
    /// With --mirror: accept expired Release files (recorded in the snapshot).
    #[arg(long)]
    pub allow_expired: bool,
    /// Project config (OBS prjconf syntax).
    #[arg(long, value_name = "FILE")]
    pub prjconf: PathBuf,
    /// Architectures (Debian names; default: the daemon's).
    #[arg(long = "arch")]
    pub arches: Vec<String>,
    /// Projects whose built packages join this repository's universe (OBS repository
    /// path), in order of preference.
    #[arg(long = "path", value_name = "PROJECT")]
    pub path: Vec<String>,
}

impl RepoArgs {
    fn body(&self) -> Result<Value> {
        let text = std::fs::read_to_string(&self.prjconf)
            .with_context(|| format!("reading prjconf {}", self.prjconf.display()))?;
        Ok(json!({
            "repository": self.repository,
            "snapshot": self.snapshot,
            "mirrors": self.mirror,
            "allow_expired": self.allow_expired,
            "prjconf": {"name": self.prjconf.display().to_string(), "text": text},
            "arches": self.arches,
            "path": self.path,
        }))
    }
}

#[derive(Subcommand, Debug)]
pub enum ProjectCmd {
    /// Create a project (OBS-style name like eol:12:staging) with one repository.
    Create {
        name: String,
        #[command(flatten)]
        repo: RepoArgs,
        /// One-line description.
        #[arg(long, default_value = "")]
        description: String,
        /// Publish repositories automatically after their builds finish.
        #[arg(long)]
        publish: bool,
        /// Reading the project needs a role (default: public).
        #[arg(long)]
        private: bool,
    },
    /// Add (or replace) a repository of a project.
    RepoAdd {
        project: String,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// List projects.
    List,
    /// Show a project: repositories, snapshot, prjconf, path, packages.
    Show { name: String },
    /// Print a repository's prjconf, or replace it with --set (re-evaluates every package).
    Config {
        name: String,
        #[arg(long, value_name = "FILE")]
        set: Option<PathBuf>,
        /// Repository (default: the first).
        #[arg(long)]
        repository: Option<String>,
    },
    /// Re-sync the mirrors of mirror-following repositories; packages whose derivation
    /// changes are rebuilt.
    Sync {
        name: String,
        #[arg(long)]
        allow_expired: bool,
    },
    /// Delete a project with its packages and results (built objects stay in the store
    /// until garbage collection).
    Delete { name: String },
    /// Print the project's public OpenPGP key (armored; generated on first use). apt
    /// clients use it with `signed-by=`.
    Key {
        name: String,
        /// Write it to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Make a project private (reading needs a role) or public.
    SetPrivate {
        name: String,
        #[arg(action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
        private: bool,
    },
    /// Turn automatic publishing after builds on or off.
    SetPublish {
        name: String,
        #[arg(action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
        enabled: bool,
    },
}

/// `cryo publish`.
#[derive(Args, Debug)]
pub struct PublishArgs {
    pub project: String,
    /// Only this repository (default: all of the project's).
    #[arg(long)]
    pub repository: Option<String>,
    /// Switch back to the previous kept generation.
    #[arg(long, conflicts_with = "export")]
    pub rollback: bool,
    /// Write the current generation to DIR as a static tree (hard links between identical
    /// files and to unchanged files of a previous export) for an existing web server.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum PackageCmd {
    /// Add a package: SOURCE is src:NAME[=VERSION] (from the project's snapshot), a .dsc,
    /// or a source tree with debian/ (packed deterministically with dpkg-source -b).
    Add {
        project: String,
        source: String,
        /// Package name in the project (default: the source package name).
        #[arg(long)]
        name: Option<String>,
        #[arg(short, long, default_value = "")]
        message: String,
    },
    /// The package's revisions (newest last).
    Log { project: String, package: String },
    /// Remove a package (aborting its builds).
    Remove { project: String, package: String },
    /// What the package's latest revision changes, as a unified diff of the unpacked
    /// sources (against the snapshot's source by default).
    Diff(super::patch::DiffArgs),
}

/// `cryo commit`.
#[derive(Args, Debug)]
pub struct CommitArgs {
    pub project: String,
    pub package: String,
    /// src:NAME[=VERSION], a .dsc or a source tree with debian/.
    pub source: String,
    #[arg(short, long)]
    pub message: String,
    /// Wait until the project's builds are done (exit 0 all succeeded, 1 any failed).
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this many seconds (exit 2).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

pub async fn run_project(g: &Global, cmd: ProjectCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    match cmd {
        ProjectCmd::Create {
            name,
            repo,
            description,
            publish,
            private,
        } => {
            let mut body = repo.body()?;
            body["name"] = json!(name);
            body["description"] = json!(description);
            body["publish"] = json!(publish);
            body["private"] = json!(private);
            let pb = output::spinner(g, "creating project");
            let r: Result<Value> = conn
                .json(Method::POST, "/api/v1/projects", Some(&body))
                .await;
            drop(pb);
            print_project(g, &r?);
        }
        ProjectCmd::RepoAdd { project, repo } => {
            let r: Value = conn
                .json(
                    Method::POST,
                    &format!("/api/v1/projects/{project}/repositories"),
                    Some(&repo.body()?),
                )
                .await?;
            print_project(g, &r);
        }
        ProjectCmd::List => {
            let r: Value = conn
                .json(Method::GET, "/api/v1/projects", None::<&()>)
                .await?;
            if g.json {
                output::json(&r);
            } else {
                for p in r.as_array().into_iter().flatten() {
                    println!(
                        "{:<30} {}",
                        p["name"].as_str().unwrap_or(""),
                        p["description"].as_str().unwrap_or("")
                    );
                }
            }
        }
        ProjectCmd::Show { name } => {
            let r: Value = conn
                .json(
                    Method::GET,
                    &format!("/api/v1/projects/{name}"),
                    None::<&()>,
                )
                .await?;
            print_project(g, &r);
            if !g.json {
                println!("packages:");
                for p in r["packages"].as_array().into_iter().flatten() {
                    println!(
                        "  {:<30} {:<24} r{}",
                        p["name"].as_str().unwrap_or(""),
                        p["version"].as_str().unwrap_or("-"),
                        p["revisions"]
                    );
                }
            }
        }
        ProjectCmd::Config {
            name,
            set,
            repository,
        } => {
            let q = repository
                .map(|r| format!("?repository={r}"))
                .unwrap_or_default();
            match set {
                Some(file) => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("reading prjconf {}", file.display()))?;
                    let body = json!({"name": file.display().to_string(), "text": text});
                    let r: Value = conn
                        .json(
                            Method::PUT,
                            &format!("/api/v1/projects/{name}/config{q}"),
                            Some(&body),
                        )
                        .await?;
                    print_project(g, &r);
                }
                None => {
                    let r: Value = conn
                        .json(
                            Method::GET,
                            &format!("/api/v1/projects/{name}/config{q}"),
                            None::<&()>,
                        )
                        .await?;
                    if g.json {
                        output::json(&r);
                    } else {
                        print!("{}", r["text"].as_str().unwrap_or(""));
                    }
                }
            }
        }
        ProjectCmd::Sync {
            name,
            allow_expired,
        } => {
            let r: Value = conn
                .json(
                    Method::POST,
                    &format!("/api/v1/projects/{name}/sync"),
                    Some(&json!({"allow_expired": allow_expired})),
                )
                .await?;
            if g.json {
                output::json(&r);
            } else {
                let ch: Vec<&str> = r["changed_repositories"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str())
                    .collect();
                if ch.is_empty() {
                    println!("{name}: snapshots unchanged");
                } else {
                    println!("{name}: new snapshot for {}", ch.join(", "));
                }
            }
        }
        ProjectCmd::Key { name, out } => {
            let resp = conn
                .checked(
                    Method::GET,
                    &format!("/api/v1/projects/{name}/key"),
                    empty(),
                )
                .await?;
            let bytes = resp.into_body().collect().await?.to_bytes();
            match out {
                Some(f) => std::fs::write(&f, &bytes)
                    .with_context(|| format!("writing {}", f.display()))?,
                None => std::io::stdout().write_all(&bytes)?,
            }
        }
        ProjectCmd::SetPrivate { name, private } => {
            let r: Value = conn
                .json(
                    Method::PUT,
                    &format!("/api/v1/projects/{name}/private"),
                    Some(&json!({"private": private})),
                )
                .await?;
            print_project(g, &r);
        }
        ProjectCmd::SetPublish { name, enabled } => {
            let r: Value = conn
                .json(
                    Method::PUT,
                    &format!("/api/v1/projects/{name}/publish-flag"),
                    Some(&json!({"publish": enabled})),
                )
                .await?;
            print_project(g, &r);
        }
        ProjectCmd::Delete { name } => {
            let done = format!("deleted project {name}");
            delete(g, &conn, &format!("/api/v1/projects/{name}"), &done).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_project(g: &Global, p: &Value) {
    if g.json {
        output::json(p);
        return;
    }
    println!("project  {}", p["name"].as_str().unwrap_or(""));
    if let Some(d) = p["description"].as_str().filter(|d| !d.is_empty()) {
        println!("         {d}");
    }
    println!(
        "publish  {}",
        if p["publish"].as_bool() == Some(true) {
            "yes"
        } else {
            "no"
        }
    );
    let private = p["private"].as_bool() == Some(true);
    println!("access   {}", if private { "private" } else { "public" });
    for g in p["roles"].as_array().into_iter().flatten() {
        println!(
            "role     {} {}",
            g["subject"].as_str().unwrap_or(""),
            g["role"].as_str().unwrap_or("")
        );
    }
    for r in p["repositories"].as_array().into_iter().flatten() {
        let list = |k: &str| {
            r[k].as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!("repository {}", r["name"].as_str().unwrap_or(""));
        println!("  snapshot {}", r["snapshot"].as_str().unwrap_or(""));
        if !list("mirrors").is_empty() {
            println!("  mirrors  {}", list("mirrors"));
        }
        println!(
            "  prjconf  {} ({})",
            r["prjconf_name"].as_str().unwrap_or(""),
            r["prjconf"].as_str().unwrap_or("")
        );
        println!("  arches   {}", list("arches"));
        if !list("path").is_empty() {
            println!("  path     {}", list("path"));
        }
    }
}

pub async fn run_package(g: &Global, cmd: PackageCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    match cmd {
        PackageCmd::Add {
            project,
            source,
            name,
            message,
        } => {
            let spec = source_spec(&conn, &source).await?;
            let body = json!({"source": spec, "name": name, "message": message});
            let r: Value = conn
                .json(
                    Method::POST,
                    &format!("/api/v1/projects/{project}/packages"),
                    Some(&body),
                )
                .await?;
            print_commit(g, &r);
        }
        PackageCmd::Log { project, package } => {
            let r: Value = conn
                .json(
                    Method::GET,
                    &format!("/api/v1/projects/{project}/packages/{package}"),
                    None::<&()>,
                )
                .await?;
            if g.json {
                output::json(&r);
            } else {
                for rev in r["revisions"].as_array().into_iter().flatten() {
                    println!(
                        "r{} {} {} {} by {}",
                        rev["rev"],
                        output::date(rev["time"].as_i64().unwrap_or(0)),
                        rev["version"].as_str().unwrap_or(""),
                        &rev["digest"].as_str().unwrap_or("")
                            [..12.min(rev["digest"].as_str().unwrap_or("").len())],
                        rev["author"].as_str().unwrap_or("")
                    );
                    println!("    {}", rev["message"].as_str().unwrap_or(""));
                }
            }
        }
        PackageCmd::Diff(a) => return super::patch::run_diff(g, a).await,
        PackageCmd::Remove { project, package } => {
            let path = format!("/api/v1/projects/{project}/packages/{package}");
            delete(
                g,
                &conn,
                &path,
                &format!("removed {package} from {project}"),
            )
            .await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_commit(g: &Global, r: &Value) {
    if g.json {
        output::json(r);
        return;
    }
    let rev = &r["revision"];
    if r["changed"].as_bool() == Some(true) {
        println!(
            "{}/{}: committed r{} ({} {})",
            r["project"].as_str().unwrap_or(""),
            r["package"].as_str().unwrap_or(""),
            rev["rev"],
            rev["source"].as_str().unwrap_or(""),
            rev["version"].as_str().unwrap_or("")
        );
    } else {
        println!(
            "{}/{}: unchanged (identical to r{}); nothing scheduled",
            r["project"].as_str().unwrap_or(""),
            r["package"].as_str().unwrap_or(""),
            rev["rev"]
        );
    }
}

pub async fn run_commit(g: &Global, a: CommitArgs) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let spec = source_spec(&conn, &a.source).await?;
    let body = json!({"source": spec, "message": a.message});
    let r: Value = conn
        .json(
            Method::POST,
            &format!("/api/v1/projects/{}/packages/{}", a.project, a.package),
            Some(&body),
        )
        .await?;
    print_commit(g, &r);
    if a.wait {
        return wait(g, &conn, &a.project, a.timeout, false).await;
    }
    Ok(ExitCode::SUCCESS)
}

async fn results(conn: &Conn, project: &str) -> Result<Vec<Value>> {
    let r: Value = conn
        .json(
            Method::GET,
            &format!("/api/v1/projects/{project}/results"),
            None::<&()>,
        )
        .await?;
    Ok(r.as_array().cloned().unwrap_or_default())
}

fn is_final(state: &str) -> bool {
    !matches!(state, "scheduled" | "blocked" | "building")
}

fn print_results(rows: &[Value]) {
    println!(
        "{:<24} {:<12} {:<7} {:<13} {:<14} {:>8}  REASON",
        "PACKAGE", "REPOSITORY", "ARCH", "STATE", "DERIVATION", "TIME"
    );
    for r in rows {
        let drv = r["derivation"].as_str().unwrap_or("-");
        let dur = r["duration_secs"]
            .as_f64()
            .map(|d| format!("{d:.1}s"))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<24} {:<12} {:<7} {:<13} {:<14} {:>8}  {}",
            r["package"].as_str().unwrap_or(""),
            r["repository"].as_str().unwrap_or(""),
            r["arch"].as_str().unwrap_or(""),
            r["state"].as_str().unwrap_or(""),
            &drv[..drv.len().min(12)],
            dur,
            r["reason"].as_str().unwrap_or("")
        );
    }
}

/// NDJSON lines of a streaming response.
struct Lines {
    body: Incoming,
    buf: Vec<u8>,
}

impl Lines {
    /// The next line, `None` at the end of the stream, `Err` on timeout.
    async fn next(&mut self, timeout: Duration) -> Result<Option<String>, ()> {
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Ok(Some(String::from_utf8_lossy(&line).trim().to_string()));
            }
            match tokio::time::timeout(timeout, self.body.frame()).await {
                Err(_) => return Err(()),
                Ok(None) | Ok(Some(Err(_))) => return Ok(None),
                Ok(Some(Ok(f))) => {
                    if let Some(d) = f.data_ref() {
                        self.buf.extend_from_slice(d);
                    }
                }
            }
        }
    }
}

async fn events(conn: &Conn, project: &str) -> Result<Lines> {
    let resp = conn
        .checked(
            Method::GET,
            &format!("/api/v1/projects/{project}/events"),
            empty(),
        )
        .await?;
    Ok(Lines {
        body: resp.into_body(),
        buf: Vec::new(),
    })
}

/// Wait until every row of `project` is final; exit 0 when all succeeded (or cached),
/// 1 when any failed, was aborted or is unresolvable, 2 on timeout.
async fn wait(
    g: &Global,
    conn: &Conn,
    project: &str,
    timeout: Option<u64>,
    watch: bool,
) -> Result<ExitCode> {
    let deadline = timeout.map(|t| Instant::now() + Duration::from_secs(t));
    // Subscribe first, then read: no change can slip between the two.
    let mut ev = events(conn, project).await?;
    let mut rows = results(conn, project).await?;
    if watch && !g.json {
        print_results(&rows);
    }
    let pb = if watch {
        None
    } else {
        output::spinner(g, "waiting for builds")
    };
    loop {
        let pending = rows
            .iter()
            .filter(|r| !is_final(r["state"].as_str().unwrap_or("")))
            .count();
        if let Some(pb) = &pb {
            pb.set_message(format!("{pending} of {} pending", rows.len()));
        }
        if pending == 0 {
            // A project with automatic publishing is done once its publish ran.
            let s: Value = conn
                .json(
                    Method::GET,
                    &format!("/api/v1/projects/{project}/status"),
                    None::<&()>,
                )
                .await?;
            if s["publish_pending"].as_bool() != Some(true) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            rows = results(conn, project).await?;
            continue;
        }
        let left = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(l) => l,
                None => {
                    if let Some(pb) = pb {
                        pb.finish_and_clear();
                    }
                    if g.json {
                        output::json(
                            &json!({"project": project, "timeout": true, "results": rows}),
                        );
                    } else {
                        print_results(&rows);
                        eprintln!("cryo: timed out with {pending} builds pending");
                    }
                    return Ok(ExitCode::from(2));
                }
            },
            None => Duration::from_secs(3600),
        };
        match ev.next(left.min(Duration::from_secs(30))).await {
            Ok(Some(line)) => {
                if watch && !g.json {
                    if let Ok(e) = serde_json::from_str::<Value>(&line) {
                        if e.get("package").is_some() {
                            println!(
                                "{} {}/{} {}{}",
                                e["package"].as_str().unwrap_or(""),
                                e["repository"].as_str().unwrap_or(""),
                                e["arch"].as_str().unwrap_or(""),
                                e["state"].as_str().unwrap_or(""),
                                e["reason"]
                                    .as_str()
                                    .map(|r| format!(" ({r})"))
                                    .unwrap_or_default()
                            );
                        }
                    }
                }
            }
            Ok(None) => {
                ev = events(conn, project).await?;
            }
            Err(()) => {}
        }
        rows = results(conn, project).await?;
    }
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let failed = rows
        .iter()
        .filter(|r| !matches!(r["state"].as_str(), Some("succeeded" | "cached")))
        .count();
    if g.json {
        output::json(&json!({"project": project, "failed": failed, "results": rows}));
    } else {
        print_results(&rows);
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub async fn run_results(g: &Global, project: String, watch: bool) -> Result<ExitCode> {
    let conn = connect(g).await?;
    if watch {
        return wait(g, &conn, &project, None, true).await;
    }
    let rows = results(&conn, &project).await?;
    if g.json {
        output::json(&rows);
    } else {
        print_results(&rows);
    }
    Ok(ExitCode::SUCCESS)
}

/// Wait for a project's builds on an open connection (`--wait` of other commands).
pub async fn wait_for(
    g: &Global,
    conn: &Conn,
    project: &str,
    timeout: Option<u64>,
) -> Result<ExitCode> {
    wait(g, conn, project, timeout, false).await
}

pub async fn run_wait(g: &Global, project: String, timeout: Option<u64>) -> Result<ExitCode> {
    let conn = connect(g).await?;
    wait(g, &conn, &project, timeout, false).await
}

pub async fn run_rebuild_abort(
    g: &Global,
    what: &str,
    project: String,
    package: Option<String>,
) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let r: Value = conn
        .json(
            Method::POST,
            &format!("/api/v1/projects/{project}/{what}"),
            Some(&json!({"package": package})),
        )
        .await?;
    if g.json {
        output::json(&r);
    } else if what == "rebuild" {
        println!("{project}: {} builds scheduled", r["scheduled"]);
    } else {
        println!("{project}: {} builds aborted", r["aborted"]);
    }
    Ok(ExitCode::SUCCESS)
}

/// `cryo log PROJECT PKG [-f]`.
pub async fn run_package_log(
    g: &Global,
    project: &str,
    package: &str,
    follow: bool,
    repository: Option<String>,
    arch: Option<String>,
) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let mut q = format!("?follow={follow}");
    if let Some(r) = repository {
        q.push_str(&format!("&repository={r}"));
    }
    if let Some(a) = arch {
        q.push_str(&format!("&arch={a}"));
    }
    let resp = conn
        .checked(
            Method::GET,
            &format!("/api/v1/projects/{project}/packages/{package}/log{q}"),
            empty(),
        )
        .await?;
    let mut body = resp.into_body();
    let mut out = std::io::stdout();
    while let Some(f) = body.frame().await {
        let f = f.context("reading the log stream")?;
        if let Some(d) = f.data_ref() {
            out.write_all(d)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `cryo log` names.
pub enum LogTarget<'a> {
    Derivation(&'a str),
    Package { project: &'a str, package: &'a str },
}

/// Split `cryo log`'s positional arguments: DERIVATION, or PROJECT PACKAGE.
pub fn log_target(args: &[String]) -> Result<LogTarget<'_>> {
    match args {
        [d] => Ok(LogTarget::Derivation(d)),
        [p, k] => Ok(LogTarget::Package {
            project: p,
            package: k,
        }),
        _ => bail!("give a DERIVATION, or PROJECT PACKAGE"),
    }
}

pub async fn run_publish(g: &Global, a: PublishArgs) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let export = match &a.export {
        Some(d) if d.is_absolute() => Some(d.clone()),
        Some(d) => Some(std::env::current_dir()?.join(d)),
        None => None,
    };
    let body = json!({"repository": a.repository, "rollback": a.rollback, "export": export});
    let pb = output::spinner(g, "publishing");
    let r: Result<Value> = conn
        .json(
            Method::POST,
            &format!("/api/v1/projects/{}/publish", a.project),
            Some(&body),
        )
        .await;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let r = r?;
    if g.json {
        output::json(&r);
        return Ok(ExitCode::SUCCESS);
    }
    if export.is_some() {
        println!(
            "exported generation {} to {} ({} files: {} written, {} hard-linked)",
            r["generation"],
            r["dir"].as_str().unwrap_or(""),
            r["files"],
            r["written"],
            r["linked"]
        );
        return Ok(ExitCode::SUCCESS);
    }
    for p in r.as_array().into_iter().flatten() {
        let what = if a.rollback {
            "rolled back to"
        } else if p["new"].as_bool() == Some(true) {
            "published"
        } else {
            "unchanged, still"
        };
        println!(
            "{}/{}: {what} generation {} ({} binary, {} source packages; {} {} main; key {})",
            p["project"].as_str().unwrap_or(""),
            p["repository"].as_str().unwrap_or(""),
            p["generation"],
            p["packages"],
            p["sources"],
            p["path"].as_str().unwrap_or(""),
            p["codename"].as_str().unwrap_or(""),
            p["fingerprint"].as_str().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `DELETE path`; prints the answer (`--json`) or `done`.
async fn delete(g: &Global, conn: &Conn, path: &str, done: &str) -> Result<()> {
    let r: Value = conn.json(Method::DELETE, path, None::<&()>).await?;
    if g.json {
        output::json(&r);
    } else {
        println!("{done}");
    }
    Ok(())
}
