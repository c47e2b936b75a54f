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

use crate::project::model::ProjectExt;
use std::collections::BTreeMap;

use cryo_store::B3Digest;

use crate::auth::{tables as auth_tables, AuthError, Denied, Principal, Role};
use crate::drv::source::SourceSpec;
use crate::project::model::{package_key, JobResult};
use crate::project::{ops, tables, ProjectError};
use std::sync::Arc;

use cryo_store::Store;

use crate::auth::Auth;
use crate::clock::Clock;
use crate::project::Projects;
use crate::table::{JsonTable, TableError};
use crate::verify::Verifier;

const REQUESTS: JsonTable<u64, Request> = JsonTable::new("requests");

/// What submit requests use: the store, the clock, roles and the audit log, the projects
/// they move revisions between, and verification (comparing the two builds).
pub struct Requests {
    pub store: Arc<Store>,
    pub clock: Clock,
    pub auth: Arc<Auth>,
    pub projects: Arc<Projects>,
    pub verifier: Arc<Verifier>,
}

/// Errors of submit requests. A change that fails happens inside its write transaction,
/// which is then dropped: nothing of it is written.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The request is not open (or not in a state for this action).
    #[error("{0}")]
    Conflict(String),
    /// Reviews are still open: the request cannot be accepted yet.
    #[error("{0}")]
    ReviewsOpen(String),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("requests: {0}")]
    Table(#[from] TableError),
    #[error(transparent)]
    Project(#[from] ProjectError),
}

impl From<Denied> for RequestError {
    fn from(d: Denied) -> Self {
        RequestError::Auth(d.into())
    }
}

type Failed = RequestError;

/// A request, its state, reviews and history: stored rows, also answered as they are
/// (the API's types, same serde attributes).
pub use cryo_store::api::{
    Comparison, HistoryEntry, Request, RequestState as ReqState, Review, ReviewState, Verdict,
};

/// A request state named in a query, or a clear error.
pub fn parse_state(s: &str) -> Result<ReqState, RequestError> {
    ReqState::parse(s).ok_or_else(|| {
        RequestError::Invalid(format!(
            "unknown request state {s:?}: new, review, accepted, declined, revoked, superseded"
        ))
    })
}

pub fn get(st: &Requests, id: u64) -> Result<Request, RequestError> {
    REQUESTS
        .get(st.store.index().database(), id)?
        .ok_or_else(|| RequestError::NotFound(format!("no request {id}")))
}

pub fn list(st: &Requests) -> Result<Vec<Request>, RequestError> {
    Ok(REQUESTS.all(st.store.index().database())?)
}

/// Change request `id` in one write transaction: `f` sees the current record.
fn update(
    st: &Requests,
    id: u64,
    f: impl FnOnce(&mut Request) -> Result<(), Failed>,
) -> Result<Request, RequestError> {
    REQUESTS.update(st.store.index().database(), id, |old| {
        let mut r = old.ok_or_else(|| RequestError::NotFound(format!("no request {id}")))?;
        f(&mut r)?;
        Ok::<_, Failed>(r)
    })
}

/// Store `r` under the next id (`max + 1`), superseding older open requests of the same
/// package between the same projects, in one write transaction: concurrent submits get
/// distinct ids.
fn insert_superseding(st: &Requests, mut r: Request) -> Result<Request, TableError> {
    crate::table::write(st.store.index().database(), REQUESTS.name(), |tx| {
        let mut t = REQUESTS.open(tx)?;
        let id = t.next_id()?;
        r.id = id;
        for mut o in t.all()?.into_iter().filter(|o| {
            o.state.is_open()
                && o.source_project == r.source_project
                && o.package == r.package
                && o.target_project == r.target_project
        }) {
            o.state = ReqState::Superseded;
            o.superseded_by = Some(id);
            o.history.push(HistoryEntry {
                time: r.created,
                who: r.creator.clone(),
                what: format!("superseded by request {id}"),
                message: String::new(),
            });
            t.put(o.id, &o)?;
        }
        t.put(id, &r)?;
        Ok(r)
    })
}

/// `cryo request submit SRC PKG DST [-m MSG]`.
pub fn submit(
    st: &Requests,
    who: &Principal,
    source: &str,
    package: &str,
    target: &str,
    message: &str,
) -> Result<Request, RequestError> {
    let me = who.authenticated()?.to_string();
    let src = ops::get(&st.projects, source)?;
    let dst = ops::get(&st.projects, target)?;
    crate::auth::require(&st.auth, who, src.access(), Role::Reader)?;
    crate::auth::require(&st.auth, who, dst.access(), Role::Reader)?;
    if src.name == dst.name {
        return Err(RequestError::Invalid(
            "source and target project are the same".into(),
        ));
    }
    let pkg = tables::package(&st.projects, &src.name, package)?
        .ok_or_else(|| RequestError::NotFound(format!("no package {package} in {source}")))?;
    let revision = pkg
        .latest()
        .cloned()
        .ok_or_else(|| RequestError::Invalid(format!("{package} in {source} has no revision")))?;
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
    let r = insert_superseding(
        st,
        Request {
            id: 0,
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
                who: me.clone(),
                what: "submitted".into(),
                message: message.to_string(),
            }],
            superseded_by: None,
            accepted_revision: None,
            reports: BTreeMap::new(),
        },
    )?;
    let id = r.id;
    let detail = format!(
        "request {id}: {} {} → {}",
        r.source_project, r.package, r.target_project
    );
    crate::auth::audit::record(
        &st.auth,
        &r.creator,
        "request submit",
        Some(&r.target_project),
        detail.clone(),
    );
    crate::auth::audit::record(
        &st.auth,
        &r.creator,
        "request submit",
        Some(&r.source_project),
        detail,
    );
    Ok(r)
}

