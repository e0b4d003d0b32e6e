//! Lowering: rule model → [`RuleLogic`].
//!
//! Errors here are problems that make a rule's meaning undefined (an
//! unknown modifier, a placeholder without a list, a correlation over a
//! missing rule). `validate` reports the same problems with richer context;
//! lowering refuses rather than guessing, so no backend ever sees a rule
//! with a silently dropped condition.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use thiserror::Error;

use super::{
    Body, CmpOp, Correlation, CorrelationKind, Expr, ListUse, Pattern, Position, Pred, RuleLogic,
    Test, TimePart,
};
use crate::limits::{
    MAX_EXPANDED_VALUES, MAX_LIST_ENTRIES, MAX_LIST_FILE_BYTES, MAX_RULE_EXPANDED_VALUES,
    ReadError, read_bounded_string,
};
use crate::model::condition::{self, Quantifier};
use crate::model::modifier::Group;
use crate::model::{Detection, Item, Modifier, Rule, RuleKind, Search};
use crate::source::yaml::{Node, Typed};
use crate::source::{SourceFile, Span};

/// Windash variants of `-` and `/` (Sigma specification, `windash`).
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Most dash positions expanded in one value (5^5 = 3,125 variants); more
/// is an error, never a silently unexpanded dash.
const MAX_WINDASH_POSITIONS: usize = 5;

/// Named value lists for `%placeholder%` expansion (`lists/NAME.txt`).
#[derive(Clone, Debug, Default)]
pub struct Lists {
    lists: BTreeMap<String, Vec<String>>,
}

impl Lists {
    /// Read every `*.txt` in `dir`: one value per line, `#` comments and
    /// blank lines skipped, surrounding whitespace trimmed. A list over
    /// [`MAX_LIST_FILE_BYTES`] or [`MAX_LIST_ENTRIES`] is an error.
    pub fn load(dir: &Path) -> Result<Lists, ListError> {
        Lists::load_with_sources(dir).map(|(lists, _)| lists)
    }

    /// [`Lists::load`], with the file each list was read from, for checks
    /// of the text itself (validate's NHS number scan) without reading the
    /// lists twice.
    pub fn load_with_sources(dir: &Path) -> Result<(Lists, Vec<Arc<SourceFile>>), ListError> {
        let mut lists = BTreeMap::new();
        let mut sources = Vec::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok((Lists { lists }, sources));
        };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            if path.extension().and_then(|e| e.to_str()) != Some("txt") {
                continue;
            }
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let shown = crate::source::display_path(&path);
            let text = read_bounded_string(&path, MAX_LIST_FILE_BYTES, "value lists").map_err(
                |source| ListError::Read {
                    path: shown.clone(),
                    source,
                },
            )?;
            let file = SourceFile::new(&path, shown, text);
            let values = parse_list(&file.text);
            if values.len() > MAX_LIST_ENTRIES {
                let span = nth_entry_span(&file.text, MAX_LIST_ENTRIES);
                return Err(ListError::TooManyEntries { file, span });
            }
            lists.insert(name.to_string(), values);
            sources.push(file);
        }
        Ok((Lists { lists }, sources))
    }

    pub fn from_pairs(pairs: &[(&str, &[&str])]) -> Lists {
        Lists {
            lists: pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.lists.get(name).map(Vec::as_slice)
    }

    pub fn names(&self) -> BTreeSet<String> {
        self.lists.keys().cloned().collect()
    }
}

/// Why the value lists could not be loaded.
#[derive(Debug, Error)]
pub enum ListError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: ReadError,
    },
    /// `span` is the first entry over the limit.
    #[error(
        "{}:{}: list has more than {MAX_LIST_ENTRIES} entries; value lists are limited to {MAX_LIST_ENTRIES}",
        file.display,
        file.line_col(span.start).line
    )]
    TooManyEntries { file: Arc<SourceFile>, span: Span },
}

/// The span of the `n`th (0-based) entry of a list file.
fn nth_entry_span(text: &str, n: usize) -> Span {
    let mut offset = 0;
    let mut seen = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_matches(is_list_padding);
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            if seen == n {
                let start = offset + (line.len() - line.trim_start_matches(is_list_padding).len());
                return Span::new(start, start + trimmed.len());
            }
            seen += 1;
        }
        offset += line.len();
    }
    Span::new(text.len(), text.len())
}

/// What surrounds a list value and is not part of it: whitespace, and the
/// byte order mark Windows editors put before the first line (kept, it
/// would make the first value one that no event holds).
fn is_list_padding(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// The values of one list file.
pub fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.trim_matches(is_list_padding))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Why a rule could not be lowered.
#[derive(Clone, Debug, Error)]
#[error("{message}")]
pub struct LowerError {
    pub file: Arc<SourceFile>,
    pub span: Span,
    pub message: String,
}

impl LowerError {
    fn new(rule: &Rule, span: Span, message: impl Into<String>) -> LowerError {
        LowerError {
            file: Arc::clone(&rule.file),
            span,
            message: message.into(),
        }
    }
}

