//! `cryo`: the command-line client of the cryo build daemon.

mod autostart;
mod cli;
mod commands;
mod conn;
mod output;
mod srcpkg;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Behave like other Unix tools when the reader of our output goes away (`| head`).
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CRYO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cryo: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cryo: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
