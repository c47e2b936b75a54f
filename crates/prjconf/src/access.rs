//! Read access to a parsed `Prjconf`, including the values OBS derives when a directive is
//! absent (build type, binary type, release) and the Debian build environment macros.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Prjconf;
use crate::cryo::CryoSettings;
use crate::error::Warning;
use crate::macros::MacroDef;
use crate::model::{
    ConflictPair, Flag, IgnoreEntry, OrderEntry, PackageName, PreferEntry, UnknownDirective,
};

/// OBS's default `Release:` (`<CI_CNT>.<B_CNT>`).
pub const DEFAULT_RELEASE: &str = "<CI_CNT>.<B_CNT>";

impl Prjconf {
    /// The rpm architecture name the config was evaluated for.
    pub fn arch_rpm(&self) -> &str {
        &self.arch_rpm
    }
    /// `Repotype:` (last line wins; e.g. `["debian"]`).
    pub fn repotype(&self) -> &[String] {
        &self.repotype
    }
    /// `Type:` as written (`dsc`, `spec`, ...).
    pub fn build_type(&self) -> Option<&str> {
        self.build_type.as_deref()
    }
    /// `BinaryType:` as written (`deb`, `rpm`, ...).
    pub fn binary_type(&self) -> Option<&str> {
        self.binary_type.as_deref()
    }
    /// `Type:`, or what OBS guesses from Preinstall (rpm → spec, debianutils → dsc,
    /// pacman → arch).
    pub fn effective_build_type(&self) -> Option<&str> {
        self.build_type.as_deref().or_else(|| {
            [("rpm", "spec"), ("debianutils", "dsc"), ("pacman", "arch")]
                .into_iter()
                .find(|(p, _)| self.preinstall.iter().any(|n| n == p))
                .map(|(_, t)| t)
        })
    }
    /// `BinaryType:`, or what OBS derives from the build type.
    pub fn effective_binary_type(&self) -> Option<&str> {
        self.binary_type
            .as_deref()
            .or(match self.effective_build_type()? {
                "spec" => Some("rpm"),
                "dsc" | "collax" | "livebuild" => Some("deb"),
                "arch" => Some("arch"),
                _ => None,
            })
    }
    pub fn preinstall(&self) -> &BTreeSet<PackageName> {
        &self.preinstall
    }
    pub fn vminstall(&self) -> &BTreeSet<PackageName> {
        &self.vminstall
    }
    /// `Runscripts:` in file order (the order their maintainer scripts run).
    pub fn runscripts(&self) -> &[PackageName] {
        &self.runscripts
    }
    pub fn required(&self) -> &BTreeSet<PackageName> {
        &self.required
    }
    pub fn support(&self) -> &BTreeSet<PackageName> {
        &self.support
    }
    pub fn keep(&self) -> &BTreeSet<PackageName> {
        &self.keep
    }
    pub fn ignore(&self) -> &BTreeSet<IgnoreEntry> {
        &self.ignore
    }
    /// `Substitute: NAME REPLACEMENT...` (per key, the last line wins).
    pub fn substitute(&self) -> &BTreeMap<PackageName, Vec<PackageName>> {
        &self.substitute
    }
    /// `Prefer:` in file order, duplicates dropped.
    pub fn prefer(&self) -> &[PreferEntry] {
        &self.prefer
    }
    pub fn conflict(&self) -> &BTreeSet<ConflictPair> {
        &self.conflict
    }
    pub fn order(&self) -> &BTreeSet<OrderEntry> {
        &self.order
    }
    pub fn expand_flags(&self) -> &BTreeSet<Flag> {
        &self.expand_flags
    }
    pub fn build_flags(&self) -> &BTreeSet<Flag> {
        &self.build_flags
    }
    /// Whether `ExpandFlags:` holds the flag `name` (with or without a value).
    pub fn has_expand_flag(&self, name: &str) -> bool {
        self.expand_flags.iter().any(|f| f.name == name)
    }
    /// `Release:` as written.
    pub fn release(&self) -> Option<&str> {
        self.release.as_deref()
    }
    /// `Release:`, or OBS's default `<CI_CNT>.<B_CNT>`.
    pub fn effective_release(&self) -> &str {
        self.release.as_deref().unwrap_or(DEFAULT_RELEASE)
    }
    /// Macros from `Macros:` blocks: exported to the build (rpm: `.rpmmacros`).
    pub fn macros(&self) -> &BTreeMap<String, MacroDef> {
        &self.macros
    }
    /// `%define`/`%global` values the file set (only used while reading the prjconf).
    pub fn defines(&self) -> &BTreeMap<String, MacroDef> {
        &self.defines
    }
    /// `DEB_BUILD_OPTIONS` for Debian builds: the `%deb_build_options` macro of a Macros: block.
    pub fn deb_build_options(&self) -> Option<&str> {
        self.macro_value("deb_build_options")
    }
    /// `DEB_BUILD_PROFILES` for Debian builds: the `%deb_build_profiles` macro.
    pub fn deb_build_profiles(&self) -> Option<&str> {
        self.macro_value("deb_build_profiles")
    }
    fn macro_value(&self, name: &str) -> Option<&str> {
        self.macros.get(name).map(|d| d.body.trim())
    }
    /// The `Cryo-*` settings with defaults filled in.
    pub fn cryo(&self) -> &CryoSettings {
        &self.cryo
    }
    /// Directives cryo does not interpret, in file order.
    pub fn unknown(&self) -> &[UnknownDirective] {
        &self.unknown
    }
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }
}
