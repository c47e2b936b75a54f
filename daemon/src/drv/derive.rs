//! prjconf + resolved closure + environment → derivation.
//!
//! The derivation's inputs (see `docs/derivation.md`): builder kind and version, snapshot
//! id, normalised prjconf hash, the source files by digest, the architecture, the resolved
//! closure, and the build environment (DEB_BUILD_OPTIONS, profiles, build path, clock
//! policy, locale, umask, build user, build kind, runscripts).

use std::collections::BTreeMap;

use cryo_prjconf::cryo::Clock;
use cryo_prjconf::{ParseContext, Prjconf};
use cryo_resolve::{resolve, BuildKind, Closure, ResolveRequest};
use cryo_store::derivation::{BuilderSpec, ClosureEntry, Derivation, SourceInput, DRV_FORMAT};
use cryo_store::{B3Digest, ObjectKind, Session};

use super::source::ResolvedSource;
use super::Deriver;
use super::DrvError;
use crate::mirror::snapshot::SnapshotInfo;

/// The Debian builder's kind and version. Bump the version whenever the build procedure
/// changes what a build produces: that changes every derivation id on purpose.
/// 2: the real clock by default, a pinned clock through `cryo_sandbox::clock` (version
/// [`cryo_sandbox::clock::SHIM_VERSION`] 1) instead of libfaketime in the root, `/var/tmp`
/// writable, the inactivity timeout.
pub const DEB_BUILDER: (&str, &str) = ("deb", "2");

/// A parsed prjconf with the bytes it came from.
pub struct ProjectConfig {
    pub conf: Prjconf,
    /// Blob of the normalised form (its digest is the prjconf hash).
    pub normalized: B3Digest,
    pub warnings: Vec<String>,
}

/// Parse a prjconf for `arch` (Debian name); errors carry file:line.
pub fn parse_prjconf(
    st: &Deriver,
    name: &str,
    text: &str,
    arch: &str,
    session: &Session,
) -> Result<ProjectConfig, DrvError> {
    let rpm = cryo_prjconf::arch::debian_to_rpm(arch)
        .ok_or_else(|| DrvError::Invalid(format!("no OBS architecture name for {arch:?}")))?;
    let conf = Prjconf::parse(text, name, &ParseContext::new(rpm))
        .map_err(|e| DrvError::Prjconf(e.to_string()))?;
    let norm = conf.normalized();
    let stored = st
        .store
        .put_bytes(norm.as_bytes(), ObjectKind::Blob, &[], Some(session))?;
    debug_assert_eq!(stored.digest.to_hex(), conf.normalized_hash());
    let warnings = conf.warnings().iter().map(|w| w.to_string()).collect();
    Ok(ProjectConfig {
        conf,
        normalized: stored.digest,
        warnings,
    })
}

/// Everything `cryo resolve` answers, and one closure entry: the API's types.
pub use cryo_store::api::{ClosureItem, Resolved};

fn clock_text(c: Clock) -> String {
    match c {
        Clock::Changelog => "changelog".into(),
        Clock::Real => "real".into(),
        Clock::Fixed(t) => format!("fixed:{t}"),
    }
}

/// The build environment recorded in the derivation.
fn environment(pc: &Prjconf, src: &ResolvedSource, build: &str) -> BTreeMap<String, String> {
    let s = pc.cryo();
    let upstream = src.package.version.upstream().to_string();
    let mut env = BTreeMap::new();
    env.insert(
        "DEB_BUILD_OPTIONS".into(),
        pc.deb_build_options().unwrap_or("").to_string(),
    );
    env.insert(
        "DEB_BUILD_PROFILES".into(),
        pc.deb_build_profiles().unwrap_or("").to_string(),
    );
    env.insert("LANG".into(), s.locale.as_str().to_string());
    env.insert("LC_ALL".into(), s.locale.as_str().to_string());
    env.insert(
        "CRYO_BUILD_PATH".into(),
        s.build_path.render(&src.package.package, &upstream),
    );
    env.insert("CRYO_CLOCK".into(), clock_text(s.clock));
    env.insert("CRYO_UMASK".into(), format!("{:03o}", s.umask.bits()));
    env.insert(
        "CRYO_BUILD_USER".into(),
        format!("{}:{}", s.build_user.uid, s.build_user.gid),
    );
    env.insert("CRYO_BUILD_KIND".into(), build.to_string());
    env.insert(
        "CRYO_RUNSCRIPTS".into(),
        pc.runscripts()
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(" "),
    );
    env
}

fn build_kind(s: &str) -> Result<BuildKind, DrvError> {
    match s {
        "full" => Ok(BuildKind::Full),
        "arch" => Ok(BuildKind::ArchOnly),
        "indep" => Ok(BuildKind::IndepOnly),
        other => Err(DrvError::Invalid(format!(
            "unknown build kind {other:?}: use full, arch or indep"
        ))),
    }
}

