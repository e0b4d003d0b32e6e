//! Replaying event streams through lowered rules: the engine behind
//! `stetho replay` (and `stetho test`).
//!
//! Events are read in batches and matched on all cores; results are put
//! back in input order before anything is reported, so output is the same
//! with one thread or many. Each input's shape (its *schema*) decides how a
//! rule's fields reach the event: `sigma` means the events use the rules'
//! own names; `pipeline.Table` (say `defender_xdr.DeviceProcessEvents`)
//! means the events are rows of that table, and each rule is mapped through
//! the pipeline first, exactly as the KQL compiler maps it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rayon::prelude::*;
use serde_json::Value;
use thiserror::Error;

use crate::eval::correlate::{CorrelationHit, Correlator, EventRef};
use crate::eval::{RuleSet, Scratch};
use crate::events::{self, Item};
use crate::fixture;
use crate::logic::{Body, RuleLogic};
use crate::pipeline::{Pipelines, SelectError, Source};

mod parse;

use parse::{Keys, parse_event, parse_scanning};

/// Event-time fields tried when the schema does not name one.
pub const DEFAULT_TIMESTAMP_FIELDS: &[&str] = &[
    "Timestamp",
    "TimeGenerated",
    "@timestamp",
    "timestamp",
    "UtcTime",
    "EventTime",
    "time",
];

/// Events matched per batch: big enough to keep every core busy, small
/// enough that memory stays flat.
const BATCH: usize = 4096;

/// What shape events have.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Schema {
    /// The rules' own field names.
    Sigma,
    /// Rows of a table of a pipeline.
    Table { pipeline: String, table: String },
}

impl Schema {
    pub fn parse(text: &str) -> Result<Schema, ReplayError> {
        if text == "sigma" {
            return Ok(Schema::Sigma);
        }
        match text.split_once('.') {
            Some((p, t)) if !p.is_empty() && !t.is_empty() => Ok(Schema::Table {
                pipeline: p.to_string(),
                table: t.to_string(),
            }),
            _ => Err(ReplayError::Schema(format!(
                "`{text}` is neither `sigma` nor `pipeline.Table`"
            ))),
        }
    }
}

impl std::fmt::Display for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Schema::Sigma => f.write_str("sigma"),
            Schema::Table { pipeline, table } => write!(f, "{pipeline}.{table}"),
        }
    }
}

#[derive(Debug, Error)]
pub enum ReplayError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("schema: {0}")]
    Schema(String),
    #[error("{0}")]
    Pipeline(#[from] crate::pipeline::PipelineError),
    #[error("rule `{rule}`: {message}")]
    Compile { rule: String, message: String },
}

/// The rule set compiled for one schema.
pub struct Prepared {
    pub schema: Schema,
    /// Every applicable rule, compiled together.
    set: RuleSet,
    /// Rules that cannot run on this schema, with the reason.
    pub skipped: Vec<(usize, String)>,
    /// Renames column keys to canonical names (healthcare tables).
    canonical: Vec<Source>,
    pub timestamp_fields: Vec<String>,
    /// Top-level keys worth parsing; `None` when every value is needed
    /// (keyword searches).
    keys: Option<Keys>,
}