/// Lower a rule set. Filters are applied to the rules they name and
/// dropped; rules that cannot be lowered are left out and reported.
pub fn lower_rules(rules: &[Rule], lists: &Lists) -> (Vec<RuleLogic>, Vec<LowerError>) {
    let mut errors = Vec::new();
    // One rule's logic per rule at most: sized once, not grown by doubling
    // through thousands of rules.
    let mut out: Vec<RuleLogic> = Vec::with_capacity(rules.len());
    let mut sources: Vec<&Rule> = Vec::with_capacity(rules.len());
    for rule in rules.iter().filter(|r| r.kind == RuleKind::Detection) {
        match lower_detection(rule, lists) {
            Ok(expr) => {
                out.push(logic(rule, Body::Detection(expr)));
                sources.push(rule);
            }
            Err(e) => errors.push(e),
        }
    }
    for filter in rules.iter().filter(|r| r.kind == RuleKind::Filter) {
        if let Err(e) = apply_filter(filter, &sources, &mut out, lists) {
            errors.push(e);
        }
    }
    // Correlations come after every detection so references resolve, and
    // a correlation of correlations after the ones it names, wherever
    // their files sort.
    for rule in correlations_in_dependency_order(rules, &mut errors) {
        match lower_correlation(rule, &out) {
            Ok(c) => {
                if !c.generate {
                    for &i in &c.rules {
                        out[i].hidden = true;
                    }
                }
                out.push(logic(rule, Body::Correlation(c)));
            }
            Err(e) => errors.push(e),
        }
    }
    (out, errors)
}

/// The correlation rules, each after every correlation it names (file
/// order otherwise). Correlations in a cycle are reported and left out.
fn correlations_in_dependency_order<'a>(
    rules: &'a [Rule],
    errors: &mut Vec<LowerError>,
) -> Vec<&'a Rule> {
    let mut pending: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.kind == RuleKind::Correlation)
        .collect();
    let names = |r: &Rule| -> Vec<String> {
        [r.id.as_ref(), r.name.as_ref()]
            .into_iter()
            .flatten()
            .map(|l| l.text.clone())
            .collect()
    };
    let mut ordered = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let waiting: BTreeSet<String> = pending.iter().flat_map(|r| names(r)).collect();
        let (ready, blocked): (Vec<&Rule>, Vec<&Rule>) = pending.into_iter().partition(|r| {
            let own = names(r);
            r.correlation.as_ref().is_none_or(|c| {
                c.rules
                    .iter()
                    .all(|n| own.contains(&n.text) || !waiting.contains(&n.text))
            })
        });
        if ready.is_empty() {
            for rule in blocked {
                let span = rule
                    .correlation
                    .as_ref()
                    .and_then(|c| c.rules.iter().find(|n| waiting.contains(&n.text)))
                    .map_or_else(|| rule.anchor_span(), |n| n.span);
                errors.push(LowerError::new(
                    rule,
                    span,
                    "correlations name each other in a cycle; none of them can be evaluated",
                ));
            }
            break;
        }
        ordered.extend(ready);
        pending = blocked;
    }
    ordered
}

fn logic(rule: &Rule, body: Body) -> RuleLogic {
    RuleLogic {
        id: rule.id.as_ref().map(|l| l.text.clone()),
        name: rule.name.as_ref().map(|l| l.text.clone()),
        title: rule
            .title
            .as_ref()
            .map_or_else(String::new, |l| l.text.clone()),
        path: rule.file.display.clone(),
        document: rule.document,
        level: rule.level.clone(),
        logsource: rule.logsource.clone(),
        taxonomy: rule.taxonomy.clone(),
        body,
        hidden: false,
    }
}

/// The condition of a detection (or filter) block as an expression.
pub fn lower_detection(rule: &Rule, lists: &Lists) -> Result<Expr, LowerError> {
    let detection = rule
        .detection
        .as_ref()
        .ok_or_else(|| LowerError::new(rule, rule.anchor_span(), "no detection block"))?;
    lower_block(rule, detection, lists)
}

/// Each named search identifier of a detection rule on its own, in file
/// order: what near-miss reports and `explain` evaluate one by one.
pub fn lower_selections(rule: &Rule, lists: &Lists) -> Result<Vec<(String, Expr)>, LowerError> {
    let Some(detection) = rule.detection.as_ref() else {
        return Ok(Vec::new());
    };
    detection
        .identifiers
        .iter()
        .map(|ident| {
            Ok((
                ident.name.clone(),
                lower_search(rule, &ident.search, lists, &mut 0)?,
            ))
        })
        .collect()
}

fn lower_block(rule: &Rule, detection: &Detection, lists: &Lists) -> Result<Expr, LowerError> {
    if detection.conditions.is_empty() {
        let span = detection
            .condition_key
            .unwrap_or_else(|| rule.anchor_span());
        return Err(LowerError::new(rule, span, "no condition"));
    }
    let mut searches = Searches::default();
    let mut spent = 0;
    for ident in &detection.identifiers {
        let expr = lower_search(rule, &ident.search, lists, &mut spent)?;
        searches.0.insert(ident.name.as_str(), (0, expr));
    }
    let names: Vec<&str> = detection
        .identifiers
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    let mut parsed = Vec::with_capacity(detection.conditions.len());
    for cond in &detection.conditions {
        let expr = condition::parse(&cond.text).map_err(|e| {
            let span = crate::model::span_in_scalar(
                &rule.file,
                cond.node_span,
                &cond.text,
                e.span.clone(),
            );
            LowerError::new(rule, span, format!("condition: {}", e.message))
        });
        if let Ok(expr) = &expr {
            searches.count_uses(expr, &names);
        }
        parsed.push((cond, expr));
    }
    let mut alternatives = Vec::with_capacity(parsed.len());
    for (cond, expr) in parsed {
        alternatives.push(lower_condition(
            rule,
            cond.node_span,
            &expr?,
            &mut searches,
            &names,
        )?);
    }
    Ok(Expr::or(alternatives))
}

