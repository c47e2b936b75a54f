//! The API's JSON bodies from arbitrary and mutated bytes (the fuzz target for request
//! bodies; `bench/fuzz.sh` runs it longer with `CRYO_FUZZ_CASES`):
//!
//! * the request types the library exports (`ResolveRequestBody`, `PrjconfText`,
//!   `SourceSpec`, `CreateRequest`, `RepoRequest`) deserialise from any bytes without a
//!   panic (most body types are private to their `http/*.rs` module, so they are reached
//!   through the next test instead);
//! * a real `cryod` on a temporary state directory gets every JSON endpoint's body mutated
//!   over the unix socket (raw HTTP/1.1): each request gets a complete answer that is not a
//!   server error, and the daemon keeps serving. Endpoints that reach outside the daemon
//!   (mirror sync, project sync, publish with `export`) and the administrative ones
//!   (shutdown, gc) are left out; project endpoints name a project that does not exist.
//!
//! Inputs come from a small deterministic generator (seed in `CRYO_FUZZ_SEED`), so a
//! failure names the seed and the input that caused it.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common/fuzzgen.rs"]
mod fuzzgen;

use fuzzgen::{cases, mutate, seed, tar_entry, Rng};

const PRJCONF: &str =
    r#"{"name":"t.prjconf","text":"Support: foo\n%if 0%{?debian}\nPrefer: bar\n%endif\n"}"#;

fn resolve_body() -> String {
    format!(
        r#"{{"snapshot":"{}","prjconf":{PRJCONF},"source":{{"kind":"snapshot","request":"src:hello"}},"arch":"amd64","build":"full"}}"#,
        "ab".repeat(32)
    )
}

fn repo_body() -> String {
    format!(
        r#"{{"repository":"debian","snapshot":"{}","mirrors":["bookworm"],"allow_expired":true,"prjconf":{PRJCONF},"arches":["amd64"],"path":["other:project"]}}"#,
        "ab".repeat(32)
    )
}

/// A small tar stream (the body of `POST /api/v1/store/trees`), as text for the table.
fn tree_seed() -> String {
    let tar = [
        tar_entry("./", b'5', "", b""),
        tar_entry("./a", b'0', "", b"hello"),
        tar_entry("./l", b'2', "a", b""),
        vec![0; 1024],
    ]
    .concat();
    // Every byte is ASCII or NUL, so the round trip through String is exact.
    String::from_utf8(tar).unwrap()
}

/// Deserialises `data` as `T`; a panic is reported with the input.
fn deserialise<T: serde::de::DeserializeOwned>(what: &str, data: &[u8]) {
    let r = std::panic::catch_unwind(|| serde_json::from_slice::<T>(data).map(|_| ()));
    match r {
        Ok(Ok(())) => {}
        Ok(Err(e)) => assert!(!e.to_string().is_empty(), "{what}: empty error"),
        Err(_) => panic!(
            "{what}: deserialising panicked on {:?}",
            String::from_utf8_lossy(data)
        ),
    }
}

#[test]
fn exported_body_types_never_panic() {
    use cryo_daemon::drv::source::SourceSpec;
    use cryo_daemon::http::resolve::{PrjconfText, ResolveRequestBody};
    use cryo_daemon::project::ops::{CreateRequest, RepoRequest};

    let create = {
        let repo = repo_body();
        format!(
            r#"{{"name":"eol:12:staging","description":"d","publish":true,"private":true,{}"#,
            &repo[1..]
        )
    };
    let seeds = [
        resolve_body(),
        repo_body(),
        create,
        PRJCONF.to_owned(),
        r#"{"kind":"dsc","dsc":"hello_2.10-3.dsc","files":{"hello_2.10.orig.tar.gz":"00"}}"#
            .to_owned(),
    ];
    let mut rng = Rng(seed());
    let n = cases(2000);
    let started = Instant::now();
    for i in 0..n {
        let data = mutate(&mut rng, seeds[i % seeds.len()].as_bytes());
        deserialise::<ResolveRequestBody>("ResolveRequestBody", &data);
        deserialise::<PrjconfText>("PrjconfText", &data);
        deserialise::<SourceSpec>("SourceSpec", &data);
        deserialise::<CreateRequest>("CreateRequest", &data);
        deserialise::<RepoRequest>("RepoRequest", &data);
    }
    eprintln!("{n} inputs x 5 types in {:?}", started.elapsed());
}

/// A `cryod` on a temporary state directory, killed on drop.
struct Daemon {
    _state: tempfile::TempDir,
    socket: PathBuf,
    child: Child,
}

