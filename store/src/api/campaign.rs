//! `/api/v1/campaigns...`: persistent, resumable verification campaigns
//! (`docs/campaigns.md`).
//!
//! | route | body | answer |
//! |---|---|---|
//! | `GET /campaigns` | | `Vec<Campaign>` |
//! | `POST /campaigns` | [`CampaignCreate`] | [`Campaign`] |
//! | `GET /campaigns/{name}` | | [`Campaign`] |
//! | `DELETE /campaigns/{name}` | | [`Campaign`] (as it was) |
//! | `GET /campaigns/{name}/results` | | [`CampaignResults`] |
//! | `POST /campaigns/{name}/pause`, `/resume` | | [`Campaign`] |
//! | `POST /campaigns/{name}/update` | [`CampaignUpdate`] | [`UpdateOutcome`] |
//! | `GET /campaigns/{name}/export` | | [`RebuilderdExport`] |

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::resolve::PrjconfText;
use super::verify::ClassKind;
use crate::digest::B3Digest;

/// Which sources a campaign verifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CampaignSources {
    /// These `src:NAME[=VERSION]` requests, and sources to rebuild in the environment a
    /// Debian `.buildinfo` records (one row each, as `cryo verify --buildinfo` does).
    List {
        sources: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        buildinfos: Vec<CampaignBuildinfo>,
    },
    /// Every source package of the snapshot's `Sources` indices (apt's winner per name);
    /// sources whose files the mirror lacks get a `not-in-mirror` row.
    All,
}

/// A `.buildinfo` a campaign row carries: its file name (for messages) and text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignBuildinfo {
    pub name: String,
    pub text: String,
}

/// `POST /api/v1/campaigns` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignCreate {
    pub name: String,
    pub snapshot: String,
    pub prjconf: PrjconfText,
    pub sources: CampaignSources,
    /// Default: the daemon's architecture.
    pub arch: Option<String>,
}

/// `POST /api/v1/campaigns/{name}/update` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignUpdate {
    pub snapshot: String,
}

/// A campaign's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CampaignState {
    /// Sources are pending and the workers take them.
    Running,
    /// Sources may be pending; nothing is started until `resume`.
    Paused,
    /// Every source has a verdict.
    Done,
}

/// A row's class: the verdict of [`ClassKind`], or why there is none yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowClass {
    /// Not verified yet (in this campaign's current snapshot).
    Pending,
    /// The snapshot names the source but the mirror's pool does not hold its files.
    NotInMirror,
    Identical,
    SignatureOnly,
    BuildMetadataOnly,
    MetadataOnly,
    ControlOnly,
    BuildIdOnly,
    Content,
    Inconclusive,
    BuildFailed,
    MissingUpstream,
}

impl From<ClassKind> for RowClass {
    fn from(k: ClassKind) -> Self {
        match k {
            ClassKind::Identical => RowClass::Identical,
            ClassKind::SignatureOnly => RowClass::SignatureOnly,
            ClassKind::BuildMetadataOnly => RowClass::BuildMetadataOnly,
            ClassKind::MetadataOnly => RowClass::MetadataOnly,
            ClassKind::ControlOnly => RowClass::ControlOnly,
            ClassKind::BuildIdOnly => RowClass::BuildIdOnly,
            ClassKind::Content => RowClass::Content,
            ClassKind::Inconclusive => RowClass::Inconclusive,
            ClassKind::BuildFailed => RowClass::BuildFailed,
            ClassKind::MissingUpstream => RowClass::MissingUpstream,
        }
    }
}

impl RowClass {
    /// The name used on the wire and in text output.
    pub fn as_str(&self) -> &'static str {
        match self {
            RowClass::Pending => "pending",
            RowClass::NotInMirror => "not-in-mirror",
            RowClass::Identical => "identical",
            RowClass::SignatureOnly => "signature-only",
            RowClass::BuildMetadataOnly => "build-metadata-only",
            RowClass::MetadataOnly => "metadata-only",
            RowClass::ControlOnly => "control-only",
            RowClass::BuildIdOnly => "build-id-only",
            RowClass::Content => "content",
            RowClass::Inconclusive => "inconclusive",
            RowClass::BuildFailed => "build-failed",
            RowClass::MissingUpstream => "missing-upstream",
        }
    }

    /// rebuilderd's status for this class (`docs/campaigns.md`): identical and
    /// signature-only (an RPM identical but for the vendor's signature) → `GOOD`, differs
    /// (build-metadata-only, metadata-only, control-only, build-id-only, content) → `BAD`,
    /// build-failed → `FAIL`, everything without a verdict → `UNKWN`.
    pub fn rebuilderd_status(&self) -> &'static str {
        match self {
            RowClass::Identical | RowClass::SignatureOnly => "GOOD",
            RowClass::BuildMetadataOnly
            | RowClass::MetadataOnly
            | RowClass::ControlOnly
            | RowClass::BuildIdOnly
            | RowClass::Content => "BAD",
            RowClass::BuildFailed => "FAIL",
            RowClass::Pending
            | RowClass::NotInMirror
            | RowClass::Inconclusive
            | RowClass::MissingUpstream => "UNKWN",
        }
    }
}

