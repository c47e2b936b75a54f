//! The campaign workers: `workers` threads take pending rows of running campaigns, verify
//! each source with the verifier (one stored report per source; the build is the cached
//! derivation when it was built before) and record the verdict in one transaction with
//! the campaign's pending count. Nothing but the tables holds the queue, so a daemon
//! killed at any moment restarts with its pending rows and runs them again.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use cryo_compare::report::SourceReport;
use cryo_store::api::{CampaignState, RowClass};
use cryo_store::derivation::Derivation;
use cryo_store::B3Digest;

use super::tables::{row_key, rows_prefix, BinaryVerdict, CampaignRecord, RowState, SourceRow};
use super::{summary, CampaignError, Campaigns, CAMPAIGNS, ROWS};
use crate::mirror::query::{self, Request};
use crate::mirror::snapshot::{self, SnapshotInfo};
use crate::mirror::{dod, MirrorError};
use crate::table;

/// The workers' shared state: claimed jobs are in `in_flight` until recorded.
#[derive(Default)]
pub(crate) struct Queue {
    jobs: VecDeque<Job>,
    in_flight: BTreeSet<String>,
    /// The tables changed: rebuild `jobs` from them before the next claim.
    dirty: bool,
    stop: bool,
}

#[derive(Clone, Debug)]
struct Job {
    campaign: String,
    request: String,
    epoch: u64,
}

impl Job {
    fn key(&self) -> String {
        row_key(&self.campaign, &self.request)
    }
}

/// The tables changed (create, pause, resume, update, delete): re-read them.
pub(super) fn wake(c: &Campaigns) {
    let mut q = c.queue.lock().expect("campaign queue");
    q.dirty = true;
    q.jobs.clear();
    c.wake.notify_all();
}

/// Start `workers` threads and stop them at shutdown.
pub(super) fn start(c: &Arc<Campaigns>, shutdown: tokio_util::sync::CancellationToken) {
    c.queue.lock().expect("campaign queue").dirty = true;
    for i in 0..c.workers {
        let c = c.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("campaign-{i}"))
            .spawn(move || worker(&c));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "starting a campaign worker");
        }
    }
    let c = c.clone();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        c.queue.lock().expect("campaign queue").stop = true;
        c.wake.notify_all();
    });
}

fn worker(c: &Campaigns) {
    while let Some(job) = claim(c) {
        // An internal error (store, tables) leaves the row pending until the next change
        // of the tables or restart; a verification failure is a verdict, not an error.
        let recorded = match run(c, &job) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(campaign = %job.campaign, source = %job.request, error = %e, "campaign source failed; it stays pending");
                true
            }
        };
        let mut q = c.queue.lock().expect("campaign queue");
        q.in_flight.remove(&job.key());
        // A job that was not recorded (its campaign was paused, updated or deleted
        // meanwhile) may hide a row of the new epoch that was skipped while in flight.
        if !recorded {
            q.dirty = true;
        }
        drop(q);
        c.wake.notify_all();
    }
}

/// The next job (`None` at shutdown).
fn claim(c: &Campaigns) -> Option<Job> {
    let mut q = c.queue.lock().expect("campaign queue");
    loop {
        if q.stop {
            return None;
        }
        if q.dirty {
            q.dirty = false;
            match refill(c, &q.in_flight) {
                Ok(jobs) => q.jobs = jobs,
                Err(e) => tracing::error!(error = %e, "reading the campaign queue"),
            }
        }
        while let Some(j) = q.jobs.pop_front() {
            if q.in_flight.insert(j.key()) {
                return Some(j);
            }
        }
        q = c
            .wake
            .wait_timeout(q, Duration::from_secs(60))
            .expect("campaign queue")
            .0;
    }
}

/// Pending rows of running campaigns, in campaign and key order; running campaigns
/// with nothing pending are finished.
fn refill(c: &Campaigns, in_flight: &BTreeSet<String>) -> Result<VecDeque<Job>, CampaignError> {
    let mut jobs = VecDeque::new();
    for rec in CAMPAIGNS.all(c.db())? {
        if rec.state != CampaignState::Running {
            continue;
        }
        let mut any = false;
        for r in ROWS.scan(c.db(), &rows_prefix(&rec.name))? {
            if r.state.is_pending() && r.epoch == rec.epoch {
                any = true;
                let j = Job {
                    campaign: rec.name.clone(),
                    request: r.request.clone(),
                    epoch: rec.epoch,
                };
                if !in_flight.contains(&j.key()) {
                    jobs.push_back(j);
                }
            }
        }
        if !any {
            finish_now(c, &rec.name)?;
        }
    }
    Ok(jobs)
}

