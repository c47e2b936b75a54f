//! `cryo explain REPORT|SOURCE`: for every binary that differs from the official one,
//! search the environment variations that could explain it (the clock, the build path,
//! packages beyond the resolved closure, the package versions of other snapshots, the
//! toolchain) with a bounded number of rebuilds, and report the variation that reproduces
//! it or the evidence that none does (docs/explain.md). Every variation is a derivation
//! (the report's prjconf with lines appended, or another snapshot), so rebuilds are cached
//! like any build. Explanations are stored per report (table `explanations`) and shown with
//! it (`cryo report show`). `buildinfo` rebuilds what a Debian `.buildinfo` describes.

pub mod buildinfo;
mod candidates;
mod search;
mod toolchain;

use cryo_compare::report::explain::Explanation;
use cryo_compare::report::Report;
use cryo_compare::ClassKind;
use cryo_store::api;
use serde::{Deserialize, Serialize};

use crate::drv::request::PrjconfText;
use crate::mirror::snapshot;
use crate::mirror::MirrorError;
use crate::table::{JsonTable, TableError};
use crate::verify::{self, ReportInfo, Verifier, VerifyError};

/// Why an explanation (or a `.buildinfo` verification) could not be run. A variation that
/// cannot be built is no error: the explanation lists it.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Store(#[from] cryo_store::StoreError),
    #[error("no report {0:?} (give at least 8 hex characters of a listed id)")]
    UnknownReport(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{file}: {message}")]
    Buildinfo { file: String, message: String },
}

/// The explanations of one report's binaries.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredExplanations {
    pub binaries: Vec<StoredBinary>,
}

/// One explained binary (keyed by source, package, version, architecture).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredBinary {
    pub source: String,
    pub package: String,
    pub version: String,
    pub architecture: String,
    pub explanation: Explanation,
}

/// Report id (hex) → its explanations.
const EXPLANATIONS: JsonTable<&str, StoredExplanations> = JsonTable::new("explanations");

/// The search's parameters, resolved from a request and the report.
pub struct Target {
    pub snapshot: snapshot::SnapshotInfo,
    pub prjconf: PrjconfText,
    pub arch: String,
    pub max_rebuilds: u32,
}