/// The lowered search identifiers of a detection, each with the number of
/// times the conditions still use it. A search is copied for every use but
/// its last, which takes it: most are used once, and copying a search
/// and then dropping the original was a good part of lowering's work.
#[derive(Default)]
struct Searches<'a>(BTreeMap<&'a str, (usize, Expr)>);

impl Searches<'_> {
    /// Count the uses in `expr` exactly as [`lower_condition`] makes them.
    fn count_uses(&mut self, expr: &condition::Expr, names: &[&str]) {
        use condition::Expr as C;
        match expr {
            C::Or(items) | C::And(items) => {
                items.iter().for_each(|e| self.count_uses(e, names));
            }
            C::Not(inner) => self.count_uses(inner, names),
            C::Ident { name, .. } => self.add_use(name),
            C::Of { target, .. } => {
                for name in condition::select(target, names.iter().copied()) {
                    self.add_use(name);
                }
            }
        }
    }

    fn add_use(&mut self, name: &str) {
        if let Some((uses, _)) = self.0.get_mut(name) {
            *uses += 1;
        }
    }

    /// The search's expression for one use.
    fn take(&mut self, name: &str) -> Option<Expr> {
        let (uses, expr) = self.0.get_mut(name)?;
        *uses = uses.saturating_sub(1);
        Some(if *uses == 0 {
            std::mem::replace(expr, Expr::Const(false))
        } else {
            expr.clone()
        })
    }
}

fn lower_condition(
    rule: &Rule,
    span: Span,
    expr: &condition::Expr,
    searches: &mut Searches<'_>,
    names: &[&str],
) -> Result<Expr, LowerError> {
    use condition::Expr as C;
    Ok(match expr {
        C::Or(items) => Expr::or(
            items
                .iter()
                .map(|e| lower_condition(rule, span, e, searches, names))
                .collect::<Result<_, _>>()?,
        ),
        C::And(items) => Expr::and(
            items
                .iter()
                .map(|e| lower_condition(rule, span, e, searches, names))
                .collect::<Result<_, _>>()?,
        ),
        C::Not(inner) => Expr::negate(lower_condition(rule, span, inner, searches, names)?),
        C::Ident { name, .. } => searches.take(name).ok_or_else(|| {
            LowerError::new(rule, span, format!("undefined search identifier `{name}`"))
        })?,
        C::Of {
            quantifier, target, ..
        } => {
            let selected = condition::select(target, names.iter().copied());
            if selected.is_empty() {
                return Err(LowerError::new(
                    rule,
                    span,
                    "a quantifier in the condition selects no search identifier",
                ));
            }
            let parts: Vec<Expr> = selected.iter().filter_map(|n| searches.take(n)).collect();
            match quantifier {
                Quantifier::Any => Expr::or(parts),
                Quantifier::All => Expr::and(parts),
            }
        }
    })
}

/// Lower a search; `spent` counts the tests the rule has produced so far,
/// checked against [`MAX_RULE_EXPANDED_VALUES`] after each item.
fn lower_search(
    rule: &Rule,
    search: &Search,
    lists: &Lists,
    spent: &mut usize,
) -> Result<Expr, LowerError> {
    let mut item = |i: &Item| -> Result<Expr, LowerError> {
        let expr = lower_item(rule, i, lists)?;
        *spent += expr.pred_count();
        if *spent > MAX_RULE_EXPANDED_VALUES {
            return Err(LowerError::new(
                rule,
                i.value_span,
                format!(
                    "the rule expands to more than {MAX_RULE_EXPANDED_VALUES} values in all (this item goes over)"
                ),
            ));
        }
        Ok(expr)
    };
    Ok(match search {
        Search::AllOf(items) => Expr::and(items.iter().map(&mut item).collect::<Result<_, _>>()?),
        Search::AnyOf(groups) => Expr::or(
            groups
                .iter()
                .map(|items| {
                    Ok(Expr::and(
                        items.iter().map(&mut item).collect::<Result<_, _>>()?,
                    ))
                })
                .collect::<Result<_, LowerError>>()?,
        ),
        Search::Keywords(items) => Expr::or(items.iter().map(&mut item).collect::<Result<_, _>>()?),
    })
}

/// A value on its way through the transformation modifiers.
#[derive(Clone, Debug)]
enum Stage {
    /// Sigma text: wildcards and escapes still active.
    Sigma(String),
    /// Bytes after an encoding; wildcards no longer apply.
    Bytes(Vec<u8>),
}