/// Mark a running campaign with no pending row done (one transaction).
pub(super) fn finish_now(c: &Campaigns, name: &str) -> Result<(), CampaignError> {
    let now = c.clock.now();
    table::write(
        c.db(),
        CAMPAIGNS.name(),
        |tx| -> Result<(), CampaignError> {
            let mut camps = CAMPAIGNS.open(tx)?;
            let Some(mut rec) = camps.get(name)? else {
                return Ok(());
            };
            let rows = ROWS.open(tx)?.scan(&rows_prefix(name))?;
            if rec.state != CampaignState::Running
                || rows
                    .iter()
                    .any(|r| r.state.is_pending() && r.epoch == rec.epoch)
            {
                return Ok(());
            }
            finish(&mut rec, &rows, now);
            camps.put(name, &rec)?;
            Ok(())
        },
    )
}

/// The pass is over: a history line, state done.
fn finish(rec: &mut CampaignRecord, rows: &[SourceRow], now: i64) {
    rec.pending = 0;
    rec.state = CampaignState::Done;
    rec.updated = now;
    rec.history.push(summary::history_line(rec, rows, now));
    tracing::info!(campaign = %rec.name, "campaign pass done");
}

/// Verify one source and record it; whether it was recorded.
fn run(c: &Campaigns, job: &Job) -> Result<bool, CampaignError> {
    let Some(rec) = CAMPAIGNS.get(c.db(), job.campaign.as_str())? else {
        return Ok(false);
    };
    let key = job.key();
    let Some(row) = ROWS.get(c.db(), key.as_str())? else {
        return Ok(false);
    };
    if rec.state != CampaignState::Running
        || rec.epoch != job.epoch
        || !row.state.is_pending()
        || row.epoch != job.epoch
    {
        return Ok(false);
    }
    let snap = snapshot::get(&c.store, &rec.snapshot.to_hex())?;
    let done = verify_row(c, &rec, &snap, row)?;
    record(c, job, done)
}

/// Write a finished row and count it off, in one transaction (dropped when the
/// campaign was deleted or updated meanwhile); whether it was written.
fn record(c: &Campaigns, job: &Job, done: SourceRow) -> Result<bool, CampaignError> {
    let now = c.clock.now();
    table::write(
        c.db(),
        CAMPAIGNS.name(),
        |tx| -> Result<bool, CampaignError> {
            let mut camps = CAMPAIGNS.open(tx)?;
            let Some(mut rec) = camps.get(job.campaign.as_str())? else {
                return Ok(false);
            };
            let mut rows = ROWS.open(tx)?;
            let key = job.key();
            let current = rows.get(key.as_str())?;
            if rec.epoch != job.epoch
                || !current.is_some_and(|r| r.state.is_pending() && r.epoch == job.epoch)
            {
                return Ok(false);
            }
            rows.put(key.as_str(), &done)?;
            rec.pending = rec.pending.saturating_sub(1);
            rec.updated = now;
            if rec.pending == 0 && rec.state == CampaignState::Running {
                let all = rows.scan(&rows_prefix(&rec.name))?;
                if !all
                    .iter()
                    .any(|r| r.state.is_pending() && r.epoch == rec.epoch)
                {
                    finish(&mut rec, &all, now);
                }
            }
            camps.put(job.campaign.as_str(), &rec)?;
            Ok(true)
        },
    )
}

/// The suite of the archive `mirror` in `snap`.
pub(super) fn suite_of(snap: &SnapshotInfo, mirror: &str) -> String {
    snap.record
        .archives
        .iter()
        .find(|a| a.mirror == mirror)
        .map(|a| a.suite.clone())
        .unwrap_or_default()
}

/// Whether the mirror holds the source's files (fetching them into the store, as the
/// build would): `Err(why)` when the snapshot or the pool lacks them; `Ok(suite)`.
fn probe(
    c: &Campaigns,
    snap: &SnapshotInfo,
    rec: &CampaignRecord,
    request: &str,
) -> Result<String, String> {
    let req: Request = match request.parse() {
        Ok(r) => r,
        Err(e) => return Err(e.to_string()),
    };
    let files = match query::files_for(&c.store, snap, &req, &rec.arch) {
        Ok(f) => f,
        Err(MirrorError::NotFound(m)) => return Err(m),
        // Anything else is left to the verification, which reports it.
        Err(_) => return Ok(String::new()),
    };
    let suite = files
        .first()
        .map(|f| suite_of(snap, &f.archive))
        .unwrap_or_default();
    let session = c.store.session();
    for f in &files {
        if let Err(MirrorError::NotFound(m)) = dod::ensure(&c.store, snap, f, &session) {
            return Err(m);
        }
    }
    Ok(suite)
}

