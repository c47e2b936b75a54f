//! Serde round trips of the wire types whose shape is easy to get wrong: tagged and
//! untagged enums, flattened structs, omitted and `null` optional fields, key order.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use super::*;
use crate::B3Digest;

fn d(n: u8) -> B3Digest {
    B3Digest::from_bytes([n; 32])
}

/// `text` (compact JSON as the daemon writes it) parses into `T` and serialises back to
/// exactly the same bytes.
fn round_trip<T: Serialize + DeserializeOwned + std::fmt::Debug>(text: &str) -> T {
    let v: T = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(serde_json::to_string(&v).unwrap(), text);
    v
}

/// The compact JSON of `v` with its keys sorted (what a `serde_json::Value` prints).
fn sorted<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).unwrap().to_string()
}

fn revision_json() -> serde_json::Value {
    json!({
        "rev": 1, "dsc": "hello_1.0-1.dsc",
        "files": {"hello_1.0-1.dsc": d(1), "hello_1.0.orig.tar.gz": d(2)},
        "digest": d(3), "source": "hello", "version": "1.0-1", "author": "alice",
        "time": 1700000000, "message": "initial revision"
    })
}

#[test]
fn source_spec_is_tagged_by_kind() {
    let s: SourceSpec = round_trip(r#"{"kind":"snapshot","request":"src:hello=1.0-1"}"#);
    assert_eq!(
        s,
        SourceSpec::Snapshot {
            request: "src:hello=1.0-1".into()
        }
    );
    let text = format!(
        r#"{{"kind":"dsc","dsc":"hello_1.dsc","files":{{"hello_1.dsc":"{}","hello_1.tar.xz":"{}"}}}}"#,
        d(1),
        d(2)
    );
    let SourceSpec::Dsc { dsc, files } = round_trip::<SourceSpec>(&text) else {
        panic!("not a dsc");
    };
    assert_eq!(dsc.as_str(), "hello_1.dsc");
    assert_eq!(files.len(), 2);
    // Names are single path components, refused at deserialisation otherwise.
    let bad = json!({"kind": "dsc", "dsc": "../x.dsc", "files": {}});
    assert!(serde_json::from_value::<SourceSpec>(bad).is_err());
    let bad = json!({"kind": "dsc", "dsc": "x.dsc", "files": {"/etc/passwd": d(1)}});
    assert!(serde_json::from_value::<SourceSpec>(bad).is_err());
    assert!(serde_json::from_value::<SourceSpec>(json!({"kind": "git"})).is_err());
}

fn resolve_request() -> ResolveRequest {
    ResolveRequest {
        snapshot: "abcd".into(),
        prjconf: PrjconfText {
            name: "p.conf".into(),
            text: "Release: 1\n".into(),
        },
        source: SourceSpec::Snapshot {
            request: "src:hello".into(),
        },
        arch: None,
        build: Some("full".into()),
    }
}

#[test]
fn build_request_flattens_the_resolve_part() {
    let by_id = BuildRequest {
        derivation: Some(d(7).to_string()),
        resolve: None,
        rebuild: true,
    };
    let text = format!(r#"{{"derivation":"{}","rebuild":true}}"#, d(7));
    assert_eq!(serde_json::to_string(&by_id).unwrap(), text);
    assert_eq!(serde_json::from_str::<BuildRequest>(&text).unwrap(), by_id);

    let by_source = BuildRequest {
        derivation: None,
        resolve: Some(resolve_request()),
        rebuild: false,
    };
    let text = r#"{"derivation":null,"snapshot":"abcd","prjconf":{"name":"p.conf","text":"Release: 1\n"},"source":{"kind":"snapshot","request":"src:hello"},"arch":null,"build":"full","rebuild":false}"#;
    assert_eq!(serde_json::to_string(&by_source).unwrap(), text);
    assert_eq!(
        serde_json::from_str::<BuildRequest>(text).unwrap(),
        by_source
    );
    // What the client sent before: no `derivation`, no `rebuild` for a plain build.
    let old = json!({"snapshot": "abcd", "prjconf": {"name": "p.conf", "text": "Release: 1\n"},
        "source": {"kind": "snapshot", "request": "src:hello"}, "arch": null, "build": "full"});
    assert_eq!(
        serde_json::from_value::<BuildRequest>(old).unwrap(),
        by_source
    );
}

#[test]
fn build_request_errors_are_the_daemons() {
    // A refused name in the resolve part is the answer, not a silent `None`.
    let bad = json!({"snapshot": "s", "prjconf": {"name": "p", "text": ""},
        "source": {"kind": "dsc", "dsc": "../x.dsc", "files": {}}});
    let e = BuildRequest::from_json(bad).unwrap_err().to_string();
    assert!(e.starts_with("invalid build request: "), "{e}");
    assert!(e.contains("../x.dsc"), "{e}");
    for nothing in [json!({}), json!({"rebuild": true})] {
        assert_eq!(
            BuildRequest::from_json(nothing).unwrap_err().to_string(),
            "give a derivation or a source to resolve"
        );
    }
    // A body that is not an object fails on its head, as the daemon always answered.
    let e = BuildRequest::from_json(json!("x")).unwrap_err().to_string();
    assert!(e.starts_with("invalid build request: invalid type"), "{e}");
    let e = BuildRequest::from_json(json!([])).unwrap_err().to_string();
    assert!(
        e.starts_with("invalid build request: invalid length 0"),
        "{e}"
    );
    let e = BuildRequest::from_json(json!({"derivation": 5})).unwrap_err();
    assert!(e.to_string().starts_with("invalid build request: "), "{e}");
}

#[test]
fn build_outcome_writes_nulls() {
    let text = format!(
        r#"{{"derivation":"{}","status":"cached","outputs":[{{"name":"hello_1_amd64.deb","blake3":"{}","sha256":"ab","size":3}}],"log":null,"log_tail":null,"duration_secs":0.25,"root_cached":null,"rebuild_differences":null}}"#,
        d(1),
        d(2)
    );
    let o: BuildOutcome = round_trip(&text);
    assert_eq!(o.status, BuildStatus::Cached);
    let text = format!(
        r#"{{"derivation":"{}","status":"built","outputs":[],"log":"{}","log_tail":null,"duration_secs":12.0,"root_cached":true,"rebuild_differences":[{{"name":"a.deb","recorded":"{}","rebuilt":null}}]}}"#,
        d(1),
        d(2),
        d(3)
    );
    let o: BuildOutcome = round_trip(&text);
    assert_eq!(o.rebuild_differences.unwrap()[0].rebuilt, None);
    for (s, st) in [
        ("built", BuildStatus::Built),
        ("cached", BuildStatus::Cached),
        ("substituted", BuildStatus::Substituted),
        ("failed", BuildStatus::Failed),
    ] {
        assert_eq!(serde_json::to_value(st).unwrap(), json!(s));
        assert_eq!(st.as_str(), s);
    }
}

#[test]
fn create_request_flattens_the_repository() {
    let r = CreateRequest {
        name: "eol:12".into(),
        description: String::new(),
        publish: false,
        private: true,
        repo: RepoRequest {
            repository: Some("debian".into()),
            snapshot: Some("abcd".into()),
            mirrors: vec![],
            allow_expired: false,
            prjconf: PrjconfText {
                name: "p".into(),
                text: "t".into(),
            },
            arches: vec!["amd64".into()],
            path: vec![],
        },
    };
    let text = r#"{"name":"eol:12","description":"","publish":false,"private":true,"repository":"debian","snapshot":"abcd","mirrors":[],"allow_expired":false,"prjconf":{"name":"p","text":"t"},"arches":["amd64"],"path":[]}"#;
    assert_eq!(round_trip::<CreateRequest>(text), r);
    // Defaults, as the daemon reads a minimal body.
    let min: CreateRequest =
        serde_json::from_value(json!({"name": "p", "prjconf": {"name": "p", "text": ""}})).unwrap();
    assert_eq!(min.repo.repository, None);
    assert!(min.repo.arches.is_empty() && !min.private);
}

fn project_json() -> serde_json::Value {
    json!({
        "name": "eol:12", "description": "EOL", "repositories": [{
            "name": "debian", "snapshot": d(1), "mirrors": [], "prjconf": d(2),
            "prjconf_name": "p.conf", "arches": ["amd64"], "path": ["eol:base"]
        }],
        "publish": true, "created": 1700000000, "private": false,
        "roles": [{"subject": "@team", "role": "maintainer"}, {"subject": "bob", "role": "reader"}]
    })
}

#[test]
fn project_show_flattens_the_project() {
    // The daemon writes the struct in field order, not sorted: build the text by hand.
    let text = format!(
        r#"{{"name":"eol:12","description":"EOL","repositories":[{{"name":"debian","snapshot":"{}","mirrors":[],"prjconf":"{}","prjconf_name":"p.conf","arches":["amd64"],"path":["eol:base"]}}],"publish":true,"created":1700000000,"private":false,"roles":[{{"subject":"@team","role":"maintainer"}},{{"subject":"bob","role":"reader"}}],"packages":[{{"name":"hello","revisions":2,"version":"1.0-2","rebuilds":0}},{{"name":"empty","revisions":0,"version":null,"rebuilds":1}}]}}"#,
        d(1),
        d(2)
    );
    assert_eq!(
        serde_json::from_str::<ProjectShow>(&text).unwrap().project,
        serde_json::from_value::<Project>(project_json()).unwrap()
    );
    let s: ProjectShow = round_trip(&text);
    assert_eq!(s.project.roles[0].subject.group(), Some("team"));
    assert_eq!(s.project.roles[1].role, Role::Reader);
    assert_eq!(s.packages[1].version, None);
    assert_eq!(s.project.repositories[0].path[0].as_str(), "eol:base");
    // Unchecked names never get in.
    let mut bad = project_json();
    bad["repositories"][0]["name"] = json!("../debian");
    assert!(serde_json::from_value::<Project>(bad).is_err());
    let mut bad = project_json();
    bad["roles"][0]["subject"] = json!("@../x");
    assert!(serde_json::from_value::<Project>(bad).is_err());
}

#[test]
fn job_results_omit_what_they_do_not_have() {
    let text = r#"{"project":"eol:12","repository":"debian","arch":"amd64","package":"hello","state":"scheduled","revision":1,"outputs":[],"force":false,"seq":4}"#;
    let r: JobResult = round_trip(text);
    assert!(!r.state.is_final());
    let text = format!(
        r#"{{"project":"eol:12","repository":"debian","arch":"amd64","package":"hello","state":"blocked","reason":"needs libfoo","derivation":"{}","revision":2,"duration_secs":1.5,"finished":1700000001,"outputs":[{{"name":"hello_1_amd64.deb","blake3":"{}","sha256":"ab","size":3}}],"log":"{}","force":true,"previous":"succeeded","seq":9}}"#,
        d(1),
        d(2),
        d(3)
    );
    let r: JobResult = round_trip(&text);
    assert_eq!(r.previous, Some(JobState::Succeeded));
    assert!(JobState::Cached.is_success() && JobState::Aborted.is_final());
    // A stored row with a `control` paragraph keeps it.
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["outputs"][0]["control"] = json!("Package: hello\n");
    let r: JobResult = serde_json::from_value(v).unwrap();
    assert!(serde_json::to_string(&r)
        .unwrap()
        .contains(r#""control":"Package: hello\n""#));
    let bad = text.replace(r#""package":"hello""#, r#""package":"a/b""#);
    assert!(serde_json::from_str::<JobResult>(&bad).is_err());
}

#[test]
fn event_lines() {
    let text = format!(
        r#"{{"project":"eol:12","repository":"debian","arch":"amd64","package":"hello","state":"failed","derivation":"{}","reason":"exit 2","seq":3}}"#,
        d(1)
    );
    let ProjectEvent::Change(e) = round_trip::<ProjectEvent>(&text) else {
        panic!("not a change");
    };
    assert_eq!(e.state, JobState::Failed);
    let text = r#"{"project":"eol:12","repository":"debian","arch":"amd64","package":"hello","state":"building","seq":4}"#;
    assert!(matches!(
        round_trip::<ProjectEvent>(text),
        ProjectEvent::Change(_)
    ));
    assert_eq!(
        round_trip::<ProjectEvent>(r#"{"heartbeat":true}"#),
        ProjectEvent::Heartbeat { heartbeat: true }
    );
    assert_eq!(
        round_trip::<ProjectEvent>(r#"{"lagged":17}"#),
        ProjectEvent::Lagged { lagged: 17 }
    );
    assert!(serde_json::from_str::<ProjectEvent>(r#"{"other":1}"#).is_err());
}

#[test]
fn commit_outcome_and_package() {
    let r = revision_json();
    let text = format!(
        r#"{{"project":"eol:12","package":"hello","changed":true,"revision":{}}}"#,
        r
    );
    // `json!` sorted the revision's keys: parse and compare values, then bytes of the
    // struct order.
    let c: CommitOutcome = serde_json::from_str(&text).unwrap();
    assert_eq!(c.revision.files.len(), 2);
    let again = serde_json::to_string(&c).unwrap();
    assert!(again.starts_with(r#"{"project":"eol:12","package":"hello","changed":true,"revision":{"rev":1,"dsc":"hello_1.0-1.dsc","files":{"#), "{again}");
    assert_eq!(
        sorted(&c),
        serde_json::from_str::<serde_json::Value>(&text)
            .unwrap()
            .to_string()
    );
    let pkg: Package =
        serde_json::from_value(json!({"project": "eol:12", "name": "hello", "revisions": [r]}))
            .unwrap();
    assert_eq!(pkg.rebuilds, 0);
    assert_eq!(pkg.latest().unwrap().rev, 1);
    let mut bad = revision_json();
    bad["files"] = json!({"../x": d(1)});
    assert!(serde_json::from_value::<Revision>(bad).is_err());
}

#[test]
fn requests_flatten_and_omit() {
    let rev = serde_json::to_string(&serde_json::from_value::<Revision>(revision_json()).unwrap())
        .unwrap();
    let request = format!(
        r#"{{"id":3,"source_project":"home:alice","package":"hello","revision":{rev},"target_project":"eol:12","message":"fix","creator":"alice","created":1700000000,"state":"review","reviews":[{{"reviewer":"@qa","state":"new","message":""}},{{"reviewer":"bob","state":"accepted","by":"bob","message":"ok"}}],"history":[{{"time":1700000000,"who":"alice","what":"submitted","message":"fix"}}]}}"#
    );
    let r: Request = round_trip(&request);
    assert!(r.state.is_open());
    assert_eq!(r.reviews[0].by, None);
    assert!(r.reports.is_empty());

    let accepted = request
        .replace(r#""state":"review""#, r#""state":"accepted""#)
        .trim_end_matches('}')
        .to_string()
        + &format!(
            r#","accepted_revision":2,"reports":{{"{}:{}":"{}"}}}}"#,
            d(1),
            d(2),
            d(3)
        );
    let shown = accepted.trim_end_matches('}').to_string()
        + &format!(
            r#"}},"comparison":[{{"repository":"debian","arch":"amd64","source_state":"missing","target_state":"succeeded","target_derivation":"{}","verdict":"missing","explanation":"none"}},{{"repository":"debian","arch":"i386","source_state":"cached","target_state":"cached","source_derivation":"{}","target_derivation":"{}","verdict":"identical-derivation","explanation":"same"}},{{"repository":"debian","arch":"arm64","source_state":"succeeded","target_state":"succeeded","verdict":"differs","explanation":"see","report":"{}"}}]}}"#,
            d(2),
            d(1),
            d(1),
            d(3)
        );
    // The flattened request's fields come first, then `comparison`.
    let s: RequestShow = round_trip(&shown);
    assert_eq!(s.request.state, RequestState::Accepted);
    assert_eq!(s.request.accepted_revision, Some(2));
    assert_eq!(s.comparison[0].source_state, None);
    assert_eq!(s.comparison[1].source_state, Some(JobState::Cached));
    assert_eq!(s.comparison[1].verdict, Verdict::IdenticalDerivation);
    assert_eq!(s.comparison[2].report, Some(d(3)));
    assert!(serde_json::from_str::<RequestShow>(
        &shown.replace("missing\",\"target", "lost\",\"target")
    )
    .is_err());
}

#[test]
fn publish_answers_are_sorted_like_the_daemons() {
    let g = Generation {
        content: Some(d(1)),
        created: 1,
        manifest: d(2),
        number: 3,
        packages: 4,
        sources: 5,
    };
    let p = PublishOutcome {
        codename: "eol".into(),
        fingerprint: "F".into(),
        generation: Some(3),
        generations: vec![g],
        new: true,
        packages: 4,
        path: "/repos/p/debian".into(),
        project: "p".into(),
        repository: "debian".into(),
        sources: 5,
    };
    let x = ExportOutcome {
        dir: "/srv/x".into(),
        files: 9,
        generation: 3,
        linked: 2,
        written: 7,
    };
    // The daemon's publish answer goes through a `serde_json::Value`: sorted keys. The
    // types are declared in that order, so their own bytes are the same.
    let published = PublishAnswer::Published(vec![p.clone()]);
    assert_eq!(
        serde_json::to_string(&published).unwrap(),
        sorted(&published)
    );
    let exported = PublishAnswer::Exported(x.clone());
    assert_eq!(serde_json::to_string(&exported).unwrap(), sorted(&exported));
    assert_eq!(round_trip::<PublishAnswer>(&sorted(&published)), published);
    assert_eq!(round_trip::<PublishAnswer>(&sorted(&exported)), exported);
    let none = PublishOutcome {
        generation: None,
        generations: vec![],
        ..p
    };
    assert!(serde_json::to_string(&none)
        .unwrap()
        .contains(r#""generation":null"#));
    // `whoami` is a `json!` object: sorted too.
    let w = WhoAmI {
        admin: true,
        authenticated: true,
        name: "alice".into(),
    };
    assert_eq!(serde_json::to_string(&w).unwrap(), sorted(&w));
    let s = ProjectStatus {
        project: "p".into(),
        publish_pending: false,
    };
    assert_eq!(serde_json::to_string(&s).unwrap(), sorted(&s));
}

#[test]
fn report_counts_keep_the_class_order() {
    let text = format!(
        r#"{{"report":"{}","exit_code":1,"summary":{{"total":{{"analysed":3,"identical":1,"differ":1,"failed_or_inconclusive":1,"by_kind":{{"identical":1,"build-id-only":1,"missing-upstream":1}}}},"per_source":[{{"source":"hello","version":"1","counts":{{"analysed":0,"identical":0,"differ":0,"failed_or_inconclusive":0,"by_kind":{{}}}}}}]}}}}"#,
        d(1)
    );
    let v: VerifyOutcome = round_trip(&text);
    assert_eq!(v.summary.total.by_kind[&ClassKind::BuildIdOnly], 1);
    assert!(serde_json::from_str::<ClassKind>(r#""weird""#).is_err());
}

#[test]
fn rpm_classes_keep_compare_names_and_order() {
    let names = [
        (ClassKind::Identical, "identical"),
        (ClassKind::SignatureOnly, "signature-only"),
        (ClassKind::BuildMetadataOnly, "build-metadata-only"),
        (ClassKind::MetadataOnly, "metadata-only"),
    ];
    for (k, n) in names {
        assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{n}\""));
    }
    assert!(ClassKind::Identical < ClassKind::SignatureOnly);
    assert!(ClassKind::SignatureOnly < ClassKind::BuildMetadataOnly);
    assert!(ClassKind::BuildMetadataOnly < ClassKind::MetadataOnly);
    assert_eq!(
        RowClass::from(ClassKind::SignatureOnly).rebuilderd_status(),
        "GOOD"
    );
    assert_eq!(
        RowClass::from(ClassKind::BuildMetadataOnly).rebuilderd_status(),
        "BAD"
    );
}

#[test]
fn fetched_files_flatten_the_pool_file() {
    let text = format!(
        r#"[{{"package":"hello","version":"1.0-1","archive":"debian","path":"pool/main/h/hello/hello_1.0-1_amd64.deb","sha256":"ab","size":3,"name":"hello_1.0-1_amd64.deb","digest":"{}"}}]"#,
        d(1)
    );
    let f: Vec<FetchedFile> = round_trip(&text);
    assert_eq!(f[0].file.file_name(), f[0].name);
    let body = FetchRequest {
        request: "src:hello".into(),
        arch: None,
    };
    assert_eq!(
        serde_json::to_string(&body).unwrap(),
        r#"{"request":"src:hello","arch":null}"#
    );
}

#[test]
fn snapshots_and_mirrors() {
    let text = format!(
        r#"{{"id":"{}","record":{{"format":"cryo.snapshot/1","archives":[{{"mirror":"debian","suite":"bookworm","codename":"bookworm","origin":"Debian","label":null,"version":"12.5","date":1700000000,"valid_until":null,"allow_expired":false,"priority":500,"release_file":"InRelease","release":"{}","signers":["ABCD"],"indices":[{{"kind":"sources","component":"main","arch":null,"path":"main/source/Sources.xz","sha256":"ab","size":10,"blake3":"{}"}}]}}]}},"created":1700000001,"urls":{{"debian":"file:///m"}},"expired_accepted":[{{"mirror":"debian","valid_until":1,"checked_at":2}}],"binary_packages":10,"source_packages":2}}"#,
        d(1),
        d(2),
        d(3)
    );
    let s: SnapshotInfo = round_trip(&text);
    assert_eq!(s.record.archives[0].indices[0].kind, IndexKind::Sources);
    let m: AddMirror = serde_json::from_value(json!({
        "name": "debian", "url": "file:///m", "suite": "bookworm", "keyring": d(1)
    }))
    .unwrap();
    assert!(m.sources && m.components.is_empty() && m.priority.is_none());
    let entry = r#"[{"kind":"packages","archive":"debian","index":"main/binary-amd64/Packages.xz","priority":500,"version":"1.0","arch":"amd64","selected":true,"fields":[["Package","hello"],["Depends","libc6"]]}]"#;
    let e: Vec<PackageEntry> = round_trip(entry);
    assert_eq!(e[0].fields[1], ("Depends".to_string(), "libc6".to_string()));
}

#[test]
fn team_types() {
    let text = r#"[{"name":"alice","admin":true,"uids":[1000],"created":1}]"#;
    let u: Vec<User> = round_trip(text);
    assert_eq!(u[0].name, "alice");
    let g: Group = round_trip(r#"{"name":"qa","members":["alice","bob"],"created":1}"#);
    assert_eq!(g.members.len(), 2);
    assert!(
        serde_json::from_str::<Group>(r#"{"name":"qa","members":["../x"],"created":1}"#).is_err()
    );
    let a: Vec<AuditEntry> = round_trip(
        r#"[{"seq":1,"time":2,"user":"alice","action":"user add","detail":"bob"},{"seq":2,"time":3,"user":"alice","action":"role add","project":"p","detail":"bob reader"}]"#,
    );
    assert_eq!(a[1].project.as_deref(), Some("p"));
    round_trip::<TokenInfo>(
        r#"{"id":"ab12","user":"alice","created":1,"expires":null,"revoked":5,"parent":null}"#,
    );
    round_trip::<Vec<RoleGrant>>(r#"[{"subject":"@qa","role":"reviewer"}]"#);
    assert!(serde_json::from_str::<Role>(r#""owner""#).is_err());
}
