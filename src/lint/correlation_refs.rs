//! ## What it does
//! Checks references between rules:
//! - every rule a correlation names in `rules` must exist in the rule set,
//!   by `id` or `name` (STH310, an error), and its `group-by` aliases must
//!   be defined under `aliases`;
//! - every rule a filter names should exist (STH311, a warning: filters may
//!   target rules kept elsewhere).
//!
//! ## Why is this bad?
//! A correlation over a missing rule never fires; pySigma refuses to
//! convert it.

use std::collections::BTreeSet;

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Rule, RuleKind};
use crate::suggest::did_you_mean;

pub const LINT: Lint = Lint {
    code: "STH310",
    name: "unknown-correlated-rule",
    severity: Severity::Error,
    summary: "A correlation names a rule that is not in the rule set.",
};

pub const FILTER: Lint = Lint {
    code: "STH311",
    name: "unknown-filtered-rule",
    severity: Severity::Warning,
    summary: "A filter names a rule that is not in the rule set.",
};

pub fn check(rules: &[Rule], _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let known: BTreeSet<&str> = rules
        .iter()
        .flat_map(|r| [r.id.as_ref(), r.name.as_ref()])
        .flatten()
        .map(|l| l.text.as_str())
        .collect();
    for rule in rules {
        match rule.kind {
            RuleKind::Correlation => {
                let Some(correlation) = &rule.correlation else {
                    continue;
                };
                for reference in &correlation.rules {
                    if known.contains(reference.text.as_str()) {
                        continue;
                    }
                    let mut d = report(
                        &LINT,
                        format!("correlation refers to unknown rule `{}`", reference.text),
                    )
                    .at(&rule.file, reference.span)
                    .label("no rule with this id or name");
                    d = match did_you_mean(&reference.text, known.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help("give the base rule a `name:` (or use its `id`) and include it in the validated paths"),
                    };
                    out.push(d);
                }
                check_aliases(rule, out);
            }
            RuleKind::Filter => {
                let Some(filter) = &rule.filter else { continue };
                for reference in &filter.rules {
                    if !known.contains(reference.text.as_str()) {
                        out.push(
                            report(&FILTER, format!("filter applies to unknown rule `{}`", reference.text))
                                .at(&rule.file, reference.span)
                                .label("not in this rule set")
                                .help("check the id, or validate the filter together with the rules it applies to"),
                        );
                    }
                }
            }
            RuleKind::Detection => {}
        }
    }
}

/// `group-by` names that look like aliases must be defined.
fn check_aliases(rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(correlation) = &rule.correlation else {
        return;
    };
    let Some(aliases) = rule
        .root
        .get_path(&["correlation", "aliases"])
        .and_then(|a| a.as_map())
    else {
        return;
    };
    for alias in aliases {
        let Some(mapping) = alias.value.as_map() else {
            continue;
        };
        for entry in mapping {
            let name = entry.key_str();
            if !correlation.rules.iter().any(|r| r.text == name) {
                out.push(
                    report(
                        &LINT,
                        format!(
                            "alias `{}` maps rule `{name}`, which the correlation does not use",
                            alias.key_str()
                        ),
                    )
                    .at(&rule.file, entry.key.span)
                    .label("not in `rules`")
                    .help("alias keys must be the rule names listed under `rules`"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes;
    use crate::settings::Profile;

    #[test]
    fn correlations_must_name_existing_rules() {
        let base = "title: base\nname: base_rule\nlogsource: {product: windows}\ndetection:\n  sel:\n    a: b\n  condition: sel\n";
        let correlation = "title: c\ncorrelation:\n  type: event_count\n  rules: [base_rule]\n  group-by: [a]\n  timespan: 5m\n  condition: {gte: 3}\nlevel: low\n";
        assert!(
            !codes(&format!("{base}---\n{correlation}"), Profile::Sigma)
                .contains(&"STH310".to_string())
        );
        let typo = correlation.replace("[base_rule]", "[base_rul]");
        assert!(
            codes(&format!("{base}---\n{typo}"), Profile::Sigma).contains(&"STH310".to_string())
        );
    }

    #[test]
    fn filters_naming_unknown_rules_are_warned_about() {
        let filter = "title: f\nlogsource: {product: windows}\nfilter:\n  rules: [0d1e2f3a-4b5c-4d6e-9f7a-8b9c0d1e2f3a]\n  selection:\n    User: admin\n  condition: not selection\n";
        assert!(codes(filter, Profile::Sigma).contains(&"STH311".to_string()));
    }
}
