//! Pipelines: log sources → tables, field names → columns, per target.
//!
//! A pipeline (pySigma's idea, as a data file in `pipelines/`, format in
//! `schemas/pipeline.schema.json`) is applied to a rule's [`Expr`] to get
//! the logic in a target's vocabulary. The *same* application serves the
//! KQL compiler and the replay of fixtures recorded in that target's shape,
//! so the mapping itself is under test.
//!
//! The shipped pipelines are embedded in the binary; a project's own
//! `pipelines/` folder adds to or replaces them by name.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use thiserror::Error;

use crate::logic::{Expr, ListUse, Pattern, Pred, Test};
use crate::model::LogSource;
use crate::source::yaml::{self, Node};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/pipelines.rs"));
}

/// How one Sigma field reaches the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldMap {
    Column(String),
    /// `DOMAIN\user` split over two columns.
    DomainUser {
        domain: String,
        user: String,
    },
    /// Sysmon's `SHA256=...,MD5=...` hash list, one column per algorithm.
    Hashes(BTreeMap<String, String>),
    /// Sysmon's registry path (`HKLM\...\Key\ValueName`, short hives,
    /// `CurrentControlSet`) computed from a key and a value-name column
    /// that spell hives in full: see [`registry_path`].
    RegistryPath {
        key: String,
        value: String,
    },
    /// Sysmon's registry value (`DWORD (0x00000001)`, `Binary Data`)
    /// computed from a value-type and a value-data column: see
    /// [`registry_details`].
    RegistryDetails {
        kind: String,
        data: String,
    },
    /// A field whose value is told by another column's value, such as
    /// Sysmon's `Initiated` (`true` / `false`) from the ActionType of a
    /// Defender network event: each value with the column values that mean
    /// it (case-insensitive), first match wins, none gives "".
    ValueMap {
        column: String,
        values: Vec<(String, Vec<String>)>,
    },
    /// A value inside a JSON column, such as the pipe name in the
    /// `AdditionalFields` of a Defender `NamedPipeEvent`: the column holds
    /// a JSON object or its text (Defender XDR types it `string`, Sentinel
    /// `dynamic`), `path` names the keys to follow; `strip_prefix` is
    /// removed from the start of the value (case-insensitive), for values a
    /// target spells with a prefix Sigma's source does not write.
    JsonPath {
        column: String,
        path: Vec<String>,
        strip_prefix: String,
    },
}

impl FieldMap {
    /// The computation, for a field computed from columns.
    fn computed(&self) -> Option<Computed<'_>> {
        Some(match self {
            FieldMap::RegistryPath { key, value } => Computed::RegistryPath { key, value },
            FieldMap::RegistryDetails { kind, data } => Computed::RegistryDetails { kind, data },
            FieldMap::ValueMap { column, values } => Computed::ValueMap { column, values },
            FieldMap::JsonPath {
                column,
                path,
                strip_prefix,
            } => Computed::JsonPath {
                column,
                path,
                strip_prefix,
            },
            FieldMap::Column(_) | FieldMap::DomainUser { .. } | FieldMap::Hashes(_) => {
                return None;
            }
        })
    }
}

/// A field the target has no column for, computed from two columns that
/// it has; the evaluator adds it to target-shaped events and the KQL
/// backend adds it with `extend`, from the same definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Computed<'a> {
    RegistryPath {
        key: &'a str,
        value: &'a str,
    },
    RegistryDetails {
        kind: &'a str,
        data: &'a str,
    },
    ValueMap {
        column: &'a str,
        values: &'a [(String, Vec<String>)],
    },
    JsonPath {
        column: &'a str,
        path: &'a [String],
        strip_prefix: &'a str,
    },
}

impl Computed<'_> {
    /// Whether `column` is one of [`Computed::inputs`].
    pub fn reads(&self, column: &str) -> bool {
        match *self {
            Computed::RegistryPath { key: a, value: b }
            | Computed::RegistryDetails { kind: a, data: b } => column == a || column == b,
            Computed::ValueMap { column: a, .. } | Computed::JsonPath { column: a, .. } => {
                column == a
            }
        }
    }

    /// The columns the value is computed from.
    pub fn inputs(&self) -> Vec<&str> {
        match *self {
            Computed::RegistryPath { key, value } => vec![key, value],
            Computed::RegistryDetails { kind, data } => vec![kind, data],
            Computed::ValueMap { column, .. } => vec![column],
            Computed::JsonPath { column, .. } => vec![column],
        }
    }

    /// The value for an event, given a reader of its columns. Columns that
    /// are not strings read as "" except where the value is JSON.
    pub fn evaluate<'e>(&self, value: impl Fn(&str) -> Option<&'e serde_json::Value>) -> String {
        let column = |name: &str| {
            value(name)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
        };
        match *self {
            Computed::RegistryPath { key, value } => registry_path(column(key), column(value)),
            Computed::RegistryDetails { kind, data } => {
                registry_details(column(kind), column(data))
            }
            Computed::ValueMap {
                column: from,
                values,
            } => {
                let actual = column(from);
                values
                    .iter()
                    .find(|(_, means)| means.iter().any(|m| m.eq_ignore_ascii_case(actual)))
                    .map(|(value, _)| value.clone())
                    .unwrap_or_default()
            }
            Computed::JsonPath {
                column,
                path,
                strip_prefix,
            } => {
                let text = json_path(value(column), path);
                match text.get(..strip_prefix.len()) {
                    Some(head) if !head.is_empty() && head.eq_ignore_ascii_case(strip_prefix) => {
                        text[strip_prefix.len()..].to_string()
                    }
                    _ => text,
                }
            }
        }
    }
}

