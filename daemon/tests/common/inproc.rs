//! An in-process `cryod` for API tests: a temporary state directory, [`App::open`], and
//! requests sent straight into its routers with `tower::ServiceExt::oneshot` (no socket).
//!
//! Each request carries the connection info the listeners would record
//! (`ConnectInfo<Peer>`): a peer uid on the unix socket, none on TCP. Identity follows
//! from it as in `auth::middleware`: uid 0 or the daemon's euid is an admin, a uid listed
//! by a user (`users[].uids`) is that user, other uids are anonymous; a bearer token names
//! its user on either router.
//!
//! Nothing here syncs a mirror: [`Daemon::open`] seeds one *empty* snapshot (no archives)
//! straight into the store before the daemon opens it, so that projects (which need a
//! snapshot) can be created through the API. Resolving anything against it fails, so no
//! package is ever built.

use std::collections::BTreeMap;
use std::path::Path;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use cryo_daemon::config::RawConfig;
use cryo_daemon::http::Peer;
use cryo_daemon::mirror::snapshot::{SnapshotInfo, SnapshotRecord, SNAPSHOT_FORMAT};
use cryo_daemon::server::App;
use cryo_store::ObjectKind;

/// Which router a request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// `App::router`: the unix-socket API.
    Unix,
    /// `App::public_router`: what `--listen` serves over TCP.
    Tcp,
}

impl Which {
    pub fn name(self) -> &'static str {
        match self {
            Which::Unix => "unix",
            Which::Tcp => "tcp",
        }
    }
}

/// Who sends a request: the peer uid the socket would report, and a bearer token.
#[derive(Clone, Debug, Default)]
pub struct Ident {
    pub uid: Option<u32>,
    pub token: Option<String>,
}

/// An answer, with its body read unless it is a success (success bodies may be endless
/// streams, e.g. the project event stream).
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    /// `None` for 2xx and 3xx answers (not read).
    pub body: Option<Vec<u8>>,
}

impl Answer {
    /// The body as JSON (`Null` when absent or not JSON).
    pub fn json(&self) -> serde_json::Value {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(serde_json::Value::Null)
    }
    /// The body as text, for messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.body.as_deref().unwrap_or_default()).into_owned()
    }
}

/// An opened daemon on a temporary state directory.
pub struct Daemon {
    pub unix: Router,
    pub tcp: Router,
    /// Id (hex) of the seeded empty snapshot.
    pub snapshot: String,
    pub shutdown: CancellationToken,
    /// The daemon itself (its store, configuration).
    #[allow(dead_code)] // not every test reaches past the routers
    pub app: App,
    /// Dropped last: the state directory.
    pub state: tempfile::TempDir,
}

/// Store an empty snapshot (no archives) the way `mirror::sync` stores one: the record
/// as a store object rooted `snapshot/<id>`, its metadata in the `snapshots` table.
fn seed_empty_snapshot(dir: &Path) -> String {
    let store = cryo_store::Store::open(dir).expect("open the store");
    let record = SnapshotRecord {
        format: SNAPSHOT_FORMAT.into(),
        archives: Vec::new(),
    };
    let stored = store
        .put_bytes(&record.encode(), ObjectKind::Record, &[], None)
        .expect("store the snapshot record");
    assert_eq!(stored.digest, record.id());
    store
        .add_root(&format!("snapshot/{}", stored.digest), &stored.digest)
        .expect("root the snapshot record");
    let info = SnapshotInfo {
        id: stored.digest,
        record,
        created: 0,
        urls: BTreeMap::new(),
        expired_accepted: Vec::new(),
        binary_packages: 0,
        source_packages: 0,
    };
    cryo_daemon::mirror::snapshot::save(&store, &info).expect("record the snapshot");
    info.id.to_hex()
}

impl Daemon {
    /// Open a daemon on a fresh state directory (one worker). The environment is read as
    /// `cryod` reads it (`CRYOD_NOW`, `CRYOD_BUILD_DIR`) and not changed here.
    pub async fn open() -> Daemon {
        let state = tempfile::Builder::new()
            .prefix("cryo-api-routes-")
            .tempdir()
            .unwrap();
        let snapshot = seed_empty_snapshot(state.path());
        let config = RawConfig {
            state: Some(state.path().to_path_buf()),
            workers: Some(1),
            ..Default::default()
        }
        .resolve(None)
        .expect("configuration");
        let shutdown = CancellationToken::new();
        let app = App::open(config, shutdown.clone())
            .await
            .expect("open the daemon");
        Daemon {
            unix: app.router(),
            tcp: app.public_router(),
            snapshot,
            shutdown,
            app,
            state,
        }
    }

    /// Send one request as `who` through `which` router. A non-empty `body` is sent with
    /// `content-type: application/json`.
    pub async fn raw(
        &self,
        which: Which,
        who: &Ident,
        method: &str,
        uri: &str,
        body: Vec<u8>,
    ) -> axum::response::Response {
        let mut b = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(uri);
        if !body.is_empty() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        if let Some(t) = &who.token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let mut req = b.body(Body::from(body)).expect("request");
        let (router, uid) = match which {
            Which::Unix => (self.unix.clone(), who.uid),
            // TCP connections carry no peer credentials.
            Which::Tcp => (self.tcp.clone(), None),
        };
        req.extensions_mut()
            .insert(ConnectInfo(Peer { uid, pid: None }));
        router.oneshot(req).await.expect("infallible router")
    }

    /// [`Daemon::raw`], with the body of any answer that is not a success read (success
    /// bodies may be endless streams, e.g. the project event stream).
    pub async fn call(
        &self,
        which: Which,
        who: &Ident,
        method: &str,
        uri: &str,
        body: Vec<u8>,
    ) -> Answer {
        let (parts, body) = self.raw(which, who, method, uri, body).await.into_parts();
        let body = if parts.status.is_success() || parts.status.is_redirection() {
            None
        } else {
            let collected =
                tokio::time::timeout(std::time::Duration::from_secs(10), body.collect())
                    .await
                    .expect("an error body ends")
                    .expect("error body");
            Some(collected.to_bytes().to_vec())
        };
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// A request whose answer must be a success; returns its JSON body.
    pub async fn ok(
        &self,
        which: Which,
        who: &Ident,
        method: &str,
        uri: &str,
        body: &[u8],
    ) -> serde_json::Value {
        let resp = self.raw(which, who, method, uri, body.to_vec()).await;
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(
            status.is_success(),
            "{method} {uri}: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
    }
}