impl Prepared {
    pub fn new(
        rules: &[RuleLogic],
        schema: &Schema,
        pipelines: &Pipelines,
        timestamp_override: Option<&str>,
    ) -> Result<Prepared, ReplayError> {
        let mut exprs = Vec::with_capacity(rules.len());
        let mut skipped = Vec::new();
        let mut canonical = Vec::new();
        let mut timestamp_fields: Vec<String> = DEFAULT_TIMESTAMP_FIELDS
            .iter()
            .map(|s| s.to_string())
            .collect();
        let pipeline = match schema {
            Schema::Sigma => None,
            Schema::Table { pipeline, table } => {
                let p = pipelines.get(pipeline)?;
                if !p.has_table(table) {
                    return Err(ReplayError::Schema(format!(
                        "pipeline `{pipeline}` has no table `{table}`"
                    )));
                }
                if let Some(source) = p.sources_of_table(table).next() {
                    timestamp_fields.insert(0, source.timestamp.clone());
                }
                // Every source of the table: the categories that share it
                // (registry_add, registry_set, ...) may compute different
                // fields, and a recording holds rows of all of them.
                for source in p.sources_of_table(table) {
                    if !source.columns.is_empty() || source.computed().next().is_some() {
                        canonical.push(source.clone());
                    }
                }
                Some((p, table.as_str()))
            }
        };
        if let Some(field) = timestamp_override {
            timestamp_fields.insert(0, field.to_string());
        }
        for (i, rule) in rules.iter().enumerate() {
            let Body::Detection(expr) = &rule.body else {
                exprs.push(None);
                continue;
            };
            let expr = match pipeline {
                None => expr.clone(),
                Some((p, table)) => match p.source_for_logic(&rule.logsource, expr) {
                    Ok(source) if source.table == table => {
                        match source.map_for_events(&p.name, expr, rule.taxonomy.as_deref()) {
                            Ok(mapped) => mapped,
                            Err(e) => {
                                skipped.push((i, e.to_string()));
                                exprs.push(None);
                                continue;
                            }
                        }
                    }
                    Ok(source) => {
                        skipped.push((
                            i,
                            format!("its log source reads {}, not {table}", source.table),
                        ));
                        exprs.push(None);
                        continue;
                    }
                    Err(SelectError::NoSource { .. }) => {
                        skipped.push((
                            i,
                            format!(
                                "pipeline {} has no table for {}",
                                p.name,
                                rule.logsource.describe()
                            ),
                        ));
                        exprs.push(None);
                        continue;
                    }
                    Err(e) => {
                        skipped.push((i, e.to_string()));
                        exprs.push(None);
                        continue;
                    }
                },
            };
            exprs.push(Some(expr));
        }
        let set = RuleSet::new(&exprs).map_err(|(i, e)| ReplayError::Compile {
            rule: rules
                .get(i)
                .map_or_else(String::new, |r| r.key().to_string()),
            message: e.to_string(),
        })?;
        // Only correlations read an event's time.
        let correlated = rules.iter().any(|r| matches!(r.body, Body::Correlation(_)));
        let times: &[String] = if correlated { &timestamp_fields } else { &[] };
        let keys = Keys::new(&set, rules, &exprs, &canonical, times);
        Ok(Prepared {
            schema: schema.clone(),
            set,
            skipped,
            canonical,
            timestamp_fields,
            keys,
        })
    }

    /// Parse one line. Returns whether the rule set's scan ran while
    /// parsing (it does unless every value must be kept, or a pipeline
    /// rewrites the event before matching).
    fn parse(
        &self,
        text: &[u8],
        keep_events: bool,
        scratch: &mut Scratch,
    ) -> (Result<Value, String>, bool) {
        match &self.keys {
            Some(keys) if !keep_events && self.canonical.is_empty() => {
                parse_scanning(text, keys, &self.set, scratch)
            }
            Some(keys) if !keep_events => (parse_event(text, Some(&keys.plain)), false),
            _ => (parse_event(text, None), false),
        }
    }
}

/// One detection hit.
#[derive(Clone, Debug)]
pub struct Hit {
    pub rule: usize,
    pub at: EventRef,
    /// `None` for events of JSON arrays and documents.
    pub line: Option<usize>,
    pub event: Option<Value>,
}

/// A malformed line or document, reported and skipped.
#[derive(Clone, Debug)]
pub struct Malformed {
    pub input: usize,
    pub line: Option<usize>,
    pub message: String,
}

/// The rules that did not apply to one input's schema, with reasons.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub input: usize,
    pub schema: Schema,
    pub rules: Vec<(usize, String)>,
}

/// Totals of a replay.
#[derive(Debug, Default)]
pub struct Stats {
    pub inputs: usize,
    pub events: u64,
    pub bytes: u64,
    pub hits: u64,
    pub malformed: Vec<Malformed>,
    /// Correlation matches that had no usable timestamp.
    pub without_time: usize,
    /// Per input: the schema used and the rules skipped on it.
    pub skipped: Vec<Skipped>,
}

