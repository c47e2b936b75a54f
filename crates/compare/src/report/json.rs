//! JSON rendering (schema version 1): the [`Report`] itself plus its computed `summary`.

use serde::Serialize;

use super::{Report, Summary};

#[derive(Serialize)]
struct Document<'r> {
    #[serde(flatten)]
    report: &'r Report,
    summary: Summary,
}

/// Pretty-printed JSON of `report` with a `summary` object. `Report` deserialises from it
/// (the `summary` field is ignored on input and recomputed on demand).
pub fn render_json(report: &Report) -> String {
    let doc = Document {
        report,
        summary: report.summary(),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| {
        // Unreachable with these types (all map keys are strings); keep the output valid JSON.
        serde_json::json!({ "schema_version": report.schema_version, "error": e.to_string() })
            .to_string()
    })
}
