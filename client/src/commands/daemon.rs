//! `cryo daemon status|stop`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Subcommand;
use cryo_store::api::DaemonStatus;
use hyper::Method;
use serde::Serialize;

use crate::autostart::{target, wait_gone};
use crate::cli::Global;
use crate::conn::{empty, Conn};
use crate::output;

#[derive(Subcommand, Debug)]
pub enum DaemonCmd {
    /// Show whether a daemon answers, with its version, pid, uptime and paths. Exit 1 when
    /// none runs (never starts one).
    Status,
    /// Ask the daemon to shut down gracefully and wait until it is gone.
    Stop,
}

/// `daemon status --json`: the daemon's status and `"running": true`.
#[derive(Serialize)]
struct Running<'a> {
    #[serde(flatten)]
    status: &'a DaemonStatus,
    running: bool,
}

pub async fn run(g: &Global, cmd: DaemonCmd) -> Result<ExitCode> {
    let t = target(g)?;
    let conn = Conn::new(&t.socket);
    match cmd {
        DaemonCmd::Status => {
            if !conn.alive().await {
                if g.json {
                    output::json(&serde_json::json!({"running": false, "socket": t.socket}));
                } else {
                    println!("cryod is not running (socket {})", t.socket.display());
                }
                return Ok(ExitCode::from(1));
            }
            let s: DaemonStatus = conn
                .json(Method::GET, "/api/v1/status", None::<&()>)
                .await?;
            if g.json {
                output::json_answer(&Running {
                    status: &s,
                    running: true,
                });
            } else {
                output::rows(&[
                    ("running", "yes".into()),
                    ("version", s.version),
                    ("pid", s.pid.to_string()),
                    ("uptime", format!("{}s", s.uptime_secs)),
                    ("state", s.state_dir),
                    ("socket", s.socket),
                    ("listen", s.listen.unwrap_or_else(|| "-".into())),
                    ("workers", s.workers.to_string()),
                    ("builds run", s.builds_run.to_string()),
                    (
                        "your uid",
                        s.peer_uid
                            .map(|u| u.to_string())
                            .unwrap_or_else(|| "?".into()),
                    ),
                ]);
            }
            Ok(ExitCode::SUCCESS)
        }
        DaemonCmd::Stop => {
            if !conn.alive().await {
                if g.json {
                    output::json(&serde_json::json!({"stopped": false, "running": false}));
                } else {
                    println!("cryod is not running");
                }
                return Ok(ExitCode::SUCCESS);
            }
            conn.checked(Method::POST, "/api/v1/shutdown", empty())
                .await?;
            let gone = wait_gone(&t.socket, &t.state, Duration::from_secs(60)).await;
            if g.json {
                output::json(&serde_json::json!({"stopped": gone}));
            } else if gone {
                println!("cryod stopped");
            } else {
                println!("cryod was asked to stop but still answers after 60s");
            }
            Ok(if gone {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
    }
}