/// The text at `path` inside a JSON column, as Kusto's
/// `tostring(parse_json(column).a.b)` reads it: a string as itself, a
/// number or boolean as its JSON text, an object or array as compact JSON,
/// and a missing key, a null or text that is not JSON as "". Exports of
/// Defender write `AdditionalFields` either as an object or as JSON text,
/// so both are read.
pub fn json_path(column: Option<&serde_json::Value>, path: &[String]) -> String {
    use serde_json::Value;
    let parsed;
    let mut at = match column {
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(v) => {
                parsed = v;
                &parsed
            }
            Err(_) => return String::new(),
        },
        Some(v) => v,
        None => return String::new(),
    };
    for key in path {
        match at.get(key.as_str()) {
            Some(next) => at = next,
            None => return String::new(),
        }
    }
    match at {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Sysmon's spelling of a registry value from Defender's value type and
/// data: numbers as `DWORD (0x0000abcd)` / `QWORD (0xhigh-0xlow)` in
/// lower-case hex (Defender writes them in decimal), binary data as
/// `Binary Data`, everything else as it is. SigmaHQ's registry rules test
/// these spellings (`Details: 'DWORD (0x00000001)'`). The KQL backend
/// emits the same computation (`kql::registry_details`).
pub fn registry_details(kind: &str, data: &str) -> String {
    let number = data.parse::<i64>().ok();
    match number {
        Some(n) if kind.eq_ignore_ascii_case("dword") => {
            format!("DWORD (0x{:08x})", n & 0xffff_ffff)
        }
        Some(n) if kind.eq_ignore_ascii_case("qword") => format!(
            "QWORD (0x{:08x}-0x{:08x})",
            (n >> 32) & 0xffff_ffff,
            n & 0xffff_ffff
        ),
        _ if kind.eq_ignore_ascii_case("binary") => "Binary Data".to_string(),
        _ => data.to_string(),
    }
}

/// Sysmon's spelling of a registry path from Defender's key and value
/// name: full hive names shortened (`HKEY_LOCAL_MACHINE` to `HKLM`, user
/// hives to `HKU`, `HKEY_CLASSES_ROOT` to `HKCR`), `ControlSetNNN` read as
/// `CurrentControlSet`, and the value name appended after a backslash.
/// The KQL backend emits the same steps (`kql::registry_path`), so replay
/// and the deployed query agree.
pub fn registry_path(key: &str, value: &str) -> String {
    use std::sync::LazyLock;
    static STEPS: LazyLock<Vec<(regex::Regex, &'static str)>> = LazyLock::new(|| {
        REGISTRY_STEPS
            .iter()
            .filter_map(|(pattern, replacement)| {
                Some((regex::Regex::new(pattern).ok()?, *replacement))
            })
            .collect()
    });
    let mut path = key.to_string();
    for (re, replacement) in STEPS.iter() {
        path = re.replace(&path, *replacement).into_owned();
    }
    if !value.is_empty() {
        path.push('\\');
        path.push_str(value);
    }
    path
}

/// The rewriting steps of [`registry_path`]: RE2-compatible patterns and
/// `$1`-style replacements (the KQL backend rewrites `$1` as `\1`).
pub const REGISTRY_STEPS: &[(&str, &str)] = &[
    (r"(?i)^HKEY_LOCAL_MACHINE(\\|$)", "HKLM$1"),
    (r"(?i)^HKEY_(?:USERS|CURRENT_USER)(\\|$)", "HKU$1"),
    (r"(?i)^HKEY_CLASSES_ROOT(\\|$)", "HKCR$1"),
    (r"(?i)\\ControlSet\d{3}(\\|$)", r"\CurrentControlSet$1"),
];

/// One log source of a pipeline.
#[derive(Clone, Debug, Default)]
pub struct Source {
    pub logsource: LogSource,
    pub table: String,
    pub timestamp: String,
    /// Constant predicates: column = any of the values (case-insensitive).
    pub where_: Vec<(String, Vec<String>)>,
    pub fields: BTreeMap<String, FieldMap>,
    pub unmapped: BTreeSet<String>,
    /// Canonical name → column, for sources whose columns cannot hold the
    /// canonical names (healthcare custom tables).
    pub columns: BTreeMap<String, String>,
    /// The event ids this source records, for a log source that a target
    /// spreads over several tables by event id (`windows/security` in
    /// Defender XDR); empty for every other source. See
    /// [`Pipeline::source_for_logic`].
    pub event_ids: Vec<String>,
}

impl Source {
    /// Fields computed from columns: the KQL backend adds them with
    /// `extend`, replay adds them to events.
    pub fn computed(&self) -> impl Iterator<Item = (&str, Computed<'_>)> {
        self.fields
            .iter()
            .filter_map(|(name, map)| Some((name.as_str(), map.computed()?)))
    }

    /// The column a computed field is held in: its own name, unless the
    /// field is computed from a column of that very name (Sigma's numeric
    /// `LogonType` from Defender's `LogonType` names), which must stay
    /// readable; then a name no target column has.
    pub fn computed_column(name: &str, computed: &Computed<'_>) -> String {
        format!("{name}{}", Self::computed_suffix(name, computed))
    }

    /// Whether `column` is [`Source::computed_column`]'s name for `name`,
    /// without building it: the KQL compiler asks this for every field of
    /// every rule.
    pub fn is_computed_column(name: &str, computed: &Computed<'_>, column: &str) -> bool {
        column.strip_prefix(name) == Some(Self::computed_suffix(name, computed))
    }

    /// What [`Source::computed_column`] appends to the field's name.
    fn computed_suffix(name: &str, computed: &Computed<'_>) -> &'static str {
        if computed.reads(name) { "_sigma" } else { "" }
    }
}

/// A pipeline with its includes resolved.
#[derive(Clone, Debug, Default)]
pub struct Pipeline {
    pub name: String,
    pub title: String,
    pub timestamp: String,
    /// Private, so that they change only with their index: built by
    /// [`Pipeline::new`], read through [`Pipeline::sources`].
    sources: Vec<Source>,
    /// The sources that can read a rule, by the rule's category: those of
    /// that category and those of none, in pipeline order. Every rule of a
    /// compile looks its source up; this spares it the sources of every
    /// other category. See [`Pipeline::candidates`].
    by_category: BTreeMap<String, Vec<usize>>,
    /// The sources of no category: all that can read a rule of a category
    /// no source names, or of none.
    of_no_category: Vec<usize>,
}

#[derive(Clone, Debug, Error)]
pub enum PipelineError {
    #[error("pipeline {name}: {message}")]
    Invalid { name: String, message: String },
    #[error("unknown pipeline `{0}`")]
    Unknown(String),
}

/// Why a rule cannot be mapped onto a source.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum MapError {
    #[error("field `{field}` has no column in {table} ({pipeline})")]
    Unmapped {
        field: String,
        table: String,
        pipeline: String,
    },
    #[error("field `{field}` is not known for {table} ({pipeline})")]
    UnknownField {
        field: String,
        table: String,
        pipeline: String,
    },
    #[error("field `{field}`: {reason}")]
    Transform { field: String, reason: String },
}

impl Source {
    /// The constant predicates as an expression.
    pub fn where_expr(&self) -> Expr {
        Expr::and(
            self.where_
                .iter()
                .map(|(column, values)| {
                    Expr::or(
                        values
                            .iter()
                            .map(|v| {
                                Expr::Pred(Pred::new(
                                    Some(column.clone()),
                                    Test::Str {
                                        pattern: Pattern::literal(v),
                                        cased: false,
                                    },
                                ))
                            })
                            .collect(),
                    )
                })
                .collect(),
        )
    }

