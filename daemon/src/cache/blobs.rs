//! Compressed bodies of the cache's public blobs, with bounded resources: anonymous
//! clients reach this code, so nothing here grows with what they ask for.
//!
//! - A blob is compressed (zstd) by streaming it from the store into an unlinked temp file
//!   in the store's `tmp/`: memory per compression is the encoder's window, and a `kill -9`
//!   leaves nothing behind. Responses read the file in chunks.
//! - At most [`COMPRESSIONS`] compressions run at once; at most [`MAX_PENDING`] requests
//!   wait for one (more answer 503 `busy`).
//! - One compression per blob: concurrent requests for the same blob wait for the first
//!   and share its result. The per-blob lock is removed from the in-flight map by the
//!   last request holding it, on success, error or cancellation alike ([`InflightGuard`]).
//! - Finished bodies are kept, least recently used evicted first, up to
//!   [`CACHE_BYTES`] on disk and [`CACHE_ENTRIES`] entries.

use std::collections::HashMap;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use cryo_store::{B3Digest, Store};
use tokio::sync::Semaphore;

use super::CacheError;

/// Largest blob served.
pub const MAX_SERVED: u64 = 1 << 30;
/// Compressions running at once.
pub const COMPRESSIONS: usize = 2;
/// Requests allowed to wait for a compression (their own or another's); more are refused.
pub const MAX_PENDING: usize = 64;
/// Compressed bytes kept on disk for later requests.
const CACHE_BYTES: u64 = 2 << 30;
/// Compressed bodies kept.
const CACHE_ENTRIES: usize = 4096;

/// A compressed body: an unlinked temp file holding the zstd frame.
#[derive(Debug)]
pub struct Encoded {
    file: std::fs::File,
    /// Compressed length.
    pub len: u64,
    /// Content (uncompressed) size.
    pub size: u64,
}

impl Encoded {
    /// Read `buf.len()` compressed bytes at `offset` (blocking).
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }
}

type BlobLock = tokio::sync::Mutex<()>;

/// See the module documentation. One per daemon, in `AppState`.
pub struct BlobCache {
    /// digest → (body, last use tick).
    encoded: Mutex<HashMap<B3Digest, (Arc<Encoded>, u64)>>,
    tick: std::sync::atomic::AtomicU64,
    inflight: Mutex<HashMap<B3Digest, Weak<BlobLock>>>,
    permits: Arc<Semaphore>,
    pending: AtomicUsize,
    /// Compressions running now and the most ever seen at once (for tests).
    active: AtomicUsize,
    max_active: AtomicUsize,
}

impl Default for BlobCache {
    fn default() -> Self {
        Self::new(COMPRESSIONS)
    }
}

/// Holds a blob's compression lock; the last holder removes the in-flight entry when it is
/// dropped, however the request ended (answer, error, panic or a client that went away).
pub struct InflightGuard {
    cache: Arc<BlobCache>,
    digest: B3Digest,
    lock: Option<Arc<BlobLock>>,
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        drop(self.lock.take());
        let mut m = self.cache.inflight.lock().expect("inflight");
        if m.get(&self.digest).is_some_and(|w| w.strong_count() == 0) {
            m.remove(&self.digest);
        }
    }
}

