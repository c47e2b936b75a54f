//! Cache signing keys and trusted public keys.
//!
//! A key is named (`cache.example.org-1`); its public form is `NAME:BASE64(32 bytes)`, as
//! in Nix binary caches. Secret keys live in `<state>/keys/cache/NAME.secret` (mode 0600)
//! as `NAME:BASE64(32-byte seed)` and are never served.

use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use ed25519_dalek::{SigningKey, VerifyingKey};

use super::CacheError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A named signing key.
pub struct NamedKey {
    pub name: String,
    pub key: SigningKey,
}

impl NamedKey {
    /// `NAME:BASE64` of the public key.
    pub fn public(&self) -> String {
        format!(
            "{}:{}",
            self.name,
            B64.encode(self.key.verifying_key().to_bytes())
        )
    }
}

/// A trusted public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub name: String,
    pub key: VerifyingKey,
}

impl std::str::FromStr for TrustedKey {
    type Err = CacheError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            CacheError::Invalid(format!(
                "invalid public key {s:?}: {why} (expected NAME:BASE64)"
            ))
        };
        let (name, b64) = s.split_once(':').ok_or_else(|| bad("no ':'"))?;
        valid_name(name).map_err(|_| bad("bad name"))?;
        let bytes = B64.decode(b64.trim()).map_err(|_| bad("not base64"))?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| bad("not 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&arr).map_err(|_| bad("not an ed25519 key"))?;
        Ok(TrustedKey {
            name: name.to_string(),
            key,
        })
    }
}

fn valid_name(name: &str) -> Result<(), CacheError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CacheError::Invalid(format!(
            "invalid key name {name:?}: use letters, digits, '.', '_' and '-'"
        )))
    }
}

fn dir(state: &Path) -> PathBuf {
    state.join("keys/cache")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CacheError + '_ {
    move |source| CacheError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Generate a key (32 random bytes from the kernel) and store it 0600. Refuses to
/// overwrite an existing key of that name.
pub fn generate(state: &Path, name: &str) -> Result<NamedKey, CacheError> {
    valid_name(name)?;
    let d = dir(state);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&d)
        .map_err(io(&d))?;
    let path = d.join(format!("{name}.secret"));
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .map_err(io(Path::new("/dev/urandom")))?;
    let key = NamedKey {
        name: name.to_string(),
        key: SigningKey::from_bytes(&seed),
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                CacheError::Invalid(format!("a cache key named {name} exists already"))
            }
            _ => io(&path)(e),
        })?;
    std::io::Write::write_all(&mut f, format!("{name}:{}\n", B64.encode(seed)).as_bytes())
        .map_err(io(&path))?;
    f.sync_all().map_err(io(&path))?;
    forget();
    Ok(key)
}

/// The signing keys as loaded, with `id`: their public forms joined, which names the key
/// set a signed realisation was made with.
pub struct KeySet {
    pub keys: Vec<NamedKey>,
    pub id: String,
}

impl std::ops::Deref for KeySet {
    type Target = [NamedKey];
    fn deref(&self) -> &[NamedKey] {
        &self.keys
    }
}

/// How long a key set checked against the key directory is used without looking again
/// (a key added by `cryo cache keygen` through this daemon is seen at once, see
/// [`generate`]; one copied into the directory by hand within this time).
pub const RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

struct Loaded {
    mtime: Option<std::time::SystemTime>,
    checked: std::time::Instant,
    keys: std::sync::Arc<KeySet>,
}

static LOADED: std::sync::Mutex<Option<Loaded>> = std::sync::Mutex::new(None);

/// The signing keys, loaded once and again only when the key directory changes (`cryo
/// cache keygen` adds a file, which changes the directory's mtime).
pub fn load_cached(state: &Path) -> Result<std::sync::Arc<KeySet>, CacheError> {
    let mtime = std::fs::metadata(dir(state))
        .and_then(|m| m.modified())
        .ok();
    let mut c = LOADED.lock().expect("key cache");
    if let Some(l) = &mut *c {
        if l.mtime == mtime && mtime.is_some() {
            l.checked = std::time::Instant::now();
            return Ok(l.keys.clone());
        }
    }
    let keys = load_all(state)?;
    let id = keys.iter().map(|k| k.public() + " ").collect();
    let keys = std::sync::Arc::new(KeySet { keys, id });
    *c = Some(Loaded {
        mtime,
        checked: std::time::Instant::now(),
        keys: keys.clone(),
    });
    Ok(keys)
}

/// The key set [`load_cached`] checked less than [`RECHECK`] ago, without any I/O (the
/// binary cache's hot path answers from memory on the async runtime with it).
pub fn recently_checked() -> Option<std::sync::Arc<KeySet>> {
    let c = LOADED.lock().expect("key cache");
    c.as_ref()
        .filter(|l| l.checked.elapsed() < RECHECK)
        .map(|l| l.keys.clone())
}

/// Forget the loaded key set (a key was added or removed through this daemon).
fn forget() {
    *LOADED.lock().expect("key cache") = None;
}

pub fn load_all(state: &Path) -> Result<Vec<NamedKey>, CacheError> {
    let d = dir(state);
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(&d) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io(&d)(e)),
    };
    for e in rd {
        let p = e.map_err(io(&d))?.path();
        if p.extension().and_then(|x| x.to_str()) != Some("secret") {
            continue;
        }
        let text = std::fs::read_to_string(&p).map_err(io(&p))?;
        let (name, b64) = text
            .trim()
            .split_once(':')
            .ok_or_else(|| CacheError::Invalid(format!("{}: malformed key file", p.display())))?;
        let seed: [u8; 32] = B64
            .decode(b64)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| CacheError::Invalid(format!("{}: malformed key file", p.display())))?;
        out.push(NamedKey {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