    /// [`Source::map`] for evaluating events recorded in this table's
    /// shape (replay, `stetho test`, explain): fields pass through as
    /// replay reads them, and presence is presence as the table's queries
    /// see it (see [`kusto_presence`]).
    pub fn map_for_events(
        &self,
        pipeline: &str,
        expr: &Expr,
        taxonomy: Option<&str>,
    ) -> Result<Expr, MapError> {
        Ok(kusto_presence(self.map(pipeline, expr, taxonomy, false)?))
    }

    /// Rewrite a rule's expression into this source's columns.
    ///
    /// `taxonomy` is the rule's `taxonomy:`; `strict` makes fields that the
    /// pipeline does not know an error (the compiler), instead of passing
    /// them through unchanged (replay of native fixtures may hold columns
    /// the catalogue does not list). Canonical names are renamed to columns
    /// (`ehr.action` to `ehr_action`) only in strict mode: replay reads
    /// events under their canonical names instead ([`Source::canonicalise`]).
    pub fn map(
        &self,
        pipeline: &str,
        expr: &Expr,
        taxonomy: Option<&str>,
        strict: bool,
    ) -> Result<Expr, MapError> {
        let native = matches!(taxonomy, Some(t) if t != "sigma");
        let mut error = None;
        let mapped = expr.map_pred_refs(&mut |pred| {
            if error.is_some() {
                return Expr::Const(false);
            }
            match self.map_pred(pipeline, pred, native, strict) {
                Ok(e) => e,
                Err(e) => {
                    error = Some(e);
                    Expr::Const(false)
                }
            }
        });
        match error {
            Some(e) => Err(e),
            None => Ok(Expr::and(vec![self.where_expr(), mapped])),
        }
    }

    /// The column [`Source::map`] (strict, as the compilers map) renames
    /// `field` to, when renaming is all it does to the field's predicates;
    /// `None` when it rewrites them (a `DOMAIN\user` split, a hash list)
    /// or refuses the field. A compiler that gets a name for every field
    /// of a rule can read the rule's own expression under these names
    /// instead of a mapped copy of it.
    pub fn renamed_field<'s>(&'s self, field: &'s str, native: bool) -> Option<Cow<'s, str>> {
        if let Some(column) = self.columns.get(field) {
            return Some(Cow::Borrowed(column));
        }
        if native || !self.columns.is_empty() {
            return Some(Cow::Borrowed(field));
        }
        match self.fields.get(field)? {
            FieldMap::Column(column) => Some(Cow::Borrowed(column)),
            FieldMap::DomainUser { .. } | FieldMap::Hashes(_) => None,
            // The computed field keeps the Sigma name as its column name
            // (see `computed_column` for the exception).
            map => Some(match map.computed() {
                Some(c) if !Source::computed_suffix(field, &c).is_empty() => {
                    Cow::Owned(Source::computed_column(field, &c))
                }
                _ => Cow::Borrowed(field),
            }),
        }
    }

    fn map_pred(
        &self,
        pipeline: &str,
        pred: &Pred,
        native: bool,
        strict: bool,
    ) -> Result<Expr, MapError> {
        let Some(field) = pred.field.as_deref() else {
            return Ok(Expr::Pred(pred.clone()));
        };
        // Built from the borrowed predicate: the field's old name is
        // never copied only to be replaced.
        let rename = |column: &str| {
            let mut test = pred.test.clone();
            if let Test::FieldRef { other, .. } = &mut test
                && let Some(c) = self.column_for(other, native, strict)
            {
                *other = c;
            }
            Expr::Pred(Pred {
                field: Some(column.to_string()),
                test,
                list: pred.list.clone(),
            })
        };
        if strict && let Some(column) = self.renamed_field(field, native) {
            return Ok(rename(&column));
        }
        if native || !self.columns.is_empty() {
            return Ok(Expr::Pred(pred.clone()));
        }
        match self.fields.get(field) {
            Some(FieldMap::Column(column)) => Ok(rename(column)),
            Some(FieldMap::DomainUser { domain, user }) => domain_user(pred.clone(), domain, user),
            Some(FieldMap::Hashes(columns)) => hashes(pred.clone(), columns),
            Some(
                FieldMap::RegistryPath { .. }
                | FieldMap::RegistryDetails { .. }
                | FieldMap::ValueMap { .. }
                | FieldMap::JsonPath { .. },
            ) => Ok(rename(
                &self
                    .renamed_field(field, native)
                    .unwrap_or(Cow::Borrowed(field)),
            )),
            None if self.unmapped.contains(field) => Err(MapError::Unmapped {
                field: field.to_string(),
                table: self.table.clone(),
                pipeline: pipeline.to_string(),
            }),
            None if strict => Err(MapError::UnknownField {
                field: field.to_string(),
                table: self.table.clone(),
                pipeline: pipeline.to_string(),
            }),
            None => Ok(Expr::Pred(pred.clone())),
        }
    }

    fn column_for(&self, field: &str, native: bool, strict: bool) -> Option<String> {
        if let Some(c) = self.columns.get(field) {
            return strict.then(|| c.clone());
        }
        if native {
            return None;
        }
        match self.fields.get(field) {
            Some(FieldMap::Column(c)) => Some(c.clone()),
            _ => None,
        }
    }

    /// Rename an event's column keys to the canonical names (the inverse of
    /// `columns`), so fixtures exported with either naming read the same.
    pub fn canonicalise(&self, event: &mut serde_json::Value) {
        let Some(map) = event.as_object_mut() else {
            return;
        };
        // A JSON-text column that several `json_path` fields read (TaskName
        // and TaskContent from AdditionalFields) is parsed once per row.
        let mut parsed: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
        for (_, computed) in self.computed() {
            if let Computed::JsonPath { column, .. } = computed
                && !parsed.contains_key(column)
                && let Some(serde_json::Value::String(text)) = map.get(column)
                && let Ok(value @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) =
                    serde_json::from_str(text)
            {
                parsed.insert(column, value);
            }
        }
        for (name, computed) in self.computed() {
            let column = Source::computed_column(name, &computed);
            if map.contains_key(&column) {
                continue;
            }
            let value = match computed {
                Computed::JsonPath { .. } => {
                    computed.evaluate(|c: &str| parsed.get(c).or_else(|| map.get(c)))
                }
                _ => computed.evaluate(|c: &str| map.get(c)),
            };
            map.insert(column, serde_json::Value::String(value));
        }
        for (canonical, column) in &self.columns {
            if canonical != column
                && !map.contains_key(canonical)
                && let Some(v) = map.remove(column)
            {
                map.insert(canonical.clone(), v);
            }
        }
    }
}

