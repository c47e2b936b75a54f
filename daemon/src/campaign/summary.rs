//! Counts and percentages (like reproduce.debian.net: per class, per suite and
//! architecture, one history line per pass), the classes that changed in an update, and
//! the rebuilderd-style export.

use std::collections::BTreeMap;

use cryo_store::api::{
    Campaign, CampaignCounts, CampaignRow, ClassChange, HistoryLine, RebuilderdExport,
    RebuilderdPackage, RowClass, SuiteSummary,
};

use super::tables::{CampaignRecord, SourceRow};

/// How bad a class is, for a source's own class (its worst binary).
fn rank(c: RowClass) -> u8 {
    match c {
        RowClass::Identical => 0,
        RowClass::SignatureOnly => 1,
        RowClass::BuildMetadataOnly => 2,
        RowClass::MetadataOnly => 3,
        RowClass::ControlOnly => 4,
        RowClass::BuildIdOnly => 5,
        RowClass::Content => 6,
        RowClass::MissingUpstream => 7,
        RowClass::Inconclusive => 8,
        RowClass::NotInMirror => 9,
        RowClass::BuildFailed => 10,
        RowClass::Pending => 11,
    }
}

/// The worst of `classes` (`missing-upstream` for none: nothing to compare).
pub(super) fn worst(classes: impl Iterator<Item = RowClass>) -> RowClass {
    classes
        .max_by_key(|c| rank(*c))
        .unwrap_or(RowClass::MissingUpstream)
}

/// A source row as API rows: one per binary, or one for the source without binaries.
pub(super) fn api_rows(rec: &CampaignRecord, s: &SourceRow) -> Vec<CampaignRow> {
    let base = CampaignRow {
        source: s.source.clone(),
        version: s.version.clone(),
        binary: String::new(),
        arch: rec.arch.clone(),
        suite: s.suite.clone(),
        class: s.class,
        report: s.report,
        time: s.time,
        derivation: s.derivation,
        note: s.note.clone(),
        verified_on: s.verified_on,
        buildinfo: s.buildinfo.as_ref().map(|b| b.name.clone()),
    };
    if s.binaries.is_empty() || s.state.is_pending() {
        let mut r = base;
        if s.state.is_pending() {
            r.class = RowClass::Pending;
        }
        return vec![r];
    }
    s.binaries
        .iter()
        .map(|b| CampaignRow {
            binary: b.binary.clone(),
            version: if b.binary.is_empty() {
                s.version.clone()
            } else {
                b.version.clone()
            },
            arch: b.arch.clone(),
            class: b.class,
            ..base.clone()
        })
        .collect()
}

fn counts(rec: &CampaignRecord, rows: &[&SourceRow]) -> CampaignCounts {
    let mut c = CampaignCounts {
        sources: rows.len() as u64,
        ..Default::default()
    };
    for s in rows {
        if s.state.is_pending() {
            c.pending += 1;
        }
        for r in api_rows(rec, s) {
            c.rows += 1;
            *c.by_class.entry(r.class).or_default() += 1;
        }
    }
    c
}

/// Percent of the verdicts per class: rows that are neither pending nor
/// `not-in-mirror` (reproduce.debian.net counts what it could try to build).
fn percent(c: &CampaignCounts) -> BTreeMap<RowClass, f64> {
    let judged: u64 = c
        .by_class
        .iter()
        .filter(|(k, _)| !matches!(k, RowClass::Pending | RowClass::NotInMirror))
        .map(|(_, n)| n)
        .sum();
    c.by_class
        .iter()
        .filter(|(k, _)| !matches!(k, RowClass::Pending | RowClass::NotInMirror))
        .map(|(k, n)| {
            let p = if judged == 0 {
                0.0
            } else {
                (*n as f64) * 100.0 / judged as f64
            };
            (*k, (p * 10.0).round() / 10.0)
        })
        .collect()
}

/// The campaign as the API shows it.
pub(super) fn campaign(rec: &CampaignRecord, rows: &[SourceRow]) -> Campaign {
    let all: Vec<&SourceRow> = rows.iter().collect();
    let mut by_suite: BTreeMap<String, Vec<&SourceRow>> = BTreeMap::new();
    for r in rows {
        by_suite.entry(r.suite.clone()).or_default().push(r);
    }
    let per_suite = by_suite
        .into_iter()
        .map(|(suite, rs)| {
            let counts = counts(rec, &rs);
            SuiteSummary {
                suite,
                arch: rec.arch.clone(),
                percent: percent(&counts),
                counts,
            }
        })
        .collect();
    Campaign {
        name: rec.name.clone(),
        snapshot: rec.snapshot,
        prjconf: rec.prjconf.name.clone(),
        prjconf_digest: rec.prjconf_digest,
        arch: rec.arch.clone(),
        state: rec.state,
        counts: counts(rec, &all),
        selection: rec.selection.clone(),
        created: rec.created,
        updated: rec.updated,
        per_suite,
        history: rec.history.clone(),
    }
}

