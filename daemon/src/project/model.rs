//! The project model (OBS's): projects with repositories, packages with source revisions,
//! and one build result per package × repository × architecture. All of it is JSON in
//! redb (see `tables.rs`); sources and outputs are store objects named by digest.
//!
//! The types are the API's ([`cryo_store::api::project`]): rows are stored exactly as
//! they are answered (same serde attributes), and names are validated on deserialisation
//! so a record read back from redb or a body from a client cannot carry an unchecked name.

pub use cryo_store::api::{
    BuiltFile, JobResult, JobState as State, Package, Project, ProjectName, Repository, Revision,
    SimpleName,
};

use super::ProjectError;

impl From<cryo_store::api::InvalidName> for ProjectError {
    fn from(e: cryo_store::api::InvalidName) -> Self {
        ProjectError::Invalid(e.0)
    }
}

/// Package and repository names: Debian source package name rules (also fine for repos).
pub fn check_simple_name(kind: &str, s: &str) -> Result<(), ProjectError> {
    SimpleName::parse(kind, s)?;
    Ok(())
}

/// What the daemon derives from a project: what the auth policy needs to know of it.
pub trait ProjectExt {
    fn access(&self) -> crate::auth::ProjectAccess<'_>;
}

impl ProjectExt for Project {
    fn access(&self) -> crate::auth::ProjectAccess<'_> {
        crate::auth::ProjectAccess {
            name: self.name.as_str(),
            private: self.private,
            grants: &self.roles,
        }
    }
}

/// The redb key of a result row.
pub trait ResultKey {
    fn key(&self) -> String;
}

impl ResultKey for JobResult {
    fn key(&self) -> String {
        result_key(&self.project, &self.repository, &self.arch, &self.package)
    }
}

/// Key of a result row: `project \0 repository \0 arch \0 package`.
pub fn result_key(p: &ProjectName, repo: &str, arch: &str, pkg: &str) -> String {
    format!("{p}\0{repo}\0{arch}\0{pkg}")
}

/// Key of a package row: `project \0 package`.
pub fn package_key(p: &ProjectName, pkg: &str) -> String {
    format!("{p}\0{pkg}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryo_store::B3Digest;

    #[test]
    fn names_cannot_be_deserialised_unchecked() {
        assert!(serde_json::from_str::<ProjectName>("\"eol:12:staging\"").is_ok());
        for bad in ["\"../x\"", "\"a/b\"", "\".x\"", "\"a::b\"", "\"\""] {
            assert!(serde_json::from_str::<ProjectName>(bad).is_err(), "{bad}");
        }
        let d = B3Digest::of(b"x");
        let pkg = |name: &str| {
            serde_json::json!({"project": "p", "name": name, "revisions": []}).to_string()
        };
        assert!(serde_json::from_str::<Package>(&pkg("hello")).is_ok());
        for bad in ["../hello", "a/b", ".x", ""] {
            assert!(serde_json::from_str::<Package>(&pkg(bad)).is_err(), "{bad}");
        }
        let rev = |dsc: &str, file: &str| {
            serde_json::json!({
                "rev": 1, "dsc": dsc, "files": {file: d}, "digest": d, "source": "s",
                "version": "1", "author": "a", "time": 0, "message": ""
            })
            .to_string()
        };
        assert!(serde_json::from_str::<Revision>(&rev("s_1.dsc", "s_1.dsc")).is_ok());
        assert!(serde_json::from_str::<Revision>(&rev("../s_1.dsc", "s_1.dsc")).is_err());
        assert!(serde_json::from_str::<Revision>(&rev("s_1.dsc", "/etc/passwd")).is_err());
        let repo = |name: &str| {
            serde_json::json!({
                "name": name, "snapshot": d, "prjconf": d, "prjconf_name": "p", "arches": []
            })
            .to_string()
        };
        assert!(serde_json::from_str::<Repository>(&repo("debian")).is_ok());
        assert!(serde_json::from_str::<Repository>(&repo("../debian")).is_err());
    }
}
