//! ## What it does
//! Compares the condition with the search identifiers:
//! - a name or pattern in the condition that matches no search identifier
//!   (STH301, an error);
//! - a search identifier that no condition uses (STH302, a warning).
//!
//! ## Why is this bad?
//! An undefined name makes the rule fail to convert; an unused selection is
//! usually a filter the author meant to apply (`not filter_admin`) and
//! forgot, so the rule fires on the very activity it should ignore.

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::condition::{self, Expr, Target};
use crate::model::{Rule, span_in_scalar};
use crate::suggest::did_you_mean;

pub const UNDEFINED: Lint = Lint {
    code: "STH301",
    name: "undefined-identifier",
    severity: Severity::Error,
    summary: "The condition names a search identifier that does not exist.",
};

pub const UNUSED: Lint = Lint {
    code: "STH302",
    name: "unused-identifier",
    severity: Severity::Warning,
    summary: "A search identifier that no condition uses.",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(detection) = &rule.detection else {
        return;
    };
    let names: Vec<&str> = detection
        .identifiers
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    let mut used = vec![false; names.len()];
    let mut all_parsed = true;
    for cond in &detection.conditions {
        let Ok(expr) = condition::parse(&cond.text) else {
            all_parsed = false;
            continue;
        };
        for reference in expr.references() {
            let (selected, span, shown) = match reference {
                Expr::Ident { name, span } => (
                    names
                        .iter()
                        .position(|n| n == name)
                        .into_iter()
                        .collect::<Vec<_>>(),
                    span.clone(),
                    name.clone(),
                ),
                Expr::Of { target, span, .. } => {
                    let chosen = condition::select(target, names.iter().copied());
                    let shown = match target {
                        Target::Them => "them".to_string(),
                        Target::Pattern(p) => p.clone(),
                    };
                    (
                        chosen
                            .iter()
                            .filter_map(|c| names.iter().position(|n| n == c))
                            .collect(),
                        span.clone(),
                        shown,
                    )
                }
                _ => continue,
            };
            for i in &selected {
                used[*i] = true;
            }
            if selected.is_empty() {
                let at = span_in_scalar(&rule.file, cond.node_span, &cond.text, span);
                let is_pattern = !matches!(reference, Expr::Ident { .. });
                let mut d = report(
                    &UNDEFINED,
                    if is_pattern {
                        format!("`{shown}` matches no search identifier")
                    } else {
                        format!("undefined search identifier `{shown}`")
                    },
                )
                .at(&rule.file, at)
                .label("not defined in `detection`");
                d = match did_you_mean(&shown, names.iter().copied()) {
                    Some(s) if !is_pattern => d.help(format!("did you mean `{s}`?")),
                    _ => d.help(format!("defined: {}", names.join(", "))),
                };
                out.push(d);
            }
        }
    }
    if !all_parsed || detection.conditions.is_empty() {
        return;
    }
    for (ident, used) in detection.identifiers.iter().zip(used) {
        if !used {
            out.push(
                report(
                    &UNUSED,
                    format!(
                        "search identifier `{}` is not used by the condition",
                        ident.name
                    ),
                )
                .at(&rule.file, ident.span)
                .label("unused")
                .help(format!(
                    "use it in the condition (e.g. `and not {}`) or remove it",
                    ident.name
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::run_all;
    use crate::settings::Profile;

    #[test]
    fn undefined_and_unused() {
        let found = run_all(
            "title: t\nlogsource: {product: windows, category: process_creation}\ndetection:\n  selection:\n    Image: a\n  filter_x:\n    Image: b\n  condition: selecton\n",
            Profile::Sigma,
        );
        assert!(
            found.contains(&"STH301 8:14 undefined search identifier `selecton`".to_string()),
            "{found:?}"
        );
        assert!(
            found.iter().any(|l| l.starts_with("STH302 6:3")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|l| l.starts_with("STH302 4:3")),
            "{found:?}"
        );
    }

    #[test]
    fn patterns_and_them_count_as_uses() {
        let found = run_all(
            "title: t\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel_a:\n    Image: a\n  sel_b:\n    Image: b\n  filter:\n    Image: c\n  condition: 1 of sel_* and not 1 of filt*\n",
            Profile::Sigma,
        );
        assert!(!found.iter().any(|l| l.starts_with("STH30")), "{found:?}");
    }
}
