//! `cryo store ...`: put, cat, import, export, verify, gc, stats, roots.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use clap::Subcommand;
use cryo_store::api::{GcReport, PutResponse, Removed, RootInfo, StoreStats, VerifyReport};
use cryo_store::B3Digest;
use futures_util::TryStreamExt;
use http_body_util::BodyExt;
use hyper::Method;
use tokio::sync::mpsc;
use tokio_util::io::{StreamReader, SyncIoBridge};

use crate::autostart::connect;
use crate::cli::Global;
use crate::conn::{empty, read_json, stream_body, Conn};
use crate::output;

#[derive(Subcommand, Debug)]
pub enum StoreCmd {
    /// Store a file (or `-` for stdin) and print its BLAKE3 digest. A GC root
    /// `put/<digest>` keeps it unless --root names another root or is empty.
    Put {
        file: PathBuf,
        /// GC root to create for the object ("" for none).
        #[arg(long)]
        root: Option<String>,
    },
    /// Write an object's content to stdout, verified against its digest.
    Cat { digest: String },
    /// Store a directory as a tree and print the tree digest.
    Import {
        dir: PathBuf,
        /// GC root to create for the tree ("" for none; default `put/<digest>`).
        #[arg(long)]
        root: Option<String>,
    },
    /// Write a tree to DIR (which must not exist or be empty).
    Export { tree: String, dir: PathBuf },
    /// Re-hash every object and check every tree; exit 1 and name each bad digest.
    Verify,
    /// Delete every object not reachable from a root.
    Gc,
    /// Object counts and sizes.
    Stats,
    /// List the named GC roots.
    Roots,
    /// Create or move a named GC root.
    RootAdd { name: String, digest: String },
    /// Remove a named GC root.
    RootRm { name: String },
}

fn digest_arg(s: &str) -> Result<B3Digest> {
    s.parse::<B3Digest>().map_err(|e| anyhow::anyhow!("{e}"))
}

fn root_query(root: &Option<String>) -> String {
    match root {
        Some(r) => format!("?root={}", urlencode(r)),
        None => String::new(),
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Feed a blocking reader into a request body from a background thread.
fn reader_body(mut r: Box<dyn Read + Send>) -> crate::conn::Body {
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(8);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx
                        .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                        .is_err()
                    {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    stream_body(rx)
}

async fn print_put(g: &Global, r: PutResponse) {
    if g.json {
        output::json(&r);
    } else {
        println!("{}", r.digest);
    }
}

pub async fn run(g: &Global, cmd: StoreCmd) -> Result<ExitCode> {
    // Validate arguments before contacting (or starting) a daemon.
    match &cmd {
        StoreCmd::Cat { digest } | StoreCmd::Export { tree: digest, .. } => {
            digest_arg(digest)?;
        }
        StoreCmd::RootAdd { digest, .. } => {
            digest_arg(digest)?;
        }
        _ => {}
    }
    let conn = connect(g).await?;
    match cmd {
        StoreCmd::Put { file, root } => put(g, &conn, &file, &root).await?,
        StoreCmd::Cat { digest } => cat(&conn, &digest).await?,
        StoreCmd::Import { dir, root } => import(g, &conn, &dir, &root).await?,
        StoreCmd::Export { tree, dir } => export(g, &conn, &tree, &dir).await?,
        StoreCmd::Verify => return verify(g, &conn).await,
        StoreCmd::Gc => gc(g, &conn).await?,
        StoreCmd::Stats => stats(g, &conn).await?,
        StoreCmd::Roots => roots(g, &conn).await?,
        StoreCmd::RootAdd { name, digest } => root_add(g, &conn, name, &digest).await?,
        StoreCmd::RootRm { name } => root_rm(g, &conn, &name).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `cryo store put FILE|-`.
async fn put(g: &Global, conn: &Conn, file: &Path, root: &Option<String>) -> Result<()> {
    let reader: Box<dyn Read + Send> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?)
    };
    let path = format!("/api/v1/store/blobs{}", root_query(root));
    let resp = conn
        .checked(Method::POST, &path, reader_body(reader))
        .await?;
    print_put(g, read_json(resp).await?).await;
    Ok(())
}

/// `cryo store import DIR`: the directory as a tar stream, stored as a tree.
async fn import(g: &Global, conn: &Conn, dir: &Path, root: &Option<String>) -> Result<()> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let (r, w) = std::io::pipe().context("creating a pipe")?;
    let d = dir.to_path_buf();
    std::thread::spawn(move || {
        let mut b = tar::Builder::new(w);
        b.follow_symlinks(false);
        let res = b.append_dir_all(".", &d).and_then(|_| b.finish());
        if let Err(e) = res {
            eprintln!("cryo: reading {}: {e}", d.display());
        }
    });
    let path = format!("/api/v1/store/trees{}", root_query(root));
    let resp = conn
        .checked(Method::POST, &path, reader_body(Box::new(r)))
        .await?;
    print_put(g, read_json(resp).await?).await;
    Ok(())
}

/// `cryo store export TREE DIR`.
async fn export(g: &Global, conn: &Conn, tree: &str, dir: &Path) -> Result<()> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!("{} exists and is not empty", dir.display());
    }
    let resp = conn
        .checked(Method::GET, &format!("/api/v1/store/trees/{tree}"), empty())
        .await?;
    let stream = resp
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other);
    let reader = SyncIoBridge::new(StreamReader::new(stream));
    let d = dir.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<()> {
        std::fs::create_dir_all(&d)?;
        let mut ar = tar::Archive::new(reader);
        ar.set_preserve_permissions(true);
        ar.unpack(&d)
            .with_context(|| format!("unpacking into {}", d.display()))
    })
    .await??;
    if g.json {
        output::json(&serde_json::json!({"tree": tree, "dir": dir}));
    } else {
        println!("exported {tree} to {}", dir.display());
    }
    Ok(())
}

