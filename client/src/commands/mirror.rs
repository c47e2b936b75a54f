//! `cryo mirror add|list|remove|sync`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use cryo_store::api::{AddMirror, MirrorConfig, Removed, SyncOutcome, SyncRequest};
use hyper::Method;

use crate::autostart::connect;
use crate::cli::Global;
use crate::conn::Conn;
use crate::output;

#[derive(Subcommand, Debug)]
pub enum MirrorCmd {
    /// Register an archive (a customer's offline mirror): its root URL, suite, components,
    /// architectures and the keyring its Release files are signed with.
    Add {
        /// Name used by `mirror sync` and in snapshots (e.g. `bookworm`).
        name: String,
        /// Archive root: file:///ABSOLUTE/PATH, http://… or https://… (contains dists/, pool/).
        url: String,
        /// Suite or codename (dists/<SUITE>/).
        #[arg(long)]
        suite: String,
        /// Component (repeatable). Default: main.
        #[arg(long = "component", value_name = "C")]
        components: Vec<String>,
        /// Architecture (repeatable). Default: the host's Debian architecture.
        #[arg(long = "arch", value_name = "A")]
        arches: Vec<String>,
        /// OpenPGP keyring (binary or armored) that signs the archive.
        #[arg(long, value_name = "FILE")]
        keyring: PathBuf,
        /// apt pin priority (default 500): a higher priority wins before versions compare.
        #[arg(long)]
        priority: Option<i32>,
        /// Do not fetch source indices.
        #[arg(long)]
        no_sources: bool,
    },
    /// List registered archives.
    List,
    /// Forget an archive (snapshots made from it stay valid).
    Remove { name: String },
    /// Fetch, verify and snapshot one or more archives; prints the snapshot id. Several
    /// archives make one snapshot (e.g. bookworm + bookworm-security); per package the
    /// archive with the highest priority, then the highest version, wins.
    Sync {
        #[arg(required = true)]
        names: Vec<String>,
        /// Accept Release files whose Valid-Until has passed (a frozen EOL mirror). The
        /// decision is recorded in the snapshot and shown by `snapshot show`.
        #[arg(long)]
        allow_expired: bool,
    },
}

pub async fn run(g: &Global, cmd: MirrorCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    match cmd {
        MirrorCmd::Add {
            name,
            url,
            suite,
            components,
            arches,
            keyring,
            priority,
            no_sources,
        } => {
            let bytes = std::fs::read(&keyring)
                .with_context(|| format!("reading keyring {}", keyring.display()))?;
            let put = conn.upload(bytes).await?;
            let req = AddMirror {
                name,
                url: normalise_url(&url)?,
                suite,
                components,
                arches,
                keyring: put.digest,
                priority,
                sources: !no_sources,
            };
            add(g, &conn, &req).await?;
        }
        MirrorCmd::List => list(g, &conn).await?,
        MirrorCmd::Remove { name } => remove(g, &conn, &name).await?,
        MirrorCmd::Sync {
            names,
            allow_expired,
        } => sync(g, &conn, names, allow_expired).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `cryo mirror add`.
async fn add(g: &Global, conn: &Conn, req: &AddMirror) -> Result<()> {
    let m: MirrorConfig = conn
        .json(Method::POST, "/api/v1/mirrors", Some(req))
        .await?;
    if g.json {
        output::json_answer(&m);
    } else {
        println!(
            "mirror {} → {} suite {} ({} / {})",
            m.name,
            m.url,
            m.suite,
            m.components.join(" "),
            m.arches.join(" ")
        );
    }
    Ok(())
}

/// `cryo mirror list`.
async fn list(g: &Global, conn: &Conn) -> Result<()> {
    let ms: Vec<MirrorConfig> = conn
        .json(Method::GET, "/api/v1/mirrors", None::<&()>)
        .await?;
    if g.json {
        output::json_answer(&ms);
    } else {
        for m in ms {
            println!(
                "{:<20} {} {} [{}] [{}] priority {}",
                m.name,
                m.url,
                m.suite,
                m.components.join(" "),
                m.arches.join(" "),
                m.priority
            );
        }
    }
    Ok(())
}

/// `cryo mirror remove NAME`.
async fn remove(g: &Global, conn: &Conn, name: &str) -> Result<()> {
    let v: Removed = conn
        .json(
            Method::DELETE,
            &format!("/api/v1/mirrors/{name}"),
            None::<&()>,
        )
        .await?;
    if g.json {
        output::json_answer(&v);
    } else {
        println!("removed mirror {name}");
    }
    Ok(())
}

/// `cryo mirror sync NAME...`.
async fn sync(g: &Global, conn: &Conn, names: Vec<String>, allow_expired: bool) -> Result<()> {
    let spinner = output::spinner(g, &format!("syncing {}", names.join(" + ")));
    let req = SyncRequest {
        mirrors: names,
        allow_expired,
    };
    let res: Result<SyncOutcome> = conn
        .json(Method::POST, "/api/v1/mirrors/sync", Some(&req))
        .await;
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let out = res?;
    if g.json {
        output::json_answer(&out);
        return Ok(());
    }
    for a in &out.archives {
        println!(
            "{} ({}): signed by {}; {} indices fetched, {} unchanged",
            a.mirror,
            a.suite,
            a.signers.join(" "),
            a.indices_fetched,
            a.indices_reused
        );
    }
    for e in &out.expired_accepted {
        println!(
            "warning: {} expired at {} (accepted with --allow-expired; recorded)",
            e.mirror,
            output::date(e.valid_until)
        );
    }
    println!(
        "snapshot {} ({}; {} binary, {} source packages)",
        out.snapshot,
        if out.new { "new" } else { "unchanged" },
        out.binary_packages,
        out.source_packages
    );
    Ok(())
}

/// Make `file://` URLs absolute so the daemon (another cwd) finds them.
fn normalise_url(url: &str) -> Result<String> {
    if let Some(p) = url.strip_prefix("file://") {
        let path = std::path::Path::new(p);
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()?.join(path)
        };
        return Ok(format!("file://{}", abs.display()));
    }
    Ok(url.to_string())
}