/// Presence as a Kusto table sees it, for events recorded in a table's
/// shape. To a query an empty string and a missing or null value are the
/// same, and `|exists` compiles to `isnotempty` (`isnotnull` on other
/// types), so `exists: true` here means "holds a non-empty value" and
/// `exists: false` "holds nothing"; otherwise `|exists` and `|neq` (which
/// implies `exists`) would hit an empty column that the deployed query
/// passes over. Events in Sigma's own shape keep telling an empty string
/// apart from a missing field.
fn kusto_presence(expr: Expr) -> Expr {
    expr.map_preds(&mut |pred| match pred.test {
        Test::Exists(present) => {
            let empty = Expr::Pred(Pred {
                field: pred.field,
                test: Test::Str {
                    pattern: Pattern::Exact(String::new()),
                    cased: false,
                },
                list: pred.list,
            });
            if present { Expr::negate(empty) } else { empty }
        }
        _ => Expr::Pred(pred),
    })
}

/// `User: 'NT AUTHORITY\SYSTEM'` → domain = `NT AUTHORITY` and user = `SYSTEM`.
fn domain_user(pred: Pred, domain: &str, user: &str) -> Result<Expr, MapError> {
    let field = pred.field.clone().unwrap_or_default();
    let Test::Str { pattern, cased } = &pred.test else {
        return Ok(Expr::Pred(Pred {
            field: Some(user.to_string()),
            test: pred.test,
            list: pred.list,
        }));
    };
    let text = match pattern {
        Pattern::Exact(s) => s.clone(),
        // Wildcards across the separator cannot be split reliably.
        other => {
            let rendered = other.to_string();
            if rendered.contains('\\') {
                return Err(MapError::Transform {
                    field,
                    reason: "a DOMAIN\\user value with wildcards cannot be split over two columns"
                        .into(),
                });
            }
            return Ok(Expr::Pred(Pred {
                field: Some(user.to_string()),
                test: pred.test.clone(),
                list: pred.list,
            }));
        }
    };
    let cased = *cased;
    let column = |c: &str, v: &str, list| {
        Expr::Pred(Pred {
            field: Some(c.to_string()),
            test: Test::Str {
                pattern: Pattern::literal(v),
                cased,
            },
            list,
        })
    };
    Ok(match text.split_once('\\') {
        Some((d, u)) => {
            let list = ListUse::rewritten(&pred.list, "each value is split over two columns");
            Expr::and(vec![column(domain, d, list.clone()), column(user, u, list)])
        }
        None => column(user, &text, pred.list.clone()),
    })
}

/// `Hashes|contains: 'SHA256=ab..'` → `SHA256 == ab..` (each pair of a list).
fn hashes(pred: Pred, columns: &BTreeMap<String, String>) -> Result<Expr, MapError> {
    let field = pred.field.clone().unwrap_or_default();
    let Test::Str { pattern, .. } = &pred.test else {
        return Err(MapError::Transform {
            field,
            reason: "hash lists only take string values".into(),
        });
    };
    let text = match pattern {
        Pattern::Exact(s)
        | Pattern::Contains(s)
        | Pattern::StartsWith(s)
        | Pattern::EndsWith(s) => s.clone(),
        Pattern::Glob(_) => {
            return Err(MapError::Transform {
                field,
                reason: "wildcards inside a hash list cannot be mapped".into(),
            });
        }
    };
    let mut parts = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((algo, value)) = pair.split_once('=') else {
            return Err(MapError::Transform {
                field,
                reason: format!("`{pair}` is not ALGORITHM=value"),
            });
        };
        let Some(column) = columns.get(&algo.trim().to_lowercase()) else {
            return Err(MapError::Transform {
                field,
                reason: format!("no column for {} hashes", algo.trim()),
            });
        };
        parts.push(Expr::Pred(Pred {
            field: Some(column.clone()),
            test: Test::Str {
                pattern: Pattern::literal(value.trim()),
                cased: false,
            },
            list: ListUse::rewritten(&pred.list, "each value is split into hash columns"),
        }));
    }
    if parts.is_empty() {
        return Err(MapError::Transform {
            field,
            reason: "empty hash list".into(),
        });
    }
    Ok(Expr::and(parts))
}

/// Why no source of a pipeline reads a rule.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SelectError {
    #[error("pipeline `{pipeline}` has no table for log source {logsource}")]
    NoSource { pipeline: String, logsource: String },
    /// The log source is split by event id and the rule requires an event
    /// id that no table of the pipeline records.
    #[error("{0}")]
    Unrecorded(String),
    /// The log source is split by event id and the rule's condition does
    /// not pin one table: `EventID` left open, or ids of two tables.
    #[error("{0}")]
    EventIds(String),
}

/// An event id as sources list it: numbers without leading zeros or
/// spaces, anything else as written.
fn event_id(text: &str) -> String {
    let text = text.trim();
    text.parse::<u64>()
        .map_or_else(|_| text.to_string(), |n| n.to_string())
}

/// The `EventID` values a detection requires: every event it can match has
/// one of them. `None` when some branch of the condition leaves `EventID`
/// open (no test on it, or one that is not an exact value). Conservative:
/// a `not` never pins anything.
pub fn required_event_ids(expr: &Expr) -> Option<BTreeSet<String>> {
    match expr {
        Expr::Const(false) => Some(BTreeSet::new()),
        Expr::Const(true) | Expr::Not(_) => None,
        Expr::Pred(Pred {
            field: Some(field),
            test:
                Test::Str {
                    pattern: Pattern::Exact(value),
                    ..
                },
            ..
        }) if field == "EventID" => Some(BTreeSet::from([event_id(value)])),
        Expr::Pred(Pred {
            field: Some(field),
            test:
                Test::Cmp {
                    op: crate::logic::CmpOp::Eq,
                    value,
                },
            ..
        }) if field == "EventID" && value.fract() == 0.0 && *value >= 0.0 => {
            Some(BTreeSet::from([format!("{value:.0}")]))
        }
        Expr::Pred(_) => None,
        // Any pinned conjunct pins the conjunction.
        Expr::And(items) => items
            .iter()
            .filter_map(required_event_ids)
            .reduce(|a, b| a.intersection(&b).cloned().collect()),
        // Every alternative must be pinned.
        Expr::Or(items) => items.iter().try_fold(BTreeSet::new(), |mut all, item| {
            all.extend(required_event_ids(item)?);
            Some(all)
        }),
    }
}

impl Pipeline {
    /// The most specific sources for a log source (several only when the
    /// log source is split by event id).
    fn candidates(&self, ls: &LogSource) -> Vec<&Source> {
        // A source of one category covers only rules of that category.
        let readers = ls
            .category
            .as_deref()
            .and_then(|category| self.by_category.get(category))
            .unwrap_or(&self.of_no_category);
        // One pass over them.
        let mut best = 0;
        let mut found = Vec::new();
        for source in readers
            .iter()
            .map(|&i| &self.sources[i])
            .filter(|s| s.logsource.covers(ls))
        {
            let specificity = source.logsource.specificity();
            if found.is_empty() || specificity > best {
                found.clear();
                best = specificity;
            }
            if specificity == best {
                found.push(source);
            }
        }
        found
    }