/// Lower one `field|modifiers: values` item.
pub fn lower_item(rule: &Rule, item: &Item, lists: &Lists) -> Result<Expr, LowerError> {
    let mut mods = Vec::with_capacity(item.modifiers.len());
    for used in &item.modifiers {
        match used.modifier {
            Some(m) => mods.push(m),
            None => {
                return Err(LowerError::new(
                    rule,
                    used.span,
                    format!("unknown modifier `{}`", used.name),
                ));
            }
        }
    }
    let has = |m: Modifier| mods.contains(&m);
    let field = item.field.clone();
    if item.has_nested {
        return Err(LowerError::new(
            rule,
            item.value_span,
            "values must be plain scalars",
        ));
    }
    if has(Modifier::Exists) {
        let value = item.values.first().map(|v| v.scalar.typed());
        let Some(Typed::Bool(b)) = value else {
            return Err(LowerError::new(
                rule,
                item.value_span,
                "`exists` takes true or false",
            ));
        };
        return Ok(pred(field, Test::Exists(b)));
    }
    // Keyword items (no field, no modifiers) search every string value.
    let keyword = field.is_none();
    let mut per_value = Vec::with_capacity(item.values.len());
    for value in &item.values {
        let mut lower_text =
            |typed: Typed<'_>, text: &str, list: &Option<Arc<ListUse>>| -> Result<(), LowerError> {
                let mut tests = lower_value(rule, value.span, &mods, typed, text)?;
                let pred = |test| {
                    Expr::Pred(Pred {
                        field: field.clone(),
                        test,
                        list: list.clone(),
                    })
                };
                // Nearly every value stands for one test: no list to build
                // for `or` to take apart again.
                let expr = match tests.len() {
                    1 => pred(tests.swap_remove(0)),
                    _ => Expr::or(tests.into_iter().map(pred).collect()),
                };
                per_value.push(if keyword { keyword_expr(expr) } else { expr });
                Ok(())
            };
        if has(Modifier::Expand) {
            let list = list_use(item, &value.scalar.text);
            for text in expand_placeholders(rule, value.span, &value.scalar.text, lists)? {
                lower_text(Typed::Str(&text), &text, &list)?;
            }
        } else {
            // The value's own text, read in place rather than copied.
            lower_text(value.scalar.typed(), &value.scalar.text, &None)?;
        }
        if per_value.len() > MAX_EXPANDED_VALUES {
            return Err(LowerError::new(
                rule,
                item.value_span,
                format!("expands to more than {MAX_EXPANDED_VALUES} values"),
            ));
        }
    }
    if item.is_list && item.values.is_empty() {
        // `Field: []` has no value to match (pySigma renders it as a null test).
        return Ok(pred(field, Test::Null));
    }
    let combined = if has(Modifier::All) {
        Expr::and(per_value)
    } else {
        Expr::or(per_value)
    };
    if has(Modifier::Neq) {
        let exists = pred(field, Test::Exists(true));
        return Ok(Expr::and(vec![exists, Expr::negate(combined)]));
    }
    Ok(combined)
}

/// Keywords match anywhere in a string value.
fn keyword_expr(expr: Expr) -> Expr {
    expr.map_preds(&mut |mut p| {
        if let Test::Str { pattern, .. } = &mut p.test {
            *pattern = std::mem::replace(pattern, Pattern::Exact(String::new())).contains();
        }
        Expr::Pred(p)
    })
}

fn pred(field: Option<String>, test: Test) -> Expr {
    Expr::Pred(Pred::new(field, test))
}

/// What the predicates of a value under `expand` remember of its list
/// ([`ListUse`]): `None` when the value names no list. Only a field
/// compared with each entry as it is (`cased` and `neq` allowed) can read
/// the list in place of its values; anything else says why not.
fn list_use(item: &Item, text: &str) -> Option<Arc<ListUse>> {
    let names = crate::lint::placeholder_names(text);
    let &(_, name) = names.first()?;
    let rewriting = item.modifiers.iter().find(|used| {
        !matches!(
            used.modifier,
            Some(Modifier::Expand | Modifier::Cased | Modifier::Neq)
        )
    });
    let refused = if names.len() > 1 {
        Some(format!("`{text}` holds more than one placeholder"))
    } else if text.len() != name.len() + 2 {
        Some(format!("`{text}` has text around the placeholder"))
    } else if item.field.is_none() {
        Some("a keyword searches every field".to_string())
    } else {
        rewriting.map(|used| format!("`|{}` rewrites each value", used.name))
    };
    Some(Arc::new(ListUse {
        name: name.to_string(),
        refused,
    }))
}