/// Counts over a campaign's rows (one row per source × binary).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignCounts {
    /// Source packages in the campaign.
    pub sources: u64,
    /// Sources not verified yet.
    pub pending: u64,
    /// Rows (source × binary; a source without binaries is one row).
    pub rows: u64,
    pub by_class: BTreeMap<RowClass, u64>,
}

/// One line of a campaign's history: the counts when a pass over a snapshot finished
/// (the creation, then one line per `update`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryLine {
    /// Unix seconds when the pass finished.
    pub time: i64,
    pub snapshot: B3Digest,
    /// `create` or `update`.
    pub event: String,
    /// Sources verified in this pass (the others were carried over).
    pub verified: u64,
    pub carried: u64,
    pub counts: CampaignCounts,
    /// Percent of the verdicts (rows not pending and not `not-in-mirror`) per class.
    pub percent: BTreeMap<RowClass, f64>,
    /// Rows whose class changed in this pass.
    #[serde(default)]
    pub changed: Vec<ClassChange>,
}

/// A row whose class changed between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassChange {
    pub source: String,
    pub binary: String,
    pub old_version: String,
    pub new_version: String,
    pub old: RowClass,
    pub new: RowClass,
}

/// A campaign (`GET /api/v1/campaigns/{name}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub name: String,
    /// The snapshot id the rows are (being) verified against.
    pub snapshot: B3Digest,
    /// The prjconf's file name as given, and the BLAKE3 of its text.
    pub prjconf: String,
    pub prjconf_digest: B3Digest,
    pub arch: String,
    pub state: CampaignState,
    pub counts: CampaignCounts,
    /// `all` or `list`.
    pub selection: String,
    pub created: i64,
    /// Unix seconds of the last change of a row or of the state.
    pub updated: i64,
    /// Counts and percentages per suite and architecture (now).
    pub per_suite: Vec<SuiteSummary>,
    /// One line per finished pass, oldest first.
    pub history: Vec<HistoryLine>,
}

/// Counts of one suite × architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteSummary {
    pub suite: String,
    pub arch: String,
    pub counts: CampaignCounts,
    pub percent: BTreeMap<RowClass, f64>,
}

/// One row of a campaign: a source × one of its binaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignRow {
    /// The source package (or the request, before it was resolved).
    pub source: String,
    pub version: String,
    /// The binary package; empty when the source has none to show (not verified yet,
    /// not in the mirror, failed before building).
    pub binary: String,
    pub arch: String,
    /// The suite whose `Sources` index named the source ("" until known).
    pub suite: String,
    pub class: RowClass,
    /// The verification report of this source (`cryo report show ID`).
    pub report: Option<B3Digest>,
    /// Unix seconds of the verification.
    pub time: Option<i64>,
    pub derivation: Option<B3Digest>,
    /// Why there is no verdict (not in mirror, resolution or build failures), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The snapshot the verdict was reached on (an older one for a carried-over row).
    pub verified_on: Option<B3Digest>,
    /// The `.buildinfo` whose environment the row was rebuilt in (its file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buildinfo: Option<String>,
}

/// `GET /api/v1/campaigns/{name}/results`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignResults {
    pub campaign: Campaign,
    pub rows: Vec<CampaignRow>,
}

/// What `POST /api/v1/campaigns/{name}/update` answers (the classes that changed are in
/// the history line written when the re-verification finishes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateOutcome {
    pub campaign: Campaign,
    pub from: B3Digest,
    pub to: B3Digest,
    /// Sources whose build inputs changed: re-verified.
    pub reverify: Vec<String>,
    /// Sources carried over with their old report.
    pub carried: u64,
}

/// rebuilderd-style export (`GET /api/v1/campaigns/{name}/export`): the shape of
/// rebuilderd's package list, so its dashboards can read it (`docs/campaigns.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RebuilderdExport {
    pub campaign: String,
    pub snapshot: B3Digest,
    /// rebuilderd status → count.
    pub stats: BTreeMap<String, u64>,
    pub packages: Vec<RebuilderdPackage>,
}

/// One package in rebuilderd's list format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RebuilderdPackage {
    pub name: String,
    pub version: String,
    /// `GOOD`, `BAD`, `FAIL` or `UNKWN`.
    pub status: String,
    pub distro: String,
    pub suite: String,
    pub architecture: String,
    /// The source package.
    pub base: String,
    /// RFC 3339 time of the verification.
    pub built_at: Option<String>,
    /// cryo's class and report id (not rebuilderd fields; dashboards ignore them).
    pub class: RowClass,
    pub report: Option<B3Digest>,
}
