//! The queryable form of one verified index (Packages or Sources), in redb.
//!
//! Layout (format 2): table `index2:<blake3>` holds the index's stanzas sorted by package
//! name and cut into chunks of [`CHUNK`] names: key = the chunk's first name, value = the
//! raw stanzas of its names, each ending in a blank line. Table `index_names` holds, per
//! index, all its names newline-separated. Table `indexed2` marks complete indices.
//!
//! Why chunks: one redb insert costs a few microseconds whatever its size, so one entry
//! per package (63k for bookworm's Packages) made the write slower than decompressing the
//! index; with chunks it is a few hundred inserts. A lookup reads one chunk (the last key
//! ≤ the name) and picks its stanzas.

use std::borrow::Cow;

use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use cryo_store::B3Digest;

use super::MirrorError;
use cryo_store::Store;

/// Names per chunk.
const CHUNK: usize = 64;

const NAMES: TableDefinition<&str, &str> = TableDefinition::new("index_names");
const INDEXED: TableDefinition<&str, u64> = TableDefinition::new("indexed2");

fn table_name(index: &B3Digest) -> String {
    format!("index2:{}", index.to_hex())
}

/// Stanzas grouped by package name, sorted by name (values end in a blank line).
pub type Grouped<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// Write the queryable form of `index` (bulk without fsync; the `indexed2` marker is
/// committed durably afterwards, which makes both durable: redb orders its commits; a
/// crash in between leaves no marker, and the next sync writes the index again).
pub fn write(st: &Store, index: &B3Digest, grouped: &Grouped<'_>) -> Result<(), MirrorError> {
    let db = st.index().database();
    let tname = table_name(index);
    let def: TableDefinition<&str, &str> = TableDefinition::new(&tname);
    let hex = index.to_hex();
    let mut names = String::with_capacity(grouped.len() * 16);
    for (n, _) in grouped {
        names.push_str(n);
        names.push('\n');
    }
    let mut tx = db.begin_write()?;
    tx.set_durability(redb::Durability::None)?;
    {
        let mut t = tx.open_table(def)?;
        let mut value = String::new();
        for chunk in grouped.chunks(CHUNK) {
            value.clear();
            for (_, stanzas) in chunk {
                value.push_str(stanzas);
            }
            t.insert(chunk[0].0.as_ref(), value.as_str())?;
        }
        tx.open_table(NAMES)?.insert(hex.as_str(), names.as_str())?;
    }
    tx.commit()?;
    let tx = db.begin_write()?;
    tx.open_table(INDEXED)?
        .insert(hex.as_str(), grouped.len() as u64)?;
    tx.commit()?;
    Ok(())
}

/// Whether `index` has a complete queryable form.
pub fn is_indexed(st: &Store, index: &B3Digest) -> Result<bool, MirrorError> {
    let db = st.index().database();
    let tx = db.begin_read()?;
    let t = match tx.open_table(INDEXED) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    Ok(t.get(index.to_hex().as_str())?.is_some())
}

fn missing(index: &B3Digest) -> MirrorError {
    MirrorError::NotIndexed(*index)
}

/// The package name of one stanza (its `Package:` field).
fn stanza_name(stanza: &str) -> Option<&str> {
    stanza
        .lines()
        .find_map(|l| l.strip_prefix("Package:"))
        .map(str::trim)
}

/// The raw stanzas named `name` (each ending in a blank line), if any.
pub fn stanzas(st: &Store, index: &B3Digest, name: &str) -> Result<Option<String>, MirrorError> {
    let db = st.index().database();
    let tx = db.begin_read()?;
    let tname = table_name(index);
    let def: TableDefinition<&str, &str> = TableDefinition::new(&tname);
    let t = match tx.open_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Err(missing(index)),
        Err(e) => return Err(e.into()),
    };
    let Some(item) = t.range(..=name)?.next_back() else {
        return Ok(None);
    };
    let (_, v) = item?;
    let mut out = String::new();
    // Stanzas are separated by exactly one blank line (see `Grouped`).
    for s in v.value().split_inclusive("\n\n") {
        if stanza_name(s) == Some(name) {
            out.push_str(s);
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

/// Every package name of an index, sorted.
pub fn names(st: &Store, index: &B3Digest) -> Result<Vec<String>, MirrorError> {
    let db = st.index().database();
    let tx = db.begin_read()?;
    let t = match tx.open_table(NAMES) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Err(missing(index)),
        Err(e) => return Err(e.into()),
    };
    let v = t
        .get(index.to_hex().as_str())?
        .ok_or_else(|| missing(index))?;
    Ok(v.value().lines().map(str::to_string).collect())
}

/// Call `f` with every chunk of stanzas of an index, in name order.
pub fn for_each_chunk(
    st: &Store,
    index: &B3Digest,
    mut f: impl FnMut(&str) -> Result<(), MirrorError>,
) -> Result<(), MirrorError> {
    let db = st.index().database();
    let tx = db.begin_read()?;
    let tname = table_name(index);
    let def: TableDefinition<&str, &str> = TableDefinition::new(&tname);
    let t = match tx.open_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Err(missing(index)),
        Err(e) => return Err(e.into()),
    };
    for item in t.iter()? {
        let (_, v) = item?;
        f(v.value())?;
    }
    Ok(())
}
