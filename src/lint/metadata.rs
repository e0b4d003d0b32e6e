//! ## What it does
//! Checks rule metadata the schema cannot:
//! - a rule without an `id` (STH103: a warning under `sigma`, an error
//!   under `healthcare`, where ids key snapshots and deployed detections);
//! - `date`/`modified` that are not real calendar dates (`2025-02-30`), or
//!   `modified` before `date` (STH109);
//! - a title that is only spaces (STH115);
//! - `logsource` keys that look like a misspelt `category`, `product`,
//!   `service` or `definition` (STH116).
//!
//! ## Why is this bad?
//! A rule without an id cannot be tracked across renames; an impossible date
//! breaks every tool that parses it; a misspelt `categroy:` silently makes
//! the rule apply to every category of the product.

use time::Date;
use time::macros::format_description;

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Rule, RuleKind};
use crate::settings::Profile;
use crate::suggest::did_you_mean;

pub const MISSING_ID: Lint = Lint {
    code: "STH103",
    name: "missing-id",
    severity: Severity::Error,
    summary: "A rule without an `id` (a warning under the sigma profile).",
};

pub const INVALID_DATE: Lint = Lint {
    code: "STH109",
    name: "invalid-date",
    severity: Severity::Error,
    summary: "`date`/`modified` is not a calendar date, or `modified` is before `date`.",
};

pub const BLANK_TITLE: Lint = Lint {
    code: "STH115",
    name: "blank-title",
    severity: Severity::Error,
    summary: "The title is empty or only whitespace.",
};

pub const LOGSOURCE_KEY: Lint = Lint {
    code: "STH116",
    name: "misspelt-logsource-key",
    severity: Severity::Warning,
    summary: "A `logsource` key that looks like a misspelt category/product/service/definition.",
};

pub const MISSING_LEVEL: Lint = Lint {
    code: "STH118",
    name: "missing-level",
    severity: Severity::Warning,
    summary: "A detection or correlation rule without a `level`.",
};

pub const DEPRECATED_WITHOUT_RELATED: Lint = Lint {
    code: "STH119",
    name: "deprecated-without-related",
    severity: Severity::Warning,
    summary: "A deprecated rule that does not name its replacement in `related`.",
};

const LOGSOURCE_KEYS: &[&str] = &["category", "product", "service", "definition"];

pub fn check(rule: &Rule, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    if rule.id.is_none() {
        let mut d = report(&MISSING_ID, format!("rule `{}` has no `id`", rule.label()))
            .at(&rule.file, rule.anchor_span())
            .label("no id")
            .help("add `id:` with a new UUID; ids keep a rule traceable across renames and deployments");
        if ctx.profile == Profile::Sigma || rule.kind == RuleKind::Filter {
            d.severity = Severity::Warning;
        }
        out.push(d);
    }
    if let Some(title) = &rule.title
        && title.text.trim().is_empty()
    {
        out.push(
            report(&BLANK_TITLE, "the title is blank")
                .at(&rule.file, title.span)
                .label("no text")
                .help("say what the rule detects; the title becomes the alert name"),
        );
    }
    let deployable = matches!(rule.kind, RuleKind::Detection | RuleKind::Correlation);
    if deployable && rule.level.is_none() && !crate::lint::feeds_correlation(rule) {
        out.push(
            report(
                &MISSING_LEVEL,
                format!("rule `{}` has no `level`", rule.label()),
            )
            .at(&rule.file, rule.anchor_span())
            .label("no level")
            .help("alerts need a severity: informational, low, medium, high or critical"),
        );
    }
    if let Some(status) = rule.root.get("status")
        && status.as_str() == Some("deprecated")
        && rule.root.get("related").is_none()
    {
        out.push(
            report(
                &DEPRECATED_WITHOUT_RELATED,
                "deprecated rule without `related`",
            )
            .at(&rule.file, status.span)
            .label("deprecated")
            .help("name the rule that replaces it: `related: [{id: <uuid>, type: obsolete}]`"),
        );
    }
    let date = check_date(rule, "date", out);
    let modified = check_date(rule, "modified", out);
    if let (Some(date), Some((modified, span))) = (date, modified)
        && modified < date.0
    {
        out.push(
            report(&INVALID_DATE, "`modified` is before `date`")
                .at(&rule.file, span)
                .label("earlier than the creation date")
                .related(&rule.file, date.1, "created here")
                .help("`modified` records the last change; it cannot precede `date`"),
        );
    }
    if let Some(entries) = rule.root.get("logsource").and_then(|n| n.as_map()) {
        for entry in entries {
            let key = entry.key_str();
            if LOGSOURCE_KEYS.contains(&key) {
                continue;
            }
            if let Some(s) = did_you_mean(key, LOGSOURCE_KEYS.iter().copied()) {
                out.push(
                    report(
                        &LOGSOURCE_KEY,
                        format!("`{key}` is not a log source attribute"),
                    )
                    .at(&rule.file, entry.key.span)
                    .label("custom logsource key")
                    .help(format!("did you mean `{s}`?")),
                );
            }
        }
    }
}

/// Parse `date`/`modified`; report a well-formed but impossible date.
fn check_date(
    rule: &Rule,
    key: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<(Date, crate::source::Span)> {
    let node = rule.root.get(key)?;
    let text = node.as_str()?;
    let shaped = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    if !shaped {
        return None; // the schema reports the format
    }
    match Date::parse(text, format_description!("[year]-[month]-[day]")) {
        Ok(d) => Some((d, node.span)),
        Err(_) => {
            out.push(
                report(
                    &INVALID_DATE,
                    format!("`{key}` is not a calendar date: {text}"),
                )
                .at(&rule.file, node.span)
                .label("no such day")
                .help("check the day and month"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes;
    use crate::settings::Profile;

    const BASE: &str = "title: t\nid: 0d1e2f3a-4b5c-4d6e-9f7a-8b9c0d1e2f3a\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image: a\n  condition: sel\n";

    #[test]
    fn dates_must_exist_and_be_ordered() {
        let bad_day = format!("{BASE}date: '2025-02-30'\n");
        assert!(codes(&bad_day, Profile::Sigma).contains(&"STH109".to_string()));
        let reversed = format!("{BASE}date: '2025-03-01'\nmodified: '2025-02-01'\n");
        assert!(codes(&reversed, Profile::Sigma).contains(&"STH109".to_string()));
        let fine = format!("{BASE}date: '2025-03-01'\nmodified: '2025-04-01'\n");
        assert!(!codes(&fine, Profile::Sigma).contains(&"STH109".to_string()));
    }

    #[test]
    fn missing_id_is_an_error_only_under_healthcare() {
        let no_id = BASE.replace("id: 0d1e2f3a-4b5c-4d6e-9f7a-8b9c0d1e2f3a\n", "");
        let sigma = crate::lint::testing::run_all(&no_id, Profile::Sigma);
        assert!(sigma.iter().any(|l| l.starts_with("STH103")));
        assert!(codes(&no_id, Profile::Healthcare).contains(&"STH103".to_string()));
    }

    #[test]
    fn misspelt_logsource_keys_and_blank_titles() {
        let typo = BASE.replace("category:", "categroy:");
        assert!(codes(&typo, Profile::Sigma).contains(&"STH116".to_string()));
        let blank = BASE.replace("title: t", "title: '  '");
        assert!(codes(&blank, Profile::Sigma).contains(&"STH115".to_string()));
    }
}
