//! `server::run(app, listeners, shutdown)` on a real unix socket: cancelling the shutdown
//! token lets requests in flight finish (an upload whose body is still arriving gets its
//! answer), ends open streams (the NDJSON event stream would otherwise keep the daemon
//! alive) and then returns.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::TokioIo;
use tokio_util::sync::CancellationToken;

use cryo_daemon::config::RawConfig;
use cryo_daemon::server::{run, App, Listeners};

type Chunk = Result<Frame<Bytes>, Infallible>;

async fn connect(
    sock: &std::path::Path,
) -> hyper::client::conn::http1::SendRequest<StreamBody<feed::Rx>> {
    let io = TokioIo::new(tokio::net::UnixStream::connect(sock).await.unwrap());
    let (send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(conn);
    send
}

/// A body fed chunk by chunk from the test.
mod feed {
    use super::Chunk;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pub struct Rx(pub tokio::sync::mpsc::Receiver<Chunk>);

    impl futures_util::Stream for Rx {
        type Item = Chunk;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
            self.0.poll_recv(cx)
        }
    }
}

fn request(method: &str, uri: &str, rx: feed::Rx) -> hyper::Request<StreamBody<feed::Rx>> {
    hyper::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "cryod")
        .body(StreamBody::new(rx))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_in_flight_requests_and_ends_streams() {
    let dir = tempfile::tempdir().unwrap();
    let config = RawConfig {
        state: Some(dir.path().join("state")),
        ..Default::default()
    }
    .resolve(None)
    .unwrap();
    let token = CancellationToken::new();
    let app = App::open(config, token.clone()).await.unwrap();
    let sock = app.config().socket.clone();
    let listeners = Listeners::bind(app.config()).await.unwrap();
    let server = tokio::spawn(run(app, listeners, token.clone()));

    // An upload whose body is still arriving when the shutdown starts.
    let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(4);
    let mut up = connect(&sock).await;
    let upload =
        tokio::spawn(up.send_request(request("POST", "/api/v1/store/blobs?root=", feed::Rx(rx))));
    let first = Bytes::from(vec![b'a'; 64 << 10]);
    tx.send(Ok(Frame::data(first.clone()))).await.unwrap();

    // An event stream that never ends by itself.
    let (_etx, erx) = tokio::sync::mpsc::channel::<Chunk>(1);
    let mut ev = connect(&sock).await;
    let events = ev
        .send_request(request(
            "GET",
            "/api/v1/projects/nobody/events",
            feed::Rx(erx),
        ))
        .await
        .unwrap();
    assert_eq!(events.status(), 200);

    tokio::time::sleep(Duration::from_millis(200)).await;
    token.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The upload in flight completes with the digest of everything that was sent.
    let second = Bytes::from(vec![b'b'; 64 << 10]);
    tx.send(Ok(Frame::data(second.clone()))).await.unwrap();
    drop(tx);
    let resp = tokio::time::timeout(Duration::from_secs(20), upload)
        .await
        .expect("the upload in flight is answered")
        .unwrap()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let all = [first.as_ref(), second.as_ref()].concat();
    assert_eq!(v["digest"], blake3::hash(&all).to_hex().as_str(), "{v}");

    // The event stream ends, and the server returns.
    tokio::time::timeout(Duration::from_secs(20), events.into_body().collect())
        .await
        .expect("the event stream ends at shutdown")
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .expect("run returns after the drain")
        .unwrap()
        .unwrap();
    assert!(!sock.exists(), "the socket is removed");
}
