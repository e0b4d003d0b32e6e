//! ## What it does
//! Checks that correlations do not count each other in a cycle: a
//! correlation that counts `b`, where `b` (directly or through other
//! correlations) counts the first one back.
//!
//! ## Why is this bad?
//! A chained correlation is evaluated after the correlations it counts;
//! in a cycle none of them can come first, so none of them is ever
//! evaluated or compiled. `stetho replay`, `test` and `compile` skip them
//! with this error too.

use std::collections::{BTreeMap, BTreeSet};

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Rule, RuleKind};

pub const LINT: Lint = Lint {
    code: "STH313",
    name: "correlation-cycle",
    severity: Severity::Error,
    summary: "Correlations count each other in a cycle, so none of them can be evaluated.",
};

pub fn check(rules: &[Rule], _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let correlations: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.kind == RuleKind::Correlation)
        .collect();
    // Correlation index by id and by name: what a reference can point to.
    let mut by_key: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, rule) in correlations.iter().enumerate() {
        for key in [rule.id.as_ref(), rule.name.as_ref()].into_iter().flatten() {
            by_key.entry(key.text.as_str()).or_insert(i);
        }
    }
    let counts = |i: usize| -> Vec<usize> {
        correlations[i]
            .correlation
            .as_ref()
            .map(|c| {
                c.rules
                    .iter()
                    .filter_map(|r| by_key.get(r.text.as_str()).copied())
                    .collect()
            })
            .unwrap_or_default()
    };
    for (i, rule) in correlations.iter().enumerate() {
        let Some(correlation) = &rule.correlation else {
            continue;
        };
        // The first reference from which this correlation is reached again.
        let closing = correlation.rules.iter().find(|reference| {
            by_key
                .get(reference.text.as_str())
                .is_some_and(|&start| reaches(start, i, &counts))
        });
        if let Some(reference) = closing {
            out.push(
                report(
                    &LINT,
                    format!(
                        "correlation `{}` counts `{}`, which counts this correlation back",
                        rule.label(),
                        reference.text
                    ),
                )
                .at(&rule.file, reference.span)
                .label("this reference closes a cycle")
                .help("a chain of correlations must end at detection rules; remove one of the references"),
            );
        }
    }
}

/// Whether `target` is reachable from `start` through the counted-by edges.
fn reaches(start: usize, target: usize, counts: &dyn Fn(usize) -> Vec<usize>) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![start];
    while let Some(i) = stack.pop() {
        if i == target {
            return true;
        }
        if seen.insert(i) {
            stack.extend(counts(i));
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes_of_file as lint;

    #[test]
    fn correlations_counting_each_other_are_an_error() {
        let found = lint("tests/replay/correlation_cycle/cycle.yml");
        assert_eq!(
            found.iter().filter(|c| *c == "STH313").count(),
            2,
            "{found:?}"
        );
    }

    #[test]
    fn a_chain_that_ends_at_detections_passes() {
        assert!(
            !lint("tests/kql/chained/detections/repeated_discovery_bursts.yml")
                .contains(&"STH313".to_string())
        );
    }
}
