//! cryo-debbuild: cryo's Debian builder. It turns (a) the `.deb` files of a resolved build
//! environment into a configured build root ([`prepare_root`]) and (b) a source package's
//! files into a sandboxed `dpkg-buildpackage` run on that root ([`build()`]), collecting
//! the outputs. It knows nothing about the store, the daemon or HTTP: inputs are local
//! paths, outputs are files in a directory. Every maintainer script and every line of
//! `debian/rules` runs inside a `cryo-sandbox` job. Works as root and as an ordinary user
//! with a subordinate id range; [`remove_tree`] deletes what the jobs wrote in either case.
//! See `docs/builder.md`.

mod bootstrap;
mod build;
mod cleanup;
pub mod clock;
pub mod deb;
mod job;
pub mod layers;
mod manifest;
mod root;
mod settings;
mod source;

pub use build::{build, build_observed, BuildError, BuildOutput, BuildResult};
pub use cleanup::{remove_tree, CleanupError};
pub use clock::{pinned_epoch, ClockError};
pub use deb::{DebError, DebFile};
pub use job::PATH;
pub use layers::Layering;
pub use manifest::ManifestError;
pub use root::{
    prepare_base, prepare_from_base, prepare_layer, prepare_root, DeltaPlan, PhaseLog, RootError,
    RootInfo, RootPhase, RootPlan, BUILD_USER_NAME,
};
pub use settings::{BuildKind, BuildSettings, BuildSpec, SourceFiles, DEFAULT_MAX_LOG_BYTES};
pub use source::{build_path, check_source, CheckedSource, SourceError};
