//! Local filesystem blob backend: `<root>/blobs/ab/abcd…`, temp files in `<root>/tmp/`.
//!
//! Writes are atomic and durable: the payload goes to a temp file in the same filesystem,
//! is fsynced, renamed to its digest name, and the shard directory is fsynced. Stray temp
//! files left by a crash are swept when the backend is opened.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;

use tracing::{debug, instrument, warn};

use super::format::{self, Encoding, HEADER_LEN};
use super::{BlobBackend, BlobError, Listing, PutOutcome, VerifyingReader};
use crate::digest::{B3Digest, B3Hasher};

const CHUNK: usize = 1 << 20;
/// zstd level used at rest: fast enough to keep up with ingest, good ratio on packages.
const ZSTD_LEVEL: i32 = 3;
/// A sample whose zstd output is larger than this fraction of its input is stored raw.
const INCOMPRESSIBLE_RATIO: f64 = 0.97;

/// Blobs as files on a local filesystem.
#[derive(Debug)]
pub struct LocalBlobs {
    blobs: PathBuf,
    tmp: PathBuf,
}

impl LocalBlobs {
    /// Open (creating if needed) the blob area under `root` and sweep stray temp files.
    pub fn open(root: &Path) -> Result<Self, BlobError> {
        let blobs = root.join("blobs");
        let tmp = root.join("tmp");
        // Only the daemon reads blobs (private projects' sources are among them): the
        // areas are 0700, also when an older version created them wider.
        for d in [&blobs, &tmp] {
            private_dir(d)?;
        }
        let this = Self { blobs, tmp };
        let swept = this.sweep_temp()?;
        if swept > 0 {
            warn!(
                swept,
                "removed stray temporary files left by an interrupted write"
            );
        }
        Ok(this)
    }

    /// Path of a blob file (it may not exist).
    pub fn path_of(&self, d: &B3Digest) -> PathBuf {
        let hex = d.to_hex();
        self.blobs.join(&hex[..2]).join(hex)
    }

    /// Directory for temporary files; same filesystem as the blobs.
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    fn sweep_temp(&self) -> Result<usize, BlobError> {
        let mut n = 0;
        for e in fs::read_dir(&self.tmp).map_err(|e| BlobError::io(&self.tmp, e))? {
            let e = e.map_err(|e| BlobError::io(&self.tmp, e))?;
            let p = e.path();
            let res = if p.is_dir() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
            res.map_err(|e| BlobError::io(&p, e))?;
            n += 1;
        }
        Ok(n)
    }

    fn commit(&self, tmp: tempfile::NamedTempFile, digest: &B3Digest) -> Result<bool, BlobError> {
        let dest = self.path_of(digest);
        let shard = dest.parent().expect("blob path has a shard dir");
        let new_shard = !shard.exists();
        if new_shard {
            match fs::DirBuilder::new().mode(0o700).create(shard) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                    return Err(BlobError::io(shard, e))
                }
                _ => {}
            }
        }
        let existed = dest.exists();
        tmp.persist(&dest)
            .map_err(|e| BlobError::io(&dest, e.error))?;
        fsync_dir(shard)?;
        if new_shard {
            fsync_dir(&self.blobs)?;
        }
        Ok(!existed)
    }
}

