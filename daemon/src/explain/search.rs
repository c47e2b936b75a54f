//! The bounded search: starting from the report's rebuild, try variations for the worst
//! remaining class; the first one that makes the source strictly better (no binary worse,
//! one better) is accepted and the search goes on from there, until everything is identical,
//! no variation helps or the rebuild bound is reached.

use std::collections::{BTreeMap, BTreeSet};

use cryo_compare::report::explain::{Attempt, Cause, Explanation, Verdict};
use cryo_compare::report::SourceReport;
use cryo_compare::ClassKind;
use cryo_store::B3Digest;

use super::candidates::{self, Variation};
use super::{explainable, toolchain, Target};
use crate::drv::derive::Resolved;
use crate::drv::request::{PrjconfText, ResolveRequestBody};
use crate::drv::source::SourceSpec;
use crate::mirror::snapshot::SnapshotInfo;
use crate::verify::{self, Verifier};

/// Where the search stands: the accepted variations and the classes they give.
pub(super) struct State {
    /// prjconf lines accepted so far (appended to the report's prjconf).
    pub lines: Vec<String>,
    /// The snapshot accepted so far.
    pub snapshot: SnapshotInfo,
    /// The latest accepted rebuild (the report's at first).
    pub report: SourceReport,
    /// Its resolution (closure), when known.
    pub resolved: Option<Resolved>,
}

impl State {
    fn classes(&self, packages: &[String]) -> BTreeMap<String, ClassKind> {
        classes(&self.report, packages)
    }
}

fn classes(r: &SourceReport, packages: &[String]) -> BTreeMap<String, ClassKind> {
    packages
        .iter()
        .map(|p| {
            let k = r
                .binaries
                .iter()
                .find(|b| &b.id.package == p)
                .map_or(ClassKind::BuildFailed, |b| b.classification.kind);
            (p.clone(), k)
        })
        .collect()
}

/// No binary worse and at least one better.
fn better(new: &BTreeMap<String, ClassKind>, old: &BTreeMap<String, ClassKind>) -> bool {
    old.iter().all(|(p, k)| new.get(p).is_some_and(|n| n <= k))
        && old.iter().any(|(p, k)| new.get(p).is_some_and(|n| n < k))
}

/// The prjconf with `lines` appended.
fn prjconf_with(base: &PrjconfText, lines: &[String]) -> PrjconfText {
    let mut text = base.text.clone();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if !lines.is_empty() {
        text.push_str("# cryo explain\n");
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
    }
    PrjconfText {
        name: base.name.clone(),
        text,
    }
}

fn resolve(
    st: &Verifier,
    target: &Target,
    snap: &SnapshotInfo,
    lines: &[String],
    request: &str,
) -> Result<Resolved, String> {
    let req = ResolveRequestBody {
        snapshot: snap.id.to_hex(),
        prjconf: prjconf_with(&target.prjconf, lines),
        source: SourceSpec::Snapshot {
            request: request.to_string(),
        },
        arch: Some(target.arch.clone()),
        build: None,
    };
    crate::drv::request::resolve(&st.deriver, &req).map_err(|e| e.to_string())
}

/// Everything recorded about one source's search.
struct Search<'a> {
    st: &'a Verifier,
    target: &'a Target,
    request: String,
    packages: Vec<String>,
    seen: BTreeSet<B3Digest>,
    tried_labels: BTreeSet<String>,
    rebuilds: u32,
    tried: BTreeMap<String, Vec<Attempt>>,
    explained_by: BTreeMap<String, Vec<Attempt>>,
    progress: &'a (dyn Fn(&str) + Sync),
}

/// One tried variation's result.
enum Outcome {
    /// It could not be derived (or it derives the same as something tried).
    Skipped,
    Built(Box<(Resolved, SourceReport)>),
}

