//! Bridges between async HTTP bodies and the blocking store.

use std::io;

use axum::body::{Body, Bytes};
use futures_util::TryStreamExt;
use tokio::sync::mpsc;
use tokio_util::io::{StreamReader, SyncIoBridge};
use tokio_util::sync::CancellationToken;

/// A blocking `Read` over a request body; use only inside `spawn_blocking`.
pub fn body_reader(body: Body) -> SyncIoBridge<impl tokio::io::AsyncRead + Unpin> {
    let stream = body.into_data_stream().map_err(io::Error::other);
    SyncIoBridge::new(StreamReader::new(stream))
}

/// A blocking `Write` whose bytes become a streaming response body. An error sent with
/// [`ChannelWriter::fail`] aborts the response (the client sees a broken body, never a
/// complete one).
pub struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

const FLUSH_AT: usize = 256 * 1024;

impl ChannelWriter {
    /// The writer and the response body fed by it.
    pub fn new() -> (Self, Body) {
        let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(8);
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        (
            Self {
                tx,
                buf: Vec::with_capacity(FLUSH_AT),
            },
            Body::from_stream(stream),
        )
    }

    /// Abort the body with an error.
    pub fn fail(mut self, e: io::Error) {
        self.buf.clear();
        let _ = self.tx.blocking_send(Err(e));
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(FLUSH_AT),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= FLUSH_AT {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

impl Drop for ChannelWriter {
    fn drop(&mut self) {
        let _ = self.send();
    }
}

/// A body of `stream` that ends when the daemon shuts down: graceful shutdown waits for
/// every response to finish, and a follower must not keep the daemon alive.
pub fn until_shutdown<S, T, E>(stream: S, shutdown: &CancellationToken) -> axum::body::Body
where
    S: futures_util::Stream<Item = Result<T, E>> + Send + 'static,
    T: Into<bytes::Bytes> + 'static,
    E: Into<axum::BoxError> + 'static,
{
    use futures_util::StreamExt;
    axum::body::Body::from_stream(stream.take_until(shutdown.clone().cancelled_owned()))
}

/// A response body that follows a running build's log to its end (or to the daemon's
/// shutdown).
pub fn follow_body(
    run: std::sync::Arc<crate::project::scheduler::Running>,
    shutdown: &CancellationToken,
) -> axum::body::Body {
    let rx = run.log.subscribe();
    let stream = futures_util::stream::unfold(
        (rx, run, 0usize, false),
        |(mut rx, run, pos, done)| async move {
            if done {
                return None;
            }
            loop {
                let (chunk, finished) = run.log.read_from(pos);
                if !chunk.is_empty() {
                    let n = pos + chunk.len();
                    let item = Ok::<_, std::convert::Infallible>(bytes::Bytes::from(chunk));
                    return Some((item, (rx, run, n, false)));
                }
                if finished {
                    return None;
                }
                if rx.changed().await.is_err() {
                    let (chunk, _) = run.log.read_from(pos);
                    return Some((Ok(bytes::Bytes::from(chunk)), (rx, run, pos, true)));
                }
            }
        },
    );
    until_shutdown(stream, shutdown)
}
