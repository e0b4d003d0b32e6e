//! The canonical key order of rule documents.
//!
//! One order for everything that writes rules: the Sigma export
//! ([`crate::backend::sigma`]) and `stetho fmt` ([`crate::format`]). Top-level
//! keys follow SigmaHQ's layout (metadata, then `logsource`, `detection` or
//! `correlation`, then triage fields); keys Sigma does not define keep their
//! relative order after those; stetho's own `healthcare` block and `tests`
//! come last, in that order. Nested blocks follow the property order of the
//! JSON Schemas in `schemas/` (`logsource` puts `product` first, as every
//! shipped rule and most of SigmaHQ do).

/// Sigma's top-level keys in the order they are written.
pub const TOP_LEVEL: &[&str] = &[
    "title",
    "id",
    "name",
    "related",
    "taxonomy",
    "status",
    "description",
    "license",
    "references",
    "author",
    "date",
    "modified",
    "tags",
    "logsource",
    "detection",
    "correlation",
    "filter",
    "fields",
    "falsepositives",
    "level",
    "scope",
];

/// stetho's top-level additions, written after every other key.
pub const STETHO_LAST: &[&str] = &["healthcare", "schedule", "tests"];

/// How the keys of one mapping are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrder {
    /// As the author wrote them.
    Source,
    /// These keys first, in this order; others after, in source order.
    Known(&'static [&'static str]),
    /// As the author wrote them, except these keys, moved to the end in
    /// this order (`detection`: `timeframe`, then `condition`).
    Last(&'static [&'static str]),
    /// The top level of a rule document ([`TOP_LEVEL`], others, [`STETHO_LAST`]).
    TopLevel,
}

/// A step into a rule document: a mapping key, or any item of a sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    Key(&'a str),
    Item,
}

/// The order of the mapping found at `path` in a rule document.
pub fn key_order(path: &[Step<'_>]) -> KeyOrder {
    use Step::{Item, Key};
    match path {
        [] => KeyOrder::TopLevel,
        [Key("logsource")] => KeyOrder::Known(&["product", "category", "service", "definition"]),
        [Key("detection")] => KeyOrder::Last(&["timeframe", "condition"]),
        [Key("correlation")] => KeyOrder::Known(&[
            "type",
            "rules",
            "group-by",
            "timespan",
            "condition",
            "aliases",
            "generate",
        ]),
        [Key("filter")] => KeyOrder::Known(&["rules", "selection", "condition"]),
        [Key("related"), Item] => KeyOrder::Known(&["id", "type"]),
        [Key("tests"), Item] => {
            KeyOrder::Known(&["fixture", "expect", "hits", "lines", "description"])
        }
        [Key("healthcare")] => KeyOrder::Known(&[
            "schema",
            "clinical_impact",
            "clinical_impact_rationale",
            "affected_services",
            "asset_classes",
            "data_categories",
            "caf",
            "dspt",
            "attack",
            "attack_exempt_reason",
            "ics_attack",
            "references",
            "response",
            "owner",
            "review",
            "enrichment_required",
        ]),
        [Key("healthcare"), Key(block)] => match *block {
            "caf" => KeyOrder::Known(&["version", "outcomes"]),
            "dspt" => KeyOrder::Known(&["edition", "outcomes"]),
            "attack" | "ics_attack" => KeyOrder::Known(&["version", "techniques"]),
            "references" => KeyOrder::Known(&["nhs_cyber_alerts", "cves", "incidents"]),
            "response" => KeyOrder::Known(&["playbook", "escalation", "notify", "containment"]),
            "owner" => KeyOrder::Known(&["team", "contact"]),
            "review" => KeyOrder::Known(&["last_reviewed", "next_review"]),
            _ => KeyOrder::Source,
        },
        _ => KeyOrder::Source,
    }
}

/// Sort mapping entries (stably) into the order for `path`.
pub fn sort_keys<T>(path: &[Step<'_>], entries: &mut [T], key: impl Fn(&T) -> &str) {
    let order = key_order(path);
    if order == KeyOrder::Source {
        return;
    }
    entries.sort_by_cached_key(|e| rank(order, key(e)));
}

fn rank(order: KeyOrder, key: &str) -> (u8, usize) {
    let at = |list: &[&str]| list.iter().position(|k| *k == key);
    match order {
        KeyOrder::Source => (0, 0),
        KeyOrder::Known(list) => at(list).map_or((1, 0), |i| (0, i)),
        KeyOrder::Last(list) => at(list).map_or((0, 0), |i| (1, i)),
        KeyOrder::TopLevel => match (at(TOP_LEVEL), at(STETHO_LAST)) {
            (Some(i), _) => (0, i),
            (None, Some(i)) => (2, i),
            (None, None) => (1, 0),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(path: &[Step<'_>], keys: &[&'static str]) -> Vec<&'static str> {
        let mut keys = keys.to_vec();
        sort_keys(path, &mut keys, |k| k);
        keys
    }

    #[test]
    fn top_level_sigma_keys_then_unknown_then_stetho_blocks() {
        assert_eq!(
            sorted(
                &[],
                &[
                    "tests",
                    "level",
                    "custom_b",
                    "healthcare",
                    "title",
                    "custom_a",
                    "detection"
                ]
            ),
            [
                "title",
                "detection",
                "level",
                "custom_b",
                "custom_a",
                "healthcare",
                "tests"
            ]
        );
    }

    #[test]
    fn detection_keeps_selections_and_ends_with_timeframe_and_condition() {
        assert_eq!(
            sorted(
                &[Step::Key("detection")],
                &["condition", "sel_b", "timeframe", "sel_a"]
            ),
            ["sel_b", "sel_a", "timeframe", "condition"]
        );
    }

    #[test]
    fn nested_orders_follow_the_schemas() {
        assert_eq!(
            sorted(
                &[Step::Key("logsource")],
                &["service", "category", "x", "product"]
            ),
            ["product", "category", "service", "x"]
        );
        assert_eq!(
            sorted(
                &[Step::Key("tests"), Step::Item],
                &["description", "expect", "fixture"]
            ),
            ["fixture", "expect", "description"]
        );
        assert_eq!(sorted(&[Step::Key("other")], &["b", "a"]), ["b", "a"]);
    }

    /// The nested orders are those of the JSON Schemas; this catches a
    /// property added to a schema in another place than here.
    #[test]
    fn nested_orders_match_the_schema_files() {
        let schema = include_str!("../../schemas/healthcare.schema.json");
        let KeyOrder::Known(keys) = key_order(&[Step::Key("healthcare")]) else {
            panic!("healthcare has a known order");
        };
        let positions: Vec<usize> = keys
            .iter()
            .map(|k| {
                schema
                    .find(&format!("\"{k}\": {{"))
                    .unwrap_or_else(|| panic!("{k} in schema"))
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    }
}
