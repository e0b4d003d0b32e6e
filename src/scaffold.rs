//! `stetho new`: a new rule with everything the healthcare profile asks
//! for, so an engineer starts from a file that explains itself.
//!
//! The rule gets a fresh UUID, today's dates, the `healthcare:` block with
//! every allowed value listed in a comment next to its key (read from the
//! embedded JSON Schema, so the comments never go stale), the field names of
//! the chosen log source, and a `tests:` list pointing at a true-positive and
//! a near-miss fixture created next to it with the right header.

use std::fmt::Write as _;

use serde_json::Value;

use crate::model::LogSource;

/// What the scaffold is for.
#[derive(Clone, Debug)]
pub struct Spec {
    pub title: String,
    pub logsource: LogSource,
    /// Folder under `detections/` and `test-events/` (e.g. `ransomware`).
    pub area: String,
    pub today: time::Date,
    /// The fixture shape, e.g. `defender_xdr.DeviceProcessEvents` or `sigma`.
    pub schema: String,
    /// `stetho` when the fixture is a pipeline table (native columns).
    pub taxonomy: Option<String>,
    /// Field names to offer, in the rule's taxonomy.
    pub fields: Vec<String>,
    /// The event-time column of the fixture's table.
    pub timestamp: String,
    /// Columns every event of the table's source carries (ActionType).
    pub constants: Vec<(String, String)>,
}

/// The field the example selection and events use: a command line or
/// path when the source has one, else its first field that is not a time.
fn example_field(fields: &[String]) -> &str {
    ["ProcessCommandLine", "CommandLine", "FolderPath", "Image"]
        .iter()
        .find(|f| fields.iter().any(|have| have == *f))
        .copied()
        .or_else(|| {
            fields
                .iter()
                .map(String::as_str)
                .find(|f| !f.contains("Time") && !f.contains("time"))
        })
        .unwrap_or("Field")
}

/// A file name from a title: lower case words joined by underscores.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for word in title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    if out.is_empty() {
        out.push_str("new_rule");
    }
    out
}