/// Rows whose class changed in the pass that just finished.
fn changes(rows: &[SourceRow]) -> Vec<ClassChange> {
    let mut out = Vec::new();
    for s in rows {
        let Some(prev) = &s.previous else { continue };
        let mut seen = std::collections::BTreeSet::new();
        for b in &s.binaries {
            seen.insert(b.binary.clone());
            let old = prev
                .binaries
                .iter()
                .find(|p| p.binary == b.binary)
                .map(|p| (p.version.clone(), p.class))
                .unwrap_or((prev.version.clone(), prev.class));
            if old.1 != b.class {
                out.push(ClassChange {
                    source: s.source.clone(),
                    binary: b.binary.clone(),
                    old_version: old.0,
                    new_version: b.version.clone(),
                    old: old.1,
                    new: b.class,
                });
            }
        }
        if s.binaries.is_empty() && prev.class != s.class {
            out.push(ClassChange {
                source: s.source.clone(),
                binary: String::new(),
                old_version: prev.version.clone(),
                new_version: s.version.clone(),
                old: prev.class,
                new: s.class,
            });
        }
        for p in prev.binaries.iter().filter(|p| !seen.contains(&p.binary)) {
            if !s.binaries.is_empty() {
                out.push(ClassChange {
                    source: s.source.clone(),
                    binary: p.binary.clone(),
                    old_version: p.version.clone(),
                    new_version: s.version.clone(),
                    old: p.class,
                    new: RowClass::NotInMirror,
                });
            }
        }
    }
    out
}

/// The history line of a finished pass.
pub(super) fn history_line(rec: &CampaignRecord, rows: &[SourceRow], now: i64) -> HistoryLine {
    let all: Vec<&SourceRow> = rows.iter().collect();
    let counts = counts(rec, &all);
    HistoryLine {
        time: now,
        snapshot: rec.snapshot,
        event: rec.pass.clone(),
        verified: (rows.len() as u64).saturating_sub(rec.carried),
        carried: rec.carried,
        percent: percent(&counts),
        counts,
        changed: changes(rows),
    }
}

