//! `cryo cache keygen|keys`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use hyper::Method;
use serde_json::{json, Value};

use crate::autostart::connect;
use crate::cli::Global;
use crate::output;

#[derive(Subcommand, Debug)]
pub enum CacheCmd {
    /// Generate an ed25519 signing key for this daemon's binary cache; prints the public
    /// key (`NAME:BASE64`) that substituters list as trusted. The secret stays in the
    /// daemon's state directory (mode 0600).
    Keygen { name: String },
    /// List this daemon's cache keys (public halves).
    Keys,
}

pub async fn run(g: &Global, cmd: CacheCmd) -> Result<ExitCode> {
    let conn = connect(g).await?;
    match cmd {
        CacheCmd::Keygen { name } => {
            let k: Value = conn
                .json(
                    Method::POST,
                    "/api/v1/cache/keys",
                    Some(&json!({"name": name})),
                )
                .await?;
            if g.json {
                output::json(&k);
            } else {
                println!("{}", k["public_key"].as_str().unwrap_or(""));
            }
        }
        CacheCmd::Keys => {
            let ks: Vec<Value> = conn
                .json(Method::GET, "/api/v1/cache/keys", None::<&()>)
                .await?;
            if g.json {
                output::json(&ks);
            } else {
                for k in ks {
                    println!("{}", k["public_key"].as_str().unwrap_or(""));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
