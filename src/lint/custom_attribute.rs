//! ## What it does
//! Flags top-level keys that are not Sigma attributes but look like a
//! misspelt one (`tag`, `falsepositive`, `reference`, `logsources`).
//!
//! ## Why is this bad?
//! Sigma allows custom attributes, so a typo is silently accepted and the
//! real attribute is simply missing: the tags never reach the console, the
//! false-positive notes never reach the analyst.

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;
use crate::suggest::did_you_mean;

pub const LINT: Lint = Lint {
    code: "STH107",
    name: "misspelt-attribute",
    severity: Severity::Warning,
    summary: "A custom top-level key that looks like a misspelt Sigma attribute.",
};

/// Sigma's attributes plus stetho's own.
const KNOWN: &[&str] = &[
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
    "logsource",
    "detection",
    "fields",
    "falsepositives",
    "level",
    "tags",
    "scope",
    "correlation",
    "filter",
    "generate",
    "healthcare",
    "schedule",
    "tests",
];

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(entries) = rule.root.as_map() else {
        return;
    };
    for entry in entries {
        let key = entry.key_str();
        if KNOWN.contains(&key) {
            continue;
        }
        let singular_plural = KNOWN
            .iter()
            .find(|k| format!("{key}s") == **k || format!("{k}s") == key)
            .copied();
        if key.chars().any(|c| c.is_ascii_uppercase())
            && !KNOWN.contains(&key.to_lowercase().as_str())
        {
            out.push(
                report(
                    &LINT,
                    format!("`{key}` has upper-case letters; Sigma attribute names are lower case"),
                )
                .at(&rule.file, entry.key.span)
                .label("custom attribute")
                .help(format!("write `{}`", key.to_lowercase())),
            );
            continue;
        }
        if let Some(suggestion) = singular_plural.or_else(|| {
            (key.len() >= 4)
                .then(|| did_you_mean(key, KNOWN.iter().copied()))
                .flatten()
        }) {
            out.push(
                report(&LINT, format!("`{key}` is not a Sigma attribute"))
                    .at(&rule.file, entry.key.span)
                    .label("custom attribute")
                    .help(format!("did you mean `{suggestion}`?")),
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
    fn misspelt_and_upper_case_attributes() {
        assert!(
            codes(&format!("{RULE}tag: [attack.t1005]\n"), Profile::Sigma)
                .contains(&"STH107".to_string())
        );
        assert!(
            codes(&format!("{RULE}falsepositive: [x]\n"), Profile::Sigma)
                .contains(&"STH107".to_string())
        );
        assert!(
            codes(&format!("{RULE}MyKey: x\n"), Profile::Sigma).contains(&"STH107".to_string())
        );
        assert!(
            !codes(&format!("{RULE}simulation: x\n"), Profile::Sigma)
                .contains(&"STH107".to_string())
        );
    }
}
