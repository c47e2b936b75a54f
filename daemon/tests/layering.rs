//! The daemon's dependencies go one way (docs/architecture.md, "Layers"): this test reads
//! every source file under `daemon/src` and fails on
//! - a module naming a module of a higher layer (`crate::<module>`);
//! - a grouped `use crate::{…}` (the scanner reads paths one by one);
//! - axum, hyper, tower, `StatusCode`, `ApiErr`, `AppState` or `Services` outside
//!   `http/`, `server.rs`, `services.rs` and `bin/` (HTTP is the only adapter; domain
//!   modules are given the services they use, never the whole state).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Layers, lowest first. A module may name modules of its own layer or lower ones.
const LAYERS: &[&[&str]] = &[
    &["table", "clock", "cache"],
    &["config"],
    &["auth"],
    &["mirror"],
    &["drv"],
    &["build"],
    &["verify"],
    &["explain"],
    &["campaign"],
    &["project"],
    &["publish"],
    &["request"],
    &["services"],
    &["http"],
    &["server"],
    &["bin"],
];

/// Words only the HTTP adapter (and the server and composition root) may use.
const ADAPTER_ONLY: &[&str] = &["axum", "hyper", "tower", "StatusCode", "ApiErr"];
/// The handlers' state: domain modules never see it.
const STATE_ONLY: &[&str] = &["AppState", "Services"];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| {
            panic!("module {module} is in no layer: add it to LAYERS and docs/architecture.md")
        })
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `http/build.rs` → `http`; `verify.rs` → `verify`; `lib.rs` → None.
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let m = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (m != "lib").then_some(m)
}

/// Code without comments (`//…` to the end of the line), so docs may name anything.
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

#[test]
fn dependencies_go_one_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();
    assert!(
        files.len() > 50,
        "only {} sources found under {}",
        files.len(),
        root.display()
    );
    let mut problems = Vec::new();
    let mut edges: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap();
        let Some(module) = module_of(rel) else {
            continue;
        };
        let me = layer_of(&module);
        let text = code(&std::fs::read_to_string(f).unwrap());
        if text.contains("crate::{") {
            problems.push(format!("{}: grouped `use crate::{{…}}`", rel.display()));
        }
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let target: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if target.is_empty() || target == module {
                continue;
            }
            edges
                .entry(module.clone())
                .or_default()
                .insert(target.clone());
            if layer_of(&target) > me {
                problems.push(format!(
                    "{}: {module} (layer {me}) names crate::{target} (layer {})",
                    rel.display(),
                    layer_of(&target)
                ));
            }
        }
        let adapter = ["http", "server", "services", "bin"].contains(&module.as_str());
        if !adapter {
            for w in words(&text) {
                if ADAPTER_ONLY.contains(&w) || STATE_ONLY.contains(&w) {
                    problems.push(format!("{}: {module} uses `{w}`", rel.display()));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "layering violations:\n{}",
        problems.join("\n")
    );
    // The scan saw the edges the architecture describes (guards against a scanner that
    // silently finds nothing).
    for (from, to) in [
        ("project", "build"),
        ("publish", "project"),
        ("http", "auth"),
        ("request", "verify"),
    ] {
        assert!(
            edges.get(from).is_some_and(|t| t.contains(to)),
            "expected {from} → {to}; edges: {edges:?}"
        );
    }
}

#[test]
fn the_scanner_catches_violations() {
    // A domain module naming HTTP, and one reaching up a layer.
    let bad = "use crate::http::ApiErr;\nfn f() -> axum::body::Body { todo!() }";
    let c = code(bad);
    let w: Vec<&str> = words(&c).collect();
    assert!(w.contains(&"ApiErr") && w.contains(&"axum"));
    assert!(layer_of("http") > layer_of("project"));
    // Comments are not code.
    assert!(!code("// crate::http is the adapter").contains("crate::http"));
}