/// The alternatives (OR-ed) one value stands for under the modifiers.
fn lower_value(
    rule: &Rule,
    span: Span,
    mods: &[Modifier],
    typed: Typed<'_>,
    text: &str,
) -> Result<Vec<Test>, LowerError> {
    let has = |m: Modifier| mods.contains(&m);
    let err = |message: String| LowerError::new(rule, span, message);
    let number = || -> Result<f64, LowerError> {
        match typed {
            Typed::Int(i) => Ok(i as f64),
            Typed::Float(f) => Ok(f),
            _ => text
                .trim()
                .parse::<f64>()
                .map_err(|_| err(format!("`{text}` is not a number"))),
        }
    };
    let numeric_op = mods.iter().find_map(|m| match m {
        Modifier::Gt => Some(CmpOp::Gt),
        Modifier::Gte => Some(CmpOp::Gte),
        Modifier::Lt => Some(CmpOp::Lt),
        Modifier::Lte => Some(CmpOp::Lte),
        _ => None,
    });
    if let Some(part) = mods.iter().find_map(time_part) {
        let value = number()?;
        return Ok(vec![Test::TimePart {
            part,
            op: numeric_op.unwrap_or(CmpOp::Eq),
            value: value as i64,
        }]);
    }
    if let Some(op) = numeric_op {
        return Ok(vec![Test::Cmp {
            op,
            value: number()?,
        }]);
    }
    if has(Modifier::NhsNumber) {
        let min = match typed {
            Typed::Bool(true) => 1,
            Typed::Int(n) if n >= 1 => u32::try_from(n).unwrap_or(u32::MAX),
            _ => return Err(err("`nhs_number` takes true or a count".into())),
        };
        return Ok(vec![Test::NhsNumber { min }]);
    }
    if has(Modifier::Cidr) {
        let net = text
            .trim()
            .parse::<ipnet::IpNet>()
            .map_err(|_| err(format!("`{text}` is not a CIDR network")))?;
        return Ok(vec![Test::Cidr(net)]);
    }
    if has(Modifier::Re) {
        let test = Test::Regex {
            pattern: text.to_string(),
            ignore_case: has(Modifier::IgnoreCase),
            multi_line: has(Modifier::Multiline),
            dot_all: has(Modifier::DotAll),
        };
        crate::eval::check_regex_test(&test).map_err(|e| err(format!("invalid regex: {e}")))?;
        return Ok(vec![test]);
    }
    let cased = has(Modifier::Cased);
    if has(Modifier::Fieldref) {
        let position = if has(Modifier::Contains) {
            Position::Anywhere
        } else if has(Modifier::StartsWith) {
            Position::Start
        } else if has(Modifier::EndsWith) {
            Position::End
        } else {
            Position::Whole
        };
        return Ok(vec![Test::FieldRef {
            other: text.to_string(),
            position,
            cased,
        }]);
    }
    if matches!(typed, Typed::Null) && !mods.iter().any(|m| m.group() == Group::Position) {
        return Ok(vec![Test::Null]);
    }
    let position = |pattern: Pattern| {
        if has(Modifier::Contains) {
            pattern.contains()
        } else if has(Modifier::StartsWith) {
            pattern.starts_with()
        } else if has(Modifier::EndsWith) {
            pattern.ends_with()
        } else {
            pattern
        }
    };
    // Most values are plain strings: no stages to copy the text into.
    if !mods.iter().any(|m| m.group() == Group::Transform) {
        let pattern = position(Pattern::parse(text));
        return Ok(vec![Test::Str { pattern, cased }]);
    }
    // String matching: run the transformation modifiers in written order.
    let mut stages = vec![Stage::Sigma(text.to_string())];
    for m in mods {
        stages = match m {
            Modifier::Windash => {
                let mut out = Vec::new();
                for stage in stages {
                    out.extend(windash(stage).ok_or_else(|| {
                        err(format!(
                            "`windash` on more than {MAX_WINDASH_POSITIONS} flags; split the value"
                        ))
                    })?);
                }
                out
            }
            Modifier::Wide | Modifier::Utf16le => stages
                .into_iter()
                .map(|s| encode_utf16(s, false, false))
                .collect(),
            Modifier::Utf16be => stages
                .into_iter()
                .map(|s| encode_utf16(s, true, false))
                .collect(),
            Modifier::Utf16 => stages
                .into_iter()
                .map(|s| encode_utf16(s, false, true))
                .collect(),
            Modifier::Base64 => stages
                .into_iter()
                .map(|s| Stage::Sigma(escape_sigma(&base64_engine().encode(bytes(&s)))))
                .collect(),
            Modifier::Base64Offset => stages
                .into_iter()
                .flat_map(|s| base64_offsets(&bytes(&s)))
                .collect(),
            _ => stages,
        };
        if stages.len() > MAX_EXPANDED_VALUES {
            return Err(err(format!(
                "expands to more than {MAX_EXPANDED_VALUES} alternatives"
            )));
        }
    }
    let mut tests = Vec::with_capacity(stages.len());
    for stage in stages {
        let pattern = position(match stage {
            Stage::Sigma(s) => Pattern::parse(&s),
            Stage::Bytes(b) => Pattern::literal(&String::from_utf8_lossy(&b)),
        });
        tests.push(Test::Str { pattern, cased });
    }
    tests.dedup();
    Ok(tests)
}

fn time_part(m: &Modifier) -> Option<TimePart> {
    Some(match m {
        Modifier::Minute => TimePart::Minute,
        Modifier::Hour => TimePart::Hour,
        Modifier::Day => TimePart::Day,
        Modifier::Week => TimePart::Week,
        Modifier::Month => TimePart::Month,
        Modifier::Year => TimePart::Year,
        _ => return None,
    })
}

fn base64_engine() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The bytes a stage stands for: Sigma text is taken with its escapes
/// resolved (encodings do not support wildcards).
fn bytes(stage: &Stage) -> Vec<u8> {
    match stage {
        Stage::Bytes(b) => b.clone(),
        Stage::Sigma(s) => {
            let pattern = Pattern::parse(s);
            match pattern {
                Pattern::Exact(t) => t.into_bytes(),
                other => other.to_string().into_bytes(),
            }
        }
    }
}

/// Escape text so that it reads back literally as a Sigma string.
fn escape_sigma(text: &str) -> String {
    Pattern::Exact(text.to_string()).to_string()
}

fn encode_utf16(stage: Stage, big_endian: bool, bom: bool) -> Stage {
    let text = String::from_utf8_lossy(&bytes(&stage)).into_owned();
    let mut out = Vec::with_capacity(text.len() * 2 + 2);
    if bom {
        out.extend_from_slice(&[0xFF, 0xFE]);
    }
    for unit in text.encode_utf16() {
        let b = if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        };
        out.extend_from_slice(&b);
    }
    Stage::Bytes(out)
}

