//! `JsonTable<K, V>`: a typed redb table whose values are JSON, where every
//! read-modify-write is **one write transaction**.
//!
//! redb serialises write transactions, so [`JsonTable::update`] (read a row, compute the new
//! one, write it) and [`JsonTable::insert_next`] (`max(id) + 1`, build the row, insert it)
//! cannot lose a concurrent update: a second caller starts only after the first committed
//! and sees its row. Reading in one transaction and writing in another (what the request
//! ids, revision numbers and counters did before) can.
//!
//! Several tables change together with [`write`] and [`JsonTable::open`] (e.g. accepting
//! a request commits a package revision and marks the request in the same transaction).

use std::marker::PhantomData;

use redb::{
    Database, ReadOnlyTable, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a table operation failed. The source error is kept.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("table {table}: {source}")]
    Db {
        table: &'static str,
        #[source]
        source: redb::Error,
    },
    #[error("table {table}: row {key} does not decode: {source}")]
    Decode {
        table: &'static str,
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("table {table}: row {key} does not encode: {source}")]
    Encode {
        table: &'static str,
        key: String,
        #[source]
        source: serde_json::Error,
    },
}

/// A redb table `K → JSON(V)`. Declare one as a `const`:
/// `const USERS: JsonTable<&str, User> = JsonTable::new("users");`.
pub struct JsonTable<K: redb::Key + 'static, V> {
    name: &'static str,
    def: TableDefinition<'static, K, &'static [u8]>,
    _v: PhantomData<fn() -> V>,
}

impl<K: redb::Key + 'static, V> Clone for JsonTable<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K: redb::Key + 'static, V> Copy for JsonTable<K, V> {}

/// Run `f` in one write transaction and commit it when `f` succeeds (dropping the
/// transaction on an error aborts every change `f` made).
pub fn write<R, E: From<TableError>>(
    db: &Database,
    name: &'static str,
    f: impl FnOnce(&WriteTransaction) -> Result<R, E>,
) -> Result<R, E> {
    let tx = db.begin_write().map_err(|e| err(name, e))?;
    let out = f(&tx)?;
    tx.commit().map_err(|e| err(name, e))?;
    Ok(out)
}

fn err(table: &'static str, e: impl Into<redb::Error>) -> TableError {
    TableError::Db {
        table,
        source: e.into(),
    }
}

/// The table inside one write transaction (from [`JsonTable::open`]).
pub struct Writer<'tx, K: redb::Key + 'static, V> {
    name: &'static str,
    table: redb::Table<'tx, K, &'static [u8]>,
    _v: PhantomData<fn() -> V>,
}

impl<K: redb::Key + 'static, V: Serialize + DeserializeOwned> JsonTable<K, V> {
    pub const fn new(name: &'static str) -> Self {
        JsonTable {
            name,
            def: TableDefinition::new(name),
            _v: PhantomData,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The table inside a write transaction (created if missing).
    pub fn open<'tx>(&self, tx: &'tx WriteTransaction) -> Result<Writer<'tx, K, V>, TableError> {
        Ok(Writer {
            name: self.name(),
            table: tx.open_table(self.def).map_err(|e| err(self.name(), e))?,
            _v: PhantomData,
        })
    }

    /// The table in a read transaction (`None` when it does not exist yet).
    fn read(&self, db: &Database) -> Result<Option<ReadOnlyTable<K, &'static [u8]>>, TableError> {
        let name = self.name();
        let tx = db.begin_read().map_err(|e| err(name, e))?;
        match tx.open_table(self.def) {
            Ok(t) => Ok(Some(t)),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(err(name, e)),
        }
    }

    /// One row (a read transaction; `None` also when the table does not exist yet).
    pub fn get<'k>(&self, db: &Database, key: K::SelfType<'k>) -> Result<Option<V>, TableError> {
        let name = self.name();
        let Some(t) = self.read(db)? else {
            return Ok(None);
        };
        let shown = format!("{key:?}");
        match t.get(key).map_err(|e| err(name, e))? {
            Some(v) => Ok(Some(decode(name, &shown, v.value())?)),
            None => Ok(None),
        }
    }

    /// Every row in key order.
    pub fn all(&self, db: &Database) -> Result<Vec<V>, TableError> {
        match self.read(db)? {
            Some(t) => rows(self.name(), &t),
            None => Ok(Vec::new()),
        }
    }

    /// Write one row (one transaction).
    pub fn put<'k>(&self, db: &Database, key: K::SelfType<'k>, v: &V) -> Result<(), TableError> {
        write(db, self.name(), |tx| self.open(tx)?.put(key, v))
    }

    /// Read-modify-write of one row in ONE write transaction: `f` gets the current row
    /// (`None` when absent) and returns the row to store. An error from `f` changes
    /// nothing.
    pub fn update<'k, E: From<TableError>>(
        &self,
        db: &Database,
        key: K::SelfType<'k>,
        f: impl FnOnce(Option<V>) -> Result<V, E>,
    ) -> Result<V, E>
    where
        K::SelfType<'k>: CloneKey,
    {
        write(db, self.name(), |tx| {
            let mut w = self.open(tx)?;
            let new = f(w.get(key.clone_key())?)?;
            w.put(key, &new)?;
            Ok(new)
        })
    }

    /// Insert `v` under `key` unless the key exists (one transaction); returns whether it
    /// was inserted.
    pub fn insert_new<'k>(
        &self,
        db: &Database,
        key: K::SelfType<'k>,
        v: &V,
    ) -> Result<bool, TableError>
    where
        K::SelfType<'k>: CloneKey,
    {
        write(db, self.name(), |tx| {
            let mut w = self.open(tx)?;
            if w.get(key.clone_key())?.is_some() {
                return Ok(false);
            }
            w.put(key, v)?;
            Ok(true)
        })
    }
}

