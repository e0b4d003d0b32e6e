//! Deployable rules: Defender XDR custom detections and Sentinel scheduled
//! analytics rules, around the KQL the [`kql`](super::kql) backend compiled.
//!
//! The rule's metadata decides the alert: severity from the Sigma level,
//! raised to high when the healthcare block says the clinical impact is
//! severe or critical (a SOC must not triage a ransomware precursor on an
//! ICU workstation as "medium"); category and tactics from the ATT&CK tags;
//! recommended actions from the healthcare response block, so the analyst
//! who gets the alert sees the playbook and the containment policy.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::CompileError;
use super::kusto::{self, ColumnType};
use crate::logic::{Body, RuleLogic};
use crate::model::Rule;
use crate::source::yaml::Node;

/// Sentinel's longest lookback for a scheduled rule: 14 days.
pub const MAX_PERIOD_HOURS: u32 = 14 * 24;

/// How often deployed rules run and over how much data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Defender XDR accepts 1, 3, 12 or 24 hours.
    pub hours: u32,
    /// How far back a Sentinel rule looks, when the rule sets it
    /// (`schedule.period`); otherwise its frequency (see [`query_period`]).
    /// Defender XDR sets the lookback of a frequency itself.
    pub period_hours: Option<u32>,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule {
            hours: 1,
            period_hours: None,
        }
    }
}

impl Schedule {
    /// Check a frequency against what Defender XDR accepts.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let hours = text
            .trim()
            .trim_end_matches(['h', 'H'])
            .parse::<u32>()
            .map_err(|_| format!("frequency `{text}`: expected 1h, 3h, 12h or 24h"))?;
        if ![1, 3, 12, 24].contains(&hours) {
            return Err(format!(
                "frequency `{text}`: Defender XDR runs custom detections every 1h, 3h, 12h or 24h"
            ));
        }
        Ok(Schedule {
            hours,
            period_hours: None,
        })
    }

    /// The schedule of one rule: its own `schedule:` block (`frequency`,
    /// `period`) over `self`, the project's default. A rule knows best how
    /// often it must run; the flag and `stetho.toml` set the rest.
    pub fn of_rule(self, model: Option<&Rule>) -> Result<Schedule, String> {
        let Some(block) = model.and_then(|m| m.root.get("schedule")) else {
            return Ok(self);
        };
        let text = |key: &str| block.get(key).and_then(Node::as_str);
        let mut schedule = match text("frequency") {
            Some(frequency) => Schedule::parse(frequency).map_err(|e| format!("schedule.{e}"))?,
            None => self,
        };
        if let Some(period) = text("period") {
            let hours = parse_period(period)?;
            if hours < schedule.hours {
                return Err(format!(
                    "schedule.period `{period}` is shorter than the frequency ({}h): events between two runs would never be queried",
                    schedule.hours
                ));
            }
            schedule.period_hours = Some(hours);
        }
        Ok(schedule)
    }
}

/// A lookback such as `6h` or `2d`, in hours, at most Sentinel's 14 days.
fn parse_period(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.len().saturating_sub(1));
    let hours = match (number.parse::<u32>(), unit) {
        (Ok(n), "h" | "H") => Some(n),
        (Ok(n), "d" | "D") => n.checked_mul(24),
        _ => None,
    };
    match hours {
        Some(h) if (1..=MAX_PERIOD_HOURS).contains(&h) => Ok(h),
        Some(_) => Err(format!(
            "schedule.period `{text}`: Sentinel looks back from 1 hour to 14 days"
        )),
        None => Err(format!(
            "schedule.period `{text}`: expected hours or days, such as 6h or 2d"
        )),
    }
}

/// What the alert says, gathered from the rule document.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    pub id: String,
    pub title: String,
    pub description: String,
    pub level: String,
    /// ATT&CK tactics as display names without spaces (`DefenseEvasion`).
    pub tactics: Vec<String>,
    /// `T1490`, `T1059.001`.
    pub techniques: Vec<String>,
    pub clinical_impact: Option<String>,
    pub recommended_actions: Option<String>,
    pub falsepositives: Vec<String>,
}

