//! Build-id-only differences: the build-id hashes the objects as linked, including the
//! toolchain's version strings (`.comment`, DWARF producers) that the shipped binary no
//! longer carries. Which toolchain strings can differ is read from the rebuild's closure,
//! the versions the snapshots cryo holds offer, and the official binary's own notes.

use std::collections::BTreeMap;

use cryo_compare::report::BinaryReport;
use cryo_compare::{Detail, DiffNode, Limits};

use super::search::State;
use super::Target;
use crate::mirror::query;
use crate::mirror::snapshot::{self, IndexKind, SnapshotInfo};
use crate::verify::Verifier;

/// Whether a closure package is part of the toolchain whose version strings end up in
/// objects: compilers, their drivers and the linker.
pub(super) fn is_toolchain(name: &str) -> bool {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
    matches!(
        stem,
        "gcc" | "g++" | "cpp" | "gfortran" | "clang" | "rustc" | "golang-go" | "gnat"
    ) || name.starts_with("binutils")
        || name.starts_with("libgcc-") && name.ends_with("-dev")
}

/// Toolchain package → version in the latest accepted rebuild's closure.
pub(super) fn versions_in_closure(state: &State) -> BTreeMap<String, String> {
    state
        .resolved
        .iter()
        .flat_map(|r| &r.closure)
        .filter(|c| is_toolchain(&c.name))
        .map(|c| (c.name.clone(), c.version.clone()))
        .collect()
}

/// The versions `snap` selects for `names`.
pub(super) fn versions_in<'a>(
    st: &Verifier,
    snap: &SnapshotInfo,
    arch: &str,
    names: impl Iterator<Item = &'a String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for n in names {
        let Ok(entries) = query::package(&st.store, snap, n) else {
            continue;
        };
        if let Some(e) = entries.iter().find(|e| {
            e.kind == IndexKind::Packages && e.selected && (e.arch == arch || e.arch == "all")
        }) {
            out.insert(n.clone(), e.version.clone());
        }
    }
    out
}

/// Every version of `name` any snapshot cryo holds offers.
fn all_versions(st: &Verifier, arch: &str, name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in snapshot::list(&st.store).unwrap_or_default() {
        for e in query::package(&st.store, &s, name).unwrap_or_default() {
            if e.kind == IndexKind::Packages
                && (e.arch == arch || e.arch == "all")
                && !out.contains(&e.version)
            {
                out.push(e.version.clone());
            }
        }
    }
    out
}

/// The ELF files whose sections differ, with those sections.
fn build_id_files(
    nodes: &[DiffNode],
    path: &mut Vec<String>,
    out: &mut Vec<(String, Vec<String>)>,
) {
    for n in nodes {
        path.push(n.location.clone());
        if let Detail::ElfSection { name, .. } = &n.detail {
            if path.len() >= 2 {
                let file = path[path.len() - 2].clone();
                match out.iter_mut().find(|(f, _)| *f == file) {
                    Some((_, sections)) => sections.push(name.clone()),
                    None => out.push((file, vec![name.clone()])),
                }
            }
        }
        build_id_files(&n.children, path, out);
        path.pop();
    }
}

/// The official binary's toolchain evidence: its `.comment` strings, if it kept any.
fn official_comments(
    st: &Verifier,
    target: &Target,
    b: &BinaryReport,
    files: &[String],
) -> Vec<String> {
    let session = st.store.session();
    let limits = Limits::default();
    let Some(bytes) = super::official_deb(st, &target.snapshot, b, &session) else {
        return Vec::new();
    };
    let Ok(members) = cryo_compare::ar::parse(&bytes, limits.max_entries) else {
        return Vec::new();
    };
    let Some(data) = members.iter().find(|m| m.role() == "data.tar") else {
        return Vec::new();
    };
    let decoder = cryo_debian::compression::DecoderLimits {
        xz_memlimit: limits.xz_memlimit,
        zstd_window_log_max: limits.zstd_window_log_max,
    };
    let Ok(tar) = cryo_debian::compression::decompress_with(
        &data.data,
        data.compression,
        limits.max_decompressed_size,
        &decoder,
    ) else {
        return Vec::new();
    };
    let Ok(listing) = cryo_compare::tar::parse(&tar, &limits) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in files {
        let key = cryo_compare::tar::normalise(f);
        let Some(e) = listing.entries.get(&key) else {
            continue;
        };
        match cryo_compare::elf::section_bytes(&e.content, ".comment") {
            Some(c) => {
                for s in c.split(|b| *b == 0).filter(|s| !s.is_empty()) {
                    let s = String::from_utf8_lossy(s).to_string();
                    if !out.contains(&s) {
                        out.push(s);
                    }
                }
            }
            None => out.push(format!(
                "{f}: the official binary has no .comment section (stripped), so its compiler version is recorded nowhere but in the build-id"
            )),
        }
    }
    out
}

/// Why a build-id difference remains.
pub(super) fn notes(
    st: &Verifier,
    target: &Target,
    state: &State,
    binary: Option<&BinaryReport>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut files = Vec::new();
    if let Some(b) = binary {
        build_id_files(&b.differences, &mut Vec::new(), &mut files);
    }
    for (file, sections) in &files {
        out.push(format!(
            "{file}: only {} differ(s), every other section is identical: the build-id hashes the objects as linked, including the toolchain's version strings (.comment, DWARF producer), which the shipped binary no longer carries",
            sections.join(", ")
        ));
    }
    if let Some(b) = binary {
        let names: Vec<String> = files.iter().map(|(f, _)| f.clone()).collect();
        out.extend(official_comments(st, target, b, &names));
    }
    let ours = versions_in_closure(state);
    if !ours.is_empty() {
        let used: Vec<String> = ours.iter().map(|(n, v)| format!("{n} {v}")).collect();
        out.push(format!("this rebuild's toolchain: {}", used.join(", ")));
    }
    let mut alternatives = false;
    for (name, v) in &ours {
        let all = all_versions(st, &target.arch, name);
        let others: Vec<&String> = all.iter().filter(|x| *x != v).collect();
        if !others.is_empty() {
            alternatives = true;
            out.push(format!(
                "{name}: the snapshots also offer {}",
                others
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let compiler = ours
        .iter()
        .find(|(n, _)| n.starts_with("gcc-") || n.starts_with("clang"))
        .map(|(n, v)| format!("{n} {v}"))
        .unwrap_or_else(|| "the compiler".into());
    out.push(if alternatives {
        format!(
            "the remaining difference is the compiler's version string: the official binary was built with another toolchain than {compiler}, and none of the other versions tried reproduces it"
        )
    } else {
        format!(
            "the remaining difference is the compiler's version string: the official binary was built with another toolchain than {compiler}, and no snapshot cryo holds offers another version to try (sync a snapshot of the archive at the time of the official build)"
        )
    });
    out
}

#[cfg(test)]
mod tests {
    use super::is_toolchain;

    #[test]
    fn toolchain_packages() {
        for t in [
            "gcc-12",
            "gcc",
            "cpp-12",
            "g++-12",
            "binutils-x86-64-linux-gnu",
            "libgcc-12-dev",
            "clang-14",
        ] {
            assert!(is_toolchain(t), "{t}");
        }
        for n in ["libc6", "gcc-12-base", "make", "libgcc-s1"] {
            assert!(!is_toolchain(n), "{n}");
        }
    }
}
