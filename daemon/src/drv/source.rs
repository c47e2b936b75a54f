//! Naming a source package: `src:NAME[=VER]` from a snapshot (its files fetched on demand
//! and verified), or an uploaded `.dsc` with its files (each checked against the `.dsc`'s
//! `Checksums-Sha256`). Either way the result is the parsed `.dsc` plus every file by
//! BLAKE3 digest.
//!
//! Every file name here becomes a file in a build's work directory, so every one is a
//! [`SafeName`]: the names a client uploads are validated when the request body is
//! deserialised, the names a `.dsc` lists (and the pool's file names) in [`finish`].

use std::collections::BTreeMap;
use std::io::Read;

use sha2::{Digest, Sha256};

use cryo_debian::index::SourcePackage;
use cryo_store::{B3Digest, SafeName, Session};

use super::Deriver;
use super::DrvError;
use crate::mirror::dod;
use crate::mirror::query::{self, Request};
use crate::mirror::snapshot::SnapshotInfo;

/// How a request names its source package (the API's type).
pub use cryo_store::api::SourceSpec;

/// A source package whose files are all in the store and verified.
#[derive(Debug, Clone)]
pub struct ResolvedSource {
    pub package: SourcePackage,
    pub dsc_name: SafeName,
    /// File name → digest, the `.dsc` included.
    pub files: BTreeMap<SafeName, B3Digest>,
}

fn sha256_of(st: &Deriver, d: &B3Digest) -> Result<(String, u64), DrvError> {
    let mut r = st.store.open_blob(d)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = r
            .read(&mut buf)
            .map_err(|e| DrvError::Invalid(format!("reading {d}: {e}")))?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Resolve a source spec against a snapshot.
pub fn resolve(
    st: &Deriver,
    snap: &SnapshotInfo,
    spec: &SourceSpec,
    session: &Session,
) -> Result<ResolvedSource, DrvError> {
    match spec {
        SourceSpec::Snapshot { request } => {
            let req: Request = request.parse()?;
            if !req.source {
                return Err(DrvError::Invalid(format!(
                    "{request:?} names a binary package; use src:NAME[=VERSION] for a source package"
                )));
            }
            let pool = query::files_for(&st.store, snap, &req, &st.host_arch)?;
            let mut files = BTreeMap::new();
            for f in &pool {
                let name = SafeName::new(f.file_name()).map_err(|e| {
                    DrvError::Invalid(format!("{request}: the snapshot lists an unsafe file: {e}"))
                })?;
                let d = dod::ensure(&st.store, snap, f, session)?;
                files.insert(name, d);
            }
            let dsc_name = files
                .keys()
                .find(|n| n.ends_with(".dsc"))
                .cloned()
                .ok_or_else(|| DrvError::Invalid(format!("{request}: the source lists no .dsc")))?;
            finish(st, dsc_name, files)
        }
        SourceSpec::Dsc { dsc, files } => {
            if !files.contains_key(dsc) {
                return Err(DrvError::Invalid(format!("{dsc} was not uploaded")));
            }
            for d in files.values() {
                st.store.hold(session, d)?;
            }
            finish(st, dsc.clone(), files.clone())
        }
    }
}

fn finish(
    st: &Deriver,
    dsc_name: SafeName,
    files: BTreeMap<SafeName, B3Digest>,
) -> Result<ResolvedSource, DrvError> {
    let text = st.store.read(&files[&dsc_name])?;
    let text = String::from_utf8(text)
        .map_err(|_| DrvError::Invalid(format!("{dsc_name} is not UTF-8")))?;
    let dsc =
        cryo_debian::dsc::parse(&text, &dsc_name).map_err(|e| DrvError::Invalid(e.to_string()))?;
    let mut kept = BTreeMap::new();
    kept.insert(dsc_name.clone(), files[&dsc_name]);
    for f in &dsc.source.files {
        // The parser refuses traversal already; the daemon holds its own line (the same
        // rule as for uploaded names, leading dots included).
        let name = listed_name(&dsc_name, f.name.as_str())?;
        let d = files.get(&name).ok_or_else(|| {
            DrvError::Invalid(format!("{dsc_name} lists {name}, which was not provided"))
        })?;
        let (sha, size) = sha256_of(st, d)?;
        if sha != f.sha256.to_string() || size != f.size {
            return Err(DrvError::Invalid(format!(
                "{name} does not match {dsc_name}: expected SHA256 {} ({} bytes), got {sha} ({size} bytes)",
                f.sha256, f.size
            )));
        }
        kept.insert(name, *d);
    }
    Ok(ResolvedSource {
        package: dsc.source,
        dsc_name,
        files: kept,
    })
}

/// A file name a `.dsc` lists, as a [`SafeName`]; the error names the `.dsc` and the file.
fn listed_name(dsc_name: &SafeName, listed: &str) -> Result<SafeName, DrvError> {
    SafeName::new(listed)
        .map_err(|e| DrvError::Invalid(format!("{dsc_name} lists an unsafe file name: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_names_are_single_components() {
        let dsc = SafeName::new("foo_1.0.dsc").unwrap();
        assert_eq!(
            listed_name(&dsc, "foo_1.0.tar.xz").unwrap().as_str(),
            "foo_1.0.tar.xz"
        );
        for bad in ["../x.tar.gz", "/etc/x.tar.gz", ".x.tar.gz", "a\\b", "a\0b"] {
            let e = listed_name(&dsc, bad).unwrap_err().to_string();
            assert!(
                e.starts_with("foo_1.0.dsc lists an unsafe file name"),
                "{e}"
            );
            assert!(e.contains(&format!("{:?}", bad)), "{e}");
        }
    }

    #[test]
    fn uploaded_names_are_validated_when_deserialised() {
        let d = B3Digest::of(b"x").to_hex();
        for bad in [
            "../../../../tmp/x.dsc",
            "/tmp/x.dsc",
            "x\\u0000.dsc",
            "..",
            "",
        ] {
            let dsc = format!(r#"{{"kind":"dsc","dsc":"{bad}","files":{{}}}}"#);
            let e = serde_json::from_str::<SourceSpec>(&dsc).unwrap_err();
            assert!(e.to_string().contains("invalid name"), "{bad}: {e}");
            let files = format!(r#"{{"kind":"dsc","dsc":"x.dsc","files":{{"{bad}":"{d}"}}}}"#);
            let e = serde_json::from_str::<SourceSpec>(&files).unwrap_err();
            assert!(e.to_string().contains("invalid name"), "{bad}: {e}");
        }
        let ok = format!(r#"{{"kind":"dsc","dsc":"x.dsc","files":{{"x.dsc":"{d}"}}}}"#);
        assert!(serde_json::from_str::<SourceSpec>(&ok).is_ok());
    }
}
