//! Command-line interface definition (clap derive). Each subcommand's arguments live in
//! its own module under `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::build::BuildArgs;
use crate::commands::cache::CacheCmd;
use crate::commands::campaign::CampaignCmd;
use crate::commands::project::{CommitArgs, PackageCmd, ProjectCmd, PublishArgs};
use crate::commands::resolve::{DrvCmd, ResolveArgs};
use crate::commands::team::{GroupCmd, RequestCmd, RoleCmd, TokenCmd, UserCmd};
use crate::commands::verify::{ReportCmd, VerifyArgs};
use crate::commands::{
    daemon::DaemonCmd, mirror::MirrorCmd, snapshot::SnapshotCmd, store::StoreCmd,
};

/// cryo: rebuild end-of-life Linux distributions as pure, cached, verifiable derivations.
///
/// `cryo` talks to the `cryod` daemon over a unix socket. When no daemon answers on the
/// default state directory, `cryo` starts one in the background (disable with
/// --no-autostart or CRYO_NO_AUTOSTART=1).
///
/// Exit status: 0 on success, 1 when a check found problems (e.g. `store verify`), 2 on
/// errors (bad input, daemon unreachable, failed requests).
///
/// Identity: on the daemon's own socket you act as your local uid (root and the daemon's
/// user are admins); with CRYO_TOKEN=<token> (`cryo token create`) you act as that token's
/// user.
#[derive(Parser, Debug)]
#[command(name = "cryo", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Daemon socket. Default: <state>/cryod.sock.
    #[arg(long, global = true, env = "CRYO_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// State directory of the daemon to use or start. Default: $CRYO_STATE,
    /// $XDG_STATE_HOME/cryo or ~/.local/state/cryo.
    #[arg(long, global = true, env = "CRYO_STATE", value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Never start a daemon; fail when none answers.
    #[arg(long, global = true, env = "CRYO_NO_AUTOSTART", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_autostart: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Content-addressed store: put, cat, import, export, verify, gc, stats, roots.
    #[command(subcommand)]
    Store(StoreCmd),
    /// Archives (offline mirrors): add, list, remove, sync into snapshots.
    #[command(subcommand)]
    Mirror(MirrorCmd),
    /// Immutable, verified package universes: list, show, diff, pkg, fetch.
    #[command(subcommand)]
    Snapshot(SnapshotCmd),
    /// Resolve a source package's exact build environment against a snapshot and a
    /// prjconf; prints the closure and the derivation id.
    Resolve(ResolveArgs),
    /// Build a source package in the sandbox (or return its cached outputs): resolves the
    /// derivation, fetches what it needs, prepares (or reuses) the build root, runs
    /// dpkg-buildpackage and stores the outputs. Exit 1 when the build failed or a
    /// --rebuild differs from the recorded outputs.
    Build(BuildArgs),
    /// Rebuild upstream sources from a snapshot and compare every binary bit for bit with
    /// the distribution's own. Exit 0 when all are identical, 1 when any differs, 2 when
    /// anything failed to build or could not be compared.
    Verify(VerifyArgs),
    /// Explain why binaries differ: rebuild with variations of the environment (clock,
    /// build path, extra packages, other snapshots) and report the one that reproduces the
    /// official bytes, or the evidence that none does. Stored with the report.
    Explain(crate::commands::explain::ExplainArgs),
    /// Stored verification reports: list, show (text, json, html).
    #[command(subcommand)]
    Report(ReportCmd),
    /// Verification campaigns: a persistent, resumable `verify` of many sources on the
    /// daemon's workers (create, list, show, results, pause, resume, delete, update,
    /// export).
    #[command(subcommand)]
    Campaign(CampaignCmd),
    /// The signed binary cache: keygen, keys.
    #[command(subcommand)]
    Cache(CacheCmd),
    /// Print a build log: `cryo log DERIVATION` (its latest build), or `cryo log PROJECT
    /// PACKAGE [-f]` (the package's current build, followed live with -f, or its last one).
    Log {
        /// DERIVATION, or PROJECT PACKAGE.
        #[arg(required = true, num_args = 1..=2, value_name = "DERIVATION | PROJECT PACKAGE")]
        target: Vec<String>,
        /// Follow a running build's log until it ends.
        #[arg(short, long)]
        follow: bool,
        /// Repository (default: the project's first).
        #[arg(long)]
        repository: Option<String>,
        /// Architecture (default: the repository's first).
        #[arg(long)]
        arch: Option<String>,
    },
    /// Projects (OBS-style): create, repo-add, list, show, config, sync, delete, key,
    /// set-publish, set-private.
    #[command(subcommand)]
    Project(ProjectCmd),
    /// Packages of a project: add, log, diff, remove.
    #[command(subcommand)]
    Package(PackageCmd),
    /// Commit a new source revision of a package; only what changed is rebuilt.
    Commit(CommitArgs),
    /// Build results of a project: one row per package × repository × arch with state,
    /// derivation and duration (--watch follows them until all are final).
    Results {
        project: String,
        #[arg(long)]
        watch: bool,
    },
    /// Build a project's packages (or one) again and compare with the recorded outputs.
    Rebuild {
        project: String,
        package: Option<String>,
    },
    /// Abort running and scheduled builds of a project (or one package).
    Abort {
        project: String,
        package: Option<String>,
    },
    /// Security patch: add patches to a package's source (debian/patches + series for
    /// 3.0 (quilt), applied directly for 1.0), add a changelog entry with the CVE ids and a
    /// new version, commit it as a new revision. A patch that does not apply fails with
    /// the failing hunk.
    Patch(crate::commands::patch::PatchArgs),
    /// Users (admins): add, list.
    #[command(subcommand)]
    User(UserCmd),
    /// Groups (admins): add, member add, list.
    #[command(subcommand)]
    Group(GroupCmd),
    /// API tokens: create (printed once), revoke, list.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Project roles (maintainer, bugowner, reviewer, reader) for users and @groups.
    #[command(subcommand)]
    Role(RoleCmd),
    /// The append-only audit log: who changed what (one project, or all for admins).
    Audit { project: Option<String> },
    /// Submit requests between projects (staging → prod): submit, list, show, accept,
    /// decline, revoke, review.
    #[command(subcommand)]
    Request(RequestCmd),
    /// Publish a project's repositories as signed apt archives (a new generation, switched
    /// atomically; served at /repos/PROJECT/REPOSITORY/ by `cryod --listen`), roll back
    /// to the previous generation, or export a static copy.
    Publish(PublishArgs),
    /// Wait until a project's builds are done: exit 0 when all succeeded, 1 when any
    /// failed, 2 on timeout (for CI pipelines).
    Wait {
        project: String,
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
    },
    /// Derivations: show.
    #[command(subcommand)]
    Drv(DrvCmd),
    /// The daemon: status, stop.
    #[command(subcommand)]
    Daemon(DaemonCmd),
}
