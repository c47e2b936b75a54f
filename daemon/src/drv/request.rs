//! A resolution request (snapshot + prjconf + source + arch) and its resolution into a
//! stored derivation.

use super::derive::{self, Resolved};
use super::source;
use super::{Deriver, DrvError};
use crate::mirror::snapshot;

/// The prjconf as sent by the client, and the `POST /api/v1/resolve` body: the API's
/// types.
pub use cryo_store::api::{PrjconfText, ResolveRequest as ResolveRequestBody};

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
