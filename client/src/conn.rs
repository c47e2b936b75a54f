//! HTTP/1.1 over the daemon's unix socket (hyper), with JSON helpers and API errors
//! turned into readable messages.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use cryo_store::api::ApiError;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::UnixStream;

/// Request body type.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// A connection factory for one daemon socket.
#[derive(Clone, Debug)]
pub struct Conn {
    socket: PathBuf,
    /// Bearer token (`CRYO_TOKEN`): act as that token's user.
    token: Option<String>,
}

/// An empty body.
pub fn empty() -> Body {
    Full::new(Bytes::new())
        .map_err(|never| match never {})
        .boxed()
}

/// A body streamed from chunks produced elsewhere (e.g. a file reader thread).
pub fn stream_body(rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>) -> Body {
    let s = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item.map(Frame::data), rx))
    });
    BodyExt::boxed(StreamBody::new(s))
}

impl Conn {
    pub fn new(socket: &Path) -> Self {
        Self {
            socket: socket.to_path_buf(),
            token: std::env::var("CRYO_TOKEN").ok().filter(|t| !t.is_empty()),
        }
    }

    /// Whether a daemon answers on the socket.
    pub async fn alive(&self) -> bool {
        // Any HTTP answer means a daemon is there (a refused token answers 401 here, and
        // the real request then reports why).
        self.request(Method::GET, "/api/v1/status", empty())
            .await
            .is_ok()
    }

    /// Send one request on a fresh connection.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Body,
    ) -> Result<Response<Incoming>> {
        self.request_typed(method, path, body, "application/octet-stream")
            .await
    }

    /// Send one request with an explicit content type.
    pub async fn request_typed(
        &self,
        method: Method,
        path: &str,
        body: Body,
        content_type: &str,
    ) -> Result<Response<Incoming>> {
        let stream = UnixStream::connect(&self.socket)
            .await
            .with_context(|| format!("connecting to cryod at {}", self.socket.display()))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake with cryod")?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection to cryod ended: {e}");
            }
        });
        let mut req = Request::builder()
            .method(method)
            .uri(format!("http://cryod{path}"))
            .header("host", "cryod")
            .header("content-type", content_type);
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = req.body(body).context("building request")?;
        sender
            .send_request(req)
            .await
            .with_context(|| format!("request {path} to cryod failed"))
    }

    /// Send a request and fail with the daemon's message on a non-2xx status.
    pub async fn checked(
        &self,
        method: Method,
        path: &str,
        body: Body,
    ) -> Result<Response<Incoming>> {
        let resp = self.request(method, path, body).await?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(api_error(resp).await)
    }

    /// JSON request/response.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T> {
        let body = match body {
            Some(b) => Full::new(Bytes::from(serde_json::to_vec(b)?))
                .map_err(|never| match never {})
                .boxed(),
            None => empty(),
        };
        let resp = self
            .request_typed(method, path, body, "application/json")
            .await?;
        if !resp.status().is_success() {
            return Err(api_error(resp).await);
        }
        read_json(resp).await
    }
}

impl Conn {
    /// Store bytes as a blob without a GC root (the caller roots what it keeps).
    pub async fn upload(&self, bytes: Vec<u8>) -> Result<cryo_store::api::PutResponse> {
        let body = Full::new(Bytes::from(bytes))
            .map_err(|never| match never {})
            .boxed();
        let resp = self
            .checked(Method::POST, "/api/v1/store/blobs?root=", body)
            .await?;
        read_json(resp).await
    }

    /// Stream a blob into `out`, verified by the daemon; an aborted transfer is an error
    /// naming the digest.
    pub async fn download(&self, digest: &str, out: &mut dyn std::io::Write) -> Result<()> {
        let resp = self
            .checked(
                Method::GET,
                &format!("/api/v1/store/blobs/{digest}"),
                empty(),
            )
            .await?;
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.with_context(|| {
                format!("blob {digest}: the daemon aborted the transfer (content failed verification, see `cryo store verify`)")
            })?;
            if let Some(data) = frame.data_ref() {
                out.write_all(data)?;
            }
        }
        out.flush()?;
        Ok(())
    }
}

/// Decode a JSON response body.
pub async fn read_json<T: DeserializeOwned>(resp: Response<Incoming>) -> Result<T> {
    let bytes = resp
        .into_body()
        .collect()
        .await
        .context("reading the daemon's answer")?
        .to_bytes();
    serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "unexpected answer from cryod: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        )
    })
}

/// Turn an error response into an error carrying the daemon's message.
pub async fn api_error(resp: Response<Incoming>) -> anyhow::Error {
    let status = resp.status();
    let bytes = match resp.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return anyhow!("cryod answered {status} and the body failed: {e}"),
    };
    match serde_json::from_slice::<ApiError>(&bytes) {
        Ok(e) => anyhow!("{}", e.message),
        Err(_) if status == StatusCode::NOT_FOUND => {
            anyhow!("cryod does not know this request (404); is it older than this cryo?")
        }
        Err(_) => anyhow!(
            "cryod answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        ),
    }
}
