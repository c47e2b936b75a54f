//! The request state machine on a temp store, without sockets or HTTP: the services are
//! built by the composition root, projects and a package revision are written as rows,
//! then requests go through their states.

use cryo_daemon::auth::tables::{Group, User, GROUPS, USERS};
use cryo_daemon::auth::{AuthError, Denied, Principal};
use cryo_daemon::clock::Clock;
use cryo_daemon::project::model::{package_key, Package, Project};
use cryo_daemon::request::*;
use cryo_daemon::services::Services;
use cryo_store::B3Digest;

struct Fixture {
    _dir: tempfile::TempDir,
    services: std::sync::Arc<Services>,
}

fn user(n: &str) -> Principal {
    Principal::User(n.into())
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(cryo_store::Store::open(&dir.path().join("state")).unwrap());
    let config = cryo_daemon::config::RawConfig {
        state: Some(dir.path().join("state")),
        ..Default::default()
    }
    .resolve(None)
    .unwrap();
    let services = Services::new(
        config,
        store.clone(),
        dir.path().join("build"),
        Clock::Fixed(1_700_000_000),
        Default::default(),
    );
    let db = store.index().database();
    for (name, admin) in [
        ("alice", false),
        ("bob", false),
        ("carol", false),
        ("root", true),
    ] {
        let u: User = serde_json::from_value(serde_json::json!({
            "name": name, "admin": admin, "uids": [], "created": 0
        }))
        .unwrap();
        USERS.put(db, name, &u).unwrap();
    }
    let g: Group = serde_json::from_value(serde_json::json!({
        "name": "qa", "members": ["carol"], "created": 0
    }))
    .unwrap();
    GROUPS.put(db, "qa", &g).unwrap();
    // staging: alice maintains; prod: bob maintains, @qa reviews.
    for (name, roles) in [
        (
            "staging",
            serde_json::json!([{"subject": "alice", "role": "maintainer"}]),
        ),
        (
            "prod",
            serde_json::json!([
                {"subject": "bob", "role": "maintainer"},
                {"subject": "@qa", "role": "reviewer"}
            ]),
        ),
    ] {
        let p: Project = serde_json::from_value(serde_json::json!({
            "name": name, "repositories": [], "created": 0, "roles": roles
        }))
        .unwrap();
        cryo_daemon::project::tables::PROJECTS
            .put(db, name, &p)
            .unwrap();
    }
    let d = B3Digest::of(b"hello_1.0.dsc");
    let pkg: Package = serde_json::from_value(serde_json::json!({
        "project": "staging", "name": "hello",
        "revisions": [{
            "rev": 1, "dsc": "hello_1.0.dsc", "files": {"hello_1.0.dsc": d},
            "digest": d, "source": "hello", "version": "1.0", "author": "alice",
            "time": 0, "message": "first"
        }]
    }))
    .unwrap();
    let key = package_key(&pkg.project, "hello");
    cryo_daemon::project::tables::PACKAGES
        .put(db, key.as_str(), &pkg)
        .unwrap();
    Fixture {
        _dir: dir,
        services,
    }
}

fn submit_hello(st: &Requests, who: &Principal) -> Result<Request, RequestError> {
    submit(st, who, "staging", "hello", "prod", "please")
}

#[test]
fn submit_opens_reviews_and_supersedes() {
    let f = fixture();
    let st = &*f.services.requests;
    // Anonymous callers cannot submit.
    assert!(matches!(
        submit_hello(st, &Principal::Anonymous),
        Err(RequestError::Auth(AuthError::Denied(
            Denied::Unauthenticated
        )))
    ));
    let r1 = submit_hello(st, &user("alice")).unwrap();
    assert_eq!(r1.id, 1);
    // prod has a reviewer group: the request waits for its review.
    assert_eq!(r1.state, ReqState::Review);
    assert_eq!(r1.reviews.len(), 1);
    assert_eq!(r1.reviews[0].reviewer, "@qa");
    assert_eq!(r1.revision.rev, 1);
    // A second submit of the same package supersedes the first.
    let r2 = submit_hello(st, &user("alice")).unwrap();
    assert_eq!(r2.id, 2);
    let r1 = get(st, 1).unwrap();
    assert_eq!(r1.state, ReqState::Superseded);
    assert_eq!(r1.superseded_by, Some(2));
    // Closed requests do not change any more.
    assert!(matches!(
        decide(st, &user("bob"), 1, "decline", ""),
        Err(RequestError::Conflict(_))
    ));
    // Unknown ones are 404s, bad input 400s.
    assert!(matches!(get(st, 99), Err(RequestError::NotFound(_))));
    assert!(matches!(
        submit(st, &user("alice"), "staging", "nope", "prod", ""),
        Err(RequestError::NotFound(_))
    ));
    assert!(matches!(
        submit(st, &user("alice"), "staging", "hello", "staging", ""),
        Err(RequestError::Invalid(_))
    ));
    assert_eq!(list(st).unwrap().len(), 2);
}

#[test]
fn reviews_gate_acceptance_and_roles_gate_decisions() {
    let f = fixture();
    let st = &*f.services.requests;
    let r = submit_hello(st, &user("alice")).unwrap();
    // The target's maintainer cannot accept while reviews are open.
    assert!(matches!(
        decide(st, &user("bob"), r.id, "accept", ""),
        Err(RequestError::ReviewsOpen(_))
    ));
    // Only holders of the review slot may review.
    assert!(review(st, &user("alice"), r.id, true, "lgtm").is_err());
    let r = review(st, &user("carol"), r.id, true, "lgtm").unwrap();
    assert_eq!(r.state, ReqState::New, "all reviews accepted: back to new");
    assert_eq!(r.reviews[0].state, ReviewState::Accepted);
    assert_eq!(r.reviews[0].by.as_deref(), Some("carol"));
    // Declining needs the target's maintainer: alice (source side) may not.
    assert!(matches!(
        decide(st, &user("alice"), r.id, "decline", ""),
        Err(RequestError::Auth(_))
    ));
    let r = decide(st, &user("bob"), r.id, "decline", "not now").unwrap();
    assert_eq!(r.state, ReqState::Declined);
    assert!(r.history.iter().any(|h| h.who == "bob"));
    // A declined review declines the request.
    let r = submit_hello(st, &user("alice")).unwrap();
    let r = review(st, &user("carol"), r.id, false, "breaks tests").unwrap();
    assert_eq!(r.state, ReqState::Declined);
}

#[test]
fn the_creator_revokes() {
    let f = fixture();
    let st = &*f.services.requests;
    let r = submit_hello(st, &user("alice")).unwrap();
    // Somebody else without a role on the source may not revoke.
    assert!(decide(st, &user("carol"), r.id, "revoke", "").is_err());
    let r = decide(st, &user("alice"), r.id, "revoke", "wrong one").unwrap();
    assert_eq!(r.state, ReqState::Revoked);
    assert!(matches!(
        decide(st, &user("alice"), r.id, "explode", ""),
        Err(RequestError::Conflict(_) | RequestError::Invalid(_))
    ));
    assert!(parse_state("review").is_ok());
    assert!(matches!(parse_state("nope"), Err(RequestError::Invalid(_))));
}
