//! The variations worth trying for a class of difference, most plausible first.
//!
//! - `content` / `metadata-only`: the clock (`Cryo-Clock: changelog`, `Cryo-Clock: fixed T`
//!   for the official `.deb`'s member times), the build path, packages beyond the closure
//!   (recommends of the build dependencies, as one `Support:` group that is then bisected),
//!   then other snapshots;
//! - `control-only`: the snapshots that provide most of the dependency versions the official
//!   `control` records;
//! - `build-id-only`: snapshots whose toolchain versions differ from the rebuild's.

use std::collections::BTreeSet;

use cryo_compare::report::explain::Cause;
use cryo_compare::report::BinaryReport;
use cryo_compare::{ClassKind, Detail, DiffNode, Limits};
use cryo_debian::relation::Relations;

use super::search::State;
use super::{toolchain, Target};
use crate::mirror::query;
use crate::mirror::snapshot::{self, IndexKind, SnapshotInfo};
use crate::verify::Verifier;

/// One variation: prjconf lines to append, or another snapshot.
#[derive(Debug, Clone)]
pub(super) struct Variation {
    pub cause: Cause,
    /// As shown: the prjconf lines, or `snapshot <id>`.
    pub label: String,
    pub lines: Vec<String>,
    pub snapshot: Option<SnapshotInfo>,
    /// For `ExtraPackages`: the packages added.
    pub packages: Vec<String>,
}

impl Variation {
    fn line(cause: Cause, line: String) -> Self {
        Self {
            cause,
            label: line.clone(),
            lines: vec![line],
            snapshot: None,
            packages: Vec::new(),
        }
    }

    pub fn extra_packages(packages: Vec<String>) -> Self {
        let line = format!("Support: {}", packages.join(" "));
        Self {
            packages,
            ..Self::line(Cause::ExtraPackages, line)
        }
    }

    fn snapshot(cause: Cause, snap: &SnapshotInfo, why: &str) -> Self {
        Self {
            cause,
            label: format!("snapshot {}{why}", &snap.id.to_hex()[..12]),
            lines: Vec::new(),
            snapshot: Some(snap.clone()),
            packages: Vec::new(),
        }
    }
}

/// At most this many packages in one `Support:` group.
const MAX_EXTRA: usize = 24;

/// Build paths tried (the derivation id drops the one in force).
const BUILD_PATHS: &[&str] = &[
    "/build/reproducible-path/%{SRC}-%{VER}",
    "/build/%{SRC}-%{VER}",
];

/// The candidates for the worst remaining class.
pub(super) fn for_class(
    st: &Verifier,
    target: &Target,
    state: &State,
    worst: ClassKind,
    packages: &[String],
) -> Vec<Variation> {
    let mut out = Vec::new();
    match worst {
        ClassKind::Content | ClassKind::MetadataOnly | ClassKind::BuildMetadataOnly => {
            out.push(Variation::line(
                Cause::Clock,
                "Cryo-Clock: changelog".into(),
            ));
            for t in official_times(st, target, state, packages) {
                out.push(Variation::line(
                    Cause::Clock,
                    format!("Cryo-Clock: fixed {t}"),
                ));
            }
            for p in BUILD_PATHS {
                out.push(Variation::line(
                    Cause::BuildPath,
                    format!("Cryo-BuildPath: {p}"),
                ));
            }
            if worst == ClassKind::Content {
                let extra = extra_packages(st, target, state);
                if !extra.is_empty() {
                    out.push(Variation::extra_packages(extra));
                }
                out.extend(
                    other_snapshots(st, state)
                        .into_iter()
                        .map(|s| Variation::snapshot(Cause::Snapshot, &s, "")),
                );
            }
        }
        ClassKind::ControlOnly => {
            let wanted = recorded_relations(state);
            let mut ranked: Vec<(usize, SnapshotInfo)> = other_snapshots(st, state)
                .into_iter()
                .map(|s| (provided(st, &s, &target.arch, &wanted), s))
                .filter(|(n, _)| *n > 0)
                .collect();
            ranked.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.created.cmp(&a.1.created)));
            for (n, s) in ranked {
                out.push(Variation::snapshot(
                    Cause::Snapshot,
                    &s,
                    &format!(" (provides {n} of {} recorded versions)", wanted.len()),
                ));
            }
        }
        ClassKind::BuildIdOnly => {
            let ours = toolchain::versions_in_closure(state);
            for s in other_snapshots(st, state) {
                let theirs = toolchain::versions_in(st, &s, &target.arch, ours.keys());
                if theirs.iter().any(|(n, v)| ours.get(n) != Some(v)) {
                    out.push(Variation::snapshot(
                        Cause::Toolchain,
                        &s,
                        " (other toolchain versions)",
                    ));
                }
            }
        }
        _ => {}
    }
    out
}

