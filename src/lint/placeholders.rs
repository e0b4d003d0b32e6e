//! ## What it does
//! Checks that every `%name%` placeholder in a `|expand` value has a list
//! `lists/name.txt` in the project.
//!
//! ## Why is this bad?
//! Placeholders hold allow-lists (registered AE titles, sanctioned RMM
//! tools, device VLANs). A missing list makes the rule fail to compile for
//! every target, or, in tools that fall back to `*`, match everything.
//!
//! Outside a project (no `stetho.toml`) the lists are unknown, so this is a
//! warning there.

use super::{Context, Lint, items, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Modifier, Rule};

pub const LINT: Lint = Lint {
    code: "STH204",
    name: "unknown-placeholder",
    severity: Severity::Error,
    summary: "A `%placeholder%` with no list in `lists/` (a warning outside a project).",
};

/// The placeholder names in a value (`%a%` and `%b%` in `%a%x%b%`); a
/// percent sign escaped as `\%` starts none.
pub fn placeholder_names(value: &str) -> Vec<(usize, &str)> {
    let mut names = Vec::new();
    let mut rest = value;
    let mut offset = 0;
    while let Some(start) = rest.find('%') {
        if start > 0 && rest.as_bytes()[start - 1] == b'\\' {
            offset += start + 1;
            rest = &rest[start + 1..];
            continue;
        }
        let after = &rest[start + 1..];
        let Some(end) = after.find('%') else { break };
        let name = &after[..end];
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            names.push((offset + start, name));
            let consumed = start + end + 2;
            offset += consumed;
            rest = &rest[consumed..];
        } else {
            offset += start + 1;
            rest = after;
        }
    }
    names
}

pub fn check(rule: &Rule, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let in_project = ctx.project.root.is_some();
    for (_, item) in items(rule) {
        if !item.has(Modifier::Expand) {
            continue;
        }
        for value in &item.values {
            for (_, name) in placeholder_names(&value.scalar.text) {
                if ctx.lists.contains(name) {
                    continue;
                }
                let mut d = report(&LINT, format!("no list for placeholder `%{name}%`"))
                    .at(&rule.file, value.span)
                    .label("unresolved placeholder");
                if !in_project {
                    d.severity = Severity::Warning;
                    d = d.help("outside a stetho project placeholders cannot be resolved; add stetho.toml and lists/");
                } else {
                    let known = ctx.lists.iter().map(String::as_str);
                    d = match crate::suggest::did_you_mean(name, known) {
                        Some(s) => d.help(format!(
                            "did you mean `%{s}%`? or create lists/{name}.txt, one value per line"
                        )),
                        None => d.help(format!("create lists/{name}.txt with one value per line")),
                    };
                }
                out.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::placeholder_names;

    #[test]
    fn finds_placeholders() {
        assert_eq!(placeholder_names("%a%"), vec![(0, "a")]);
        assert_eq!(
            placeholder_names("x%ae_titles%y%b%"),
            vec![(1, "ae_titles"), (13, "b")]
        );
        assert!(placeholder_names("50% off").is_empty());
        assert!(placeholder_names("\\%plain%site").is_empty());
    }
}
