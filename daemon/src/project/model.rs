//! The project model (OBS's): projects with repositories, packages with source revisions,
//! and one build result per package × repository × architecture. All of it is JSON in
//! redb (see `tables.rs`); sources and outputs are store objects named by digest.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use cryo_store::{B3Digest, SafeName};

use super::ProjectError;

/// An OBS-style project name: `:`-separated segments of `[A-Za-z0-9][A-Za-z0-9+._-]*`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectName(String);

fn valid_segment(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphanumeric())
        && c.all(|ch| ch.is_ascii_alphanumeric() || "+._-".contains(ch))
        && s.len() <= 100
}

impl ProjectName {
    pub fn parse(s: &str) -> Result<Self, ProjectError> {
        if s.split(':').all(valid_segment) && s.len() <= 200 {
            Ok(Self(s.to_string()))
        } else {
            Err(ProjectError::Invalid(format!(
                "invalid project name {s:?}: use `:`-separated segments of letters, digits and + . _ - (e.g. eol:12:staging)"
            )))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProjectName {
    type Error = ProjectError;
    fn try_from(s: String) -> Result<Self, ProjectError> {
        Self::parse(&s)
    }
}

impl From<ProjectName> for String {
    fn from(n: ProjectName) -> String {
        n.0
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Package and repository names: Debian source package name rules (also fine for repos).
/// Stricter than [`SafeName`] (which every name passing it also is).
pub fn check_simple_name(kind: &str, s: &str) -> Result<(), ProjectError> {
    if valid_segment(s) {
        debug_assert!(SafeName::new(s).is_ok());
        Ok(())
    } else {
        Err(ProjectError::Invalid(format!(
            "invalid {kind} name {s:?}: letters, digits and + . _ - only, starting with a letter or digit"
        )))
    }
}

/// Deserialises a repository or package name, refusing one [`check_simple_name`] refuses:
/// a record read back from redb or a body from a client cannot carry a name that was
/// never checked.
fn simple_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    check_simple_name("repository or package", &s).map_err(serde::de::Error::custom)?;
    Ok(s)
}

/// One repository of a project: a package universe, a prjconf and architectures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    #[serde(deserialize_with = "simple_name")]
    pub name: String,
    /// The snapshot builds resolve against.
    pub snapshot: B3Digest,
    /// When set, the repository follows these mirrors: `cryo project sync` re-syncs them
    /// and moves `snapshot` to the result.
    #[serde(default)]
    pub mirrors: Vec<String>,
    /// The prjconf text as a blob, and the file name it came from (for file:line errors).
    pub prjconf: B3Digest,
    pub prjconf_name: String,
    pub arches: Vec<String>,
    /// Projects whose built packages (same repository name if it exists there, else their
    /// first repository; same architecture) join this repository's universe, in order.
    #[serde(default)]
    pub path: Vec<ProjectName>,
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub name: ProjectName,
    #[serde(default)]
    pub description: String,
    pub repositories: Vec<Repository>,
    /// Publish repositories automatically when their builds finish.
    #[serde(default)]
    pub publish: bool,
    pub created: i64,
    /// Reading needs a role (else the project is public).
    #[serde(default)]
    pub private: bool,
    /// OBS roles given to users and `@groups`.
    #[serde(default)]
    pub roles: Vec<crate::auth::RoleGrant>,
}

impl Project {
    /// What the auth policy needs to know of this project.
    pub fn access(&self) -> crate::auth::ProjectAccess<'_> {
        crate::auth::ProjectAccess {
            name: self.name.as_str(),
            private: self.private,
            grants: &self.roles,
        }
    }
}

/// One source revision of a package: an exact source package in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// 1, 2, … within the package.
    pub rev: u32,
    /// The `.dsc` file name and every file of the source package by BLAKE3 (single path
    /// components: they become files in build work directories).
    pub dsc: SafeName,
    pub files: BTreeMap<SafeName, B3Digest>,
    /// BLAKE3 of the revision's canonical file list: equal sources have equal digests.
    pub digest: B3Digest,
    pub source: String,
    pub version: String,
    pub author: String,
    pub time: i64,
    pub message: String,
}

/// A package in a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub project: ProjectName,
    #[serde(deserialize_with = "simple_name")]
    pub name: String,
    pub revisions: Vec<Revision>,
    /// Forced rebuilds (`cryo rebuild`), OBS's `<B_CNT>`.
    #[serde(default)]
    pub rebuilds: u32,
}

impl Package {
    pub fn latest(&self) -> Option<&Revision> {
        self.revisions.last()
    }
}

/// Where a build result stands, with OBS's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Scheduled,
    Blocked,
    Building,
    Succeeded,
    Cached,
    Failed,
    Unresolvable,
    Aborted,
}

impl State {
    /// Nothing more will happen without a new input.
    pub fn is_final(self) -> bool {
        !matches!(self, State::Scheduled | State::Blocked | State::Building)
    }
    pub fn is_success(self) -> bool {
        matches!(self, State::Succeeded | State::Cached)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            State::Scheduled => "scheduled",
            State::Blocked => "blocked",
            State::Building => "building",
            State::Succeeded => "succeeded",
            State::Cached => "cached",
            State::Failed => "failed",
            State::Unresolvable => "unresolvable",
            State::Aborted => "aborted",
        }
    }
}

/// One built file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuiltFile {
    pub name: String,
    pub blake3: B3Digest,
    pub sha256: String,
    pub size: u64,
    /// The `control` paragraph of a `.deb` (what the universe and publishing need).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
}

/// The result row of one package × repository × architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    pub project: ProjectName,
    #[serde(deserialize_with = "simple_name")]
    pub repository: String,
    pub arch: String,
    #[serde(deserialize_with = "simple_name")]
    pub package: String,
    pub state: State,
    /// Why (blocked: the dependency; unresolvable: the missing relation; failed: the error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derivation: Option<B3Digest>,
    /// The revision this result is for.
    pub revision: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<i64>,
    #[serde(default)]
    pub outputs: Vec<BuiltFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<B3Digest>,
    /// A forced rebuild is pending (`cryo rebuild`).
    #[serde(default)]
    pub force: bool,
    /// While `blocked`: the successful state the row had before (its derivation and
    /// outputs are kept), restored when the dependency's rebuild leaves the derivation
    /// unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<State>,
    /// Sequence number of the last change (for `--watch` and fairness).
    #[serde(default)]
    pub seq: u64,
}

impl JobResult {
    pub fn key(&self) -> String {
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
