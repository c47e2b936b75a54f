//! `cryo campaign create|list|show|results|pause|resume|delete|update|export`
//! (`docs/campaigns.md`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use cryo_store::api::{
    Campaign, CampaignBuildinfo, CampaignCreate, CampaignResults, CampaignSources, CampaignState,
    CampaignUpdate, HistoryLine, RebuilderdExport, UpdateOutcome,
};
use hyper::Method;

use super::resolve::prjconf_text;
use super::verify::parse_source_list;

/// A campaign list: `src:` lines (as `cryo verify --from-file` reads them) and lines naming
/// `.buildinfo` files, read here, relative to the list's directory.
fn read_campaign_list(f: &std::path::Path) -> Result<(Vec<String>, Vec<CampaignBuildinfo>)> {
    let text = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
    let dir = f.parent().unwrap_or(std::path::Path::new("."));
    let mut rest = String::new();
    let mut buildinfos = Vec::new();
    for line in text.lines() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.ends_with(".buildinfo") {
            let path = dir.join(entry);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("{}: reading {}", f.display(), path.display()))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| entry.to_string());
            buildinfos.push(CampaignBuildinfo { name, text });
            rest.push('\n');
        } else {
            rest.push_str(line);
            rest.push('\n');
        }
    }
    // Blank lines keep the numbers of the remaining lines in messages.
    Ok((parse_source_list(f, &rest)?, buildinfos))
}
use crate::autostart::connect;
use crate::cli::Global;
use crate::conn::Conn;
use crate::output;

