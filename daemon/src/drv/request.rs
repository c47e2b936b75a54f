//! A resolution request (snapshot + prjconf + source + arch) and its resolution into a
//! stored derivation.

use serde::{Deserialize, Serialize};

use super::derive::{self, Resolved};
use super::source::{self, SourceSpec};
use super::{Deriver, DrvError};
use crate::mirror::snapshot;

/// The prjconf as sent by the client.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrjconfText {
    /// File name, used in error messages (`file:line`).
    pub name: String,
    pub text: String,
}

/// `POST /api/v1/resolve` body.
#[derive(Debug, Serialize, Deserialize)]
pub struct ResolveRequestBody {
    pub snapshot: String,
    pub prjconf: PrjconfText,
    pub source: SourceSpec,
    pub arch: Option<String>,
    /// `full` (dpkg-buildpackage -b, default), `arch` (-B) or `indep` (-A).
    pub build: Option<String>,
}

/// Resolve `req` into a stored derivation (blocking).
pub fn resolve(st: &Deriver, req: &ResolveRequestBody) -> Result<Resolved, DrvError> {
    let snap = snapshot::get(&st.store, &req.snapshot)?;
    let arch = req.arch.clone().unwrap_or_else(|| st.host_arch.clone());
    let session = st.store.session();
    let pc = derive::parse_prjconf(st, &req.prjconf.name, &req.prjconf.text, &arch, &session)?;
    let src = source::resolve(st, &snap, &req.source, &session)?;
    let build = req.build.clone().unwrap_or_else(|| "full".into());
    let (_, _, resolved) = derive::derive(st, &snap, &pc, &src, &arch, &build, &session)?;
    Ok(resolved)
}
