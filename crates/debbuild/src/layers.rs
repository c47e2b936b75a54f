//! Layered roots: which part of a build environment is the **base layer**, prepared once
//! and shared, and which part is the build's own **delta**.
//!
//! The base is what a project's roots have in common: the Preinstall set, the prjconf's
//! `Required:` and `Support:` packages and the `Essential: yes` packages, closed under
//! `Depends`/`Pre-Depends` within the closure (the first alternative of each group that the
//! closure holds, a real package before a provider of a virtual one). It is computed from
//! the closure itself, so it is always a subset of it at the same versions: the delta can
//! never replace a base package. It can still interfere with one (`Conflicts`, `Breaks`,
//! `Replaces` between a delta and a base package: dpkg's result could then depend on the
//! order the two are installed in); such a closure is prepared in one go instead
//! ([`Layering::Full`], with the reason).

use std::collections::{BTreeMap, BTreeSet};

use cryo_debian::relation::{Relation, Relations};
use cryo_debian::version::Version;

use crate::deb::{self, DebFile};
use crate::root::{RootError, RootPlan};

/// The packages whose closure makes the **tool layer** when the prjconf names none
/// (`Cryo-ToolLayer:`): debhelper and what it pulls in (autotools, gettext, man-db, perl
/// modules …) are in nearly every Debian build's closure beyond the base, so a layer
/// holding them turns most roots into a copy plus a handful of packages.
pub const DEFAULT_TOOL_SEEDS: &[&str] = &["debhelper"];

/// How a root is to be prepared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layering {
    /// From a base layer: `base` is a plan for [`crate::prepare_base`] (its `install` holds
    /// the base's packages beyond the Preinstall set); `tools` the tool layer installed on
    /// a copy of the base ([`crate::prepare_layer`]; empty when the closure holds none of
    /// the tool seeds, or when a tool package interferes with the rest, see `tools_note`);
    /// `delta` the rest of the closure. Each list sorted by name.
    Layered {
        base: RootPlan,
        tools: Vec<DebFile>,
        delta: Vec<DebFile>,
        tools_note: Option<String>,
    },
    /// In one go ([`crate::prepare_root`]), for this reason.
    Full { reason: String },
}

/// One closure package with the control fields the split needs.
struct Pkg {
    deb: DebFile,
    version: Option<Version>,
    preinstall: bool,
    essential: bool,
    depends: Relations,
    /// Conflicts + Breaks.
    against: Relations,
    replaces: Relations,
    provides: Vec<String>,
}

fn relations(path: &std::path::Path, field: &str, text: &str) -> Result<Relations, RootError> {
    text.parse().map_err(|e| RootError::Io {
        path: path.into(),
        source: std::io::Error::other(format!("{field}: {e}")),
    })
}

fn read(d: &DebFile, preinstall: bool) -> Result<Pkg, RootError> {
    let c = deb::read_control(&d.path)?;
    let get = |f: &str| c.get(f).unwrap_or_default().trim().to_owned();
    let join = |a: &str, b: &str| {
        [get(a), get(b)]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let provides = relations(&d.path, "Provides", &get("Provides"))?
        .0
        .into_iter()
        .flat_map(|alt| alt.0.into_iter().map(|r| r.name))
        .collect();
    Ok(Pkg {
        version: d.version.parse().ok(),
        preinstall,
        essential: get("Essential") == "yes",
        depends: relations(&d.path, "Depends", &join("Pre-Depends", "Depends"))?,
        against: relations(&d.path, "Conflicts", &join("Conflicts", "Breaks"))?,
        replaces: relations(&d.path, "Replaces", &get("Replaces"))?,
        provides,
        deb: d.clone(),
    })
}

/// The closure packages `r` names: the real package if it satisfies the version
/// constraint, else the providers of a virtual name.
fn targets<'a>(
    r: &Relation,
    pkgs: &'a BTreeMap<String, Pkg>,
    providers: &'a BTreeMap<String, BTreeSet<String>>,
) -> Vec<&'a str> {
    let name = r.name.as_str();
    if let Some((key, p)) = pkgs.get_key_value(name) {
        let ok = match (&r.constraint, &p.version) {
            (Some((op, want)), Some(have)) => op.satisfied_by(have, want),
            _ => true,
        };
        if ok {
            return vec![key.as_str()];
        }
    }
    match providers.get(name) {
        // Versioned relations on virtual names are rare in a closure; a provider counts.
        Some(set) => set.iter().map(String::as_str).collect(),
        None => Vec::new(),
    }
}

fn plain(name: &str) -> Relation {
    Relation {
        name: name.to_owned(),
        arch_qualifier: Default::default(),
        constraint: None,
        arch_restriction: None,
        profile_restriction: Vec::new(),
    }
}