impl Search<'_> {
    fn budget_left(&self) -> bool {
        self.rebuilds < self.target.max_rebuilds
    }

    fn attempt(
        &mut self,
        v: &Variation,
        derivation: Option<String>,
        report: Option<&SourceReport>,
        why: &str,
    ) {
        for p in &self.packages {
            let b = report.and_then(|r| r.binaries.iter().find(|b| &b.id.package == p));
            let (class, note) = match (b, report) {
                (Some(b), _) => (b.classification.kind, b.classification.explanation.clone()),
                (None, Some(r)) => {
                    let why = r
                        .binaries
                        .first()
                        .map(|b| b.classification.explanation.clone())
                        .unwrap_or_else(|| "the rebuild produced no such binary".into());
                    (ClassKind::BuildFailed, why)
                }
                (None, None) => (ClassKind::BuildFailed, why.to_string()),
            };
            self.tried.entry(p.clone()).or_default().push(Attempt {
                cause: v.cause,
                variation: v.label.clone(),
                derivation: derivation.clone(),
                class,
                note,
            });
        }
    }

    /// Derive and (unless already tried) build one variation on top of `state`.
    fn run(&mut self, state: &State, v: &Variation) -> Outcome {
        self.tried_labels.insert(v.label.clone());
        let snap = v.snapshot.as_ref().unwrap_or(&state.snapshot);
        let mut lines = state.lines.clone();
        lines.extend(v.lines.iter().cloned());
        let resolved = match resolve(self.st, self.target, snap, &lines, &self.request) {
            Ok(r) => r,
            Err(e) => {
                self.attempt(v, None, None, &format!("cannot be derived: {e}"));
                return Outcome::Skipped;
            }
        };
        if !self.seen.insert(resolved.derivation) {
            tracing::debug!(variation = %v.label, "same derivation as one already compared");
            return Outcome::Skipped;
        }
        (self.progress)(&format!(
            "rebuilding {} with {} ({}/{})",
            self.request,
            v.label,
            self.rebuilds + 1,
            self.target.max_rebuilds
        ));
        self.rebuilds += 1;
        // The official binaries are always the report's snapshot's.
        let report = verify::built_report(self.st, &self.target.snapshot, &resolved);
        self.attempt(v, Some(resolved.derivation.to_hex()), Some(&report), "");
        Outcome::Built(Box::new((resolved, report)))
    }

    fn accept(
        &mut self,
        state: &mut State,
        v: &Variation,
        resolved: Resolved,
        report: SourceReport,
    ) {
        let before = state.classes(&self.packages);
        let after = classes(&report, &self.packages);
        for (p, k) in &after {
            if Some(k) < before.get(p) {
                self.explained_by
                    .entry(p.clone())
                    .or_default()
                    .push(Attempt {
                        cause: v.cause,
                        variation: v.label.clone(),
                        derivation: Some(resolved.derivation.to_hex()),
                        class: *k,
                        note: format!(
                            "{} → {}",
                            before.get(p).map_or("?", |k| k.label()),
                            k.label()
                        ),
                    });
            }
        }
        state.lines.extend(v.lines.iter().cloned());
        if let Some(s) = &v.snapshot {
            state.snapshot = s.clone();
        }
        state.report = report;
        state.resolved = Some(resolved);
    }

    /// A group of extra packages helped: narrow it down by halves while the bound allows,
    /// keeping a half that gives the same classes.
    fn bisect(
        &mut self,
        state: &State,
        group: Variation,
        got: &BTreeMap<String, ClassKind>,
    ) -> (Variation, Option<Box<(Resolved, SourceReport)>>) {
        let mut best = group;
        let mut best_built = None;
        while best.packages.len() > 1 && self.budget_left() {
            let mid = best.packages.len() / 2;
            let halves = [best.packages[..mid].to_vec(), best.packages[mid..].to_vec()];
            let mut narrowed = false;
            for half in halves {
                if !self.budget_left() {
                    break;
                }
                let v = Variation::extra_packages(half);
                if let Outcome::Built(b) = self.run(state, &v) {
                    if &classes(&b.1, &self.packages) == got {
                        best = v;
                        best_built = Some(b);
                        narrowed = true;
                        break;
                    }
                }
            }
            if !narrowed {
                break;
            }
        }
        (best, best_built)
    }
}

