//! Per-project OpenPGP signing keys: generated on first publish, kept as armored secret
//! keys in `<state>/keys/projects/<project>.asc` (mode 0600, directory 0700).

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use cryo_aptrepo::SigningKey;

use super::Publisher;
use super::{io, PublishError};
use crate::project::model::ProjectName;

fn key_path(st: &Publisher, project: &ProjectName) -> PathBuf {
    st.config
        .state
        .join("keys")
        .join("projects")
        .join(format!("{project}.asc"))
}

fn key_err(p: &std::path::Path, e: impl std::fmt::Display) -> PublishError {
    PublishError::Key {
        path: p.display().to_string(),
        message: e.to_string(),
    }
}

/// The project's key, if it has one.
pub fn load(st: &Publisher, project: &ProjectName) -> Result<Option<SigningKey>, PublishError> {
    let p = key_path(st, project);
    match std::fs::read_to_string(&p) {
        Ok(t) => Ok(Some(
            SigningKey::from_armored_secret(&t).map_err(|e| key_err(&p, e))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(&p)(e)),
    }
}

/// The project's key, generated (and stored 0600) on first use.
pub fn load_or_create(st: &Publisher, project: &ProjectName) -> Result<SigningKey, PublishError> {
    if let Some(k) = load(st, project)? {
        return Ok(k);
    }
    let p = key_path(st, project);
    let dir = p.parent().expect("key path has a parent");
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    let key = SigningKey::generate(project.as_str(), st.clock.now()).map_err(|e| key_err(&p, e))?;
    let text = key.to_armored_secret().map_err(|e| key_err(&p, e))?;
    // Written to a temp file (0600 from the start) and renamed: never a partial key.
    let tmp = dir.join(format!(".{project}.asc.tmp-{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(text.as_bytes()).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, &p).map_err(io(&p))?;
    tracing::info!(%project, fingerprint = %key.fingerprint(), "generated the project's signing key");
    Ok(key)
}

/// Forget a deleted project's key.
pub fn remove(st: &Publisher, project: &ProjectName) {
    let _ = std::fs::remove_file(key_path(st, project));
}