impl Meta {
    pub fn of(rule: &RuleLogic, model: Option<&Rule>) -> Meta {
        let root = model.map(|m| &m.root);
        let text = |path: &[&str]| -> Option<String> {
            root.and_then(|r| r.get_path(path))
                .and_then(Node::as_str)
                .map(str::to_string)
        };
        let list = |path: &[&str]| -> Vec<String> {
            root.and_then(|r| r.get_path(path))
                .map(|n| {
                    n.string_list()
                        .into_iter()
                        .map(|(t, _)| t.to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        let tags = list(&["tags"]);
        let attack = crate::catalogue::attack();
        let mut tactics = Vec::new();
        let mut techniques = Vec::new();
        for tag in &tags {
            let Some(name) = tag.strip_prefix("attack.") else {
                continue;
            };
            let upper = name.to_ascii_uppercase();
            if attack.techniques.contains_key(&upper) {
                techniques.push(upper);
            } else if attack.tactics.contains(name) {
                tactics.push(
                    name.split('-')
                        .map(|w| {
                            let mut c = w.chars();
                            c.next()
                                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                                .unwrap_or_default()
                        })
                        .collect::<String>(),
                );
            }
        }
        for t in list(&["healthcare", "attack", "techniques"]) {
            let upper = t.to_ascii_uppercase();
            if !techniques.contains(&upper) {
                techniques.push(upper);
            }
        }
        techniques.sort();
        techniques.dedup();
        tactics.sort();
        tactics.dedup();
        let mut actions = Vec::new();
        if let Some(playbook) = text(&["healthcare", "response", "playbook"]) {
            actions.push(format!("Follow the playbook {playbook}."));
        }
        if let Some(containment) = text(&["healthcare", "response", "containment"]) {
            actions.push(format!("Containment: {}.", containment.replace('_', " ")));
        }
        let escalation = list(&["healthcare", "response", "escalation"]);
        if !escalation.is_empty() {
            actions.push(format!(
                "Escalate to: {}.",
                escalation.join(", ").replace('_', " ")
            ));
        }
        let notify = list(&["healthcare", "response", "notify"]);
        if !notify.is_empty() {
            actions.push(format!("Notify: {}.", notify.join(", ").replace('_', " ")));
        }
        Meta {
            id: rule.key().to_string(),
            title: rule.title.clone(),
            description: text(&["description"])
                .unwrap_or_default()
                .trim()
                .to_string(),
            level: rule.level.clone().unwrap_or_else(|| "medium".into()),
            tactics,
            techniques,
            clinical_impact: text(&["healthcare", "clinical_impact"]),
            recommended_actions: (!actions.is_empty()).then(|| actions.join(" ")),
            falsepositives: list(&["falsepositives"]),
        }
    }

    /// Alert severity: the Sigma level, raised to high for severe or
    /// critical clinical impact.
    pub fn severity(&self) -> &'static str {
        let clinical = matches!(self.clinical_impact.as_deref(), Some("severe" | "critical"));
        match self.level.as_str() {
            _ if clinical => "high",
            "informational" => "informational",
            "low" => "low",
            "high" | "critical" => "high",
            _ => "medium",
        }
    }
}

/// The table a compiled rule reads (for a correlation: its first rule's,
/// through the correlations it counts).
fn table_of<'a>(
    rules: &'a [RuleLogic],
    index: usize,
    pipeline: &'a crate::pipeline::Pipeline,
) -> Option<&'a str> {
    let rule = &rules[index];
    match &rule.body {
        // Chosen as the compiler chooses (by EventID where the log source
        // is split by event id).
        Body::Detection(expr) => pipeline
            .source_for_logic(&rule.logsource, expr)
            .ok()
            .map(|s| s.table.as_str()),
        Body::Correlation(c) => table_of(rules, *c.rules.first()?, pipeline),
    }
}

/// A Defender XDR custom detection rule, as the Microsoft Graph security
/// API (`POST /security/rules/detectionRules`) takes it.
///
/// Pre-flight: Defender runs a custom detection only when its results hold
/// `Timestamp`, `ReportId` and a column naming the impacted asset, so rules
/// whose table lacks them (or correlations, whose results are summaries)
/// are refused here rather than failing at import.
pub fn defender(
    rules: &[RuleLogic],
    index: usize,
    meta: &Meta,
    query: &str,
    pipeline: &crate::pipeline::Pipeline,
    schedule: Schedule,
) -> Result<Value, CompileError> {
    let rule = &rules[index];
    if matches!(rule.body, Body::Correlation(_)) {
        return Err(CompileError::not_applicable(
            rule,
            "a correlation's results are summaries without Timestamp and ReportId: deploy it to Sentinel, or as a hunting query",
        ));
    }
    let table = table_of(rules, index, pipeline).unwrap_or_default();
    let has = |column: &str| kusto::column_type(&pipeline.name, table, column).is_some();
    for required in ["Timestamp", "ReportId"] {
        if !has(required) {
            return Err(CompileError::new(
                rule,
                format!(
                    "table `{table}` has no `{required}` column, which Defender XDR custom detections require"
                ),
            ));
        }
    }
    let mut assets = Vec::new();
    for (column, kind, identifier) in [
        ("DeviceId", "impactedDeviceAsset", "deviceId"),
        ("AccountObjectId", "impactedUserAsset", "accountObjectId"),
        ("AccountSid", "impactedUserAsset", "accountSid"),
        ("AccountUpn", "impactedUserAsset", "accountUpn"),
        (
            "RecipientObjectId",
            "impactedMailboxAsset",
            "recipientEmailAddress",
        ),
    ] {
        let user_taken = kind == "impactedUserAsset"
            && assets
                .iter()
                .any(|a: &Value| a["@odata.type"] == "#microsoft.graph.security.impactedUserAsset");
        if has(column) && !user_taken && kind != "impactedMailboxAsset" {
            assets.push(json!({
                "@odata.type": format!("#microsoft.graph.security.{kind}"),
                "identifier": identifier,
            }));
        }
    }
    if assets.is_empty() {
        return Err(CompileError::new(
            rule,
            format!("table `{table}` has no device or account column to name the impacted asset"),
        ));
    }
    let category = meta
        .tactics
        .first()
        .cloned()
        .unwrap_or_else(|| "SuspiciousActivity".into());
    Ok(json!({
        "displayName": meta.title,
        "isEnabled": true,
        "queryCondition": { "queryText": query },
        "schedule": { "period": format!("{}H", schedule.hours) },
        "detectionAction": {
            "alertTemplate": {
                "title": meta.title,
                "description": alert_description(meta),
                "severity": meta.severity(),
                "category": category,
                "recommendedActions": meta.recommended_actions,
                "mitreTechniques": meta.techniques,
                "impactedAssets": assets,
            },
            "organizationalScope": null,
            "responseActions": [],
        },
    }))
}

fn alert_description(meta: &Meta) -> String {
    let mut text = meta.description.clone();
    if let Some(impact) = &meta.clinical_impact {
        let _ = write!(text, "\n\nClinical impact: {impact}.");
    }
    if !meta.falsepositives.is_empty() {
        let _ = write!(
            text,
            "\n\nKnown false positives: {}",
            meta.falsepositives.join(" ")
        );
    }
    let _ = write!(text, "\n\nstetho rule {}", meta.id);
    text
}

/// Sentinel entity mappings from the columns a query returns, each given
/// as (result column, table columns it holds): for each entity, the result
/// column whose table columns all sit in the entity's preference list under
/// one identifier, the most preferred first.
fn entity_mappings(columns: &[(String, Vec<String>)]) -> Vec<Value> {
    let candidates: &[(&str, &[(&str, &str)])] = &[
        (
            "Host",
            &[
                ("DeviceName", "FullName"),
                ("Computer", "FullName"),
                ("device_workstation", "HostName"),
                ("device_hostname", "HostName"),
            ],
        ),
        (
            "Account",
            &[
                ("UserPrincipalName", "FullName"),
                ("AccountUpn", "FullName"),
                ("InitiatingProcessAccountUpn", "FullName"),
                ("AccountName", "Name"),
                ("user_id", "Name"),
                ("user_name", "Name"),
            ],
        ),
        (
            "IP",
            &[
                ("IPAddress", "Address"),
                ("RemoteIP", "Address"),
                ("src_ip", "Address"),
                ("net_src_ip", "Address"),
            ],
        ),
        ("File", &[("FileName", "Name")]),
    ];
    let mut out = Vec::new();
    for (entity, options) in candidates {
        // (preference rank, result column, identifier) of each usable column.
        let usable = columns.iter().filter_map(|(column, sources)| {
            let ranked: Vec<(usize, &str)> = sources
                .iter()
                .map(|s| {
                    options
                        .iter()
                        .position(|(c, _)| c == s)
                        .map(|p| (p, options[p].1))
                })
                .collect::<Option<_>>()?;
            let identifier = ranked.first()?.1;
            ranked
                .iter()
                .all(|(_, id)| *id == identifier)
                .then(|| (ranked.iter().map(|(p, _)| *p).min(), column, identifier))
        });
        if let Some((_, column, identifier)) = usable.min_by_key(|(rank, _, _)| *rank) {
            out.push(json!({
                "entityType": entity,
                "fieldMappings": [{ "identifier": identifier, "columnName": column }],
            }));
        }
    }
    out
}

/// The columns a query returns, each with the table columns it holds: the
/// table's own, or for a correlation its group-by fields (see
/// [`kql::group_columns`]).
fn result_columns(
    rules: &[RuleLogic],
    index: usize,
    pipeline: &crate::pipeline::Pipeline,
) -> Vec<(String, Vec<String>)> {
    match &rules[index].body {
        Body::Correlation(_) => crate::backend::kql::group_columns(rules, index, pipeline),
        Body::Detection(_) => {
            let table = table_of(rules, index, pipeline).unwrap_or_default();
            kusto::table(&pipeline.name, table)
                .map(|t| {
                    t.columns
                        .iter()
                        .filter(|c| c.family() != ColumnType::Dynamic)
                        .map(|c| (c.name.clone(), vec![c.name.clone()]))
                        .collect()
                })
                .unwrap_or_default()
        }
    }
}

fn iso_hours(hours: u32) -> String {
    format!("PT{hours}H")
}

fn title_case(severity: &str) -> String {
    let mut c = severity.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The window a Sentinel rule queries: its period (by default its
/// frequency), and at least a correlation's reach (rounded up to whole
/// hours).
pub fn query_period(rules: &[RuleLogic], index: usize, schedule: Schedule) -> u32 {
    let hours = u32::try_from(reach(rules, index).div_ceil(3600)).unwrap_or(u32::MAX);
    schedule.period_hours.unwrap_or(schedule.hours).max(hours)
}

/// How far back a rule's query reads, in seconds: nothing for a detection,
/// its timespan for a correlation, plus the reach of the correlations it
/// counts (a window it counts may have opened that much before its own).
fn reach(rules: &[RuleLogic], index: usize) -> u64 {
    match &rules[index].body {
        Body::Detection(_) => 0,
        Body::Correlation(c) => c
            .timespan_seconds
            .saturating_add(c.rules.iter().map(|&r| reach(rules, r)).max().unwrap_or(0)),
    }
}

/// A Sentinel scheduled analytics rule in the YAML layout of the Azure
/// Sentinel content repository.
pub fn sentinel_yaml(
    rules: &[RuleLogic],
    index: usize,
    meta: &Meta,
    query: &str,
    pipeline: &crate::pipeline::Pipeline,
    schedule: Schedule,
) -> String {
    let mut out = String::new();
    let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let _ = writeln!(out, "id: {}", q(&meta.id));
    let _ = writeln!(out, "name: {}", q(&meta.title));
    out.push_str("description: |\n");
    for line in alert_description(meta).lines() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "severity: {}", title_case(meta.severity()));
    out.push_str("requiredDataConnectors: []\n");
    let _ = writeln!(out, "queryFrequency: {}h", schedule.hours);
    let _ = writeln!(
        out,
        "queryPeriod: {}h",
        query_period(rules, index, schedule)
    );
    out.push_str("triggerOperator: gt\ntriggerThreshold: 0\n");
    write_list(&mut out, "tactics", &meta.tactics);
    write_list(&mut out, "relevantTechniques", &meta.techniques);
    out.push_str("query: |\n");
    for line in query.lines() {
        let _ = writeln!(out, "  {line}");
    }
    let mappings = entity_mappings(&result_columns(rules, index, pipeline));
    if mappings.is_empty() {
        out.push_str("entityMappings: []\n");
    } else {
        out.push_str("entityMappings:\n");
        for m in &mappings {
            let _ = writeln!(
                out,
                "  - entityType: {}",
                m["entityType"].as_str().unwrap_or_default()
            );
            out.push_str("    fieldMappings:\n");
            for f in m["fieldMappings"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "      - identifier: {}\n        columnName: {}",
                    f["identifier"].as_str().unwrap_or_default(),
                    f["columnName"].as_str().unwrap_or_default()
                );
            }
        }
    }
    out.push_str("version: 1.0.0\nkind: Scheduled\n");
    out
}

fn write_list(out: &mut String, key: &str, items: &[String]) {
    if items.is_empty() {
        let _ = writeln!(out, "{key}: []");
        return;
    }
    let _ = writeln!(out, "{key}:");
    for item in items {
        let _ = writeln!(out, "  - {item}");
    }
}

/// The same rule as an ARM template (`Microsoft.SecurityInsights/alertRules`
/// under a Log Analytics workspace), for pipelines that deploy templates.
pub fn sentinel_arm(
    rules: &[RuleLogic],
    index: usize,
    meta: &Meta,
    query: &str,
    pipeline: &crate::pipeline::Pipeline,
    schedule: Schedule,
) -> Value {
    let guid = stable_guid(&meta.id);
    json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "workspace": { "type": "String" }
        },
        "resources": [{
            "id": format!("[concat(resourceId('Microsoft.OperationalInsights/workspaces/providers', parameters('workspace'), 'Microsoft.SecurityInsights'),'/alertRules/{guid}')]"),
            "name": format!("[concat(parameters('workspace'),'/Microsoft.SecurityInsights/{guid}')]"),
            "type": "Microsoft.OperationalInsights/workspaces/providers/alertRules",
            "kind": "Scheduled",
            "apiVersion": "2024-03-01",
            "properties": {
                "displayName": meta.title,
                "description": alert_description(meta),
                "severity": title_case(meta.severity()),
                "enabled": true,
                "query": query,
                "queryFrequency": iso_hours(schedule.hours),
                "queryPeriod": iso_hours(query_period(rules, index, schedule)),
                "triggerOperator": "GreaterThan",
                "triggerThreshold": 0,
                "suppressionDuration": "PT5H",
                "suppressionEnabled": false,
                "tactics": meta.tactics,
                "techniques": meta
                    .techniques
                    .iter()
                    .map(|t| t.split('.').next().unwrap_or(t).to_string())
                    .collect::<std::collections::BTreeSet<_>>(),
                "entityMappings": entity_mappings(&result_columns(rules, index, pipeline)),
                "eventGroupingSettings": { "aggregationKind": "AlertPerResult" },
            }
        }]
    })
}

