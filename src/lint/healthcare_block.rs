//! ## What it does
//! Under the `healthcare` profile, requires the `healthcare:` block on every
//! rule that is deployed on its own, and validates it against
//! `schemas/healthcare.schema.json` under either profile.
//!
//! ## Why is this bad?
//! The block carries what a healthcare SOC needs to triage and to audit a
//! detection: clinical impact, affected services and assets, data
//! categories, CAF outcomes, ATT&CK, the response and containment policy,
//! the owner and review dates. A rule without it cannot be prioritised or
//! safely automated.
//!
//! Rules that only feed a correlation (referenced by it, not generated on
//! their own) inherit the correlation's block and need none.

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Rule, RuleKind};
use crate::schema::{self, SchemaKind};
use crate::settings::Profile;

pub const LINT: Lint = Lint {
    code: "STH102",
    name: "missing-healthcare-block",
    severity: Severity::Error,
    summary: "A rule under the healthcare profile has no `healthcare:` block.",
};

pub fn check(rule: &Rule, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    match rule.healthcare() {
        Some(block) => {
            schema::check(
                SchemaKind::Healthcare,
                &rule.file,
                &rule.root,
                "/healthcare",
                block,
                out,
            );
            check_level_rules(rule, out);
        }
        None => {
            if ctx.profile == Profile::Healthcare
                && rule.kind != RuleKind::Filter
                && !feeds_correlation(rule)
            {
                out.push(
                    report(&LINT, format!("rule `{}` has no `healthcare:` block", rule.label()))
                        .at(&rule.file, rule.anchor_span())
                        .label("this rule needs healthcare metadata")
                        .help("add the block (clinical_impact, affected_services, asset_classes, data_categories, caf, attack, response, owner, review); `stetho new` scaffolds one"),
                );
            }
        }
    }
}

/// A detection rule in the same file as a correlation that names it is a
/// building block of that correlation.
pub fn feeds_correlation(rule: &Rule) -> bool {
    if rule.kind != RuleKind::Detection {
        return false;
    }
    let ids: Vec<&str> = [&rule.id, &rule.name]
        .iter()
        .filter_map(|l| l.as_ref().map(|l| l.text.as_str()))
        .collect();
    let text = &rule.file.text;
    // Cheap pre-check before parsing again: only multi-document files qualify.
    if !text.contains("correlation:") {
        return false;
    }
    let (rules, _) = crate::load::parse_source(&rule.file);
    rules.iter().any(|other| {
        other
            .correlation
            .as_ref()
            .is_some_and(|c| !c.generate && c.rules.iter().any(|r| ids.contains(&r.text.as_str())))
    })
}

/// Cross-field rules of the block that involve attributes outside it.
fn check_level_rules(rule: &Rule, out: &mut Vec<Diagnostic>) {
    let high = matches!(rule.level.as_deref(), Some("high" | "critical"));
    let Some(block) = rule.healthcare() else {
        return;
    };
    if high && block.get_path(&["response", "playbook"]).is_none() {
        let span = block
            .entry("response")
            .map_or(rule.anchor_span(), |e| e.key.span);
        out.push(
            Diagnostic::error(
                "STH101",
                "a rule of level high or critical needs `healthcare.response.playbook`",
            )
            .at(&rule.file, span)
            .label("no playbook here")
            .help("link the SOC playbook analysts follow for this alert (CAF C1.d)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes;
    use crate::lint::testing::{HEALTHCARE, RULE};
    use crate::settings::Profile;

    #[test]
    fn required_under_healthcare_only() {
        assert!(codes(RULE, Profile::Healthcare).contains(&"STH102".to_string()));
        assert!(!codes(RULE, Profile::Sigma).contains(&"STH102".to_string()));
        let with_block = format!("{RULE}tags: [attack.collection, attack.t1005]\n{HEALTHCARE}");
        assert!(!codes(&with_block, Profile::Healthcare).contains(&"STH102".to_string()));
    }

    #[test]
    fn the_block_is_schema_checked_and_high_rules_need_a_playbook() {
        let bad = format!("{RULE}{}", HEALTHCARE.replace("moderate", "catastrophic"));
        assert!(codes(&bad, Profile::Sigma).contains(&"STH101".to_string()));
        let high = format!("{}{HEALTHCARE}", RULE.replace("level: low", "level: high"));
        assert!(codes(&high, Profile::Healthcare).contains(&"STH101".to_string()));
    }
}
