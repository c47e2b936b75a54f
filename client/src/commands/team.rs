//! Teams and the release flow: `cryo user|group|token|role|audit|request …`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use hyper::Method;
use serde_json::{json, Value};

use crate::autostart::connect;
use crate::cli::Global;
use crate::output;

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Add a user (admins only). --uid maps a local uid on the daemon's socket to it.
    Add {
        name: String,
        #[arg(long)]
        admin: bool,
        #[arg(long = "uid")]
        uids: Vec<u32>,
    },
    /// List users.
    List,
}

#[derive(Subcommand, Debug)]
pub enum GroupCmd {
    /// Add a group (admins only).
    Add { name: String },
    /// Group membership.
    #[command(subcommand)]
    Member(MemberCmd),
    /// List groups and members.
    List,
}

#[derive(Subcommand, Debug)]
pub enum MemberCmd {
    /// Add USER to GROUP.
    Add { group: String, user: String },
}

#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// Create an API token (printed once; only its hash is stored). Use it as
    /// CRYO_TOKEN=… or `Authorization: Bearer …` over HTTP.
    Create {
        /// For another user (admins only; default: yourself).
        #[arg(long)]
        user: Option<String>,
        /// Expire after DAYS days. A token created with a token (CRYO_TOKEN) never
        /// outlives it: default and limit are its expiry.
        #[arg(long, value_name = "DAYS")]
        expires: Option<u64>,
    },
    /// Revoke a token by id.
    Revoke { id: String },
    /// Your tokens (all tokens for admins), without secrets.
    List,
}

#[derive(Subcommand, Debug)]
pub enum RoleCmd {
    /// Give SUBJECT (a user, or @group) ROLE (maintainer, bugowner, reviewer, reader) on
    /// PROJECT (maintainers and admins only).
    Add {
        project: String,
        subject: String,
        role: String,
    },
    /// Take a role away.
    Remove {
        project: String,
        subject: String,
        role: String,
    },
    /// The roles on a project.
    List { project: String },
}

#[derive(Subcommand, Debug)]
pub enum RequestCmd {
    /// Submit the latest revision of PKG in SRCPROJECT to DSTPROJECT.
    Submit {
        source: String,
        package: String,
        target: String,
        #[arg(short, long, default_value = "")]
        message: String,
    },
    /// List requests.
    List {
        #[arg(long)]
        project: Option<String>,
        /// new, review, accepted, declined, revoked or superseded. (Not `--state`: that
        /// is the global state directory option.)
        #[arg(long = "status", id = "request_state", value_name = "STATE")]
        state: Option<String>,
    },
    /// Show a request with its reviews, history and (once accepted) the comparison of
    /// the target's build with the source project's.
    Show { id: u64 },
    /// Accept (target maintainers): copies the exact source revision into the target.
    Accept {
        id: u64,
        #[arg(short, long, default_value = "")]
        message: String,
    },
    /// Decline (target maintainers).
    Decline {
        id: u64,
        #[arg(short, long, default_value = "")]
        message: String,
    },
    /// Revoke (the submitter or source maintainers).
    Revoke {
        id: u64,
        #[arg(short, long, default_value = "")]
        message: String,
    },
    /// Accept or decline your open review.
    Review {
        id: u64,
        #[arg(long, conflicts_with = "decline", required_unless_present = "decline")]
        accept: bool,
        #[arg(long)]
        decline: bool,
        #[arg(short, long, default_value = "")]
        message: String,
    },
}

fn show(g: &Global, v: &Value, text: impl FnOnce(&Value)) {
    if g.json {
        output::json(v);
    } else {
        text(v);
    }
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or("")
}