/// The rebuilderd-style export: one package per binary row.
pub(super) fn rebuilderd(rec: &CampaignRecord, rows: &[SourceRow]) -> RebuilderdExport {
    let mut stats: BTreeMap<String, u64> = BTreeMap::new();
    let mut packages = Vec::new();
    for s in rows {
        for r in api_rows(rec, s) {
            let status = r.class.rebuilderd_status().to_string();
            *stats.entry(status.clone()).or_default() += 1;
            packages.push(RebuilderdPackage {
                name: if r.binary.is_empty() {
                    r.source.clone()
                } else {
                    r.binary.clone()
                },
                version: r.version.clone(),
                status,
                distro: "debian".into(),
                suite: r.suite.clone(),
                architecture: r.arch.clone(),
                base: r.source.clone(),
                built_at: r.time.map(cryo_debian::date::format_rfc3339),
                class: r.class,
                report: r.report,
            });
        }
    }
    RebuilderdExport {
        campaign: rec.name.clone(),
        snapshot: rec.snapshot,
        stats,
        packages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::tables::{BinaryVerdict, Previous, RowState};
    use cryo_store::api::{CampaignState, PrjconfText};
    use cryo_store::B3Digest;

    fn rec() -> CampaignRecord {
        CampaignRecord {
            name: "c".into(),
            snapshot: B3Digest::of(b"s"),
            prjconf: PrjconfText {
                name: "p".into(),
                text: String::new(),
            },
            prjconf_digest: B3Digest::of(b""),
            arch: "amd64".into(),
            state: CampaignState::Done,
            selection: "list".into(),
            created: 0,
            updated: 0,
            epoch: 2,
            pending: 0,
            pass: "update".into(),
            carried: 1,
            history: Vec::new(),
        }
    }

    fn done(source: &str, bins: &[(&str, RowClass)]) -> SourceRow {
        let mut r = SourceRow::pending("c", &format!("src:{source}"), 2);
        r.state = RowState::Done;
        r.version = "1".into();
        r.suite = "bookworm".into();
        r.time = Some(1_795_564_800);
        r.binaries = bins
            .iter()
            .map(|(b, c)| BinaryVerdict {
                binary: b.to_string(),
                version: "1".into(),
                arch: "amd64".into(),
                class: *c,
                official_sha256: None,
            })
            .collect();
        r.class = worst(r.binaries.iter().map(|b| b.class));
        r
    }

    #[test]
    fn counts_percentages_changes_and_export() {
        let mut a = done(
            "a",
            &[("a1", RowClass::Identical), ("a2", RowClass::Content)],
        );
        a.previous = Some(Previous {
            version: "0".into(),
            class: RowClass::Identical,
            binaries: vec![BinaryVerdict {
                binary: "a2".into(),
                version: "0".into(),
                arch: "amd64".into(),
                class: RowClass::Identical,
                official_sha256: None,
            }],
        });
        let b = done("b", &[("b1", RowClass::Identical)]);
        let mut gone = SourceRow::pending("c", "src:gone", 2);
        gone.state = RowState::Done;
        gone.class = RowClass::NotInMirror;
        let f = done("f", &[("", RowClass::BuildFailed)]);
        let pending = SourceRow::pending("c", "src:p", 2);
        let rows = vec![a, b, gone, f, pending];
        assert_eq!(rows[0].class, RowClass::Content);

        let c = campaign(&rec(), &rows);
        assert_eq!(c.counts.sources, 5);
        assert_eq!(c.counts.pending, 1);
        assert_eq!(c.counts.rows, 6);
        assert_eq!(c.counts.by_class[&RowClass::Identical], 2);
        // Percentages are over verdicts: not pending, not not-in-mirror (4 rows).
        let h = history_line(&rec(), &rows, 7);
        assert_eq!(h.percent[&RowClass::Identical], 50.0);
        assert_eq!(h.percent[&RowClass::Content], 25.0);
        assert_eq!(h.percent[&RowClass::BuildFailed], 25.0);
        assert!(!h.percent.contains_key(&RowClass::NotInMirror));
        assert_eq!((h.verified, h.carried), (4, 1));
        // a2 went identical → content; a1 is new (compared with the source's old class).
        assert_eq!(h.changed.len(), 1, "{:?}", h.changed);
        assert_eq!(h.changed[0].binary, "a2");
        assert_eq!(
            (h.changed[0].old, h.changed[0].new),
            (RowClass::Identical, RowClass::Content)
        );

        let e = rebuilderd(&rec(), &rows);
        let status = |n: &str| {
            e.packages
                .iter()
                .find(|p| p.name == n)
                .map(|p| p.status.clone())
                .unwrap()
        };
        assert_eq!(status("a1"), "GOOD");
        assert_eq!(status("a2"), "BAD");
        assert_eq!(status("f"), "FAIL");
        assert_eq!(status("gone"), "UNKWN");
        assert_eq!(status("p"), "UNKWN");
        assert_eq!(e.stats["GOOD"], 2);
        assert_eq!(
            e.packages[0].built_at.as_deref(),
            Some("2026-11-25T00:00:00Z")
        );
    }

    #[test]
    fn rpm_classes_rank_and_export() {
        // signature-only is next to identical and GOOD; build-metadata-only is a difference.
        let r = done(
            "r",
            &[
                ("r1", RowClass::SignatureOnly),
                ("r2", RowClass::BuildMetadataOnly),
            ],
        );
        assert_eq!(r.class, RowClass::BuildMetadataOnly);
        let s = done(
            "s",
            &[("s1", RowClass::SignatureOnly), ("s2", RowClass::Identical)],
        );
        assert_eq!(s.class, RowClass::SignatureOnly);
        let m = done(
            "m",
            &[
                ("m1", RowClass::MetadataOnly),
                ("m2", RowClass::BuildMetadataOnly),
            ],
        );
        assert_eq!(m.class, RowClass::MetadataOnly);
        let e = rebuilderd(&rec(), &[r, s, m]);
        let status = |n: &str| {
            e.packages
                .iter()
                .find(|p| p.name == n)
                .map(|p| p.status.clone())
                .unwrap()
        };
        assert_eq!(status("r1"), "GOOD");
        assert_eq!(status("r2"), "BAD");
        assert_eq!(status("s1"), "GOOD");
        assert_eq!(
            RowClass::from(cryo_store::api::ClassKind::SignatureOnly).as_str(),
            "signature-only"
        );
        assert_eq!(
            crate::verify::api_kind(cryo_compare::ClassKind::BuildMetadataOnly),
            cryo_store::api::ClassKind::BuildMetadataOnly
        );
    }
}