/// Keys that can be used twice (read, then write) in one transaction.
pub trait CloneKey {
    fn clone_key(&self) -> Self;
}
impl CloneKey for &str {
    fn clone_key(&self) -> Self {
        self
    }
}
impl CloneKey for u64 {
    fn clone_key(&self) -> Self {
        *self
    }
}

impl<V: Serialize + DeserializeOwned> JsonTable<&'static str, V> {
    /// Rows whose key starts with `prefix`, in key order (one read transaction).
    pub fn scan(&self, db: &Database, prefix: &str) -> Result<Vec<V>, TableError> {
        match self.read(db)? {
            Some(t) => prefixed(self.name(), &t, prefix),
            None => Ok(Vec::new()),
        }
    }
}

impl<V: Serialize + DeserializeOwned> JsonTable<u64, V> {
    /// Allocate the next id (`max + 1`, 1 for an empty table), build the row with it and
    /// insert it, in ONE write transaction.
    pub fn insert_next<E: From<TableError>>(
        &self,
        db: &Database,
        f: impl FnOnce(u64) -> Result<V, E>,
    ) -> Result<V, E> {
        write(db, self.name(), |tx| {
            let mut w = self.open(tx)?;
            let id = w.next_id()?;
            let v = f(id)?;
            w.put(id, &v)?;
            Ok(v)
        })
    }
}

impl<'tx, K: redb::Key + 'static, V: Serialize + DeserializeOwned> Writer<'tx, K, V> {
    pub fn get<'k>(&self, key: K::SelfType<'k>) -> Result<Option<V>, TableError> {
        let shown = format!("{key:?}");
        match self.table.get(key).map_err(|e| err(self.name, e))? {
            Some(v) => Ok(Some(decode(self.name, &shown, v.value())?)),
            None => Ok(None),
        }
    }

    pub fn put<'k>(&mut self, key: K::SelfType<'k>, v: &V) -> Result<(), TableError> {
        let bytes = serde_json::to_vec(v).map_err(|source| TableError::Encode {
            table: self.name,
            key: format!("{key:?}"),
            source,
        })?;
        self.table
            .insert(key, bytes.as_slice())
            .map_err(|e| err(self.name, e))?;
        Ok(())
    }

    pub fn remove<'k>(&mut self, key: K::SelfType<'k>) -> Result<(), TableError> {
        self.table.remove(key).map_err(|e| err(self.name, e))?;
        Ok(())
    }

    /// Every row in key order (inside this transaction).
    pub fn all(&self) -> Result<Vec<V>, TableError> {
        rows(self.name, &self.table)
    }
}

impl<'tx, V: Serialize + DeserializeOwned> Writer<'tx, &'static str, V> {
    /// The keys starting with `prefix`, in order (inside this transaction).
    pub fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, TableError> {
        let mut out = Vec::new();
        for item in self.table.range(prefix..).map_err(|e| err(self.name, e))? {
            let (k, _) = item.map_err(|e| err(self.name, e))?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push(k.value().to_string());
        }
        Ok(out)
    }

    /// The rows whose key starts with `prefix`, in key order (inside this transaction).
    pub fn scan(&self, prefix: &str) -> Result<Vec<V>, TableError> {
        prefixed(self.name, &self.table, prefix)
    }
}

impl<'tx, V: Serialize + DeserializeOwned> Writer<'tx, u64, V> {
    /// `max(id) + 1` (1 for an empty table). Unique as long as the row is inserted in
    /// the same transaction.
    pub fn next_id(&self) -> Result<u64, TableError> {
        Ok(self
            .table
            .last()
            .map_err(|e| err(self.name, e))?
            .map(|(k, _)| k.value() + 1)
            .unwrap_or(1))
    }
}