/// Every snapshot cryo holds but the one in force, newest first.
fn other_snapshots(st: &Verifier, state: &State) -> Vec<SnapshotInfo> {
    let mut all = snapshot::list(&st.store).unwrap_or_default();
    all.retain(|s| s.id != state.snapshot.id);
    all.reverse();
    all
}

/// The official `.deb`s' times: the `data.tar` member's ar mtime and its newest entry.
fn official_times(st: &Verifier, target: &Target, state: &State, packages: &[String]) -> Vec<u64> {
    let mut times = BTreeSet::new();
    let session = st.store.session();
    let limits = Limits::default();
    for b in state
        .report
        .binaries
        .iter()
        .filter(|b| packages.contains(&b.id.package))
    {
        let Some(bytes) = super::official_deb(st, &target.snapshot, b, &session) else {
            continue;
        };
        let Ok(members) = cryo_compare::ar::parse(&bytes, limits.max_entries) else {
            continue;
        };
        let Some(data) = members.iter().find(|m| m.role() == "data.tar") else {
            continue;
        };
        times.insert(data.mtime);
        let decoder = cryo_debian::compression::DecoderLimits {
            xz_memlimit: limits.xz_memlimit,
            zstd_window_log_max: limits.zstd_window_log_max,
        };
        if let Ok(tar) = cryo_debian::compression::decompress_with(
            &data.data,
            data.compression,
            limits.max_decompressed_size,
            &decoder,
        ) {
            if let Ok(listing) = cryo_compare::tar::parse(&tar, &limits) {
                if let Some(t) = listing.entries.values().map(|e| e.mtime).max() {
                    times.insert(t);
                }
            }
        }
    }
    times.into_iter().rev().take(2).collect()
}

/// Names of the first alternatives of a relation field's text.
fn relation_names(text: &str) -> Vec<String> {
    let Ok(r) = text.parse::<Relations>() else {
        return Vec::new();
    };
    r.0.iter()
        .filter_map(|alts| alts.0.first().map(|d| d.name.clone()))
        .collect()
}

/// Recommends of the build dependencies that the closure lacks (Debian's buildds install
/// no recommends, but a local `pbuilder`/`sbuild` setup or a fat chroot often has them).
fn extra_packages(st: &Verifier, target: &Target, state: &State) -> Vec<String> {
    let snap = &state.snapshot;
    let Some(source) = state.resolved.as_ref() else {
        return Vec::new();
    };
    let in_closure: BTreeSet<&str> = source.closure.iter().map(|c| c.name.as_str()).collect();
    let Ok(entries) = query::package(&st.store, snap, &source.source) else {
        return Vec::new();
    };
    let mut build_deps = Vec::new();
    for e in entries
        .iter()
        .filter(|e| e.kind == IndexKind::Sources && e.version == source.version)
    {
        for (k, v) in &e.fields {
            if matches!(
                k.as_str(),
                "Build-Depends" | "Build-Depends-Arch" | "Build-Depends-Indep"
            ) {
                build_deps.extend(relation_names(v));
            }
        }
    }
    let mut out = Vec::new();
    for dep in build_deps {
        let Ok(entries) = query::package(&st.store, snap, &dep) else {
            continue;
        };
        for e in entries.iter().filter(|e| {
            e.kind == IndexKind::Packages
                && e.selected
                && (e.arch == target.arch || e.arch == "all")
        }) {
            for (k, v) in &e.fields {
                if k == "Recommends" {
                    for name in relation_names(v) {
                        if !in_closure.contains(name.as_str())
                            && !out.contains(&name)
                            && available(st, snap, &name, &target.arch)
                        {
                            out.push(name);
                        }
                    }
                }
            }
        }
    }
    out.truncate(MAX_EXTRA);
    out
}

fn available(st: &Verifier, snap: &SnapshotInfo, name: &str, arch: &str) -> bool {
    query::package(&st.store, snap, name).is_ok_and(|es| {
        es.iter()
            .any(|e| e.kind == IndexKind::Packages && (e.arch == arch || e.arch == "all"))
    })
}

/// A relation the official `control` records where ours differs: name and version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Recorded {
    pub name: String,
    pub version: Option<String>,
}

fn control_fields<'a>(
    nodes: &'a [DiffNode],
    out: &mut Vec<(&'a str, Option<&'a str>, Option<&'a str>)>,
) {
    for n in nodes {
        if let Detail::ControlField {
            field,
            ours,
            official,
        } = &n.detail
        {
            out.push((field, ours.as_deref(), official.as_deref()));
        }
        control_fields(&n.children, out);
    }
}