/// Resolve the closure and store the derivation (rooted as `drv/<id>`).
#[allow(clippy::too_many_arguments)]
pub fn derive(
    st: &Deriver,
    snap: &SnapshotInfo,
    pc: &ProjectConfig,
    src: &ResolvedSource,
    arch: &str,
    build: &str,
    session: &Session,
) -> Result<(Derivation, Closure, Resolved), DrvError> {
    let universe = st.universes.get(&st.store, snap, arch)?;
    derive_in(st, snap, &universe, pc, src, arch, build, None, session)
}

/// Stores `drv` (referencing its source files, normalised prjconf and snapshot) under a
/// `drv/<id>` root, and returns its id. Re-deriving an unchanged package is common
/// (project evaluations): a derivation already in the store was rooted when it was first
/// stored, and is only held for `session`.
pub(super) fn store_derivation(
    st: &Deriver,
    drv: &Derivation,
    snap: &SnapshotInfo,
    pc: &ProjectConfig,
    src: &ResolvedSource,
    session: &Session,
) -> Result<B3Digest, DrvError> {
    let mut refs: Vec<B3Digest> = src.files.values().copied().collect();
    refs.push(pc.normalized);
    refs.push(snap.id);
    let bytes = drv.encode();
    let id = B3Digest::of(&bytes);
    if st.store.contains(&id)? {
        st.store.hold(session, &id)?;
    } else {
        st.store
            .put_bytes(&bytes, ObjectKind::Derivation, &refs, Some(session))?;
        st.store.add_root(&format!("drv/{id}"), &id)?;
    }
    Ok(id)
}

/// OBS's release counters of a package in a project: `<CI_CNT>` (commits) and `<B_CNT>`
/// (rebuilds). With a `Cryo-ReleasePattern`, the rendered suffix becomes a derivation
/// input (`CRYO_RELEASE_SUFFIX`): the counters are explicit inputs, builds stay pure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseCounters {
    pub ci_cnt: u64,
    pub b_cnt: u64,
}

/// [`derive`] against a given universe (e.g. a snapshot plus packages built by projects).
#[allow(clippy::too_many_arguments)]
pub fn derive_in(
    st: &Deriver,
    snap: &SnapshotInfo,
    universe: &cryo_resolve::Universe,
    pc: &ProjectConfig,
    src: &ResolvedSource,
    arch: &str,
    build: &str,
    counters: Option<ReleaseCounters>,
    session: &Session,
) -> Result<(Derivation, Closure, Resolved), DrvError> {
    let mut req = ResolveRequest::new(&src.package, &pc.conf);
    req.build = build_kind(build)?;
    // The builder adds nothing to the root: a pinned clock comes from outside it
    // (`cryo_sandbox::clock`), so the closure is exactly what the distribution resolves.
    let closure = resolve(universe, &req).map_err(|e| DrvError::Unresolvable(e.to_string()))?;
    let mut entries = Vec::new();
    let mut items = Vec::new();
    for (set, list) in [
        ("preinstall", &closure.preinstall),
        ("install", &closure.install),
    ] {
        for s in list {
            entries.push(ClosureEntry {
                set: set.into(),
                name: s.name.clone(),
                arch: s.arch.to_string(),
                version: s.version.to_string(),
                sha256: s.sha256.to_string(),
            });
            items.push(ClosureItem {
                set: set.into(),
                name: s.name.clone(),
                version: s.version.to_string(),
                arch: s.arch.to_string(),
                sha256: s.sha256.to_string(),
                size: s.size,
                origin: s.origin.clone(),
                filename: s.filename.clone(),
                reason: s.reason.to_string(),
            });
        }
    }
    let drv = Derivation {
        format: DRV_FORMAT.into(),
        builder: BuilderSpec {
            kind: DEB_BUILDER.0.into(),
            version: DEB_BUILDER.1.into(),
        },
        arch: arch.to_string(),
        snapshot: snap.id,
        prjconf: pc.normalized.to_hex(),
        source: SourceInput {
            name: src.package.package.clone(),
            version: src.package.version.to_string(),
            files: src.files.iter().map(|(n, d)| (n.to_string(), *d)).collect(),
        },
        closure: entries,
        env: {
            let mut env = environment(&pc.conf, src, build);
            if let (Some(p), Some(c)) = (&pc.conf.cryo().release_pattern, counters) {
                env.insert("CRYO_RELEASE_SUFFIX".into(), p.render(c.ci_cnt, c.b_cnt));
                env.insert("CRYO_RELEASE_PATTERN".into(), p.as_str().to_string());
            }
            env
        },
    };
    let id = store_derivation(st, &drv, snap, pc, src, session)?;
    let resolved = Resolved {
        derivation: id,
        snapshot: snap.id,
        source: src.package.package.clone(),
        version: src.package.version.to_string(),
        arch: arch.to_string(),
        preinstall: closure.preinstall.len(),
        install: closure.install.len(),
        closure: items,
        warnings: pc.warnings.clone(),
    };
    Ok((drv, closure, resolved))
}