#[derive(Subcommand, Debug)]
pub enum CampaignCmd {
    /// Create a campaign: verify every named source (or every source of the snapshot)
    /// on the daemon's workers, persistently (a restarted daemon resumes it).
    Create {
        name: String,
        /// Snapshot id (or unique prefix).
        #[arg(long)]
        snapshot: String,
        /// Project config (OBS prjconf syntax) that recreates the distribution's build env.
        #[arg(long, value_name = "FILE")]
        prjconf: PathBuf,
        /// `src:NAME[=VERSION]` lines (`#` comments allowed); a line naming a `.buildinfo`
        /// file (relative to the list's directory) adds a row rebuilt in the environment it
        /// records, as `cryo verify --buildinfo` does.
        #[arg(
            long,
            value_name = "LIST",
            conflicts_with = "all",
            required_unless_present = "all"
        )]
        from_file: Option<PathBuf>,
        /// Every source package of the snapshot's Sources indices (those the mirror's
        /// pool lacks become `not-in-mirror` rows).
        #[arg(long)]
        all: bool,
        /// Architecture (Debian name; default: the daemon's).
        #[arg(long)]
        arch: Option<String>,
        /// Wait until every source has a verdict (or the campaign is paused).
        #[arg(long)]
        wait: bool,
    },
    /// Every campaign with its state and counts.
    List,
    /// A campaign: state, counts and percentages per class, per suite and arch, and one
    /// history line per pass (the creation, then each update).
    Show {
        name: String,
        /// Wait until the campaign is no longer running first.
        #[arg(long)]
        wait: bool,
    },
    /// One row per source × binary: class, report id, time, derivation.
    Results { name: String },
    /// Start no more sources (those building finish and are recorded).
    Pause { name: String },
    /// Start the pending sources again.
    Resume {
        name: String,
        #[arg(long)]
        wait: bool,
    },
    /// Delete the campaign and its rows (its reports stay).
    Delete { name: String },
    /// Move to another snapshot: re-verify only the sources whose build changed, carry
    /// over the others with their reports, and list the rows that changed class.
    Update {
        name: String,
        #[arg(long)]
        snapshot: String,
        /// Wait for the re-verification and list what changed class.
        #[arg(long)]
        wait: bool,
    },
    /// The results as JSON that rebuilderd-style dashboards read (GOOD/BAD/FAIL/UNKWN).
    Export {
        name: String,
        /// Write to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

fn path(name: &str, tail: &str) -> String {
    format!("/api/v1/campaigns/{name}{tail}")
}

async fn get_campaign(conn: &Conn, name: &str) -> Result<Campaign> {
    conn.json(Method::GET, &path(name, ""), None::<&()>).await
}

/// Poll until the campaign is not running. A large campaign's summary costs the daemon a
/// scan of its rows, so the pause between polls grows with the time one poll takes.
async fn wait_for(conn: &Conn, name: &str) -> Result<Campaign> {
    loop {
        let t = std::time::Instant::now();
        let c = get_campaign(conn, name).await?;
        if c.state != CampaignState::Running {
            return Ok(c);
        }
        let pause = (t.elapsed() * 10).clamp(Duration::from_millis(500), Duration::from_secs(15));
        tokio::time::sleep(pause).await;
    }
}

pub async fn run(g: &Global, cmd: CampaignCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    match cmd {
        CampaignCmd::Create {
            name,
            snapshot,
            prjconf,
            from_file,
            all,
            arch,
            wait,
        } => {
            let sources = match (all, from_file) {
                (true, _) => CampaignSources::All,
                (false, Some(f)) => {
                    let (sources, buildinfos) = read_campaign_list(&f)?;
                    CampaignSources::List {
                        sources,
                        buildinfos,
                    }
                }
                (false, None) => bail!("give --from-file LIST or --all"),
            };
            let body = CampaignCreate {
                name: name.clone(),
                snapshot,
                prjconf: prjconf_text(&prjconf)?,
                sources,
                arch,
            };
            let mut c: Campaign = conn
                .json(Method::POST, "/api/v1/campaigns", Some(&body))
                .await?;
            if wait {
                c = wait_for(&conn, &name).await?;
            }
            print_campaign(g, &c);
        }
        CampaignCmd::List => {
            let l: Vec<Campaign> = conn
                .json(Method::GET, "/api/v1/campaigns", None::<&()>)
                .await?;
            if g.json {
                output::json(&l);
            } else {
                for c in l {
                    println!(
                        "{:<24} {:<8} {}  {} sources, {} pending  {}",
                        c.name,
                        state(c.state),
                        short(&c.snapshot.to_hex()),
                        c.counts.sources,
                        c.counts.pending,
                        classes(&c.counts.by_class)
                    );
                }
            }
        }
        CampaignCmd::Show { name, wait } => {
            let c = if wait {
                wait_for(&conn, &name).await?
            } else {
                get_campaign(&conn, &name).await?
            };
            print_campaign(g, &c);
        }
        CampaignCmd::Results { name } => {
            let r: CampaignResults = conn
                .json(Method::GET, &path(&name, "/results"), None::<&()>)
                .await?;
            print_results(g, &r);
        }
        CampaignCmd::Pause { name } => {
            let c: Campaign = conn
                .json(Method::POST, &path(&name, "/pause"), None::<&()>)
                .await?;
            print_campaign(g, &c);
        }
        CampaignCmd::Resume { name, wait } => {
            let mut c: Campaign = conn
                .json(Method::POST, &path(&name, "/resume"), None::<&()>)
                .await?;
            if wait {
                c = wait_for(&conn, &name).await?;
            }
            print_campaign(g, &c);
        }
        CampaignCmd::Delete { name } => {
            let c: Campaign = conn
                .json(Method::DELETE, &path(&name, ""), None::<&()>)
                .await?;
            if g.json {
                output::json(&c);
            } else {
                println!("deleted campaign {} ({} sources)", c.name, c.counts.sources);
            }
        }
        CampaignCmd::Update {
            name,
            snapshot,
            wait,
        } => {
            let body = CampaignUpdate { snapshot };
            let mut u: UpdateOutcome = conn
                .json(Method::POST, &path(&name, "/update"), Some(&body))
                .await?;
            if wait {
                u.campaign = wait_for(&conn, &name).await?;
            }
            print_update(g, &u, wait);
        }
        CampaignCmd::Export { name, out } => {
            let e: RebuilderdExport = conn
                .json(Method::GET, &path(&name, "/export"), None::<&()>)
                .await?;
            let text = serde_json::to_string_pretty(&e)? + "\n";
            match out {
                Some(p) => {
                    std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?
                }
                None => print!("{text}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn state(s: CampaignState) -> &'static str {
    match s {
        CampaignState::Running => "running",
        CampaignState::Paused => "paused",
        CampaignState::Done => "done",
    }
}

fn short(hex: &str) -> &str {
    &hex[..12.min(hex.len())]
}

fn classes(by: &std::collections::BTreeMap<cryo_store::api::RowClass, u64>) -> String {
    by.iter()
        .map(|(k, n)| format!("{} {n}", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn percents(p: &std::collections::BTreeMap<cryo_store::api::RowClass, f64>) -> String {
    p.iter()
        .map(|(k, v)| format!("{} {v:.1}%", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn history(h: &HistoryLine) -> String {
    format!(
        "{}  {:<6} {}  verified {}, carried {}  {}",
        output::date(h.time),
        h.event,
        short(&h.snapshot.to_hex()),
        h.verified,
        h.carried,
        percents(&h.percent)
    )
}

fn change(c: &cryo_store::api::ClassChange) -> String {
    format!(
        "{} {} {} → {}  {} → {}",
        c.source,
        if c.binary.is_empty() { "-" } else { &c.binary },
        c.old_version,
        c.new_version,
        c.old.as_str(),
        c.new.as_str()
    )
}

fn print_campaign(g: &Global, c: &Campaign) {
    if g.json {
        output::json(c);
        return;
    }
    output::rows(&[
        ("campaign", c.name.clone()),
        ("state", state(c.state).to_string()),
        ("snapshot", c.snapshot.to_hex()),
        (
            "prjconf",
            format!("{} ({})", c.prjconf, short(&c.prjconf_digest.to_hex())),
        ),
        ("arch", c.arch.clone()),
        (
            "sources",
            format!(
                "{} ({} pending, {} rows)",
                c.counts.sources, c.counts.pending, c.counts.rows
            ),
        ),
        ("classes", classes(&c.counts.by_class)),
    ]);
    println!();
    println!(
        "{:<24} {:<8} {:>6}  percent of verdicts",
        "suite", "arch", "rows"
    );
    for s in &c.per_suite {
        let suite = if s.suite.is_empty() {
            "(not resolved)"
        } else {
            &s.suite
        };
        println!(
            "{suite:<24} {:<8} {:>6}  {}",
            s.arch,
            s.counts.rows,
            percents(&s.percent)
        );
    }
    if !c.history.is_empty() {
        println!();
        println!("history:");
        for h in &c.history {
            println!("  {}", history(h));
            for ch in &h.changed {
                println!("    changed: {}", change(ch));
            }
        }
    }
}

fn print_results(g: &Global, r: &CampaignResults) {
    if g.json {
        output::json(r);
        return;
    }
    println!(
        "{:<20} {:<28} {:<24} {:<8} {:<16} {:<12} {:<12} {:<16}",
        "source", "version", "binary", "arch", "class", "report", "derivation", "time"
    );
    for row in &r.rows {
        println!(
            "{:<20} {:<28} {:<24} {:<8} {:<16} {:<12} {:<12} {:<16}",
            row.source,
            row.version,
            if row.binary.is_empty() {
                "-"
            } else {
                &row.binary
            },
            row.arch,
            row.class.as_str(),
            row.report
                .map(|d| short(&d.to_hex()).to_string())
                .unwrap_or_else(|| "-".into()),
            row.derivation
                .map(|d| short(&d.to_hex()).to_string())
                .unwrap_or_else(|| "-".into()),
            row.time.map(output::date).unwrap_or_else(|| "-".into()),
        );
        if let Some(n) = &row.note {
            println!("    {}", n.lines().next().unwrap_or(""));
        }
    }
}

fn print_update(g: &Global, u: &UpdateOutcome, waited: bool) {
    if g.json {
        output::json(u);
        return;
    }
    println!(
        "campaign {}: {} → {}",
        u.campaign.name,
        short(&u.from.to_hex()),
        short(&u.to.to_hex())
    );
    println!(
        "re-verify {} source(s){}; carried over {}",
        u.reverify.len(),
        if u.reverify.is_empty() {
            String::new()
        } else {
            format!(" ({})", u.reverify.join(" "))
        },
        u.carried
    );
    if !waited {
        println!(
            "(the classes that change are listed by `cryo campaign show {}` when done)",
            u.campaign.name
        );
        return;
    }
    let Some(h) = u.campaign.history.last().filter(|h| h.event == "update") else {
        println!("state: {}", state(u.campaign.state));
        return;
    };
    if h.changed.is_empty() {
        println!("no row changed class");
    }
    for c in &h.changed {
        println!("changed: {}", change(c));
    }
}
