//! ## What it does
//! Warns about `all of them` (STH303), which the specification discourages,
//! and about `1 of them` / `all of them` when there is only one search
//! identifier (STH304), where naming it is clearer.
//!
//! ## Why is this bad?
//! `all of them` silently changes meaning when someone adds a selection
//! (for instance a filter, which then has to match too).

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::condition::{self, Expr, Quantifier, Target};
use crate::model::{Rule, span_in_scalar};

pub const ALL_OF_THEM: Lint = Lint {
    code: "STH303",
    name: "all-of-them",
    severity: Severity::Warning,
    summary: "`all of them`, which the Sigma specification discourages.",
};

pub const THEM_SINGLE: Lint = Lint {
    code: "STH304",
    name: "them-with-single-identifier",
    severity: Severity::Warning,
    summary: "`of them` with a single search identifier.",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(detection) = &rule.detection else {
        return;
    };
    let visible = detection
        .identifiers
        .iter()
        .filter(|i| !i.name.starts_with('_'))
        .count();
    for cond in &detection.conditions {
        let Ok(expr) = condition::parse(&cond.text) else {
            continue;
        };
        for reference in expr.references() {
            let Expr::Of {
                quantifier,
                target: Target::Them,
                span,
            } = reference
            else {
                continue;
            };
            let at = span_in_scalar(&rule.file, cond.node_span, &cond.text, span.clone());
            if visible == 1 {
                let name = detection
                    .identifiers
                    .iter()
                    .find(|i| !i.name.starts_with('_'))
                    .map_or("", |i| i.name.as_str());
                out.push(
                    report(&THEM_SINGLE, "`of them` with a single search identifier")
                        .at(&rule.file, at)
                        .label("only one identifier")
                        .help(format!("write `{name}`")),
                );
            } else if *quantifier == Quantifier::All {
                out.push(
                    report(&ALL_OF_THEM, "`all of them` is discouraged")
                        .at(&rule.file, at)
                        .label("changes meaning when a selection is added")
                        .help("name the selections: `sel_a and sel_b`, or `all of sel_*`"),
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
    fn all_of_them_and_single_identifier() {
        let two = "title: t\nlogsource: {product: windows}\ndetection:\n  a:\n    x: '1'\n  b:\n    y: '2'\n  condition: all of them\nlevel: low\n";
        assert!(codes(two, Profile::Sigma).contains(&"STH303".to_string()));
        let one = "title: t\nlogsource: {product: windows}\ndetection:\n  a:\n    x: '1'\n  condition: 1 of them\nlevel: low\n";
        assert!(codes(one, Profile::Sigma).contains(&"STH304".to_string()));
        let named = two.replace("all of them", "a and b");
        assert!(
            !codes(&named, Profile::Sigma)
                .iter()
                .any(|c| c == "STH303" || c == "STH304")
        );
    }
}
