//! ## What it does
//! Parses every `condition` with Sigma's grammar and reports errors at
//! the exact position inside the condition, with a hint (lower-case
//! operators, a missing `)`, v1 aggregations such as `| count()`).
//!
//! ## Why is this bad?
//! A condition that does not parse makes the whole rule unusable.

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Rule, condition, span_in_scalar};

pub const LINT: Lint = Lint {
    code: "STH300",
    name: "condition-syntax",
    severity: Severity::Error,
    summary: "A condition that does not parse.",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(detection) = &rule.detection else {
        return;
    };
    for cond in &detection.conditions {
        if let Err(error) = condition::parse(&cond.text) {
            let span = span_in_scalar(&rule.file, cond.node_span, &cond.text, error.span.clone());
            let mut d = report(&LINT, format!("condition: {}", error.message))
                .at(&rule.file, span)
                .label("here");
            if let Some(help) = error.help {
                d = d.help(help);
            }
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::run_all;
    use crate::settings::Profile;

    #[test]
    fn errors_point_into_the_condition() {
        let rule = "title: t\nlogsource: {product: windows}\ndetection:\n  sel:\n    a: b\n  condition: sel and (not\nlevel: low\n";
        let found = run_all(rule, Profile::Sigma);
        assert!(
            found.iter().any(|l| l.starts_with("STH300 6:26")),
            "{found:?}"
        );
    }
}
