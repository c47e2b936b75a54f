//! `GET /cache/drv/<id>` answers from memory what it answered before (`http/cache.rs`):
//! a miss stays a miss only until a realisation is recorded, a signed realisation is
//! served only while GC has removed none and the signing keys are the same.

#[path = "common/inproc.rs"]
#[allow(dead_code)] // the helpers other tests use
mod inproc;

use axum::http::StatusCode;
use http_body_util::BodyExt;

use cryo_store::realisation::{OutputRef, Realisation};
use cryo_store::{B3Digest, ObjectKind};
use inproc::{Daemon, Ident, Which};

async fn get(d: &Daemon, uri: &str) -> (StatusCode, serde_json::Value) {
    let resp = d
        .raw(Which::Tcp, &Ident::default(), "GET", uri, Vec::new())
        .await;
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

fn root() -> Ident {
    Ident {
        uid: Some(0),
        ..Default::default()
    }
}

#[tokio::test]
async fn remembered_answers_follow_realisations_gc_and_keys() {
    let d = Daemon::open().await;
    d.ok(
        Which::Unix,
        &root(),
        "POST",
        "/api/v1/cache/keys",
        br#"{"name":"one"}"#,
    )
    .await;
    let drv = B3Digest::of(b"a derivation that is not stored");
    let uri = format!("/cache/drv/{drv}");

    // Not realised: 404, twice (the second from memory).
    for _ in 0..2 {
        let (s, _) = get(&d, &uri).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }

    // Realised now: the remembered miss no longer holds.
    let store = d.app.store().clone();
    let out = store
        .put_bytes(b"an output", ObjectKind::Blob, &[], None)
        .unwrap();
    let r = Realisation {
        drv,
        outputs: [(
            "out.deb".to_string(),
            OutputRef {
                digest: out.digest,
                size: 9,
            },
        )]
        .into(),
    };
    store.set_realisation(&r).unwrap();
    for _ in 0..2 {
        let (s, v) = get(&d, &uri).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["drv"], drv.to_hex(), "{v}");
        assert_eq!(v["signatures"].as_array().map(Vec::len), Some(1), "{v}");
    }

    // A second key signs every realisation served from then on.
    d.ok(
        Which::Unix,
        &root(),
        "POST",
        "/api/v1/cache/keys",
        br#"{"name":"two"}"#,
    )
    .await;
    let (s, v) = get(&d, &uri).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["signatures"].as_array().map(Vec::len), Some(2), "{v}");

    // GC removes the realisation (its derivation is not in the store): no longer served.
    store.gc().unwrap();
    assert!(store.realisation(&drv).unwrap().is_none());
    let (s, v) = get(&d, &uri).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
}
