//! The backend-neutral logic of a rule: the single source of truth.
//!
//! Lowering turns the [`model`](crate::model) of a rule (search
//! identifiers, modifiers, the condition) into a boolean tree of field
//! predicates ([`Expr`]) or a correlation ([`Correlation`]). The evaluator,
//! the KQL and Sigma backends and `explain` all read this form, so what is
//! tested is what is deployed. Modifiers are applied here, once: wildcards
//! are parsed, `windash` and `base64offset` become alternatives,
//! placeholders are expanded from `lists/`, encodings are computed.
//!
//! Semantics (documented in README, "Matching semantics"):
//! - strings compare case-insensitively unless `cased`; regexes are
//!   case-sensitive unless `i`;
//! - a missing or `null` field reads as the empty string for string tests
//!   (as in Kusto, where string columns are never null); `null` in a rule
//!   matches a missing, null or empty field; `exists` tells presence apart;
//! - an array field matches when any element matches;
//! - numbers compare numerically with `gt`/`gte`/`lt`/`lte` (numeric strings
//!   are parsed); a plain value compares with the field's text, so
//!   `EventID: 4688` matches `4688` and `"4688"`;
//! - `neq` means "the field exists and equals none of the values".

pub mod lower;
pub mod pattern;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use lower::{ListError, Lists, LowerError, lower_rules};
pub use pattern::{Pattern, Piece};

use crate::model::LogSource;

/// How a numeric or time-part value is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CmpOp {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            CmpOp::Eq => left == right,
            CmpOp::Gt => left > right,
            CmpOp::Gte => left >= right,
            CmpOp::Lt => left < right,
            CmpOp::Lte => left <= right,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
        }
    }
}

/// A part of a timestamp (`|hour` etc.), in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// Where a `fieldref` value must sit in the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Position {
    Whole,
    Start,
    End,
    Anywhere,
}

/// What a predicate tests about a field's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    /// A string pattern (wildcards already parsed).
    Str {
        pattern: Pattern,
        cased: bool,
    },
    Regex {
        pattern: String,
        ignore_case: bool,
        multi_line: bool,
        dot_all: bool,
    },
    Cidr(ipnet::IpNet),
    Cmp {
        op: CmpOp,
        value: f64,
    },
    /// `exists: true|false`.
    Exists(bool),
    /// Sigma `null`: missing, null or empty.
    Null,
    /// The field relates to another field of the same event.
    FieldRef {
        other: String,
        position: Position,
        cased: bool,
    },
    /// At least `min` distinct checksum-valid NHS numbers in the value.
    NhsNumber {
        min: u32,
    },
    TimePart {
        part: TimePart,
        op: CmpOp,
        value: i64,
    },
}

impl Test {
    /// A `re` test's inline flags as RE2 writes them (`ims`, only those
    /// set); empty for other tests.
    pub fn regex_flags(&self) -> String {
        let Test::Regex {
            ignore_case,
            multi_line,
            dot_all,
            ..
        } = self
        else {
            return String::new();
        };
        [(*ignore_case, 'i'), (*multi_line, 'm'), (*dot_all, 's')]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, flag)| *flag)
            .collect()
    }
}

/// A test on one field, or on every string value of the event (keywords).
#[derive(Clone, Debug, PartialEq)]
pub struct Pred {
    /// `None` for keyword searches over the whole event.
    pub field: Option<String>,
    pub test: Test,
    /// The value list this predicate's value was expanded from, if any.
    /// The evaluator and every backend read the values; only a Sentinel
    /// query compiled with `--watchlists` reads the list by its name.
    pub list: Option<Arc<ListUse>>,
}

impl Pred {
    /// A predicate whose value is written in the rule (not from a list).
    pub fn new(field: Option<String>, test: Test) -> Pred {
        Pred {
            field,
            test,
            list: None,
        }
    }
}