/// Counts a request waiting in the miss path.
struct Pending(Arc<BlobCache>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.pending.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a compression running (on the blocking thread, to its very end).
struct Active(Arc<BlobCache>);

impl Active {
    fn enter(c: &Arc<BlobCache>) -> Self {
        let n = c.active.fetch_add(1, Ordering::SeqCst) + 1;
        c.max_active.fetch_max(n, Ordering::SeqCst);
        Active(c.clone())
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

impl BlobCache {
    /// A cache running at most `compressions` compressions at once.
    pub fn new(compressions: usize) -> Self {
        Self {
            encoded: Mutex::default(),
            tick: Default::default(),
            inflight: Mutex::default(),
            permits: Arc::new(Semaphore::new(compressions.max(1))),
            pending: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            max_active: AtomicUsize::new(0),
        }
    }

    /// Number of blobs with a compression lock in the in-flight map.
    pub fn inflight_len(&self) -> usize {
        self.inflight.lock().expect("inflight").len()
    }

    /// The most compressions that ever ran at once.
    pub fn max_active(&self) -> usize {
        self.max_active.load(Ordering::SeqCst)
    }

    fn lookup(&self, d: &B3Digest) -> Option<Arc<Encoded>> {
        let t = self.tick.fetch_add(1, Ordering::Relaxed);
        let mut m = self.encoded.lock().expect("encoded");
        let e = m.get_mut(d)?;
        e.1 = t;
        Some(e.0.clone())
    }

    fn remember(&self, d: B3Digest, body: Arc<Encoded>) {
        let t = self.tick.fetch_add(1, Ordering::Relaxed);
        let mut m = self.encoded.lock().expect("encoded");
        m.insert(d, (body, t));
        let mut total: u64 = m.values().map(|(e, _)| e.len).sum();
        while m.len() > 1 && (total > CACHE_BYTES || m.len() > CACHE_ENTRIES) {
            let Some(oldest) = m.iter().min_by_key(|(_, (_, t))| *t).map(|(k, _)| *k) else {
                break;
            };
            if let Some((e, _)) = m.remove(&oldest) {
                total -= e.len;
            }
        }
    }

    fn blob_lock(self: &Arc<Self>, d: &B3Digest) -> InflightGuard {
        let mut m = self.inflight.lock().expect("inflight");
        let lock = match m.get(d).and_then(Weak::upgrade) {
            Some(l) => l,
            None => {
                let l = Arc::new(BlobLock::new(()));
                m.insert(*d, Arc::downgrade(&l));
                l
            }
        };
        InflightGuard {
            cache: self.clone(),
            digest: *d,
            lock: Some(lock),
        }
    }

    /// The compressed body of `d` (which the caller checked is public): kept from an
    /// earlier request, or compressed now within the bounds above. The compression slot,
    /// the blob's lock and its in-flight entry are owned by the blocking task, so a client
    /// that goes away cannot make room for more compressions than [`COMPRESSIONS`].
    pub async fn encoded(
        self: &Arc<Self>,
        store: &Arc<Store>,
        d: &B3Digest,
    ) -> Result<Arc<Encoded>, CacheError> {
        if let Some(hit) = self.lookup(d) {
            return Ok(hit);
        }
        if self.pending.fetch_add(1, Ordering::SeqCst) >= MAX_PENDING {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        let _pending = Pending(self.clone());
        let guard = self.blob_lock(d);
        let held = guard.lock.clone().expect("lock held").lock_owned().await;
        if let Some(hit) = self.lookup(d) {
            return Ok(hit);
        }
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| busy())?;
        let (this, store, digest) = (self.clone(), store.clone(), *d);
        tokio::task::spawn_blocking(move || {
            // Dropped in this order: the slot, the lock, then the in-flight entry.
            let _owned = (permit, held, guard);
            let _active = Active::enter(&this);
            let body = Arc::new(compress(&store, &digest)?);
            this.remember(digest, body.clone());
            Ok(body)
        })
        .await?
    }
}

fn busy() -> CacheError {
    CacheError::Busy
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> CacheError {
    move |source| CacheError::Io { path: what, source }
}

/// Stream blob `d` from the store (verified while read) through zstd into a temp file.
fn compress(store: &Store, d: &B3Digest) -> Result<Encoded, CacheError> {
    let meta = store
        .meta(d)?
        .ok_or_else(|| CacheError::NotFound(format!("blob {d} not found")))?;
    if meta.size > MAX_SERVED {
        return Err(CacheError::Invalid(format!(
            "blob {d} is larger than {MAX_SERVED} bytes"
        )));
    }
    let file =
        tempfile::tempfile_in(store.tmp_dir()).map_err(io(format!("temp file for blob {d}")))?;
    let mut r = store.open_blob(d)?;
    let mut enc = zstd::stream::Encoder::new(std::io::BufWriter::new(file), 3)
        .map_err(io(format!("compressing blob {d}")))?;
    let size = std::io::copy(&mut r, &mut enc).map_err(io(format!("compressing blob {d}")))?;
    let file = enc
        .finish()
        .map_err(io(format!("compressing blob {d}")))?
        .into_inner()
        .map_err(|e| io(format!("compressing blob {d}"))(e.into_error()))?;
    let len = file
        .metadata()
        .map_err(io(format!("compressed blob {d}")))?
        .len();
    Ok(Encoded { file, len, size })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryo_store::ObjectKind;

    fn noise(seed: u32, len: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x % 7) as u8
            })
            .collect()
    }

    fn blob_file(dir: &std::path::Path, d: &B3Digest) -> std::path::PathBuf {
        let hex = d.to_hex();
        dir.join("blobs").join(&hex[..2]).join(hex)
    }

    #[tokio::test]
    async fn errors_during_compression_leave_no_inflight_entry() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let c = Arc::new(BlobCache::default());
        // Corrupt on disk: the verifying reader fails in the middle of the compression.
        let bad = store
            .put_bytes(&noise(1, 1 << 20), ObjectKind::Blob, &[], None)
            .unwrap()
            .digest;
        std::fs::write(blob_file(dir.path(), &bad), b"garbage").unwrap();
        // Indexed but its file is gone: opening fails.
        let gone = store
            .put_bytes(b"gone", ObjectKind::Blob, &[], None)
            .unwrap()
            .digest;
        std::fs::remove_file(blob_file(dir.path(), &gone)).unwrap();
        // Not in the store at all.
        let unknown = B3Digest::of(b"unknown");
        for d in [bad, gone, unknown] {
            let err = c.encoded(&store, &d).await.unwrap_err();
            assert!(
                matches!(err, CacheError::Store(_) | CacheError::NotFound(_)),
                "{err}"
            );
            assert_eq!(c.inflight_len(), 0, "in-flight entry left for {d}");
        }
        // Concurrent requests for one failing blob: all fail, nothing is left.
        let futs = (0..8).map(|_| c.encoded(&store, &bad));
        for r in futures_util::future::join_all(futs).await {
            assert!(r.is_err());
        }
        assert_eq!(c.inflight_len(), 0);
        // A cancelled request (the client went away) leaves nothing either.
        let good = store
            .put_bytes(&noise(2, 4 << 20), ObjectKind::Blob, &[], None)
            .unwrap()
            .digest;
        let fut = c.encoded(&store, &good);
        let _ = tokio::time::timeout(std::time::Duration::from_micros(1), fut).await;
        // Its compression may still finish in the background; then the entry goes.
        for _ in 0..1000 {
            if c.inflight_len() == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(c.inflight_len(), 0);
        // And a good blob is served, then kept.
        let e = c.encoded(&store, &good).await.unwrap();
        assert_eq!(e.size, 4 << 20);
        assert_eq!(c.inflight_len(), 0);
        let mut body = vec![0u8; e.len as usize];
        e.read_at(&mut body, 0).unwrap();
        assert_eq!(zstd::decode_all(&body[..]).unwrap(), noise(2, 4 << 20));
        assert!(Arc::ptr_eq(&e, &c.encoded(&store, &good).await.unwrap()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn compressions_are_bounded_and_shared() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let c = Arc::new(BlobCache::new(2));
        let digests: Vec<B3Digest> = (0..8)
            .map(|i| {
                store
                    .put_bytes(&noise(10 + i, 8 << 20), ObjectKind::Blob, &[], None)
                    .unwrap()
                    .digest
            })
            .collect();
        // 8 distinct blobs, each asked for 4 times, all at once.
        let mut tasks = Vec::new();
        for d in digests.iter().cycle().take(32) {
            let (c, store, d) = (c.clone(), store.clone(), *d);
            tasks.push(tokio::spawn(async move { c.encoded(&store, &d).await }));
        }
        let mut bodies: HashMap<B3Digest, Arc<Encoded>> = HashMap::new();
        for (t, d) in tasks.into_iter().zip(digests.iter().cycle()) {
            let e = t.await.unwrap().unwrap();
            assert_eq!(e.size, 8 << 20);
            // One compression per blob: every request got the same body.
            if let Some(first) = bodies.get(d) {
                assert!(Arc::ptr_eq(first, &e));
            } else {
                bodies.insert(*d, e);
            }
        }
        assert!(
            c.max_active() >= 1 && c.max_active() <= 2,
            "{}",
            c.max_active()
        );
        assert_eq!(c.inflight_len(), 0);
    }
}