/// `cryo store verify`: exit 1 when an object is bad.
async fn verify(g: &Global, conn: &Conn) -> Result<ExitCode> {
    let r: VerifyReport = conn
        .json(Method::POST, "/api/v1/store/verify", None::<&()>)
        .await?;
    if g.json {
        output::json(&r);
    } else {
        for b in &r.bad {
            println!("BAD {}: {}", b.digest, b.problem);
        }
        println!(
            "{} objects checked ({}), {} bad",
            r.checked,
            output::bytes(r.bytes),
            r.bad.len()
        );
    }
    Ok(if r.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `cryo store gc`.
async fn gc(g: &Global, conn: &Conn) -> Result<()> {
    let r: GcReport = conn
        .json(Method::POST, "/api/v1/store/gc", None::<&()>)
        .await?;
    if g.json {
        output::json(&r);
    } else {
        println!(
            "{} live objects kept, {} deleted ({} freed), {} stray files removed",
            r.live,
            r.deleted,
            output::bytes(r.freed_bytes),
            r.stray_removed
        );
        println!(
            "{} build roots evicted ({} freed){}",
            r.roots_removed,
            output::bytes(r.roots_bytes_freed),
            if r.roots_in_use > 0 {
                format!(", {} over the limit kept in use", r.roots_in_use)
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// `cryo store stats`.
async fn stats(g: &Global, conn: &Conn) -> Result<()> {
    let s: StoreStats = conn
        .json(Method::GET, "/api/v1/store/stats", None::<&()>)
        .await?;
    if g.json {
        output::json(&s);
    } else {
        output::rows(&[
            ("objects", s.objects.to_string()),
            ("  blobs", s.blobs.to_string()),
            ("  trees", s.trees.to_string()),
            ("  derivations", s.derivations.to_string()),
            ("  records", s.records.to_string()),
            ("content size", output::bytes(s.bytes)),
            ("size on disk", output::bytes(s.stored_bytes)),
            ("roots", s.roots.to_string()),
            ("realisations", s.realisations.to_string()),
        ]);
    }
    Ok(())
}

/// `cryo store roots`.
async fn roots(g: &Global, conn: &Conn) -> Result<()> {
    let roots: Vec<RootInfo> = conn
        .json(Method::GET, "/api/v1/store/roots", None::<&()>)
        .await?;
    if g.json {
        output::json(&roots);
    } else {
        for r in roots {
            println!("{}  {}", r.digest, r.name);
        }
    }
    Ok(())
}

/// `cryo store root-add NAME DIGEST`.
async fn root_add(g: &Global, conn: &Conn, name: String, digest: &str) -> Result<()> {
    let r = RootInfo {
        name,
        digest: digest_arg(digest)?,
    };
    let r: RootInfo = conn
        .json(Method::POST, "/api/v1/store/roots", Some(&r))
        .await?;
    if g.json {
        output::json(&r);
    } else {
        println!("root {} -> {}", r.name, r.digest);
    }
    Ok(())
}

/// `cryo store root-rm NAME`.
async fn root_rm(g: &Global, conn: &Conn, name: &str) -> Result<()> {
    let r: Removed = conn
        .json(
            Method::DELETE,
            &format!("/api/v1/store/roots/{name}"),
            None::<&()>,
        )
        .await?;
    if g.json {
        output::json_answer(&r);
    } else {
        println!("removed root {name}");
    }
    Ok(())
}

async fn cat(conn: &Conn, digest: &str) -> Result<()> {
    conn.download(digest, &mut std::io::stdout().lock()).await
}
