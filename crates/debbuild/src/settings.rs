//! What a build needs besides its root and source: the prjconf-derived settings (clock
//! policy, build path, build user, timeouts, locale, umask, `DEB_BUILD_OPTIONS`,
//! `DEB_BUILD_PROFILES`), the kind of build, and the [`BuildSpec`] tying them together.

use std::path::PathBuf;
use std::time::Duration;

use cryo_prjconf::{BuildPathTemplate, BuildUser, Clock, CryoSettings, Prjconf};

/// Which binary packages `dpkg-buildpackage` builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildKind {
    /// `-b`: architecture-dependent and -independent packages (the faithful default).
    #[default]
    Full,
    /// `-B`: architecture-dependent packages only (Debian's arch-specific buildds).
    ArchOnly,
    /// `-A`: architecture-independent packages only.
    IndepOnly,
}

impl BuildKind {
    /// The `dpkg-buildpackage` option.
    pub fn flag(self) -> &'static str {
        match self {
            BuildKind::Full => "-b",
            BuildKind::ArchOnly => "-B",
            BuildKind::IndepOnly => "-A",
        }
    }
}

/// The settings of one build, usually from the project's prjconf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSettings {
    pub clock: Clock,
    pub build_path: BuildPathTemplate,
    pub build_user: BuildUser,
    pub timeout: Duration,
    /// Killed when it prints nothing for this long (`Cryo-IdleTimeout`).
    pub idle_timeout: Duration,
    /// `LANG` and `LC_ALL`.
    pub locale: String,
    pub umask: u32,
    pub deb_build_options: Option<String>,
    pub deb_build_profiles: Option<String>,
    /// Cap on the kept build log (the sandbox drops the rest and says so).
    /// A version suffix added through a generated changelog entry before the build
    /// (OBS's `OBS-DCH-RELEASE`; from the prjconf's release pattern and counters).
    pub release_suffix: Option<String>,
    /// A POSIX extended regex matching a suffix an earlier build or `cryo patch` made
    /// with the same pattern (e.g. `\+eol12u[0-9]+`): replaced rather than stacked.
    pub release_strip: Option<String>,
    /// The hostname inside the build sandbox (default: the sandbox's fixed `cryo-build`;
    /// only `cryo build --check --vary hostname` changes it).
    pub hostname: Option<String>,
    pub max_log_bytes: u64,
}

/// Default cap on the build log.
pub const DEFAULT_MAX_LOG_BYTES: u64 = 64 << 20;

impl BuildSettings {
    /// The settings of a prjconf: its `Cryo-*` values and `%deb_build_options` /
    /// `%deb_build_profiles` macros.
    pub fn from_prjconf(conf: &Prjconf) -> Self {
        Self::from_parts(
            conf.cryo(),
            conf.deb_build_options(),
            conf.deb_build_profiles(),
        )
    }

    /// The settings from `Cryo-*` values and the two `DEB_BUILD_*` variables (an empty
    /// value counts as unset).
    pub fn from_parts(
        cryo: &CryoSettings,
        deb_build_options: Option<&str>,
        deb_build_profiles: Option<&str>,
    ) -> Self {
        let non_empty =
            |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(Into::into);
        Self {
            clock: cryo.clock,
            build_path: cryo.build_path.clone(),
            build_user: cryo.build_user,
            timeout: Duration::from_secs(cryo.timeout_secs),
            idle_timeout: Duration::from_secs(cryo.idle_timeout_mins * 60),
            locale: cryo.locale.as_str().to_owned(),
            umask: cryo.umask.bits(),
            deb_build_options: non_empty(deb_build_options),
            deb_build_profiles: non_empty(deb_build_profiles),
            max_log_bytes: DEFAULT_MAX_LOG_BYTES,
            release_suffix: None,
            release_strip: None,
            hostname: None,
        }
    }
}

impl Default for BuildSettings {
    /// cryo's defaults without any `DEB_BUILD_*` variable.
    fn default() -> Self {
        Self::from_parts(&CryoSettings::default(), None, None)
    }
}

/// A source package as local files: the `.dsc` and the files it lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFiles {
    pub dsc: PathBuf,
    /// Every file of the `.dsc`'s `Checksums-Sha256`, no more; checked by size and SHA-256.
    pub files: Vec<PathBuf>,
}

/// Everything [`crate::build()`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSpec {
    /// A configured root from [`crate::prepare_root`]: the overlay's lower layer, never
    /// written.
    pub root_dir: PathBuf,
    pub source: SourceFiles,
    pub settings: BuildSettings,
    pub kind: BuildKind,
    /// An empty (or missing) directory for the overlay's `upper`/`work` and the build
    /// directory, which is where the outputs appear. It and its ancestors must be
    /// traversable by others (mode `0755`): the sandbox's root runs as a mapped id.
    pub work_dir: PathBuf,
}
