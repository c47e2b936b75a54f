//! `cryo campaign update NAME --snapshot S2`: every verified source is re-derived against
//! S2. A derivation id names its snapshot, so it differs in S2 for every source; what
//! decides is the **build key** (the derivation without its `snapshot` field: builder,
//! arch, prjconf, source files, closure, environment). Same build key and the same
//! official binaries → the row is carried over with its old report; otherwise the source
//! is verified again in S2. Sources without a verdict (not in the mirror, unresolvable)
//! are tried again.

use std::collections::BTreeSet;

use cryo_store::api::{CampaignSources, CampaignState, SourceSpec};

use super::tables::{row_key, CampaignRecord, Previous, RowState, SourceRow};
use super::{record, rows, runner, show, CampaignError, Campaigns, UpdateOutcome};
use super::{CAMPAIGNS, ROWS};
use crate::drv::request::ResolveRequestBody;
use crate::mirror::snapshot::{self, SnapshotInfo};
use crate::table;

/// What to do with one row.
enum Plan {
    Carry(SourceRow),
    Reverify(SourceRow),
}

pub(super) fn update(
    c: &Campaigns,
    name: &str,
    snapshot: &str,
) -> Result<UpdateOutcome, CampaignError> {
    let rec = record(c, name)?;
    if rec.state == CampaignState::Running {
        return Err(CampaignError::Conflict(format!(
            "campaign {name:?} is still running ({} sources pending): wait for it or pause it first",
            rec.pending
        )));
    }
    let s2 = snapshot::get(&c.store, snapshot)?;
    if s2.id == rec.snapshot {
        return Err(CampaignError::Invalid(format!(
            "campaign {name:?} is already on snapshot {}",
            s2.id
        )));
    }
    let epoch = rec.epoch + 1;
    let old = rows(c, name)?;
    let mut plans: Vec<Plan> = old
        .into_iter()
        .map(|r| plan(c, &rec, &s2, r, epoch))
        .collect::<Result<_, _>>()?;
    if rec.selection == "all" {
        // Sources S2 adds.
        let have: BTreeSet<String> = plans
            .iter()
            .map(|p| match p {
                Plan::Carry(r) | Plan::Reverify(r) => r.request.clone(),
            })
            .collect();
        for (r, _) in super::requests(c, &s2, &CampaignSources::All)? {
            if !have.contains(&r) {
                plans.push(Plan::Reverify(SourceRow::pending(name, &r, epoch)));
            }
        }
    }
    let reverify: Vec<String> = plans
        .iter()
        .filter_map(|p| match p {
            Plan::Reverify(r) => Some(r.source.clone()),
            Plan::Carry(_) => None,
        })
        .collect();
    let carried = (plans.len() - reverify.len()) as u64;
    let now = c.clock.now();
    table::write(
        c.db(),
        CAMPAIGNS.name(),
        |tx| -> Result<(), CampaignError> {
            let mut camps = CAMPAIGNS.open(tx)?;
            let Some(mut cur) = camps.get(name)? else {
                return Err(CampaignError::NotFound(format!(
                    "campaign {name:?} was deleted"
                )));
            };
            if cur.epoch != rec.epoch || cur.state == CampaignState::Running {
                return Err(CampaignError::Conflict(format!(
                    "campaign {name:?} changed during the update: try again"
                )));
            }
            let mut rows = ROWS.open(tx)?;
            for p in &plans {
                let (Plan::Carry(r) | Plan::Reverify(r)) = p;
                rows.put(row_key(name, &r.request).as_str(), r)?;
            }
            cur.snapshot = s2.id;
            cur.epoch = epoch;
            cur.pending = reverify.len() as u64;
            cur.pass = "update".into();
            cur.carried = carried;
            cur.state = CampaignState::Running;
            cur.updated = now;
            camps.put(name, &cur)?;
            Ok(())
        },
    )?;
    tracing::info!(campaign = %name, reverify = reverify.len(), carried, "campaign update");
    if reverify.is_empty() {
        runner::finish_now(c, name)?;
    }
    runner::wake(c);
    Ok(UpdateOutcome {
        campaign: show(c, name)?,
        from: rec.snapshot,
        to: s2.id,
        reverify,
        carried,
    })
}

/// Carry `row` over to S2 or schedule it again.
fn plan(
    c: &Campaigns,
    rec: &CampaignRecord,
    s2: &SnapshotInfo,
    mut row: SourceRow,
    epoch: u64,
) -> Result<Plan, CampaignError> {
    row.epoch = epoch;
    if row.state == RowState::Done && row.build_key.is_some() && unchanged(c, rec, s2, &row)? {
        row.previous = None;
        return Ok(Plan::Carry(row));
    }
    row.previous = (row.state == RowState::Done).then(|| Previous {
        version: row.version.clone(),
        class: row.class,
        binaries: row.binaries.clone(),
    });
    row.state = RowState::Pending;
    Ok(Plan::Reverify(row))
}

/// Whether S2 builds the same thing (same build key) and has the same official
/// binaries as the verdicts were reached against.
fn unchanged(
    c: &Campaigns,
    rec: &CampaignRecord,
    s2: &SnapshotInfo,
    row: &SourceRow,
) -> Result<bool, CampaignError> {
    let req = ResolveRequestBody {
        snapshot: s2.id.to_hex(),
        prjconf: rec.prjconf.clone(),
        source: SourceSpec::Snapshot {
            request: row.request.clone(),
        },
        arch: Some(rec.arch.clone()),
        build: None,
    };
    // A row with a `.buildinfo` is built in the environment the file pins, whatever S2
    // resolves; only its official binaries can change.
    if row.buildinfo.is_none() {
        let resolved = match crate::drv::request::resolve(&c.verifier.deriver, &req) {
            Ok(r) => r,
            Err(_) => return Ok(false),
        };
        if Some(runner::build_key(c, &resolved.derivation)?) != row.build_key {
            return Ok(false);
        }
    }
    for b in row.binaries.iter().filter(|b| !b.binary.is_empty()) {
        let now = crate::verify::official_sha256(&c.verifier, s2, &b.binary, &b.version, &b.arch)?;
        if now != b.official_sha256 {
            return Ok(false);
        }
    }
    Ok(true)
}