    /// The most specific source for a rule's log source, when the log
    /// source alone decides it. A log source split by event id needs the
    /// rule's logic: [`Pipeline::source_for_logic`]; here it has none, so
    /// callers that only know the log source (fixture scaffolding, the
    /// Sigma export's name lookup) fall back as for an unknown log source.
    pub fn source_for(&self, ls: &LogSource) -> Option<&Source> {
        match self.candidates(ls).as_slice() {
            [one] if one.event_ids.is_empty() => Some(one),
            _ => None,
        }
    }

    /// The source that reads a rule: [`Pipeline::source_for`], or for a log
    /// source split by event id (`event_ids:`) the one source whose event
    /// ids include every `EventID` the detection requires
    /// ([`required_event_ids`]). A rule whose condition leaves `EventID`
    /// open, or needs event ids of two tables, has no source: the error
    /// says which event ids are where.
    pub fn source_for_logic(&self, ls: &LogSource, expr: &Expr) -> Result<&Source, SelectError> {
        let candidates = self.candidates(ls);
        let no_source = || SelectError::NoSource {
            pipeline: self.name.clone(),
            logsource: ls.describe(),
        };
        match candidates.as_slice() {
            [] => return Err(no_source()),
            [one] if one.event_ids.is_empty() => return Ok(one),
            _ => {}
        }
        let split: Vec<&Source> = candidates
            .iter()
            .copied()
            .filter(|s| !s.event_ids.is_empty())
            .collect();
        // Only the error messages describe the layout.
        let layout = || {
            split
                .iter()
                .map(|s| format!("{} in {}", list_ids(s.event_ids.iter()), s.table))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let Some(required) = required_event_ids(expr) else {
            return Err(SelectError::EventIds(format!(
                "pipeline `{}` reads log source {} from a table per EventID ({}), and not every branch of the condition requires an EventID value",
                self.name,
                ls.describe(),
                layout()
            )));
        };
        if let Some(source) = split
            .iter()
            .find(|s| required.iter().all(|id| s.event_ids.contains(id)))
        {
            return Ok(source);
        }
        let unrecorded: Vec<&String> = required
            .iter()
            .filter(|id| !split.iter().any(|s| s.event_ids.contains(id)))
            .collect();
        if !unrecorded.is_empty() {
            return Err(SelectError::Unrecorded(format!(
                "pipeline `{}` has no table for EventID {} of log source {} (it records {})",
                self.name,
                list_ids(unrecorded.into_iter()),
                ls.describe(),
                layout()
            )));
        }
        let tables: BTreeSet<&str> = split
            .iter()
            .filter(|s| required.iter().any(|id| s.event_ids.contains(id)))
            .map(|s| s.table.as_str())
            .collect();
        Err(SelectError::EventIds(format!(
            "EventIDs {} are recorded in different tables of pipeline `{}` ({}); one query reads one table, so split the rule by table ({})",
            list_ids(required.iter()),
            self.name,
            tables.into_iter().collect::<Vec<_>>().join(", "),
            layout()
        )))
    }

    /// Sources reading one table (a fixture in `pipeline.Table` shape).
    pub fn sources_of_table<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a Source> + 'a {
        self.sources.iter().filter(move |s| s.table == table)
    }

    pub fn has_table(&self, table: &str) -> bool {
        self.sources.iter().any(|s| s.table == table)
    }

    /// Every source, in pipeline order.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }
}

/// Every pipeline available: embedded ones, then the project's.
#[derive(Clone, Debug, Default)]
pub struct Pipelines {
    /// Every pipeline, resolved when loaded, when the project has pipelines
    /// of its own: they may override or include shipped ones, and a
    /// mistake in any of them is reported at once.
    pipelines: BTreeMap<String, Pipeline>,
    /// Otherwise the shipped pipelines, by name, each parsed and resolved
    /// when first asked for: a run uses one or two of them.
    shipped: BTreeMap<&'static str, OnceLock<Result<Pipeline, PipelineError>>>,
}

impl Pipelines {
    pub fn load(project_dir: Option<&Path>) -> Result<Pipelines, PipelineError> {
        let project_files = project_dir
            .map(crate::load::yaml_files_in)
            .unwrap_or_default();
        if project_files.is_empty() {
            return Ok(Pipelines {
                pipelines: BTreeMap::new(),
                shipped: embedded::FILES
                    .iter()
                    .map(|&(path, _)| (shipped_name(path), OnceLock::new()))
                    .collect(),
            });
        }
        let mut raw: BTreeMap<String, (RawPipeline, Vec<String>)> = BTreeMap::new();
        for (path, text) in embedded::FILES {
            let (p, includes) = parse(path, text)?;
            raw.insert(p.name.clone(), (p, includes));
        }
        for path in project_files {
            let text = crate::limits::read_bounded_string(
                &path,
                crate::limits::MAX_CONFIG_FILE_BYTES,
                "pipeline files",
            )
            .map_err(|e| PipelineError::Invalid {
                name: crate::source::display_path(&path),
                message: e.to_string(),
            })?;
            let (p, includes) = parse(&path.display().to_string(), &text)?;
            raw.insert(p.name.clone(), (p, includes));
        }
        let mut pipelines = BTreeMap::new();
        for name in raw.keys() {
            let mut seen = BTreeSet::new();
            let resolved = resolve(name, &raw, &mut seen)?;
            pipelines.insert(name.clone(), resolved);
        }
        Ok(Pipelines {
            pipelines,
            shipped: BTreeMap::new(),
        })
    }

