//! ## What it does
//! Warns when `healthcare.review.next_review` is in the past (STH123) and
//! flags a `next_review` that is not after `last_reviewed` (STH124).
//!
//! ## Why is this bad?
//! CAF C1.c expects detections to be "regularly reviewed and tested". A rule
//! past its review date still runs, but nobody has confirmed it still fits
//! the estate, the threat or the log source.

use time::Date;
use time::macros::format_description;

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;

pub const OVERDUE: Lint = Lint {
    code: "STH123",
    name: "review-overdue",
    severity: Severity::Warning,
    summary: "`healthcare.review.next_review` is in the past.",
};

pub const ORDER: Lint = Lint {
    code: "STH124",
    name: "review-dates-out-of-order",
    severity: Severity::Error,
    summary: "`next_review` is not after `last_reviewed`.",
};

fn parse(text: &str) -> Option<Date> {
    Date::parse(text, format_description!("[year]-[month]-[day]")).ok()
}

pub fn check(rule: &Rule, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(review) = rule.healthcare().and_then(|h| h.get("review")) else {
        return;
    };
    let last = review
        .get("last_reviewed")
        .and_then(|n| n.as_str().and_then(parse).map(|d| (d, n.span)));
    let Some(next_node) = review.get("next_review") else {
        return;
    };
    let Some(next) = next_node.as_str().and_then(parse) else {
        return;
    };
    if next < ctx.today {
        out.push(
            report(&OVERDUE, format!("review was due on {next}"))
                .at(&rule.file, next_node.span)
                .label("overdue")
                .help("review the rule (logic, fixtures, metadata), then move `last_reviewed` and `next_review` on"),
        );
    }
    if let Some((last, last_span)) = last
        && next <= last
    {
        out.push(
            report(&ORDER, "`next_review` must be after `last_reviewed`")
                .at(&rule.file, next_node.span)
                .label("not after the last review")
                .related(&rule.file, last_span, "last review"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes;
    use crate::lint::testing::{HEALTHCARE, RULE};
    use crate::settings::Profile;

    #[test]
    fn overdue_and_out_of_order_reviews() {
        let current = format!("{RULE}{HEALTHCARE}");
        assert!(
            !codes(&current, Profile::Sigma)
                .iter()
                .any(|c| c == "STH123" || c == "STH124")
        );
        let overdue = current.replace("next_review: '2027-06-01'", "next_review: '2026-07-01'");
        assert!(codes(&overdue, Profile::Sigma).contains(&"STH123".to_string()));
        let reversed = current.replace("next_review: '2027-06-01'", "next_review: '2026-05-01'");
        assert!(codes(&reversed, Profile::Sigma).contains(&"STH124".to_string()));
    }
}