/// `seeds` and everything they depend on within the closure (the first alternative of
/// each group that the closure holds, as the resolver prefers), not descending into
/// `stop`.
fn close(
    seeds: Vec<String>,
    pkgs: &BTreeMap<String, Pkg>,
    providers: &BTreeMap<String, BTreeSet<String>>,
    stop: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut todo = seeds;
    let mut out = BTreeSet::new();
    while let Some(n) = todo.pop() {
        if stop.contains(&n) || !out.insert(n.clone()) {
            continue;
        }
        for alt in &pkgs[&n].depends.0 {
            // A group the closure cannot satisfy was ignored by the resolver (`Ignore:`).
            if let Some(t) = alt
                .0
                .iter()
                .find_map(|r| targets(r, pkgs, providers).first().copied())
            {
                todo.push(t.to_owned());
            }
        }
    }
    out
}

/// The first package of `sides` (one per side) that relates to a package of the other
/// side by Conflicts/Breaks or Replaces: dpkg's result could then depend on the order the
/// two are installed in.
fn interference(
    pkgs: &BTreeMap<String, Pkg>,
    providers: &BTreeMap<String, BTreeSet<String>>,
    first: &BTreeSet<String>,
    first_name: &str,
    second: &BTreeSet<String>,
    second_name: &str,
) -> Option<String> {
    let hits = |rels: &Relations, others: &BTreeSet<String>| -> Option<String> {
        rels.0
            .iter()
            .flat_map(|alt| &alt.0)
            .flat_map(|r| targets(r, pkgs, providers))
            .find(|t| others.contains(*t))
            .map(str::to_owned)
    };
    for (name, p) in pkgs {
        let (others, side) = if first.contains(name) {
            (second, second_name)
        } else if second.contains(name) {
            (first, first_name)
        } else {
            continue;
        };
        if let Some(t) = hits(&p.against, others) {
            return Some(format!("{name} conflicts with or breaks {side} {t}"));
        }
        if let Some(t) = hits(&p.replaces, others) {
            return Some(format!("{name} replaces files of {side} {t}"));
        }
    }
    None
}

/// Splits the root plan `plan` into a base layer, a tool layer (the closure of
/// `tool_seeds` beyond the base) and the rest. `named` are the prjconf's `Required:` and
/// `Support:` names.
pub fn split(
    plan: &RootPlan,
    named: &[String],
    tool_seeds: &[String],
) -> Result<Layering, RootError> {
    let mut pkgs: BTreeMap<String, Pkg> = BTreeMap::new();
    for (pre, d) in plan
        .preinstall
        .iter()
        .map(|d| (true, d))
        .chain(plan.install.iter().map(|d| (false, d)))
    {
        if pkgs.contains_key(&d.name) {
            // A package listed twice: `prepare_root` decides whether that is allowed.
            return Ok(Layering::Full {
                reason: format!("{} is planned twice", d.name),
            });
        }
        pkgs.insert(d.name.clone(), read(d, pre)?);
    }
    let mut providers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, p) in &pkgs {
        for v in &p.provides {
            providers.entry(v.clone()).or_default().insert(name.clone());
        }
    }
    let mut todo: Vec<String> = pkgs
        .iter()
        .filter(|(_, p)| p.preinstall || p.essential)
        .map(|(n, _)| n.clone())
        .collect();
    let first_target = |n: &String| {
        targets(&plain(n), &pkgs, &providers)
            .first()
            .map(|t| (*t).to_owned())
    };
    todo.extend(named.iter().filter_map(first_target));
    let base = close(todo, &pkgs, &providers, &BTreeSet::new());
    let delta: BTreeSet<String> = pkgs
        .keys()
        .filter(|n| !base.contains(*n))
        .cloned()
        .collect();
    if let Some(reason) = interference(
        &pkgs,
        &providers,
        &base,
        "the base package",
        &delta,
        "the build's own package",
    ) {
        return Ok(Layering::Full { reason });
    }
    let mut tools = close(
        tool_seeds.iter().filter_map(first_target).collect(),
        &pkgs,
        &providers,
        &base,
    );
    let rest: BTreeSet<String> = delta.difference(&tools).cloned().collect();
    let tools_note = interference(
        &pkgs,
        &providers,
        &tools,
        "the tool layer's package",
        &rest,
        "the build's own package",
    );
    if tools_note.is_some() {
        tools.clear();
    }
    let mut base_plan = RootPlan {
        preinstall: Vec::new(),
        install: Vec::new(),
        runscripts: plan.runscripts.clone(),
        build_user: plan.build_user,
        source_date_epoch: plan.source_date_epoch,
    };
    let (mut tool_debs, mut delta) = (Vec::new(), Vec::new());
    for (name, p) in pkgs {
        if p.preinstall {
            base_plan.preinstall.push(p.deb);
        } else if base.contains(&name) {
            base_plan.install.push(p.deb);
        } else if tools.contains(&name) {
            tool_debs.push(p.deb);
        } else {
            delta.push(p.deb);
        }
    }
    Ok(Layering::Layered {
        base: base_plan,
        tools: tool_debs,
        delta,
        tools_note,
    })
}

