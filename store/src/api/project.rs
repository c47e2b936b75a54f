//! `/api/v1/projects...`: projects, repositories, packages, commits, results, rebuild,
//! abort, the event stream, flags and publishing (the OBS workflow).
//!
//! | route | body | answer |
//! |---|---|---|
//! | `GET /projects` | | `[Project]` |
//! | `POST /projects` | [`CreateRequest`] | [`Project`] |
//! | `GET /projects/{p}` | | [`ProjectShow`] |
//! | `DELETE /projects/{p}` | | [`Deleted`] |
//! | `GET /projects/{p}/config[?repository=R]` | | [`ConfigText`] |
//! | `PUT /projects/{p}/config[?repository=R]` | [`super::PrjconfText`] | [`Project`] |
//! | `POST /projects/{p}/repositories` | [`RepoRequest`] | [`Project`] |
//! | `POST /projects/{p}/sync` | [`ProjectSyncRequest`] | [`ProjectSyncOutcome`] |
//! | `POST /projects/{p}/packages` | [`CommitRequest`] | [`CommitOutcome`] |
//! | `GET /projects/{p}/packages/{pkg}` | | [`Package`] |
//! | `POST /projects/{p}/packages/{pkg}` | [`CommitRequest`] | [`CommitOutcome`] |
//! | `DELETE /projects/{p}/packages/{pkg}` | | [`super::Removed`] |
//! | `GET /projects/{p}/packages/{pkg}/log[?repository&arch&follow]` | | text |
//! | `GET /projects/{p}/results` | | `[JobResult]` |
//! | `GET /projects/{p}/status` | | [`ProjectStatus`] |
//! | `POST /projects/{p}/rebuild` | [`PackageRequest`] | [`Scheduled`] |
//! | `POST /projects/{p}/abort` | [`PackageRequest`] | [`Aborted`] |
//! | `GET /projects/{p}/events` | | NDJSON, one [`ProjectEvent`] a line |
//! | `PUT /projects/{p}/publish-flag`, `PUT /projects/{p}/private` | [`ProjectFlags`] | [`Project`] |
//! | `POST /projects/{p}/publish` | [`PublishRequest`] | [`PublishAnswer`] |
//! | `GET /projects/{p}/key` | | armored OpenPGP key |

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::names::{ProjectName, SimpleName};
use super::resolve::{PrjconfText, SourceSpec};
use super::team::RoleGrant;
use crate::digest::B3Digest;
use crate::SafeName;

/// One repository of a project: a package universe, a prjconf and architectures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    pub name: SimpleName,
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
    /// Projects whose built packages join this repository's universe, in order.
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
    pub roles: Vec<RoleGrant>,
}

/// One package in [`ProjectShow`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageSummary {
    pub name: String,
    pub revisions: usize,
    /// Version of the latest revision.
    pub version: Option<String>,
    pub rebuilds: u32,
}

/// `GET /api/v1/projects/{p}`: the project and its packages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectShow {
    #[serde(flatten)]
    pub project: Project,
    pub packages: Vec<PackageSummary>,
}

/// One source revision of a package: an exact source package in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// 1, 2, … within the package.
    pub rev: u32,
    /// The `.dsc` file name and every file of the source package by BLAKE3.
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

/// A package in a project (`GET /api/v1/projects/{p}/packages/{pkg}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub project: ProjectName,
    pub name: SimpleName,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Scheduled,
    Blocked,
    Building,
    Succeeded,
    Cached,
    Failed,
    Unresolvable,
    Aborted,
}

impl JobState {
    /// Nothing more will happen without a new input.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            JobState::Scheduled | JobState::Blocked | JobState::Building
        )
    }
    pub fn is_success(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Cached)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Scheduled => "scheduled",
            JobState::Blocked => "blocked",
            JobState::Building => "building",
            JobState::Succeeded => "succeeded",
            JobState::Cached => "cached",
            JobState::Failed => "failed",
            JobState::Unresolvable => "unresolvable",
            JobState::Aborted => "aborted",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One built file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuiltFile {
    pub name: String,
    pub blake3: B3Digest,
    pub sha256: String,
    pub size: u64,
    /// The `control` paragraph of a `.deb` (never in `results` answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
}

/// The result row of one package × repository × architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    pub project: ProjectName,
    pub repository: SimpleName,
    pub arch: String,
    pub package: SimpleName,
    pub state: JobState,
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
    /// While `blocked`: the successful state the row had before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<JobState>,
    /// Sequence number of the last change.
    #[serde(default)]
    pub seq: u64,
}

