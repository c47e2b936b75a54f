//! Campaigns (`docs/campaigns.md`): a persistent, resumable set of verifications — one
//! `cryo verify` per source, run by the daemon's workers, one row per source × binary.
//!
//! - `tables.rs`: `campaigns` and `campaign_rows`; a pending row is the queue entry.
//! - `runner.rs`: the workers (at most `workers` sources at once, the builder's slots
//!   bound the builds), resuming pending rows after a restart.
//! - `update.rs`: `campaign update --snapshot S2` (re-derive, carry over or re-verify).
//! - `summary.rs`: counts, percentages per class/suite/arch, history, rebuilderd export.

mod runner;
mod summary;
pub mod tables;
mod update;

use std::collections::BTreeSet;
use std::sync::{Arc, Condvar, Mutex};

use cryo_store::api::{
    Campaign, CampaignBuildinfo, CampaignCreate, CampaignResults, CampaignSources, CampaignState,
    IndexKind, RebuilderdExport,
};
use cryo_store::{B3Digest, Store};

use crate::clock::Clock;
use crate::drv::DrvError;
use crate::mirror::query::Request;
use crate::mirror::{snapshot, MirrorError};
use crate::table::{self, TableError};
use crate::verify::{Verifier, VerifyError};

pub use cryo_store::api::{CampaignUpdate, UpdateOutcome};
use tables::{row_key, rows_prefix, CampaignRecord, RowState, SourceRow, CAMPAIGNS, ROWS};

/// Why a campaign operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error(transparent)]
    Drv(#[from] DrvError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Store(#[from] cryo_store::StoreError),
}

/// The campaign service: tables plus the runner's shared state.
pub struct Campaigns {
    pub store: Arc<Store>,
    pub clock: Clock,
    pub verifier: Arc<Verifier>,
    /// Sources verified at once (the daemon's workers; the builder's slots bound builds).
    pub workers: usize,
    queue: Mutex<runner::Queue>,
    wake: Condvar,
}

impl Campaigns {
    pub fn new(store: Arc<Store>, clock: Clock, verifier: Arc<Verifier>, workers: usize) -> Self {
        Campaigns {
            store,
            clock,
            verifier,
            workers: workers.max(1),
            queue: Mutex::new(runner::Queue::default()),
            wake: Condvar::new(),
        }
    }

    fn db(&self) -> &redb::Database {
        self.store.index().database()
    }
}

/// A campaign name: `[a-z0-9][a-z0-9.+_:-]*`, at most 100 characters.
fn check_name(name: &str) -> Result<(), CampaignError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".+_:-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CampaignError::Invalid(format!(
            "invalid campaign name {name:?}: use lowercase letters, digits and . + _ : - (start with a letter or digit)"
        )))
    }
}

/// The campaign record, or a clear 404.
fn record(c: &Campaigns, name: &str) -> Result<CampaignRecord, CampaignError> {
    CAMPAIGNS.get(c.db(), name)?.ok_or_else(|| {
        CampaignError::NotFound(format!("no campaign {name:?} (see `cryo campaign list`)"))
    })
}

fn rows(c: &Campaigns, name: &str) -> Result<Vec<SourceRow>, CampaignError> {
    Ok(ROWS.scan(c.db(), &rows_prefix(name))?)
}

/// One row to create: its request and the `.buildinfo` it carries, if any.
pub(super) type NewRow = (String, Option<CampaignBuildinfo>);

/// The requests `sources` stands for, checked and deduplicated (order kept).
pub(super) fn requests(
    c: &Campaigns,
    snap: &snapshot::SnapshotInfo,
    sources: &CampaignSources,
) -> Result<Vec<NewRow>, CampaignError> {
    match sources {
        CampaignSources::List {
            sources,
            buildinfos,
        } => {
            let mut seen = BTreeSet::new();
            let mut out = Vec::new();
            for s in sources {
                let r: Request = s.parse()?;
                if !r.source {
                    return Err(CampaignError::Invalid(format!(
                        "{s:?}: a campaign takes upstream sources as src:NAME[=VERSION]"
                    )));
                }
                if seen.insert(s.clone()) {
                    out.push((s.clone(), None));
                }
            }
            for b in buildinfos {
                let bi = crate::explain::buildinfo::parse(&b.name, &b.text)
                    .map_err(|e| CampaignError::Invalid(e.to_string()))?;
                let r = format!("src:{}={}", bi.source, bi.source_version);
                if !seen.insert(r.clone()) {
                    return Err(CampaignError::Invalid(format!(
                        "{}: {r} is named twice in this campaign",
                        b.name
                    )));
                }
                out.push((r, Some(b.clone())));
            }
            if out.is_empty() {
                return Err(CampaignError::Invalid(
                    "name at least one src:NAME[=VERSION] or .buildinfo (--from-file) or use --all"
                        .into(),
                ));
            }
            Ok(out)
        }
        CampaignSources::All => {
            let mut names = BTreeSet::new();
            for a in &snap.record.archives {
                for i in a.indices.iter().filter(|i| i.kind == IndexKind::Sources) {
                    names.extend(snapshot::names(&c.store, &i.blake3)?);
                }
            }
            if names.is_empty() {
                return Err(CampaignError::Invalid(format!(
                    "snapshot {} has no Sources index: sync its mirrors with source indices",
                    snap.id
                )));
            }
            Ok(names
                .into_iter()
                .map(|n| (format!("src:{n}"), None))
                .collect())
        }
    }
}

