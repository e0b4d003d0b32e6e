//! ## What it does
//! Flags invisible control characters (other than tab and newline) in
//! values, usually pasted from a terminal or a document.
//!
//! ## Why is this bad?
//! The value no longer matches what it shows, and reviewers cannot see why.

use super::{Context, Lint, items, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;

pub const LINT: Lint = Lint {
    code: "STH225",
    name: "control-character",
    severity: Severity::Warning,
    summary: "An invisible control character in a value.",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (_, item) in items(rule) {
        for value in &item.values {
            if let Some(c) = value
                .scalar
                .text
                .chars()
                .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            {
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
