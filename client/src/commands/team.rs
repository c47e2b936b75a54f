//! Teams and the release flow: `cryo user|group|token|role|audit|request …`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use cryo_store::api::{
    AuditEntry, Comparison, CreatedToken, Group, NewGroup, NewMember, NewToken, NewUser,
    ProjectShow, Request, RequestAction, RequestShow, RoleGrant, RoleRequest, SubmitRequest,
    TokenInfo, User,
};
use hyper::Method;
use serde::Serialize;

use crate::autostart::connect;
use crate::cli::Global;
use crate::conn::Conn;
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

/// Print a daemon answer: JSON with `--json`, else `text`.
fn show<T: Serialize>(g: &Global, v: &T, text: impl FnOnce(&T)) {
    if g.json {
        output::json_answer(v);
    } else {
        text(v);
    }
}

/// A user's uids as `user list` has always shown them: the `Debug` form of the JSON
/// numbers they used to be read as (`[Number(1000)]`).
fn uids_text(uids: &[u32]) -> String {
    let items: Vec<String> = uids.iter().map(|u| format!("Number({u})")).collect();
    format!("[{}]", items.join(", "))
}

pub async fn run_user(g: &Global, cmd: UserCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    match cmd {
        UserCmd::Add { name, admin, uids } => {
            let r: User = conn
                .json(
                    Method::POST,
                    "/api/v1/users",
                    Some(&NewUser { name, admin, uids }),
                )
                .await?;
            show(g, &r, |r| {
                println!("user {}{}", r.name, if r.admin { " (admin)" } else { "" })
            });
        }
        UserCmd::List => {
            let r: Vec<User> = conn.json(Method::GET, "/api/v1/users", None::<&()>).await?;
            show(g, &r, |r| {
                for u in r {
                    println!(
                        "{:<20} {}{}",
                        u.name.as_str(),
                        if u.admin { "admin " } else { "" },
                        uids_text(&u.uids)
                    );
                }
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_groups(groups: &[Group]) {
    for grp in groups {
        let members: Vec<&str> = grp.members.iter().map(|m| m.as_str()).collect();
        println!("@{:<20} {}", grp.name.as_str(), members.join(" "));
    }
}

pub async fn run_group(g: &Global, cmd: GroupCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let one: Group = match cmd {
        GroupCmd::Add { name } => {
            conn.json(Method::POST, "/api/v1/groups", Some(&NewGroup { name }))
                .await?
        }
        GroupCmd::Member(MemberCmd::Add { group, user }) => {
            conn.json(
                Method::POST,
                &format!("/api/v1/groups/{group}/members"),
                Some(&NewMember { user }),
            )
            .await?
        }
        GroupCmd::List => {
            let all: Vec<Group> = conn
                .json(Method::GET, "/api/v1/groups", None::<&()>)
                .await?;
            show(g, &all, |all| print_groups(all));
            return Ok(ExitCode::SUCCESS);
        }
    };
    show(g, &one, |one| print_groups(std::slice::from_ref(one)));
    Ok(ExitCode::SUCCESS)
}

pub async fn run_token(g: &Global, cmd: TokenCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    match cmd {
        TokenCmd::Create { user, expires } => {
            let body = NewToken {
                user,
                expires_days: expires,
            };
            let r: CreatedToken = conn
                .json(Method::POST, "/api/v1/tokens", Some(&body))
                .await?;
            show(g, &r, |r| {
                let parent = r
                    .parent
                    .as_ref()
                    .map(|p| format!(", created with token {p}"))
                    .unwrap_or_default();
                eprintln!(
                    "token {} for {}{parent} (shown once; keep it secret)",
                    r.id, r.user
                );
                println!("{}", r.token);
            });
        }
        TokenCmd::Revoke { id } => {
            let r: TokenInfo = conn
                .json(Method::DELETE, &format!("/api/v1/tokens/{id}"), None::<&()>)
                .await?;
            show(g, &r, |r| println!("revoked token {} of {}", r.id, r.user));
        }
        TokenCmd::List => {
            let r: Vec<TokenInfo> = conn
                .json(Method::GET, "/api/v1/tokens", None::<&()>)
                .await?;
            show(g, &r, |r| r.iter().for_each(print_token));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_token(t: &TokenInfo) {
    let state = if t.revoked.is_some() {
        "revoked".to_string()
    } else if let Some(e) = t.expires {
        format!("expires {}", output::date(e))
    } else {
        "no expiry".to_string()
    };
    let parent = t
        .parent
        .as_ref()
        .map(|p| format!(" (created with {p})"))
        .unwrap_or_default();
    println!(
        "{} {:<16} created {} {state}{parent}",
        t.id,
        t.user,
        output::date(t.created)
    );
}

pub async fn run_role(g: &Global, cmd: RoleCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let r: Vec<RoleGrant> = match cmd {
        RoleCmd::Add {
            project,
            subject,
            role,
        } => {
            conn.json(
                Method::POST,
                &format!("/api/v1/projects/{project}/roles"),
                Some(&RoleRequest { subject, role }),
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
                Some(&RoleRequest { subject, role }),
            )
            .await?
        }
        RoleCmd::List { project } => {
            let p: ProjectShow = conn
                .json(
                    Method::GET,
                    &format!("/api/v1/projects/{project}"),
                    None::<&()>,
                )
                .await?;
            p.project.roles
        }
    };
    show(g, &r, |r| {
        for grant in r {
            println!("{:<20} {}", grant.subject.as_str(), grant.role.as_str());
        }
    });
    Ok(ExitCode::SUCCESS)
}

pub async fn run_audit(g: &Global, project: Option<String>) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let q = project.map(|p| format!("?project={p}")).unwrap_or_default();
    let r: Vec<AuditEntry> = conn
        .json(Method::GET, &format!("/api/v1/audit{q}"), None::<&()>)
        .await?;
    show(g, &r, |r| {
        for e in r {
            // `seq` was never padded (a JSON value's Display ignores the width).
            println!(
                "{} {} {:<12} {:<28} {}",
                e.seq,
                output::date(e.time),
                e.user,
                e.action,
                e.project.as_deref().unwrap_or("")
            );
        }
    });
    Ok(ExitCode::SUCCESS)
}

fn print_request(r: &Request, comparison: &[Comparison]) {
    println!(
        "request {}: {} {} → {} ({})",
        r.id,
        r.source_project,
        r.package,
        r.target_project,
        r.state.as_str()
    );
    println!(
        "  revision r{} {} {} by {}",
        r.revision.rev, r.revision.source, r.revision.version, r.creator
    );
    if !r.message.is_empty() {
        println!("  message  {}", r.message);
    }
    for v in &r.reviews {
        println!(
            "  review   {} {}{}",
            v.reviewer,
            v.state.as_str(),
            v.by.as_ref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default()
        );
    }
    for h in &r.history {
        println!(
            "  {} {} {}{}",
            output::date(h.time),
            h.who,
            h.what,
            if h.message.is_empty() {
                String::new()
            } else {
                format!(": {}", h.message)
            }
        );
    }
    for c in comparison {
        println!(
            "  {}/{}: {} — {}",
            c.repository,
            c.arch,
            c.verdict.as_str(),
            c.explanation
        );
        if let Some(rep) = c.report {
            let rep = rep.to_string();
            println!(
                "    report {rep} (cryo report show {})",
                &rep[..12.min(rep.len())]
            );
        }
    }
}

pub async fn run_request(g: &Global, cmd: RequestCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    let act = |id: u64, action: &str, body: RequestAction| {
        (format!("/api/v1/requests/{id}/{action}"), body)
    };
    let (path, body) = match cmd {
        RequestCmd::Submit {
            source,
            package,
            target,
            message,
        } => {
            let body = SubmitRequest {
                source_project: source,
                package,
                target_project: target,
                message,
            };
            let r: Request = conn
                .json(Method::POST, "/api/v1/requests", Some(&body))
                .await?;
            show(g, &r, |r| print_request(r, &[]));
            return Ok(ExitCode::SUCCESS);
        }
        RequestCmd::List { project, state } => {
            return list_requests(g, &conn, project, state).await;
        }
        RequestCmd::Show { id } => {
            let r: RequestShow = conn
                .json(Method::GET, &format!("/api/v1/requests/{id}"), None::<&()>)
                .await?;
            show(g, &r, |r| print_request(&r.request, &r.comparison));
            return Ok(ExitCode::SUCCESS);
        }
        RequestCmd::Accept { id, message } => act(id, "accept", message_only(message)),
        RequestCmd::Decline { id, message } => act(id, "decline", message_only(message)),
        RequestCmd::Revoke { id, message } => act(id, "revoke", message_only(message)),
        RequestCmd::Review {
            id,
            accept,
            decline: _,
            message,
        } => act(
            id,
            "review",
            RequestAction {
                message,
                accept: Some(accept),
            },
        ),
    };
    let r: Request = conn.json(Method::POST, &path, Some(&body)).await?;
    show(g, &r, |r| print_request(r, &[]));
    Ok(ExitCode::SUCCESS)
}

fn message_only(message: String) -> RequestAction {
    RequestAction {
        message,
        accept: None,
    }
}

/// `cryo request list [--project P] [--status S]`.
async fn list_requests(
    g: &Global,
    conn: &Conn,
    project: Option<String>,
    state: Option<String>,
) -> Result<ExitCode> {
    let mut q = Vec::new();
    if let Some(p) = project {
        q.push(format!("project={p}"));
    }
    if let Some(st) = state {
        q.push(format!("state={st}"));
    }
    let r: Vec<Request> = conn
        .json(
            Method::GET,
            &format!("/api/v1/requests?{}", q.join("&")),
            None::<&()>,
        )
        .await?;
    show(g, &r, |r| {
        for x in r {
            // `id` was never padded (a JSON value's Display ignores the width).
            println!(
                "{} {:<10} {} {} → {} by {}",
                x.id,
                x.state.as_str(),
                x.source_project,
                x.package,
                x.target_project,
                x.creator
            );
        }
    });
    Ok(ExitCode::SUCCESS)
}