/// The three base64 encodings of `value` at offsets 0, 1 and 2 inside a
/// longer string, without the characters that depend on the neighbours.
fn base64_offsets(value: &[u8]) -> Vec<Stage> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(value);
            let encoded = base64_engine().encode(&padded);
            let trim = END_TRIM[(value.len() + i) % 3];
            let end = encoded
                .len()
                .saturating_sub(trim)
                .max(START[i].min(encoded.len()));
            let slice = encoded.get(START[i]..end).unwrap_or("");
            Stage::Sigma(escape_sigma(slice))
        })
        .collect()
}

/// `windash`: every dash character (`-`, `/`, en dash, em dash, horizontal
/// bar) that starts a word (after a non-word character or at the start,
/// before a word character), in all five forms. `None` when there are too
/// many positions to expand.
fn windash(stage: Stage) -> Option<Vec<Stage>> {
    let Stage::Sigma(text) = stage else {
        return Some(vec![stage]);
    };
    let chars: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let positions: Vec<usize> = (0..chars.len())
        .filter(|&i| {
            DASHES.contains(&chars[i])
                && (i == 0 || !word(chars[i - 1]))
                && chars.get(i + 1).is_some_and(|&c| word(c))
        })
        .collect();
    if positions.len() > MAX_WINDASH_POSITIONS {
        return None;
    }
    let mut variants = vec![chars.clone()];
    for &pos in &positions {
        variants = variants
            .into_iter()
            .flat_map(|v| {
                DASHES.iter().map(move |&d| {
                    let mut next = v.clone();
                    next[pos] = d;
                    next
                })
            })
            .collect();
    }
    Some(
        variants
            .into_iter()
            .map(|v| Stage::Sigma(v.into_iter().collect()))
            .collect(),
    )
}

/// Replace `%name%` with each value of `lists/name.txt` (every combination
/// when a value has several placeholders).
fn expand_placeholders(
    rule: &Rule,
    span: Span,
    text: &str,
    lists: &Lists,
) -> Result<Vec<String>, LowerError> {
    resolve_placeholders(text, lists).map_err(|message| LowerError::new(rule, span, message))
}

/// `%name%` replaced by each value of `lists/name.txt` (every combination
/// when a value holds several placeholders); `\%` is an escaped percent
/// sign. Shared by lowering and the Sigma export's `--resolve-placeholders`.
pub fn resolve_placeholders(text: &str, lists: &Lists) -> Result<Vec<String>, String> {
    let names = crate::lint::placeholder_names(text);
    if names.is_empty() {
        return Ok(vec![text.replace("\\%", "%")]);
    }
    let mut results = vec![String::new()];
    let mut cursor = 0;
    for (start, name) in names {
        let literal = &text[cursor..start];
        let values = lists
            .get(name)
            .ok_or_else(|| format!("no list for placeholder `%{name}%` (lists/{name}.txt)"))?;
        if values.is_empty() {
            return Err(format!("list `{name}` is empty"));
        }
        // Checked before the product is built, so two large lists cannot
        // allocate their product first.
        if results.len().saturating_mul(values.len()) > MAX_EXPANDED_VALUES {
            return Err(format!(
                "placeholders expand to more than {MAX_EXPANDED_VALUES} values"
            ));
        }
        results = results
            .into_iter()
            .flat_map(|prefix| values.iter().map(move |v| format!("{prefix}{literal}{v}")))
            .collect();
        cursor = start + name.len() + 2;
    }
    let rest = &text[cursor..];
    Ok(results
        .into_iter()
        .map(|r| format!("{r}{rest}").replace("\\%", "%"))
        .collect())
}

/// AND a filter's condition into every rule it applies to.
fn apply_filter(
    filter: &Rule,
    sources: &[&Rule],
    out: &mut [RuleLogic],
    lists: &Lists,
) -> Result<(), LowerError> {
    let Some(spec) = &filter.filter else {
        return Ok(());
    };
    let Some(detection) = &filter.detection else {
        return Ok(());
    };
    let expr = lower_block(filter, detection, lists)?;
    for (rule, logic) in sources.iter().zip(out.iter_mut()) {
        let named = spec.applies_to_any
            || spec.rules.iter().any(|r| {
                rule.id.as_ref().is_some_and(|id| id.text == r.text)
                    || rule.name.as_ref().is_some_and(|n| n.text == r.text)
            });
        if !named || !filter.logsource.covers(&rule.logsource) {
            continue;
        }
        if let Body::Detection(body) = &mut logic.body {
            let current = std::mem::replace(body, Expr::Const(true));
            *body = Expr::and(vec![current, expr.clone()]);
        }
    }
    Ok(())
}

