//! The append-only audit log (table `audit`: sequence number → JSON [`AuditEntry`]).
//! There is no API to change or delete entries.

use super::{Auth, AuthError};
use crate::table::{JsonTable, TableError};

const AUDIT: JsonTable<u64, AuditEntry> = JsonTable::new("audit");

/// Stored as it is answered (same serde attributes).
pub use cryo_store::api::AuditEntry;

/// Append one entry (errors are logged: an audit failure must not undo the change).
pub fn record(
    st: &Auth,
    user: &str,
    action: &str,
    project: Option<&str>,
    detail: impl Into<String>,
) {
    let res = AUDIT.insert_next(st.store.index().database(), |seq| {
        Ok::<_, TableError>(AuditEntry {
            seq,
            time: st.clock.now(),
            user: user.to_string(),
            action: action.to_string(),
            project: project.map(str::to_string),
            detail: detail.into(),
        })
    });
    if let Err(e) = res {
        tracing::error!(error = %e, %action, "could not write the audit log");
    }
}

/// Every entry, or those of one project, in order.
pub fn list(st: &Auth, project: Option<&str>) -> Result<Vec<AuditEntry>, AuthError> {
    Ok(AUDIT
        .all(st.store.index().database())?
        .into_iter()
        .filter(|e| project.is_none() || e.project.as_deref() == project)
        .collect())
}