/// The relations of the official `control` that ours does not record the same way.
fn recorded_relations(state: &State) -> Vec<Recorded> {
    recorded_relations_of(&state.report.binaries)
}

fn recorded_relations_of(binaries: &[BinaryReport]) -> Vec<Recorded> {
    let mut out = BTreeSet::new();
    for b in binaries {
        let mut fields = Vec::new();
        control_fields(&b.differences, &mut fields);
        for (_, ours, official) in fields {
            let ours: BTreeSet<String> = ours.map(items).unwrap_or_default().into_iter().collect();
            for item in official.map(items).unwrap_or_default() {
                if ours.contains(&item) {
                    continue;
                }
                let Ok(r) = item.parse::<Relations>() else {
                    continue;
                };
                for alts in &r.0 {
                    if let Some(d) = alts.0.first() {
                        out.insert(Recorded {
                            name: d.name.clone(),
                            version: d.constraint.as_ref().map(|(_, v)| v.to_string()),
                        });
                    }
                }
            }
        }
    }
    out.into_iter().collect()
}

fn items(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

/// How many of `wanted` the snapshot provides exactly (that version, or that name).
fn provided(st: &Verifier, snap: &SnapshotInfo, arch: &str, wanted: &[Recorded]) -> usize {
    let Ok(u) = st.deriver.universes.get(&st.store, snap, arch) else {
        return 0;
    };
    wanted
        .iter()
        .filter(|w| {
            u.candidates(&w.name).any(|c| match &w.version {
                Some(v) => c.pkg.version.to_string() == *v,
                None => true,
            })
        })
        .count()
}

/// Why a `control-only` difference remains: which recorded versions no snapshot provides.
pub(super) fn control_notes(
    st: &Verifier,
    target: &Target,
    state: &State,
    binary: Option<&BinaryReport>,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(b) = binary {
        out.push(b.classification.explanation.clone());
    }
    let wanted = recorded_relations(state);
    let snaps = snapshot::list(&st.store).unwrap_or_default();
    for w in &wanted {
        let holders: Vec<String> = snaps
            .iter()
            .filter(|s| provided(st, s, &target.arch, std::slice::from_ref(w)) == 1)
            .map(|s| s.id.to_hex()[..12].to_string())
            .collect();
        let what = match &w.version {
            Some(v) => format!("{} {v}", w.name),
            None => w.name.clone(),
        };
        if holders.is_empty() {
            out.push(format!(
                "the official control records {what}, which no snapshot cryo holds provides: sync a snapshot of the archive at the time of the official build"
            ));
        } else {
            out.push(format!(
                "{what} is provided by snapshot(s) {}",
                holders.join(", ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryo_compare::report::BinaryReport;
    use cryo_compare::{Category, Classification, PackageId};

    fn with_depends(ours: &str, official: &str) -> BinaryReport {
        BinaryReport {
            id: PackageId {
                package: "libfoo-perl".into(),
                version: "1".into(),
                architecture: "amd64".into(),
            },
            ours_digest: None,
            official_sha256: None,
            classification: Classification {
                kind: ClassKind::ControlOnly,
                explanation: String::new(),
            },
            differences: vec![DiffNode {
                location: "control.tar.xz".into(),
                category: Category::Control,
                detail: Detail::Group,
                children: vec![DiffNode::leaf(
                    "Depends",
                    Category::Control,
                    Detail::ControlField {
                        field: "Depends".into(),
                        ours: Some(ours.into()),
                        official: Some(official.into()),
                    },
                )],
            }],
            limits_hit: Vec::new(),
            explanation: None,
        }
    }

    #[test]
    fn recorded_versions_are_the_official_items_ours_lacks() {
        let b = with_depends(
            "perl (>= 5.36.0-7), perlapi-5.36.0, libc6 (>= 2.34)",
            "perl (>= 5.36.0-7+deb12u3), perlapi-5.36.1, libc6 (>= 2.34)",
        );
        let got = recorded_relations_of(&[b]);
        assert_eq!(
            got,
            vec![
                Recorded {
                    name: "perl".into(),
                    version: Some("5.36.0-7+deb12u3".into())
                },
                Recorded {
                    name: "perlapi-5.36.1".into(),
                    version: None
                },
            ]
        );
    }

    #[test]
    fn relation_names_take_first_alternatives() {
        assert_eq!(
            relation_names("debhelper-compat (= 13), gcc | clang, libfoo-dev:native [amd64]"),
            vec!["debhelper-compat", "gcc", "libfoo-dev"]
        );
    }

    #[test]
    fn extra_packages_are_one_support_line() {
        let v = Variation::extra_packages(vec!["a".into(), "b".into()]);
        assert_eq!(v.lines, vec!["Support: a b".to_string()]);
        assert_eq!(v.cause, Cause::ExtraPackages);
    }
}