/// A `%name%` placeholder under `expand`, as the predicates it expanded to
/// remember it: a Sentinel workspace can hold the same list as a watchlist
/// and a query can read it there (`_GetWatchlist('name')`) instead of a
/// copy of its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListUse {
    pub name: String,
    /// Why the list cannot stand in for its values: the value has text
    /// around the placeholder, or a modifier or pipeline step rewrote each
    /// value (`contains`, `windash`, a `DOMAIN\user` split). `None` when
    /// each predicate compares the field with one list entry as it is.
    pub refused: Option<String>,
}

impl ListUse {
    /// `list` after a step that rewrote each value (`reason`): still the
    /// same list, but no longer one that can stand in for the values.
    pub fn rewritten(list: &Option<Arc<ListUse>>, reason: &str) -> Option<Arc<ListUse>> {
        list.as_ref().map(|used| {
            Arc::new(ListUse {
                name: used.name.clone(),
                refused: Some(used.refused.clone().unwrap_or_else(|| reason.to_string())),
            })
        })
    }
}

/// A boolean tree of predicates.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Pred(Pred),
    Const(bool),
}

impl Expr {
    /// `and` of parts, flattening nested `and`s and folding constants.
    pub fn and(parts: Vec<Expr>) -> Expr {
        Expr::chain(parts, true)
    }

    /// `or` of parts, flattening nested `or`s and folding constants.
    pub fn or(parts: Vec<Expr>) -> Expr {
        Expr::chain(parts, false)
    }

    /// `and` (`all`) or `or` of parts: nested chains of the same kind
    /// flattened, the neutral constant dropped, the absorbing one returned.
    fn chain(parts: Vec<Expr>, all: bool) -> Expr {
        let same_kind = |e: &Expr| matches!((e, all), (Expr::And(_), true) | (Expr::Or(_), false));
        // Most calls have nothing to fold: their vector is kept as it is.
        let parts = if parts
            .iter()
            .any(|p| matches!(p, Expr::Const(_)) || same_kind(p))
        {
            let mut out = Vec::with_capacity(parts.len());
            for part in parts {
                match part {
                    Expr::Const(b) if b == all => {}
                    Expr::Const(b) => return Expr::Const(b),
                    Expr::And(inner) if all => out.extend(inner),
                    Expr::Or(inner) if !all => out.extend(inner),
                    other => out.push(other),
                }
            }
            out
        } else {
            parts
        };
        match parts.len() {
            0 => Expr::Const(all),
            1 => parts.into_iter().next().unwrap_or(Expr::Const(all)),
            _ if all => Expr::And(parts),
            _ => Expr::Or(parts),
        }
    }

    pub fn negate(inner: Expr) -> Expr {
        match inner {
            Expr::Const(b) => Expr::Const(!b),
            Expr::Not(e) => *e,
            other => Expr::Not(Box::new(other)),
        }
    }

    /// Every predicate, depth first.
    pub fn preds(&self) -> Vec<&Pred> {
        let mut out = Vec::new();
        self.visit(&mut |p| out.push(p));
        out
    }

    /// How many predicates the expression holds, without listing them.
    pub fn pred_count(&self) -> usize {
        let mut count = 0;
        self.visit(&mut |_| count += 1);
        count
    }

    /// Whether `f` holds for every predicate; stops at the first that fails.
    pub fn all_preds<'a>(&'a self, f: &mut dyn FnMut(&'a Pred) -> bool) -> bool {
        match self {
            Expr::And(items) | Expr::Or(items) => items.iter().all(|e| e.all_preds(f)),
            Expr::Not(inner) => inner.all_preds(f),
            Expr::Pred(p) => f(p),
            Expr::Const(_) => true,
        }
    }

    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a Pred)) {
        match self {
            Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| e.visit(f)),
            Expr::Not(inner) => inner.visit(f),
            Expr::Pred(p) => f(p),
            Expr::Const(_) => {}
        }
    }

    /// A rewritten copy, every predicate replaced by what `f` makes of it:
    /// [`Expr::map_preds`] on a borrowed tree, without cloning it first.
    pub fn map_pred_refs(&self, f: &mut dyn FnMut(&Pred) -> Expr) -> Expr {
        match self {
            Expr::And(items) => Expr::and(items.iter().map(|e| e.map_pred_refs(f)).collect()),
            Expr::Or(items) => Expr::or(items.iter().map(|e| e.map_pred_refs(f)).collect()),
            Expr::Not(inner) => Expr::negate(inner.map_pred_refs(f)),
            Expr::Pred(p) => f(p),
            Expr::Const(c) => Expr::Const(*c),
        }
    }

    /// Rewrite every predicate (pipelines rename fields this way).
    pub fn map_preds(self, f: &mut dyn FnMut(Pred) -> Expr) -> Expr {
        match self {
            Expr::And(items) => Expr::and(items.into_iter().map(|e| e.map_preds(f)).collect()),
            Expr::Or(items) => Expr::or(items.into_iter().map(|e| e.map_preds(f)).collect()),
            Expr::Not(inner) => Expr::negate(inner.map_preds(f)),
            Expr::Pred(p) => f(p),
            c @ Expr::Const(_) => c,
        }
    }
}