    pub fn get(&self, name: &str) -> Result<&Pipeline, PipelineError> {
        if let Some(pipeline) = self.pipelines.get(name) {
            return Ok(pipeline);
        }
        let cell = self
            .shipped
            .get(name)
            .ok_or_else(|| PipelineError::Unknown(name.to_string()))?;
        cell.get_or_init(|| resolve_shipped(name))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// A shipped pipeline's name: its file's name without the extension (a
/// unit test holds every shipped file to the `name:` inside it).
fn shipped_name(path: &'static str) -> &'static str {
    path.strip_suffix(".yml")
        .or_else(|| path.strip_suffix(".yaml"))
        .unwrap_or(path)
}

/// Shipped pipeline `name`, parsed with the shipped pipelines it includes
/// and resolved.
fn resolve_shipped(name: &str) -> Result<Pipeline, PipelineError> {
    let mut raw: BTreeMap<String, (RawPipeline, Vec<String>)> = BTreeMap::new();
    let mut wanted = vec![name.to_string()];
    while let Some(next) = wanted.pop() {
        if raw.contains_key(&next) {
            continue;
        }
        // An include that names no shipped pipeline is left for `resolve`
        // to report.
        let Some(&(path, text)) = embedded::FILES
            .iter()
            .find(|&&(path, _)| shipped_name(path) == next)
        else {
            continue;
        };
        let (p, includes) = parse(path, text)?;
        wanted.extend(includes.iter().cloned());
        raw.insert(next, (p, includes));
    }
    resolve(name, &raw, &mut BTreeSet::new())
}

struct RawPipeline {
    name: String,
    title: String,
    timestamp: String,
    sources: Vec<Source>,
}

fn resolve(
    name: &str,
    raw: &BTreeMap<String, (RawPipeline, Vec<String>)>,
    seen: &mut BTreeSet<String>,
) -> Result<Pipeline, PipelineError> {
    if !seen.insert(name.to_string()) {
        return Err(PipelineError::Invalid {
            name: name.to_string(),
            message: "include cycle".into(),
        });
    }
    let (p, includes) = raw
        .get(name)
        .ok_or_else(|| PipelineError::Unknown(name.to_string()))?;
    let mut sources = p.sources.clone();
    for include in includes {
        let included = resolve(include, raw, seen)?;
        sources.extend(included.sources);
    }
    seen.remove(name);
    Ok(Pipeline::new(
        p.name.clone(),
        p.title.clone(),
        p.timestamp.clone(),
        sources,
    ))
}

impl Pipeline {
    /// A pipeline of these sources, indexed by category.
    fn new(name: String, title: String, timestamp: String, sources: Vec<Source>) -> Pipeline {
        let of_no_category: Vec<usize> = (0..sources.len())
            .filter(|&i| sources[i].logsource.category.is_none())
            .collect();
        let mut by_category: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, source) in sources.iter().enumerate() {
            if let Some(category) = &source.logsource.category {
                by_category.entry(category.clone()).or_default().push(i);
            }
        }
        for readers in by_category.values_mut() {
            readers.extend(&of_no_category);
            readers.sort_unstable();
        }
        Pipeline {
            name,
            title,
            timestamp,
            sources,
            by_category,
            of_no_category,
        }
    }
}

/// A YAML mapping of strings (`{domain: AccountDomain, user: AccountName}`).
fn string_map(node: Option<&Node>) -> BTreeMap<String, String> {
    node.and_then(Node::as_map)
        .unwrap_or(&[])
        .iter()
        .map(|e| {
            (
                e.key_str().to_string(),
                e.value.as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn parse(path: &str, text: &str) -> Result<(RawPipeline, Vec<String>), PipelineError> {
    let invalid = |message: String| PipelineError::Invalid {
        name: path.to_string(),
        message,
    };
    let loaded = yaml::load(text);
    if let Some(e) = loaded.errors.first() {
        return Err(invalid(e.to_string()));
    }
    let doc = loaded
        .documents
        .first()
        .ok_or_else(|| invalid("empty file".into()))?;
    let string = |n: &Node, key: &str| n.get(key).and_then(Node::as_str).map(str::to_string);
    let name = string(doc, "name").ok_or_else(|| invalid("no `name`".into()))?;
    let timestamp = string(doc, "timestamp").unwrap_or_else(|| "Timestamp".into());
    let includes = doc
        .get("include")
        .map(|n| {
            n.string_list()
                .into_iter()
                .map(|(s, _)| s.to_string())
                .collect()
        })
        .unwrap_or_default();
    let mut sources = Vec::new();
    for node in doc.get("sources").and_then(Node::as_seq).unwrap_or(&[]) {
        let table =
            string(node, "table").ok_or_else(|| invalid("a source without `table`".into()))?;
        let mut fields = BTreeMap::new();
        for entry in node.get("fields").and_then(Node::as_map).unwrap_or(&[]) {
            let map = match &entry.value.kind {
                yaml::NodeKind::Scalar(s) => FieldMap::Column(s.text.clone()),
                yaml::NodeKind::Map(_) => {
                    let cols = string_map(entry.value.get("columns"));
                    match entry.value.get("transform").and_then(Node::as_str) {
                        Some("domain_user") => FieldMap::DomainUser {
                            domain: cols.get("domain").cloned().unwrap_or_default(),
                            user: cols.get("user").cloned().unwrap_or_default(),
                        },
                        Some("hashes") => FieldMap::Hashes(cols),
                        Some("registry_path") => FieldMap::RegistryPath {
                            key: cols.get("key").cloned().unwrap_or_default(),
                            value: cols.get("value").cloned().unwrap_or_default(),
                        },
                        Some("registry_details") => FieldMap::RegistryDetails {
                            kind: cols.get("type").cloned().unwrap_or_default(),
                            data: cols.get("data").cloned().unwrap_or_default(),
                        },
                        Some("value_map") => FieldMap::ValueMap {
                            column: cols.get("from").cloned().unwrap_or_default(),
                            values: entry
                                .value
                                .get("values")
                                .and_then(Node::as_map)
                                .unwrap_or(&[])
                                .iter()
                                .map(|e| {
                                    let means = e.value.string_list();
                                    (
                                        e.key_str().to_string(),
                                        means.into_iter().map(|(v, _)| v.to_string()).collect(),
                                    )
                                })
                                .collect(),
                        },
                        Some("json_path") => FieldMap::JsonPath {
                            column: cols.get("from").cloned().unwrap_or_default(),
                            path: entry
                                .value
                                .get("path")
                                .and_then(Node::as_str)
                                .unwrap_or("")
                                .split('.')
                                .filter(|k| !k.is_empty())
                                .map(str::to_string)
                                .collect(),
                            strip_prefix: entry
                                .value
                                .get("strip_prefix")
                                .and_then(Node::as_str)
                                .unwrap_or("")
                                .to_string(),
                        },
                        other => {
                            return Err(invalid(format!(
                                "unknown transform {other:?} for {}",
                                entry.key_str()
                            )));
                        }
                    }
                }
                yaml::NodeKind::Seq(_) => {
                    return Err(invalid(format!("bad mapping for {}", entry.key_str())));
                }
            };
            fields.insert(entry.key_str().to_string(), map);
        }
        let where_ = node
            .get("where")
            .and_then(Node::as_map)
            .unwrap_or(&[])
            .iter()
            .map(|e| {
                (
                    e.key_str().to_string(),
                    e.value
                        .string_list()
                        .into_iter()
                        .map(|(v, _)| v.to_string())
                        .collect(),
                )
            })
            .collect();
        let columns = string_map(node.get("columns"));
        let unmapped = node
            .get("unmapped")
            .map(|n| {
                n.string_list()
                    .into_iter()
                    .map(|(s, _)| s.to_string())
                    .collect()
            })
            .unwrap_or_default();
        let event_ids = node
            .get("event_ids")
            .map(|n| {
                n.string_list()
                    .into_iter()
                    .map(|(s, _)| event_id(s))
                    .collect()
            })
            .unwrap_or_default();
        sources.push(Source {
            event_ids,
            logsource: LogSource::from_node(node.get("logsource")),
            timestamp: string(node, "timestamp").unwrap_or_else(|| timestamp.clone()),
            table,
            where_,
            fields,
            unmapped,
            columns,
        });
    }
    Ok((
        RawPipeline {
            title: string(doc, "title").unwrap_or_else(|| name.clone()),
            name,
            timestamp,
            sources,
        },
        includes,
    ))
}

/// `4624`, `4624 and 4625`, `4624, 4625 and 4634`.
fn list_ids<'a>(ids: impl Iterator<Item = &'a String>) -> String {
    let mut ids: Vec<&str> = ids.map(String::as_str).collect();
    ids.sort_by_key(|id| (id.parse::<u64>().unwrap_or(u64::MAX), *id));
    match ids.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shipped pipeline asked for by name is the pipeline that resolving
    /// every shipped pipeline at once gives under that name, and each file
    /// is named for the pipeline inside it.
    #[test]
    fn shipped_pipelines_resolve_alone_as_together() {
        let mut raw = BTreeMap::new();
        for (path, text) in embedded::FILES {
            let (p, includes) = parse(path, text).expect("shipped pipelines parse");
            assert_eq!(p.name, shipped_name(path), "{path}");
            raw.insert(p.name.clone(), (p, includes));
        }
        let lazy = Pipelines::load(None).expect("shipped pipelines load");
        for name in raw.keys() {
            let together = resolve(name, &raw, &mut BTreeSet::new()).expect("resolves");
            let alone = lazy.get(name).expect("resolves alone");
            assert_eq!(format!("{alone:?}"), format!("{together:?}"), "{name}");
        }
        assert!(matches!(
            lazy.get("no_such"),
            Err(PipelineError::Unknown(_))
        ));
    }

    /// Every run parses the shipped pipelines it uses; the fast YAML reader
    /// takes a tenth of saphyr's time, so they stay in the YAML it reads.
    #[test]
    fn shipped_pipelines_are_read_by_the_fast_yaml_reader() {
        for (path, text) in embedded::FILES {
            assert!(
                !matches!(yaml::compare_readers(text), yaml::ReaderComparison::GivenUp),
                "{path}: outside the YAML the fast reader reads (a flow list over several lines?)"
            );
        }
    }

    fn ls(product: &str, category: Option<&str>, service: Option<&str>) -> LogSource {
        LogSource {
            product: Some(product.into()),
            category: category.map(str::to_string),
            service: service.map(str::to_string),
        }
    }

    /// The schema documents the pipeline format; every shipped pipeline
    /// must be valid against it, so the two cannot drift apart.
    #[test]
    fn shipped_pipelines_follow_the_pipeline_schema() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let schema: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root.join("schemas/pipeline.schema.json")).expect("schema"),
        )
        .expect("schema is JSON");
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&schema)
            .expect("schema compiles");
        let mut paths: Vec<_> = std::fs::read_dir(root.join("pipelines"))
            .expect("pipelines folder")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yml"))
            .collect();
        paths.sort();
        assert!(paths.len() >= 3);
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("read pipeline");
            let loaded = yaml::load(&text);
            let document = loaded.documents.first().expect("one document").to_json();
            let errors: Vec<String> = validator
                .iter_errors(&document)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        }
    }

