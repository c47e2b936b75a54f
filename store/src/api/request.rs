//! Submit requests (OBS's): `POST /api/v1/requests` ([`SubmitRequest`] → [`Request`]),
//! `GET /api/v1/requests[?project=P&state=S]` (`[Request]`), `GET /api/v1/requests/{id}`
//! ([`RequestShow`]) and `POST /api/v1/requests/{id}/{accept|decline|revoke|review}`
//! ([`RequestAction`] → [`Request`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::project::{JobState, Revision};
use crate::digest::B3Digest;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestState {
    /// Waiting for the target's maintainers.
    New,
    /// Reviews open.
    Review,
    Accepted,
    Declined,
    Revoked,
    /// A newer submit of the same package from the same project to the same target
    /// replaced it.
    Superseded,
}

impl RequestState {
    /// `new`, `review`, `accepted`, `declined`, `revoked` or `superseded`.
    pub fn parse(s: &str) -> Option<RequestState> {
        [
            RequestState::New,
            RequestState::Review,
            RequestState::Accepted,
            RequestState::Declined,
            RequestState::Revoked,
            RequestState::Superseded,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
    pub fn is_open(self) -> bool {
        matches!(self, RequestState::New | RequestState::Review)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::New => "new",
            RequestState::Review => "review",
            RequestState::Accepted => "accepted",
            RequestState::Declined => "declined",
            RequestState::Revoked => "revoked",
            RequestState::Superseded => "superseded",
        }
    }
}

impl fmt::Display for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Where one review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewState {
    New,
    Accepted,
    Declined,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::New => "new",
            ReviewState::Accepted => "accepted",
            ReviewState::Declined => "declined",
        }
    }
}

impl fmt::Display for ReviewState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One review of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// A user name or `@group` (holders of the target's `reviewer` role).
    pub reviewer: String,
    pub state: ReviewState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default)]
    pub message: String,
}

/// One event in a request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub time: i64,
    pub who: String,
    pub what: String,
    #[serde(default)]
    pub message: String,
}

/// A submit request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    pub source_project: String,
    pub package: String,
    /// The exact revision submitted.
    pub revision: Revision,
    pub target_project: String,
    pub message: String,
    pub creator: String,
    pub created: i64,
    pub state: RequestState,
    pub reviews: Vec<Review>,
    pub history: Vec<HistoryEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<u64>,
    /// The target package's revision created by accepting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_revision: Option<u32>,
    /// Verification reports attached, by `source-derivation:target-derivation`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reports: BTreeMap<String, B3Digest>,
}

/// `POST /api/v1/requests` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitRequest {
    pub source_project: String,
    pub package: String,
    pub target_project: String,
    #[serde(default)]
    pub message: String,
}

/// `POST /api/v1/requests/{id}/{action}` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestAction {
    #[serde(default)]
    pub message: String,
    /// For `review`: accept (true) or decline.
    #[serde(default)]
    pub accept: Option<bool>,
}

/// How the target's build of an accepted request relates to the source project's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Same derivation: the target reused the source's build (cache hit).
    IdenticalDerivation,
    /// Different derivations, bit-for-bit identical `.deb`s.
    IdenticalBinaries,
    /// The builds differ (see the report).
    Differs,
    /// A build is not done yet.
    Pending,
    /// The source project has no build for the architecture.
    Missing,
    /// A project has moved on to another revision.
    Outdated,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::IdenticalDerivation => "identical-derivation",
            Verdict::IdenticalBinaries => "identical-binaries",
            Verdict::Differs => "differs",
            Verdict::Pending => "pending",
            Verdict::Missing => "missing",
            Verdict::Outdated => "outdated",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The source side of a comparison: a row's state, or `missing` (`None`).
mod state_or_missing {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::JobState;

    pub fn serialize<S: Serializer>(v: &Option<JobState>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(state) => state.serialize(s),
            None => s.serialize_str("missing"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<JobState>, D::Error> {
        let s = String::deserialize(d)?;
        if s == "missing" {
            return Ok(None);
        }
        JobState::deserialize(serde::de::value::StrDeserializer::<D::Error>::new(&s)).map(Some)
    }
}

/// One row of a request's comparison (`GET /api/v1/requests/{id}`, once accepted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub repository: String,
    pub arch: String,
    /// The source project's row state; `"missing"` (`None`) when it has none.
    #[serde(with = "state_or_missing")]
    pub source_state: Option<JobState>,
    pub target_state: JobState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_derivation: Option<B3Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_derivation: Option<B3Digest>,
    pub verdict: Verdict,
    pub explanation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<B3Digest>,
}

/// `GET /api/v1/requests/{id}`: the request and, once accepted, the comparison of the
/// target's builds with the source project's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestShow {
    #[serde(flatten)]
    pub request: Request,
    pub comparison: Vec<Comparison>,
}
