//! Substitution: before building a derivation, ask the configured substituters for a
//! signed realisation. It is accepted only with a valid signature by a trusted key, and
//! every blob is re-hashed on arrival; any failure falls back to the next substituter and
//! finally to building. Misses are remembered for a short while (negative cache).

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cryo_store::realisation::Realisation;
use cryo_store::{B3Digest, ObjectKind};

use super::keys::TrustedKey;
use super::signed::{SignedExt, SignedRealisation};
use cryo_store::Store;

/// How long a miss is remembered.
const NEGATIVE_TTL: Duration = Duration::from_secs(60);
/// Largest signed realisation accepted.
const MAX_REALISATION: u64 = 1 << 20;
/// Largest blob accepted from a substituter (compressed and uncompressed).
const MAX_BLOB: u64 = 4 << 30;

/// One configured substituter.
#[derive(Debug, Clone)]
pub struct Substituter {
    pub url: String,
    pub trusted: Vec<TrustedKey>,
}

/// The substituters of this daemon and their negative cache.
#[derive(Default)]
pub struct Substituters {
    pub list: Vec<Substituter>,
    negative: Mutex<HashMap<B3Digest, Instant>>,
}

impl Substituters {
    pub fn new(list: Vec<Substituter>) -> Self {
        Self {
            list,
            negative: Mutex::default(),
        }
    }

    fn recently_missed(&self, d: &B3Digest) -> bool {
        let mut n = self.negative.lock().expect("negative cache");
        n.retain(|_, t| t.elapsed() < NEGATIVE_TTL);
        n.contains_key(d)
    }

    fn miss(&self, d: B3Digest) {
        self.negative
            .lock()
            .expect("negative cache")
            .insert(d, Instant::now());
    }
}

/// Why one substituter could not provide a realisation or a blob (logged; the next
/// substituter is tried).
#[derive(Debug, thiserror::Error)]
pub enum SubstituteError {
    #[error("{url}: {source}")]
    Http {
        url: String,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: {source}")]
    Read {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{url}: not valid zstd: {source}")]
    Zstd {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{url}: malformed realisation: {source}")]
    Malformed {
        url: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{url}: answered for derivation {got}")]
    WrongDrv { url: String, got: B3Digest },
    #[error(
        "{url}: content hashes to {got} ({got_size} bytes), expected {want} ({size} bytes); \
         refused"
    )]
    Mismatch {
        url: String,
        got: B3Digest,
        got_size: u64,
        want: B3Digest,
        size: u64,
    },
    #[error(transparent)]
    Store(#[from] cryo_store::StoreError),
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(600)))
        .timeout_connect(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into()
}

fn fetch_realisation(
    agent: &ureq::Agent,
    s: &Substituter,
    id: &B3Digest,
) -> Result<Option<SignedRealisation>, SubstituteError> {
    let url = format!("{}/cache/drv/{id}", s.url.trim_end_matches('/'));
    let resp = agent.get(&url).call().map_err(|e| SubstituteError::Http {
        url: url.clone(),
        source: Box::new(e),
    })?;
    match resp.status().as_u16() {
        200 => {}
        404 => return Ok(None),
        status => return Err(SubstituteError::Status { url, status }),
    }
    let mut body = Vec::new();
    resp.into_body()
        .into_reader()
        .take(MAX_REALISATION)
        .read_to_end(&mut body)
        .map_err(|source| SubstituteError::Read {
            url: url.clone(),
            source,
        })?;
    let r: SignedRealisation = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(source) => return Err(SubstituteError::Malformed { url, source }),
    };
    if r.drv != *id {
        return Err(SubstituteError::WrongDrv { url, got: r.drv });
    }
    Ok(Some(r))
}

fn fetch_blob(
    store: &Store,
    agent: &ureq::Agent,
    s: &Substituter,
    d: &B3Digest,
    size: u64,
) -> Result<(), SubstituteError> {
    let url = format!("{}/cache/blob/{d}", s.url.trim_end_matches('/'));
    let resp = agent.get(&url).call().map_err(|e| SubstituteError::Http {
        url: url.clone(),
        source: Box::new(e),
    })?;
    if resp.status().as_u16() != 200 {
        return Err(SubstituteError::Status {
            url,
            status: resp.status().as_u16(),
        });
    }
    let zstd = resp
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        == Some("zstd");
    let mut raw = Vec::new();
    resp.into_body()
        .into_reader()
        .take(MAX_BLOB)
        .read_to_end(&mut raw)
        .map_err(|source| SubstituteError::Read {
            url: url.clone(),
            source,
        })?;
    let content = if zstd {
        let mut out = Vec::new();
        zstd::stream::read::Decoder::new(&raw[..])
            .map_err(|source| SubstituteError::Read {
                url: url.clone(),
                source,
            })?
            .take(size.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|source| SubstituteError::Zstd {
                url: url.clone(),
                source,
            })?;
        out
    } else {
        raw
    };
    // Re-hash on arrival: nothing that does not match its name enters the store.
    let got = B3Digest::of(&content);
    if got != *d || content.len() as u64 != size {
        return Err(SubstituteError::Mismatch {
            url,
            got,
            got_size: content.len() as u64,
            want: *d,
            size,
        });
    }
    store.put_bytes(&content, ObjectKind::Blob, &[], None)?;
    Ok(())
}

/// A realisation of `id` from a substituter, with every output now in `store`.
pub fn substitute(
    store: &Store,
    subs: &Substituters,
    id: &B3Digest,
) -> Option<(Realisation, String)> {
    if subs.list.is_empty() || subs.recently_missed(id) {
        return None;
    }
    let agent = agent();
    for s in &subs.list {
        let signed = match fetch_realisation(&agent, s, id) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(substituter = %s.url, %id, "substituter failed: {e}");
                continue;
            }
        };
        let Some(key) = signed.trusted_by(&s.trusted) else {
            tracing::warn!(substituter = %s.url, %id, signatures = ?signed.signatures, "realisation refused: no valid signature by a trusted key");
            continue;
        };
        let mut ok = true;
        for o in signed.outputs.values() {
            if store.contains(&o.digest).unwrap_or(false) {
                continue;
            }
            if let Err(e) = fetch_blob(store, &agent, s, &o.digest, o.size) {
                tracing::warn!(substituter = %s.url, %id, "blob refused: {e}");
                ok = false;
                break;
            }
        }
        if !ok {
            continue;
        }
        let r = signed.realisation();
        match store.set_realisation(&r) {
            Ok(()) => {
                tracing::info!(substituter = %s.url, %id, key, "substituted");
                return Some((r, s.url.clone()));
            }
            Err(e) => tracing::warn!(%id, "recording the substituted realisation failed: {e}"),
        }
    }
    subs.miss(*id);
    None
}
