//! ## What it does
//! Flags Sigma syntax that the specification removed in version 2: the
//! `timeframe` detection key (replaced by correlation `timespan`) and
//! `YYYY/MM/DD` dates.
//!
//! ## Why is this bad?
//! Tools that follow the current specification ignore or reject these, so
//! the rule silently behaves differently across backends.

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;

pub const LINT: Lint = Lint {
    code: "STH106",
    name: "deprecated-syntax",
    severity: Severity::Warning,
    summary: "Syntax that Sigma v2 removed (`timeframe`, `YYYY/MM/DD` dates).",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    if let Some(entry) = rule
        .root
        .get("detection")
        .and_then(|d| d.entry("timeframe"))
    {
        out.push(
            report(&LINT, "`timeframe` was removed in Sigma v2")
                .at(&rule.file, entry.key.span)
                .label("deprecated")
                .help("express time windows with a correlation rule and its `timespan`"),
        );
    }
    for key in ["date", "modified"] {
        let Some(node) = rule.root.get(key) else {
            continue;
        };
        let Some(text) = node.as_str() else { continue };
        let parts: Vec<&str> = text.split('/').collect();
        if parts.len() == 3 && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) {
            out.push(
                report(&LINT, format!("`{key}` uses the Sigma v1 date format"))
                    .at(&rule.file, node.span)
                    .label("YYYY/MM/DD")
                    .help(format!("write '{}'", parts.join("-"))),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes;
    use crate::settings::Profile;

    #[test]
    fn timeframe_is_deprecated() {
        let rule = "title: t\nlogsource: {product: windows}\ndetection:\n  sel:\n    a: b\n  timeframe: 5m\n  condition: sel\nlevel: low\n";
        assert!(codes(rule, Profile::Sigma).contains(&"STH106".to_string()));
    }
}
