//! `cryo verify --buildinfo FILE`: rebuild what a Debian `.buildinfo` describes — the exact
//! installed versions (`Installed-Build-Depends`), found across the snapshots cryo holds,
//! the build path, the environment and the architecture — and compare the produced files
//! with the checksums it lists (`Checksums-Sha256`).

use std::collections::BTreeMap;

use cryo_debian::deb822;
use cryo_debian::relation::{ArchQualifier, Op, Relations};
use cryo_store::api;

use super::ExplainError;
use crate::build::run;
use crate::drv::derive;
use crate::drv::pinned::{self, Pin};
use crate::drv::source::{self, SourceSpec};
use crate::mirror::dod::{self, PoolFile};
use crate::mirror::query;
use crate::mirror::snapshot::{self, IndexKind, SnapshotInfo};
use crate::verify::Verifier;

/// The fields of a `.buildinfo` a rebuild needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buildinfo {
    pub source: String,
    pub source_version: String,
    /// `Architecture`: what was built (`all`, `amd64`, `source`…).
    pub architectures: Vec<String>,
    pub build_architecture: String,
    pub build_path: Option<String>,
    pub environment: Vec<(String, String)>,
    /// (name, arch qualifier, exact version).
    pub installed: Vec<(String, Option<String>, String)>,
    /// (file name, sha256).
    pub checksums: Vec<(String, String)>,
}

fn bad(file: &str, message: impl Into<String>) -> ExplainError {
    ExplainError::Buildinfo {
        file: file.to_string(),
        message: message.into(),
    }
}

/// Parse a `.buildinfo` (clearsigned or not; the signature is not checked: the file only
/// says what to rebuild, and the rebuild is checked against it).
pub fn parse(file: &str, text: &str) -> Result<Buildinfo, ExplainError> {
    let body = if text.starts_with("-----BEGIN PGP SIGNED MESSAGE-----") {
        cryo_debian::openpgp::strip_clearsign(text).map_err(|e| bad(file, e.to_string()))?
    } else {
        text.to_string()
    };
    let paragraphs = deb822::parse(&body).map_err(|e| bad(file, e.to_string()))?;
    let p = paragraphs
        .first()
        .ok_or_else(|| bad(file, "empty file: no .buildinfo paragraph"))?;
    let need = |k: &str| {
        p.field(k)
            .map(|f| f.multiline())
            .ok_or_else(|| bad(file, format!("no {k} field")))
    };
    let version = need("Version")?.trim().to_string();
    let source_field = need("Source")?;
    let (source, source_version) = match source_field.trim().split_once(' ') {
        Some((name, v)) => (
            name.to_string(),
            v.trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .to_string(),
        ),
        None => (source_field.trim().to_string(), version.clone()),
    };
    let mut installed = Vec::new();
    let deps = need("Installed-Build-Depends")?;
    let relations: Relations = deps
        .parse()
        .map_err(|e| bad(file, format!("Installed-Build-Depends: {e}")))?;
    for alts in &relations.0 {
        let [r] = alts.0.as_slice() else {
            return Err(bad(
                file,
                "Installed-Build-Depends lists alternatives; it must list exact packages",
            ));
        };
        let Some((Op::Eq, v)) = &r.constraint else {
            return Err(bad(
                file,
                format!(
                    "Installed-Build-Depends: {} has no exact version (= VERSION)",
                    r.name
                ),
            ));
        };
        let qualifier = match &r.arch_qualifier {
            ArchQualifier::Arch(a) => Some(a.to_string()),
            _ => None,
        };
        installed.push((r.name.clone(), qualifier, v.to_string()));
    }
    let mut checksums = Vec::new();
    for line in need("Checksums-Sha256")?
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [sum, _size, name] = parts.as_slice() else {
            return Err(bad(file, format!("Checksums-Sha256: bad line {line:?}")));
        };
        checksums.push((name.to_string(), sum.to_ascii_lowercase()));
    }
    let environment = p
        .field("Environment")
        .map(|f| f.multiline())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.trim().split_once('=')?;
            Some((k.to_string(), v.trim_matches('"').to_string()))
        })
        .collect();
    Ok(Buildinfo {
        source,
        source_version,
        architectures: need("Architecture")?
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        build_architecture: need("Build-Architecture")?.trim().to_string(),
        build_path: p.get("Build-Path").map(|s| s.trim().to_string()),
        environment,
        installed,
        checksums,
    })
}

/// Where one installed package was found.
struct Found {
    snapshot: usize,
    pool: PoolFile,
    arch: String,
}

