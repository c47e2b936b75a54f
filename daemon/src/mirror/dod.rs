//! Download on demand: a package file is fetched from its mirror the first time anything
//! needs it, verified against the snapshot's SHA256 and size, and stored by BLAKE3 (the
//! SHA256 → BLAKE3 mapping is kept). From then on it comes from the store, so a snapshot
//! keeps working after the mirror is gone.

use std::io::{Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};

use cryo_store::{B3Digest, ObjectKind, Session};

use super::fetch::{self, FetchFailure, Retry};
use super::snapshot::SnapshotInfo;
use super::MirrorError;
use cryo_store::Store;

/// Largest package file fetched.
const MAX_FILE: u64 = 8 << 30;

/// One file of a snapshot's package (the API's type).
pub use cryo_store::api::PoolFile;

fn base_url(st: &Store, snap: &SnapshotInfo, archive: &str) -> Result<String, MirrorError> {
    // A mirror that moved is re-registered under the same name: prefer its current URL.
    if let Ok(m) = super::config::get(st, archive) {
        return Ok(m.url);
    }
    snap.urls.get(archive).cloned().ok_or_else(|| {
        MirrorError::Invalid(format!("snapshot {} has no archive {archive:?}", snap.id))
    })
}

/// The file's BLAKE3 in the store, fetching and verifying it first if needed.
pub fn ensure(
    st: &Store,
    snap: &SnapshotInfo,
    f: &PoolFile,
    session: &Session,
) -> Result<B3Digest, MirrorError> {
    if let Some(d) = super::sync::known_blake3(st, &f.sha256)? {
        st.hold(session, &d)?;
        return Ok(d);
    }
    if f.path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(MirrorError::Invalid(format!(
            "{} {}: refusing pool path {:?}",
            f.package, f.version, f.path
        )));
    }
    let base = base_url(st, snap, &f.archive)?;
    let url = format!("{}/{}", base.trim_end_matches('/'), f.path);
    let not_in_mirror = |why: String| {
        MirrorError::NotFound(format!(
            "{} {} is not in the mirror: {url}: {why} (expected SHA256 {}, {} bytes)",
            f.package, f.version, f.sha256, f.size
        ))
    };
    let unreachable = |why: String| {
        MirrorError::Fetch {
        url: url.clone(),
        message: format!(
            "{} {} could not be fetched from the mirror: {why} (expected SHA256 {}, {} bytes); nothing was stored",
            f.package, f.version, f.sha256, f.size
        ),
    }
    };
    let mut tmp = tempfile::Builder::new()
        .prefix("dod-")
        .tempfile_in(st.tmp_dir())
        .map_err(|e| MirrorError::Invalid(format!("temporary file: {e}")))?;
    let state = std::cell::RefCell::new(Download {
        file: tmp.as_file_mut(),
        sha: Sha256::new(),
    });
    let res = {
        let mut sink = DownloadSink(&state);
        let mut reset = || state.borrow_mut().reset();
        fetch::fetch_into(&url, &mut sink, &mut reset, MAX_FILE, Retry::default())
    };
    let size = match res {
        Ok(n) => n,
        Err(FetchFailure::NotFound) => return Err(not_in_mirror("not found".into())),
        Err(other) => return Err(unreachable(other.to_string())),
    };
    let sha = state.into_inner().sha;
    let got = hex::encode(sha.finalize());
    if size != f.size || got != f.sha256 {
        return Err(MirrorError::Integrity {
            archive: f.archive.clone(),
            path: f.path.clone(),
            message: format!(
                "{} {} from {url} is corrupt: expected SHA256 {} ({} bytes), got {got} ({size} bytes); nothing was stored",
                f.package, f.version, f.sha256, f.size
            ),
        });
    }
    let file = tmp.as_file_mut();
    file.seek(SeekFrom::Start(0))
        .map_err(|e| MirrorError::Invalid(format!("temporary file: {e}")))?;
    let stored = st.put_reader(file, ObjectKind::Blob, &[], Some(session))?;
    super::sync::remember_sha256(st, &f.sha256, &stored.digest)?;
    tracing::info!(package = %f.package, version = %f.version, %url, digest = %stored.digest, "fetched on demand");
    Ok(stored.digest)
}

/// A download in progress: the temp file and the running SHA256.
struct Download<'a> {
    file: &'a mut std::fs::File,
    sha: Sha256,
}

impl Download<'_> {
    /// Start over (a retry after a partial body).
    fn reset(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.sha = Sha256::new();
        Ok(())
    }
}

struct DownloadSink<'a, 'b>(&'a std::cell::RefCell<Download<'b>>);

impl Write for DownloadSink<'_, '_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut d = self.0.borrow_mut();
        d.file.write_all(data)?;
        d.sha.update(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().file.flush()
    }
}
