//! One module per command group; `run` dispatches.

pub mod build;
pub mod cache;
pub mod campaign;
pub mod daemon;
pub mod explain;
pub mod mirror;
pub mod patch;
pub mod project;
pub mod resolve;
pub mod snapshot;
pub mod store;
pub mod team;
pub mod verify;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};

pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Store(cmd) => store::run(&cli.global, cmd).await,
        Command::Daemon(cmd) => daemon::run(&cli.global, cmd).await,
        Command::Mirror(cmd) => mirror::run(&cli.global, cmd).await,
        Command::Snapshot(cmd) => snapshot::run(&cli.global, cmd).await,
        Command::Resolve(args) => resolve::run_resolve(&cli.global, args).await,
        Command::Drv(cmd) => resolve::run_drv(&cli.global, cmd).await,
        Command::Build(args) => build::run_build(&cli.global, args).await,
        Command::Log {
            target,
            follow,
            repository,
            arch,
        } => match project::log_target(&target)? {
            project::LogTarget::Derivation(drv) => {
                build::run_log(&cli.global, drv.to_string(), follow).await
            }
            project::LogTarget::Package {
                project: p,
                package,
            } => project::run_package_log(&cli.global, p, package, follow, repository, arch).await,
        },
        Command::Project(cmd) => project::run_project(&cli.global, cmd).await,
        Command::Package(cmd) => project::run_package(&cli.global, cmd).await,
        Command::Commit(a) => project::run_commit(&cli.global, a).await,
        Command::Results { project: p, watch } => project::run_results(&cli.global, p, watch).await,
        Command::Rebuild {
            project: p,
            package,
        } => project::run_rebuild_abort(&cli.global, "rebuild", p, package).await,
        Command::Abort {
            project: p,
            package,
        } => project::run_rebuild_abort(&cli.global, "abort", p, package).await,
        Command::Patch(a) => patch::run_patch(&cli.global, a).await,
        Command::User(c) => team::run_user(&cli.global, c).await,
        Command::Group(c) => team::run_group(&cli.global, c).await,
        Command::Token(c) => team::run_token(&cli.global, c).await,
        Command::Role(c) => team::run_role(&cli.global, c).await,
        Command::Audit { project: p } => team::run_audit(&cli.global, p).await,
        Command::Request(c) => team::run_request(&cli.global, c).await,
        Command::Publish(a) => project::run_publish(&cli.global, a).await,
        Command::Wait {
            project: p,
            timeout,
        } => project::run_wait(&cli.global, p, timeout).await,
        Command::Verify(args) => verify::run_verify(&cli.global, args).await,
        Command::Explain(args) => explain::run_explain(&cli.global, args).await,
        Command::Report(cmd) => verify::run_report(&cli.global, cmd).await,
        Command::Campaign(cmd) => campaign::run(&cli.global, cmd).await,
        Command::Cache(cmd) => cache::run(&cli.global, cmd).await,
    }
}
