//! redb tables of the mirror subsystem.

use redb::TableDefinition;

/// Mirror name → JSON `MirrorConfig`.
pub const MIRRORS: TableDefinition<&str, &[u8]> = TableDefinition::new("mirrors");
/// Snapshot id (hex) → JSON `SnapshotInfo`.
pub const SNAPSHOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshots");
/// SHA256 (hex) → BLAKE3 (hex) of verified content fetched from a mirror.
pub const SHA256_MAP: TableDefinition<&str, &str> = TableDefinition::new("sha256_to_blake3");
/// Index blob (BLAKE3 hex) → number of stanzas, once its queryable form is written.
pub const INDEXED: TableDefinition<&str, u64> = TableDefinition::new("indexed");

/// Name of the table holding the queryable form of one index: package name → the
/// stanzas of that name (deb822 text, each ending in a blank line).
pub fn index_table_name(index_blake3: &str) -> String {
    format!("index:{index_blake3}")
}