impl Daemon {
    fn start() -> Daemon {
        let state = tempfile::Builder::new()
            .prefix("cryo-fuzz-api-")
            .tempdir()
            .unwrap();
        let socket = state.path().join("cryod.sock");
        let log = std::fs::File::create(state.path().join("fuzz-cryod.log")).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cryod"));
        for v in [
            "CRYO_SOCKET",
            "CRYOD_LISTEN",
            "CRYO_CONFIG",
            "CRYOD_WORKERS",
        ] {
            cmd.env_remove(v);
        }
        let child = cmd
            .arg("--state")
            .arg(state.path())
            .env("CRYOD_LOG", "warn")
            .env("CRYOD_BUILD_DIR", state.path().join("build"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start cryod");
        let mut d = Daemon {
            _state: state,
            socket,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if d.request("GET", "/api/v1/status", b"")
                .is_some_and(|(s, _)| s == 200)
            {
                return d;
            }
            if let Some(st) = d.child.try_wait().unwrap() {
                panic!("cryod exited with {st}: {}", d.log());
            }
            assert!(
                Instant::now() < deadline,
                "cryod did not answer: {}",
                d.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._state.path().join("fuzz-cryod.log")).unwrap_or_default()
    }

    /// One request on a fresh connection: (status, body), or `None` when the daemon closed
    /// the connection without a complete answer.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> Option<(u16, Vec<u8>)> {
        request(&self.socket, method, path, body)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn request(socket: &Path, method: &str, path: &str, body: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut s = UnixStream::connect(socket).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: cryod\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    let end = out.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&out[..end]).ok()?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, out[end + 4..].to_vec()))
}

#[test]
fn daemon_answers_every_mutated_body() {
    let d = Daemon::start();
    let hash = "ab".repeat(32);
    let missing = "fuzz:no-such-project";
    let endpoints: Vec<(&str, String, String)> = vec![
        ("POST", "/api/v1/users".into(), r#"{"name":"alice","admin":false,"uids":[4242]}"#.into()),
        ("POST", "/api/v1/groups".into(), r#"{"name":"devs"}"#.into()),
        ("POST", "/api/v1/groups/devs/members".into(), r#"{"user":"alice"}"#.into()),
        ("POST", "/api/v1/tokens".into(), r#"{"user":"alice","expires_days":30}"#.into()),
        ("POST", "/api/v1/build".into(), format!(r#"{{"rebuild":false,{}"#, &resolve_body()[1..])),
        ("POST", "/api/v1/resolve".into(), resolve_body()),
        ("POST", "/api/v1/cache/keys".into(), r#"{"name":"cache-key-1"}"#.into()),
        ("POST", "/api/v1/mirrors".into(), format!(r#"{{"name":"m1","url":"file:///nonexistent/cryo-fuzz","suite":"bookworm","components":["main"],"arches":["amd64"],"keyring":"{hash}","priority":500,"sources":true}}"#)),
        ("POST", "/api/v1/projects".into(), format!(r#"{{"name":"eol:fuzz","description":"d",{}"#, &repo_body()[1..].replace(r#""mirrors":["bookworm"],"#, ""))),
        ("POST", format!("/api/v1/projects/{missing}/repositories"), repo_body()),
        ("POST", format!("/api/v1/projects/{missing}/packages"), r#"{"source":{"kind":"dsc","dsc":"hello_2.10-3.dsc","files":{}},"name":"hello","message":"m","package":"hello"}"#.into()),
        ("POST", format!("/api/v1/projects/{missing}/rebuild"), r#"{"package":"hello"}"#.into()),
        ("PUT", format!("/api/v1/projects/{missing}/private"), r#"{"publish":true,"private":false}"#.into()),
        ("POST", "/api/v1/requests".into(), format!(r#"{{"source_project":"{missing}","package":"hello","target_project":"eol:prod","message":"m"}}"#)),
        ("POST", "/api/v1/requests/1/accept".into(), r#"{"message":"ok","accept":true}"#.into()),
        ("POST", format!("/api/v1/snapshots/{hash}/fetch"), r#"{"request":"src:hello","arch":"amd64"}"#.into()),
        ("POST", "/api/v1/verify".into(), format!(r#"{{"snapshot":"{hash}","prjconf":{PRJCONF},"sources":["src:hello"],"arch":"amd64"}}"#)),
        ("POST", "/api/v1/check".into(), format!(r#"{{"derivation":"{hash}","vary":["umask"]}}"#)),
        ("POST", "/api/v1/store/trees".into(), tree_seed()),
        ("POST", "/api/v1/store/roots".into(), format!(r#"{{"name":"fuzz/root","digest":"{hash}"}}"#)),
    ];
    let mut rng = Rng(seed());
    let per = cases(40);
    let mut failures = Vec::new();
    let mut statuses = std::collections::BTreeMap::<(String, u16), usize>::new();
    let started = Instant::now();
    for (method, path, seed_body) in &endpoints {
        for i in 0..per {
            // The seed itself first, then mutations.
            let body = if i == 0 {
                seed_body.clone().into_bytes()
            } else {
                mutate(&mut rng, seed_body.as_bytes())
            };
            let answer = d.request(method, path, &body);
            if i == 0 && std::env::var_os("CRYO_FUZZ_SHOW_SEEDS").is_some() {
                eprintln!(
                    "seed {method} {path}: {:?}",
                    answer
                        .as_ref()
                        .map(|(s, b)| (s, String::from_utf8_lossy(b)))
                );
            }
            match answer {
                None => failures.push(format!(
                    "{method} {path}: no complete answer to {:?}",
                    String::from_utf8_lossy(&body)
                )),
                Some((status, answer)) if status >= 500 => failures.push(format!(
                    "{method} {path}: {status} {:?} for {:?}",
                    String::from_utf8_lossy(&answer),
                    String::from_utf8_lossy(&body)
                )),
                Some((status, _)) => *statuses.entry((path.clone(), status)).or_default() += 1,
            }
        }
        let alive = d.request("GET", "/api/v1/status", b"");
        assert!(
            alive.as_ref().is_some_and(|(s, _)| *s == 200),
            "cryod stopped serving after {method} {path}: {alive:?}\n{}",
            d.log()
        );
    }
    eprintln!(
        "{} endpoints x {per} bodies in {:?}; answers by endpoint and status: {statuses:?}",
        endpoints.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} failures (seed {}):\n{}",
        failures.len(),
        seed(),
        failures.join("\n")
    );
}
