//! Per-request ids: every request gets one (in the `request` tracing span, the
//! `x-request-id` response header and the body of an internal error), so that an answer
//! that hides the cause can be matched to the daemon log line that has it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

tokio::task_local! {
    static CURRENT: String;
}

/// A new id: 16 hex digits, a per-process prefix (so that ids differ across restarts) and
/// a counter.
pub fn next() -> String {
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let prefix = *PREFIX.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let mut h = blake3::Hasher::new();
        h.update(&std::process::id().to_le_bytes());
        h.update(&now.as_nanos().to_le_bytes());
        let b = h.finalize();
        u32::from_le_bytes(b.as_bytes()[..4].try_into().expect("4 bytes"))
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix:08x}{:08x}", n as u32)
}

/// Run `fut` with `id` as the current request id.
pub async fn scope<F: std::future::Future>(id: String, fut: F) -> F::Output {
    CURRENT.scope(id, fut).await
}

/// The id of the request being handled, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}