/// Find every installed package's exact version in the snapshots (newest first).
fn locate(
    st: &Verifier,
    snaps: &[SnapshotInfo],
    bi: &Buildinfo,
) -> Result<Vec<(String, Found)>, ExplainError> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for (name, qualifier, version) in &bi.installed {
        let arch = qualifier.as_deref().unwrap_or(&bi.build_architecture);
        let mut found = None;
        'snaps: for (i, s) in snaps.iter().enumerate() {
            for e in query::package(&st.store, s, name)? {
                if e.kind != IndexKind::Packages
                    || e.version != *version
                    || !(e.arch == arch || e.arch == "all")
                {
                    continue;
                }
                let field = |k: &str| {
                    e.fields
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                };
                found = Some(Found {
                    snapshot: i,
                    pool: PoolFile {
                        package: name.clone(),
                        version: version.clone(),
                        archive: e.archive.clone(),
                        path: field("Filename").unwrap_or_default(),
                        sha256: field("SHA256").unwrap_or_default(),
                        size: field("Size").and_then(|s| s.parse().ok()).unwrap_or(0),
                    },
                    arch: e.arch.clone(),
                });
                break 'snaps;
            }
        }
        match found {
            Some(f) => out.push((name.clone(), f)),
            None => missing.push(format!("{name} {version}")),
        }
    }
    if !missing.is_empty() {
        return Err(ExplainError::Invalid(format!(
            "the .buildinfo's installed packages are in no snapshot cryo holds: {} (sync a snapshot of the archive that has them)",
            missing.join(", ")
        )));
    }
    Ok(out)
}

/// The derivation environment a `.buildinfo` asks for; also the lines that say what was
/// applied and what not.
fn environment(bi: &Buildinfo) -> (BTreeMap<String, String>, Vec<String>) {
    let mut env = BTreeMap::new();
    let mut said = Vec::new();
    if let Some(p) = &bi.build_path {
        env.insert("CRYO_BUILD_PATH".to_string(), p.clone());
        said.push(format!("Build-Path {p}: applied"));
    }
    for (k, v) in &bi.environment {
        match k.as_str() {
            "DEB_BUILD_OPTIONS" | "DEB_BUILD_PROFILES" | "LANG" | "LC_ALL" => {
                env.insert(k.clone(), v.clone());
                said.push(format!("{k}={v:?}: applied"));
            }
            "SOURCE_DATE_EPOCH" => said.push(format!(
                "{k}={v:?}: not set directly: dpkg derives it from debian/changelog, as it did for the original build"
            )),
            _ => said.push(format!("{k}={v:?}: not applied (cryo's builder sets it)")),
        }
    }
    (env, said)
}