/// Options of a replay run.
pub struct Options<'a> {
    /// Force a schema for every input (else the fixture header, else sigma).
    pub schema: Option<Schema>,
    pub timestamp_field: Option<&'a str>,
    pub keep_events: bool,
    /// A progress bar to advance (hidden when not on a terminal).
    pub progress: Option<indicatif::ProgressBar>,
}

/// An event waiting in a batch: NDJSON lines are parsed in the batch, in
/// parallel.
enum Pending {
    Parsed(Option<usize>, Value),
    /// A line number and where the line's text sits in [`Batch::text`].
    Raw(usize, std::ops::Range<usize>),
}

/// The events of one batch. Raw lines are copied into one buffer that is
/// reused from batch to batch, not into an allocation each: a line copied
/// by the reader's thread and freed by a worker costs the allocator a
/// cross-thread free per event.
#[derive(Default)]
struct Batch {
    pending: Vec<Pending>,
    text: Vec<u8>,
}

impl Batch {
    /// A batch is flushed at [`BATCH`] events, or earlier when its lines
    /// hold this many bytes, so memory stays flat with very long lines.
    const MAX_TEXT: usize = 32 << 20;

    fn push_raw(&mut self, line: usize, text: &[u8]) {
        let start = self.text.len();
        self.text.extend_from_slice(text);
        self.pending
            .push(Pending::Raw(line, start..self.text.len()));
    }

    fn full(&self) -> bool {
        self.pending.len() >= BATCH || self.text.len() >= Self::MAX_TEXT
    }
}

/// Matches single NDJSON lines the way replay takes them (parsed with its
/// key filter, fields scanned as they are read) against rules in the
/// `sigma` schema. For the tests and the fuzz target that hold this path to
/// the evaluator's answer on fully parsed values.
pub struct LineMatcher {
    prepared: Prepared,
    scratch: Scratch,
}

impl LineMatcher {
    pub fn new(rules: &[RuleLogic]) -> Result<LineMatcher, ReplayError> {
        let prepared = Prepared::new(rules, &Schema::Sigma, &Pipelines::default(), None)?;
        let scratch = prepared.set.scratch();
        Ok(LineMatcher { prepared, scratch })
    }

    /// The detection rules the line matches, or why it does not parse.
    pub fn matching(&mut self, line: &[u8]) -> Result<Vec<usize>, String> {
        let (parsed, _) = self.prepared.parse(line, false, &mut self.scratch);
        let mut out = Vec::new();
        self.prepared
            .set
            .matching(&parsed?, &mut self.scratch, &mut out);
        Ok(out)
    }
}

/// What became of one line on a worker.
enum Outcome {
    Malformed(String),
    Event(Matched),
    /// A generator line: the events it produced, in order.
    Generated(Vec<Matched>),
}

/// One event and the detection rules it matched; the event itself is only
/// kept when a correlation or `--with-event` reads it after the batch.
struct Matched {
    event: Option<Value>,
    rules: Vec<usize>,
}

/// State shared by all inputs of one replay.
struct Run<'a> {
    rules: &'a [RuleLogic],
    pipelines: &'a Pipelines,
    options: &'a Options<'a>,
    prepared: BTreeMap<Schema, Prepared>,
    correlator: Correlator,
    stats: Stats,
}

/// Replay `inputs` through `rules`, calling `on_hit` for detection hits in
/// input order; correlation hits are returned at the end, sorted.
pub fn replay(
    rules: &[RuleLogic],
    pipelines: &Pipelines,
    inputs: &[PathBuf],
    options: &Options<'_>,
    on_hit: &mut dyn FnMut(&Hit),
) -> Result<(Stats, Vec<CorrelationHit>), ReplayError> {
    let mut run = Run {
        rules,
        pipelines,
        options,
        prepared: BTreeMap::new(),
        correlator: Correlator::new(rules, Vec::new()),
        stats: Stats {
            inputs: inputs.len(),
            ..Stats::default()
        },
    };
    for (input, path) in inputs.iter().enumerate() {
        run.input(input, path, on_hit)?;
    }
    let mut stats = run.stats;
    stats.without_time = run.correlator.without_time;
    let correlation_hits = run.correlator.finish();
    stats.hits += correlation_hits.len() as u64;
    Ok((stats, correlation_hits))
}