/// `cryo campaign create`: the campaign and one pending row per source, in one
/// transaction; the runner starts on them at once.
pub fn create(c: &Campaigns, req: CampaignCreate) -> Result<Campaign, CampaignError> {
    check_name(&req.name)?;
    let snap = snapshot::get(&c.store, &req.snapshot)?;
    let arch = req
        .arch
        .clone()
        .unwrap_or_else(|| c.verifier.deriver.host_arch.clone());
    let session = c.store.session();
    crate::drv::derive::parse_prjconf(
        &c.verifier.deriver,
        &req.prjconf.name,
        &req.prjconf.text,
        &arch,
        &session,
    )?;
    let reqs = requests(c, &snap, &req.sources)?;
    let now = c.clock.now();
    let rec = CampaignRecord {
        name: req.name.clone(),
        snapshot: snap.id,
        prjconf_digest: B3Digest::of(req.prjconf.text.as_bytes()),
        prjconf: req.prjconf,
        arch,
        state: CampaignState::Running,
        selection: match req.sources {
            CampaignSources::All => "all".into(),
            CampaignSources::List { .. } => "list".into(),
        },
        created: now,
        updated: now,
        epoch: 1,
        pending: reqs.len() as u64,
        pass: "create".into(),
        carried: 0,
        history: Vec::new(),
    };
    table::write(
        c.db(),
        CAMPAIGNS.name(),
        |tx| -> Result<(), CampaignError> {
            let mut camps = CAMPAIGNS.open(tx)?;
            if camps.get(rec.name.as_str())?.is_some() {
                return Err(CampaignError::Conflict(format!(
                    "campaign {:?} exists (cryo campaign update|delete)",
                    rec.name
                )));
            }
            camps.put(rec.name.as_str(), &rec)?;
            let mut rows = ROWS.open(tx)?;
            for (r, bi) in &reqs {
                let mut row = SourceRow::pending(&rec.name, r, 1);
                row.buildinfo = bi.clone();
                rows.put(row_key(&rec.name, r).as_str(), &row)?;
            }
            Ok(())
        },
    )?;
    tracing::info!(campaign = %rec.name, sources = reqs.len(), "campaign created");
    runner::wake(c);
    show(c, &rec.name)
}

/// Every campaign, by name.
pub fn list(c: &Campaigns) -> Result<Vec<Campaign>, CampaignError> {
    CAMPAIGNS
        .all(c.db())?
        .into_iter()
        .map(|r| {
            let rows = rows(c, &r.name)?;
            Ok(summary::campaign(&r, &rows))
        })
        .collect()
}

/// One campaign with its counts.
pub fn show(c: &Campaigns, name: &str) -> Result<Campaign, CampaignError> {
    let r = record(c, name)?;
    Ok(summary::campaign(&r, &rows(c, name)?))
}

/// Every row of a campaign (source × binary).
pub fn results(c: &Campaigns, name: &str) -> Result<CampaignResults, CampaignError> {
    let r = record(c, name)?;
    let rows = rows(c, name)?;
    Ok(CampaignResults {
        campaign: summary::campaign(&r, &rows),
        rows: rows.iter().flat_map(|s| summary::api_rows(&r, s)).collect(),
    })
}

/// The rebuilderd-style export.
pub fn export(c: &Campaigns, name: &str) -> Result<RebuilderdExport, CampaignError> {
    let r = record(c, name)?;
    Ok(summary::rebuilderd(&r, &rows(c, name)?))
}

/// Set the state of a campaign that is not done.
fn set_state(c: &Campaigns, name: &str, to: CampaignState) -> Result<Campaign, CampaignError> {
    let now = c.clock.now();
    CAMPAIGNS.update(c.db(), name, |r| -> Result<CampaignRecord, CampaignError> {
        let mut r = r.ok_or_else(|| {
            CampaignError::NotFound(format!("no campaign {name:?} (see `cryo campaign list`)"))
        })?;
        if r.state == CampaignState::Done {
            return Err(CampaignError::Conflict(format!(
                "campaign {name:?} is done: nothing to {}",
                if to == CampaignState::Paused {
                    "pause"
                } else {
                    "resume"
                }
            )));
        }
        r.state = to;
        r.updated = now;
        Ok(r)
    })?;
    runner::wake(c);
    show(c, name)
}

/// Stop starting sources of `name` (those running finish and are recorded).
pub fn pause(c: &Campaigns, name: &str) -> Result<Campaign, CampaignError> {
    set_state(c, name, CampaignState::Paused)
}

/// Start the pending sources of a paused campaign again.
pub fn resume(c: &Campaigns, name: &str) -> Result<Campaign, CampaignError> {
    set_state(c, name, CampaignState::Running)
}

/// Delete a campaign and its rows (its reports stay, like `cryo verify`'s).
pub fn delete(c: &Campaigns, name: &str) -> Result<Campaign, CampaignError> {
    let before = show(c, name)?;
    table::write(
        c.db(),
        CAMPAIGNS.name(),
        |tx| -> Result<(), CampaignError> {
            CAMPAIGNS.open(tx)?.remove(name)?;
            let mut rows = ROWS.open(tx)?;
            for k in rows.keys_with_prefix(&rows_prefix(name))? {
                rows.remove(k.as_str())?;
            }
            Ok(())
        },
    )?;
    runner::wake(c);
    Ok(before)
}

/// `cryo campaign update NAME --snapshot S2`.
pub fn update(
    c: &Campaigns,
    name: &str,
    req: CampaignUpdate,
) -> Result<UpdateOutcome, CampaignError> {
    update::update(c, name, &req.snapshot)
}

/// Start the workers (pending rows of running campaigns resume).
pub fn start(c: &Arc<Campaigns>, shutdown: tokio_util::sync::CancellationToken) {
    runner::start(c, shutdown);
}

impl RowState {
    fn is_pending(&self) -> bool {
        *self == RowState::Pending
    }
}
