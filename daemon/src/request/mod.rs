//! Submit requests (OBS's): move the exact source revision of a package from one project
//! to another after review. Table `requests`: id → JSON [`Request`].
//!
//! States: `new` (waiting for the target's maintainer), `review` (reviews open),
//! `accepted`, `declined`, `revoked`, `superseded` (a newer submit of the same package
//! from the same project to the same target replaced it). Accepting copies the source
//! revision (same files, same digests) into the target package and so triggers its
//! build; `show` then compares the target's build with the source project's: the same
//! derivation is a cache hit (bit-for-bit identical by construction), otherwise both
//! builds' `.deb`s are compared and a verification report is attached.

use std::collections::BTreeMap;

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use cryo_store::B3Digest;

use crate::auth::{forbidden, require, roles_of, tables as auth_tables, Principal, Role};
use crate::drv::source::SourceSpec;
use crate::http::ApiErr;
use crate::project::model::{JobResult, Revision};
use crate::project::{ops, tables};
use crate::state::AppState;

const REQUESTS: TableDefinition<u64, &[u8]> = TableDefinition::new("requests");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReqState {
    New,
    Review,
    Accepted,
    Declined,
    Revoked,
    Superseded,
}

impl ReqState {
    pub fn is_open(self) -> bool {
        matches!(self, ReqState::New | ReqState::Review)
    }
    pub fn parse(s: &str) -> Result<ReqState, ApiErr> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
            ApiErr::bad_request(format!(
                "unknown request state {s:?}: new, review, accepted, declined, revoked, superseded"
            ))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewState {
    New,
    Accepted,
    Declined,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// A user name or `@group` (holders of the target's `reviewer` role).
    pub reviewer: String,
    pub state: ReviewState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub time: i64,
    pub who: String,
    pub what: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    pub source_project: String,
    pub package: String,
    /// The exact revision submitted.
    pub revision: Revision,
    pub target_project: String,
    pub message: String,
    pub creator: String,
    pub created: i64,
    pub state: ReqState,
    pub reviews: Vec<Review>,
    pub history: Vec<HistoryEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<u64>,
    /// The target package's revision created by accepting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_revision: Option<u32>,
    /// Verification reports attached, by `source-derivation:target-derivation`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reports: BTreeMap<String, B3Digest>,
}

fn db(e: impl std::fmt::Display) -> ApiErr {
    ApiErr::internal(format!("requests: {e}"))
}

pub fn get(st: &AppState, id: u64) -> Result<Request, ApiErr> {
    list(st)?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiErr::not_found(format!("no request {id}")))
}

pub fn list(st: &AppState) -> Result<Vec<Request>, ApiErr> {
    let d = st.store.index().database();
    let tx = d.begin_read().map_err(db)?;
    let t = match tx.open_table(REQUESTS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(db(e)),
    };
    let mut out = Vec::new();
    for item in t.iter().map_err(db)? {
        let (_, v) = item.map_err(db)?;
        out.push(serde_json::from_slice(v.value()).map_err(db)?);
    }
    Ok(out)
}

fn put_all(st: &AppState, rs: &[&Request]) -> Result<(), ApiErr> {
    let d = st.store.index().database();
    let tx = d.begin_write().map_err(db)?;
    {
        let mut t = tx.open_table(REQUESTS).map_err(db)?;
        for r in rs {
            t.insert(
                r.id,
                serde_json::to_vec(r).expect("serializable").as_slice(),
            )
            .map_err(db)?;
        }
    }
    tx.commit().map_err(db)
}

fn next_id(st: &AppState) -> Result<u64, ApiErr> {
    Ok(list(st)?.iter().map(|r| r.id).max().unwrap_or(0) + 1)
}

