//! Security of identities and of concurrent writes, end to end (issue 13, defects 3, 5
//! and 7), with the real `cryod` over its socket and over TCP with bearer tokens:
//! - a token cannot create a token that outlives it, revoking a token revokes the tokens
//!   created with it, `token list` shows each token's parent;
//! - a repository path to a private project needs `reader` on it, and evaluation stops
//!   using it once a maintainer of the using project loses that role;
//! - 50 concurrent submits get 50 distinct request ids, 50 concurrent commits get
//!   distinct consecutive revisions, concurrent accepts commit once; `request show`
//!   writes nothing and compares the builds of the accepted revision.
//!
//! No test here builds anything: every package build-depends on a package that exists
//! nowhere, so evaluation marks it unresolvable instead of scheduling a build.

use std::path::Path;
use std::process::{Command, Output};

use cryo_tests::{fixture_mirror, free_port, output_text, Daemon, NativeTree};
use serde_json::Value;

const NOW: &str = "1795564800";

fn as_user(d: &Daemon, token: &str, args: &[&str]) -> Output {
    d.cmd()
        .env("CRYO_TOKEN", token)
        .args(args)
        .output()
        .unwrap()
}

fn ok_as(d: &Daemon, token: &str, args: &[&str]) -> Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let o = as_user(d, token, &a);
    assert!(o.status.success(), "cryo {args:?}: {}", output_text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or(Value::Null)
}

fn refused_as(d: &Daemon, token: &str, args: &[&str], needle: &str) -> String {
    let o = as_user(d, token, args);
    let text = output_text(&o);
    assert!(!o.status.success(), "cryo {args:?} should fail: {text}");
    assert!(
        text.contains(needle),
        "cryo {args:?}: {needle:?} not in {text}"
    );
    text
}

