//! Projects and packages (the OBS workflow): `cryo project …`, `cryo package …`,
//! `cryo commit`, `cryo results`, `cryo rebuild`, `cryo abort`, `cryo wait`, and
//! `cryo log PROJECT PKG [-f]`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use cryo_store::api::{
    Aborted, CommitOutcome, CommitRequest, ConfigText, CreateRequest, Deleted, JobResult, Package,
    PackageRequest, PrjconfText, Project, ProjectEvent, ProjectFlags, ProjectShow, ProjectStatus,
    ProjectSyncOutcome, ProjectSyncRequest, PublishAnswer, PublishRequest, Removed, RepoRequest,
    Revision, Scheduled,
};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use super::resolve::{prjconf_text, source_spec};
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
    fn body(&self) -> Result<RepoRequest> {
        Ok(RepoRequest {
            repository: Some(self.repository.clone()),
            snapshot: self.snapshot.clone(),
            mirrors: self.mirror.clone(),
            allow_expired: self.allow_expired,
            prjconf: prjconf_text(&self.prjconf)?,
            arches: self.arches.clone(),
            path: self.path.clone(),
        })
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
            let body = CreateRequest {
                name,
                description,
                publish,
                private,
                repo: repo.body()?,
            };
            let pb = output::spinner(g, "creating project");
            let r: Result<Project> = conn
                .json(Method::POST, "/api/v1/projects", Some(&body))
                .await;
            drop(pb);
            print_project(g, &r?);
        }
        ProjectCmd::RepoAdd { project, repo } => {
            let r: Project = conn
                .json(
                    Method::POST,
                    &format!("/api/v1/projects/{project}/repositories"),
                    Some(&repo.body()?),
                )
                .await?;
            print_project(g, &r);
        }
        ProjectCmd::List => list(g, &conn).await?,
        ProjectCmd::Show { name } => show(g, &conn, &name).await?,
        ProjectCmd::Config {
            name,
            set,
            repository,
        } => config(g, &conn, &name, set, repository).await?,
        ProjectCmd::Sync {
            name,
            allow_expired,
        } => sync(g, &conn, &name, allow_expired).await?,
        ProjectCmd::Key { name, out } => key(&conn, &name, out).await?,
        ProjectCmd::SetPrivate { name, private } => {
            let flags = ProjectFlags {
                publish: None,
                private: Some(private),
            };
            set_flags(g, &conn, &name, "private", &flags).await?;
        }
        ProjectCmd::SetPublish { name, enabled } => {
            let flags = ProjectFlags {
                publish: Some(enabled),
                private: None,
            };
            set_flags(g, &conn, &name, "publish-flag", &flags).await?;
        }
        ProjectCmd::Delete { name } => {
            let done = format!("deleted project {name}");
            delete::<Deleted>(g, &conn, &format!("/api/v1/projects/{name}"), &done).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cryo project list`.
async fn list(g: &Global, conn: &Conn) -> Result<()> {
    let r: Vec<Project> = conn
        .json(Method::GET, "/api/v1/projects", None::<&()>)
        .await?;
    if g.json {
        output::json_answer(&r);
    } else {
        for p in &r {
            println!("{:<30} {}", p.name.as_str(), p.description);
        }
    }
    Ok(())
}

/// `cryo project show NAME`.
async fn show(g: &Global, conn: &Conn, name: &str) -> Result<()> {
    let r: ProjectShow = conn
        .json(
            Method::GET,
            &format!("/api/v1/projects/{name}"),
            None::<&()>,
        )
        .await?;
    if g.json {
        output::json_answer(&r);
        return Ok(());
    }
    print_project_text(&r.project);
    println!("packages:");
    for p in &r.packages {
        println!(
            "  {:<30} {:<24} r{}",
            p.name,
            p.version.as_deref().unwrap_or("-"),
            p.revisions
        );
    }
    Ok(())
}

/// `cryo project config NAME [--set FILE] [--repository R]`.
async fn config(
    g: &Global,
    conn: &Conn,
    name: &str,
    set: Option<PathBuf>,
    repository: Option<String>,
) -> Result<()> {
    let q = repository
        .map(|r| format!("?repository={r}"))
        .unwrap_or_default();
    let path = format!("/api/v1/projects/{name}/config{q}");
    match set {
        Some(file) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading prjconf {}", file.display()))?;
            let body = PrjconfText {
                name: file.display().to_string(),
                text,
            };
            let r: Project = conn.json(Method::PUT, &path, Some(&body)).await?;
            print_project(g, &r);
        }
        None => {
            let r: ConfigText = conn.json(Method::GET, &path, None::<&()>).await?;
            if g.json {
                output::json_answer(&r);
            } else {
                print!("{}", r.text);
            }
        }
    }
    Ok(())
}

/// `cryo project sync NAME`.
async fn sync(g: &Global, conn: &Conn, name: &str, allow_expired: bool) -> Result<()> {
    let r: ProjectSyncOutcome = conn
        .json(
            Method::POST,
            &format!("/api/v1/projects/{name}/sync"),
            Some(&ProjectSyncRequest { allow_expired }),
        )
        .await?;
    if g.json {
        output::json_answer(&r);
    } else if r.changed_repositories.is_empty() {
        println!("{name}: snapshots unchanged");
    } else {
        println!(
            "{name}: new snapshot for {}",
            r.changed_repositories.join(", ")
        );
    }
    Ok(())
}

/// `cryo project key NAME [--out FILE]`: the armored public key.
async fn key(conn: &Conn, name: &str, out: Option<PathBuf>) -> Result<()> {
    let resp = conn
        .checked(
            Method::GET,
            &format!("/api/v1/projects/{name}/key"),
            empty(),
        )
        .await?;
    let bytes = resp.into_body().collect().await?.to_bytes();
    match out {
        Some(f) => {
            std::fs::write(&f, &bytes).with_context(|| format!("writing {}", f.display()))?
        }
        None => std::io::stdout().write_all(&bytes)?,
    }
    Ok(())
}

/// `cryo project set-private|set-publish`: `PUT /api/v1/projects/NAME/<what>`.
async fn set_flags(
    g: &Global,
    conn: &Conn,
    name: &str,
    what: &str,
    flags: &ProjectFlags,
) -> Result<()> {
    let r: Project = conn
        .json(
            Method::PUT,
            &format!("/api/v1/projects/{name}/{what}"),
            Some(flags),
        )
        .await?;
    print_project(g, &r);
    Ok(())
}

/// A project answer: JSON with `--json`, else text.
fn print_project(g: &Global, p: &Project) {
    if g.json {
        output::json_answer(p);
    } else {
        print_project_text(p);
    }
}

fn print_project_text(p: &Project) {
    println!("project  {}", p.name);
    if !p.description.is_empty() {
        println!("         {}", p.description);
    }
    println!("publish  {}", if p.publish { "yes" } else { "no" });
    println!("access   {}", if p.private { "private" } else { "public" });
    for g in &p.roles {
        println!("role     {} {}", g.subject, g.role.as_str());
    }
    for r in &p.repositories {
        let path: Vec<&str> = r.path.iter().map(|p| p.as_str()).collect();
        println!("repository {}", r.name);
        println!("  snapshot {}", r.snapshot);
        if !r.mirrors.is_empty() {
            println!("  mirrors  {}", r.mirrors.join(" "));
        }
        println!("  prjconf  {} ({})", r.prjconf_name, r.prjconf);
        println!("  arches   {}", r.arches.join(" "));
        if !path.is_empty() {
            println!("  path     {}", path.join(" "));
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
            let body = CommitRequest {
                source: source_spec(&conn, &source).await?,
                name,
                message,
            };
            let r: CommitOutcome = conn
                .json(
                    Method::POST,
                    &format!("/api/v1/projects/{project}/packages"),
                    Some(&body),
                )
                .await?;
            print_commit(g, &r);
        }
        PackageCmd::Log { project, package } => {
            let r: Package = conn
                .json(
                    Method::GET,
                    &format!("/api/v1/projects/{project}/packages/{package}"),
                    None::<&()>,
                )
                .await?;
            if g.json {
                output::json_answer(&r);
            } else {
                print_revisions(&r.revisions);
            }
        }
        PackageCmd::Diff(a) => return super::patch::run_diff(g, a).await,
        PackageCmd::Remove { project, package } => {
            let path = format!("/api/v1/projects/{project}/packages/{package}");
            let done = format!("removed {package} from {project}");
            delete::<Removed>(g, &conn, &path, &done).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_revisions(revisions: &[Revision]) {
    for rev in revisions {
        let digest = rev.digest.to_string();
        println!(
            "r{} {} {} {} by {}",
            rev.rev,
            output::date(rev.time),
            rev.version,
            &digest[..12.min(digest.len())],
            rev.author
        );
        println!("    {}", rev.message);
    }
}

fn print_commit(g: &Global, r: &CommitOutcome) {
    if g.json {
        output::json_answer(r);
        return;
    }
    let rev = &r.revision;
    if r.changed {
        println!(
            "{}/{}: committed r{} ({} {})",
            r.project, r.package, rev.rev, rev.source, rev.version
        );
    } else {
        println!(
            "{}/{}: unchanged (identical to r{}); nothing scheduled",
            r.project, r.package, rev.rev
        );
    }
}

pub async fn run_commit(g: &Global, a: CommitArgs) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let body = CommitRequest {
        source: source_spec(&conn, &a.source).await?,
        name: None,
        message: a.message,
    };
    let r: CommitOutcome = conn
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

async fn results(conn: &Conn, project: &str) -> Result<Vec<JobResult>> {
    conn.json(
        Method::GET,
        &format!("/api/v1/projects/{project}/results"),
        None::<&()>,
    )
    .await
}

fn print_results(rows: &[JobResult]) {
    println!(
        "{:<24} {:<12} {:<7} {:<13} {:<14} {:>8}  REASON",
        "PACKAGE", "REPOSITORY", "ARCH", "STATE", "DERIVATION", "TIME"
    );
    for r in rows {
        let drv = r
            .derivation
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into());
        let dur = r
            .duration_secs
            .map(|d| format!("{d:.1}s"))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<24} {:<12} {:<7} {:<13} {:<14} {:>8}  {}",
            r.package.as_str(),
            r.repository.as_str(),
            r.arch,
            r.state.as_str(),
            &drv[..drv.len().min(12)],
            dur,
            r.reason.as_deref().unwrap_or("")
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
        let pending = rows.iter().filter(|r| !r.state.is_final()).count();
        if let Some(pb) = &pb {
            pb.set_message(format!("{pending} of {} pending", rows.len()));
        }
        if pending == 0 {
            // A project with automatic publishing is done once its publish ran.
            if !publish_pending(conn, project).await? {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            rows = results(conn, project).await?;
            continue;
        }
        let left = match deadline {
            Some(d) => d.checked_duration_since(Instant::now()),
            None => Some(Duration::from_secs(3600)),
        };
        let Some(left) = left else {
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            if g.json {
                output::json(&json!({"project": project, "timeout": true, "results": rows}));
            } else {
                print_results(&rows);
                eprintln!("cryo: timed out with {pending} builds pending");
            }
            return Ok(ExitCode::from(2));
        };
        match ev.next(left.min(Duration::from_secs(30))).await {
            Ok(Some(line)) => {
                if watch && !g.json {
                    print_event(&line);
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
    let failed = rows.iter().filter(|r| !r.state.is_success()).count();
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

/// Whether the project's automatic publish is still to run.
async fn publish_pending(conn: &Conn, project: &str) -> Result<bool> {
    let s: ProjectStatus = conn
        .json(
            Method::GET,
            &format!("/api/v1/projects/{project}/status"),
            None::<&()>,
        )
        .await?;
    Ok(s.publish_pending)
}

/// `--watch`: one line per changed row (heartbeats and unreadable lines are skipped).
fn print_event(line: &str) {
    if let Ok(ProjectEvent::Change(e)) = serde_json::from_str::<ProjectEvent>(line) {
        println!(
            "{} {}/{} {}{}",
            e.package,
            e.repository,
            e.arch,
            e.state.as_str(),
            e.reason
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
    }
}

pub async fn run_results(g: &Global, project: String, watch: bool) -> Result<ExitCode> {
    let conn = connect(g).await?;
    if watch {
        return wait(g, &conn, &project, None, true).await;
    }
    let rows = results(&conn, &project).await?;
    if g.json {
        output::json_answer(&rows);
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
    let path = format!("/api/v1/projects/{project}/{what}");
    let body = PackageRequest { package };
    if what == "rebuild" {
        let r: Scheduled = conn.json(Method::POST, &path, Some(&body)).await?;
        if g.json {
            output::json_answer(&r);
        } else {
            println!("{project}: {} builds scheduled", r.scheduled);
        }
    } else {
        let r: Aborted = conn.json(Method::POST, &path, Some(&body)).await?;
        if g.json {
            output::json_answer(&r);
        } else {
            println!("{project}: {} builds aborted", r.aborted);
        }
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
    let body = PublishRequest {
        repository: a.repository,
        rollback: a.rollback,
        export,
    };
    let pb = output::spinner(g, "publishing");
    let r: Result<PublishAnswer> = conn
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
        output::json_answer(&r);
        return Ok(ExitCode::SUCCESS);
    }
    match r {
        PublishAnswer::Exported(x) => println!(
            "exported generation {} to {} ({} files: {} written, {} hard-linked)",
            x.generation, x.dir, x.files, x.written, x.linked
        ),
        PublishAnswer::Published(list) => {
            for p in list {
                let what = if a.rollback {
                    "rolled back to"
                } else if p.new {
                    "published"
                } else {
                    "unchanged, still"
                };
                println!(
                    "{}/{}: {what} generation {} ({} binary, {} source packages; {} {} main; key {})",
                    p.project,
                    p.repository,
                    output::or_null(p.generation),
                    p.packages,
                    p.sources,
                    p.path,
                    p.codename,
                    p.fingerprint
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `DELETE path`; prints the answer (`--json`) or `done`.
async fn delete<T: DeserializeOwned + Serialize>(
    g: &Global,
    conn: &Conn,
    path: &str,
    done: &str,
) -> Result<()> {
    let r: T = conn.json(Method::DELETE, path, None::<&()>).await?;
    if g.json {
        output::json_answer(&r);
    } else {
        println!("{done}");
    }
    Ok(())
}