/// `cryo request submit SRC PKG DST [-m MSG]`.
pub fn submit(
    st: &AppState,
    who: &Principal,
    source: &str,
    package: &str,
    target: &str,
    message: &str,
) -> Result<Request, ApiErr> {
    let me = who.authenticated()?.to_string();
    let src = ops::get(st, source)?;
    let dst = ops::get(st, target)?;
    require(st, who, &src, Role::Reader)?;
    require(st, who, &dst, Role::Reader)?;
    if src.name == dst.name {
        return Err(ApiErr::bad_request(
            "source and target project are the same",
        ));
    }
    let pkg = tables::package(st, &src.name, package)?
        .ok_or_else(|| ApiErr::not_found(format!("no package {package} in {source}")))?;
    let revision = pkg
        .latest()
        .cloned()
        .ok_or_else(|| ApiErr::bad_request(format!("{package} in {source} has no revision")))?;
    let now = st.clock.now();
    let reviews: Vec<Review> = dst
        .roles
        .iter()
        .filter(|g| g.role == Role::Reviewer)
        .map(|g| Review {
            reviewer: g.subject.clone(),
            state: ReviewState::New,
            by: None,
            message: String::new(),
        })
        .collect();
    let id = next_id(st)?;
    let mut older: Vec<Request> = list(st)?
        .into_iter()
        .filter(|r| {
            r.state.is_open()
                && r.source_project == src.name.as_str()
                && r.package == package
                && r.target_project == dst.name.as_str()
        })
        .collect();
    for o in &mut older {
        o.state = ReqState::Superseded;
        o.superseded_by = Some(id);
        o.history.push(HistoryEntry {
            time: now,
            who: me.clone(),
            what: format!("superseded by request {id}"),
            message: String::new(),
        });
    }
    let r = Request {
        id,
        source_project: src.name.to_string(),
        package: package.to_string(),
        revision,
        target_project: dst.name.to_string(),
        message: message.to_string(),
        creator: me.clone(),
        created: now,
        state: if reviews.is_empty() {
            ReqState::New
        } else {
            ReqState::Review
        },
        reviews,
        history: vec![HistoryEntry {
            time: now,
            who: me,
            what: "submitted".into(),
            message: message.to_string(),
        }],
        superseded_by: None,
        accepted_revision: None,
        reports: BTreeMap::new(),
    };
    let mut all: Vec<&Request> = older.iter().collect();
    all.push(&r);
    put_all(st, &all)?;
    let detail = format!(
        "request {id}: {} {} → {}",
        r.source_project, r.package, r.target_project
    );
    crate::auth::audit::record(
        st,
        &r.creator,
        "request submit",
        Some(&r.target_project),
        detail.clone(),
    );
    crate::auth::audit::record(
        st,
        &r.creator,
        "request submit",
        Some(&r.source_project),
        detail,
    );
    Ok(r)
}

fn open(r: &Request) -> Result<(), ApiErr> {
    if r.state.is_open() {
        Ok(())
    } else {
        Err(ApiErr {
            status: axum::http::StatusCode::CONFLICT,
            code: "conflict",
            message: format!("request {} is {:?}", r.id, r.state).to_lowercase(),
        })
    }
}

