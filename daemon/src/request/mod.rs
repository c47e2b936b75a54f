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

use serde::{Deserialize, Serialize};

use cryo_store::B3Digest;

use crate::auth::{forbidden, require, roles_of, tables as auth_tables, Principal, Role};
use crate::drv::source::SourceSpec;
use crate::http::ApiErr;
use crate::project::model::{package_key, JobResult, Revision};
use crate::project::{ops, tables, ProjectError};
use crate::state::AppState;
use crate::table::{JsonTable, TableError};

const REQUESTS: JsonTable<u64, Request> = JsonTable::new("requests");

/// Why a request change did not happen (inside its write transaction, which is then
/// dropped: nothing of it is written).
#[derive(Debug)]
enum Failed {
    Api(ApiErr),
    Table(TableError),
    Project(ProjectError),
}

impl From<ApiErr> for Failed {
    fn from(e: ApiErr) -> Self {
        Failed::Api(e)
    }
}
impl From<TableError> for Failed {
    fn from(e: TableError) -> Self {
        Failed::Table(e)
    }
}
impl From<ProjectError> for Failed {
    fn from(e: ProjectError) -> Self {
        Failed::Project(e)
    }
}
impl From<Failed> for ApiErr {
    fn from(f: Failed) -> Self {
        match f {
            Failed::Api(e) => e,
            Failed::Table(e) => db(e),
            Failed::Project(e) => e.into(),
        }
    }
}

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

fn db(e: TableError) -> ApiErr {
    ApiErr::internal(format!("requests: {e}"))
}

pub fn get(st: &AppState, id: u64) -> Result<Request, ApiErr> {
    REQUESTS
        .get(st.store.index().database(), id)
        .map_err(db)?
        .ok_or_else(|| ApiErr::not_found(format!("no request {id}")))
}

pub fn list(st: &AppState) -> Result<Vec<Request>, ApiErr> {
    REQUESTS.all(st.store.index().database()).map_err(db)
}

/// Change request `id` in one write transaction: `f` sees the current record.
fn update(
    st: &AppState,
    id: u64,
    f: impl FnOnce(&mut Request) -> Result<(), Failed>,
) -> Result<Request, ApiErr> {
    Ok(REQUESTS.update(st.store.index().database(), id, |old| {
        let mut r = old.ok_or_else(|| ApiErr::not_found(format!("no request {id}")))?;
        f(&mut r)?;
        Ok::<_, Failed>(r)
    })?)
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
            reviewer: g.subject.to_string(),
            state: ReviewState::New,
            by: None,
            message: String::new(),
        })
        .collect();
    let src_name = src.name.to_string();
    let dst_name = dst.name.to_string();
    // The id (`max + 1`), the superseding of older open requests and the new request
    // are one write transaction: concurrent submits get distinct ids.
    let r = crate::table::write(st.store.index().database(), REQUESTS.name(), |tx| {
        let mut t = REQUESTS.open(tx)?;
        let id = t.next_id()?;
        for mut o in t.all()?.into_iter().filter(|r| {
            r.state.is_open()
                && r.source_project == src_name
                && r.package == package
                && r.target_project == dst_name
        }) {
            o.state = ReqState::Superseded;
            o.superseded_by = Some(id);
            o.history.push(HistoryEntry {
                time: now,
                who: me.clone(),
                what: format!("superseded by request {id}"),
                message: String::new(),
            });
            t.put(o.id, &o)?;
        }
        let r = Request {
            id,
            source_project: src_name.clone(),
            package: package.to_string(),
            revision,
            target_project: dst_name.clone(),
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
                who: me.clone(),
                what: "submitted".into(),
                message: message.to_string(),
            }],
            superseded_by: None,
            accepted_revision: None,
            reports: BTreeMap::new(),
        };
        t.put(id, &r)?;
        Ok::<_, TableError>(r)
    })
    .map_err(db)?;
    let id = r.id;
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

fn reviews_open(r: &Request) -> Result<(), ApiErr> {
    let pending: Vec<&str> = r
        .reviews
        .iter()
        .filter(|v| v.state != ReviewState::Accepted)
        .map(|v| v.reviewer.as_str())
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    Err(ApiErr {
        status: axum::http::StatusCode::CONFLICT,
        code: "reviews_open",
        message: format!(
            "request {} has open reviews by {}",
            r.id,
            pending.join(", ")
        ),
    })
}

