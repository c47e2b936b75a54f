//! Concurrency limit for builds (the configured number of workers) and the record of
//! each derivation's latest build log.

use std::sync::{Arc, Condvar, Mutex};

use redb::{ReadableDatabase, TableDefinition};

use cryo_store::{B3Digest, Store};

/// A counting semaphore for blocking code.
pub struct BuildSlots {
    free: Mutex<usize>,
    cv: Condvar,
}

/// Holding one build slot; released on drop.
pub struct Permit<'a>(&'a BuildSlots);

impl BuildSlots {
    pub fn new(n: usize) -> Self {
        Self {
            free: Mutex::new(n.max(1)),
            cv: Condvar::new(),
        }
    }

    /// Wait for a free slot.
    pub fn acquire(&self) -> Permit<'_> {
        let mut free = self.free.lock().expect("slots");
        while *free == 0 {
            free = self.cv.wait(free).expect("slots");
        }
        *free -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().expect("slots") += 1;
        self.0.cv.notify_one();
    }
}

const BUILD_LOGS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("build_logs");

/// derivation → digest of its latest build log (redb table `build_logs`).
pub struct BuildLogs {
    store: Arc<Store>,
}

impl BuildLogs {
    pub fn new(store: Arc<Store>) -> Self {
        Self { store }
    }

    pub fn set(&self, drv: &B3Digest, log: B3Digest) {
        let db = self.store.index().database();
        let res = (|| -> Result<(), redb::Error> {
            let tx = db.begin_write()?;
            tx.open_table(BUILD_LOGS)?
                .insert(&drv.as_bytes()[..], &log.as_bytes()[..])?;
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = res {
            tracing::warn!(%drv, "recording the build log failed: {e}");
        }
    }

    pub fn get(&self, drv: &B3Digest) -> Option<B3Digest> {
        let db = self.store.index().database();
        let tx = db.begin_read().ok()?;
        let t = tx.open_table(BUILD_LOGS).ok()?;
        let v = t.get(&drv.as_bytes()[..]).ok()??;
        B3Digest::try_from(v.value()).ok()
    }
}
