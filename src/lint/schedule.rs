//! ## What it does
//! Checks a rule's own `schedule:` the way `compile` applies it: a
//! `period` (how far back the Sentinel rule looks) of 1 hour to 14 days,
//! and no shorter than the `frequency`. The JSON Schema checks the forms
//! (`frequency` one of 1h, 3h, 12h, 24h; `period` hours or days).
//!
//! ## Why is this bad?
//! A lookback shorter than the interval between runs never queries the
//! events that arrive in the gap; a lookback past 14 days is refused by
//! Sentinel at deployment, long after review.

use super::{Context, Lint, report};
use crate::backend::deploy::Schedule;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;

pub const LINT: Lint = Lint {
    code: "STH126",
    name: "invalid-schedule",
    severity: Severity::Error,
    summary: "A `schedule.period` shorter than the frequency or longer than 14 days.",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(block) = rule.root.get("schedule") else {
        return;
    };
    let Some(period) = block.get("period") else {
        return;
    };
    // A malformed frequency is the schema's finding; the period is checked
    // against the frequency a deployment would use.
    let valid_frequency = block
        .get("frequency")
        .and_then(|f| f.as_str())
        .is_none_or(|f| Schedule::parse(f).is_ok());
    if !valid_frequency || period.as_str().is_none() {
        return;
    }
    if let Err(message) = Schedule::default().of_rule(Some(rule)) {
        out.push(
            report(&LINT, message)
                .at(&rule.file, period.span)
                .label("the Sentinel rule's lookback")
                .help("give a period from the frequency up to 14d, or leave it out to look back one frequency"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{RULE, run_all};
    use crate::settings::Profile;

    fn findings(schedule: &str) -> Vec<String> {
        run_all(&format!("{RULE}schedule:\n{schedule}"), Profile::Sigma)
            .into_iter()
            .filter(|l| l.starts_with("STH126"))
            .collect()
    }

    #[test]
    fn periods_must_cover_the_frequency_and_stay_within_fourteen_days() {
        assert!(findings("    frequency: 3h\n    period: 1d\n").is_empty());
        assert!(findings("    period: 14d\n").is_empty());
        let short = findings("    frequency: 12h\n    period: 6h\n");
        assert_eq!(short.len(), 1, "{short:?}");
        assert!(
            short[0].contains("shorter than the frequency (12h)"),
            "{short:?}"
        );
        let long = findings("    period: 15d\n");
        assert_eq!(long.len(), 1, "{long:?}");
        assert!(long[0].contains("14 days"), "{long:?}");
        // The schema reports a malformed frequency; this check keeps out.
        assert!(findings("    frequency: 2h\n    period: 1h\n").is_empty());
    }
}