impl Run<'_> {
    fn input(
        &mut self,
        input: usize,
        path: &std::path::Path,
        on_hit: &mut dyn FnMut(&Hit),
    ) -> Result<(), ReplayError> {
        let io_error = |source| ReplayError::Io {
            path: crate::source::display_path(path),
            source,
        };
        let reader = events::open(path, self.options.progress.as_ref()).map_err(io_error)?;
        let mut batch = Batch::default();
        let mut schema = self.options.schema.clone();
        let mut first = true;
        // Positions count real events: the header is not one, a generator
        // line is as many as it produces.
        let mut next_index = 0usize;
        let mut failure: Option<ReplayError> = None;
        let bytes = events::read(reader, &mut |item| {
            match item {
                Item::Malformed { line, message } => self.stats.malformed.push(Malformed {
                    input,
                    line,
                    message,
                }),
                Item::Raw { line, text } => batch.push_raw(line, text),
                Item::Event { line, event, .. } => {
                    if std::mem::replace(&mut first, false)
                        && let Some(header) = fixture::header(&event)
                    {
                        if schema.is_none() {
                            match header.schema.as_deref().map(Schema::parse).transpose() {
                                Ok(s) => schema = s,
                                Err(e) => {
                                    failure = Some(e);
                                    return false;
                                }
                            }
                        }
                        return true;
                    }
                    batch.pending.push(Pending::Parsed(line, event));
                }
            }
            if batch.full() {
                let current = schema.clone().unwrap_or(Schema::Sigma);
                if let Err(e) = self.flush(input, &current, &mut batch, &mut next_index, on_hit) {
                    failure = Some(e);
                    return false;
                }
            }
            true
        })
        .map_err(io_error)?;
        if let Some(e) = failure {
            return Err(e);
        }
        let current = schema.unwrap_or(Schema::Sigma);
        self.flush(input, &current, &mut batch, &mut next_index, on_hit)?;
        self.stats.bytes += bytes;
        if let Some(p) = self.prepared.get(&current) {
            self.stats.skipped.push(Skipped {
                input,
                schema: current.clone(),
                rules: p.skipped.clone(),
            });
        }
        Ok(())
    }

    /// Parse, expand, match and report one batch, in input order.
    fn flush(
        &mut self,
        input: usize,
        schema: &Schema,
        batch: &mut Batch,
        next_index: &mut usize,
        on_hit: &mut dyn FnMut(&Hit),
    ) -> Result<(), ReplayError> {
        if batch.pending.is_empty() {
            return Ok(());
        }
        if !self.prepared.contains_key(schema) {
            let p = Prepared::new(
                self.rules,
                schema,
                self.pipelines,
                self.options.timestamp_field,
            )?;
            self.prepared.insert(schema.clone(), p);
        }
        let Some(p) = self.prepared.get(schema) else {
            return Ok(());
        };
        // Each line is parsed, expanded, canonicalised and matched on one
        // worker, in one go: an event is matched while its parsed form is
        // still in the CPU's caches (parsing a whole batch first and
        // matching it afterwards reads every event back from memory), and
        // freed there too unless something after the batch reads it.
        let keep_events = self.options.keep_events;
        let correlator = &self.correlator;
        let text = &batch.text;
        let lines: Vec<(Option<usize>, Outcome)> = batch
            .pending
            .par_drain(..)
            .map_init(
                || p.set.scratch(),
                |scratch, pending| {
                    let (line, (parsed, scanned)) = match pending {
                        Pending::Parsed(line, value) => (line, (Ok(value), false)),
                        Pending::Raw(line, range) => {
                            (Some(line), p.parse(&text[range], keep_events, scratch))
                        }
                    };
                    let value = match parsed {
                        Ok(value) => value,
                        Err(message) => return (line, Outcome::Malformed(message)),
                    };
                    let expanded = fixture::expand(&value, DEFAULT_TIMESTAMP_FIELDS);
                    if scanned && expanded.is_some() {
                        // The scan saw the generator line, not the events
                        // it makes.
                        p.set.reset(scratch);
                    }
                    let mut matched = |mut event: Value| {
                        for source in &p.canonical {
                            source.canonicalise(&mut event);
                        }
                        let mut rules = Vec::new();
                        p.set.matching(&event, scratch, &mut rules);
                        let needed = keep_events || rules.iter().any(|&r| correlator.uses(r));
                        Matched {
                            event: needed.then_some(event),
                            rules,
                        }
                    };
                    let outcome = match expanded {
                        Some(Ok(generated)) => {
                            Outcome::Generated(generated.into_iter().map(&mut matched).collect())
                        }
                        Some(Err(message)) => Outcome::Malformed(message),
                        None => Outcome::Event(matched(value)),
                    };
                    (line, outcome)
                },
            )
            .collect();
        self.correlator.set_timestamp_fields(&p.timestamp_fields);
        for (line, outcome) in &lines {
            let events = match outcome {
                Outcome::Malformed(message) => {
                    self.stats.malformed.push(Malformed {
                        input,
                        line: *line,
                        message: message.clone(),
                    });
                    continue;
                }
                Outcome::Event(event) => std::slice::from_ref(event),
                Outcome::Generated(events) => events.as_slice(),
            };
            for Matched { event, rules } in events {
                let at = EventRef {
                    input,
                    line: line.unwrap_or(0),
                    index: *next_index,
                };
                *next_index += 1;
                self.stats.events += 1;
                for &rule in rules {
                    if let Some(event) = event
                        && self.correlator.uses(rule)
                    {
                        self.correlator.observe(rule, event, at);
                    }
                    if self.rules[rule].hidden {
                        continue;
                    }
                    self.stats.hits += 1;
                    on_hit(&Hit {
                        rule,
                        at,
                        line: *line,
                        event: if keep_events { event.clone() } else { None },
                    });
                }
            }
        }
        // Kept events are freed on the worker threads that parsed them: a
        // free from another thread takes the allocator's slower
        // cross-thread path.
        lines.into_par_iter().for_each(drop);
        batch.text.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_text(batch: &Batch, k: usize) -> &[u8] {
        match &batch.pending[k] {
            Pending::Raw(_, range) => &batch.text[range.clone()],
            Pending::Parsed(..) => panic!("raw line expected"),
        }
    }

    #[test]
    fn raw_lines_share_one_buffer_and_keep_their_text() {
        let mut batch = Batch::default();
        batch.push_raw(1, br#"{"a":1}"#);
        batch.push_raw(3, b"");
        batch.push_raw(4, br#"{"b":"\u00e9"}"#);
        assert_eq!(raw_text(&batch, 0), br#"{"a":1}"#);
        assert_eq!(raw_text(&batch, 1), b"");
        assert_eq!(raw_text(&batch, 2), br#"{"b":"\u00e9"}"#);
        assert!(matches!(batch.pending[2], Pending::Raw(4, _)));
        assert!(!batch.full());
    }

    #[test]
    fn a_batch_is_full_by_events_or_by_bytes() {
        let mut by_count = Batch::default();
        for line in 0..BATCH {
            assert!(!by_count.full());
            by_count.push_raw(line, b"{}");
        }
        assert!(by_count.full());

        let mut by_bytes = Batch::default();
        let long = vec![b' '; Batch::MAX_TEXT / 2];
        by_bytes.push_raw(1, &long);
        assert!(!by_bytes.full());
        by_bytes.push_raw(2, &long);
        assert!(by_bytes.full(), "two lines fill the byte budget");
        assert_eq!(by_bytes.pending.len(), 2);
    }
}
