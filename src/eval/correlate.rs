//! Correlation rules over event time, with sliding windows.
//!
//! While events stream through the detection rules, every match of a rule
//! that a correlation uses is recorded with its event time, group-by key and
//! aggregated value (a few dozen bytes, not the event). When the stream ends,
//! each group is swept in time order with a window of `timespan`: the
//! correlation fires at the event that makes its condition true, and the
//! window then starts afresh after that event, so one burst gives one alert.
//!
//! Sliding windows are what the Sigma specification asks for; KQL backends
//! use fixed `bin()` buckets instead, which can miss a burst that straddles
//! a bucket edge (README, "Correlations").

use std::collections::BTreeMap;

use serde_json::Value;

use super::event;
use crate::logic::{CmpOp, Correlation, CorrelationKind, RuleLogic};

/// Where an event came from: input number, 1-based line (NDJSON) and
/// 0-based position in its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventRef {
    pub input: usize,
    pub line: usize,
    pub index: usize,
}

/// A correlation that fired.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrelationHit {
    /// Index of the correlation in the lowered rule set.
    pub rule: usize,
    /// The event that completed the condition.
    pub event: EventRef,
    /// The first event in the window.
    pub first: EventRef,
    /// The group-by values.
    pub group: Vec<String>,
    /// The aggregate that satisfied the condition.
    pub value: f64,
    /// Event time of the completing event (unix nanoseconds), so a
    /// correlation of this correlation can place the hit in its windows.
    pub time: i128,
}

#[derive(Clone, Debug)]
struct Record {
    time: i128,
    /// Position of the matched rule in the correlation's `rules`.
    position: usize,
    value: Option<String>,
    event: EventRef,
}

/// Matches recorded per correlation, keyed by group.
pub struct Correlator {
    /// (correlation rule index, its spec)
    correlations: Vec<(usize, Correlation)>,
    records: Vec<BTreeMap<Vec<String>, Vec<Record>>>,
    /// Timestamp fields tried in order.
    timestamp_fields: Vec<String>,
    /// Matches that could not be placed in time.
    pub without_time: usize,
    /// Correlations counted by another with `generate: false`.
    feeds_only: Vec<usize>,
}

impl Correlator {
    pub fn new(rules: &[RuleLogic], timestamp_fields: Vec<String>) -> Correlator {
        let correlations: Vec<(usize, Correlation)> = rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match &r.body {
                crate::logic::Body::Correlation(c) => Some((i, c.clone())),
                crate::logic::Body::Detection(_) => None,
            })
            .collect();
        let records = vec![BTreeMap::new(); correlations.len()];
        let feeds_only = correlations
            .iter()
            .map(|(i, _)| *i)
            .filter(|&i| rules[i].hidden)
            .collect();
        Correlator {
            correlations,
            records,
            timestamp_fields,
            without_time: 0,
            feeds_only,
        }
    }

    /// The event-time fields of the input being read (they depend on its
    /// schema).
    pub fn set_timestamp_fields(&mut self, fields: &[String]) {
        if self.timestamp_fields != fields {
            self.timestamp_fields = fields.to_vec();
        }
    }

    /// Whether any correlation uses rule `rule`.
    pub fn uses(&self, rule: usize) -> bool {
        self.correlations
            .iter()
            .any(|(_, c)| c.rules.contains(&rule))
    }

    pub fn is_empty(&self) -> bool {
        self.correlations.is_empty()
    }

    /// Record that `rule` matched `event`.
    pub fn observe(&mut self, rule: usize, event: &Value, at: EventRef) {
        let time = self
            .timestamp_fields
            .iter()
            .find_map(|f| event::first(event, f).and_then(event_time));
        for (slot, (_, correlation)) in self.correlations.iter().enumerate() {
            for (position, _) in correlation
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| **r == rule)
            {
                let Some(time) = time else {
                    self.without_time += 1;
                    continue;
                };
                let group: Vec<String> = correlation
                    .group_by
                    .iter()
                    .map(|g| text(event::first(event, correlation.group_field(g, rule))))
                    .collect();
                let value = correlation
                    .field
                    .as_deref()
                    .and_then(|f| event::first(event, f))
                    .map(|v| text(Some(v)));
                self.records[slot].entry(group).or_default().push(Record {
                    time,
                    position,
                    value,
                    event: at,
                });
            }
        }
    }

    /// Sweep every group and return the hits, sorted by rule and event.
    ///
    /// Correlations are swept in rule order, and lowering puts a chained
    /// correlation after the correlations it counts, so each one's hits can
    /// be fed to the correlations of correlations before they are swept.
    /// A chained correlation's group-by names the fields of the counted
    /// correlation's group (through its aliases). Hits of correlations that
    /// only feed another (`generate: false`) are not reported.
    pub fn finish(mut self) -> Vec<CorrelationHit> {
        let mut hits = Vec::new();
        for slot in 0..self.correlations.len() {
            let (rule, correlation) = self.correlations[slot].clone();
            let start = hits.len();
            for (group, mut records) in std::mem::take(&mut self.records[slot]) {
                records.sort_by_key(|r| (r.time, r.event));
                sweep(rule, &correlation, &group, &records, &mut hits);
            }
            for later in slot + 1..self.correlations.len() {
                let (_, chained) = &self.correlations[later];
                for (position, _) in chained
                    .rules
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| **r == rule)
                {
                    for hit in &hits[start..] {
                        let group: Vec<String> = chained
                            .group_by
                            .iter()
                            .map(|g| {
                                let field = chained.group_field(g, rule);
                                correlation
                                    .group_by
                                    .iter()
                                    .position(|name| name == field)
                                    .map(|i| hit.group[i].clone())
                                    .unwrap_or_default()
                            })
                            .collect();
                        self.records[later].entry(group).or_default().push(Record {
                            time: hit.time,
                            position,
                            value: None,
                            event: hit.event,
                        });
                    }
                }
            }
        }
        hits.retain(|h| !self.feeds_only.contains(&h.rule));
        hits.sort_by_key(|a| (a.rule, a.event));
        hits
    }
}

