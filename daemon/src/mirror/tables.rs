//! redb tables of the mirror subsystem.

use redb::TableDefinition;

/// Mirror name → JSON `MirrorConfig`.
pub const MIRRORS: TableDefinition<&str, &[u8]> = TableDefinition::new("mirrors");
/// Snapshot id (hex) → JSON `SnapshotInfo`.
pub const SNAPSHOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshots");
/// SHA256 (hex) → BLAKE3 (hex) of verified content fetched from a mirror.
pub const SHA256_MAP: TableDefinition<&str, &str> = TableDefinition::new("sha256_to_blake3");
// The queryable form of indices lives in `indexstore.rs` (tables `index2:<blake3>`,
// `index_names`, `indexed2`).
