//! Every route of the API, for every role, in process (issue 14: "in-process API tests
//! cover every route's status codes for each role").
//!
//! One daemon is opened on a temporary state directory ([`inproc::Daemon`]) and set up
//! through its own API, as an admin: users, groups, tokens, three private projects and a
//! public one (all on an empty snapshot: nothing is synced, resolved or built), a
//! package, two (empty) publications, a request. Then every row of [`ROUTES`] is sent
//! once per role through both routers, and the status must be the one the row names.
//! The roles (the columns of a row, in this order):
//!
//! | column | unix socket (`App::router`)                        | TCP (`App::public_router`) |
//! |--------|----------------------------------------------------|----------------------------|
//! | anon   | a peer uid that no user lists                      | no token                   |
//! | user   | alice's uid (no role anywhere)                     | alice's token              |
//! | reader | rita's uid (`reader` on the private projects, through `@readers`) | rita's token |
//! | maint  | max's uid (`maintainer` on every project)          | max's token                |
//! | admin  | uid 0                                              | the token of boss, an admin user |
//!
//! Besides the status: every answer carries `x-request-id`; no answer is a 500 (one would
//! have to carry `request_id`); every error body is JSON `{code, message}` (a path a
//! router lacks, the [`NO_ROUTE`] columns, gets the routers' JSON 404 `not_found`), except
//! `HEAD` answers. Nothing may be built (`builds_run` stays 0).
//!
//! [`routes_table_covers_every_registered_route`] reads the routers out of the sources
//! (`daemon/src/http/mod.rs` and the `routes()` functions it merges): a route added
//! without a row here, or a row whose route went away, fails it, and so does a column
//! that says a router has (or lacks) a route when it does not.
//!
//! Run: `cargo test -p cryo-daemon --test api_routes` (about 10 s).

#[path = "common/fuzzgen.rs"]
mod fuzzgen;
#[path = "common/inproc.rs"]
mod inproc;

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use inproc::{Answer, Daemon, Ident, Which};

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// A fresh object made (as the admin, on the unix socket) before each single case of a
/// row, for requests that consume or destroy their target; its name or id replaces
/// `{fx}` in the row's path and body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fx {
    None,
    /// A store root `api-test/fx<n>` on `{blob}`.
    Root,
    /// A private project `api:fx<n>` with the same roles as `{p}`.
    Project,
    /// A package `fx<n>` in `{p}` (the same source as `hello`).
    Package,
    /// A token of `victim` (a user with no role anywhere); `{fx}` is its id.
    Token,
    /// An open request `{p}` hello → `{o}` by root; `{fx}` is its id.
    Request,
    /// An open request `{p}` hello → `{r}` (where rita is a reviewer); `{fx}` is its id.
    ReviewRequest,
}

/// One request and the status each role gets for it on each router.
///
/// `path` and `body` are templates. Placeholders:
/// `{p}` the private project `api:main` (package `hello`, readers `@readers` ∋ rita,
/// maintainer max; published), `{o}` `api:other` and `{r}` `api:review` (the same roles; rita also
/// `reviewer` on `{r}`), `{pub}` the public project `api:pub` (maintainer max; published),
/// `{snap}` the seeded empty snapshot, `{blob}` a rooted blob, `{tree}` a rooted tree,
/// `{req}` an open request `{p}` → `{o}`, `{prjconf}` and `{source}` (JSON: a prjconf
/// text and the `.dsc` source of `hello`), `{dir}` a directory under the state dir,
/// `{n}` a number unique to the case, `{fx}` see [`Fx`]. A body `{tar}` is a small tar
/// stream. A non-empty body is sent as `application/json`.
///
/// `unix` and `tcp` are five statuses, for anon, user, reader, maint and admin (see the
/// module documentation). A route a router does not serve is written with
/// [`NO_UNIX`], [`NO_TCP_R`] or [`NO_TCP_W`].
struct Row {
    method: &'static str,
    path: &'static str,
    body: &'static str,
    fx: Fx,
    unix: &'static str,
    tcp: &'static str,
}

/// A row without a fixture.
const fn r(
    method: &'static str,
    path: &'static str,
    body: &'static str,
    unix: &'static str,
    tcp: &'static str,
) -> Row {
    Row {
        method,
        path,
        body,
        fx: Fx::None,
        unix,
        tcp,
    }
}

/// A row whose cases each get a fresh [`Fx`].
const fn f(
    fx: Fx,
    method: &'static str,
    path: &'static str,
    body: &'static str,
    unix: &'static str,
    tcp: &'static str,
) -> Row {
    Row {
        method,
        path,
        body,
        fx,
        unix,
        tcp,
    }
}

const GET: &str = "GET";
const HEAD: &str = "HEAD";
const POST: &str = "POST";
const PUT: &str = "PUT";
const DELETE: &str = "DELETE";

/// Not a route of the unix router (only `/cache/…`): axum's 404 for everyone.
const NO_UNIX: &str = "no route: 404 404 404 404 404";
/// Not a route of the TCP router, read. Access is decided by each route's guard, so a
/// route a router lacks is a 404 for everyone (before issue 14's guards, a URL-matching
/// middleware answered 401 first).
const NO_TCP_R: &str = "no route: 404 404 404 404 404";
/// Not a route of the TCP router, write: the same 404 for everyone.
const NO_TCP_W: &str = "no route: 404 404 404 404 404";

