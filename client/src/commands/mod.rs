//! One module per command group; `run` dispatches.

pub mod build;
pub mod cache;
pub mod daemon;
pub mod mirror;
pub mod resolve;
pub mod snapshot;
pub mod store;
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
        Command::Log { derivation } => build::run_log(&cli.global, derivation).await,
        Command::Verify(args) => verify::run_verify(&cli.global, args).await,
        Command::Report(cmd) => verify::run_report(&cli.global, cmd).await,
        Command::Cache(cmd) => cache::run(&cli.global, cmd).await,
    }
}