fn open(r: &Request) -> Result<(), RequestError> {
    if r.state.is_open() {
        Ok(())
    } else {
        Err(RequestError::Conflict(
            format!("request {} is {:?}", r.id, r.state).to_lowercase(),
        ))
    }
}

fn reviews_open(r: &Request) -> Result<(), RequestError> {
    let pending: Vec<&str> = r
        .reviews
        .iter()
        .filter(|v| v.state != ReviewState::Accepted)
        .map(|v| v.reviewer.as_str())
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    Err(RequestError::ReviewsOpen(format!(
        "request {} has open reviews by {}",
        r.id,
        pending.join(", ")
    )))
}

/// Accept `r`: commit its exact revision into the target package and close the request,
/// in one write transaction (sources were resolved and rooted before).
fn accept(
    st: &Requests,
    who: &Principal,
    r: &Request,
    me: &str,
    history: HistoryEntry,
    message: &str,
) -> Result<Request, RequestError> {
    let id = r.id;
    let now = history.time;
    let dst = ops::get(&st.projects, &r.target_project)?;
    crate::auth::require(&st.auth, who, dst.access(), Role::Maintainer)?;
    reviews_open(r)?;
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
    // Sources resolved and rooted first; the revision number, the package row and the
    // request's state change together below.
    let mut c = ops::prepare_commit(
        &st.projects,
        &r.target_project,
        Some(&r.package),
        &spec,
        false,
    )?;
    let key = package_key(&dst.name, &r.package);
    let (r, changed) = crate::table::write(st.store.index().database(), REQUESTS.name(), |tx| {
        let mut t = REQUESTS.open(tx)?;
        let mut r = t
            .get(id)?
            .ok_or_else(|| RequestError::NotFound(format!("no request {id}")))?;
        open(&r)?;
        reviews_open(&r)?;
        c.create = tables::PACKAGES.open(tx)?.get(key.as_str())?.is_none();
        let out = ops::apply_commit(tx, &c, me, &msg, now)?;
        r.accepted_revision = Some(out.revision.rev);
        r.state = ReqState::Accepted;
        r.history.push(history);
        t.put(id, &r)?;
        Ok::<_, Failed>((r, out.changed))
    })?;
    if changed {
        st.projects.scheduler.evaluate_now(&st.projects, &dst.name);
    }
    Ok(r)
}

