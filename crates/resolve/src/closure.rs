//! The result: the exact set of binary packages of a build environment, split into the
//! preinstall phase (unpacked first, OBS `Preinstall:` with `ExpandFlags:
//! preinstallexpand`) and the install phase, each package with its fetch data and the chain
//! of relations that pulled it in.

use cryo_debian::arch::Arch;
use cryo_debian::digest::Sha256Digest;
use cryo_debian::version::Version;

use crate::explain::Chain;

/// One selected binary package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: Version,
    /// Architecture (`all` or the host).
    pub arch: Arch,
    /// SHA-256 of the `.deb` from the index.
    pub sha256: Sha256Digest,
    /// Size of the `.deb` in bytes.
    pub size: u64,
    /// Pool path relative to the archive root.
    pub filename: String,
    /// Archive (suite) it comes from.
    pub origin: String,
    /// Why it is there: from a root (prjconf list, build dependency, Essential) through
    /// each dependency to this package.
    pub reason: Chain,
}

/// A resolved build environment. Both lists are sorted by (name, arch) and disjoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Closure {
    /// Expansion of prjconf `Preinstall:`.
    pub preinstall: Vec<Selected>,
    /// Everything else: Required, Support, Essential, build dependencies and their
    /// dependencies.
    pub install: Vec<Selected>,
}

impl Closure {
    /// Every package, preinstall first.
    pub fn all(&self) -> impl Iterator<Item = &Selected> {
        self.preinstall.iter().chain(&self.install)
    }

    /// Number of packages.
    pub fn len(&self) -> usize {
        self.preinstall.len() + self.install.len()
    }

    /// True when nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The package named `name`, if selected.
    pub fn get(&self, name: &str) -> Option<&Selected> {
        self.all().find(|s| s.name == name)
    }
}