/// `curl` over TCP: (status, body).
fn http(addr: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let o = Command::new("curl")
        .args(["-s", "--noproxy", "*", "-X", method, "-w", "\n%{http_code}"])
        .args(["-H", "content-type: application/json"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["-d", body])
        .arg(format!("http://{addr}{path}"))
        .output()
        .expect("curl is installed");
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

fn prjconf() -> String {
    fixture_mirror()
        .join("debian-12.prjconf")
        .to_str()
        .unwrap()
        .to_string()
}

fn create(d: &Daemon, snap: &str, name: &str, extra: &[&str]) {
    let pc = prjconf();
    let mut a = vec![
        "project",
        "create",
        name,
        "--snapshot",
        snap,
        "--prjconf",
        &pc,
    ];
    a.extend_from_slice(extra);
    d.ok(&a);
}

/// A tiny native source that never builds (its build dependency exists nowhere).
fn tree(dir: &Path, version: &str, changes: &str) {
    NativeTree {
        source: "cryo-race",
        version,
        build_depends: ", cryo-no-such-package-anywhere",
        binary: "cryo-race",
        changes,
        files: &[],
    }
    .write(dir);
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn results(d: &Daemon, p: &str) -> Vec<Value> {
    d.json(&["results", p])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn tokens_never_outlive_their_parent_and_die_with_it() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let d = Daemon::start_with(&[("CRYOD_NOW", NOW)], &["--listen", &addr], None);
    d.ok(&["user", "add", "alice"]);
    let now: i64 = NOW.parse().unwrap();

    // A parent that expires in 10 days (made on the socket: no parent itself).
    let p = d.json(&["token", "create", "--user", "alice", "--expires", "10"]);
    let (parent, parent_id) = (
        p["token"].as_str().unwrap().to_string(),
        p["id"].as_str().unwrap().to_string(),
    );
    assert_eq!(p["expires"].as_i64(), Some(now + 10 * 86_400), "{p}");
    assert!(p["parent"].is_null(), "{p}");

    // Outliving it is refused, on the socket and over TCP.
    refused_as(
        &d,
        &parent,
        &["token", "create", "--expires", "30"],
        "outlives",
    );
    let (code, body) = http(
        &addr,
        "POST",
        "/api/v1/tokens",
        &parent,
        r#"{"expires_days":30}"#,
    );
    assert_eq!(code, 403, "{body}");
    // Without --expires the child gets the parent's expiry, and records its parent.
    let c = ok_as(&d, &parent, &["token", "create"]);
    let (child, child_id) = (
        c["token"].as_str().unwrap().to_string(),
        c["id"].as_str().unwrap().to_string(),
    );
    assert_eq!(c["expires"].as_i64(), Some(now + 10 * 86_400), "{c}");
    assert_eq!(c["parent"].as_str(), Some(parent_id.as_str()), "{c}");
    // A shorter one is fine; a grandchild over TCP too.
    let (code, body) = http(
        &addr,
        "POST",
        "/api/v1/tokens",
        &child,
        r#"{"expires_days":2}"#,
    );
    assert_eq!(code, 200, "{body}");
    let g: Value = serde_json::from_str(&body).unwrap();
    let grandchild = g["token"].as_str().unwrap().to_string();
    assert_eq!(g["parent"].as_str(), Some(child_id.as_str()), "{g}");
    // More rights: a non-admin token cannot make a token for someone else.
    d.ok(&["user", "add", "bob"]);
    refused_as(&d, &parent, &["token", "create", "--user", "bob"], "admin");

    // A token that never expires cannot create a non-expiring token either.
    let forever = d.json(&["token", "create", "--user", "alice"]);
    let forever = forever["token"].as_str().unwrap().to_string();
    refused_as(&d, &forever, &["token", "create"], "must expire");
    let (code, body) = http(&addr, "POST", "/api/v1/tokens", &forever, "{}");
    assert_eq!(code, 403, "{body}");
    // Socket users without a token keep today's behaviour: no expiry is fine.
    let plain = d.json(&["token", "create", "--user", "alice"]);
    assert!(plain["expires"].is_null(), "{plain}");

    // `token list` shows each token's parent (JSON field and text).
    let list = d.json(&["token", "list"]);
    let row = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not in {list}"))
    };
    assert!(row(&parent_id)["parent"].is_null());
    assert_eq!(row(&child_id)["parent"].as_str(), Some(parent_id.as_str()));
    for field in ["id", "user", "created", "expires", "revoked", "parent"] {
        assert!(row(&child_id).get(field).is_some(), "{field} missing");
    }
    let text = d.ok(&["token", "list"]);
    assert!(
        text.contains(&format!("(created with {parent_id})")),
        "{text}"
    );

    // Before the revocation every token works over TCP.
    for t in [&parent, &child, &grandchild] {
        let (code, body) = http(&addr, "GET", "/api/v1/whoami", t, "");
        assert_eq!(code, 200, "{body}");
    }
    // Revoking the parent revokes its descendants, at once and for good.
    d.ok(&["token", "revoke", &parent_id]);
    for t in [&parent, &child, &grandchild] {
        let (code, body) = http(&addr, "GET", "/api/v1/whoami", t, "");
        assert_eq!(code, 401, "{body}");
        refused_as(&d, t, &["token", "list"], "revoked");
    }
    let list = d.json(&["token", "list"]);
    let revoked = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["revoked"].is_null())
        .count();
    assert_eq!(revoked, 3, "{list}");
    // The other tokens of the user are untouched.
    let (code, body) = http(&addr, "GET", "/api/v1/whoami", &forever, "");
    assert_eq!(code, 200, "{body}");
}

#[test]
fn private_projects_stay_out_of_foreign_paths() {
    let d = Daemon::start_with_env(&[("CRYOD_NOW", NOW)]);
    let snap = d.fixture_snapshot();
    let pc = prjconf();
    create(&d, &snap, "sec:base", &["--private"]);
    create(&d, &snap, "sec:alice", &[]);
    create(&d, &snap, "sec:bob", &[]);
    for u in ["alice", "bob"] {
        d.ok(&["user", "add", u]);
    }
    d.ok(&["role", "add", "sec:alice", "alice", "maintainer"]);
    d.ok(&["role", "add", "sec:bob", "bob", "maintainer"]);
    d.ok(&["role", "add", "sec:base", "alice", "reader"]);
    let tok = |u: &str| {
        d.json(&["token", "create", "--user", u])["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (alice, bob) = (tok("alice"), tok("bob"));
    let repo_add = |p: &str| {
        vec![
            "project".to_string(),
            "repo-add".into(),
            p.into(),
            "--snapshot".into(),
            snap.clone(),
            "--prjconf".into(),
            pc.clone(),
            "--path".into(),
            "sec:base".into(),
        ]
    };

    // bob cannot read sec:base: his path to it is refused, naming it (as `project show`
    // refuses him), and his project is unchanged.
    let v = repo_add("sec:bob");
    let text = refused_as(&d, &bob, &strs(&v), "sec:base");
    assert!(text.contains("reader"), "{text}");
    refused_as(&d, &bob, &["project", "show", "sec:base"], "sec:base");
    let shown = d.json(&["project", "show", "sec:bob"]);
    assert!(
        !shown.to_string().contains("sec:base"),
        "the path was stored: {shown}"
    );

    // alice reads it: her path is accepted.
    let v = repo_add("sec:alice");
    ok_as(&d, &alice, &strs(&v));
    let work = tempfile::tempdir().unwrap();
    tree(&work.path().join("t"), "1.0", "first");
    ok_as(
        &d,
        &alice,
        &[
            "package",
            "add",
            "sec:alice",
            work.path().join("t").to_str().unwrap(),
        ],
    );
    let rows = results(&d, "sec:alice");
    assert!(!rows.is_empty());
    for r in &rows {
        let reason = r["reason"].as_str().unwrap_or("");
        assert!(!reason.contains("sec:base"), "{r}");
    }

    // Once alice loses the role, evaluation stops using the path, with a clear reason.
    d.ok(&["role", "remove", "sec:base", "alice", "reader"]);
    let rows = results(&d, "sec:alice");
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r["state"], "unresolvable", "{r}");
        let reason = r["reason"].as_str().unwrap_or("");
        assert!(
            reason.contains("sec:base") && reason.contains("private") && reason.contains("alice"),
            "{r}"
        );
    }
    // Given back, the path works again.
    d.ok(&["role", "add", "sec:base", "alice", "reader"]);
    for r in results(&d, "sec:alice") {
        assert!(
            !r["reason"].as_str().unwrap_or("").contains("private"),
            "{r}"
        );
    }

    // A public project in bob's path that becomes private stops serving him too.
    create(&d, &snap, "sec:open", &[]);
    let mut v = repo_add("sec:bob");
    *v.last_mut().unwrap() = "sec:open".into();
    ok_as(&d, &bob, &strs(&v));
    ok_as(
        &d,
        &bob,
        &[
            "package",
            "add",
            "sec:bob",
            work.path().join("t").to_str().unwrap(),
        ],
    );
    for r in results(&d, "sec:bob") {
        assert!(
            !r["reason"].as_str().unwrap_or("").contains("private"),
            "{r}"
        );
    }
    d.ok(&["project", "set-private", "sec:open", "true"]);
    let rows = results(&d, "sec:bob");
    assert!(!rows.is_empty());
    for r in &rows {
        let reason = r["reason"].as_str().unwrap_or("");
        assert!(
            r["state"] == "unresolvable" && reason.contains("sec:open") && reason.contains("bob"),
            "{r}"
        );
    }
}

#[test]
fn concurrent_submits_commits_and_accepts_lose_nothing() {
    let d = Daemon::start_with_env(&[("CRYOD_NOW", NOW)]);
    let snap = d.fixture_snapshot();
    let (src, dst) = ("race:src", "race:dst");
    create(&d, &snap, src, &[]);
    create(&d, &snap, dst, &[]);
    let work = tempfile::tempdir().unwrap();
    let first = work.path().join("first");
    tree(&first, "1.0", "first");
    d.ok(&["package", "add", src, first.to_str().unwrap()]);

    // 50 concurrent commits of 50 different sources.
    const N: usize = 50;
    for i in 0..N {
        tree(
            &work.path().join(format!("t{i}")),
            &format!("1.{}", i + 1),
            &format!("change {i}"),
        );
    }
    let commits: Vec<_> = (0..N)
        .map(|i| {
            let dir = work.path().join(format!("t{i}"));
            let mut c = d.cmd();
            c.args(["--json", "commit", src, "cryo-race"])
                .arg(&dir)
                .args(["-m", &format!("commit {i}")]);
            std::thread::spawn(move || c.output().unwrap())
        })
        .collect();
    for t in commits {
        let o = t.join().unwrap();
        assert!(o.status.success(), "{}", output_text(&o));
    }
    let log = d.json(&["package", "log", src, "cryo-race"]);
    let revs = log["revisions"]
        .as_array()
        .unwrap_or_else(|| panic!("{log}"));
    let numbers: Vec<u64> = revs.iter().map(|r| r["rev"].as_u64().unwrap()).collect();
    assert_eq!(numbers, (1..=N as u64 + 1).collect::<Vec<_>>(), "{log}");
    let mut messages: Vec<&str> = revs[1..]
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    messages.sort();
    let mut want: Vec<String> = (0..N).map(|i| format!("commit {i}")).collect();
    want.sort();
    assert_eq!(messages, want, "a commit was lost");

    // 50 concurrent submits: 50 distinct ids, the newest open, the others superseded.
    let submits: Vec<_> = (0..N)
        .map(|i| {
            let mut c = d.cmd();
            c.args(["--json", "request", "submit", src, "cryo-race", dst])
                .args(["-m", &format!("submit {i}")]);
            std::thread::spawn(move || c.output().unwrap())
        })
        .collect();
    let mut ids = Vec::new();
    for t in submits {
        let o = t.join().unwrap();
        assert!(o.status.success(), "{}", output_text(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        ids.push(v["id"].as_u64().unwrap());
    }
    ids.sort();
    assert_eq!(ids, (1..=N as u64).collect::<Vec<_>>());
    let list = d.json(&["request", "list"]);
    let all = list.as_array().unwrap();
    assert_eq!(all.len(), N, "{list}");
    let open: Vec<&Value> = all
        .iter()
        .filter(|r| r["state"] == "new" || r["state"] == "review")
        .collect();
    assert_eq!(open.len(), 1, "{list}");
    let last = open[0]["id"].as_u64().unwrap();

    // Concurrent accepts of the one open request: exactly one wins, one revision.
    let accepts: Vec<_> = (0..5)
        .map(|_| {
            let mut c = d.cmd();
            c.args(["request", "accept", &last.to_string()]);
            std::thread::spawn(move || c.output().unwrap())
        })
        .collect();
    let won = accepts
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|o| o.status.success())
        .count();
    assert_eq!(won, 1);
    let log = d.json(&["package", "log", dst, "cryo-race"]);
    assert_eq!(log["revisions"].as_array().unwrap().len(), 1, "{log}");

    // `request show` writes nothing: the record and the audit log stay as they were.
    let before = (
        d.json(&["request", "show", &last.to_string()]),
        d.json(&["audit"]),
    );
    let again = d.json(&["request", "show", &last.to_string()]);
    assert_eq!(before.0, again);
    assert_eq!(before.1, d.json(&["audit"]));
    assert_eq!(again["accepted_revision"], 1, "{again}");
    let cmp = again["comparison"].as_array().unwrap();
    assert!(!cmp.is_empty(), "{again}");
    assert!(cmp.iter().all(|c| c["verdict"] != "outdated"), "{again}");

    // A later commit to the target is not the accepted revision: show says so instead
    // of comparing whatever row is current.
    let later = work.path().join("later");
    tree(&later, "9.0", "later");
    d.ok(&[
        "commit",
        dst,
        "cryo-race",
        later.to_str().unwrap(),
        "-m",
        "later",
    ]);
    let shown = d.json(&["request", "show", &last.to_string()]);
    let cmp = shown["comparison"].as_array().unwrap();
    assert!(!cmp.is_empty(), "{shown}");
    for c in cmp {
        assert_eq!(c["verdict"], "outdated", "{shown}");
        assert!(
            c["explanation"].as_str().unwrap().contains("revision 2"),
            "{shown}"
        );
    }
}