    #[test]
    fn shipped_pipelines_load_with_includes() {
        let all = Pipelines::load(None).expect("embedded pipelines load");
        let xdr = all.get("defender_xdr").expect("defender_xdr");
        let source = xdr
            .source_for(&ls("windows", Some("process_creation"), None))
            .expect("process_creation");
        assert_eq!(source.table, "DeviceProcessEvents");
        let sentinel = all.get("sentinel").expect("sentinel");
        let ehr = sentinel
            .source_for(&ls("ehr", Some("record_access"), None))
            .expect("included healthcare source");
        assert_eq!(ehr.table, "EhrAccess_CL");
        assert_eq!(ehr.timestamp, "TimeGenerated");
    }

    fn eq(field: &str, value: &str) -> Expr {
        Expr::Pred(Pred {
            field: Some(field.into()),
            test: Test::Str {
                pattern: Pattern::literal(value),
                cased: false,
            },
            list: None,
        })
    }

    /// A `DOMAIN\\user` split turns each list entry into two values that
    /// no watchlist entry is: the list is kept, but marked as one that
    /// cannot stand in for them. Without a backslash the value is only
    /// moved to the user column, and the list still can.
    #[test]
    fn a_domain_user_split_marks_the_list_rewritten() {
        let listed = |value: &str| Pred {
            list: Some(std::sync::Arc::new(ListUse {
                name: "admins".into(),
                refused: None,
            })),
            ..match eq("User", value) {
                Expr::Pred(p) => p,
                _ => unreachable!(),
            }
        };
        let lists = |e: &Expr| -> Vec<Option<String>> {
            e.preds()
                .iter()
                .map(|p| p.list.as_ref().and_then(|l| l.refused.clone()))
                .collect()
        };
        let split = domain_user(listed("NT AUTHORITY\\SYSTEM"), "Domain", "Account").unwrap();
        let why = Some("each value is split over two columns".to_string());
        assert_eq!(lists(&split), vec![why.clone(), why]);
        let moved = domain_user(listed("SYSTEM"), "Domain", "Account").unwrap();
        assert_eq!(lists(&moved), vec![None]);
        assert!(moved.preds()[0].list.is_some());
    }

    #[test]
    fn every_branch_must_pin_the_event_id() {
        let ids = |e: &Expr| required_event_ids(e).map(|s| s.into_iter().collect::<Vec<_>>());
        let logon = Expr::and(vec![eq("EventID", "4624"), eq("LogonType", "3")]);
        assert_eq!(ids(&logon), Some(vec!["4624".to_string()]));
        let either = Expr::or(vec![logon.clone(), eq("EventID", "04625")]);
        assert_eq!(ids(&either), Some(vec!["4624".into(), "4625".into()]));
        // One branch without an EventID leaves it open.
        assert_eq!(
            ids(&Expr::or(vec![logon.clone(), eq("LogonType", "3")])),
            None
        );
        // A negated id pins nothing.
        assert_eq!(ids(&Expr::Not(Box::new(eq("EventID", "4624")))), None);
        // Conjuncts narrow each other.
        let both = Expr::and(vec![
            Expr::or(vec![eq("EventID", "4624"), eq("EventID", "4625")]),
            eq("EventID", "4625"),
        ]);
        assert_eq!(ids(&both), Some(vec!["4625".to_string()]));
    }