fn lower_correlation(rule: &Rule, lowered: &[RuleLogic]) -> Result<Correlation, LowerError> {
    let spec = rule
        .correlation
        .as_ref()
        .ok_or_else(|| LowerError::new(rule, rule.anchor_span(), "no correlation block"))?;
    let block = rule.root.get("correlation");
    let kind_text = spec.kind.as_ref().map(|k| k.text.as_str()).unwrap_or("");
    let kind = CorrelationKind::parse(kind_text).ok_or_else(|| {
        LowerError::new(
            rule,
            spec.span,
            format!("unknown correlation type `{kind_text}`"),
        )
    })?;
    let mut indices = Vec::new();
    for reference in &spec.rules {
        let found = lowered
            .iter()
            .position(|l| {
                l.id.as_deref() == Some(&reference.text)
                    || l.name.as_deref() == Some(&reference.text)
            })
            .ok_or_else(|| {
                LowerError::new(
                    rule,
                    reference.span,
                    format!("unknown rule `{}`", reference.text),
                )
            })?;
        indices.push(found);
    }
    let timespan = spec
        .timespan
        .as_ref()
        .ok_or_else(|| LowerError::new(rule, spec.span, "no timespan"))?;
    let timespan_seconds = parse_timespan(&timespan.text).ok_or_else(|| {
        LowerError::new(
            rule,
            timespan.span,
            format!("invalid timespan `{}`", timespan.text),
        )
    })?;
    let condition_node = block.and_then(|b| b.get("condition"));
    let mut condition = Vec::new();
    let mut field = None;
    let mut percentile = None;
    if let Some(node) = condition_node.filter(|n| n.as_map().is_some()) {
        for entry in node.as_map().unwrap_or(&[]) {
            let number = || {
                entry
                    .value
                    .as_str()
                    .and_then(|t| t.trim().parse::<f64>().ok())
            };
            let op = match entry.key_str() {
                "gt" => Some(CmpOp::Gt),
                "gte" => Some(CmpOp::Gte),
                "lt" => Some(CmpOp::Lt),
                "lte" => Some(CmpOp::Lte),
                "eq" => Some(CmpOp::Eq),
                "field" => {
                    field = entry
                        .value
                        .string_list()
                        .first()
                        .map(|(f, _)| f.to_string());
                    None
                }
                "percentile" => {
                    percentile = number();
                    None
                }
                _ => None,
            };
            if let Some(op) = op {
                let value = number().ok_or_else(|| {
                    LowerError::new(rule, entry.value.span, "threshold must be a number")
                })?;
                condition.push((op, value));
            }
        }
    }
    if condition.is_empty() {
        match kind {
            // Spec default for temporal types: every referenced rule matched.
            CorrelationKind::Temporal | CorrelationKind::TemporalOrdered => {
                condition.push((CmpOp::Gte, indices.len() as f64));
            }
            _ => {
                return Err(LowerError::new(
                    rule,
                    spec.span,
                    "a counting correlation needs a condition",
                ));
            }
        }
    }
    if field.is_none()
        && !matches!(
            kind,
            CorrelationKind::EventCount
                | CorrelationKind::Temporal
                | CorrelationKind::TemporalOrdered
        )
    {
        return Err(LowerError::new(
            rule,
            spec.span,
            format!("`{}` needs `condition.field`", kind.name()),
        ));
    }
    let mut aliases = BTreeMap::new();
    if let Some(map) = block.and_then(|b| b.get("aliases")).and_then(Node::as_map) {
        for alias in map {
            let mut per_rule = BTreeMap::new();
            for entry in alias.value.as_map().unwrap_or(&[]) {
                let name = entry.key_str();
                if let Some(i) = lowered
                    .iter()
                    .position(|l| l.name.as_deref() == Some(name) || l.id.as_deref() == Some(name))
                {
                    per_rule.insert(i, entry.value.as_str().unwrap_or("").to_string());
                }
            }
            aliases.insert(alias.key_str().to_string(), per_rule);
        }
    }
    Ok(Correlation {
        kind,
        rules: indices,
        group_by: spec.group_by.iter().map(|g| g.text.clone()).collect(),
        aliases,
        timespan_seconds,
        condition,
        field,
        percentile,
        generate: spec.generate,
    })
}

