//! `cryo patch` (security patches: patches into the source, a changelog entry with the
//! CVE ids and a new version, committed as a new revision) and `cryo package diff`.
//!
//! Both work on unpacked copies of store sources on the client: the revision's files are
//! downloaded, unpacked with `dpkg-source -x`, changed with `cryo-srcpatch`, and packed
//! again with `dpkg-source -b` (deterministically, see `srcpkg.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};
use clap::Args;
use cryo_store::api::{
    CommitOutcome, CommitRequest, ConfigText, FetchRequest, FetchedFile, Package, ProjectShow,
    Revision, SnapshotInfo, WhoAmI,
};
use hyper::Method;
use serde_json::json;

use cryo_debian::version::Version;
use cryo_srcpatch::{
    add_changelog_entry, apply_patches, diff_trees, next_version, ApplyOptions, ChangelogEntry,
    CveId, DiffLimits, NamedPatch, ReleaseCounters, Suffix, VersionPattern,
};

use crate::autostart::connect;
use crate::cli::Global;
use crate::conn::Conn;
use crate::output;

/// `cryo patch`.
#[derive(Args, Debug)]
pub struct PatchArgs {
    pub project: String,
    pub package: String,
    /// Patches (unified diffs, -p1, e.g. from `git format-patch`).
    #[arg(required = true)]
    pub patches: Vec<PathBuf>,
    /// CVE ids this fixes (named in the changelog entry; urgency becomes high).
    #[arg(long = "cve", value_name = "CVE-YYYY-NNNN")]
    pub cves: Vec<String>,
    /// Append exactly this to the version instead of the release pattern.
    #[arg(long, value_name = "SUFFIX", conflicts_with = "pattern")]
    pub version_suffix: Option<String>,
    /// Release pattern (default: the prjconf's Cryo-ReleasePattern, else
    /// `+eol<MAJOR>u<CI_CNT>` with the snapshot's major release).
    #[arg(long, value_name = "PATTERN")]
    pub pattern: Option<String>,
    /// The changelog entry's author, `Name <email>` (default: $DEBFULLNAME <$DEBEMAIL>,
    /// else your cryo user name).
    #[arg(long)]
    pub maintainer: Option<String>,
    /// Commit message (also the changelog bullet).
    #[arg(short, long)]
    pub message: String,
    /// Wait for the project's builds (exit 0 all succeeded, 1 any failed).
    #[arg(long)]
    pub wait: bool,
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

/// Download a revision's files into `dir`; returns the `.dsc` path.
async fn fetch_revision(conn: &Conn, rev: &Revision, dir: &Path) -> Result<PathBuf> {
    // The names are `SafeName`s: checked when the answer was read.
    for (name, digest) in &rev.files {
        let mut f = std::fs::File::create(dir.join(name.as_str()))?;
        conn.download(&digest.to_string(), &mut f).await?;
    }
    Ok(dir.join(rev.dsc.as_str()))
}

/// `dpkg-source -x DSC DIR/tree`.
fn unpack(dsc: &Path, dest: &Path) -> Result<()> {
    let out = Command::new("dpkg-source")
        .args(["--no-check", "-x"])
        .arg(dsc)
        .arg(dest)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .context("running dpkg-source (install dpkg-dev)")?;
    if !out.status.success() {
        bail!(
            "dpkg-source -x {} failed:\n{}",
            dsc.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

async fn package(conn: &Conn, project: &str, pkg: &str) -> Result<Package> {
    conn.json(
        Method::GET,
        &format!("/api/v1/projects/{project}/packages/{pkg}"),
        None::<&()>,
    )
    .await
}

/// The default pattern: `+eol<major>u<CI_CNT>` from the snapshot's first archive version.
async fn default_pattern(conn: &Conn, project: &str) -> Result<String> {
    let conf: ConfigText = conn
        .json(
            Method::GET,
            &format!("/api/v1/projects/{project}/config"),
            None::<&()>,
        )
        .await?;
    for line in conf.text.lines() {
        if let Some(v) = line.trim().strip_prefix("Cryo-ReleasePattern:") {
            return Ok(v.trim().to_string());
        }
    }
    let snap = first_snapshot(conn, project).await?;
    let s: SnapshotInfo = conn
        .json(
            Method::GET,
            &format!("/api/v1/snapshots/{snap}"),
            None::<&()>,
        )
        .await?;
    let version = s
        .record
        .archives
        .iter()
        .find_map(|a| a.version.as_deref())
        .unwrap_or("");
    let major = version
        .split('.')
        .next()
        .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()));
    Ok(match major {
        Some(m) => format!("+eol{m}u<CI_CNT>"),
        None => "+eolu<CI_CNT>".to_string(),
    })
}

pub async fn run_patch(g: &Global, a: PatchArgs) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let pkg = package(&conn, &a.project, &a.package).await?;
    let rev = pkg.latest().context("the package has no revision")?;
    let patches: Vec<NamedPatch> = a
        .patches
        .iter()
        .map(|p| NamedPatch::read(p).with_context(|| format!("reading {}", p.display())))
        .collect::<Result<_>>()?;
    let cves: Vec<CveId> = a
        .cves
        .iter()
        .map(|c| c.parse().map_err(|e| anyhow::anyhow!("{c}: {e}")))
        .collect::<Result<_>>()?;
    let work = tempfile::Builder::new().prefix("cryo-patch-").tempdir()?;
    let dsc = fetch_revision(&conn, rev, work.path()).await?;
    let source = rev.source.as_str();
    let current: Version = rev
        .version
        .parse()
        .map_err(|e| anyhow::anyhow!("version: {e}"))?;
    let tree = work.path().join(format!("{source}-{}", current.upstream()));
    unpack(&dsc, &tree)?;
    let applied = apply_patches(&tree, &patches, &ApplyOptions::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let version = new_version(&conn, &a, &pkg, &current).await?;
    let maintainer = changelog_author(&conn, &a).await?;
    let date = changelog_date()?;
    add_changelog_entry(
        &tree,
        &ChangelogEntry {
            source: None,
            version: version.clone(),
            distribution: None,
            urgency: None,
            changes: vec![a.message.clone()],
            cves,
            maintainer,
            date,
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let built = crate::srcpkg::build_source_package(&tree)?;
    let spec = super::resolve::dsc_spec(&conn, &built.dsc).await?;
    let mut msg = a.message.clone();
    if !a.cves.is_empty() {
        msg = format!("{msg} ({})", a.cves.join(", "));
    }
    let body = CommitRequest {
        source: spec,
        name: None,
        message: msg,
    };
    let r: CommitOutcome = conn
        .json(
            Method::POST,
            &format!("/api/v1/projects/{}/packages/{}", a.project, a.package),
            Some(&body),
        )
        .await?;
    if g.json {
        output::json(
            &json!({"commit": r, "version": version.to_string(), "patches": applied.iter().map(|p| p.name.to_string()).collect::<Vec<_>>()}),
        );
    } else {
        println!(
            "{}/{}: r{} {} {} ({} patch{} applied)",
            a.project,
            a.package,
            r.revision.rev,
            source,
            version,
            applied.len(),
            if applied.len() == 1 { "" } else { "es" }
        );
    }
    if a.wait {
        return super::project::wait_for(g, &conn, &a.project, a.timeout).await;
    }
    Ok(ExitCode::SUCCESS)
}

/// The patched revision's version: `--version-suffix`, else the release pattern
/// (`--pattern`, the prjconf's, or the default) with the package's counters.
async fn new_version(
    conn: &Conn,
    a: &PatchArgs,
    pkg: &Package,
    current: &Version,
) -> Result<Version> {
    // <CI_CNT>: the package's commits on top of its first (imported) revision, this one
    // included.
    let counters = ReleaseCounters {
        ci_cnt: pkg.revisions.len() as u64,
        b_cnt: u64::from(pkg.rebuilds),
    };
    let pattern_text = match &a.pattern {
        Some(p) => p.clone(),
        None => default_pattern(conn, &a.project).await?,
    };
    let pattern: VersionPattern = pattern_text
        .parse()
        .map_err(|e| anyhow::anyhow!("pattern {pattern_text:?}: {e}"))?;
    let suffix = match &a.version_suffix {
        Some(s) => Suffix::Explicit(s),
        None => Suffix::Pattern(&pattern),
    };
    next_version(current, suffix, &counters).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The changelog entry's author: `--maintainer`, `$DEBFULLNAME <$DEBEMAIL>`, else the
/// cryo user name.
async fn changelog_author(conn: &Conn, a: &PatchArgs) -> Result<String> {
    Ok(
        match (
            &a.maintainer,
            std::env::var("DEBFULLNAME"),
            std::env::var("DEBEMAIL"),
        ) {
            (Some(m), _, _) => m.clone(),
            (None, Ok(n), Ok(e)) => format!("{n} <{e}>"),
            _ => {
                let me: WhoAmI = conn
                    .json(Method::GET, "/api/v1/whoami", None::<&()>)
                    .await?;
                let n = me.name;
                format!("{n} <{n}@cryo.invalid>")
            }
        },
    )
}

/// A reproducible date: SOURCE_DATE_EPOCH when set (CI), else now.
fn changelog_date() -> Result<i64> {
    Ok(match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) => s
            .trim()
            .parse()
            .context("SOURCE_DATE_EPOCH is not a number")?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs() as i64,
    })
}

/// `cryo package diff`.
#[derive(Args, Debug)]
pub struct DiffArgs {
    pub project: String,
    pub package: String,
    /// `upstream` (the snapshot's source package of that name; default), or a revision
    /// number of the package.
    #[arg(long, default_value = "upstream")]
    pub against: String,
}

pub async fn run_diff(g: &Global, a: DiffArgs) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let pkg = package(&conn, &a.project, &a.package).await?;
    let rev = pkg.latest().context("the package has no revision")?;
    let work = tempfile::Builder::new().prefix("cryo-diff-").tempdir()?;
    let (new_dir, old_dir) = (work.path().join("new"), work.path().join("old"));
    std::fs::create_dir_all(&new_dir)?;
    std::fs::create_dir_all(&old_dir)?;
    let dsc = fetch_revision(&conn, rev, &new_dir).await?;
    let old_dsc = if a.against == "upstream" {
        fetch_upstream(&conn, &a.project, &rev.source, &old_dir).await?
    } else {
        let n: usize = a
            .against
            .trim_start_matches('r')
            .parse()
            .context("--against takes `upstream` or a revision number")?;
        let old = pkg
            .revisions
            .iter()
            .find(|r| u64::from(r.rev) == n as u64)
            .with_context(|| format!("no revision {n}"))?;
        fetch_revision(&conn, old, &old_dir).await?
    };
    let (ta, tb) = (work.path().join("a"), work.path().join("b"));
    unpack(&old_dsc, &ta)?;
    unpack(&dsc, &tb)?;
    let d = diff_trees(&ta, &tb, &DiffLimits::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    if g.json {
        output::json(
            &json!({"changed_files": d.changed_files, "truncated": d.truncated, "diff": d.text}),
        );
    } else {
        print!("{}", d.text);
    }
    Ok(ExitCode::SUCCESS)
}

/// The snapshot id of the project's first repository (empty when it has none).
async fn first_snapshot(conn: &Conn, project: &str) -> Result<String> {
    let p: ProjectShow = conn
        .json(
            Method::GET,
            &format!("/api/v1/projects/{project}"),
            None::<&()>,
        )
        .await?;
    Ok(p.project
        .repositories
        .first()
        .map(|r| r.snapshot.to_string())
        .unwrap_or_default())
}

/// Download the snapshot's source package `source` (of the project's first repository)
/// into `dir`; returns the `.dsc` path.
async fn fetch_upstream(conn: &Conn, project: &str, source: &str, dir: &Path) -> Result<PathBuf> {
    let snap = first_snapshot(conn, project).await?;
    let body = FetchRequest {
        request: format!("src:{source}"),
        arch: None,
    };
    let files: Vec<FetchedFile> = conn
        .json(
            Method::POST,
            &format!("/api/v1/snapshots/{snap}/fetch"),
            Some(&body),
        )
        .await?;
    let mut dsc = None;
    for f in files {
        let name = cryo_store::SafeName::new(&f.name).context("unsafe file name")?;
        let mut out = std::fs::File::create(dir.join(name.as_str()))?;
        conn.download(&f.digest.to_string(), &mut out).await?;
        if name.ends_with(".dsc") {
            dsc = Some(dir.join(name));
        }
    }
    dsc.context("the snapshot's source has no .dsc")
}