/// A Sentinel watchlist as an ARM template: the entries of `list`
/// (`lists/NAME.txt`) under the alias `NAME` that `--watchlists` queries read
/// (`_GetWatchlist('NAME')`), one CSV row each under the search key column
/// `SearchKey`. Deployed with the rules, it keeps the workspace's
/// watchlist the list that `stetho test` replayed.
pub fn sentinel_watchlist(name: &str, list: &str, entries: &[String]) -> Value {
    let mut csv = String::from("SearchKey\r\n");
    for entry in entries {
        // RFC 4180: a field with a quote, comma or line break is quoted,
        // its quotes doubled.
        if entry.contains(['"', ',', '\r', '\n']) {
            csv.push('"');
            csv.push_str(&entry.replace('"', "\"\""));
            csv.push('"');
        } else {
            csv.push_str(entry);
        }
        csv.push_str("\r\n");
    }
    json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "workspace": { "type": "String" }
        },
        "resources": [{
            // A placeholder's name is letters, digits, `_` and `-`: nothing
            // that could end the expression's string literal.
            "name": format!("[concat(parameters('workspace'),'/Microsoft.SecurityInsights/{name}')]"),
            "type": "Microsoft.OperationalInsights/workspaces/providers/Watchlists",
            "apiVersion": "2023-02-01",
            "properties": {
                "displayName": name,
                "description": format!("{list}, deployed by stetho build"),
                "provider": "stetho",
                "source": format!("{name}.txt"),
                "itemsSearchKey": "SearchKey",
                "contentType": "text/csv",
                "numberOfLinesToSkip": 0,
                "rawContent": csv,
            }
        }]
    })
}