fn io_err(
    path: &std::path::Path,
    e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> RootError {
    RootError::Io {
        path: path.into(),
        source: std::io::Error::other(e),
    }
}

/// The program interpreter (`PT_INTERP`, the dynamic loader) an ELF executable names.
pub(crate) fn elf_interpreter(path: &std::path::Path) -> Result<String, RootError> {
    let data = std::fs::read(path).map_err(|e| RootError::Io {
        path: path.into(),
        source: e,
    })?;
    let bad = |why: &str| {
        io_err(
            path,
            format!("not a dynamically linked ELF executable: {why}"),
        )
    };
    if data.len() < 64 || &data[..4] != b"\x7fELF" || data[5] != 1 {
        return Err(bad("not a little-endian ELF file"));
    }
    let u16_at = |o: usize| {
        data.get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let u32_at = |o: usize| {
        data.get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
    };
    let u64_at = |o: usize| {
        data.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
    };
    // (phoff, phentsize, phnum) and, per header, (type, offset, filesz) offsets.
    let (phoff, phentsize, phnum, off_at, size_at): (Option<usize>, _, _, usize, usize) =
        match data[4] {
            2 => (u64_at(0x20), u16_at(0x36), u16_at(0x38), 8, 32),
            1 => (u32_at(0x1c), u16_at(0x2a), u16_at(0x2c), 4, 16),
            _ => return Err(bad("unknown ELF class")),
        };
    let (Some(phoff), Some(phentsize), Some(phnum)) = (phoff, phentsize, phnum) else {
        return Err(bad("truncated header"));
    };
    let word = |o: usize| if data[4] == 2 { u64_at(o) } else { u32_at(o) };
    for i in 0..phnum {
        let h = phoff + i * phentsize;
        if u32_at(h) == Some(3) {
            let (Some(off), Some(size)) = (word(h + off_at), word(h + size_at)) else {
                return Err(bad("truncated program header"));
            };
            let s = data
                .get(off..off + size)
                .ok_or_else(|| bad("truncated PT_INTERP"))?;
            let s = s.split(|&b| b == 0).next().unwrap_or_default();
            return String::from_utf8(s.to_vec()).map_err(|_| bad("PT_INTERP is not UTF-8"));
        }
    }
    Err(bad("no PT_INTERP"))
}

/// `path` (absolute, as seen inside the root `root`) resolved within `root`: symbolic
/// links followed as they would be inside it (absolute targets relative to `root`).
/// Returns the path relative to `root`.
pub(crate) fn resolve_in(
    root: &std::path::Path,
    path: &str,
) -> Result<std::path::PathBuf, RootError> {
    use std::path::{Component, PathBuf};
    let mut todo: Vec<String> = path
        .split('/')
        .filter(|c| !c.is_empty())
        .rev()
        .map(str::to_owned)
        .collect();
    let mut cur = PathBuf::new();
    let mut hops = 0;
    while let Some(c) = todo.pop() {
        match c.as_str() {
            "." => continue,
            ".." => {
                cur.pop();
                continue;
            }
            _ => {}
        }
        let next = cur.join(&c);
        let md = std::fs::symlink_metadata(root.join(&next)).map_err(|e| RootError::Io {
            path: root.join(&next),
            source: e,
        })?;
        if md.file_type().is_symlink() {
            hops += 1;
            if hops > 40 {
                return Err(io_err(&root.join(&next), "too many symbolic links"));
            }
            let target = std::fs::read_link(root.join(&next)).map_err(|e| RootError::Io {
                path: root.join(&next),
                source: e,
            })?;
            if target.is_absolute() {
                cur = PathBuf::new();
            }
            for comp in target.components().rev() {
                if let Component::Normal(n) = comp {
                    todo.push(n.to_string_lossy().into_owned());
                } else if comp == Component::ParentDir {
                    todo.push("..".into());
                }
            }
        } else {
            cur = next;
        }
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_inside_the_root() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        std::fs::create_dir_all(r.join("usr/lib/x86_64-linux-gnu")).unwrap();
        std::fs::create_dir_all(r.join("usr/lib64")).unwrap();
        std::fs::write(r.join("usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"), "").unwrap();
        std::os::unix::fs::symlink("usr/lib64", r.join("lib64")).unwrap();
        std::os::unix::fs::symlink(
            "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            r.join("usr/lib64/ld-linux-x86-64.so.2"),
        )
        .unwrap();
        std::os::unix::fs::symlink("usr/lib", r.join("lib")).unwrap();
        assert_eq!(
            resolve_in(r, "/lib64/ld-linux-x86-64.so.2").unwrap(),
            std::path::Path::new("usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
        );
        // `..` never leaves the root.
        std::os::unix::fs::symlink("../../../../etc", r.join("usr/up")).unwrap();
        assert!(resolve_in(r, "/usr/up/passwd").is_err());
    }

    #[test]
    fn the_interpreter_of_an_executable_is_read() {
        let interp = elf_interpreter(std::path::Path::new("/bin/sh")).unwrap();
        assert!(interp.contains("ld-linux"), "{interp}");
        assert!(elf_interpreter(std::path::Path::new("/etc/passwd")).is_err());
    }
}
