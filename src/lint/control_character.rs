//! ## What it does
//! Flags invisible control characters in values, usually pasted from a
//! terminal or a document, and tabs or line breaks that a double-quoted
//! Windows path produced by accident (`"C:\temp\new"` holds a tab and a
//! newline: YAML reads `\t` and `\n` as escapes in double quotes).
//!
//! ## Why is this bad?
//! The value no longer matches what it shows, and reviewers cannot see why.

use super::{Context, Lint, items, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;
use crate::source::yaml::Style;

pub const LINT: Lint = Lint {
    code: "STH225",
    name: "control-character",
    severity: Severity::Warning,
    summary: "An invisible control character in a value.",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (_, item) in items(rule) {
        for value in &item.values {
            let text = &value.scalar.text;
            let double_quoted = value.scalar.style == Style::DoubleQuoted;
            if double_quoted && text.contains(['\t', '\n', '\r']) {
                out.push(
                    report(&LINT, "double-quoted value contains a tab or line break")
                        .at(&rule.file, value.span)
                        .label("`\\t`, `\\n` and `\\r` are escapes inside double quotes")
                        .help("use single quotes for paths: 'C:\\temp\\new' keeps its backslashes"),
                );
                continue;
            }
            let invisible = text
                .chars()
                .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
            if let Some(c) = invisible {
                out.push(
                    report(
                        &LINT,
                        format!(
                            "value contains the control character U+{:04X}",
                            u32::from(c)
                        ),
                    )
                    .at(&rule.file, value.span)
                    .label("invisible character")
                    .help(
                        "retype the value; if the character is intended, use `|re` with an escape",
                    ),
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
    fn double_quoted_paths_with_escapes() {
        let rule = |v: &str| {
            format!(
                "title: t\nid: 0d1e2f3a-4b5c-4d6e-9f7a-8b9c0d1e2f3a\nlogsource: {{product: windows}}\ndetection:\n  sel:\n    Image: {v}\n  condition: sel\n"
            )
        };
        assert!(codes(&rule(r#""C:\temp\new""#), Profile::Sigma).contains(&"STH225".to_string()));
        assert!(!codes(&rule(r"'C:\temp\new'"), Profile::Sigma).contains(&"STH225".to_string()));
        assert!(codes(&rule("\"a\\u0007b\""), Profile::Sigma).contains(&"STH225".to_string()));
    }
}