    #[test]
    fn security_rules_read_the_table_of_their_event_ids() {
        let all = Pipelines::load(None).expect("load");
        let xdr = all.get("defender_xdr").expect("defender_xdr");
        let security = ls("windows", None, Some("security"));
        // The log source alone does not decide: callers fall back.
        assert!(xdr.source_for(&security).is_none());
        let table = |e: &Expr| xdr.source_for_logic(&security, e).map(|s| s.table.clone());
        assert_eq!(
            table(&eq("EventID", "4625")).as_deref(),
            Ok("DeviceLogonEvents")
        );
        assert_eq!(table(&eq("EventID", "4698")).as_deref(), Ok("DeviceEvents"));
        let mixed = Expr::or(vec![eq("EventID", "4624"), eq("EventID", "4698")]);
        let Err(SelectError::EventIds(message)) = table(&mixed) else {
            panic!("two tables must not be selected");
        };
        assert!(message.contains("EventIDs 4624 and 4698"), "{message}");
        assert!(matches!(
            table(&eq("EventID", "4662")),
            Err(SelectError::Unrecorded(_))
        ));
        assert!(matches!(
            table(&eq("LogonType", "3")),
            Err(SelectError::EventIds(_))
        ));
    }

    #[test]
    fn computed_fields_of_one_table_agree_across_its_sources() {
        // Replay computes every source's fields on every row of a table, the
        // first definition of a name winning; two different definitions of
        // one name would make a row's value depend on source order.
        let all = Pipelines::load(None).expect("load");
        for name in ["defender_xdr", "sentinel", "healthcare"] {
            let p = all.get(name).expect("shipped");
            let mut seen: BTreeMap<(String, String), Computed<'_>> = BTreeMap::new();
            for source in &p.sources {
                for (field, computed) in source.computed() {
                    let key = (source.table.clone(), field.to_string());
                    if let Some(earlier) = seen.get(&key) {
                        assert_eq!(*earlier, computed, "{name}: {key:?}");
                    } else {
                        seen.insert(key, computed);
                    }
                }
            }
        }
    }

    #[test]
    fn json_paths_read_objects_and_json_text_alike() {
        let path = vec!["PipeName".to_string()];
        let object = serde_json::json!({"PipeName": "\\Device\\NamedPipe\\x", "n": 1});
        let text = serde_json::Value::String(object.to_string());
        assert_eq!(json_path(Some(&object), &path), "\\Device\\NamedPipe\\x");
        assert_eq!(json_path(Some(&text), &path), "\\Device\\NamedPipe\\x");
        assert_eq!(json_path(Some(&object), &["n".to_string()]), "1");
        assert_eq!(json_path(Some(&object), &["missing".to_string()]), "");
        let not_json = serde_json::Value::String("{oops".into());
        assert_eq!(json_path(Some(&not_json), &path), "");
        assert_eq!(json_path(None, &path), "");
        let computed = Computed::JsonPath {
            column: "AdditionalFields",
            path: &path,
            strip_prefix: "\\Device\\NamedPipe",
        };
        assert_eq!(computed.evaluate(|_| Some(&text)), "\\x");
    }

    #[test]
    fn value_maps_read_a_column_value_as_the_field_value() {
        let values = vec![
            ("true".to_string(), vec!["ConnectionSuccess".to_string()]),
            (
                "false".to_string(),
                vec!["InboundConnectionAccepted".to_string()],
            ),
        ];
        let computed = Computed::ValueMap {
            column: "ActionType",
            values: &values,
        };
        let read = |text: &'static str| serde_json::Value::String(text.into());
        let (a, b, c) = (
            read("connectionsuccess"),
            read("InboundConnectionAccepted"),
            read("ListeningConnectionCreated"),
        );
        assert_eq!(computed.evaluate(|_| Some(&a)), "true");
        assert_eq!(computed.evaluate(|_| Some(&b)), "false");
        assert_eq!(computed.evaluate(|_| Some(&c)), "");
        assert_eq!(computed.inputs(), ["ActionType"]);
    }

    #[test]
    fn registry_values_read_like_sysmon() {
        assert_eq!(registry_details("Dword", "1"), "DWORD (0x00000001)");
        assert_eq!(registry_details("REG_DWORD", "1"), "1");
        assert_eq!(
            registry_details("dword", "4294967295"),
            "DWORD (0xffffffff)"
        );
        assert_eq!(registry_details("Dword", "-1"), "DWORD (0xffffffff)");
        assert_eq!(
            registry_details("Qword", "4294967297"),
            "QWORD (0x00000001-0x00000001)"
        );
        assert_eq!(registry_details("Binary", "AAEC"), "Binary Data");
        assert_eq!(registry_details("String", "C:\\x.exe"), "C:\\x.exe");
        assert_eq!(registry_details("Dword", "not a number"), "not a number");
    }

    #[test]
    fn registry_paths_read_like_sysmon() {
        assert_eq!(
            registry_path(
                r"HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\x",
                "ImagePath"
            ),
            r"HKLM\SYSTEM\CurrentControlSet\Services\x\ImagePath"
        );
        assert_eq!(
            registry_path(r"HKEY_CURRENT_USER\S-1-5-21-1\Software\Run", ""),
            r"HKU\S-1-5-21-1\Software\Run"
        );
        assert_eq!(registry_path("HKEY_CLASSES_ROOT", ""), "HKCR");
    }

    #[test]
    fn fields_are_renamed_and_transformed() {
        let all = Pipelines::load(None).expect("load");
        let source = all
            .get("defender_xdr")
            .unwrap()
            .source_for(&ls("windows", Some("process_creation"), None))
            .unwrap();
        let pred = |field: &str, value: &str| {
            Expr::Pred(Pred {
                field: Some(field.into()),
                test: Test::Str {
                    pattern: Pattern::literal(value),
                    cased: false,
                },
                list: None,
            })
        };
        let mapped = source
            .map(
                "defender_xdr",
                &pred("User", "NT AUTHORITY\\SYSTEM"),
                None,
                true,
            )
            .unwrap();
        let fields: Vec<_> = mapped
            .preds()
            .iter()
            .filter_map(|p| p.field.clone())
            .collect();
        assert!(
            fields.contains(&"AccountDomain".to_string())
                && fields.contains(&"AccountName".to_string()),
            "{fields:?}"
        );
        let mapped = source
            .map(
                "defender_xdr",
                &pred("Hashes", "SHA256=AB,MD5=CD"),
                None,
                true,
            )
            .unwrap();
        let fields: Vec<_> = mapped
            .preds()
            .iter()
            .filter_map(|p| p.field.clone())
            .collect();
        assert!(fields.contains(&"SHA256".to_string()) && fields.contains(&"MD5".to_string()));
        let err = source
            .map("defender_xdr", &pred("IntegrityLevelX", "x"), None, true)
            .unwrap_err();
        assert!(matches!(err, MapError::UnknownField { .. }));
    }
}
