//! ## What it does
//! Flags rule titles used by more than one rule.
//!
//! ## Why is this bad?
//! Titles become alert names in Defender XDR and Sentinel; two alerts with
//! the same name from different logic confuse triage.

use std::collections::BTreeMap;

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;

pub const LINT: Lint = Lint {
    code: "STH105",
    name: "duplicate-title",
    severity: Severity::Warning,
    summary: "Two rules share a title.",
};

pub fn check(rules: &[Rule], _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let mut first: BTreeMap<String, &Rule> = BTreeMap::new();
    for rule in rules {
        let Some(title) = &rule.title else { continue };
        let key = title.text.trim().to_lowercase();
        match first.get(&key) {
            None => {
                first.insert(key, rule);
            }
            Some(original) => {
                let Some(original_title) = &original.title else {
                    continue;
                };
                out.push(
                    report(&LINT, format!("title `{}` is already used", title.text))
                        .at(&rule.file, title.span)
                        .label("duplicate title")
                        .related(&original.file, original_title.span, "first used here")
                        .help("make the title say what distinguishes this rule"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::RULE;
    use crate::lint::testing::codes;
    use crate::settings::Profile;

    #[test]
    fn titles_compare_ignoring_case() {
        let two = format!(
            "{RULE}---\n{}",
            RULE.replace("title: t", "title: T")
                .replace("0d1e2f3a", "1d1e2f3a")
        );
        assert!(codes(&two, Profile::Sigma).contains(&"STH105".to_string()));
    }
}
