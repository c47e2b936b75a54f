//! HTTP routes of the daemon's versioned JSON API, one file per endpoint group.
//!
//! The same router serves the unix socket and (optionally) TCP. Errors are [`ApiErr`]:
//! an explicit status plus a JSON `{code, message}` body; messages stay useful (they name
//! the digest, path or field at fault), except for 500s, whose detail is only logged under
//! the request's id (see `error.rs`, `request_id.rs`).

mod auth;
mod build;
pub(crate) mod cache;
mod cachekeys;
mod campaign;
mod error;
mod explain;
pub mod guard;
mod identity;
mod mirror;
mod project;
mod repos;
mod request;
pub mod request_id;
pub mod resolve;
mod snapshot;
mod status;
mod store;
pub(crate) mod stream;
mod verify;

use axum::Router;

pub use error::ApiErr;

/// What every handler gets: the daemon's services (`services.rs`).
pub type AppState = std::sync::Arc<crate::services::Services>;

/// Connection info recorded per connection (unix peer credentials when available).
#[derive(Clone, Copy, Debug, Default)]
pub struct Peer {
    pub uid: Option<u32>,
    pub pid: Option<i32>,
}

impl
    axum::extract::connect_info::Connected<
        axum::serve::IncomingStream<'_, tokio::net::UnixListener>,
    > for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::UnixListener>) -> Self {
        match stream.io().peer_cred() {
            Ok(c) => Peer {
                uid: Some(c.uid()),
                pid: c.pid(),
            },
            Err(_) => Peer::default(),
        }
    }
}

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>>
    for Peer
{
    fn connect_info(_: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Peer::default()
    }
}

/// The TCP listener as served: every accepted connection gets `TCP_NODELAY` (nginx's
/// `tcp_nodelay on`), so that a body written in several pieces (a blob streamed from its
/// compressed file) does not wait for the client's delayed ACK between them.
pub struct TcpListener(pub tokio::net::TcpListener);

impl axum::serve::Listener for TcpListener {
    type Io = tokio::net::TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(%addr, "TCP_NODELAY: {e}");
                    }
                    return (stream, addr);
                }
                // As axum's own listener: a connection that failed before it was accepted
                // is the client's problem; anything else (e.g. out of file descriptors)
                // is retried after a pause instead of spinning.
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionRefused
                            | std::io::ErrorKind::ConnectionAborted
                            | std::io::ErrorKind::ConnectionReset
                    ) => {}
                Err(e) => {
                    tracing::error!("accepting a TCP connection: {e}");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(_: axum::serve::IncomingStream<'_, TcpListener>) -> Self {
        Peer::default()
    }
}

/// The full API router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(status::routes())
        .merge(store::routes())
        .merge(mirror::routes())
        .merge(snapshot::routes())
        .merge(resolve::routes())
        .merge(build::routes())
        .merge(verify::routes())
        .merge(explain::routes())
        .merge(campaign::routes())
        .merge(cachekeys::routes())
        .merge(project::routes())
        .merge(auth::routes())
        .merge(request::routes())
        .merge(repos::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            identity::identify,
        ))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// What the TCP listener serves: the binary cache, published repositories, and the
/// project, request, user and token API for clients with bearer tokens (every write
/// needs one). Store, mirror and daemon administration stay on the unix socket.
pub fn public_router(state: AppState) -> Router {
    Router::new()
        .merge(status::public_routes())
        .merge(cache::routes())
        .merge(repos::routes())
        .merge(project::routes())
        .merge(auth::routes())
        .merge(request::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            identity::identify,
        ))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// A path no route serves: a JSON 404 like every other error.
async fn no_route(method: axum::http::Method, uri: axum::http::Uri) -> ApiErr {
    ApiErr::not_found(format!("no route {method} {}", uri.path()))
}

/// A route that exists, with a method it does not take.
async fn no_method(method: axum::http::Method, uri: axum::http::Uri) -> ApiErr {
    ApiErr {
        status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: format!("{} does not take {method}", uri.path()),
    }
}

/// Give the request an id (tracing span, `x-request-id`, internal error bodies), log it,
/// and mask the body of any 500 that escaped [`ApiErr`].
async fn log_request(
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<Peer>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;
    let id = request_id::next();
    let span = tracing::info_span!("request", id = %id);
    let method = req.method().clone();
    let uri = req.uri().clone();
    let resp = request_id::scope(id.clone(), next.run(req))
        .instrument(span.clone())
        .await;
    let mut resp = error::mask_internal(resp, &id);
    span.in_scope(|| {
        tracing::info!(peer_uid = ?peer.uid, peer_pid = ?peer.pid, %method, %uri, status = resp.status().as_u16(), "request");
    });
    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}
