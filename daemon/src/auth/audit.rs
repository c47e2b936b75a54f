//! The append-only audit log (redb table `audit`: sequence number → JSON [`AuditEntry`]).
//! There is no API to change or delete entries.

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::http::ApiErr;
use crate::state::AppState;

const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub time: i64,
    pub user: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    pub detail: String,
}

fn db(e: impl std::fmt::Display) -> ApiErr {
    ApiErr::internal(format!("audit log: {e}"))
}

/// Append one entry (errors are logged: an audit failure must not undo the change).
pub fn record(
    st: &AppState,
    user: &str,
    action: &str,
    project: Option<&str>,
    detail: impl Into<String>,
) {
    let res = (|| -> Result<(), ApiErr> {
        let d = st.store.index().database();
        let tx = d.begin_write().map_err(db)?;
        {
            let mut t = tx.open_table(AUDIT).map_err(db)?;
            let seq = t
                .last()
                .map_err(db)?
                .map(|(k, _)| k.value() + 1)
                .unwrap_or(1);
            let e = AuditEntry {
                seq,
                time: st.clock.now(),
                user: user.to_string(),
                action: action.to_string(),
                project: project.map(str::to_string),
                detail: detail.into(),
            };
            t.insert(
                seq,
                serde_json::to_vec(&e).expect("serializable").as_slice(),
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    })();
    if let Err(e) = res {
        tracing::error!(error = %e.message, %action, "could not write the audit log");
    }
}

pub fn list(st: &AppState, project: Option<&str>) -> Result<Vec<AuditEntry>, ApiErr> {
    let d = st.store.index().database();
    let tx = d.begin_read().map_err(db)?;
    let t = match tx.open_table(AUDIT) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(db(e)),
    };
    let mut out = Vec::new();
    for item in t.iter().map_err(db)? {
        let (_, v) = item.map_err(db)?;
        let e: AuditEntry = serde_json::from_slice(v.value()).map_err(db)?;
        if project.is_none() || e.project.as_deref() == project {
            out.push(e);
        }
    }
    Ok(out)
}
