//! Fetching files from an archive: `file://` reads and `http(s)://` GETs with bounded
//! retries and exponential backoff for transient failures (connection errors, 5xx,
//! truncated bodies). 404 is final ("not found"), as are other 4xx answers.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use super::MirrorError;

/// Retry policy for transient HTTP failures.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub first_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_delay: Duration::from_millis(200),
        }
    }
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchFailure {
    /// The file does not exist on the mirror (404 / ENOENT).
    #[error("not found on the mirror")]
    NotFound,
    /// Reading a `file://` URL, reading the body or writing it failed.
    #[error("{0}")]
    Io(#[source] std::io::Error),
    #[error("resetting the download: {0}")]
    Reset(#[source] std::io::Error),
    #[error("HTTP {0}")]
    Status(u16),
    #[error("larger than the limit of {0} bytes")]
    TooLarge(u64),
    #[error("truncated body: got {got} of {expected} bytes")]
    Truncated { got: u64, expected: u64 },
    #[error("reading the body: {0}")]
    Body(#[source] Box<FetchFailure>),
    #[error("{0}")]
    Http(#[source] Box<ureq::Error>),
    /// The last transient failure, after every retry.
    #[error("{last} (after {attempts} attempts)")]
    Exhausted {
        attempts: u32,
        #[source]
        last: Box<FetchFailure>,
    },
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_recv_body(Some(Duration::from_secs(120)))
        .http_status_as_error(false)
        .build()
        .into()
}

fn file_path(url: &str) -> Option<PathBuf> {
    url.strip_prefix("file://").map(PathBuf::from)
}

/// Stream `url` into `sink`, retrying transient failures. Returns bytes written. A retry
/// starts over: the caller's `sink` is truncated through `reset`.
pub fn fetch_into(
    url: &str,
    sink: &mut dyn Write,
    reset: &mut dyn FnMut() -> std::io::Result<()>,
    max_bytes: u64,
    retry: Retry,
) -> Result<u64, FetchFailure> {
    if let Some(p) = file_path(url) {
        let f = match std::fs::File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FetchFailure::NotFound)
            }
            Err(e) => return Err(FetchFailure::Io(e)),
        };
        return copy_capped(f, sink, max_bytes);
    }
    let agent = agent();
    let mut delay = retry.first_delay;
    let mut last = FetchFailure::Status(0);
    for attempt in 1..=retry.attempts.max(1) {
        if attempt > 1 {
            std::thread::sleep(delay);
            delay *= 2;
            if let Err(e) = reset() {
                return Err(FetchFailure::Reset(e));
            }
        }
        match agent.get(url).call() {
            Ok(resp) => {
                let status = resp.status().as_u16();
                if status == 404 || status == 410 {
                    return Err(FetchFailure::NotFound);
                }
                if (400..500).contains(&status) {
                    return Err(FetchFailure::Status(status));
                }
                if status >= 500 {
                    last = FetchFailure::Status(status);
                    tracing::warn!(url, attempt, "transient failure: {last}");
                    continue;
                }
                let expected = resp
                    .headers()
                    .get("content-length")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                let body = resp.into_body().into_reader();
                match copy_capped(body, sink, max_bytes) {
                    Ok(n) => {
                        if let Some(exp) = expected {
                            if n != exp {
                                last = FetchFailure::Truncated {
                                    got: n,
                                    expected: exp,
                                };
                                tracing::warn!(url, attempt, "transient failure: {last}");
                                continue;
                            }
                        }
                        return Ok(n);
                    }
                    Err(e) => {
                        last = FetchFailure::Body(Box::new(e));
                        tracing::warn!(url, attempt, "transient failure: {last}");
                    }
                }
            }
            Err(e) => {
                last = FetchFailure::Http(Box::new(e));
                tracing::warn!(url, attempt, "transient failure: {last}");
            }
        }
    }
    Err(FetchFailure::Exhausted {
        attempts: retry.attempts,
        last: Box::new(last),
    })
}

fn copy_capped(mut r: impl Read, w: &mut dyn Write, max: u64) -> Result<u64, FetchFailure> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf).map_err(FetchFailure::Io)?;
        if k == 0 {
            return Ok(n);
        }
        n += k as u64;
        if n > max {
            return Err(FetchFailure::TooLarge(max));
        }
        w.write_all(&buf[..k]).map_err(FetchFailure::Io)?;
    }
}

/// Fetch a small file into memory.
pub fn fetch_bytes(url: &str, max_bytes: u64, retry: Retry) -> Result<Vec<u8>, FetchFailure> {
    let mut buf: Vec<u8> = Vec::new();
    let cell = std::cell::RefCell::new(&mut buf);
    let mut sink = RefSink(&cell);
    let mut reset = || {
        cell.borrow_mut().clear();
        Ok(())
    };
    fetch_into(url, &mut sink, &mut reset, max_bytes, retry)?;
    Ok(buf)
}

struct RefSink<'a, 'b>(&'a std::cell::RefCell<&'b mut Vec<u8>>);

impl Write for RefSink<'_, '_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Map a failure to a mirror error naming the URL.
pub fn to_error(url: &str, f: FetchFailure) -> MirrorError {
    match f {
        FetchFailure::NotFound => MirrorError::Fetch {
            url: url.to_string(),
            message: "not found on the mirror".into(),
        },
        source => MirrorError::Download {
            url: url.to_string(),
            source,
        },
    }
}
