//! The canonical serialisation of a parsed prjconf and its BLAKE3 hash, which cryo uses as a
//! derivation input. It is JSON (serde_json, compact) over sorted maps and sets, so it does not
//! depend on comments, whitespace, key case, line numbers, or the order of entries whose order
//! OBS ignores; it holds every value that changes what a build does, with OBS's defaults
//! resolved, and a format tag so that a future change of the encoding changes every hash.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::config::Prjconf;
use crate::cryo::CryoSettings;
use crate::macros::MacroDef;
use crate::model::{
    ConflictPair, Flag, IgnoreEntry, OrderEntry, PackageName, PreferEntry, UnknownDirective,
};

/// Bump when the encoding changes: it is part of every hash.
pub const NORMALIZED_FORMAT: &str = "cryo-prjconf-normalized/1";

/// Field order is fixed by this struct; every collection is sorted or order-significant.
#[derive(Serialize)]
struct Normalized<'a> {
    format: &'static str,
    arch: &'a str,
    repotype: &'a [String],
    build_type: Option<&'a str>,
    binary_type: Option<&'a str>,
    release: &'a str,
    preinstall: &'a BTreeSet<PackageName>,
    vminstall: &'a BTreeSet<PackageName>,
    /// Order-significant.
    runscripts: &'a [PackageName],
    required: &'a BTreeSet<PackageName>,
    support: &'a BTreeSet<PackageName>,
    keep: &'a BTreeSet<PackageName>,
    ignore: &'a BTreeSet<IgnoreEntry>,
    substitute: &'a BTreeMap<PackageName, Vec<PackageName>>,
    /// Order-significant: the first matching preference wins.
    prefer: &'a [PreferEntry],
    conflict: &'a BTreeSet<ConflictPair>,
    order: &'a BTreeSet<OrderEntry>,
    expand_flags: &'a BTreeSet<Flag>,
    build_flags: &'a BTreeSet<Flag>,
    macros: &'a BTreeMap<String, MacroDef>,
    defines: &'a BTreeMap<String, MacroDef>,
    cryo: &'a CryoSettings,
    /// Kept in file order without line numbers: cryo does not know whether their order matters.
    unknown: &'a [UnknownDirective],
}

impl Prjconf {
    /// The canonical JSON form (see the module doc).
    pub fn normalized(&self) -> String {
        let n = Normalized {
            format: NORMALIZED_FORMAT,
            arch: &self.arch_rpm,
            repotype: &self.repotype,
            build_type: self.effective_build_type(),
            binary_type: self.effective_binary_type(),
            release: self.effective_release(),
            preinstall: &self.preinstall,
            vminstall: &self.vminstall,
            runscripts: &self.runscripts,
            required: &self.required,
            support: &self.support,
            keep: &self.keep,
            ignore: &self.ignore,
            substitute: &self.substitute,
            prefer: &self.prefer,
            conflict: &self.conflict,
            order: &self.order,
            expand_flags: &self.expand_flags,
            build_flags: &self.build_flags,
            macros: &self.macros,
            defines: &self.defines,
            cryo: &self.cryo,
            unknown: &self.unknown,
        };
        // Serialising plain strings, integers, sequences and string-keyed maps cannot fail.
        serde_json::to_string(&n).unwrap_or_default()
    }

    /// BLAKE3 of `normalized()`, lower-case hex.
    pub fn normalized_hash(&self) -> String {
        blake3::hash(self.normalized().as_bytes())
            .to_hex()
            .to_string()
    }
}
