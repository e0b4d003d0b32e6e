//! ## What it does
//! Checks a correlation that counts another correlation (a chained
//! correlation):
//! - every field it groups by must be a `group-by` field of each counted
//!   correlation (by the name `aliases` gives it for that rule);
//! - its type must count or order the fired windows (`event_count`,
//!   `temporal`, `temporal_ordered`), not aggregate a field of them
//!   (`value_count`, `value_sum`, ...).
//!
//! ## Why is this bad?
//! A fired window of the counted correlation carries only its group-by
//! values. Grouping by anything else puts every window under one empty
//! value, so the grouping silently disappears; aggregating a field over
//! windows that have none never fires. Replay runs such a rule without
//! complaint and the KQL compiler refuses it, so it is caught here, where
//! the rule is written.

use std::collections::BTreeMap;

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Rule, RuleKind};

pub const LINT: Lint = Lint {
    code: "STH312",
    name: "chained-correlation-field",
    severity: Severity::Error,
    summary: "A chained correlation groups by or aggregates a field the counted correlation's windows do not carry.",
};

/// Correlation types that read a field of each counted event.
const AGGREGATING: &[&str] = &[
    "value_count",
    "value_sum",
    "value_avg",
    "value_percentile",
    "value_median",
];

pub fn check(rules: &[Rule], _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    // Correlations by id and by name: what a reference can point to.
    let mut correlations: BTreeMap<&str, &Rule> = BTreeMap::new();
    for rule in rules.iter().filter(|r| r.kind == RuleKind::Correlation) {
        for key in [rule.id.as_ref(), rule.name.as_ref()].into_iter().flatten() {
            correlations.entry(key.text.as_str()).or_insert(rule);
        }
    }
    for rule in rules.iter().filter(|r| r.kind == RuleKind::Correlation) {
        let Some(correlation) = &rule.correlation else {
            continue;
        };
        for reference in &correlation.rules {
            let Some(counted) = correlations.get(reference.text.as_str()) else {
                continue;
            };
            let Some(inner) = &counted.correlation else {
                continue;
            };
            if let Some(kind) = &correlation.kind
                && AGGREGATING.contains(&kind.text.as_str())
            {
                out.push(
                    report(
                        &LINT,
                        format!(
                            "a `{}` correlation cannot aggregate over the correlation `{}`",
                            kind.text, reference.text
                        ),
                    )
                    .at(&rule.file, kind.span)
                    .label("fired windows have no field values")
                    .help("count the fired windows (`event_count`) or order them (`temporal_ordered`), or correlate the detection rules directly"),
                );
            }
            let carried: Vec<&str> = inner.group_by.iter().map(|g| g.text.as_str()).collect();
            for group in &correlation.group_by {
                let field = alias_for(rule, &group.text, &reference.text).unwrap_or(&group.text);
                if carried.contains(&field) {
                    continue;
                }
                let listed = if carried.is_empty() {
                    "none".to_string()
                } else {
                    carried
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                out.push(
                    report(
                        &LINT,
                        format!(
                            "groups by `{field}`, which the counted correlation `{}` does not group by",
                            reference.text
                        ),
                    )
                    .at(&rule.file, group.span)
                    .label("not carried by the counted correlation's windows")
                    .help(format!(
                        "its windows carry only its group-by fields ({listed}); group by one of them, or add this field to its `group-by`"
                    )),
                );
            }
        }
    }
}

/// The field `aliases` maps `alias` to for the rule named `reference`.
fn alias_for<'a>(rule: &'a Rule, alias: &str, reference: &str) -> Option<&'a str> {
    rule.root
        .get_path(&["correlation", "aliases", alias, reference])
        .and_then(|n| n.as_str())
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes_of_file as chained;

    #[test]
    fn a_group_the_counted_correlation_does_not_carry_is_an_error() {
        assert!(
            chained("tests/kql/invalid/chained_group_not_carried.yml")
                .contains(&"STH312".to_string())
        );
    }

    #[test]
    fn aggregating_over_fired_windows_is_an_error() {
        assert!(
            chained("tests/kql/invalid/chained_value_over_correlation.yml")
                .contains(&"STH312".to_string())
        );
    }

    #[test]
    fn carried_groups_through_aliases_pass() {
        for file in [
            "tests/kql/chained/detections/repeated_discovery_bursts.yml",
            "tests/kql/chained/detections/repeated_discovery_bursts_then_shadow_copy_deletion.yml",
        ] {
            assert!(!chained(file).contains(&"STH312".to_string()), "{file}");
        }
    }
}
