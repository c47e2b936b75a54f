//! Derivations whose closure is pinned from outside (a Debian `.buildinfo`'s exact
//! versions) rather than chosen by the resolver. The prjconf's resolution gives the build
//! root's shape (which packages are preinstalled, the tools cryo's builder needs); each
//! pinned package then replaces the resolved version, or joins the install set when the
//! resolver did not pick it; packages the pins do not name stay as resolved. The pinned
//! packages may come from any snapshot: the builder finds them in the store by SHA256, so
//! the caller fetches them first.

use std::collections::BTreeMap;

use cryo_store::derivation::{ClosureEntry, Derivation};
use cryo_store::{B3Digest, Session};

use super::derive::{self, ProjectConfig};
use super::source::ResolvedSource;
use super::{Deriver, DrvError};
use crate::mirror::snapshot::SnapshotInfo;

/// One pinned package: the exact file the build root must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub name: String,
    pub arch: String,
    pub version: String,
    pub sha256: String,
}

/// Derive `src` in `snap` with `pc`, then pin the closure to `pins` and set `env` (values
/// replace the derived environment's), and store the derivation (rooted as `drv/<id>`).
#[allow(clippy::too_many_arguments)]
pub fn derive_pinned(
    st: &Deriver,
    snap: &SnapshotInfo,
    pc: &ProjectConfig,
    src: &ResolvedSource,
    arch: &str,
    build: &str,
    pins: &[Pin],
    env: &BTreeMap<String, String>,
    session: &Session,
) -> Result<(B3Digest, Derivation), DrvError> {
    let (mut drv, _, _) = derive::derive(st, snap, pc, src, arch, build, session)?;
    for pin in pins {
        let entry = ClosureEntry {
            set: "install".into(),
            name: pin.name.clone(),
            arch: pin.arch.clone(),
            version: pin.version.clone(),
            sha256: pin.sha256.clone(),
        };
        match drv.closure.iter_mut().find(|c| c.name == pin.name) {
            Some(c) => {
                c.arch = entry.arch;
                c.version = entry.version;
                c.sha256 = entry.sha256;
            }
            None => drv.closure.push(entry),
        }
    }
    for (k, v) in env {
        drv.env.insert(k.clone(), v.clone());
    }
    let id = derive::store_derivation(st, &drv, snap, pc, src, session)?;
    Ok((id, drv))
}
