//! redb tables of the mirror subsystem.

use redb::TableDefinition;

use super::config::MirrorConfig;
use super::snapshot::SnapshotInfo;
use crate::table::JsonTable;

/// Mirror name → `MirrorConfig`.
pub const MIRRORS: JsonTable<&str, MirrorConfig> = JsonTable::new("mirrors");
/// Snapshot id (hex) → `SnapshotInfo`.
pub const SNAPSHOTS: JsonTable<&str, SnapshotInfo> = JsonTable::new("snapshots");
/// SHA256 (hex) → BLAKE3 (hex) of verified content fetched from a mirror (not JSON).
pub const SHA256_MAP: TableDefinition<&str, &str> = TableDefinition::new("sha256_to_blake3");
// The queryable form of indices lives in `indexstore.rs` (tables `index2:<blake3>`,
// `index_names`, `indexed2`).