/// Explain `req.target` (a report id or `src:NAME[=VERSION]`, verified first). `progress`
/// is told what is being tried.
pub fn explain(
    st: &Verifier,
    req: &api::ExplainRequest,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<api::ExplainOutcome, ExplainError> {
    let max_rebuilds = req.max_rebuilds.unwrap_or(api::DEFAULT_MAX_REBUILDS);
    if max_rebuilds == 0 {
        return Err(ExplainError::Invalid(
            "--max-rebuilds must be at least 1".into(),
        ));
    }
    let report_id = if req.target.starts_with("src:") {
        let (Some(snap), Some(prjconf)) = (&req.snapshot, &req.prjconf) else {
            return Err(ExplainError::Invalid(format!(
                "explaining {} needs --snapshot and --prjconf (it is verified first)",
                req.target
            )));
        };
        progress(&format!("verifying {}", req.target));
        let out = verify::verify(
            st,
            snap,
            prjconf,
            std::slice::from_ref(&req.target),
            req.arch.as_deref(),
        )?;
        out.report.to_hex()
    } else {
        req.target.clone()
    };
    let (info, report) = verify::load(st, &report_id)?
        .ok_or_else(|| ExplainError::UnknownReport(report_id.clone()))?;
    let target = target_of(st, req, &info, max_rebuilds)?;
    let mut stored = EXPLANATIONS
        .get(st.store.index().database(), info.id.to_hex().as_str())?
        .unwrap_or_default();
    let mut answer = Vec::new();
    for source in &report.sources {
        if !source
            .binaries
            .iter()
            .any(|b| b.classification.kind.is_difference())
        {
            continue;
        }
        progress(&format!("explaining {} {}", source.source, source.version));
        for (package, e) in search::explain_source(st, &target, source, progress) {
            let b = source
                .binaries
                .iter()
                .find(|b| b.id.package == package)
                .expect("explained binaries come from the source report");
            let row = StoredBinary {
                source: source.source.clone(),
                package: b.id.package.clone(),
                version: b.id.version.clone(),
                architecture: b.id.architecture.clone(),
                explanation: e,
            };
            stored.binaries.retain(|o| {
                (&o.source, &o.package, &o.version, &o.architecture)
                    != (&row.source, &row.package, &row.version, &row.architecture)
            });
            stored.binaries.push(row.clone());
            answer.push(api_binary(&row));
        }
    }
    EXPLANATIONS.put(
        st.store.index().database(),
        info.id.to_hex().as_str(),
        &stored,
    )?;
    Ok(api::ExplainOutcome {
        report: info.id,
        explanations: answer,
    })
}

fn target_of(
    st: &Verifier,
    req: &api::ExplainRequest,
    info: &ReportInfo,
    max_rebuilds: u32,
) -> Result<Target, ExplainError> {
    let snapshot = snapshot::get(&st.store, req.snapshot.as_deref().unwrap_or(&info.snapshot))?;
    let prjconf = req
        .prjconf
        .clone()
        .or_else(|| info.prjconf.clone())
        .ok_or_else(|| {
            ExplainError::Invalid(format!(
                "report {} does not record its prjconf (it predates `cryo explain`): pass --prjconf",
                info.id
            ))
        })?;
    let arch = req
        .arch
        .clone()
        .or_else(|| info.arch.clone())
        .unwrap_or_else(|| st.deriver.host_arch.clone());
    Ok(Target {
        snapshot,
        prjconf,
        arch,
        max_rebuilds,
    })
}

/// A report with its stored explanations attached to its binaries (for `report show`).
/// The bytes of the snapshot's official `.deb` for binary `b` (fetched on demand), if the
/// snapshot and its mirror have it.
fn official_deb(
    st: &Verifier,
    snap: &snapshot::SnapshotInfo,
    b: &cryo_compare::report::BinaryReport,
    session: &cryo_store::Session,
) -> Option<Vec<u8>> {
    let pf = verify::official(st, snap, &b.id.package, &b.id.version, &b.id.architecture)
        .ok()
        .flatten()?;
    let digest = crate::mirror::dod::ensure(&st.store, snap, &pf, session).ok()?;
    st.store.read(&digest).ok()
}

pub fn load_explained(st: &Verifier, id: &str) -> Result<Option<Report>, ExplainError> {
    let Some((info, mut report)) = verify::load(st, id)? else {
        return Ok(None);
    };
    let stored = EXPLANATIONS
        .get(st.store.index().database(), info.id.to_hex().as_str())?
        .unwrap_or_default();
    for source in &mut report.sources {
        for b in &mut source.binaries {
            b.explanation = stored
                .binaries
                .iter()
                .find(|s| {
                    s.source == source.source
                        && s.package == b.id.package
                        && s.version == b.id.version
                        && s.architecture == b.id.architecture
                })
                .map(|s| s.explanation.clone());
        }
    }
    Ok(Some(report))
}

/// `cryo_compare`'s explanation as the API's type: the two are declared field for field
/// alike (`cryo-compare` and `cryo-store` do not know each other), so the JSON is the same.
fn api_binary(b: &StoredBinary) -> api::BinaryExplanation {
    let e = &b.explanation;
    api::BinaryExplanation {
        source: b.source.clone(),
        package: b.package.clone(),
        version: b.version.clone(),
        architecture: b.architecture.clone(),
        explanation: api::Explanation {
            verdict: match e.verdict {
                cryo_compare::report::explain::Verdict::Reproduced => {
                    api::ExplanationVerdict::Reproduced
                }
                cryo_compare::report::explain::Verdict::Improved => {
                    api::ExplanationVerdict::Improved
                }
                cryo_compare::report::explain::Verdict::Unexplained => {
                    api::ExplanationVerdict::Unexplained
                }
            },
            class_before: verify::api_kind(e.class_before),
            class_after: verify::api_kind(e.class_after),
            summary: e.summary.clone(),
            explained_by: e.explained_by.iter().map(api_attempt).collect(),
            tried: e.tried.iter().map(api_attempt).collect(),
            remaining: e.remaining.clone(),
            prjconf_addition: e.prjconf_addition.clone(),
            snapshot: e.snapshot.clone(),
            rebuilds: e.rebuilds,
            max_rebuilds: e.max_rebuilds,
        },
    }
}

fn api_attempt(a: &cryo_compare::report::explain::Attempt) -> api::ExplanationAttempt {
    use cryo_compare::report::explain::Cause as C;
    api::ExplanationAttempt {
        cause: match a.cause {
            C::Clock => api::ExplanationCause::Clock,
            C::BuildPath => api::ExplanationCause::BuildPath,
            C::ExtraPackages => api::ExplanationCause::ExtraPackages,
            C::Snapshot => api::ExplanationCause::Snapshot,
            C::Toolchain => api::ExplanationCause::Toolchain,
        },
        variation: a.variation.clone(),
        derivation: a.derivation.clone(),
        class: verify::api_kind(a.class),
        note: a.note.clone(),
    }
}

/// Whether `k` is a difference an explanation can work on.
fn explainable(k: ClassKind) -> bool {
    k.is_difference()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryo_compare::report::explain::{Attempt, Cause, Verdict};

    /// The API's explanation serialises exactly as cryo-compare's.
    #[test]
    fn api_explanation_is_the_same_json() {
        let attempt = Attempt {
            cause: Cause::BuildPath,
            variation: "Cryo-Clock: changelog".into(),
            derivation: Some("ab".into()),
            class: ClassKind::ControlOnly,
            note: "n".into(),
        };
        let e = Explanation {
            verdict: Verdict::Improved,
            class_before: ClassKind::Content,
            class_after: ClassKind::BuildIdOnly,
            summary: "s".into(),
            explained_by: vec![attempt.clone()],
            tried: vec![attempt],
            remaining: vec!["r".into()],
            prjconf_addition: "Cryo-Clock: changelog\n".into(),
            snapshot: "00".into(),
            rebuilds: 1,
            max_rebuilds: 8,
        };
        let b = StoredBinary {
            source: "hello".into(),
            package: "hello".into(),
            version: "2.10-3".into(),
            architecture: "amd64".into(),
            explanation: e,
        };
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            serde_json::to_value(api_binary(&b)).unwrap()
        );
    }
}