/// accept | decline | revoke. The state change is one write transaction that checks the
/// request is still open; accepting also commits the revision in that transaction.
pub fn decide(
    st: &AppState,
    who: &Principal,
    id: u64,
    action: &str,
    message: &str,
) -> Result<Request, ApiErr> {
    let r = get(st, id)?;
    open(&r)?;
    let me = who.authenticated()?.to_string();
    let now = st.clock.now();
    let what = format!("{action}ed").replace("eed", "ed");
    let history = HistoryEntry {
        time: now,
        who: me.clone(),
        what,
        message: message.to_string(),
    };
    let r = match action {
        "accept" => {
            let dst = ops::get(st, &r.target_project)?;
            require(st, who, &dst, Role::Maintainer)?;
            reviews_open(&r)?;
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
            // Sources resolved and rooted first; the revision number, the package row
            // and the request's state change together below.
            let mut c = ops::prepare_commit(st, &r.target_project, Some(&r.package), &spec, false)?;
            let key = package_key(&dst.name, &r.package);
            let (r, changed) =
                crate::table::write(st.store.index().database(), REQUESTS.name(), |tx| {
                    let mut t = REQUESTS.open(tx)?;
                    let mut r = t
                        .get(id)?
                        .ok_or_else(|| ApiErr::not_found(format!("no request {id}")))?;
                    open(&r)?;
                    reviews_open(&r)?;
                    c.create = tables::PACKAGES.open(tx)?.get(key.as_str())?.is_none();
                    let out = ops::apply_commit(tx, &c, &me, &msg, now)?;
                    r.accepted_revision = Some(out.revision.rev);
                    r.state = ReqState::Accepted;
                    r.history.push(history);
                    t.put(id, &r)?;
                    Ok::<_, Failed>((r, out.changed))
                })?;
            if changed {
                st.scheduler.evaluate_now(st, &dst.name);
            }
            r
        }
        "decline" | "revoke" => {
            if action == "decline" {
                let dst = ops::get(st, &r.target_project)?;
                require(st, who, &dst, Role::Maintainer)?;
            } else if r.creator != me {
                let src = ops::get(st, &r.source_project)?;
                require(st, who, &src, Role::Maintainer)?;
            }
            update(st, id, |r| {
                open(r)?;
                r.state = if action == "decline" {
                    ReqState::Declined
                } else {
                    ReqState::Revoked
                };
                r.history.push(history);
                Ok(())
            })?
        }
        other => return Err(ApiErr::bad_request(format!("unknown action {other:?}"))),
    };
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
    let r = get(st, id)?;
    open(&r)?;
    let me = who.authenticated()?.to_string();
    let dst = ops::get(st, &r.target_project)?;
    let groups = auth_tables::groups_of(st, &me)?;
    let maintainer = who.is_admin() || roles_of(st, &me, &dst).contains(&Role::Maintainer);
    let now = st.clock.now();
    let mut what = String::new();
    // The slot is chosen and changed in one write transaction, on the current record.
    let r = update(st, id, |r| {
        open(r)?;
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
        let v = &mut r.reviews[idx];
        v.state = if accept {
            ReviewState::Accepted
        } else {
            ReviewState::Declined
        };
        v.by = Some(me.clone());
        v.message = message.to_string();
        what = format!(
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
        Ok(())
    })?;
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
    /// `identical-derivation`, `identical-binaries`, `differs`, `pending`, `missing` or
    /// `outdated`.
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

/// The comparison rows of an accepted request, computed now and **read-only** (a `GET`):
/// the target's rows of the package at the accepted revision against the source's rows at
/// the submitted revision. A row that has moved on to another revision is `outdated`
/// (its build is not the one the request is about). Differing `.deb`s are compared in
/// memory; a report attached earlier is shown, nothing new is stored.
pub fn compare(st: &AppState, r: &Request) -> Result<Vec<Comparison>, ApiErr> {
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
        let accepted = r.accepted_revision.unwrap_or(0);
        match s {
            _ if t.revision != accepted => {
                c.verdict = "outdated".into();
                c.explanation = format!(
                    "{} has moved on to revision {} of {}; the accepted revision {accepted} is no longer its build",
                    r.target_project, t.revision, r.package
                );
            }
            None => {
                c.verdict = "missing".into();
                c.explanation = format!(
                    "{} has no build of {} for {}",
                    r.source_project, r.package, t.arch
                );
            }
            Some(s) if s.revision != r.revision.rev => {
                c.verdict = "outdated".into();
                c.explanation = format!(
                    "{} has moved on to revision {} of {}; the submitted revision {} is no longer its build",
                    r.source_project, s.revision, r.package, r.revision.rev
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
                    let rep = crate::verify::build_comparison(
                        &st.verifier,
                        &title,
                        &r.revision.version,
                        &ours,
                        &theirs,
                    );
                    let same = crate::verify::exit_code(&rep) == 0;
                    c.verdict = if same {
                        "identical-binaries".into()
                    } else {
                        "differs".into()
                    };
                    c.explanation = rep.summary().total.line();
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
