//! ## What it does
//! Wildcard hygiene, as pySigma's validators check it:
//! - `*value*`, `*value` and `value*` without modifiers, where `contains`,
//!   `endswith` and `startswith` say the same thing (STH220, a warning);
//! - `**`, which is the same as `*` (STH221, a warning);
//! - wildcards in values that are encoded (`base64`, `base64offset`,
//!   `utf16*`, `wide`) or compared as fields, networks or numbers, where they
//!   cannot work (STH222, an error).
//!
//! ## Why is this bad?
//! Modifiers compile to the fast, index-friendly operators of each backend
//! (`endswith` in KQL), wildcards often to slower regexes; an encoded
//! wildcard is encoded as a literal `*` and matches nothing.

use super::{Context, Lint, items, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::modifier::Group;
use crate::model::{Modifier, Rule};

pub const INSTEAD_OF_MODIFIER: Lint = Lint {
    code: "STH220",
    name: "wildcard-instead-of-modifier",
    severity: Severity::Warning,
    summary: "A leading or trailing `*` where a modifier says the same.",
};

pub const DOUBLE: Lint = Lint {
    code: "STH221",
    name: "double-wildcard",
    severity: Severity::Warning,
    summary: "`**` in a value.",
};

pub const IN_ENCODED: Lint = Lint {
    code: "STH222",
    name: "wildcard-in-encoded-value",
    severity: Severity::Error,
    summary: "A wildcard in a value that is encoded or not a string pattern.",
};

pub const LONE_WILDCARD: Lint = Lint {
    code: "STH223",
    name: "lone-wildcard",
    severity: Severity::Warning,
    summary: "A value that is only `*`, where `|exists` says what is meant.",
};

/// Positions of unescaped `*`/`?` in a Sigma string.
pub fn wildcard_positions(value: &str) -> Vec<usize> {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if matches!(bytes.get(i + 1), Some(b'*' | b'?' | b'\\')) => i += 2,
            b'*' | b'?' => {
                out.push(i);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (_, item) in items(rule) {
        let mods: Vec<Modifier> = item.modifiers.iter().filter_map(|m| m.modifier).collect();
        if mods.iter().any(|m| matches!(m, Modifier::Re)) {
            continue;
        }
        let encoded = mods.iter().find(|m| {
            matches!(
                m.group(),
                Group::Transform | Group::Numeric | Group::TimePart
            ) && **m != Modifier::Windash
                || matches!(m, Modifier::Fieldref | Modifier::Cidr)
        });
        for value in &item.values {
            if !matches!(value.scalar.typed(), crate::source::yaml::Typed::Str(_)) {
                continue;
            }
            let text = &value.scalar.text;
            let wildcards = wildcard_positions(text);
            if wildcards.is_empty() {
                continue;
            }
            if text == "*" && item.field.is_some() {
                out.push(
                    report(
                        &LONE_WILDCARD,
                        "a lone `*` matches any value, including an empty one",
                    )
                    .at(&rule.file, value.span)
                    .label("matches anything")
                    .help(format!(
                        "write `{}|exists: true` to require the field",
                        item.field.as_deref().unwrap_or("")
                    )),
                );
                continue;
            }
            if let Some(m) = encoded {
                out.push(
                    report(&IN_ENCODED, format!("wildcard in a `{}` value", m.name()))
                        .at(&rule.file, value.span)
                        .label("would be taken literally")
                        .help("remove the wildcard; position modifiers (`contains` ...) apply after encoding"),
                );
                continue;
            }
            if text.contains("**") {
                out.push(
                    report(&DOUBLE, "`**` is the same as `*`")
                        .at(&rule.file, value.span)
                        .label("double wildcard")
                        .help("write a single `*`"),
                );
            }
            if !mods.is_empty() || item.field.is_none() {
                continue;
            }
            let last = text.len().saturating_sub(1);
            let only_ends = wildcards
                .iter()
                .all(|&p| (p == 0 || p == last) && text.as_bytes()[p] == b'*');
            if !only_ends || text.len() < 2 {
                continue;
            }
            let modifier = match (wildcards.contains(&0), wildcards.contains(&last)) {
                (true, true) => "contains",
                (true, false) => "endswith",
                (false, true) => "startswith",
                _ => continue,
            };
            out.push(
                report(
                    &INSTEAD_OF_MODIFIER,
                    format!("use `|{modifier}` instead of wildcards at the ends"),
                )
                .at(&rule.file, value.span)
                .label(format!("same as `|{modifier}`"))
                .help(format!(
                    "write `{}|{modifier}: '{}'`",
                    item.field.as_deref().unwrap_or(""),
                    text.trim_matches('*')
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wildcard_positions;

    #[test]
    fn escaped_wildcards_are_literal() {
        assert_eq!(wildcard_positions("a*b?c"), vec![1, 3]);
        assert!(wildcard_positions("a\\*b\\?").is_empty());
        assert_eq!(wildcard_positions("C:\\\\*"), vec![4]);
    }
}