/// A change of one result row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEvent {
    pub project: ProjectName,
    pub repository: String,
    pub arch: String,
    pub package: String,
    pub state: JobState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derivation: Option<B3Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub seq: u64,
}

/// One line of `GET /api/v1/projects/{p}/events` (NDJSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProjectEvent {
    /// A result row changed.
    Change(JobEvent),
    /// `{"heartbeat": true}`, every 15 s without changes.
    Heartbeat { heartbeat: bool },
    /// `{"lagged": N}`: the reader was too slow and missed N events (read the results
    /// again).
    Lagged { lagged: u64 },
}

/// A repository as the client describes it (`POST /api/v1/projects/{p}/repositories`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoRequest {
    /// Default `debian`.
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub snapshot: Option<String>,
    #[serde(default)]
    pub mirrors: Vec<String>,
    #[serde(default)]
    pub allow_expired: bool,
    pub prjconf: PrjconfText,
    #[serde(default)]
    pub arches: Vec<String>,
    #[serde(default)]
    pub path: Vec<String>,
}

/// `POST /api/v1/projects` body: the project and its first repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub publish: bool,
    #[serde(default)]
    pub private: bool,
    #[serde(flatten)]
    pub repo: RepoRequest,
}

/// `DELETE /api/v1/projects/{p}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub deleted: String,
}

/// `GET /api/v1/projects/{p}/config` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigText {
    /// The repository asked for (`null`: the first).
    pub repository: Option<String>,
    pub name: String,
    pub text: String,
}

/// `POST /api/v1/projects/{p}/sync` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSyncRequest {
    #[serde(default)]
    pub allow_expired: bool,
}

/// `POST /api/v1/projects/{p}/sync` answer: repositories whose snapshot moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSyncOutcome {
    pub changed_repositories: Vec<String>,
}

/// `package add` / `commit` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRequest {
    pub source: SourceSpec,
    /// Package name for `package add` (default: the source package's).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub message: String,
}

/// Outcome of `package add` / `commit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitOutcome {
    pub project: String,
    pub package: String,
    /// False when the source equals the latest revision (nothing scheduled).
    pub changed: bool,
    pub revision: Revision,
}

/// `POST /api/v1/projects/{p}/rebuild` and `…/abort` body (`null`: every package).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRequest {
    #[serde(default)]
    pub package: Option<String>,
}

/// `POST /api/v1/projects/{p}/rebuild` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheduled {
    pub scheduled: usize,
}

/// `POST /api/v1/projects/{p}/abort` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aborted {
    pub aborted: usize,
}

/// `GET /api/v1/projects/{p}/status`: scheduler-side state not in the result rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectStatus {
    pub project: String,
    pub publish_pending: bool,
}

/// `PUT /api/v1/projects/{p}/publish-flag` and `…/private` body (absent flags unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectFlags {
    #[serde(default)]
    pub publish: Option<bool>,
    #[serde(default)]
    pub private: Option<bool>,
}

/// `POST /api/v1/projects/{p}/publish` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishRequest {
    /// Only this repository (default: all).
    #[serde(default)]
    pub repository: Option<String>,
    /// Switch back to the previous kept generation.
    #[serde(default)]
    pub rollback: bool,
    /// Write the current generation to this absolute directory (admins only).
    #[serde(default)]
    pub export: Option<std::path::PathBuf>,
}

/// One generation of a published repository. Fields in the order the daemon writes them
/// (sorted: its publish answer goes through a `serde_json::Value`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    /// Identity of the published content (pool files), to skip unchanged publishes.
    #[serde(default)]
    pub content: Option<B3Digest>,
    pub created: i64,
    pub manifest: B3Digest,
    pub number: u64,
    pub packages: usize,
    pub sources: usize,
}

/// What a publish or rollback did to one repository. Fields in the order the daemon
/// writes them (sorted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishOutcome {
    pub codename: String,
    pub fingerprint: String,
    pub generation: Option<u64>,
    pub generations: Vec<Generation>,
    /// False when the content equals the current generation (nothing new published).
    pub new: bool,
    pub packages: usize,
    /// Where `cryod --listen` serves it.
    pub path: String,
    pub project: String,
    pub repository: String,
    pub sources: usize,
}

/// What an export did. Fields in the order the daemon writes them (sorted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportOutcome {
    pub dir: String,
    pub files: usize,
    pub generation: u64,
    /// Files hard-linked (to an identical file of the previous export or of this one).
    pub linked: usize,
    pub written: usize,
}

/// `POST /api/v1/projects/{p}/publish` answer: one outcome per repository, or what an
/// export did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PublishAnswer {
    Published(Vec<PublishOutcome>),
    Exported(ExportOutcome),
}