/// The rule's id when it is a UUID, else a UUID derived from it (SHA-256,
/// marked as a version 8 "custom" UUID), so a rule without one still gets
/// the same resource name on every build.
pub fn stable_guid(id: &str) -> String {
    if let Ok(u) = uuid::Uuid::parse_str(id) {
        return u.hyphenated().to_string();
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(id.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries with a comma, a quote or a line break are quoted as RFC 4180
    /// says, so the CSV parser Sentinel runs reads each back as one value.
    #[test]
    fn watchlist_entries_survive_csv() {
        let entries = [
            "plain".to_string(),
            "a,b".to_string(),
            "say \"hi\"".to_string(),
            "two\nlines".to_string(),
        ];
        let template = sentinel_watchlist("x", "lists/x.txt", &entries);
        let csv = template["resources"][0]["properties"]["rawContent"]
            .as_str()
            .unwrap();
        assert_eq!(
            csv,
            "SearchKey\r\nplain\r\n\"a,b\"\r\n\"say \"\"hi\"\"\"\r\n\"two\nlines\"\r\n"
        );
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<String> = reader
            .records()
            .map(|r| r.unwrap()[0].to_string())
            .collect();
        assert_eq!(rows, entries);
    }

    #[test]
    fn guids_are_stable() {
        assert_eq!(
            stable_guid("9D9DC299-61AB-4F9F-BA84-95148431FF9D"),
            "9d9dc299-61ab-4f9f-ba84-95148431ff9d"
        );
        let derived = stable_guid("my_rule_name");
        assert_eq!(derived, stable_guid("my_rule_name"));
        assert!(uuid::Uuid::parse_str(&derived).is_ok());
    }

    #[test]
    fn schedules_are_what_defender_accepts() {
        assert_eq!(
            Schedule::parse("3h"),
            Ok(Schedule {
                hours: 3,
                period_hours: None
            })
        );
        assert!(Schedule::parse("2h").is_err());
        assert!(Schedule::parse("soon").is_err());
    }

    #[test]
    fn clinical_impact_raises_severity() {
        let meta = Meta {
            level: "medium".into(),
            clinical_impact: Some("severe".into()),
            ..Meta::default()
        };
        assert_eq!(meta.severity(), "high");
        let meta = Meta {
            level: "low".into(),
            clinical_impact: Some("minor".into()),
            ..Meta::default()
        };
        assert_eq!(meta.severity(), "low");
    }

    #[test]
    fn entities_come_from_present_columns() {
        let columns: Vec<(String, Vec<String>)> = ["DeviceName", "AccountName", "RemoteIP"]
            .iter()
            .map(|s| (s.to_string(), vec![s.to_string()]))
            .collect();
        let mapped = entity_mappings(&columns);
        let types: Vec<&str> = mapped
            .iter()
            .filter_map(|m| m["entityType"].as_str())
            .collect();
        assert_eq!(types, ["Host", "Account", "IP"]);
    }

    #[test]
    fn a_group_by_alias_maps_through_the_columns_it_reads() {
        let columns = vec![
            (
                "host".to_string(),
                vec!["Computer".to_string(), "DeviceName".to_string()],
            ),
            // Two columns under different identifiers: no single mapping.
            (
                "machine".to_string(),
                vec!["DeviceName".to_string(), "device_hostname".to_string()],
            ),
            ("User".to_string(), vec!["AccountName".to_string()]),
            ("unmapped".to_string(), Vec::new()),
        ];
        let mapped = entity_mappings(&columns);
        assert_eq!(mapped.len(), 2, "{mapped:?}");
        assert_eq!(mapped[0]["entityType"], "Host");
        assert_eq!(mapped[0]["fieldMappings"][0]["columnName"], "host");
        assert_eq!(mapped[0]["fieldMappings"][0]["identifier"], "FullName");
        assert_eq!(mapped[1]["entityType"], "Account");
        assert_eq!(mapped[1]["fieldMappings"][0]["columnName"], "User");
        assert_eq!(mapped[1]["fieldMappings"][0]["identifier"], "Name");
    }
}
