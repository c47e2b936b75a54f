//! `cryo verify`: rebuild sources from a snapshot and compare every produced `.deb` with
//! the snapshot's official binary, bit for bit, with `cryo-compare`. Reports are stored
//! (JSON, schema in docs/report-format.md) and listed in the redb table `reports`.

use cryo_compare::report::{BinaryReport, Report, SourceReport};
use cryo_compare::{compare_debs, ClassKind, Classification, Limits, PackageId};
use cryo_store::api;
use cryo_store::{B3Digest, ObjectKind};

use crate::build::run;
use crate::drv::request::{PrjconfText, ResolveRequestBody};
use crate::drv::source::SourceSpec;
use crate::mirror::dod::{self, PoolFile};
use crate::mirror::query;
use crate::mirror::snapshot::{self, IndexKind, SnapshotInfo};
use std::sync::Arc;

use cryo_store::Store;

use crate::build::Builder;
use crate::clock::Clock;
use crate::drv::Deriver;
use crate::mirror::MirrorError;
use crate::table::{JsonTable, TableError};

/// What verification uses: the store, resolution, the builder, the clock (report times)
/// and how many sources to build at once.
pub struct Verifier {
    pub store: Arc<Store>,
    pub clock: Clock,
    pub deriver: Arc<Deriver>,
    pub builder: Arc<Builder>,
    pub workers: usize,
}

/// Report id (hex) → [`ReportInfo`].
const REPORTS: JsonTable<&str, ReportInfo> = JsonTable::new("reports");