/// accept | decline | revoke.
pub fn decide(
    st: &AppState,
    who: &Principal,
    id: u64,
    action: &str,
    message: &str,
) -> Result<Request, ApiErr> {
    let mut r = get(st, id)?;
    open(&r)?;
    let me = who.authenticated()?.to_string();
    let now = st.clock.now();
    match action {
        "accept" => {
            let dst = ops::get(st, &r.target_project)?;
            require(st, who, &dst, Role::Maintainer)?;
            let pending: Vec<&str> = r
                .reviews
                .iter()
                .filter(|v| v.state != ReviewState::Accepted)
                .map(|v| v.reviewer.as_str())
                .collect();
            if !pending.is_empty() {
                return Err(ApiErr {
                    status: axum::http::StatusCode::CONFLICT,
                    code: "reviews_open",
                    message: format!("request {id} has open reviews by {}", pending.join(", ")),
                });
            }
            let spec = SourceSpec::Dsc {
                dsc: r.revision.dsc.clone(),
                files: r.revision.files.clone(),
            };
            let msg = format!(
                "request {id} from {}: {}",
                r.source_project,
                if message.is_empty() {
                    &r.message
                } else {
                    message
                }
            );
            let exists = tables::package(st, &dst.name, &r.package)?.is_some();
            let out = ops::commit(
                st,
                &r.target_project,
                Some(&r.package),
                &spec,
                &me,
                &msg,
                !exists,
            )?;
            r.accepted_revision = Some(out.revision.rev);
            r.state = ReqState::Accepted;
        }
        "decline" => {
            let dst = ops::get(st, &r.target_project)?;
            require(st, who, &dst, Role::Maintainer)?;
            r.state = ReqState::Declined;
        }
        "revoke" => {
            if r.creator != me {
                let src = ops::get(st, &r.source_project)?;
                require(st, who, &src, Role::Maintainer)?;
            }
            r.state = ReqState::Revoked;
        }
        other => return Err(ApiErr::bad_request(format!("unknown action {other:?}"))),
    }
    r.history.push(HistoryEntry {
        time: now,
        who: me.clone(),
        what: format!("{action}ed").replace("eed", "ed"),
        message: message.to_string(),
    });
    put_all(st, &[&r])?;
    let detail = format!(
        "request {id}: {} {} → {}{}",
        r.source_project,
        r.package,
        r.target_project,
        r.accepted_revision
            .map(|n| format!(" (r{n})"))
            .unwrap_or_default()
    );
    crate::auth::audit::record(
        st,
        &me,
        &format!("request {action}"),
        Some(&r.target_project),
        detail,
    );
    Ok(r)
}

/// `cryo request review ID --accept|--decline`: the caller's open review (as the named
/// reviewer or a member of the reviewing group; a target maintainer may review for any).
pub fn review(
    st: &AppState,
    who: &Principal,
    id: u64,
    accept: bool,
    message: &str,
) -> Result<Request, ApiErr> {
    let mut r = get(st, id)?;
    open(&r)?;
    let me = who.authenticated()?.to_string();
    let dst = ops::get(st, &r.target_project)?;
    let groups = auth_tables::groups_of(st, &me)?;
    let maintainer = who.is_admin() || roles_of(st, &me, &dst).contains(&Role::Maintainer);
    let idx = r
        .reviews
        .iter()
        .position(|v| {
            v.state == ReviewState::New
                && (v.reviewer == me
                    || v.reviewer
                        .strip_prefix('@')
                        .is_some_and(|g| groups.iter().any(|x| x == g)))
        })
        .or_else(|| {
            if maintainer {
                r.reviews.iter().position(|v| v.state == ReviewState::New)
            } else {
                None
            }
        })
        .ok_or_else(|| {
            forbidden(format!(
                "{me} has no open review on request {id} (needs the reviewer role on {})",
                r.target_project
            ))
        })?;
    let now = st.clock.now();
    let v = &mut r.reviews[idx];
    v.state = if accept {
        ReviewState::Accepted
    } else {
        ReviewState::Declined
    };
    v.by = Some(me.clone());
    v.message = message.to_string();
    let what = format!(
        "review {} for {}",
        if accept { "accepted" } else { "declined" },
        v.reviewer
    );
    if !accept {
        r.state = ReqState::Declined;
    } else if r.reviews.iter().all(|v| v.state == ReviewState::Accepted) {
        r.state = ReqState::New;
    }
    r.history.push(HistoryEntry {
        time: now,
        who: me.clone(),
        what: what.clone(),
        message: message.to_string(),
    });
    put_all(st, &[&r])?;
    crate::auth::audit::record(
        st,
        &me,
        "request review",
        Some(&r.target_project),
        format!("request {id}: {what}"),
    );
    Ok(r)
}

/// How the target's build of an accepted request relates to the source project's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    pub repository: String,
    pub arch: String,
    pub source_state: String,
    pub target_state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_derivation: Option<B3Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_derivation: Option<B3Digest>,
    /// `identical-derivation`, `identical-binaries`, `differs`, `pending` or `missing`.
    pub verdict: String,
    pub explanation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<B3Digest>,
}

