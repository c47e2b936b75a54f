//! `cryod`: the cryo daemon. Parses flags, sets up logging, runs the server.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use cryo_daemon::config::{self, RawConfig};
use tokio_util::sync::CancellationToken;

/// The cryo build daemon: content-addressed store, mirror snapshots and sandboxed builds,
/// served on a unix socket (and optionally on TCP for the binary cache).
///
/// Configuration comes from a TOML file, then the environment, then these flags (later
/// wins). The `cryo` client starts a daemon on the default state directory by itself when
/// none answers; run `cryod` by hand for a service or a custom state directory.
#[derive(Parser, Debug)]
#[command(name = "cryod", version, about, long_about)]
struct Args {
    /// State directory (store, index, socket). Default: $CRYO_STATE, $XDG_STATE_HOME/cryo or
    /// ~/.local/state/cryo.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Unix socket to serve the API on. Default: <state>/cryod.sock. Env: CRYO_SOCKET.
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Also serve HTTP on this TCP address (binary cache, repositories), e.g.
    /// 127.0.0.1:8080. Env: CRYOD_LISTEN.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// Number of concurrent builds. Default: number of cores. Env: CRYOD_WORKERS.
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Log filter, e.g. `info` or `cryo_daemon=debug`. Env: CRYOD_LOG.
    #[arg(long, value_name = "FILTER")]
    log: Option<String>,
    /// TOML config file. Default: $CRYO_CONFIG, else <state>/cryod.toml if it exists.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print the resolved configuration and exit (non-zero if it is invalid).
    #[arg(long)]
    check_config: bool,
}

fn load(args: &Args) -> anyhow::Result<config::Config> {
    let flags = RawConfig {
        state: args.state.clone(),
        socket: args.socket.clone(),
        listen: args.listen.clone(),
        workers: args.workers,
        log: args.log.clone(),
        ..Default::default()
    };
    let env = RawConfig::from_env().context("reading the environment")?;
    let file = args
        .config
        .clone()
        .or_else(|| std::env::var_os("CRYO_CONFIG").map(PathBuf::from))
        .or_else(|| {
            let state = flags
                .state
                .clone()
                .or(env.state.clone())
                .or_else(config::default_state_dir)?;
            Some(state.join("cryod.toml")).filter(|p| p.exists())
        });
    let base = match &file {
        Some(f) => RawConfig::from_file(f)?,
        None => RawConfig::default(),
    };
    Ok(base.overlay(env).overlay(flags).resolve(file)?)
}

fn main() -> ExitCode {
    // cryod re-executes itself as the single-threaded sandbox helper of builds.
    if std::env::args_os().nth(1).as_deref()
        == Some(std::ffi::OsStr::new(cryo_daemon::build::SANDBOX_HELPER_ARG))
    {
        cryo_sandbox::helper_main();
    }
    let args = Args::parse();
    let cfg = match load(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cryod: configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    if args.check_config {
        println!(
            "{}",
            serde_json::to_string_pretty(&cfg).expect("config serialises")
        );
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cfg.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cryod: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    let res = rt.block_on(async {
        let sd = shutdown.clone();
        tokio::spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
                _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
                _ = sd.cancelled() => {}
            }
            sd.cancel();
        });
        cryo_daemon::server::start(cfg, shutdown).await
    });
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cryod: {e}");
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
