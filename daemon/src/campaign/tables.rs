//! The campaign tables: `campaigns` (name → [`CampaignRecord`]) and `campaign_rows`
//! (`campaign\0request` → [`SourceRow`]). A row in state `pending` *is* the queue entry:
//! a daemon killed at any moment restarts with every unfinished source still pending.

use serde::{Deserialize, Serialize};

use cryo_store::api::{CampaignState, HistoryLine, PrjconfText, RowClass};
use cryo_store::B3Digest;

use crate::table::JsonTable;

pub(super) const CAMPAIGNS: JsonTable<&str, CampaignRecord> = JsonTable::new("campaigns");
pub(super) const ROWS: JsonTable<&str, SourceRow> = JsonTable::new("campaign_rows");

/// The key of a source row.
pub(super) fn row_key(campaign: &str, request: &str) -> String {
    format!("{campaign}\0{request}")
}

/// The prefix of a campaign's rows.
pub(super) fn rows_prefix(campaign: &str) -> String {
    format!("{campaign}\0")
}

/// A campaign as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CampaignRecord {
    pub name: String,
    pub snapshot: B3Digest,
    pub prjconf: PrjconfText,
    pub prjconf_digest: B3Digest,
    pub arch: String,
    pub state: CampaignState,
    /// `all` or `list`.
    pub selection: String,
    pub created: i64,
    pub updated: i64,
    /// Bumped by every `update`: a worker's result for an older epoch is dropped.
    pub epoch: u64,
    /// Sources still pending in this epoch (kept with the rows, in the same transaction).
    pub pending: u64,
    /// The pass in progress: `create` or `update`, and how many sources it carried over.
    pub pass: String,
    pub carried: u64,
    pub history: Vec<HistoryLine>,
}

/// Whether a source still waits for a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowState {
    Pending,
    Done,
}

/// One binary's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryVerdict {
    pub binary: String,
    pub version: String,
    pub arch: String,
    pub class: RowClass,
    /// The official `.deb`'s SHA256 the verdict was reached against (carry-over check).
    pub official_sha256: Option<String>,
}

/// A source's verdicts before an update re-verified it (to list what changed class).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Previous {
    pub version: String,
    pub class: RowClass,
    pub binaries: Vec<BinaryVerdict>,
}

/// One source of a campaign.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceRow {
    pub campaign: String,
    /// `src:NAME[=VERSION]`.
    pub request: String,
    pub state: RowState,
    /// The epoch the row was last scheduled or verified in.
    pub epoch: u64,
    /// The source name (from the request until resolved) and version ("" until known).
    pub source: String,
    pub version: String,
    /// The suite of the archive whose `Sources` stanza was chosen ("" until known).
    #[serde(default)]
    pub suite: String,
    /// The source's own class: its binaries' worst class, or why it has none.
    pub class: RowClass,
    pub binaries: Vec<BinaryVerdict>,
    pub derivation: Option<B3Digest>,
    /// BLAKE3 of the derivation with its `snapshot` field cleared: what the build
    /// consumes (`docs/campaigns.md`, "update").
    pub build_key: Option<B3Digest>,
    pub report: Option<B3Digest>,
    pub time: Option<i64>,
    pub verified_on: Option<B3Digest>,
    pub note: Option<String>,
    pub previous: Option<Previous>,
    /// The `.buildinfo` this row is rebuilt with (`cryo verify --buildinfo`'s procedure).
    #[serde(default)]
    pub buildinfo: Option<cryo_store::api::CampaignBuildinfo>,
}

impl SourceRow {
    pub fn pending(campaign: &str, request: &str, epoch: u64) -> SourceRow {
        let source = request
            .trim_start_matches("src:")
            .split('=')
            .next()
            .unwrap_or(request)
            .to_string();
        SourceRow {
            campaign: campaign.to_string(),
            request: request.to_string(),
            state: RowState::Pending,
            epoch,
            source,
            version: String::new(),
            suite: String::new(),
            class: RowClass::Pending,
            binaries: Vec::new(),
            derivation: None,
            build_key: None,
            report: None,
            time: None,
            verified_on: None,
            note: None,
            previous: None,
            buildinfo: None,
        }
    }
}