fn text(value: Option<&Value>) -> String {
    let mut buffer = String::new();
    value
        .and_then(|v| event::text_of(v, &mut buffer).map(str::to_string))
        .unwrap_or_default()
}

/// Event time in nanoseconds since the epoch: RFC 3339 text, or a number of
/// seconds (or milliseconds, when it is too large to be seconds).
fn event_time(value: &Value) -> Option<i128> {
    match value {
        Value::String(s) => super::parse_timestamp(s).map(|t| t.unix_timestamp_nanos()),
        Value::Number(n) => {
            let f = n.as_f64()?;
            let seconds = if f > 1e11 { f / 1000.0 } else { f };
            Some((seconds * 1e9) as i128)
        }
        _ => None,
    }
}

fn sweep(
    rule: usize,
    c: &Correlation,
    group: &[String],
    records: &[Record],
    hits: &mut Vec<CorrelationHit>,
) {
    let bounded_below = c
        .condition
        .iter()
        .any(|(op, _)| matches!(op, CmpOp::Gt | CmpOp::Gte));
    if !bounded_below {
        return sweep_closed(rule, c, group, records, hits);
    }
    let span = i128::from(c.timespan_seconds) * 1_000_000_000;
    let mut start = 0;
    for end in 0..records.len() {
        if end < start {
            continue;
        }
        while records[start].time < records[end].time - span {
            start += 1;
        }
        let window = &records[start..=end];
        let Some(value) = aggregate(c, window) else {
            continue;
        };
        if condition_holds(&c.condition, value) {
            hits.push(fired(rule, group, window, value));
            start = end + 1;
        }
    }
}

/// Conditions with only an upper bound (`lt: 3`, `eq: 1`) can only be
/// decided when a window is complete: each window opens at an event, runs
/// for `timespan`, and is judged when it closes; the next window opens at
/// the first event after it.
fn sweep_closed(
    rule: usize,
    c: &Correlation,
    group: &[String],
    records: &[Record],
    hits: &mut Vec<CorrelationHit>,
) {
    let span = i128::from(c.timespan_seconds) * 1_000_000_000;
    let mut start = 0;
    while start < records.len() {
        let mut end = start;
        while end + 1 < records.len() && records[end + 1].time <= records[start].time + span {
            end += 1;
        }
        let window = &records[start..=end];
        if let Some(value) = aggregate(c, window)
            && condition_holds(&c.condition, value)
        {
            hits.push(fired(rule, group, window, value));
        }
        start = end + 1;
    }
}

/// The hit for a window that satisfied the condition, reported at its last
/// event.
fn fired(rule: usize, group: &[String], window: &[Record], value: f64) -> CorrelationHit {
    CorrelationHit {
        rule,
        event: window[window.len() - 1].event,
        first: window[0].event,
        group: group.to_vec(),
        value,
        time: window[window.len() - 1].time,
    }
}

/// The number the condition compares, for the events in a window.
fn aggregate(c: &Correlation, window: &[Record]) -> Option<f64> {
    let numbers = || -> Vec<f64> {
        window
            .iter()
            .filter_map(|r| {
                r.value
                    .as_deref()
                    .and_then(|v| v.trim().parse::<f64>().ok())
            })
            .collect()
    };
    Some(match c.kind {
        CorrelationKind::EventCount => window.len() as f64,
        CorrelationKind::ValueCount => {
            let mut values: Vec<&str> = window
                .iter()
                .filter_map(|r| r.value.as_deref())
                .filter(|v| !v.is_empty())
                .collect();
            values.sort_unstable();
            values.dedup();
            values.len() as f64
        }
        CorrelationKind::Temporal => {
            let mut seen = vec![false; c.rules.len()];
            for r in window {
                seen[r.position] = true;
            }
            seen.iter().filter(|s| **s).count() as f64
        }
        CorrelationKind::TemporalOrdered => {
            // Longest prefix of `rules` matched in order inside the window.
            let mut next = 0;
            for r in window {
                if next < c.rules.len() && r.position == next {
                    next += 1;
                }
            }
            next as f64
        }
        CorrelationKind::ValueSum => numbers().iter().sum(),
        CorrelationKind::ValueAvg => {
            let n = numbers();
            if n.is_empty() {
                return None;
            }
            n.iter().sum::<f64>() / n.len() as f64
        }
        CorrelationKind::ValuePercentile | CorrelationKind::ValueMedian => {
            let mut n = numbers();
            if n.is_empty() {
                return None;
            }
            n.sort_by(f64::total_cmp);
            let p = if c.kind == CorrelationKind::ValueMedian {
                50.0
            } else {
                c.percentile.unwrap_or(50.0)
            };
            // Nearest-rank percentile.
            let rank = ((p / 100.0) * n.len() as f64).ceil().max(1.0) as usize;
            n[rank.min(n.len()) - 1]
        }
    })
}

/// Whether a comparison list (a range) holds, for tests and `explain`.
pub fn condition_holds(condition: &[(CmpOp, f64)], value: f64) -> bool {
    condition.iter().all(|(op, t)| op.holds(value, *t))
}
