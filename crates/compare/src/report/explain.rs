//! Explanations of divergences (`cryo explain`): which variation of the build environment
//! reproduces an official binary, or the evidence that none does. The daemon searches; this
//! module is the model stored next to a report and rendered with it.

use serde::{Deserialize, Serialize};

use crate::classify::ClassKind;

/// How far the search got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A variation reproduces the official bytes (identical).
    Reproduced,
    /// Variations made it strictly better, but a difference remains (see `remaining`).
    Improved,
    /// No variation tried changed the class.
    Unexplained,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Self::Reproduced => "reproduced",
            Self::Improved => "improved",
            Self::Unexplained => "unexplained",
        }
    }
}

/// What kind of environment difference a variation tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// The build's clock (`Cryo-Clock`).
    Clock,
    /// The build directory (`Cryo-BuildPath`).
    BuildPath,
    /// Packages present in the build root beyond the resolved closure (`Support:`).
    ExtraPackages,
    /// Other package versions: another snapshot cryo holds.
    Snapshot,
    /// The compiler and linker (build-id-only differences).
    Toolchain,
}

impl Cause {
    pub fn label(self) -> &'static str {
        match self {
            Self::Clock => "clock",
            Self::BuildPath => "build-path",
            Self::ExtraPackages => "extra-packages",
            Self::Snapshot => "snapshot",
            Self::Toolchain => "toolchain",
        }
    }
}

/// One rebuild of the search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub cause: Cause,
    /// The variation, as prjconf text appended to the report's (`Cryo-Clock: changelog`) or
    /// `snapshot <id>`.
    pub variation: String,
    /// The derivation built (absent when it could not be derived).
    pub derivation: Option<String>,
    /// The class of this binary in that rebuild (`build-failed` when it failed).
    pub class: ClassKind,
    /// The rebuild's one-line verdict for this binary (or why it could not run).
    pub note: String,
}

/// The explanation of one binary package's divergence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub verdict: Verdict,
    /// The class in the report being explained.
    pub class_before: ClassKind,
    /// The class with every accepted variation applied.
    pub class_after: ClassKind,
    /// One sentence for humans.
    pub summary: String,
    /// The variations that made it strictly better, in the order applied (cumulative).
    pub explained_by: Vec<Attempt>,
    /// Every rebuild tried (including the accepted ones), in order.
    pub tried: Vec<Attempt>,
    /// What remains and why, when not reproduced (e.g. the compiler version string).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remaining: Vec<String>,
    /// The prjconf text appended to reproduce `class_after` (empty when none).
    pub prjconf_addition: String,
    /// The snapshot `class_after` was reached in (hex id).
    pub snapshot: String,
    /// Rebuilds spent (cached derivations count as rebuilds too: they were compared).
    pub rebuilds: u32,
    /// The bound the search ran under.
    pub max_rebuilds: u32,
}
