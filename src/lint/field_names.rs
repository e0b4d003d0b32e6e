//! ## What it does
//! Checks every field a rule matches on against the field catalogue of its
//! log source (`schemas/fields/`, plus the project's own), for the rule's
//! taxonomy: SigmaHQ's generic names by default, native column names with
//! `taxonomy: stetho`. Suggests the closest known name.
//!
//! A dotted field is accepted when it reaches into a known field
//! (`RawEventData.Parameters.ForwardTo` under `RawEventData`).
//! An error under the `healthcare` profile; a warning under `sigma`, whose
//! taxonomy is open-ended.
//!
//! ## Why is this bad?
//! A misspelt field never matches: the rule passes every review and never
//! fires. In KQL it is an unknown-column error at deploy time.

use super::{Context, Lint, items, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;
use crate::settings::Profile;
use crate::suggest::did_you_mean;

pub const LINT: Lint = Lint {
    code: "STH205",
    name: "unknown-field",
    severity: Severity::Error,
    summary: "A field that the rule's log source does not have (a warning under `sigma`).",
};

pub fn check(rule: &Rule, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(catalogue) = ctx.fields.for_logsource(&rule.logsource) else {
        return;
    };
    let known = catalogue.fields_for(rule.taxonomy.as_deref());
    if known.is_empty() {
        return;
    }
    for (_, item) in items(rule) {
        let Some(field) = &item.field else { continue };
        if is_known(field, known) {
            continue;
        }
        let mut d = report(
            &LINT,
            format!("`{field}` is not a field of {}", rule.logsource.describe()),
        )
        .at(&rule.file, item.field_span)
        .label(format!(
            "unknown in the {} taxonomy",
            rule.taxonomy.as_deref().unwrap_or("sigma")
        ));
        if ctx.profile == Profile::Sigma {
            d.severity = Severity::Warning;
        }
        d = match did_you_mean(field, known.iter().map(String::as_str)) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!(
                "known fields are listed in schemas/fields/{}; add the field there if the source has it",
                catalogue.name.rsplit('/').next().unwrap_or(&catalogue.name)
            )),
        };
        out.push(d);
    }
}

fn is_known(field: &str, known: &[String]) -> bool {
    known.iter().any(|k| {
        k == field
            || (field.len() > k.len()
                && field.starts_with(k.as_str())
                && field.as_bytes()[k.len()] == b'.')
    })
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::RULE;
    use crate::lint::testing::run_all;
    use crate::settings::Profile;

    #[test]
    fn unknown_fields_get_a_suggestion_and_a_profile_severity() {
        let rule = RULE.replace("Image|endswith", "Imagee|endswith");
        let sigma = run_all(&rule, Profile::Sigma);
        assert!(
            sigma
                .iter()
                .any(|l| l.starts_with("STH205") && l.contains("`Imagee`")),
            "{sigma:?}"
        );
        // Nested paths into a known field are fine.
        let nested = RULE.replace("Image|endswith", "Image.sub|endswith");
        assert!(
            !run_all(&nested, Profile::Sigma)
                .iter()
                .any(|l| l.starts_with("STH205"))
        );
    }
}