pub async fn run_user(g: &Global, cmd: UserCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    match cmd {
        UserCmd::Add { name, admin, uids } => {
            let r: Value = conn
                .json(
                    Method::POST,
                    "/api/v1/users",
                    Some(&json!({"name": name, "admin": admin, "uids": uids})),
                )
                .await?;
            show(g, &r, |r| {
                println!(
                    "user {}{}",
                    s(r, "name"),
                    if r["admin"] == true { " (admin)" } else { "" }
                )
            });
        }
        UserCmd::List => {
            let r: Value = conn.json(Method::GET, "/api/v1/users", None::<&()>).await?;
            show(g, &r, |r| {
                for u in r.as_array().into_iter().flatten() {
                    println!(
                        "{:<20} {}{:?}",
                        s(u, "name"),
                        if u["admin"] == true { "admin " } else { "" },
                        u["uids"].as_array().cloned().unwrap_or_default()
                    );
                }
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_group(g: &Global, cmd: GroupCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let r: Value = match cmd {
        GroupCmd::Add { name } => {
            conn.json(Method::POST, "/api/v1/groups", Some(&json!({"name": name})))
                .await?
        }
        GroupCmd::Member(MemberCmd::Add { group, user }) => {
            conn.json(
                Method::POST,
                &format!("/api/v1/groups/{group}/members"),
                Some(&json!({"user": user})),
            )
            .await?
        }
        GroupCmd::List => {
            conn.json(Method::GET, "/api/v1/groups", None::<&()>)
                .await?
        }
    };
    show(g, &r, |r| {
        let list = r.as_array().cloned().unwrap_or_else(|| vec![r.clone()]);
        for grp in list {
            let members: Vec<&str> = grp["members"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m.as_str())
                .collect();
            println!("@{:<20} {}", s(&grp, "name"), members.join(" "));
        }
    });
    Ok(ExitCode::SUCCESS)
}

pub async fn run_token(g: &Global, cmd: TokenCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    match cmd {
        TokenCmd::Create { user, expires } => {
            let r: Value = conn
                .json(
                    Method::POST,
                    "/api/v1/tokens",
                    Some(&json!({"user": user, "expires_days": expires})),
                )
                .await?;
            show(g, &r, |r| {
                let parent = r["parent"]
                    .as_str()
                    .map(|p| format!(", created with token {p}"))
                    .unwrap_or_default();
                eprintln!(
                    "token {} for {}{parent} (shown once; keep it secret)",
                    s(r, "id"),
                    s(r, "user")
                );
                println!("{}", s(r, "token"));
            });
        }
        TokenCmd::Revoke { id } => {
            let r: Value = conn
                .json(Method::DELETE, &format!("/api/v1/tokens/{id}"), None::<&()>)
                .await?;
            show(g, &r, |r| {
                println!("revoked token {} of {}", s(r, "id"), s(r, "user"))
            });
        }
        TokenCmd::List => {
            let r: Value = conn
                .json(Method::GET, "/api/v1/tokens", None::<&()>)
                .await?;
            show(g, &r, |r| {
                for t in r.as_array().into_iter().flatten() {
                    let state = if !t["revoked"].is_null() {
                        "revoked".to_string()
                    } else if let Some(e) = t["expires"].as_i64() {
                        format!("expires {}", output::date(e))
                    } else {
                        "no expiry".to_string()
                    };
                    let parent = t["parent"]
                        .as_str()
                        .map(|p| format!(" (created with {p})"))
                        .unwrap_or_default();
                    println!(
                        "{} {:<16} created {} {state}{parent}",
                        s(t, "id"),
                        s(t, "user"),
                        output::date(t["created"].as_i64().unwrap_or(0))
                    );
                }
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_role(g: &Global, cmd: RoleCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let r: Value = match cmd {
        RoleCmd::Add {
            project,
            subject,
            role,
        } => {
            conn.json(
                Method::POST,
                &format!("/api/v1/projects/{project}/roles"),
                Some(&json!({"subject": subject, "role": role})),
            )
            .await?
        }
        RoleCmd::Remove {
            project,
            subject,
            role,
        } => {
            conn.json(
                Method::DELETE,
                &format!("/api/v1/projects/{project}/roles"),
                Some(&json!({"subject": subject, "role": role})),
            )
            .await?
        }
        RoleCmd::List { project } => {
            let p: Value = conn
                .json(
                    Method::GET,
                    &format!("/api/v1/projects/{project}"),
                    None::<&()>,
                )
                .await?;
            p["roles"].clone()
        }
    };
    show(g, &r, |r| {
        for grant in r.as_array().into_iter().flatten() {
            println!("{:<20} {}", s(grant, "subject"), s(grant, "role"));
        }
    });
    Ok(ExitCode::SUCCESS)
}

pub async fn run_audit(g: &Global, project: Option<String>) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let q = project.map(|p| format!("?project={p}")).unwrap_or_default();
    let r: Value = conn
        .json(Method::GET, &format!("/api/v1/audit{q}"), None::<&()>)
        .await?;
    show(g, &r, |r| {
        for e in r.as_array().into_iter().flatten() {
            println!(
                "{:>5} {} {:<12} {:<28} {}",
                e["seq"],
                output::date(e["time"].as_i64().unwrap_or(0)),
                s(e, "user"),
                s(e, "action"),
                s(e, "project")
            );
        }
    });
    Ok(ExitCode::SUCCESS)
}

fn print_request(r: &Value) {
    println!(
        "request {}: {} {} → {} ({})",
        r["id"],
        s(r, "source_project"),
        s(r, "package"),
        s(r, "target_project"),
        s(r, "state")
    );
    println!(
        "  revision r{} {} {} by {}",
        r["revision"]["rev"],
        s(&r["revision"], "source"),
        s(&r["revision"], "version"),
        s(r, "creator")
    );
    if !s(r, "message").is_empty() {
        println!("  message  {}", s(r, "message"));
    }
    for v in r["reviews"].as_array().into_iter().flatten() {
        println!(
            "  review   {} {}{}",
            s(v, "reviewer"),
            s(v, "state"),
            v["by"]
                .as_str()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default()
        );
    }
    for h in r["history"].as_array().into_iter().flatten() {
        println!(
            "  {} {} {}{}",
            output::date(h["time"].as_i64().unwrap_or(0)),
            s(h, "who"),
            s(h, "what"),
            if s(h, "message").is_empty() {
                String::new()
            } else {
                format!(": {}", s(h, "message"))
            }
        );
    }
    for c in r["comparison"].as_array().into_iter().flatten() {
        println!(
            "  {}/{}: {} — {}",
            s(c, "repository"),
            s(c, "arch"),
            s(c, "verdict"),
            s(c, "explanation")
        );
        if let Some(rep) = c["report"].as_str() {
            println!(
                "    report {rep} (cryo report show {})",
                &rep[..12.min(rep.len())]
            );
        }
    }
}

pub async fn run_request(g: &Global, cmd: RequestCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let act =
        |id: u64, action: &str, body: Value| (format!("/api/v1/requests/{id}/{action}"), body);
    let (path, body) = match cmd {
        RequestCmd::Submit {
            source,
            package,
            target,
            message,
        } => {
            let r: Value = conn.json(Method::POST, "/api/v1/requests", Some(&json!({"source_project": source, "package": package, "target_project": target, "message": message}))).await?;
            show(g, &r, print_request);
            return Ok(ExitCode::SUCCESS);
        }
        RequestCmd::List { project, state } => {
            let mut q = Vec::new();
            if let Some(p) = project {
                q.push(format!("project={p}"));
            }
            if let Some(st) = state {
                q.push(format!("state={st}"));
            }
            let r: Value = conn
                .json(
                    Method::GET,
                    &format!("/api/v1/requests?{}", q.join("&")),
                    None::<&()>,
                )
                .await?;
            show(g, &r, |r| {
                for x in r.as_array().into_iter().flatten() {
                    println!(
                        "{:>4} {:<10} {} {} → {} by {}",
                        x["id"],
                        s(x, "state"),
                        s(x, "source_project"),
                        s(x, "package"),
                        s(x, "target_project"),
                        s(x, "creator")
                    );
                }
            });
            return Ok(ExitCode::SUCCESS);
        }
        RequestCmd::Show { id } => {
            let r: Value = conn
                .json(Method::GET, &format!("/api/v1/requests/{id}"), None::<&()>)
                .await?;
            show(g, &r, print_request);
            return Ok(ExitCode::SUCCESS);
        }
        RequestCmd::Accept { id, message } => act(id, "accept", json!({"message": message})),
        RequestCmd::Decline { id, message } => act(id, "decline", json!({"message": message})),
        RequestCmd::Revoke { id, message } => act(id, "revoke", json!({"message": message})),
        RequestCmd::Review {
            id,
            accept,
            decline: _,
            message,
        } => act(id, "review", json!({"accept": accept, "message": message})),
    };
    let r: Value = conn.json(Method::POST, &path, Some(&body)).await?;
    show(g, &r, print_request);
    Ok(ExitCode::SUCCESS)
}