/// Why a verification, check or report operation failed. (A source that cannot be
/// built or compared is no error: the report says so.)
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error(transparent)]
    Store(#[from] cryo_store::StoreError),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Build(#[from] crate::build::BuildError),
    #[error(transparent)]
    Derivation(#[from] cryo_store::derivation::DerivationError),
    #[error("report {id}: {source}")]
    Report {
        id: B3Digest,
        #[source]
        source: serde_json::Error,
    },
    #[error("unknown report format {0:?}: use text, json or html")]
    Format(String),
    #[error("derivation {0} is not built yet: run `cryo build --drv {0}` first")]
    NotBuilt(B3Digest),
}

/// A stored report's listing entry (the API's type; stored as it is answered).
pub use cryo_store::api::ReportInfo;

/// What `POST /api/v1/verify` and `POST /api/v1/check` answer (the API's type).
pub use cryo_store::api::VerifyOutcome;

/// A report's summary as the API's type. `cryo-compare` and `cryo-store` do not know each
/// other, so the classes are mapped one by one (same names, same order).
pub fn api_summary(s: &cryo_compare::report::Summary) -> api::ReportSummary {
    api::ReportSummary {
        total: api_counts(&s.total),
        per_source: s
            .per_source
            .iter()
            .map(|p| api::SourceSummary {
                source: p.source.clone(),
                version: p.version.clone(),
                counts: api_counts(&p.counts),
            })
            .collect(),
    }
}

fn api_counts(c: &cryo_compare::report::Counts) -> api::ReportCounts {
    api::ReportCounts {
        analysed: c.analysed,
        identical: c.identical,
        differ: c.differ,
        failed_or_inconclusive: c.failed_or_inconclusive,
        by_kind: c.by_kind.iter().map(|(k, n)| (api_kind(*k), *n)).collect(),
    }
}

/// A `cryo-compare` class as the API's.
pub fn api_kind(k: ClassKind) -> api::ClassKind {
    match k {
        ClassKind::Identical => api::ClassKind::Identical,
        ClassKind::SignatureOnly => api::ClassKind::SignatureOnly,
        ClassKind::BuildMetadataOnly => api::ClassKind::BuildMetadataOnly,
        ClassKind::MetadataOnly => api::ClassKind::MetadataOnly,
        ClassKind::ControlOnly => api::ClassKind::ControlOnly,
        ClassKind::BuildIdOnly => api::ClassKind::BuildIdOnly,
        ClassKind::Content => api::ClassKind::Content,
        ClassKind::Inconclusive => api::ClassKind::Inconclusive,
        ClassKind::BuildFailed => api::ClassKind::BuildFailed,
        ClassKind::MissingUpstream => api::ClassKind::MissingUpstream,
    }
}

/// The exit status rule (as diffoscope and `guix challenge`): 0 all identical, 1 some
/// differ, 2 something failed or could not be compared.
pub fn exit_code(r: &Report) -> u8 {
    let mut code = 0;
    for b in r.sources.iter().flat_map(|s| &s.binaries) {
        match b.classification.kind {
            ClassKind::Identical | ClassKind::SignatureOnly => {}
            ClassKind::BuildMetadataOnly
            | ClassKind::MetadataOnly
            | ClassKind::ControlOnly
            | ClassKind::BuildIdOnly
            | ClassKind::Content => code = code.max(1),
            _ => code = 2,
        }
    }
    code
}

fn inconclusive(id: PackageId, ours: Option<String>, why: String) -> BinaryReport {
    BinaryReport {
        id,
        ours_digest: ours,
        official_sha256: None,
        classification: Classification {
            kind: ClassKind::Inconclusive,
            explanation: why,
        },
        differences: Vec::new(),
        limits_hit: Vec::new(),
        explanation: None,
    }
}

/// `name_version_arch.deb` → (name, version without epoch, arch).
pub fn split_deb_name(name: &str) -> Option<(&str, &str, &str)> {
    let stem = name
        .strip_suffix(".deb")
        .or_else(|| name.strip_suffix(".udeb"))?;
    let mut it = stem.splitn(3, '_');
    Some((it.next()?, it.next()?, it.next()?))
}

/// The official pool file of a binary package built by us.
pub fn official(
    st: &Verifier,
    snap: &SnapshotInfo,
    name: &str,
    version: &str,
    arch: &str,
) -> Result<Option<PoolFile>, VerifyError> {
    let entries = query::package(&st.store, snap, name)?;
    for e in entries
        .iter()
        .filter(|e| e.kind == IndexKind::Packages && e.arch == arch)
    {
        let Ok(v) = e.version.parse::<cryo_debian::version::Version>() else {
            continue;
        };
        if v.without_epoch() != version {
            continue;
        }
        let field = |k: &str| {
            e.fields
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        };
        return Ok(Some(PoolFile {
            package: name.to_string(),
            version: e.version.clone(),
            archive: e.archive.clone(),
            path: field("Filename").unwrap_or_default(),
            sha256: field("SHA256").unwrap_or_default(),
            size: field("Size").and_then(|s| s.parse().ok()).unwrap_or(0),
        }));
    }
    Ok(None)
}

/// The SHA256 of the snapshot's official `.deb` of `name` `version` (without epoch) on
/// `arch`, if the snapshot has one.
pub fn official_sha256(
    st: &Verifier,
    snap: &SnapshotInfo,
    name: &str,
    version: &str,
    arch: &str,
) -> Result<Option<String>, VerifyError> {
    Ok(official(st, snap, name, version, arch)?.map(|p| p.sha256))
}

/// Rebuild one source (`src:NAME[=VERSION]`) in `snap` with `prjconf` and compare every
/// produced `.deb` with the snapshot's official one (no report is stored).
pub fn verify_source(
    st: &Verifier,
    snap: &SnapshotInfo,
    prjconf: &PrjconfText,
    request: &str,
    arch: &str,
) -> SourceReport {
    verify_source_drv(st, snap, prjconf, request, arch).0
}

/// [`verify_source`], with the derivation it built (`None` when resolution failed).
fn verify_source_drv(
    st: &Verifier,
    snap: &SnapshotInfo,
    prjconf: &PrjconfText,
    request: &str,
    arch: &str,
) -> (SourceReport, Option<B3Digest>) {
    let failed = |version: String, why: String| SourceReport {
        source: request
            .trim_start_matches("src:")
            .split('=')
            .next()
            .unwrap_or(request)
            .to_string(),
        version: version.clone(),
        binaries: vec![BinaryReport::build_failed(
            PackageId {
                package: request.to_string(),
                version,
                architecture: arch.to_string(),
            },
            None,
            &why,
        )],
    };
    let req = ResolveRequestBody {
        snapshot: snap.id.to_hex(),
        prjconf: prjconf.clone(),
        source: SourceSpec::Snapshot {
            request: request.to_string(),
        },
        arch: Some(arch.to_string()),
        build: None,
    };
    let resolved = match crate::drv::request::resolve(&st.deriver, &req) {
        Ok(r) => r,
        Err(e) => return (failed(String::new(), e.to_string()), None),
    };
    (built_report(st, snap, &resolved), Some(resolved.derivation))
}

/// Realise a resolved derivation and compare every produced `.deb` with `official_in`'s
/// official binary (a build that fails is a `build-failed` report).
pub fn built_report(
    st: &Verifier,
    official_in: &SnapshotInfo,
    resolved: &crate::drv::derive::Resolved,
) -> SourceReport {
    derivation_report(
        st,
        official_in,
        &resolved.source,
        &resolved.version,
        &resolved.arch,
        &resolved.derivation,
    )
}

/// [`built_report`] for derivation `drv` of `source` `version` on `arch`.
pub fn derivation_report(
    st: &Verifier,
    official_in: &SnapshotInfo,
    source: &str,
    version: &str,
    arch: &str,
    drv: &B3Digest,
) -> SourceReport {
    let failed = |why: String| SourceReport {
        source: source.to_string(),
        version: version.to_string(),
        binaries: vec![BinaryReport::build_failed(
            PackageId {
                package: format!("src:{source}"),
                version: version.to_string(),
                architecture: arch.to_string(),
            },
            None,
            &why,
        )],
    };
    let outcome = match run::realise(&st.builder, drv, false) {
        Ok(o) => o,
        Err(e) => return failed(crate::build::chain(&e)),
    };
    if outcome.status == run::BuildStatus::Failed {
        let tail = outcome.log_tail.unwrap_or_default();
        let last: Vec<&str> = tail.lines().rev().take(3).collect();
        return failed(format!(
            "see `cryo log {drv}`: {}",
            last.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ));
    }
    let session = st.store.session();
    let binaries = outcome
        .outputs
        .iter()
        .filter_map(|o| compare_output(st, official_in, o, &session))
        .collect();
    SourceReport {
        source: source.to_string(),
        version: version.to_string(),
        binaries,
    }
}

/// One source verified on its own (a campaign's unit of work): its stored report, the
/// source's part of it and the derivation that was built (`None` when resolution failed).
pub struct SourceVerification {
    pub outcome: VerifyOutcome,
    pub source: SourceReport,
    pub derivation: Option<B3Digest>,
}

/// Verify one `src:NAME[=VERSION]` request and store its report (as `cryo verify` does
/// for a list of one).
pub fn verify_one(
    st: &Verifier,
    snap: &SnapshotInfo,
    prjconf: &PrjconfText,
    request: &str,
    arch: &str,
) -> Result<SourceVerification, VerifyError> {
    let (source, derivation) = verify_source_drv(st, snap, prjconf, request, arch);
    let outcome = store_report(
        st,
        Report::new(vec![source.clone()]),
        snap.id.to_hex(),
        vec![request.to_string()],
        Some((prjconf, arch)),
    )?;
    Ok(SourceVerification {
        outcome,
        source,
        derivation,
    })
}

/// Compare one `.deb` we built with the official one of the snapshot; `None` for
/// packages the snapshot cannot have (debug symbols, installer packages).
pub fn compare_output(
    st: &Verifier,
    snap: &SnapshotInfo,
    o: &run::OutputInfo,
    session: &cryo_store::Session,
) -> Option<BinaryReport> {
    let (name, version, arch) = split_deb_name(&o.name)?;
    let id = PackageId {
        package: name.to_string(),
        version: version.to_string(),
        architecture: arch.to_string(),
    };
    let ours_digest = Some(format!("blake3:{}", o.blake3));
    let pf = match official(st, snap, name, version, arch) {
        Ok(Some(pf)) => pf,
        // Debian publishes automatic debug symbol packages in a separate archive
        // (debian-debug); a snapshot of the main archive has none to compare with.
        // Likewise installer packages (.udeb) live in main/debian-installer indices.
        Ok(None) if name.ends_with("-dbgsym") || o.name.ends_with(".udeb") => return None,
        Ok(None) => return Some(BinaryReport::missing_upstream(id, ours_digest)),
        Err(e) => return Some(inconclusive(id, ours_digest, e.to_string())),
    };
    let theirs =
        match dod::ensure(&st.store, snap, &pf, session).and_then(|d| Ok(st.store.read(&d)?)) {
            Ok(b) => b,
            Err(e) => {
                return Some(inconclusive(
                    id,
                    ours_digest,
                    format!("official binary unavailable: {e}"),
                ))
            }
        };
    let ours = match st.store.read(&o.blake3) {
        Ok(b) => b,
        Err(e) => return Some(inconclusive(id, ours_digest, e.to_string())),
    };
    Some(match compare_debs(&ours, &theirs, &Limits::default()) {
        Ok(cmp) => BinaryReport::from_comparison(id, ours_digest, cmp),
        Err(e) => inconclusive(id, ours_digest, format!("cannot compare: {e}")),
    })
}

/// Verify `requests` (built in parallel, up to the worker count) and store the report.
pub fn verify(
    st: &Verifier,
    snapshot: &str,
    prjconf: &PrjconfText,
    requests: &[String],
    arch: Option<&str>,
) -> Result<VerifyOutcome, VerifyError> {
    let snap = snapshot::get(&st.store, snapshot)?;
    let arch = arch.unwrap_or(&st.deriver.host_arch).to_string();
    let mut sources: Vec<Option<SourceReport>> = vec![None; requests.len()];
    let workers = st.workers.max(1);
    for chunk in (0..requests.len()).collect::<Vec<_>>().chunks(workers) {
        let done: Vec<(usize, SourceReport)> = std::thread::scope(|s| {
            let hs: Vec<_> = chunk
                .iter()
                .map(|&i| {
                    let (snap, arch) = (&snap, &arch);
                    s.spawn(move || (i, verify_source(st, snap, prjconf, &requests[i], arch)))
                })
                .collect();
            hs.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        for (i, r) in done {
            sources[i] = Some(r);
        }
    }
    store_report(
        st,
        Report::new(sources.into_iter().flatten().collect()),
        snap.id.to_hex(),
        requests.to_vec(),
        Some((prjconf, &arch)),
    )
}

/// Every stored report, oldest first.
pub fn list(st: &Verifier) -> Result<Vec<ReportInfo>, VerifyError> {
    let mut out = REPORTS.all(st.store.index().database())?;
    out.sort_by_key(|r| r.created);
    Ok(out)
}

/// Load a report by id or unique prefix (≥ 8 hex characters).
pub fn load(st: &Verifier, id: &str) -> Result<Option<(ReportInfo, Report)>, VerifyError> {
    let id = id.to_ascii_lowercase();
    let all: Vec<ReportInfo> = list(st)?
        .into_iter()
        .filter(|r| r.id.to_hex().starts_with(&id))
        .collect();
    if id.len() < 8 || all.len() != 1 {
        return Ok(None);
    }
    let info = all.into_iter().next().expect("one");
    let bytes = st.store.read(&info.id)?;
    let report: Report = serde_json::from_slice(&bytes).map_err(|source| VerifyError::Report {
        id: info.id,
        source,
    })?;
    Ok(Some((info, report)))
}

/// Render a report.
pub fn render(
    report: &Report,
    format: &str,
    colour: bool,
) -> Result<(String, &'static str), VerifyError> {
    match format {
        "text" => Ok((
            cryo_compare::report::render_text(report, colour),
            "text/plain; charset=utf-8",
        )),
        "json" => Ok((
            cryo_compare::report::render_json(report),
            "application/json",
        )),
        "html" => Ok((
            cryo_compare::report::render_html(report),
            "text/html; charset=utf-8",
        )),
        other => Err(VerifyError::Format(other.to_string())),
    }
}

/// `cryo build --check`: rebuild a realised derivation once per deliberate variation and
/// compare each rebuilt `.deb` with the recorded one; the report says which variation
/// changes which file. Stored like a verification report.
pub fn check(st: &Verifier, id: &B3Digest, vary: &[String]) -> Result<VerifyOutcome, VerifyError> {
    use crate::build::run::{build_varied, Variation};
    let variations: Vec<Variation> = if vary.is_empty() {
        Variation::ALL.to_vec()
    } else {
        vary.iter()
            .map(|v| Variation::parse(v.trim()))
            .collect::<Result<_, _>>()?
    };
    let recorded = st
        .store
        .realisation(id)?
        .ok_or(VerifyError::NotBuilt(*id))?;
    let bytes = st.store.read(id)?;
    let drv = cryo_store::derivation::Derivation::decode(&bytes)?;
    let mut sources = Vec::new();
    for v in variations {
        let label = format!("{} [vary {}]", drv.source.name, v.name());
        let mut binaries = Vec::new();
        let outcome = build_varied(&st.builder, id, v);
        for (name, out) in recorded
            .outputs
            .iter()
            .filter(|(n, _)| split_deb_name(n).is_some())
        {
            let (pkg, version, arch) = split_deb_name(name).expect("filtered");
            let pid = PackageId {
                package: pkg.to_string(),
                version: version.to_string(),
                architecture: arch.to_string(),
            };
            let report = match &outcome {
                Err(e) => BinaryReport::build_failed(pid, None, &crate::build::chain(e)),
                Ok((r, _)) if !r.success() => {
                    BinaryReport::build_failed(pid, None, &format!("{:?}", r.status))
                }
                Ok((_, files)) => match (files.get(name), st.store.read(&out.digest)) {
                    (Some(varied), Ok(rec)) => match compare_debs(varied, &rec, &Limits::default())
                    {
                        Ok(cmp) => BinaryReport::from_comparison(pid, None, cmp),
                        Err(e) => inconclusive(pid, None, format!("cannot compare: {e}")),
                    },
                    (None, _) => {
                        inconclusive(pid, None, format!("the varied build produced no {name}"))
                    }
                    (_, Err(e)) => inconclusive(pid, None, e.to_string()),
                },
            };
            binaries.push(report);
        }
        sources.push(SourceReport {
            source: label,
            version: drv.source.version.clone(),
            binaries,
        });
    }
    store_report(
        st,
        Report::new(sources),
        drv.snapshot.to_hex(),
        vec![format!("check {id}")],
        None,
    )
}

/// Store a report (rooted as `report/<id>`, listed by `cryo report list`); `env` is the
/// prjconf and architecture it was verified with, when it rebuilt sources.
pub fn store_report(
    st: &Verifier,
    report: Report,
    snapshot: String,
    sources: Vec<String>,
    env: Option<(&PrjconfText, &str)>,
) -> Result<VerifyOutcome, VerifyError> {
    let json = cryo_compare::report::render_json(&report);
    let stored = st
        .store
        .put_bytes(json.as_bytes(), ObjectKind::Record, &[], None)?;
    st.store
        .add_root(&format!("report/{}", stored.digest), &stored.digest)?;
    let code = exit_code(&report);
    let summary = report.summary();
    let info = ReportInfo {
        id: stored.digest,
        created: st.clock.now(),
        snapshot,
        sources,
        summary: summary.total.line(),
        exit_code: code,
        prjconf: env.map(|(p, _)| p.clone()),
        arch: env.map(|(_, a)| a.to_string()),
    };
    REPORTS.put(
        st.store.index().database(),
        info.id.to_hex().as_str(),
        &info,
    )?;
    Ok(VerifyOutcome {
        report: stored.digest,
        exit_code: code,
        summary: api_summary(&summary),
    })
}

/// Compare two builds' `.deb`s by name (`ours` e.g. a target project's, `theirs` the
/// source project's), store the report like `cryo verify` does and return it.
pub fn compare_builds(
    st: &Verifier,
    title: &str,
    version: &str,
    snapshot: &str,
    ours: &std::collections::BTreeMap<String, B3Digest>,
    theirs: &std::collections::BTreeMap<String, B3Digest>,
) -> Result<VerifyOutcome, VerifyError> {
    let report = build_comparison(st, title, version, ours, theirs);
    store_report(
        st,
        report,
        snapshot.to_string(),
        vec![title.to_string()],
        None,
    )
}

/// The report of [`compare_builds`], computed without storing anything.
pub fn build_comparison(
    st: &Verifier,
    title: &str,
    version: &str,
    ours: &std::collections::BTreeMap<String, B3Digest>,
    theirs: &std::collections::BTreeMap<String, B3Digest>,
) -> Report {
    let mut binaries = Vec::new();
    for (name, d) in ours.iter().filter(|(n, _)| split_deb_name(n).is_some()) {
        let (pkg, ver, arch) = split_deb_name(name).expect("filtered");
        let pid = PackageId {
            package: pkg.to_string(),
            version: ver.to_string(),
            architecture: arch.to_string(),
        };
        let report = match theirs.get(name) {
            None => inconclusive(pid, None, format!("the other build has no {name}")),
            Some(t) => match (st.store.read(d), st.store.read(t)) {
                (Ok(a), Ok(b)) => match compare_debs(&a, &b, &Limits::default()) {
                    Ok(cmp) => BinaryReport::from_comparison(pid, None, cmp),
                    Err(e) => inconclusive(pid, None, format!("cannot compare: {e}")),
                },
                (Err(e), _) | (_, Err(e)) => inconclusive(pid, None, e.to_string()),
            },
        };
        binaries.push(report);
    }
    Report::new(vec![SourceReport {
        source: title.to_string(),
        version: version.to_string(),
        binaries,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API's summary serialises byte for byte as cryo-compare's (field names, class
    /// names and the order of `by_kind`).
    #[test]
    fn api_summary_is_the_same_json() {
        let mut counts = cryo_compare::report::Counts::default();
        for (k, n) in [
            (ClassKind::MissingUpstream, 1),
            (ClassKind::Identical, 5),
            (ClassKind::Content, 2),
            (ClassKind::BuildIdOnly, 3),
            (ClassKind::MetadataOnly, 4),
            (ClassKind::ControlOnly, 8),
            (ClassKind::BuildFailed, 6),
            (ClassKind::Inconclusive, 7),
        ] {
            counts.by_kind.insert(k, n);
        }
        counts.analysed = 36;
        counts.identical = 5;
        let s = cryo_compare::report::Summary {
            total: counts.clone(),
            per_source: vec![cryo_compare::report::SourceSummary {
                source: "hello".into(),
                version: "2.10-3".into(),
                counts,
            }],
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            serde_json::to_string(&api_summary(&s)).unwrap()
        );
    }
}
