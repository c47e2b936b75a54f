//! Publishing project repositories as signed apt archives, projected from the store.
//!
//! A publish builds the whole archive of one project repository with `cryo-aptrepo`
//! (indices, by-hash, Release, InRelease, Release.gpg; pool entries point at build
//! outputs and source files already in the store), stores every generated file as a blob
//! and records a **generation**: a manifest (path → blob) stored as a blob that
//! references everything it lists, rooted as `publish/<project>/<repo>/<n>`. Switching
//! to it is one redb write of the repository's publication record, so readers (each
//! request resolves its path in one generation) never see a mix. The last
//! [`KEEP_GENERATIONS`] stay (rollback; by-hash files of older generations keep being
//! served for clients holding an older InRelease). Nothing is copied: `/repos/…` streams
//! store blobs; `--export` writes a static copy with hard links between identical files.

pub mod generation;
pub mod keys;
pub mod manifest;

use std::sync::Arc;

use cryo_store::Store;

use crate::clock::Clock;
use crate::config::Config;
use crate::project::Projects;

/// What publishing uses: the store, the clock, the projects it publishes, the decoded
/// manifests of recent generations and the configuration (where signing keys live).
pub struct Publisher {
    pub store: Arc<Store>,
    pub clock: Clock,
    pub projects: Arc<Projects>,
    pub publish_manifests: manifest::ManifestCache,
    pub config: Arc<Config>,
}

/// Generations kept per repository (the current one included).
pub const KEEP_GENERATIONS: usize = 5;

/// Errors of publishing.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("publication database: {0}")]
    Table(#[from] crate::table::TableError),
    #[error("manifest {digest}: {source}")]
    Manifest {
        digest: cryo_store::B3Digest,
        #[source]
        source: serde_json::Error,
    },
    #[error("signing key {path}: {message}")]
    Key { path: String, message: String },
    #[error("building the repository: {0}")]
    Repo(#[from] RepoError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Project(#[from] crate::project::ProjectError),
    #[error(transparent)]
    Mirror(#[from] crate::mirror::MirrorError),
    #[error(transparent)]
    Store(#[from] cryo_store::StoreError),
}

/// Why `cryo-aptrepo` could not build a repository's archive, with its typed cause.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A built `.deb` (by pool file name) cannot be published.
    #[error("{file}: {source}")]
    Deb {
        file: String,
        #[source]
        source: cryo_aptrepo::DebError,
    },
    /// The codename is not a valid name.
    #[error("codename {value:?}: {source}")]
    Codename {
        value: String,
        #[source]
        source: cryo_aptrepo::SpecError,
    },
    /// An architecture of the repository is not a valid name.
    #[error("architecture {value:?}: {source}")]
    Architecture {
        value: String,
        #[source]
        source: cryo_aptrepo::SpecError,
    },
    /// Building the tree failed (shown with its whole chain of causes).
    #[error("{}", crate::build::chain(.0))]
    Build(#[source] cryo_aptrepo::PublishError),
    /// The tree has an alias whose target it does not contain.
    #[error("{path} aliases missing {target}")]
    MissingAlias { path: String, target: String },
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> PublishError + '_ {
    move |source| PublishError::Io {
        path: path.display().to_string(),
        source,
    }
}
