//! ## What it does
//! Flags value modifiers that Sigma does not define (`|contians`,
//! `|Contains`, `|regex`), with the closest real modifier as a hint.
//!
//! ## Why is this bad?
//! Backends either reject the whole rule or, worse, some tools ignore the
//! unknown modifier and match the value literally.

use super::{Context, Lint, items, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Modifier, Rule};
use crate::suggest::did_you_mean;

pub const LINT: Lint = Lint {
    code: "STH200",
    name: "unknown-modifier",
    severity: Severity::Error,
    summary: "A value modifier that Sigma does not define.",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (_, item) in items(rule) {
        for used in item.modifiers.iter().filter(|m| m.modifier.is_none()) {
            let mut d = report(&LINT, format!("unknown modifier `{}`", used.name))
                .at(&rule.file, used.span)
                .label("not a Sigma modifier");
            d = match (
                used.name.is_empty(),
                did_you_mean(&used.name, Modifier::names()),
            ) {
                (true, _) => d.help("remove the empty `|`"),
                (false, Some(s)) => d.help(format!("did you mean `{s}`?")),
                (false, None) => {
                    d.help("see the modifier list in the Sigma specification appendix")
                }
            };
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::run_all;
    use crate::settings::Profile;

    #[test]
    fn suggests_the_closest_modifier() {
        let found = run_all(
            "title: t\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    CommandLine|contians: x\n  condition: sel\n",
            Profile::Sigma,
        );
        assert!(
            found.contains(&"STH200 5:17 unknown modifier `contians`".to_string()),
            "{found:?}"
        );
    }
}