/// Create `d` (and missing parents) 0700, or narrow an existing `d` to 0700.
fn private_dir(d: &Path) -> Result<(), BlobError> {
    use std::os::unix::fs::PermissionsExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(d)
        .map_err(|e| BlobError::io(d, e))?;
    let mode = fs::metadata(d)
        .map_err(|e| BlobError::io(d, e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(d, fs::Permissions::from_mode(0o700))
            .map_err(|e| BlobError::io(d, e))?;
    }
    Ok(())
}

fn fsync_dir(p: &Path) -> Result<(), BlobError> {
    File::open(p)
        .and_then(|f| f.sync_all())
        .map_err(|e| BlobError::io(p, e))
}

/// Read until `buf` is full or EOF; returns bytes read.
fn fill(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn choose_encoding(sample: &[u8]) -> Encoding {
    if sample.len() < 64 {
        return Encoding::Raw;
    }
    match zstd::bulk::compress(sample, 1) {
        Ok(c) if (c.len() as f64) < sample.len() as f64 * INCOMPRESSIBLE_RATIO => Encoding::Zstd,
        _ => Encoding::Raw,
    }
}

/// Hashes chunks on a second thread while the caller compresses: ingest then runs at the
/// speed of the slower of the two instead of their sum.
struct ParallelHasher {
    tx: Option<mpsc::SyncSender<Arc<Vec<u8>>>>,
    handle: Option<std::thread::JoinHandle<B3Digest>>,
}

impl ParallelHasher {
    fn new() -> Self {
        let (tx, rx) = mpsc::sync_channel::<Arc<Vec<u8>>>(4);
        let handle = std::thread::spawn(move || {
            let mut h = B3Hasher::new();
            for chunk in rx {
                h.update(&chunk);
            }
            h.finalize()
        });
        Self {
            tx: Some(tx),
            handle: Some(handle),
        }
    }
    fn feed(&self, chunk: Arc<Vec<u8>>) {
        if let Some(tx) = &self.tx {
            // The hasher thread only stops when we drop the sender.
            let _ = tx.send(chunk);
        }
    }
    fn finish(mut self) -> B3Digest {
        drop(self.tx.take());
        self.handle
            .take()
            .expect("finish called once")
            .join()
            .expect("hasher thread does not panic")
    }
}

impl BlobBackend for LocalBlobs {
    #[instrument(skip_all)]
    fn put(&self, reader: &mut dyn Read) -> Result<PutOutcome, BlobError> {
        let mut first = vec![0u8; CHUNK];
        let n = fill(reader, &mut first).map_err(BlobError::Input)?;
        first.truncate(n);
        let encoding = choose_encoding(&first);

        let mut tmp = tempfile::Builder::new()
            .prefix("put-")
            .tempfile_in(&self.tmp)
            .map_err(|e| BlobError::io(&self.tmp, e))?;
        let tmp_path = tmp.path().to_path_buf();
        let io_err = |e| BlobError::io(&tmp_path, e);
        tmp.write_all(&format::header(encoding, 0))
            .map_err(io_err)?;

        let hasher = ParallelHasher::new();
        let mut size = 0u64;
        {
            let file = tmp.as_file_mut();
            let mut sink: Box<dyn Write> = match encoding {
                Encoding::Raw => Box::new(io::BufWriter::with_capacity(CHUNK, file)),
                Encoding::Zstd => Box::new(
                    zstd::stream::Encoder::new(
                        io::BufWriter::with_capacity(CHUNK, file),
                        ZSTD_LEVEL,
                    )
                    .map_err(io_err)?
                    .auto_finish(),
                ),
            };
            let mut chunk = Arc::new(first);
            loop {
                if chunk.is_empty() {
                    break;
                }
                size += chunk.len() as u64;
                hasher.feed(chunk.clone());
                sink.write_all(&chunk).map_err(io_err)?;
                let mut next = vec![0u8; CHUNK];
                let n = fill(reader, &mut next).map_err(BlobError::Input)?;
                next.truncate(n);
                chunk = Arc::new(next);
            }
            sink.flush().map_err(io_err)?;
        }
        let digest = hasher.finish();
        let file = tmp.as_file_mut();
        file.seek(SeekFrom::Start(0)).map_err(io_err)?;
        file.write_all(&format::header(encoding, size))
            .map_err(io_err)?;
        file.sync_all().map_err(io_err)?;
        let stored_size = file.metadata().map_err(io_err)?.len();
        let created = self.commit(tmp, &digest)?;
        debug!(%digest, size, stored_size, ?encoding, created, "blob stored");
        Ok(PutOutcome {
            digest,
            size,
            stored_size,
            encoding,
            created,
        })
    }

    fn open(&self, digest: &B3Digest) -> Result<VerifyingReader<Box<dyn Read + Send>>, BlobError> {
        let path = self.path_of(digest);
        let mut f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BlobError::NotFound(*digest))
            }
            Err(e) => return Err(BlobError::io(&path, e)),
        };
        let mut h = [0u8; HEADER_LEN];
        f.read_exact(&mut h).map_err(|e| BlobError::Corrupt {
            digest: *digest,
            reason: format!("truncated header ({e})"),
        })?;
        let (enc, size) = format::parse_header(&h).map_err(|reason| BlobError::Corrupt {
            digest: *digest,
            reason,
        })?;
        let inner: Box<dyn Read + Send> = match enc {
            Encoding::Raw => Box::new(BufReader::with_capacity(CHUNK, f)),
            Encoding::Zstd => {
                Box::new(zstd::stream::Decoder::new(f).map_err(|e| BlobError::io(&path, e))?)
            }
        };
        Ok(VerifyingReader::new(inner, *digest, size))
    }

    fn contains(&self, digest: &B3Digest) -> Result<bool, BlobError> {
        Ok(self.path_of(digest).exists())
    }

    fn stored_size(&self, digest: &B3Digest) -> Result<Option<u64>, BlobError> {
        match fs::metadata(self.path_of(digest)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BlobError::io(self.path_of(digest), e)),
        }
    }

    fn delete(&self, digest: &B3Digest) -> Result<(), BlobError> {
        let p = self.path_of(digest);
        match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BlobError::io(&p, e)),
        }
    }

    fn list(&self) -> Result<Listing, BlobError> {
        let mut out = Listing::default();
        for shard in fs::read_dir(&self.blobs).map_err(|e| BlobError::io(&self.blobs, e))? {
            let shard = shard.map_err(|e| BlobError::io(&self.blobs, e))?;
            let sp = shard.path();
            let sname = shard.file_name().to_string_lossy().into_owned();
            if !sp.is_dir() {
                out.stray.push(sname);
                continue;
            }
            for e in fs::read_dir(&sp).map_err(|e| BlobError::io(&sp, e))? {
                let e = e.map_err(|e| BlobError::io(&sp, e))?;
                let name = e.file_name().to_string_lossy().into_owned();
                match name.parse::<B3Digest>() {
                    Ok(d) if name.starts_with(&sname) && name == d.to_hex() => out.digests.push(d),
                    _ => out.stray.push(format!("{sname}/{name}")),
                }
            }
        }
        out.digests.sort();
        Ok(out)
    }
}
