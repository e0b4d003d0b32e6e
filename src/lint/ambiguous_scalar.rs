//! ## What it does
//! Flags plain (unquoted) values that YAML 1.1 and YAML 1.2 read differently,
//! such as `yes`, `on`, `0755` or `00000429`.
//!
//! ## Why is this bad?
//! pySigma reads rules with a YAML 1.1 loader, most modern loaders (and
//! stetho's) with YAML 1.2. SigmaHQ's `Details|contains: [00000429]` is the
//! string "00000429" to one and the number 429 to the other, so the same
//! rule matches different events depending on the tool.
//!
//! ## Example
//! `Details|contains: 00000429` → write `Details|contains: '00000429'`.

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;

pub const LINT: Lint = Lint {
    code: "STH007",
    name: "ambiguous-plain-scalar",
    severity: Severity::Warning,
    summary: "A plain value that YAML 1.1 and YAML 1.2 read differently.",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(entries) = rule.root.as_map() else {
        return;
    };
    for entry in entries {
        // Keys are never typed; only values are ambiguous.
        entry.value.walk(&mut |node| {
            if let Some(scalar) = node.as_scalar()
                && let Some(why) = scalar.yaml11_ambiguity()
            {
                // Mapping keys inside the value are visited too; they stay text.
                out.push(
                    report(
                        &LINT,
                        format!(
                            "plain value `{}` is read differently by YAML 1.1 and 1.2",
                            scalar.text
                        ),
                    )
                    .at(&rule.file, node.span)
                    .label(why)
                    .help(format!("quote it: '{}'", scalar.text)),
                );
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::run_all;
    use crate::settings::Profile;

    #[test]
    fn flags_leading_zero_numbers_in_values_only() {
        let found = run_all(
            "title: t\nlogsource: {product: windows}\ndetection:\n  sel:\n    Details|contains: [00000429, '00050429']\n  condition: sel\n",
            Profile::Sigma,
        );
        assert!(
            found.iter().any(|l| l.starts_with("STH007 5:24 ")),
            "{found:?}"
        );
        assert_eq!(found.iter().filter(|l| l.starts_with("STH007")).count(), 1);
    }
}