/// The Sigma correlation types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorrelationKind {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
    ValuePercentile,
    ValueMedian,
}

impl CorrelationKind {
    pub fn parse(text: &str) -> Option<CorrelationKind> {
        Some(match text {
            "event_count" => CorrelationKind::EventCount,
            "value_count" => CorrelationKind::ValueCount,
            "temporal" => CorrelationKind::Temporal,
            "temporal_ordered" => CorrelationKind::TemporalOrdered,
            "value_sum" => CorrelationKind::ValueSum,
            "value_avg" => CorrelationKind::ValueAvg,
            "value_percentile" => CorrelationKind::ValuePercentile,
            "value_median" => CorrelationKind::ValueMedian,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            CorrelationKind::EventCount => "event_count",
            CorrelationKind::ValueCount => "value_count",
            CorrelationKind::Temporal => "temporal",
            CorrelationKind::TemporalOrdered => "temporal_ordered",
            CorrelationKind::ValueSum => "value_sum",
            CorrelationKind::ValueAvg => "value_avg",
            CorrelationKind::ValuePercentile => "value_percentile",
            CorrelationKind::ValueMedian => "value_median",
        }
    }
}

/// A correlation over other rules' matches.
#[derive(Clone, Debug, PartialEq)]
pub struct Correlation {
    pub kind: CorrelationKind,
    /// Indices into the lowered rule set of the rules it correlates, in
    /// the order written (the order matters for `temporal_ordered`).
    pub rules: Vec<usize>,
    /// Group-by fields, as written (aliases resolved per rule below).
    pub group_by: Vec<String>,
    /// alias -> (rule index -> field).
    pub aliases: BTreeMap<String, BTreeMap<usize, String>>,
    pub timespan_seconds: u64,
    /// Comparisons that must all hold (a range is two of them).
    pub condition: Vec<(CmpOp, f64)>,
    /// The field aggregated by `value_*` types.
    pub field: Option<String>,
    pub percentile: Option<f64>,
    pub generate: bool,
}

impl Correlation {
    /// The field that carries group-by `name` in events of rule `rule`.
    pub fn group_field<'a>(&'a self, name: &'a str, rule: usize) -> &'a str {
        self.aliases
            .get(name)
            .and_then(|per_rule| per_rule.get(&rule))
            .map_or(name, String::as_str)
    }
}

/// What a rule does, backend-neutrally.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Detection(Expr),
    Correlation(Correlation),
}

/// One rule's logic plus the metadata backends need.
#[derive(Clone, Debug)]
pub struct RuleLogic {
    pub id: Option<String>,
    pub name: Option<String>,
    pub title: String,
    /// The rule file as shown to users.
    pub path: String,
    pub document: usize,
    pub level: Option<String>,
    pub logsource: LogSource,
    pub taxonomy: Option<String>,
    pub body: Body,
    /// Referenced by a correlation with `generate: false`: evaluated for
    /// the correlation, not reported on its own.
    pub hidden: bool,
}

impl RuleLogic {
    /// The identity used in output: the id, else the name, else the title.
    pub fn key(&self) -> &str {
        self.id
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or(&self.title)
    }
}