/// Verify one pending row; the finished row.
fn verify_row(
    c: &Campaigns,
    rec: &CampaignRecord,
    snap: &SnapshotInfo,
    mut row: SourceRow,
) -> Result<SourceRow, CampaignError> {
    row.state = RowState::Done;
    row.time = Some(c.clock.now());
    row.verified_on = Some(snap.id);
    match probe(c, snap, rec, &row.request) {
        Err(why) => {
            row.class = RowClass::NotInMirror;
            row.binaries.clear();
            row.note = Some(why);
            row.report = None;
            row.derivation = None;
            row.build_key = None;
            return Ok(row);
        }
        Ok(suite) => row.suite = suite,
    }
    let v = match row.buildinfo.clone() {
        None => {
            crate::verify::verify_one(&c.verifier, snap, &rec.prjconf, &row.request, &rec.arch)?
        }
        Some(bi) => match verify_buildinfo_row(c, rec, snap, &bi)? {
            Ok(v) => v,
            Err(why) => {
                row.class = RowClass::BuildFailed;
                row.binaries.clear();
                row.note = Some(format!("cannot rebuild {}: {why}", bi.name));
                row.report = None;
                row.derivation = None;
                row.build_key = None;
                return Ok(row);
            }
        },
    };
    fill(&mut row, &v.source);
    row.report = Some(v.outcome.report);
    row.derivation = v.derivation;
    row.build_key = match v.derivation {
        Some(d) => Some(build_key(c, &d)?),
        None => None,
    };
    row.time = Some(c.clock.now());
    Ok(row)
}

/// A row that carries a `.buildinfo`: rebuilt with exactly the installed versions, build
/// path and environment it records (`cryo verify --buildinfo`), then compared with the
/// campaign snapshot's official binaries like any row, and its report stored. `Ok(Err)`
/// when the `.buildinfo` cannot be rebuilt (e.g. a version no snapshot has).
fn verify_buildinfo_row(
    c: &Campaigns,
    rec: &CampaignRecord,
    snap: &SnapshotInfo,
    bi: &cryo_store::api::CampaignBuildinfo,
) -> Result<Result<crate::verify::SourceVerification, String>, CampaignError> {
    let req = cryo_store::api::BuildinfoRequest {
        name: bi.name.clone(),
        text: bi.text.clone(),
        prjconf: rec.prjconf.clone(),
        snapshot: Some(snap.id.to_hex()),
    };
    let out = match crate::explain::buildinfo::verify_buildinfo(&c.verifier, &req, &|_| {}) {
        Ok(o) => o,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let source = crate::verify::derivation_report(
        &c.verifier,
        snap,
        &out.source,
        &out.version,
        &out.architecture,
        &out.derivation,
    );
    let outcome = crate::verify::store_report(
        &c.verifier,
        cryo_compare::report::Report::new(vec![source.clone()]),
        snap.id.to_hex(),
        vec![format!("buildinfo {}", bi.name)],
        Some((&rec.prjconf, &rec.arch)),
    )?;
    Ok(Ok(crate::verify::SourceVerification {
        outcome,
        source,
        derivation: Some(out.derivation),
    }))
}

/// Copy a source report's verdicts into the row.
fn fill(row: &mut SourceRow, s: &SourceReport) {
    if !s.source.is_empty() && !s.source.starts_with("src:") {
        row.source = s.source.clone();
    }
    row.version = s.version.clone();
    row.binaries = s
        .binaries
        .iter()
        .map(|b| BinaryVerdict {
            binary: if b.id.package.starts_with("src:") {
                String::new()
            } else {
                b.id.package.clone()
            },
            version: b.id.version.clone(),
            arch: b.id.architecture.clone(),
            class: crate::verify::api_kind(b.classification.kind).into(),
            official_sha256: b.official_sha256.clone(),
        })
        .collect();
    row.class = summary::worst(row.binaries.iter().map(|b| b.class));
    row.note = s
        .binaries
        .iter()
        .find(|b| {
            !matches!(
                b.classification.kind,
                cryo_compare::ClassKind::Identical
                    | cryo_compare::ClassKind::SignatureOnly
                    | cryo_compare::ClassKind::BuildMetadataOnly
                    | cryo_compare::ClassKind::MetadataOnly
                    | cryo_compare::ClassKind::ControlOnly
                    | cryo_compare::ClassKind::BuildIdOnly
                    | cryo_compare::ClassKind::Content
            )
        })
        .map(|b| b.classification.explanation.clone());
}

/// What a build consumes, without the snapshot it was resolved in: the BLAKE3 of the
/// derivation's canonical encoding with `snapshot` cleared (`docs/campaigns.md`).
pub(super) fn build_key(c: &Campaigns, drv: &B3Digest) -> Result<B3Digest, CampaignError> {
    let bytes = c.store.read(drv)?;
    let mut d = Derivation::decode(&bytes)
        .map_err(|e| CampaignError::Invalid(format!("derivation {drv}: {e}")))?;
    d.snapshot = B3Digest::of(b"");
    Ok(B3Digest::of(&d.encode()))
}