/// `90s`, `10m`, `1h`, `2d` → seconds.
pub fn parse_timespan(text: &str) -> Option<u64> {
    let text = text.trim();
    // Split off the last character, not the last byte: a multi-byte last
    // character (`6ǌ`) made `split_at` panic (found by fuzzing).
    let last = text.chars().next_back()?;
    let (number, unit) = text.split_at(text.len() - last.len_utf8());
    let n: u64 = number.parse().ok().filter(|n| *n > 0)?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> Rule {
        let file = SourceFile::new(Path::new("r.yml"), "r.yml".into(), text.into());
        let (mut rules, diagnostics) = crate::load::parse_source(&file);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        rules.remove(0)
    }

    fn values(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    /// Every predicate of a placeholder's values remembers the list, and
    /// whether the list can stand in for them (only when each compares the
    /// field with one entry as it is); values written in the rule do not.
    #[test]
    fn expanded_values_remember_their_list() {
        let lists = Lists {
            lists: BTreeMap::from([("vip".to_string(), values("v", 2))]),
        };
        let uses = |item: &str| -> Vec<Option<(String, Option<String>)>> {
            let r = rule(&format!(
                "title: t\ndetection:\n  sel:\n    {item}\n  condition: sel\n"
            ));
            let expr = lower_detection(&r, &lists).unwrap();
            expr.preds()
                .iter()
                .map(|p| p.list.as_ref().map(|l| (l.name.clone(), l.refused.clone())))
                .collect()
        };
        let whole = Some(("vip".to_string(), None));
        assert_eq!(
            uses("F|expand: '%vip%'"),
            vec![whole.clone(), whole.clone()]
        );
        // `neq` adds a presence test of its own, from no list.
        assert_eq!(
            uses("F|expand|cased|neq: '%vip%'"),
            vec![None, whole.clone(), whole]
        );
        assert_eq!(uses("F: 'v0'"), vec![None]);
        let refused = |why: &str| Some(("vip".to_string(), Some(why.to_string())));
        assert_eq!(
            uses("F|contains|expand: '%vip%'"),
            vec![refused("`|contains` rewrites each value"); 2]
        );
        assert_eq!(
            uses("F|expand: 'x%vip%'"),
            vec![refused("`x%vip%` has text around the placeholder"); 2]
        );
        assert_eq!(
            uses("F|expand: '%vip%%vip%'")[0],
            refused("`%vip%%vip%` holds more than one placeholder")
        );
    }

    /// A search used several times, by name and through quantifiers, in
    /// several conditions, is in the logic at every use (the last use
    /// takes it, the others copy it).
    #[test]
    fn every_use_of_a_search_gets_the_search() {
        let r = rule(concat!(
            "title: t\ndetection:\n  sel1:\n    F1: a\n  sel2:\n    F2: b\n",
            "  condition:\n    - sel1 and not sel1\n    - 1 of sel* or (all of them and sel2)\n",
        ));
        let expr = lower_detection(&r, &Lists::default()).unwrap();
        let fields: Vec<_> = expr.preds().iter().map(|p| p.field.clone()).collect();
        let count = |f: &str| fields.iter().filter(|x| x.as_deref() == Some(f)).count();
        assert_eq!((count("F1"), count("F2")), (4, 3), "{expr:?}");
        assert!(!format!("{expr:?}").contains("Const"), "{expr:?}");
    }

    #[test]
    fn expansion_is_refused_before_the_product_is_built() {
        let r = rule("title: t\ndetection:\n  sel:\n    F|expand: '%a%%b%'\n  condition: sel\n");
        let (a, b) = (values("a", 101), values("b", 100_000));
        let lists = Lists {
            lists: BTreeMap::from([("a".to_string(), a), ("b".to_string(), b)]),
        };
        let err = lower_detection(&r, &lists).unwrap_err();
        assert_eq!(
            err.message,
            format!("placeholders expand to more than {MAX_EXPANDED_VALUES} values")
        );
        assert_eq!(&r.file.text[err.span.start..err.span.end], "'%a%%b%'");
    }

    #[test]
    fn expansion_is_capped_per_rule() {
        let items: String = (0..11)
            .map(|i| format!("    F{i}|expand: '%big%'\n"))
            .collect();
        let r = rule(&format!(
            "title: t\ndetection:\n  sel:\n{items}  condition: sel\n"
        ));
        let lists = Lists {
            lists: BTreeMap::from([("big".to_string(), values("v", MAX_EXPANDED_VALUES))]),
        };
        let err = lower_detection(&r, &lists).unwrap_err();
        assert!(
            err.message.contains(&format!(
                "more than {MAX_RULE_EXPANDED_VALUES} values in all"
            )),
            "{}",
            err.message
        );
        assert_eq!(r.file.line_col(err.span.start).line, 14);
    }

    #[test]
    fn a_list_over_the_entry_limit_is_located() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text: String = (0..=MAX_LIST_ENTRIES).map(|i| format!("v{i}\n")).collect();
        std::fs::write(dir.path().join("big.txt"), format!("# comment\n\n{text}")).expect("write");
        let Err(ListError::TooManyEntries { file, span }) = Lists::load(dir.path()) else {
            panic!("expected too many entries");
        };
        assert_eq!(file.line_col(span.start).line, MAX_LIST_ENTRIES + 3);
        assert_eq!(
            &file.text[span.start..span.end],
            format!("v{MAX_LIST_ENTRIES}")
        );
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_value() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("hosts.txt"), "\u{feff}pacs-01\r\npacs-02\n")
            .expect("write");
        std::fs::write(dir.path().join("notes.txt"), "\u{feff}# a comment\nvalue\n")
            .expect("write");
        let lists = Lists::load(dir.path()).expect("loads");
        assert_eq!(
            lists.get("hosts"),
            Some(&["pacs-01".to_string(), "pacs-02".to_string()][..])
        );
        assert_eq!(lists.get("notes"), Some(&["value".to_string()][..]));
        assert_eq!(nth_entry_span("\u{feff}# c\nvalue\n", 0), Span::new(7, 12));
    }

    #[test]
    fn timespan_ending_in_a_multibyte_character() {
        // Not a unit; was a panic (tests/fuzz-regressions/evaluate).
        assert_eq!(parse_timespan("6ǌ"), None);
        assert_eq!(parse_timespan("ǌ"), None);
    }

    #[test]
    fn base64offset_matches_pysigma() {
        // The three forms pySigma gives for "Invoke-" (the well-known IEX
        // detection strings).
        let forms: Vec<String> = base64_offsets(b"Invoke-")
            .into_iter()
            .map(|s| match s {
                Stage::Sigma(t) => t,
                Stage::Bytes(_) => String::new(),
            })
            .collect();
        assert_eq!(forms, vec!["SW52b2tlL", "ludm9rZS", "JbnZva2Ut"]);
    }

    #[test]
    fn windash_expands_word_initial_dashes_only() {
        let forms = windash(Stage::Sigma(" -enc foo-bar".into())).expect("few flags");
        assert_eq!(forms.len(), 5);
        let forms = windash(Stage::Sigma("-a /b".into())).expect("few flags");
        assert_eq!(forms.len(), 25);
        let forms = windash(Stage::Sigma(" \u{2013}enc".into())).expect("few flags");
        assert_eq!(forms.len(), 5);
        assert!(windash(Stage::Sigma("-a -b -c -d -e -f".into())).is_none());
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("10m"), Some(600));
        assert_eq!(parse_timespan("1d"), Some(86_400));
        assert_eq!(parse_timespan("0m"), None);
        assert_eq!(parse_timespan("5w"), None);
    }
}