/// Every route, grouped by the file that registers it. Rows run in this order; the
/// shutdown row is last (it cancels the daemon's shutdown token).
///
/// Where a row's statuses look like a policy question, a `Q:` comment says so.
#[rustfmt::skip]
const ROUTES: &[Row] = &[
    // method path                                   body                   unix (anon user reader maint admin), then tcp
    // ---- http/store.rs: unix only. Reads open to every local peer, writes for admins.
    r(POST,   "/api/v1/store/blobs",                 "api-routes upload",   "401 403 403 403 200", NO_TCP_W),
    // Unrooted uploads (sources for commits) are open to every authenticated user.
    r(POST,   "/api/v1/store/blobs?root=",           "api-routes source",   "401 200 200 200 200", NO_TCP_R),
    // Q: store reads are open to every socket peer, an unmapped uid included, whatever
    // the object. docs/teams.md says private projects do not cover content-addressed
    // objects, but store/roots (below) hands out the digests of their sources.
    r(GET,    "/api/v1/store/blobs/{blob}",          "",                    "200 200 200 200 200", NO_TCP_R),
    r(POST,   "/api/v1/store/trees",                 "{tar}",               "401 403 403 403 200", NO_TCP_W),
    r(GET,    "/api/v1/store/trees/{tree}",          "",                    "200 200 200 200 200", NO_TCP_R),
    // Lists every root, but those of private projects the caller may not read (see
    // `roots_of_private_projects_are_listed_only_to_their_readers`).
    r(GET,    "/api/v1/store/roots",                 "",                    "200 200 200 200 200", NO_TCP_R),
    r(POST,   "/api/v1/store/roots",                 r#"{"name":"api-test/added","digest":"{blob}"}"#,
                                                                            "401 403 403 403 200", NO_TCP_W),
    f(Fx::Root, DELETE, "/api/v1/store/roots/{fx}",  "",                    "401 403 403 403 200", NO_TCP_W),
    r(POST,   "/api/v1/store/verify",                "",                    "401 403 403 403 200", NO_TCP_W),
    r(POST,   "/api/v1/store/gc",                    "",                    "401 403 403 403 200", NO_TCP_W),
    r(GET,    "/api/v1/store/stats",                 "",                    "200 200 200 200 200", NO_TCP_R),

    // ---- http/mirror.rs: unix only. No mirror exists: the admin gets the handler's 4xx.
    r(GET,    "/api/v1/mirrors",                     "",                    "200 200 200 200 200", NO_TCP_R),
    // {blob} is in the store but is no keyring: 400.
    r(POST,   "/api/v1/mirrors",                     r#"{"name":"m{n}","url":"file:///nonexistent","suite":"bookworm","keyring":"{blob}"}"#,
                                                                            "401 403 403 403 400", NO_TCP_W),
    r(DELETE, "/api/v1/mirrors/nope",                "",                    "401 403 403 403 404", NO_TCP_W),
    r(POST,   "/api/v1/mirrors/sync",                r#"{"mirrors":["nope"]}"#,
                                                                            "401 403 403 403 404", NO_TCP_W),

    // ---- http/snapshot.rs: unix only.
    r(GET,    "/api/v1/snapshots",                   "",                    "200 200 200 200 200", NO_TCP_R),
    r(GET,    "/api/v1/snapshots/{snap}",            "",                    "200 200 200 200 200", NO_TCP_R),
    r(GET,    "/api/v1/snapshots/{snap}/diff/{snap}", "",                   "200 200 200 200 200", NO_TCP_R),
    r(GET,    "/api/v1/snapshots/{snap}/packages/hello", "",                "404 404 404 404 404", NO_TCP_R),
    // A POST that only reads: open to authenticated local users. The snapshot is empty.
    r(POST,   "/api/v1/snapshots/{snap}/fetch",      r#"{"request":"src:hello"}"#,
                                                                            "401 404 404 404 404", NO_TCP_R),

    // ---- http/resolve.rs: unix only.
    r(POST,   "/api/v1/resolve",                     r#"{"snapshot":"{snap}","prjconf":{prjconf},"source":{source}}"#,
                                                                            "401 400 400 400 400", NO_TCP_R),
    // {blob} is a blob, not a derivation.
    r(GET,    "/api/v1/drv/{blob}",                  "",                    "400 400 400 400 400", NO_TCP_R),

    // ---- http/build.rs: unix only. Nothing is built: {blob} is no derivation.
    r(POST,   "/api/v1/build",                       r#"{"derivation":"{blob}"}"#,
                                                                            "401 403 403 403 404", NO_TCP_W),
    // Q: build logs (of private projects' builds too) are open to every socket peer.
    r(GET,    "/api/v1/drv/{blob}/log",              "",                    "404 404 404 404 404", NO_TCP_R),

    // ---- http/verify.rs: unix only.
    // A report whose one source could not be resolved (nothing is fetched or built).
    r(POST,   "/api/v1/verify",                      r#"{"snapshot":"{snap}","prjconf":{prjconf},"sources":["src:hello"]}"#,
                                                                            "401 403 403 403 200", NO_TCP_W),
    r(POST,   "/api/v1/check",                       r#"{"derivation":"{blob}"}"#,
                                                                            "401 403 403 403 400", NO_TCP_W),
    r(GET,    "/api/v1/reports",                     "",                    "200 200 200 200 200", NO_TCP_R),
    r(GET,    "/api/v1/reports/00000000",            "",                    "404 404 404 404 404", NO_TCP_R),

    // ---- http/explain.rs: unix only, admin (they build). No such report; a .buildinfo
    // without fields: nothing is resolved or built.
    r(POST,   "/api/v1/explain",                     r#"{"target":"00000000"}"#,
                                                                            "401 403 403 403 404", NO_TCP_W),
    r(POST,   "/api/v1/verify/buildinfo",            r#"{"name":"x.buildinfo","text":"Format: 1.0\n","prjconf":{prjconf}}"#,
                                                                            "401 403 403 403 400", NO_TCP_W),
    // ---- http/campaign.rs: unix only. Writes start or stop builds: admins (as verify);
    // reads are open to local peers (as reports). `nope` is no campaign. The created
    // campaign's one source cannot be resolved on the empty snapshot: nothing is built.
    r(GET,    "/api/v1/campaigns",                   "",                    "200 200 200 200 200", NO_TCP_R),
    r(POST,   "/api/v1/campaigns",                   r#"{"name":"c{n}","snapshot":"{snap}","prjconf":{prjconf},"sources":{"kind":"list","sources":["src:hello"]}}"#,
                                                                            "401 403 403 403 200", NO_TCP_W),
    r(GET,    "/api/v1/campaigns/nope",              "",                    "404 404 404 404 404", NO_TCP_R),
    r(DELETE, "/api/v1/campaigns/nope",              "",                    "401 403 403 403 404", NO_TCP_W),
    r(GET,    "/api/v1/campaigns/nope/results",      "",                    "404 404 404 404 404", NO_TCP_R),
    r(GET,    "/api/v1/campaigns/nope/export",       "",                    "404 404 404 404 404", NO_TCP_R),
    r(POST,   "/api/v1/campaigns/nope/pause",        "",                    "401 403 403 403 404", NO_TCP_W),
    r(POST,   "/api/v1/campaigns/nope/resume",       "",                    "401 403 403 403 404", NO_TCP_W),
    r(POST,   "/api/v1/campaigns/nope/update",       r#"{"snapshot":"{snap}"}"#,
                                                                            "401 403 403 403 404", NO_TCP_W),

    // ---- http/cachekeys.rs: unix only.
    r(GET,    "/api/v1/cache/keys",                  "",                    "200 200 200 200 200", NO_TCP_R),
    r(POST,   "/api/v1/cache/keys",                  r#"{"name":"k{n}"}"#,  "401 403 403 403 200", NO_TCP_W),

    // ---- http/project.rs: both routers. The project guard: reading a private project
    // needs a role, anything else `maintainer`; creating one needs an admin.
    r(GET,    "/api/v1/projects",                    "",                    "200 200 200 200 200", "200 200 200 200 200"),
    r(POST,   "/api/v1/projects",                    r#"{"name":"api:new{n}","snapshot":"{snap}","prjconf":{prjconf}}"#,
                                                                            "401 403 403 403 200", "401 403 403 403 200"),
    r(GET,    "/api/v1/projects/{p}",                "",                    "401 403 200 200 200", "401 403 200 200 200"),
    r(GET,    "/api/v1/projects/{pub}",              "",                    "200 200 200 200 200", "200 200 200 200 200"),
    // A maintainer may delete a project that only an admin may create (as documented).
    f(Fx::Project, DELETE, "/api/v1/projects/{fx}",  "",                    "401 403 403 200 200", "401 403 403 200 200"),
    r(GET,    "/api/v1/projects/{p}/config",         "",                    "401 403 200 200 200", "401 403 200 200 200"),
    r(PUT,    "/api/v1/projects/{p}/config",         "{prjconf}",           "401 403 403 200 200", "401 403 403 200 200"),
    r(POST,   "/api/v1/projects/{p}/repositories",   r#"{"repository":"debian","snapshot":"{snap}","prjconf":{prjconf}}"#,
                                                                            "401 403 403 200 200", "401 403 403 200 200"),
    // No repository follows a mirror: nothing to sync.
    r(POST,   "/api/v1/projects/{p}/sync",           "{}",                  "401 403 403 200 200", "401 403 403 200 200"),
    r(POST,   "/api/v1/projects/{p}/packages",       r#"{"source":{source},"name":"add{n}"}"#,
                                                                            "401 403 403 200 200", "401 403 403 200 200"),
    r(GET,    "/api/v1/projects/{p}/packages/hello", "",                    "401 403 200 200 200", "401 403 200 200 200"),
    f(Fx::Package, DELETE, "/api/v1/projects/{p}/packages/{fx}", "",        "401 403 403 200 200", "401 403 403 200 200"),
    // The same source again: a commit that changes nothing.
    r(POST,   "/api/v1/projects/{p}/packages/hello", r#"{"source":{source},"message":"again"}"#,
                                                                            "401 403 403 200 200", "401 403 403 200 200"),
    // Unresolvable on the empty snapshot, so never built: no log.
    r(GET,    "/api/v1/projects/{p}/packages/hello/log", "",                "401 403 404 404 404", "401 403 404 404 404"),
    r(GET,    "/api/v1/projects/{p}/results",        "",                    "401 403 200 200 200", "401 403 200 200 200"),
    r(GET,    "/api/v1/projects/{p}/status",         "",                    "401 403 200 200 200", "401 403 200 200 200"),
    // Q: 200 for a project that does not exist (so are its events, below).
    r(GET,    "/api/v1/projects/api:nope/status",    "",                    "200 200 200 200 200", "200 200 200 200 200"),
    r(POST,   "/api/v1/projects/{p}/rebuild",        "{}",                  "401 403 403 200 200", "401 403 403 200 200"),
    r(POST,   "/api/v1/projects/{p}/abort",          "{}",                  "401 403 403 200 200", "401 403 403 200 200"),
    r(GET,    "/api/v1/projects/{p}/events",         "",                    "401 403 200 200 200", "401 403 200 200 200"),
    r(GET,    "/api/v1/projects/api:nope/events",    "",                    "200 200 200 200 200", "200 200 200 200 200"),
    r(PUT,    "/api/v1/projects/{p}/publish-flag",   r#"{"publish":false}"#,"401 403 403 200 200", "401 403 403 200 200"),
    r(PUT,    "/api/v1/projects/{p}/private",        r#"{"private":true}"#, "401 403 403 200 200", "401 403 403 200 200"),
    r(POST,   "/api/v1/projects/{p}/publish",        "{}",                  "401 403 403 200 200", "401 403 403 200 200"),
    // Exporting writes where the client says, with the daemon's rights: admins only.
    r(POST,   "/api/v1/projects/{p}/publish",        r#"{"export":"{dir}/export{n}"}"#,
                                                                            "401 403 403 403 200", "401 403 403 403 200"),
    r(GET,    "/api/v1/projects/{p}/key",            "",                    "401 403 200 200 200", "401 403 200 200 200"),

    // ---- http/auth.rs: both routers.
    // Q: on TCP any token holder may list every user (with their uids) and group.
    r(GET,    "/api/v1/users",                       "",                    "200 200 200 200 200", "401 200 200 200 200"),
    r(POST,   "/api/v1/users",                       r#"{"name":"u{n}"}"#,  "401 403 403 403 200", "401 403 403 403 200"),
    r(GET,    "/api/v1/groups",                      "",                    "200 200 200 200 200", "401 200 200 200 200"),
    r(POST,   "/api/v1/groups",                      r#"{"name":"g{n}"}"#,  "401 403 403 403 200", "401 403 403 403 200"),
    r(POST,   "/api/v1/groups/bystanders/members",   r#"{"user":"victim"}"#,"401 403 403 403 200", "401 403 403 403 200"),
    r(GET,    "/api/v1/tokens",                      "",                    "401 200 200 200 200", "401 200 200 200 200"),
    // Everyone may make a token for themselves (one made with a token must expire).
    r(POST,   "/api/v1/tokens",                      r#"{"expires_days":1}"#,
                                                                            "401 200 200 200 200", "401 200 200 200 200"),
    r(POST,   "/api/v1/tokens",                      r#"{"user":"victim","expires_days":1}"#,
                                                                            "401 403 403 403 200", "401 403 403 403 200"),
    f(Fx::Token, DELETE, "/api/v1/tokens/{fx}",      "",                    "401 403 403 403 200", "401 403 403 403 200"),
    r(POST,   "/api/v1/projects/{p}/roles",          r#"{"subject":"victim","role":"bugowner"}"#,
                                                                            "401 403 403 200 200", "401 403 403 200 200"),
    r(DELETE, "/api/v1/projects/{p}/roles",          r#"{"subject":"victim","role":"bugowner"}"#,
                                                                            "401 403 403 200 200", "401 403 403 200 200"),
    // Q: anonymous gets 403, not 401, for the whole log.
    r(GET,    "/api/v1/audit",                       "",                    "403 403 403 403 200", "403 403 403 403 200"),
    r(GET,    "/api/v1/audit?project={p}",           "",                    "401 403 200 200 200", "401 403 200 200 200"),
    // Q: anonymous TCP clients may not ask who they are (the socket answers
    // `authenticated: false`): whoami is not among the middleware's self-checked paths.
    r(GET,    "/api/v1/whoami",                      "",                    "200 200 200 200 200", "401 200 200 200 200"),

    // ---- http/request.rs: both routers.
    r(GET,    "/api/v1/requests",                    "",                    "200 200 200 200 200", "200 200 200 200 200"),
    // Anyone who may read both projects may submit.
    r(POST,   "/api/v1/requests",                    r#"{"source_project":"{p}","package":"hello","target_project":"{o}"}"#,
                                                                            "401 403 200 200 200", "401 403 200 200 200"),
    // Q: anonymous gets 403, not 401 (and 404 for an id that does not exist).
    r(GET,    "/api/v1/requests/{req}",              "",                    "403 403 200 200 200", "403 403 200 200 200"),
    f(Fx::Request, POST, "/api/v1/requests/{fx}/accept", "{}",              "401 403 403 200 200", "401 403 403 200 200"),
    f(Fx::Request, POST, "/api/v1/requests/{fx}/decline", "{}",             "401 403 403 200 200", "401 403 403 200 200"),
    // The creator (root) or a maintainer of the source may revoke.
    f(Fx::Request, POST, "/api/v1/requests/{fx}/revoke", "{}",              "401 403 403 200 200", "401 403 403 200 200"),
    // The reviewer (rita), or a maintainer of the target, may review.
    f(Fx::ReviewRequest, POST, "/api/v1/requests/{fx}/review", r#"{"accept":true}"#,
                                                                            "401 403 200 200 200", "401 403 200 200 200"),

    // ---- http/cache.rs: TCP only (anonymous clients welcome).
    r(GET,    "/cache/info",                         "",                    NO_UNIX,               "200 200 200 200 200"),
    // Not realised here (a cache signing key exists, so this is no 503).
    r(GET,    "/cache/drv/{blob}",                   "",                    NO_UNIX,               "404 404 404 404 404"),
    r(GET,    "/cache/blob/{blob}",                  "",                    NO_UNIX,               "404 404 404 404 404"),
    r(HEAD,   "/cache/blob/{blob}",                  "",                    NO_UNIX,               "404 404 404 404 404"),

    // ---- http/repos.rs: both routers. {p} and {pub} are published (empty).
    r(GET,    "/repos/{p}/debian/dists/debian/InRelease", "",               "401 403 200 200 200", "401 403 200 200 200"),
    r(HEAD,   "/repos/{p}/debian/dists/debian/InRelease", "",               "401 403 200 200 200", "401 403 200 200 200"),
    r(GET,    "/repos/{p}/debian/dists/debian/nope",  "",                   "401 403 404 404 404", "401 403 404 404 404"),
    r(GET,    "/repos/{pub}/debian/dists/debian/InRelease", "",             "200 200 200 200 200", "200 200 200 200 200"),

    // ---- http/status.rs. Last: the admin's shutdown cancels the daemon's token.
    // Q: anonymous TCP clients learn the state directory, socket path and pid.
    r(GET,    "/api/v1/status",                      "",                    "200 200 200 200 200", "200 200 200 200 200"),
    r(POST,   "/api/v1/shutdown",                    "",                    "401 403 403 403 200", NO_TCP_W),
];

// ---------------------------------------------------------------------------------------
// The world the rows run in
// ---------------------------------------------------------------------------------------

const UID_ANON: u32 = 61_000;
const UID_ALICE: u32 = 61_001;
const UID_RITA: u32 = 61_002;
const UID_MAX: u32 = 61_003;

const ROLES: [&str; 5] = ["anon", "user", "reader", "maint", "admin"];

const PRJCONF_TEXT: &str = "Preinstall: dpkg\nRequired: build-essential\n";

struct World {
    d: Daemon,
    /// Per router, the identity of each role (in [`ROLES`] order).
    idents: BTreeMap<&'static str, Vec<Ident>>,
    vars: BTreeMap<&'static str, String>,
    counter: Cell<u32>,
}

fn root() -> Ident {
    Ident {
        uid: Some(0),
        token: None,
    }
}

fn uid(u: u32) -> Ident {
    Ident {
        uid: Some(u),
        token: None,
    }
}

fn token(t: &str) -> Ident {
    Ident {
        uid: None,
        token: Some(t.to_string()),
    }
}

/// A native source package `hello_1.0` (a `.dsc` and a "tarball" that is never
/// unpacked), as `(dsc, tarball)` bytes.
fn hello_source() -> (Vec<u8>, Vec<u8>) {
    use sha2::Digest;
    let tar = b"api-routes: never unpacked\n".to_vec();
    let sha = hex::encode(sha2::Sha256::digest(&tar));
    let dsc = format!(
        "Format: 3.0 (native)\nSource: hello\nBinary: hello\nArchitecture: any\n\
         Version: 1.0\nBuild-Depends: debhelper-compat (= 13)\nChecksums-Sha256:\n \
         {sha} {} hello_1.0.tar.xz\n",
        tar.len()
    );
    (dsc.into_bytes(), tar)
}

fn tar_stream() -> Vec<u8> {
    [
        fuzzgen::tar_entry("./", b'5', "", b""),
        fuzzgen::tar_entry("./a", b'0', "", b"hello"),
        vec![0; 1024],
    ]
    .concat()
}

impl World {
    async fn new() -> World {
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        assert!(
            ![UID_ANON, UID_ALICE, UID_RITA, UID_MAX].contains(&euid),
            "the test uids must not be the daemon's own"
        );
        let mut w = World {
            d: Daemon::open().await,
            idents: BTreeMap::new(),
            vars: BTreeMap::new(),
            counter: Cell::new(0),
        };
        for (name, uids, admin) in [
            ("alice", vec![UID_ALICE], false),
            ("rita", vec![UID_RITA], false),
            ("max", vec![UID_MAX], false),
            ("victim", vec![], false),
            ("boss", vec![], true),
        ] {
            let body = serde_json::json!({"name": name, "uids": uids, "admin": admin});
            w.admin(POST, "/api/v1/users", body.to_string()).await;
        }
        for g in ["readers", "bystanders"] {
            let body = serde_json::json!({ "name": g }).to_string();
            w.admin(POST, "/api/v1/groups", body).await;
        }
        w.admin(POST, "/api/v1/groups/readers/members", r#"{"user":"rita"}"#)
            .await;
        let mut tokens = BTreeMap::new();
        for name in ["alice", "rita", "max", "boss"] {
            let body = serde_json::json!({ "user": name }).to_string();
            let t = w.admin(POST, "/api/v1/tokens", body).await;
            tokens.insert(name, token(t["token"].as_str().unwrap()));
        }
        w.idents.insert(
            "unix",
            vec![
                uid(UID_ANON),
                uid(UID_ALICE),
                uid(UID_RITA),
                uid(UID_MAX),
                root(),
            ],
        );
        w.idents.insert(
            "tcp",
            vec![
                Ident::default(),
                tokens["alice"].clone(),
                tokens["rita"].clone(),
                tokens["max"].clone(),
                tokens["boss"].clone(),
            ],
        );
        // Store objects (rooted `put/<digest>`): a blob, a tree, the source of `hello`.
        let digest = |v: serde_json::Value| v["digest"].as_str().unwrap().to_string();
        let blob = digest(
            w.admin(POST, "/api/v1/store/blobs", "api-routes blob")
                .await,
        );
        let tree = digest(w.admin(POST, "/api/v1/store/trees", tar_stream()).await);
        let (dsc, tarball) = hello_source();
        let dsc = digest(w.admin(POST, "/api/v1/store/blobs", dsc).await);
        let tarball = digest(w.admin(POST, "/api/v1/store/blobs", tarball).await);
        let source = serde_json::json!({
            "kind": "dsc",
            "dsc": "hello_1.0.dsc",
            "files": {"hello_1.0.dsc": dsc, "hello_1.0.tar.xz": tarball},
        });
        let prjconf = serde_json::json!({"name": "api.prjconf", "text": PRJCONF_TEXT});
        // A cache signing key: `/cache/drv` looks derivations up instead of a 503.
        w.admin(POST, "/api/v1/cache/keys", r#"{"name":"api-test"}"#)
            .await;
        let dir = w.d.state.path().display().to_string();
        w.vars = BTreeMap::from([
            ("{p}", "api:main".to_string()),
            ("{o}", "api:other".into()),
            ("{r}", "api:review".into()),
            ("{pub}", "api:pub".into()),
            ("{snap}", w.d.snapshot.clone()),
            ("{blob}", blob),
            ("{tree}", tree),
            ("{source}", source.to_string()),
            ("{prjconf}", prjconf.to_string()),
            ("{dir}", dir),
        ]);
        for p in ["api:main", "api:other", "api:review"] {
            w.project(p, true).await;
        }
        w.project("api:pub", false).await;
        w.role("api:review", "rita", "reviewer").await;
        let body = w.expand(r#"{"source":{source}}"#);
        w.admin(POST, "/api/v1/projects/api:main/packages", body)
            .await;
        for p in ["api:main", "api:pub"] {
            w.admin(POST, &format!("/api/v1/projects/{p}/publish"), "{}")
                .await;
        }
        let req = w.request("api:other").await;
        w.vars.insert("{req}", req);
        w
    }

    /// A request as the admin on the unix socket, which must succeed.
    async fn admin(&self, method: &str, path: &str, body: impl AsRef<[u8]>) -> serde_json::Value {
        self.d
            .ok(Which::Unix, &root(), method, path, body.as_ref())
            .await
    }

    async fn role(&self, project: &str, subject: &str, role: &str) {
        let body = serde_json::json!({"subject": subject, "role": role}).to_string();
        self.admin(POST, &format!("/api/v1/projects/{project}/roles"), &body)
            .await;
    }

    /// Create `name` on the empty snapshot; private ones get `@readers` as reader, all
    /// get max as maintainer.
    async fn project(&self, name: &str, private: bool) {
        let body = serde_json::json!({
            "name": name,
            "private": private,
            "snapshot": self.vars["{snap}"],
            "prjconf": {"name": "api.prjconf", "text": PRJCONF_TEXT},
        });
        self.admin(POST, "/api/v1/projects", &body.to_string())
            .await;
        if private {
            self.role(name, "@readers", "reader").await;
        }
        self.role(name, "max", "maintainer").await;
    }

    /// An open request `api:main` hello → `target` by root; returns its id.
    async fn request(&self, target: &str) -> String {
        let body = serde_json::json!({
            "source_project": "api:main", "package": "hello", "target_project": target,
        });
        let r = self
            .admin(POST, "/api/v1/requests", &body.to_string())
            .await;
        r["id"].as_u64().expect("request id").to_string()
    }

    fn next(&self) -> u32 {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        n
    }

    fn expand(&self, template: &str) -> String {
        let mut s = template.to_string();
        for (k, v) in &self.vars {
            s = s.replace(k, v);
        }
        s
    }

    /// Make the fixture of one case; returns what replaces `{fx}`.
    async fn fixture(&self, fx: Fx, n: u32) -> Option<String> {
        Some(match fx {
            Fx::None => return None,
            Fx::Root => {
                let name = format!("api-test/fx{n}");
                let body = serde_json::json!({"name": name, "digest": self.vars["{blob}"]});
                self.admin(POST, "/api/v1/store/roots", &body.to_string())
                    .await;
                name
            }
            Fx::Project => {
                let name = format!("api:fx{n}");
                self.project(&name, true).await;
                name
            }
            Fx::Package => {
                let name = format!("fx{n}");
                let body = self.expand(&format!(r#"{{"source":{{source}},"name":"{name}"}}"#));
                self.admin(POST, "/api/v1/projects/api:main/packages", &body)
                    .await;
                name
            }
            Fx::Token => {
                let t = self
                    .admin(POST, "/api/v1/tokens", r#"{"user":"victim"}"#)
                    .await;
                t["id"].as_str().unwrap().to_string()
            }
            Fx::Request => self.request("api:other").await,
            Fx::ReviewRequest => self.request("api:review").await,
        })
    }
}

/// The prefix of a column for a route the router does not have.
const NO_ROUTE: &str = "no route:";

/// `"401 403 200 200 200"` (or [`NO_ROUTE`] and five statuses) → five statuses.
fn statuses(s: &str) -> Vec<u16> {
    let v: Vec<u16> = s
        .trim_start_matches(NO_ROUTE)
        .split_whitespace()
        .map(|x| {
            x.parse()
                .unwrap_or_else(|_| panic!("bad status {x:?} in {s:?}"))
        })
        .collect();
    assert_eq!(v.len(), ROLES.len(), "five statuses in {s:?}");
    v
}

/// Problems of an answer other than its status: the request id, no 500, the error body.
fn shape_problems(a: &Answer, method: &str, served: bool) -> Vec<String> {
    let mut out = Vec::new();
    if !a.headers.contains_key("x-request-id") {
        out.push("no x-request-id header".into());
    }
    let v = a.json();
    if a.status.as_u16() == 500 {
        out.push(format!("a 500: {}", a.text()));
        if !v["request_id"].is_string() {
            out.push("a 500 without request_id".into());
        }
    }
    if a.status.as_u16() >= 400 {
        if method == HEAD {
            // No body to speak of.
        } else if !served && v["code"] != "not_found" {
            // The routers' fallback: a JSON 404 `not_found` for a path they lack.
            out.push(format!("unrouted answer is not the JSON 404: {}", a.text()));
        } else if !(v["code"].is_string() && v["message"].is_string()) {
            out.push(format!(
                "error body is not {{code, message}}: {:?}",
                a.text()
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_for_every_role() {
    let started = std::time::Instant::now();
    let w = World::new().await;
    let (unix_routes, tcp_routes) = registered();
    let mut failures = Vec::new();
    let mut cases = 0;
    for row in ROUTES {
        for which in [Which::Unix, Which::Tcp] {
            let (want, served_on) = match which {
                Which::Unix => (row.unix, &unix_routes),
                Which::Tcp => (row.tcp, &tcp_routes),
            };
            let served = route_of(row, served_on).is_some();
            let want = statuses(want);
            let mut got = Vec::new();
            let mut notes = Vec::new();
            for (i, who) in w.idents[which.name()].iter().enumerate() {
                let n = w.next();
                let mut vars = vec![("{n}", n.to_string())];
                if let Some(fx) = w.fixture(row.fx, n).await {
                    vars.push(("{fx}", fx));
                }
                let sub = |t: &str| {
                    let mut s = w.expand(t);
                    for (k, v) in &vars {
                        s = s.replace(k, v);
                    }
                    s
                };
                let path = sub(row.path);
                let body = match row.body {
                    "{tar}" => tar_stream(),
                    b => sub(b).into_bytes(),
                };
                let a = w.d.call(which, who, row.method, &path, body).await;
                cases += 1;
                got.push(a.status.as_u16());
                for p in shape_problems(&a, row.method, served) {
                    notes.push(format!("{} {p}", ROLES[i]));
                }
                if a.status.as_u16() != want[i] {
                    notes.push(format!("{}: {} {}", ROLES[i], a.status, a.text()));
                }
                if !served && (a.status.is_success() || (i == 4 && a.status.as_u16() != 404)) {
                    notes.push(format!(
                        "{}: not a route of this router, yet {}",
                        ROLES[i], a.status
                    ));
                }
            }
            if got != want || !notes.is_empty() {
                let fmt = |v: &[u16]| {
                    v.iter()
                        .map(|s| s.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                failures.push(format!(
                    "{} {} {} (body {:?}): want \"{}\", got \"{}\"\n    {}",
                    which.name(),
                    row.method,
                    row.path,
                    row.body,
                    fmt(&want),
                    fmt(&got),
                    notes.join("\n    ")
                ));
            }
        }
    }
    // Nothing was built (the snapshot is empty, so nothing resolves).
    let st =
        w.d.ok(Which::Unix, &root(), GET, "/api/v1/status", b"")
            .await;
    assert_eq!(st["builds_run"], 0, "{st}");
    w.d.shutdown.cancel();
    eprintln!(
        "{cases} cases ({} rows x 5 roles x 2 routers) in {:?}",
        ROUTES.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {} rows differ:\n{}",
        failures.len(),
        ROUTES.len() * 2,
        failures.join("\n")
    );
}

/// Tokens that do not authenticate (revoked, expired, forged, unknown, malformed) are
/// refused with a 401 on both routers, even on routes open to anonymous callers: never
/// downgraded to anonymous (nor to the socket's uid).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused_not_downgraded() {
    let w = World::new().await;
    let secret = |v: serde_json::Value| v["token"].as_str().unwrap().to_string();
    let good = secret(w.admin(POST, "/api/v1/tokens", r#"{"user":"alice"}"#).await);
    let revoked = w.admin(POST, "/api/v1/tokens", r#"{"user":"alice"}"#).await;
    let id = revoked["id"].as_str().unwrap();
    w.admin(DELETE, &format!("/api/v1/tokens/{id}"), "").await;
    let revoked = secret(revoked);
    let expired = secret(
        w.admin(
            POST,
            "/api/v1/tokens",
            r#"{"user":"alice","expires_days":0}"#,
        )
        .await,
    );
    // The good token's id with another secret.
    let last = if good.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &good[..good.len() - 1]);
    for which in [Which::Unix, Which::Tcp] {
        let a =
            w.d.call(which, &token(&good), GET, "/api/v1/whoami", Vec::new())
                .await;
        assert_eq!(a.status.as_u16(), 200);
        for t in [
            &revoked,
            &expired,
            &forged,
            "cryo_00000000_00",
            "not-a-token",
        ] {
            // On the socket, from root's uid: the token decides, not the uid.
            let who = Ident {
                uid: Some(0),
                token: Some(t.to_string()),
            };
            for path in ["/api/v1/status", "/api/v1/projects", "/api/v1/whoami"] {
                let a = w.d.call(which, &who, GET, path, Vec::new()).await;
                assert_eq!(a.status.as_u16(), 401, "{which:?} {t} {path}: {}", a.text());
                assert_eq!(a.json()["code"], "unauthorized", "{}", a.text());
            }
        }
    }
    w.d.shutdown.cancel();
}

/// A project name with its colons percent-encoded (as clients may send it) is checked
/// like the plain one: the guard reads the decoded path parameter the handler reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percent_encoded_project_names_are_guarded() {
    let w = World::new().await;
    let roles = &w.idents["unix"];
    let (anon, user, reader) = (&roles[0], &roles[1], &roles[2]);
    for path in [
        "/api/v1/projects/api%3Amain",
        "/api/v1/projects/api%3amain/results",
    ] {
        let a = w.d.call(Which::Unix, anon, GET, path, Vec::new()).await;
        assert_eq!(a.status.as_u16(), 401, "{path}: {}", a.text());
        let a = w.d.call(Which::Unix, user, GET, path, Vec::new()).await;
        assert_eq!(a.status.as_u16(), 403, "{path}: {}", a.text());
        let a = w.d.call(Which::Unix, reader, GET, path, Vec::new()).await;
        assert_eq!(a.status.as_u16(), 200, "{path}: {}", a.text());
    }
    let a =
        w.d.call(
            Which::Unix,
            user,
            DELETE,
            "/api/v1/projects/api%3Amain",
            Vec::new(),
        )
        .await;
    assert_eq!(a.status.as_u16(), 403, "{}", a.text());
    w.d.shutdown.cancel();
}

/// `GET /api/v1/store/roots` hides the roots of private projects from callers who may
/// not read them: their digests lead to the projects' sources.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roots_of_private_projects_are_listed_only_to_their_readers() {
    let w = World::new().await;
    let names = |v: serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    let private =
        |n: &String| n.starts_with("project/api:main/") || n.starts_with("publish/api:main/");
    let public = |n: &String| n.starts_with("project/api:pub/");
    let roles = &w.idents["unix"];
    let (anon, user, reader, admin) = (&roles[0], &roles[1], &roles[2], &roles[4]);
    for (who, sees_private) in [(anon, false), (user, false), (reader, true), (admin, true)] {
        let listed = names(
            w.d.ok(Which::Unix, who, GET, "/api/v1/store/roots", b"")
                .await,
        );
        assert_eq!(
            listed.iter().any(private),
            sees_private,
            "{who:?}: {listed:?}"
        );
        assert!(
            listed.iter().any(public),
            "public project roots stay listed: {listed:?}"
        );
    }
    w.d.shutdown.cancel();
}

// ---------------------------------------------------------------------------------------
// Which routes the routers have, read from the sources
// ---------------------------------------------------------------------------------------

/// A registered route: method (upper case) and path pattern as written in the source.
type Route = (String, String);

fn src(rel: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Without `//` comments (none of the route sources has `//` inside a string).
fn strip_comments(s: &str) -> String {
    s.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text between the parenthesis or brace at `open` and its match.
fn balanced(s: &str, open: usize) -> &str {
    let (o, c) = match s.as_bytes()[open] {
        b'(' => (b'(', b')'),
        b'{' => (b'{', b'}'),
        x => panic!("not an opening bracket: {}", x as char),
    };
    let mut depth = 0;
    let mut in_str = false;
    for (i, &b) in s.as_bytes().iter().enumerate().skip(open) {
        match b {
            b'"' => in_str = !in_str,
            _ if in_str => {}
            _ if b == o => depth += 1,
            _ if b == c => {
                depth -= 1;
                if depth == 0 {
                    return &s[open + 1..i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced source")
}

/// The body of `fn NAME(` in `text`.
fn fn_body<'a>(text: &'a str, name: &str) -> &'a str {
    let at = text
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("no fn {name}"));
    let brace = at + text[at..].find('{').expect("fn body");
    balanced(text, brace)
}

/// Every `.route("path", get(h).post(h2)…)` in `body`.
fn routes_in(body: &str) -> Vec<Route> {
    const METHODS: [&str; 7] = ["get", "post", "put", "delete", "head", "patch", "options"];
    // The routers' JSON 404/405 for what no route serves are not routes.
    let body = body
        .replace(".fallback(no_route)", "")
        .replace(".method_not_allowed_fallback(no_method)", "");
    let body = body.as_str();
    for unsupported in [".nest(", ".route_service(", ".fallback(", ".merge("] {
        assert!(
            !body.contains(unsupported),
            "{unsupported} in a routes() function: teach this test's parser about it"
        );
    }
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find(".route(") {
        let args = balanced(rest, at + ".route".len());
        let q1 = args.find('"').expect("route path literal");
        let q2 = q1 + 1 + args[q1 + 1..].find('"').expect("end of path literal");
        let path = &args[q1 + 1..q2];
        let expr = &args[q2 + 1..];
        // Identifiers directly followed by `(` outside any parenthesis: the methods.
        let b = expr.as_bytes();
        let mut depth = 0;
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'(' => depth += 1,
                b')' => depth -= 1,
                c if depth == 0 && (c.is_ascii_alphabetic() || c == b'_') => {
                    let start = i;
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                        i += 1;
                    }
                    let ident = &expr[start..i];
                    if i < b.len() && b[i] == b'(' {
                        assert!(
                            METHODS.contains(&ident),
                            "{path}: unknown method router {ident}()"
                        );
                        out.push((ident.to_ascii_uppercase(), path.to_string()));
                    }
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        rest = &rest[at + ".route(".len() + args.len()..];
    }
    out
}

/// The routes of the router built by `fn NAME` in `http/mod.rs`: its own `.route(`s and
/// those of every `routes()` function it merges.
fn router_routes(name: &str) -> BTreeSet<Route> {
    let module = strip_comments(&src("http/mod.rs"));
    let body = fn_body(&module, name);
    let mut out: BTreeSet<Route> = routes_in(&body.replace(".merge(", ".x("))
        .into_iter()
        .collect();
    let mut rest = body;
    while let Some(at) = rest.find(".merge(") {
        let arg = balanced(rest, at + ".merge".len()).trim();
        let call = arg
            .strip_suffix("()")
            .unwrap_or_else(|| panic!("merge of {arg}"));
        let (module_path, func) = call.rsplit_once("::").expect("module::function");
        let file = match module_path.strip_prefix("crate::") {
            Some(p) => format!("{}.rs", p.replace("::", "/")),
            None => format!("http/{}.rs", module_path.replace("::", "/")),
        };
        let text = strip_comments(&src(&file));
        out.extend(routes_in(fn_body(&text, func)));
        rest = &rest[at + ".merge(".len()..];
    }
    assert!(!out.is_empty(), "no routes found in {name}");
    out
}

/// (unix router, TCP router).
fn registered() -> (BTreeSet<Route>, BTreeSet<Route>) {
    (router_routes("router"), router_routes("public_router"))
}

/// Whether a pattern (`{x}` one segment, `{*x}` the rest) matches a concrete path, and
/// how many of its segments are literal (axum prefers literal segments).
fn pattern_match(pattern: &str, path: &str) -> Option<usize> {
    let path = path.split('?').next().unwrap_or(path);
    let pat: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut literal = 0;
    for (i, p) in pat.iter().enumerate() {
        if p.starts_with("{*") {
            return (segs.len() > i).then_some(literal);
        }
        let s = segs.get(i)?;
        if p.starts_with('{') {
            continue;
        }
        if p != s {
            return None;
        }
        literal += 1;
    }
    (segs.len() == pat.len()).then_some(literal)
}

/// The route of `routes` a row reaches, if any.
fn route_of<'a>(row: &Row, routes: &'a BTreeSet<Route>) -> Option<&'a Route> {
    routes
        .iter()
        .filter(|(m, _)| m == row.method)
        .filter_map(|r| pattern_match(&r.1, row.path).map(|lit| (lit, r)))
        .max_by_key(|(lit, _)| *lit)
        .map(|(_, r)| r)
}

/// Every route of either router has a row, every row reaches a route, and the routes a
/// router lacks are written as such (admin 404) in its column.
#[test]
fn routes_table_covers_every_registered_route() {
    let (unix, tcp) = registered();
    let all: BTreeSet<Route> = unix.union(&tcp).cloned().collect();
    let mut problems = Vec::new();
    for r in &all {
        if !ROUTES.iter().any(|row| route_of(row, &all) == Some(r)) {
            problems.push(format!("no row for {} {}", r.0, r.1));
        }
    }
    for row in ROUTES {
        if route_of(row, &all).is_none() {
            problems.push(format!("row {} {} reaches no route", row.method, row.path));
        }
        for (name, routes, want) in [("unix", &unix, row.unix), ("tcp", &tcp, row.tcp)] {
            let served = route_of(row, routes).is_some();
            let not_served = want.starts_with(NO_ROUTE);
            if served == not_served {
                problems.push(format!(
                    "row {} {}: {name} {} the route, but its column says {want:?}",
                    row.method,
                    row.path,
                    if served { "serves" } else { "lacks" }
                ));
            }
        }
    }
    // Independently of how `mod.rs` assembles the routers: every `.route(` call in the
    // route files is in a `routes()`/`public_routes()` function, and its route is one the
    // parser found in a router (a route function merged nowhere, or merged in a way the
    // parser does not follow, fails here).
    let mut files = Vec::new();
    let http = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    for e in std::fs::read_dir(http).unwrap() {
        files.push(format!("http/{}", e.unwrap().file_name().to_string_lossy()));
    }
    let (mut calls, mut in_route_fns) = (0, BTreeSet::new());
    for f in &files {
        let text = strip_comments(&src(f));
        calls += text.matches(".route(").count();
        for func in ["routes", "public_routes"] {
            if text.contains(&format!("fn {func}(")) {
                in_route_fns.extend(routes_in(fn_body(&text, func)));
            }
        }
    }
    let found: usize = files
        .iter()
        .map(|f| {
            let text = strip_comments(&src(f));
            ["routes", "public_routes"]
                .iter()
                .filter(|func| text.contains(&format!("fn {func}(")))
                .map(|func| fn_body(&text, func).matches(".route(").count())
                .sum::<usize>()
        })
        .sum();
    assert_eq!(
        calls, found,
        "`.route(` calls outside routes()/public_routes(): extend this test's parser"
    );
    assert!(calls >= 55, "only {calls} `.route(` calls: wrong files?");
    for r in in_route_fns.difference(&all) {
        problems.push(format!("{} {} is in no router", r.0, r.1));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The public (TCP) router serves none of the store, mirror, snapshot, build or
/// administration routes (the table checks that they answer 404 there).
#[test]
fn public_router_has_no_local_only_routes() {
    let (_, tcp) = registered();
    for (m, p) in &tcp {
        for local in [
            "/api/v1/store",
            "/api/v1/mirrors",
            "/api/v1/snapshots",
            "/api/v1/resolve",
            "/api/v1/build",
            "/api/v1/drv",
            "/api/v1/verify",
            "/api/v1/check",
            "/api/v1/explain",
            "/api/v1/reports",
            "/api/v1/campaigns",
            "/api/v1/cache/keys",
            "/api/v1/shutdown",
        ] {
            assert!(!p.starts_with(local), "TCP serves {m} {p}");
        }
    }
}