/// Decline (the target's maintainers) or revoke (the creator or the source's
/// maintainers) `r`.
fn close(
    st: &Requests,
    who: &Principal,
    r: &Request,
    me: &str,
    action: &str,
    history: HistoryEntry,
) -> Result<Request, RequestError> {
    if action == "decline" {
        let dst = ops::get(&st.projects, &r.target_project)?;
        crate::auth::require(&st.auth, who, dst.access(), Role::Maintainer)?;
    } else if r.creator != me {
        let src = ops::get(&st.projects, &r.source_project)?;
        crate::auth::require(&st.auth, who, src.access(), Role::Maintainer)?;
    }
    update(st, r.id, |r| {
        open(r)?;
        r.state = if action == "decline" {
            ReqState::Declined
        } else {
            ReqState::Revoked
        };
        r.history.push(history);
        Ok(())
    })
}

/// accept | decline | revoke. The state change is one write transaction that checks the
/// request is still open; accepting also commits the revision in that transaction.
pub fn decide(
    st: &Requests,
    who: &Principal,
    id: u64,
    action: &str,
    message: &str,
) -> Result<Request, RequestError> {
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
        "accept" => accept(st, who, &r, &me, history, message)?,
        "decline" | "revoke" => close(st, who, &r, &me, action, history)?,
        other => return Err(RequestError::Invalid(format!("unknown action {other:?}"))),
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
        &st.auth,
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
    st: &Requests,
    who: &Principal,
    id: u64,
    accept: bool,
    message: &str,
) -> Result<Request, RequestError> {
    let r = get(st, id)?;
    open(&r)?;
    let me = who.authenticated()?.to_string();
    let dst = ops::get(&st.projects, &r.target_project)?;
    let groups = auth_tables::groups_of(&st.auth, &me)?;
    let maintainer = who.is_admin()
        || crate::auth::roles_of(&st.auth, &me, dst.access()).contains(&Role::Maintainer);
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
                Denied::Other(format!(
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
        &st.auth,
        &me,
        "request review",
        Some(&r.target_project),
        format!("request {id}: {what}"),
    );
    Ok(r)
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
pub fn compare(st: &Requests, r: &Request) -> Result<Vec<Comparison>, RequestError> {
    if r.state != ReqState::Accepted {
        return Ok(Vec::new());
    }
    let src = ops::get(&st.projects, &r.source_project)?;
    let dst = ops::get(&st.projects, &r.target_project)?;
    let src_rows = tables::results(&st.projects, &src.name)?;
    let mut out = Vec::new();
    for t in tables::results(&st.projects, &dst.name)?
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
            repository: t.repository.to_string(),
            arch: t.arch.clone(),
            source_state: s.map(|x| x.state),
            target_state: t.state,
            source_derivation: s.and_then(|x| x.derivation),
            target_derivation: t.derivation,
            verdict: Verdict::Pending,
            explanation: String::new(),
            report: None,
        };
        let accepted = r.accepted_revision.unwrap_or(0);
        match s {
            _ if t.revision != accepted => {
                c.verdict = Verdict::Outdated;
                c.explanation = format!(
                    "{} has moved on to revision {} of {}; the accepted revision {accepted} is no longer its build",
                    r.target_project, t.revision, r.package
                );
            }
            None => {
                c.verdict = Verdict::Missing;
                c.explanation = format!(
                    "{} has no build of {} for {}",
                    r.source_project, r.package, t.arch
                );
            }
            Some(s) if s.revision != r.revision.rev => {
                c.verdict = Verdict::Outdated;
                c.explanation = format!(
                    "{} has moved on to revision {} of {}; the submitted revision {} is no longer its build",
                    r.source_project, s.revision, r.package, r.revision.rev
                );
            }
            Some(s) if !(s.state.is_success() && t.state.is_success()) => {
                c.verdict = Verdict::Pending;
                c.explanation = format!("source {}, target {}", s.state.as_str(), t.state.as_str());
            }
            Some(s) if s.derivation == t.derivation => {
                c.verdict = Verdict::IdenticalDerivation;
                c.explanation = "same derivation (same snapshot, prjconf, sources and closure): the target reused the validated build, bit for bit (cache hit)".into();
            }
            Some(s) => {
                let (ours, theirs) = (outputs(&t), outputs(s));
                if ours == theirs {
                    c.verdict = Verdict::IdenticalBinaries;
                    c.explanation = "different derivations, bit-for-bit identical .debs".into();
                } else if let Some(rep) = r.reports.get(&pair_key(s, &t)).copied() {
                    c.verdict = Verdict::Differs;
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
                        Verdict::IdenticalBinaries
                    } else {
                        Verdict::Differs
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
