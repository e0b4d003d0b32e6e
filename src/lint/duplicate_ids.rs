//! ## What it does
//! Flags rule ids (and correlation `name`s) used by more than one rule
//! across the whole rule set.
//!
//! ## Why is this bad?
//! Ids key snapshots, deployed detections and correlation references. Two
//! rules with one id overwrite each other in a console and make test
//! results ambiguous.

use std::collections::BTreeMap;

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;

pub const LINT: Lint = Lint {
    code: "STH104",
    name: "duplicate-id",
    severity: Severity::Error,
    summary: "Two rules share an id or a name.",
};

pub fn check(rules: &[Rule], _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (what, pick) in [
        (
            "id",
            (|r: &Rule| r.id.clone()) as fn(&Rule) -> Option<crate::model::Located>,
        ),
        ("name", |r: &Rule| r.name.clone()),
    ] {
        let mut first: BTreeMap<String, &Rule> = BTreeMap::new();
        for rule in rules {
            let Some(value) = pick(rule) else { continue };
            let key = value.text.to_lowercase();
            match first.get(&key) {
                None => {
                    first.insert(key, rule);
                }
                Some(original) => {
                    let Some(original_value) = pick(original) else {
                        continue;
                    };
                    out.push(
                        report(&LINT, format!("{what} `{}` is already used by `{}`", value.text, original.label()))
                            .at(&rule.file, value.span)
                            .label(format!("duplicate {what}"))
                            .related(&original.file, original_value.span, "first used here")
                            .help(if what == "id" {
                                "give this rule a new UUID (`python3 -c 'import uuid; print(uuid.uuid4())'`)"
                            } else {
                                "rule names must be unique so correlations can reference them"
                            }),
                    );
                }
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
    fn the_second_use_of_an_id_is_reported() {
        let two = format!("{RULE}---\n{}", RULE.replace("title: t", "title: other"));
        assert!(codes(&two, Profile::Sigma).contains(&"STH104".to_string()));
    }
}
