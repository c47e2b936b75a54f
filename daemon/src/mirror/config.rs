//! Registered archives: `cryo mirror add NAME URL --suite S [--component C]... [--arch A]...
//! --keyring FILE`.

use super::tables::MIRRORS;
use super::MirrorError;
use crate::table::{self, TableError};
use cryo_store::Store;

/// apt's default pin priority.
pub const DEFAULT_PRIORITY: i32 = 500;

/// One archive as registered (the API's type; stored as it is answered).
pub use cryo_store::api::MirrorConfig;

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+:".contains(&b))
        && !s.starts_with('.')
}

fn valid_word(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+/".contains(&b))
        && !s.split('/').any(|c| c.is_empty() || c == "." || c == "..")
}

/// What the daemon does with a mirror's configuration: validate it (its errors are the
/// daemon's), and the URLs it fetches.
pub trait MirrorExt {
    /// Validate every field; errors name the field and value.
    fn validate(&self) -> Result<(), MirrorError>;
    /// URL of a file below the archive root.
    fn url_of(&self, rel: &str) -> String;
    /// URL of a file below `dists/<suite>/`.
    fn dist_url(&self, rel: &str) -> String;
}

impl MirrorExt for MirrorConfig {
    fn validate(&self) -> Result<(), MirrorError> {
        let bad = |m: String| Err(MirrorError::Invalid(m));
        if !valid_name(&self.name) {
            return bad(format!(
                "invalid mirror name {:?}: use letters, digits and . _ - + :",
                self.name
            ));
        }
        if !(self.url.starts_with("file:///")
            || self.url.starts_with("http://")
            || self.url.starts_with("https://"))
        {
            return bad(format!(
                "invalid URL {:?}: use file:///ABSOLUTE/PATH, http:// or https://",
                self.url
            ));
        }
        if !valid_word(&self.suite) {
            return bad(format!("invalid suite {:?}", self.suite));
        }
        if self.components.is_empty() || self.arches.is_empty() {
            return bad("at least one component and one architecture are needed".into());
        }
        for c in self.components.iter().chain(&self.arches) {
            if !valid_word(c) || c.contains('/') && self.arches.contains(c) {
                return bad(format!("invalid component or architecture {c:?}"));
            }
        }
        Ok(())
    }

    fn url_of(&self, rel: &str) -> String {
        format!("{}/{}", self.url.trim_end_matches('/'), rel)
    }

    fn dist_url(&self, rel: &str) -> String {
        self.url_of(&format!("dists/{}/{}", self.suite, rel))
    }
}

/// Register or replace a mirror.
pub fn put(st: &Store, m: &MirrorConfig) -> Result<(), MirrorError> {
    m.validate()?;
    Ok(MIRRORS.put(st.index().database(), m.name.as_str(), m)?)
}

/// All mirrors, by name.
pub fn list(st: &Store) -> Result<Vec<MirrorConfig>, MirrorError> {
    Ok(MIRRORS.all(st.index().database())?)
}

/// One mirror by name.
pub fn get(st: &Store, name: &str) -> Result<MirrorConfig, MirrorError> {
    MIRRORS
        .get(st.index().database(), name)?
        .ok_or_else(|| MirrorError::UnknownMirror(name.to_string()))
}

/// Remove a mirror registration (snapshots made from it stay).
pub fn remove(st: &Store, name: &str) -> Result<bool, MirrorError> {
    Ok(table::write(st.index().database(), MIRRORS.name(), |tx| {
        let mut t = MIRRORS.open(tx)?;
        let existed = t.get(name)?.is_some();
        t.remove(name)?;
        Ok::<_, TableError>(existed)
    })?)
}