/// The allowed values of a property of the healthcare schema, for a
/// comment (`"none | low | ..."`).
fn choices(path: &[&str]) -> String {
    let schema: Value = crate::catalogue::embedded("healthcare.schema.json")
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    let mut node = &schema["properties"];
    for (i, key) in path.iter().enumerate() {
        node = &node[*key];
        if i + 1 < path.len() {
            node = &node["properties"];
        }
    }
    let values = node["enum"]
        .as_array()
        .or_else(|| node["items"]["enum"].as_array());
    values
        .map(|v| {
            v.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .unwrap_or_default()
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The rule file's text.
pub fn rule(spec: &Spec, id: &str) -> String {
    let date = spec.today.to_string();
    let next = spec
        .today
        .checked_add(time::Duration::days(182))
        .unwrap_or(spec.today)
        .to_string();
    let slug = slug(&spec.title);
    let ls = &spec.logsource;
    let mut out = String::new();
    let _ = writeln!(out, "title: {}", quote(&spec.title));
    let _ = writeln!(out, "id: {id}");
    out.push_str("status: experimental\n");
    out.push_str("description: |\n    What the rule detects and why it matters to patient care; which variants\n    it covers (case, paths, quoting, flags, renamed binaries) and which it does not.\n");
    out.push_str("references:\n    - https://attack.mitre.org/techniques/T0000/   # replace\n");
    out.push_str("author: Trust SOC detection engineering\n");
    let _ = writeln!(out, "date: '{date}'\nmodified: '{date}'");
    out.push_str("tags:\n    - attack.execution   # attack.<tactic>, then attack.tNNNN\n    - attack.t1059\n");
    if let Some(t) = &spec.taxonomy {
        let _ = writeln!(out, "taxonomy: {t}");
    }
    out.push_str("logsource:\n");
    for (key, value) in [
        ("product", &ls.product),
        ("category", &ls.category),
        ("service", &ls.service),
    ] {
        if let Some(v) = value {
            let _ = writeln!(out, "    {key}: {v}");
        }
    }
    out.push_str("detection:\n");
    if !spec.fields.is_empty() {
        out.push_str("    # fields of this log source:\n");
        for chunk in spec.fields.chunks(6) {
            let _ = writeln!(out, "    #   {}", chunk.join(", "));
        }
    }
    let field = example_field(&spec.fields);
    let _ = writeln!(
        out,
        "    selection:\n        {field}|contains: 'replace me'\n    condition: selection"
    );
    out.push_str(
        "falsepositives:\n    - What benign activity comes close, and how to tell it apart.\n",
    );
    out.push_str("level: medium   # informational | low | medium | high | critical\n");
    out.push_str("healthcare:\n    schema: 1\n");
    let _ = writeln!(
        out,
        "    clinical_impact: moderate   # {}",
        choices(&["clinical_impact"])
    );
    out.push_str("    clinical_impact_rationale: >-\n        Why this impact: which clinical service degrades, and how fast.\n");
    let _ = writeln!(
        out,
        "    affected_services:   # {}\n        - corporate",
        choices(&["affected_services"])
    );
    let _ = writeln!(
        out,
        "    asset_classes:   # {}\n        - clinical_workstation",
        choices(&["asset_classes"])
    );
    let _ = writeln!(
        out,
        "    data_categories:   # {}\n        - none",
        choices(&["data_categories"])
    );
    out.push_str(
        "    caf:\n        version: '3.2'   # 3.2 | 4.0\n        outcomes:\n            - C1.c\n",
    );
    let _ = writeln!(
        out,
        "    attack:\n        version: '{}'\n        techniques:\n            - T1059   # replace; or [] with attack_exempt_reason",
        crate::catalogue::attack().version
    );
    let _ = writeln!(
        out,
        "    response:\n        playbook: playbooks/{slug}.md\n        escalation:   # {}\n            - local_soc\n        notify:   # {}\n            - siro\n        containment: manual_only   # {}",
        choices(&["response", "escalation"]),
        choices(&["response", "notify"]),
        choices(&["response", "containment"])
    );
    out.push_str("    owner:\n        team: trust-soc-detection-engineering\n        contact: soc-detections@trust.example\n");
    let _ = writeln!(
        out,
        "    review:\n        last_reviewed: '{date}'\n        next_review: '{next}'"
    );
    let _ = writeln!(
        out,
        "tests:\n    - fixture: {area}/{slug}_tp.ndjson\n      expect: match\n      description: the attack and its variants\n    - fixture: {area}/{slug}_near_miss.ndjson\n      expect: no-match\n      description: benign activity that satisfies part of the rule",
        area = spec.area
    );
    out
}

/// A fixture: the header line, then one event with the fields the rule
/// tests, for the engineer to fill in.
pub fn fixture(spec: &Spec, positive: bool) -> String {
    let mut header = serde_json::Map::new();
    header.insert("schema".into(), Value::String(spec.schema.clone()));
    let mut ls = serde_json::Map::new();
    for (key, value) in [
        ("product", &spec.logsource.product),
        ("category", &spec.logsource.category),
        ("service", &spec.logsource.service),
    ] {
        if let Some(v) = value {
            ls.insert(key.into(), Value::String(v.clone()));
        }
    }
    header.insert("logsource".into(), Value::Object(ls));
    header.insert(
        "description".into(),
        Value::String(if positive {
            "The attack and each variant an analyst expects to be caught (replace the example event)".into()
        } else {
            "Benign activity that satisfies part of the rule and must not fire (replace the example event)".into()
        }),
    );
    let mut event = serde_json::Map::new();
    event.insert(
        spec.timestamp.clone(),
        Value::String(format!("{}T09:00:00.000Z", spec.today)),
    );
    for (column, value) in &spec.constants {
        event.insert(column.clone(), Value::String(value.clone()));
    }
    event.insert(
        example_field(&spec.fields).to_string(),
        Value::String(if positive { "replace me" } else { "benign" }.into()),
    );
    format!(
        "{}\n{}\n",
        serde_json::json!({ crate::fixture::HEADER_KEY: header }),
        Value::Object(event)
    )
}

/// A playbook stub in the style of the shipped ones.
pub fn playbook(spec: &Spec) -> String {
    format!(
        "# Playbook: {}\n\nUsed by: `detections/{}/{}.yml`.\n\n## Triage\n\n1. Confirm the activity on the host or account named in the alert.\n\n## Containment\n\nFollow the rule's `containment` policy; clinical assets need clinical approval.\n\n## Escalation\n\nLocal SOC first; CSOC and the clinical safety officer as the rule's response block says.\n",
        spec.title,
        spec.area,
        slug(&spec.title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_choices() {
        assert_eq!(slug("Rclone Bulk Sync -> Cloud!"), "rclone_bulk_sync_cloud");
        assert!(choices(&["clinical_impact"]).contains("severe"));
        assert!(choices(&["response", "containment"]).contains("manual_only"));
    }
}