fn outputs(r: &JobResult) -> BTreeMap<String, B3Digest> {
    r.outputs
        .iter()
        .filter(|o| o.name.ends_with(".deb"))
        .map(|o| (o.name.clone(), o.blake3))
        .collect()
}

/// The comparison rows of an accepted request (computed now; reports are stored once
/// per pair of builds and reused).
pub fn compare(st: &AppState, r: &mut Request) -> Result<Vec<Comparison>, ApiErr> {
    if r.state != ReqState::Accepted {
        return Ok(Vec::new());
    }
    let src = ops::get(st, &r.source_project)?;
    let dst = ops::get(st, &r.target_project)?;
    let src_rows = tables::results(st, &src.name)?;
    let mut out = Vec::new();
    for t in tables::results(st, &dst.name)?
        .into_iter()
        .filter(|x| x.package == r.package)
    {
        let s = src_rows
            .iter()
            .filter(|x| x.package == r.package && x.arch == t.arch)
            .find(|x| x.repository == t.repository)
            .or_else(|| {
                src_rows
                    .iter()
                    .find(|x| x.package == r.package && x.arch == t.arch)
            });
        let mut c = Comparison {
            repository: t.repository.clone(),
            arch: t.arch.clone(),
            source_state: s.map(|x| x.state.as_str()).unwrap_or("missing").to_string(),
            target_state: t.state.as_str().to_string(),
            source_derivation: s.and_then(|x| x.derivation),
            target_derivation: t.derivation,
            verdict: String::new(),
            explanation: String::new(),
            report: None,
        };
        match s {
            None => {
                c.verdict = "missing".into();
                c.explanation = format!(
                    "{} has no build of {} for {}",
                    r.source_project, r.package, t.arch
                );
            }
            Some(s) if !(s.state.is_success() && t.state.is_success()) => {
                c.verdict = "pending".into();
                c.explanation = format!("source {}, target {}", s.state.as_str(), t.state.as_str());
            }
            Some(s) if s.derivation == t.derivation => {
                c.verdict = "identical-derivation".into();
                c.explanation = "same derivation (same snapshot, prjconf, sources and closure): the target reused the validated build, bit for bit (cache hit)".into();
            }
            Some(s) => {
                let (ours, theirs) = (outputs(&t), outputs(s));
                if ours == theirs {
                    c.verdict = "identical-binaries".into();
                    c.explanation = "different derivations, bit-for-bit identical .debs".into();
                } else if let Some(rep) = r.reports.get(&pair_key(s, &t)).copied() {
                    c.verdict = "differs".into();
                    c.explanation = format!("the builds differ: see `cryo report show {rep}`");
                    c.report = Some(rep);
                } else {
                    let title = format!(
                        "request {}: {} in {} vs {}",
                        r.id, r.package, r.target_project, r.source_project
                    );
                    let snap = dst
                        .repositories
                        .iter()
                        .find(|x| x.name == t.repository)
                        .map(|x| x.snapshot.to_hex())
                        .unwrap_or_default();
                    let v = crate::verify::compare_builds(
                        st,
                        &title,
                        &r.revision.version,
                        &snap,
                        &ours,
                        &theirs,
                    )
                    .map_err(ApiErr::internal)?;
                    c.verdict = if v.exit_code == 0 {
                        "identical-binaries".into()
                    } else {
                        "differs".into()
                    };
                    c.explanation = v.summary.total.line();
                    c.report = Some(v.report);
                    if v.exit_code != 0 {
                        // Attached once; identical results are recomputed cheaply.
                        r.reports.insert(pair_key(s, &t), v.report);
                        put_all(st, &[&*r])?;
                    }
                }
            }
        }
        out.push(c);
    }
    Ok(out)
}

fn pair_key(s: &JobResult, t: &JobResult) -> String {
    let d = |x: &JobResult| x.derivation.map(|d| d.to_hex()).unwrap_or_default();
    format!("{}:{}", d(s), d(t))
}