/// Every row of `t`, decoded, in key order.
fn rows<K: redb::Key + 'static, V: DeserializeOwned>(
    name: &'static str,
    t: &impl ReadableTable<K, &'static [u8]>,
) -> Result<Vec<V>, TableError> {
    let mut out = Vec::new();
    for item in t.iter().map_err(|e| err(name, e))? {
        let (k, v) = item.map_err(|e| err(name, e))?;
        out.push(decode(name, &format!("{:?}", k.value()), v.value())?);
    }
    Ok(out)
}

/// The rows of `t` whose key starts with `prefix`, decoded, in key order.
fn prefixed<V: DeserializeOwned>(
    name: &'static str,
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    prefix: &str,
) -> Result<Vec<V>, TableError> {
    let mut out = Vec::new();
    for item in t.range(prefix..).map_err(|e| err(name, e))? {
        let (k, v) = item.map_err(|e| err(name, e))?;
        if !k.value().starts_with(prefix) {
            break;
        }
        out.push(decode(name, k.value(), v.value())?);
    }
    Ok(out)
}

fn decode<V: DeserializeOwned>(table: &'static str, key: &str, b: &[u8]) -> Result<V, TableError> {
    serde_json::from_slice(b).map_err(|source| TableError::Decode {
        table,
        key: key.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Row {
        id: u64,
        n: u32,
        who: Vec<u32>,
    }

    const COUNTERS: JsonTable<&str, Row> = JsonTable::new("counters");
    const ITEMS: JsonTable<u64, Row> = JsonTable::new("items");

    fn db() -> (tempfile::TempDir, Arc<Database>) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("t.redb")).unwrap();
        (dir, Arc::new(db))
    }

    #[test]
    fn concurrent_updates_lose_nothing() {
        let (_d, db) = db();
        let threads: Vec<_> = (0..16u32)
            .map(|t| {
                let db = db.clone();
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        COUNTERS
                            .update::<TableError>(&db, "c", |old| {
                                let mut r = old.unwrap_or(Row {
                                    id: 0,
                                    n: 0,
                                    who: Vec::new(),
                                });
                                r.n += 1;
                                r.who.push(t);
                                Ok(r)
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let r = COUNTERS.get(&db, "c").unwrap().unwrap();
        assert_eq!(r.n, 16 * 25);
        assert_eq!(r.who.len(), 16 * 25);
    }

    #[test]
    fn concurrent_next_ids_are_distinct_and_dense() {
        let (_d, db) = db();
        let threads: Vec<_> = (0..16u32)
            .map(|t| {
                let db = db.clone();
                std::thread::spawn(move || {
                    (0..10)
                        .map(|_| {
                            ITEMS
                                .insert_next::<TableError>(&db, |id| {
                                    Ok(Row {
                                        id,
                                        n: t,
                                        who: Vec::new(),
                                    })
                                })
                                .unwrap()
                                .id
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut ids: Vec<u64> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        ids.sort();
        assert_eq!(ids, (1..=160).collect::<Vec<_>>());
        let rows = ITEMS.all(&db).unwrap();
        assert_eq!(rows.len(), 160);
        assert!(rows.iter().enumerate().all(|(i, r)| r.id == i as u64 + 1));
    }

    #[test]
    fn failed_update_changes_nothing_and_scan_uses_prefix() {
        #[derive(Debug, thiserror::Error)]
        enum E {
            #[error("no")]
            No,
            #[error(transparent)]
            T(#[from] TableError),
        }
        let (_d, db) = db();
        let row = |n| Row {
            id: 0,
            n,
            who: Vec::new(),
        };
        assert!(COUNTERS.insert_new(&db, "a\0x", &row(1)).unwrap());
        assert!(!COUNTERS.insert_new(&db, "a\0x", &row(2)).unwrap());
        COUNTERS.put(&db, "a\0y", &row(3)).unwrap();
        COUNTERS.put(&db, "b\0x", &row(4)).unwrap();
        let r = COUNTERS.update(&db, "a\0x", |_| Err::<Row, _>(E::No));
        assert!(matches!(r, Err(E::No)));
        assert_eq!(COUNTERS.get(&db, "a\0x").unwrap().unwrap().n, 1);
        let ns: Vec<u32> = COUNTERS
            .scan(&db, "a\0")
            .unwrap()
            .iter()
            .map(|r| r.n)
            .collect();
        assert_eq!(ns, vec![1, 3]);
        assert_eq!(COUNTERS.get(&db, "zzz").unwrap(), None);
    }
}