/// Rebuild a `.buildinfo` and compare the files it lists.
pub fn verify_buildinfo(
    st: &Verifier,
    req: &api::BuildinfoRequest,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<api::BuildinfoOutcome, ExplainError> {
    let bi = parse(&req.name, &req.text)?;
    let mut snaps = snapshot::list(&st.store)?;
    snaps.reverse();
    if snaps.is_empty() {
        return Err(ExplainError::Invalid(
            "cryo holds no snapshot: sync one first (cryo mirror sync)".into(),
        ));
    }
    progress(&format!(
        "locating {} installed packages in {} snapshot(s)",
        bi.installed.len(),
        snaps.len()
    ));
    let found = locate(st, &snaps, &bi)?;
    let session = st.store.session();
    let request = format!("src:{}={}", bi.source, bi.source_version);
    // The snapshot the build runs in: the one named, else the one holding the source and
    // most of the installed packages.
    let home = match &req.snapshot {
        Some(s) => snapshot::get(&st.store, s)?,
        None => {
            let mut counts = vec![0usize; snaps.len()];
            for (_, f) in &found {
                counts[f.snapshot] += 1;
            }
            let mut order: Vec<usize> = (0..snaps.len()).collect();
            order.sort_by_key(|i| std::cmp::Reverse(counts[*i]));
            order
                .into_iter()
                .map(|i| &snaps[i])
                .find(|s| {
                    query::package(&st.store, s, &bi.source).is_ok_and(|es| {
                        es.iter()
                            .any(|e| e.kind == IndexKind::Sources && e.version == bi.source_version)
                    })
                })
                .cloned()
                .ok_or_else(|| {
                    ExplainError::Invalid(format!(
                        "source {} {} is in no snapshot cryo holds",
                        bi.source, bi.source_version
                    ))
                })?
        }
    };
    progress("fetching the pinned packages");
    let mut pins = Vec::new();
    let mut packages = Vec::new();
    for (name, f) in &found {
        let snap = &snaps[f.snapshot];
        dod::ensure(&st.store, snap, &f.pool, &session)?;
        pins.push(Pin {
            name: name.clone(),
            arch: f.arch.clone(),
            version: f.pool.version.clone(),
            sha256: f.pool.sha256.clone(),
        });
        packages.push(api::BuildinfoPackage {
            name: name.clone(),
            version: f.pool.version.clone(),
            arch: f.arch.clone(),
            snapshot: snap.id.to_hex(),
        });
    }
    let arch = bi.build_architecture.clone();
    // Only architecture-independent packages: an indep build; otherwise a full one (the
    // files the .buildinfo does not list are not compared).
    let built: Vec<&String> = bi.architectures.iter().filter(|a| *a != "source").collect();
    let build = if !built.is_empty() && built.iter().all(|a| *a == "all") {
        "indep"
    } else {
        "full"
    };
    let pc = derive::parse_prjconf(
        &st.deriver,
        &req.prjconf.name,
        &req.prjconf.text,
        &arch,
        &session,
    )
    .map_err(|e| ExplainError::Invalid(e.to_string()))?;
    let src = source::resolve(
        &st.deriver,
        &home,
        &SourceSpec::Snapshot {
            request: request.clone(),
        },
        &session,
    )
    .map_err(|e| ExplainError::Invalid(e.to_string()))?;
    let (env, environment) = environment(&bi);
    let (id, _) = pinned::derive_pinned(
        &st.deriver,
        &home,
        &pc,
        &src,
        &arch,
        build,
        &pins,
        &env,
        &session,
    )
    .map_err(|e| ExplainError::Invalid(e.to_string()))?;
    progress(&format!("building {request} as derivation {id}"));
    let outcome = run::realise(&st.builder, &id, false)
        .map_err(|e| ExplainError::Invalid(crate::build::chain(&e)))?;
    let failed = outcome.status == run::BuildStatus::Failed;
    let produced: BTreeMap<&str, &str> = outcome
        .outputs
        .iter()
        .map(|o| (o.name.as_str(), o.sha256.as_str()))
        .collect();
    let files: Vec<api::BuildinfoFile> = bi
        .checksums
        .iter()
        .filter(|(n, _)| n.ends_with(".deb") || n.ends_with(".udeb"))
        .map(|(name, sum)| {
            let rebuilt = produced.get(name.as_str()).map(|s| s.to_string());
            api::BuildinfoFile {
                name: name.clone(),
                expected_sha256: sum.clone(),
                identical: rebuilt.as_deref() == Some(sum.as_str()),
                rebuilt_sha256: rebuilt,
            }
        })
        .collect();
    let exit_code = if failed || files.is_empty() {
        2
    } else if files.iter().all(|f| f.identical) {
        0
    } else {
        1
    };
    Ok(api::BuildinfoOutcome {
        source: bi.source,
        version: bi.source_version,
        architecture: arch,
        snapshot: home.id.to_hex(),
        derivation: id,
        packages,
        files,
        environment,
        exit_code,
        failure: failed.then(|| outcome.log_tail.unwrap_or_default()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BI: &str = "Format: 1.0
Source: hello
Binary: hello
Architecture: amd64
Version: 2.10-3
Checksums-Sha256:
 2e6e0000000000000000000000000000000000000000000000000000000000aa 53000 hello_2.10-3_amd64.deb
Build-Origin: Debian
Build-Architecture: amd64
Build-Path: /build/reproducible-path/hello-2.10
Installed-Build-Depends:
 autoconf (= 2.71-3),
 libc6 (= 2.36-9+deb12u10),
 libgcc-s1:amd64 (= 12.2.0-14+deb12u1)
Environment:
 DEB_BUILD_OPTIONS=\"parallel=2\"
 LANG=\"C.UTF-8\"
 SOURCE_DATE_EPOCH=\"1659999999\"
";

    #[test]
    fn parses_a_buildinfo() {
        let bi = parse("hello.buildinfo", BI).unwrap();
        assert_eq!(bi.source, "hello");
        assert_eq!(bi.source_version, "2.10-3");
        assert_eq!(bi.build_architecture, "amd64");
        assert_eq!(
            bi.build_path.as_deref(),
            Some("/build/reproducible-path/hello-2.10")
        );
        assert_eq!(bi.installed.len(), 3);
        assert_eq!(
            bi.installed[2],
            (
                "libgcc-s1".to_string(),
                Some("amd64".to_string()),
                "12.2.0-14+deb12u1".to_string()
            )
        );
        assert_eq!(bi.checksums[0].0, "hello_2.10-3_amd64.deb");
        let (env, said) = environment(&bi);
        assert_eq!(env["DEB_BUILD_OPTIONS"], "parallel=2");
        assert_eq!(
            env["CRYO_BUILD_PATH"],
            "/build/reproducible-path/hello-2.10"
        );
        assert!(said.iter().any(|s| s.starts_with("SOURCE_DATE_EPOCH")));
    }

    #[test]
    fn a_source_with_its_own_version() {
        let text = BI
            .replace("Source: hello", "Source: hello (2.10-3)")
            .replace("Version: 2.10-3", "Version: 2.10-3+b1");
        let bi = parse("x", &text).unwrap();
        assert_eq!(bi.source_version, "2.10-3");
    }

    #[test]
    fn inexact_versions_are_refused() {
        let text = BI.replace("autoconf (= 2.71-3)", "autoconf (>= 2.71-3)");
        let e = parse("x.buildinfo", &text).unwrap_err().to_string();
        assert!(e.contains("autoconf has no exact version"), "{e}");
        let e = parse("x.buildinfo", "Format: 1.0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.buildinfo"), "{e}");
    }
}
