//! ## What it does
//! Flags the same URL listed twice in `references`.
//!
//! ## Why is this bad?
//! It is noise in the rule and in every export, and usually a sign that
//! the reference meant to be added is missing.

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;

pub const LINT: Lint = Lint {
    code: "STH108",
    name: "duplicate-reference",
    severity: Severity::Warning,
    summary: "The same reference is listed twice.",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(items) = rule.root.get("references").and_then(|n| n.as_seq()) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let Some(text) = item.as_str() else { continue };
        if let Some(first) = items[..i].iter().find(|n| n.as_str() == Some(text)) {
            out.push(
                report(&LINT, "reference listed twice")
                    .at(&rule.file, item.span)
                    .label("duplicate")
                    .related(&rule.file, first.span, "first listed here")
                    .help("remove one of them"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::RULE;
    use crate::lint::testing::codes;
    use crate::settings::Profile;

    #[test]
    fn a_repeated_reference() {
        let rule = format!("{RULE}references: [https://a.example/x, https://a.example/x]\n");
        assert!(codes(&rule, Profile::Sigma).contains(&"STH108".to_string()));
    }
}
