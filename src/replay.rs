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

use crate::eval::Matcher;
use crate::eval::correlate::{CorrelationHit, Correlator, EventRef};
use crate::events::{self, Item};
use crate::fixture;
use crate::logic::{Body, RuleLogic};
use crate::pipeline::{Pipelines, Source};

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
    /// One per lowered rule; `None` where the rule does not apply.
    matchers: Vec<Option<Matcher>>,
    /// Rules that cannot run on this schema, with the reason.
    pub skipped: Vec<(usize, String)>,
    /// Renames column keys to canonical names (healthcare tables).
    canonical: Vec<Source>,
    pub timestamp_fields: Vec<String>,
}

impl Prepared {
    pub fn new(
        rules: &[RuleLogic],
        schema: &Schema,
        pipelines: &Pipelines,
        timestamp_override: Option<&str>,
    ) -> Result<Prepared, ReplayError> {
        let mut matchers = Vec::with_capacity(rules.len());
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
                    if !source.columns.is_empty() {
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
                matchers.push(None);
                continue;
            };
            let expr = match pipeline {
                None => expr.clone(),
                Some((p, table)) => match p.source_for(&rule.logsource) {
                    Some(source) if source.table == table => {
                        match source.map(&p.name, expr, rule.taxonomy.as_deref(), false) {
                            Ok(mapped) => mapped,
                            Err(e) => {
                                skipped.push((i, e.to_string()));
                                matchers.push(None);
                                continue;
                            }
                        }
                    }
                    Some(source) => {
                        skipped.push((
                            i,
                            format!("its log source reads {}, not {table}", source.table),
                        ));
                        matchers.push(None);
                        continue;
                    }
                    None => {
                        skipped.push((
                            i,
                            format!(
                                "pipeline {} has no table for {}",
                                p.name,
                                rule.logsource.describe()
                            ),
                        ));
                        matchers.push(None);
                        continue;
                    }
                },
            };
            let matcher = Matcher::compile(&expr).map_err(|e| ReplayError::Compile {
                rule: rule.key().to_string(),
                message: e.to_string(),
            })?;
            matchers.push(Some(matcher));
        }
        Ok(Prepared {
            schema: schema.clone(),
            matchers,
            skipped,
            canonical,
            timestamp_fields,
        })
    }

    fn matching(&self, event: &Value, out: &mut Vec<usize>) {
        out.clear();
        for (i, m) in self.matchers.iter().enumerate() {
            if m.as_ref().is_some_and(|m| m.matches(event)) {
                out.push(i);
            }
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
    let mut stats = Stats {
        inputs: inputs.len(),
        ..Stats::default()
    };
    let mut prepared: BTreeMap<Schema, Prepared> = BTreeMap::new();
    let mut correlator = Correlator::new(rules, Vec::new());
    for (input_index, path) in inputs.iter().enumerate() {
        let reader = events::open(path).map_err(|source| ReplayError::Io {
            path: crate::source::display_path(path),
            source,
        })?;
        let mut batch: Vec<(Option<usize>, usize, Value)> = Vec::with_capacity(BATCH);
        let mut schema = options.schema.clone();
        let mut first = true;
        // Positions count real events: the header is not one, a generator
        // line is as many as it produces.
        let mut next_index = 0usize;
        let mut pending_error: Option<ReplayError> = None;
        let bytes = events::read(reader, &mut |item| {
            match item {
                Item::Malformed { line, message } => stats.malformed.push(Malformed {
                    input: input_index,
                    line,
                    message,
                }),
                Item::Event { line, event, .. } => {
                    let is_first = std::mem::replace(&mut first, false);
                    if is_first && let Some(header) = fixture::header(&event) {
                        if schema.is_none() {
                            match header.schema.as_deref().map(Schema::parse).transpose() {
                                Ok(s) => schema = s,
                                Err(e) => {
                                    pending_error = Some(e);
                                    return false;
                                }
                            }
                        }
                        return true;
                    }
                    match fixture::expand(&event, DEFAULT_TIMESTAMP_FIELDS) {
                        Some(Ok(events)) => {
                            for e in events {
                                batch.push((line, next_index, e));
                                next_index += 1;
                            }
                        }
                        Some(Err(message)) => stats.malformed.push(Malformed {
                            input: input_index,
                            line,
                            message,
                        }),
                        None => {
                            batch.push((line, next_index, event));
                            next_index += 1;
                        }
                    }
                    if batch.len() >= BATCH {
                        let current = schema.clone().unwrap_or(Schema::Sigma);
                        if let Err(e) = flush(
                            rules,
                            pipelines,
                            options,
                            &mut prepared,
                            &current,
                            input_index,
                            &mut batch,
                            &mut correlator,
                            &mut stats,
                            on_hit,
                        ) {
                            pending_error = Some(e);
                            return false;
                        }
                    }
                }
            }
            true
        })
        .map_err(|source| ReplayError::Io {
            path: crate::source::display_path(path),
            source,
        })?;
        if let Some(e) = pending_error {
            return Err(e);
        }
        let current = schema.clone().unwrap_or(Schema::Sigma);
        flush(
            rules,
            pipelines,
            options,
            &mut prepared,
            &current,
            input_index,
            &mut batch,
            &mut correlator,
            &mut stats,
            on_hit,
        )?;
        stats.bytes += bytes;
        if let Some(p) = prepared.get(&current) {
            stats.skipped.push(Skipped {
                input: input_index,
                schema: current.clone(),
                rules: p.skipped.clone(),
            });
        }
    }
    stats.without_time = correlator.without_time;
    let correlation_hits: Vec<CorrelationHit> = correlator.finish();
    stats.hits += correlation_hits.len() as u64;
    Ok((stats, correlation_hits))
}

#[allow(clippy::too_many_arguments)]
fn flush(
    rules: &[RuleLogic],
    pipelines: &Pipelines,
    options: &Options<'_>,
    prepared: &mut BTreeMap<Schema, Prepared>,
    schema: &Schema,
    input: usize,
    batch: &mut Vec<(Option<usize>, usize, Value)>,
    correlator: &mut Correlator,
    stats: &mut Stats,
    on_hit: &mut dyn FnMut(&Hit),
) -> Result<(), ReplayError> {
    if batch.is_empty() {
        return Ok(());
    }
    if !prepared.contains_key(schema) {
        let p = Prepared::new(rules, schema, pipelines, options.timestamp_field)?;
        prepared.insert(schema.clone(), p);
    }
    let Some(p) = prepared.get(schema) else {
        return Ok(());
    };
    for source in &p.canonical {
        batch
            .par_iter_mut()
            .for_each(|(_, _, e)| source.canonicalise(e));
    }
    let matched: Vec<Vec<usize>> = batch
        .par_iter()
        .map(|(_, _, event)| {
            let mut out = Vec::new();
            p.matching(event, &mut out);
            out
        })
        .collect();
    correlator.set_timestamp_fields(&p.timestamp_fields);
    for ((line, index, event), rules_hit) in batch.drain(..).zip(matched) {
        stats.events += 1;
        let at = EventRef {
            input,
            line: line.unwrap_or(0),
            index,
        };
        for &rule in &rules_hit {
            if correlator.uses(rule) {
                correlator.observe(rule, &event, at);
            }
            if rules[rule].hidden {
                continue;
            }
            stats.hits += 1;
            on_hit(&Hit {
                rule,
                at,
                line,
                event: options.keep_events.then(|| event.clone()),
            });
        }
    }
    Ok(())
}
