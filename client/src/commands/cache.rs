//! `cryo cache keygen|keys`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use cryo_store::api::{KeyInfo, KeygenRequest};
use hyper::Method;

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
            let k: KeyInfo = conn
                .json(
                    Method::POST,
                    "/api/v1/cache/keys",
                    Some(&KeygenRequest { name }),
                )
                .await?;
            if g.json {
                output::json_answer(&k);
            } else {
                println!("{}", k.public_key);
            }
        }
        CacheCmd::Keys => {
            let ks: Vec<KeyInfo> = conn
                .json(Method::GET, "/api/v1/cache/keys", None::<&()>)
                .await?;
            if g.json {
                output::json_answer(&ks);
            } else {
                for k in ks {
                    println!("{}", k.public_key);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