/// Explain the differing binaries of one source of a report.
pub(super) fn explain_source(
    st: &Verifier,
    target: &Target,
    source: &SourceReport,
    progress: &(dyn Fn(&str) + Sync),
) -> Vec<(String, Explanation)> {
    let packages: Vec<String> = source
        .binaries
        .iter()
        .filter(|b| explainable(b.classification.kind))
        .map(|b| b.id.package.clone())
        .collect();
    let request = format!("src:{}={}", source.source, source.version);
    let mut search = Search {
        st,
        target,
        request: request.clone(),
        packages: packages.clone(),
        seen: BTreeSet::new(),
        tried_labels: BTreeSet::new(),
        rebuilds: 0,
        tried: BTreeMap::new(),
        explained_by: BTreeMap::new(),
        progress,
    };
    let baseline = resolve(st, target, &target.snapshot, &[], &request).ok();
    if let Some(r) = &baseline {
        search.seen.insert(r.derivation);
    }
    let mut state = State {
        lines: Vec::new(),
        snapshot: target.snapshot.clone(),
        report: source.clone(),
        resolved: baseline,
    };
    let before = state.classes(&packages);
    'search: loop {
        let now = state.classes(&packages);
        let Some(worst) = now
            .values()
            .copied()
            .filter(|k| *k != ClassKind::Identical)
            .max()
        else {
            break;
        };
        let mut found = false;
        for v in candidates::for_class(st, target, &state, worst, &packages) {
            if search.tried_labels.contains(&v.label) {
                continue;
            }
            if !search.budget_left() {
                break 'search;
            }
            let Outcome::Built(b) = search.run(&state, &v) else {
                continue;
            };
            let got = classes(&b.1, &packages);
            if !better(&got, &now) {
                continue;
            }
            let (v, built) = if v.cause == Cause::ExtraPackages && v.packages.len() > 1 {
                let (narrowed, built) = search.bisect(&state, v, &got);
                (narrowed, built.unwrap_or(b))
            } else {
                (v, b)
            };
            let (resolved, report) = *built;
            search.accept(&mut state, &v, resolved, report);
            found = true;
            break;
        }
        if !found {
            break;
        }
    }
    let after = state.classes(&packages);
    packages
        .iter()
        .map(|p| {
            let (b, a) = (before[p], after[p]);
            let explained_by = search.explained_by.remove(p).unwrap_or_default();
            let tried = search.tried.get(p).cloned().unwrap_or_default();
            let remaining = remaining(st, target, &state, p, a, &tried);
            let verdict = if a == ClassKind::Identical {
                Verdict::Reproduced
            } else if a < b {
                Verdict::Improved
            } else {
                Verdict::Unexplained
            };
            let by = explained_by
                .iter()
                .map(|x| x.variation.as_str())
                .collect::<Vec<_>>()
                .join(" + ");
            let summary = match verdict {
                Verdict::Reproduced => format!("reproduced bit for bit with {by}"),
                Verdict::Improved => format!(
                    "{by} turns {} into {}{}",
                    b.label(),
                    a.label(),
                    remaining
                        .first()
                        .map(|r| format!("; {r}"))
                        .unwrap_or_default()
                ),
                Verdict::Unexplained => format!(
                    "none of the {} variation(s) tried changes {}{}",
                    tried.len(),
                    b.label(),
                    remaining
                        .first()
                        .map(|r| format!("; {r}"))
                        .unwrap_or_default()
                ),
            };
            let prjconf_addition = state.lines.iter().map(|l| format!("{l}\n")).collect();
            (
                p.clone(),
                Explanation {
                    verdict,
                    class_before: b,
                    class_after: a,
                    summary,
                    explained_by,
                    tried,
                    remaining,
                    prjconf_addition,
                    snapshot: state.snapshot.id.to_hex(),
                    rebuilds: search.rebuilds,
                    max_rebuilds: target.max_rebuilds,
                },
            )
        })
        .collect()
}

/// What is left and why, for a binary that is not reproduced.
fn remaining(
    st: &Verifier,
    target: &Target,
    state: &State,
    package: &str,
    class: ClassKind,
    tried: &[Attempt],
) -> Vec<String> {
    let binary = state
        .report
        .binaries
        .iter()
        .find(|b| b.id.package == package);
    match class {
        ClassKind::Identical => Vec::new(),
        ClassKind::BuildIdOnly => toolchain::notes(st, target, state, binary),
        ClassKind::ControlOnly => candidates::control_notes(st, target, state, binary),
        _ => {
            let mut out = Vec::new();
            if let Some(b) = binary {
                out.push(format!("still {}", b.classification.explanation));
            }
            if tried.len() as u32 >= target.max_rebuilds {
                out.push(format!(
                    "the bound of {} rebuilds was reached (--max-rebuilds)",
                    target.max_rebuilds
                ));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(list: &[(&str, ClassKind)]) -> BTreeMap<String, ClassKind> {
        list.iter().map(|(p, k)| (p.to_string(), *k)).collect()
    }

    #[test]
    fn better_means_none_worse_and_one_better() {
        use ClassKind::*;
        let old = m(&[("a", Content), ("b", BuildIdOnly)]);
        assert!(better(&m(&[("a", BuildIdOnly), ("b", BuildIdOnly)]), &old));
        assert!(!better(&old, &old));
        assert!(!better(&m(&[("a", Identical), ("b", Content)]), &old));
        assert!(
            !better(&m(&[("a", Identical)]), &old),
            "a missing binary is no better"
        );
    }

    #[test]
    fn appended_lines_override_the_prjconf() {
        let base = PrjconfText {
            name: "p".into(),
            text: "Cryo-Clock: real".into(),
        };
        let p = prjconf_with(&base, &["Cryo-Clock: changelog".into()]);
        assert_eq!(
            p.text,
            "Cryo-Clock: real\n# cryo explain\nCryo-Clock: changelog\n"
        );
        let conf =
            cryo_prjconf::Prjconf::parse(&p.text, "p", &cryo_prjconf::ParseContext::new("x86_64"))
                .unwrap();
        assert_eq!(conf.cryo().clock, cryo_prjconf::cryo::Clock::Changelog);
        assert_eq!(prjconf_with(&base, &[]).text, "Cryo-Clock: real\n");
    }
}
