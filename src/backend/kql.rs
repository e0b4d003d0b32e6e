//! The KQL backend: a hunting query per rule for Microsoft Defender XDR
//! advanced hunting or Microsoft Sentinel.
//!
//! It reads the backend-neutral logic after the pipeline has mapped it to
//! the target's columns, so the query tests exactly what `stetho test`
//! replayed. Choices that keep the query faithful to the evaluator:
//! - string operators are case-insensitive (`=~`, `in~`, `contains`,
//!   `startswith`, `endswith`) unless the rule says `cased` (`_cs` forms);
//! - a wildcard inside a value becomes an anchored, case-insensitive
//!   `matches regex`, never an unanchored or case-sensitive one;
//! - every string constant is a verbatim literal `@'...'` with `'` doubled
//!   (the form Microsoft's parser decodes exactly), or an escaped `'...'` when
//!   it holds a line break, so no value can change the query's structure;
//! - strings are never null in Kusto: emptiness is `isempty()`;
//! - long `or` chains are grouped in parentheses, keeping the parser's
//!   syntax depth far below its limit (about 750 chained terms).
//!
//! What a target cannot express is an error naming the construct, never a
//! silently dropped condition.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::CompileError;
use super::kusto::{self, ColumnType};
use crate::logic::{
    Body, Correlation, CorrelationKind, Expr, ListUse, Pattern, Piece, Position, Pred, RuleLogic,
    Test, TimePart,
};
use crate::pipeline::{Computed, Pipeline, SelectError, Source};

/// Lines longer than this are broken, one operand per line.
const MAX_INLINE: usize = 100;
/// Most operands of one `and`/`or` before they are grouped in parentheses.
const MAX_CHAIN: usize = 200;

/// Choices about the query that the pipeline does not make.
#[derive(Clone, Copy, Debug, Default)]
pub struct KqlOptions {
    /// Read each `%name%` list under `expand` from the Sentinel watchlist
    /// of that alias (`_GetWatchlist('name')`) instead of writing the
    /// list's values into the query (`--watchlists`).
    pub watchlists: bool,
}

/// The lists a query of rule `index` compiled with `--watchlists` reads
/// from Sentinel watchlists (those of the rules a correlation counts
/// included): what the workspace must hold for the query to run.
pub fn watchlists_read(rules: &[RuleLogic], index: usize) -> std::collections::BTreeSet<&str> {
    let mut names = std::collections::BTreeSet::new();
    let mut pending = vec![index];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(i) = pending.pop() {
        if !seen.insert(i) {
            continue;
        }
        match &rules[i].body {
            Body::Detection(expr) => {
                expr.all_preds(&mut |pred| {
                    if let Some(list) = &pred.list
                        && list.refused.is_none()
                    {
                        names.insert(list.name.as_str());
                    }
                    true
                });
            }
            Body::Correlation(correlation) => pending.extend(&correlation.rules),
        }
    }
    names
}

/// Compile rule `index` of `rules` (correlations need the rules they
/// correlate) for `pipeline`.
pub fn compile(
    rules: &[RuleLogic],
    index: usize,
    pipeline: &Pipeline,
    options: KqlOptions,
) -> Result<String, CompileError> {
    let rule = &rules[index];
    match &rule.body {
        Body::Detection(expr) => {
            let (source, mapped) = map_rule(rule, expr, pipeline)?;
            let mut query = Query::new(rule, pipeline, source, options);
            query.detection(mapped)?;
            Ok(query.finish())
        }
        Body::Correlation(correlation) => {
            correlation_query(rules, index, correlation, pipeline, options)
        }
    }
}

/// A rule's expression in its source's columns.
enum Mapped<'a> {
    /// Every field of the rule's own expression is only renamed (nearly
    /// every rule): the query reads that expression, each field under its
    /// column's name ([`Source::renamed_field`]), instead of a mapped copy
    /// of the whole tree.
    Renamed {
        expr: &'a Expr,
        renames: Vec<Rename<'a>>,
    },
    /// The pipeline rewrote some predicates: a mapped copy, the source's
    /// own constant predicates included ([`Source::map`]).
    Copied(Expr),
}

/// A field of a rule, the name of its column (as a mapped copy names it)
/// and, once worked out, where that column is in [`Query::columns`].
struct Rename<'a> {
    field: &'a str,
    column: Cow<'a, str>,
    index: Option<usize>,
}

/// The source of a rule's log source and its expression in that source's
/// columns.
fn map_rule<'a>(
    rule: &RuleLogic,
    expr: &'a Expr,
    pipeline: &'a Pipeline,
) -> Result<(&'a Source, Mapped<'a>), CompileError> {
    let source = pipeline
        .source_for_logic(&rule.logsource, expr)
        .map_err(|e| match e {
            SelectError::NoSource { .. } | SelectError::Unrecorded(_) => {
                CompileError::not_applicable(rule, e.to_string())
            }
            SelectError::EventIds(_) => CompileError::new(rule, e.to_string()),
        })?;
    if !kusto::has_table(&pipeline.name, &source.table) {
        return Err(CompileError::new(
            rule,
            format!(
                "table `{}` is not in the Kusto schemas of pipeline `{}`",
                source.table, pipeline.name
            ),
        ));
    }
    let native = matches!(rule.taxonomy.as_deref(), Some(t) if t != "sigma");
    // Each field is looked up once: a rule names a few fields, in many
    // predicates. A constant expression is left to `Source::map`, whose
    // `and` with the source's constant predicates folds it away.
    let mut renames: Vec<Rename<'a>> = Vec::new();
    let renamed_only = !matches!(expr, Expr::Const(_))
        && expr.all_preds(&mut |pred| match pred.field.as_deref() {
            None => true,
            // The other field of a `fieldref` is mapped by its own rules.
            Some(_) if matches!(pred.test, Test::FieldRef { .. }) => false,
            Some(field) if renames.iter().any(|r| r.field == field) => true,
            Some(field) => match source.renamed_field(field, native) {
                Some(column) => {
                    renames.push(Rename {
                        field,
                        column,
                        index: None,
                    });
                    true
                }
                None => false,
            },
        });
    if renamed_only && !copy_always() {
        return Ok((source, Mapped::Renamed { expr, renames }));
    }
    let mapped = source
        .map(&pipeline.name, expr, rule.taxonomy.as_deref(), true)
        .map_err(|e| CompileError::new(rule, e.to_string()))?;
    Ok((source, Mapped::Copied(mapped)))
}

/// Whether to compile every rule from a mapped copy: only a test sets it,
/// to hold the renaming path to the queries of the copy.
#[cfg(test)]
fn copy_always() -> bool {
    tests::COPY_ALWAYS.get()
}

#[cfg(not(test))]
const fn copy_always() -> bool {
    false
}

/// A query under construction.
struct Query<'a> {
    rule: &'a RuleLogic,
    pipeline: &'a Pipeline,
    source: &'a Source,
    /// The source's table in the pipeline's schemas, and its computed
    /// fields: looked up once, read for every field of the rule.
    tables: Vec<&'static kusto::Table>,
    computed: Vec<(&'a str, Computed<'a>)>,
    /// Operators before the final `where` (NHS number counting).
    stages: Vec<String>,
    /// Columns added by those stages, projected away at the end.
    helpers: Vec<String>,
    /// The source's constant predicates, when the rule has them.
    prefilter: Option<String>,
    /// How many `not`s enclose the expression being rendered.
    negated: usize,
    condition: String,
    /// Each field's column and type once worked out: a rule names a few
    /// fields, each in several predicates, and each predicate asks more
    /// than once.
    columns: Vec<(String, String, ColumnType)>,
    /// Set while the query reads the rule's own expression
    /// ([`Mapped::Renamed`]): each field's column (`columns` is keyed by
    /// column name, as a mapped copy names fields).
    renames: Option<Vec<Rename<'a>>>,
    options: KqlOptions,
}

impl<'a> Query<'a> {
    fn new(
        rule: &'a RuleLogic,
        pipeline: &'a Pipeline,
        source: &'a Source,
        options: KqlOptions,
    ) -> Query<'a> {
        Query {
            rule,
            pipeline,
            source,
            options,
            tables: kusto::tables(&pipeline.name, &source.table),
            computed: source.computed().collect(),
            stages: Vec::new(),
            helpers: Vec::new(),
            prefilter: None,
            negated: 0,
            condition: String::new(),
            columns: Vec::new(),
            renames: None,
        }
    }

    /// The rule's condition; the source's constant predicates (ActionType)
    /// go first, on their own line, so the table is narrowed before any
    /// costly stage.
    fn detection(&mut self, mapped: Mapped<'a>) -> Result<(), CompileError> {
        let constant = match self.source.where_expr() {
            Expr::And(parts) => parts,
            Expr::Const(true) => Vec::new(),
            other => vec![other],
        };
        let copy;
        let expr = match mapped {
            Mapped::Renamed { expr, renames } => {
                self.renames = Some(renames);
                expr
            }
            Mapped::Copied(expr) => {
                copy = expr;
                &copy
            }
        };
        let rest = match expr {
            // The parts a mapped copy holds after the constant ones. The
            // rule's own expression is neither constant nor foldable: its
            // parts are those.
            Expr::And(parts) if self.renames.is_some() && !constant.is_empty() => parts.as_slice(),
            Expr::And(parts) if !constant.is_empty() && parts.starts_with(&constant) => {
                &parts[constant.len()..]
            }
            one if self.renames.is_some() && !constant.is_empty() => std::slice::from_ref(one),
            _ => {
                self.prefilter = None;
                self.condition = self.render(expr, 1)?;
                return Ok(());
            }
        };
        // The constant predicates name columns already.
        let renames = self.renames.take();
        let prefilter = self.render(&Expr::and(constant), 1);
        self.renames = renames;
        self.prefilter = Some(prefilter?);
        // What `Expr::and` would make of the rest, rendered from the
        // borrowed parts instead of a copy of them: the parts of a built
        // `and` hold no constant and no nested `and` for it to fold.
        self.condition = if rest
            .iter()
            .any(|p| matches!(p, Expr::Const(_) | Expr::And(_)))
        {
            self.render(&Expr::and(rest.to_vec()), 1)?
        } else {
            match rest {
                [] => self.render(&Expr::Const(true), 1)?,
                [one] => self.render(one, 1)?,
                _ => self.chain(rest, "and", 1)?,
            }
        };
        Ok(())
    }

    fn finish(self) -> String {
        // Sized once for the whole query: grown stage by stage, the
        // string was copied again at each.
        let stages: usize = self.stages.iter().map(|s| s.len() + 3).sum();
        let helpers: usize = self.helpers.iter().map(|h| h.len() + 2).sum();
        let prefilter = self.prefilter.as_ref().map_or(0, |p| p.len() + 9);
        let mut out = String::with_capacity(
            self.source.table.len() + prefilter + stages + self.condition.len() + helpers + 32,
        );
        out.push_str(&self.source.table);
        if let Some(prefilter) = &self.prefilter {
            out.push_str("\n| where ");
            out.push_str(prefilter);
        }
        for stage in &self.stages {
            out.push_str("\n| ");
            out.push_str(stage);
        }
        if self.condition != "true" {
            out.push_str("\n| where ");
            out.push_str(&self.condition);
        }
        if !self.helpers.is_empty() {
            out.push_str("\n| project-away ");
            out.push_str(&self.helpers.join(", "));
        }
        out
    }

    fn error(&self, message: impl Into<String>) -> CompileError {
        CompileError::new(self.rule, message)
    }

    /// An expression, broken over lines at `depth` when long.
    fn render(&mut self, expr: &Expr, depth: usize) -> Result<String, CompileError> {
        match expr {
            Expr::Const(true) => Ok("true".into()),
            Expr::Const(false) => Ok("false".into()),
            Expr::Pred(p) => self.predicate(p),
            Expr::Not(inner) => {
                self.negated += 1;
                let text = self.render(inner, depth + 1);
                self.negated -= 1;
                let text = text?;
                Ok(if text.contains('\n') {
                    [
                        "not(\n",
                        &indent(depth + 1),
                        &text,
                        "\n",
                        &indent(depth),
                        ")",
                    ]
                    .concat()
                } else {
                    ["not(", &text, ")"].concat()
                })
            }
            Expr::And(items) => self.chain(items, "and", depth),
            Expr::Or(items) => {
                let grouped = self.group_in_lists(items, depth)?;
                if grouped.len() == 1 {
                    return Ok(grouped.into_iter().next().unwrap_or_default());
                }
                self.join(grouped, "or", depth)
            }
        }
    }

    fn chain(&mut self, items: &[Expr], op: &str, depth: usize) -> Result<String, CompileError> {
        let mut parts = Vec::with_capacity(items.len());
        for item in items {
            parts.push(self.operand(item, depth)?);
        }
        self.join(parts, op, depth)
    }

    /// A child of an `and`/`or` whose line starts at `depth`,
    /// parenthesised when it is itself a chain.
    fn operand(&mut self, item: &Expr, depth: usize) -> Result<String, CompileError> {
        if !matches!(item, Expr::And(_) | Expr::Or(_)) {
            return self.render(item, depth);
        }
        let text = self.render(item, depth + 1)?;
        Ok(if text.contains('\n') {
            ["(\n", &indent(depth + 1), &text, "\n", &indent(depth), ")"].concat()
        } else if text.contains(" and ") || text.contains(" or ") {
            ["(", &text, ")"].concat()
        } else {
            text
        })
    }

    fn join(&self, parts: Vec<String>, op: &str, depth: usize) -> Result<String, CompileError> {
        if parts.len() > MAX_CHAIN {
            // Group long chains so the parser's syntax depth stays small.
            let groups: Vec<String> = parts
                .chunks(MAX_CHAIN)
                .map(|chunk| {
                    format!(
                        "(\n{}{}\n{})",
                        indent(depth + 1),
                        chunk.join(&separator(op, depth + 1)),
                        indent(depth)
                    )
                })
                .collect();
            return Ok(groups.join(&separator(op, depth)));
        }
        let inline_len: usize = parts.iter().map(|p| p.len() + op.len() + 2).sum();
        if inline_len <= MAX_INLINE && parts.iter().all(|p| !p.contains('\n')) {
            return Ok(parts.join(&[" ", op, " "].concat()));
        }
        Ok(parts.join(&separator(op, depth)))
    }

    /// The operands of an `or`, with case-insensitive (or cased) equality
    /// tests on one column merged into `in~ (...)` (or `in (...)`).
    fn group_in_lists(
        &mut self,
        items: &[Expr],
        depth: usize,
    ) -> Result<Vec<String>, CompileError> {
        // (column index, cased) -> values, in first-seen order.
        let mut lists: Vec<((usize, bool), Vec<&str>)> = Vec::new();
        // Each watchlist read once, however many entries of its list the
        // `or` holds; every entry is still checked, so one that a watchlist
        // cannot stand for (a wildcard, a rewritten value) is never hidden
        // behind another of the same list.
        let mut watchlists: Vec<(&Option<String>, bool, &ListUse)> = Vec::new();
        let mut order: Vec<Result<usize, &Expr>> = Vec::new();
        for item in items {
            if let Expr::Pred(
                pred @ Pred {
                    field,
                    test,
                    list: Some(list),
                },
            ) = item
                && self.options.watchlists
            {
                self.watchlist(pred, list)?;
                let cased = matches!(test, Test::Str { cased: true, .. });
                let key = (field, cased, &**list);
                if !watchlists.contains(&key) {
                    watchlists.push(key);
                    order.push(Err(item));
                }
                continue;
            }
            if let Expr::Pred(Pred {
                field: Some(field),
                test:
                    Test::Str {
                        pattern: Pattern::Exact(value),
                        cased,
                    },
                ..
            }) = item
                && !value.is_empty()
                && let column = self.column_index(field)?
                && self.columns[column].2 == ColumnType::String
            {
                let key = (column, *cased);
                match lists.iter().position(|(k, _)| *k == key) {
                    Some(i) => lists[i].1.push(value),
                    None => {
                        lists.push((key, vec![value]));
                        order.push(Ok(lists.len() - 1));
                    }
                }
            } else {
                order.push(Err(item));
            }
        }
        let mut parts = Vec::with_capacity(order.len());
        for entry in order {
            match entry {
                Ok(i) => {
                    let ((column, cased), values) = &lists[i];
                    let column = &self.columns[*column].1;
                    parts.push(match (values.as_slice(), cased) {
                        ([one], false) => format!("{column} =~ {}", literal(one)),
                        ([one], true) => format!("{column} == {}", literal(one)),
                        (many, cased) => format!(
                            "{column} {} ({})",
                            if *cased { "in" } else { "in~" },
                            many.iter()
                                .map(|v| literal(v))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
                Err(item) => parts.push(self.operand(item, depth)?),
            }
        }
        Ok(parts)
    }

    /// How a field is read in the query, and its type. Dotted names reach
    /// into `dynamic` columns (`Status.errorCode`); computed fields are
    /// added by an `extend` before the condition.
    fn column(&mut self, field: &str) -> Result<(String, ColumnType), CompileError> {
        let i = self.column_index(field)?;
        let (_, column, t) = &self.columns[i];
        Ok((column.clone(), *t))
    }

    /// The type of [`Query::column`] alone, without a copy of the column's
    /// text: asked of every string predicate.
    fn column_type(&mut self, field: &str) -> Result<ColumnType, CompileError> {
        let i = self.column_index(field)?;
        Ok(self.columns[i].2)
    }

    /// Where `field` is in [`Query::columns`], worked out the first time.
    fn column_index(&mut self, field: &str) -> Result<usize, CompileError> {
        let Some(renames) = &self.renames else {
            return self.mapped_column_index(field);
        };
        // `map_rule` renames only rules whose every field has a column.
        let Some(k) = renames.iter().position(|r| r.field == field) else {
            return Err(self.error(format!("field `{field}` has no single column")));
        };
        if let Some(i) = renames[k].index {
            return Ok(i);
        }
        let column = renames[k].column.clone();
        let i = self.mapped_column_index(&column)?;
        if let Some(renames) = &mut self.renames {
            renames[k].index = Some(i);
        }
        Ok(i)
    }

    /// [`Query::column_index`] of a field named as in a mapped copy.
    fn mapped_column_index(&mut self, field: &str) -> Result<usize, CompileError> {
        if let Some(i) = self.columns.iter().position(|(f, ..)| f == field) {
            return Ok(i);
        }
        let (column, t) = self.resolve_column(field)?;
        self.columns.push((field.to_string(), column, t));
        Ok(self.columns.len() - 1)
    }

    /// [`Query::column`] worked out.
    fn resolve_column(&mut self, field: &str) -> Result<(String, ColumnType), CompileError> {
        let table = &self.source.table;
        let pipeline = &self.pipeline.name;
        let column_type = |column: &str| kusto::column_type_in(&self.tables, column);
        if let Some(&(_, computed)) = self
            .computed
            .iter()
            .find(|(n, c)| Source::is_computed_column(n, c, field))
        {
            let column = field.to_string();
            if !self.helpers.contains(&column) {
                let expression = match computed {
                    Computed::RegistryPath { key, value } => registry_path(key, value),
                    Computed::RegistryDetails { kind, data } => registry_details(kind, data),
                    Computed::ValueMap { column, values } => value_map(column, values),
                    Computed::JsonPath {
                        column,
                        path,
                        strip_prefix,
                    } => json_path(
                        column,
                        column_type(column) == Some(ColumnType::Dynamic),
                        path,
                        strip_prefix,
                    ),
                };
                self.stages
                    .push(format!("extend {} = {expression}", self::name(&column)));
                self.helpers.push(column.clone());
            }
            return Ok((self::name(&column), ColumnType::String));
        }
        if let Some(t) = column_type(field) {
            return Ok((name(field), t));
        }
        if let Some((head, rest)) = field.split_once('.')
            && column_type(head) == Some(ColumnType::Dynamic)
        {
            let mut access = name(head);
            for part in rest.split('.') {
                let _ = write!(access, "[{}]", plain_literal(part));
            }
            return Ok((access, ColumnType::Dynamic));
        }
        Err(self.error(format!(
            "field `{field}`: table `{table}` has no such column (pipeline `{pipeline}`)"
        )))
    }

    /// A column read as text.
    fn text(&mut self, field: &str) -> Result<String, CompileError> {
        let (column, t) = self.column(field)?;
        Ok(match t {
            ColumnType::String => column,
            _ => ["tostring(", &column, ")"].concat(),
        })
    }

    /// A predicate. Under `not`, one that Kusto may evaluate to null (a
    /// comparison with an empty number, `ipv4_is_in_range` on a value that
    /// is not an address) is wrapped in `coalesce(..., false)`: `not(null)`
    /// would drop the row, while the evaluator reads "no value" as false
    /// and so keeps it.
    fn predicate(&mut self, pred: &Pred) -> Result<String, CompileError> {
        let text = self.bare_predicate(pred)?;
        let nullable = match (&pred.field, &pred.test) {
            (Some(_), Test::Cmp { .. } | Test::Cidr(_) | Test::TimePart { .. }) => true,
            (Some(field), Test::Str { .. } | Test::FieldRef { .. }) => {
                self.column_type(field)? != ColumnType::String
            }
            _ => false,
        };
        Ok(if self.negated > 0 && nullable {
            ["coalesce(", &text, ", false)"].concat()
        } else {
            text
        })
    }

    fn bare_predicate(&mut self, pred: &Pred) -> Result<String, CompileError> {
        if self.options.watchlists
            && let Some(list) = &pred.list
        {
            return self.watchlist(pred, list);
        }
        let Some(field) = &pred.field else {
            return self.keyword(&pred.test);
        };
        match &pred.test {
            Test::Str { pattern, cased } => self.string_test(field, pattern, *cased),
            Test::Regex {
                pattern,
                multi_line,
                ..
            } => {
                // The evaluator's PCRE reading of `$`, so both match alike.
                let pattern = crate::logic::pattern::re2_compatible(pattern, *multi_line);
                let flags = pred.test.regex_flags();
                let pattern = if flags.is_empty() {
                    pattern
                } else {
                    format!("(?{flags}){pattern}")
                };
                Ok(format!(
                    "{} matches regex {}",
                    self.text(field)?,
                    literal(&pattern)
                ))
            }
            Test::Cidr(net) => {
                let function = match net {
                    ipnet::IpNet::V4(_) => "ipv4_is_in_range",
                    ipnet::IpNet::V6(_) => "ipv6_is_in_range",
                };
                Ok(format!(
                    "{function}({}, {})",
                    self.text(field)?,
                    literal(&net.to_string())
                ))
            }
            Test::Cmp { op, value } => {
                let (column, t) = self.column(field)?;
                let left = match t {
                    ColumnType::Number => column,
                    ColumnType::String => format!("todouble({column})"),
                    _ => format!("todouble(tostring({column}))"),
                };
                Ok(format!("{left} {} {}", op.symbol(), number(*value)))
            }
            Test::Exists(present) => {
                let (column, t) = self.column(field)?;
                // A dynamic column holding an empty value is as empty as a
                // null one, to replay (table-shaped events) and to `null`.
                Ok(match (t, present) {
                    (ColumnType::String, true) => format!("isnotempty({column})"),
                    (ColumnType::String, false) => format!("isempty({column})"),
                    (ColumnType::Dynamic, true) => format!("isnotempty(tostring({column}))"),
                    (ColumnType::Dynamic, false) => format!("isempty(tostring({column}))"),
                    (_, true) => format!("isnotnull({column})"),
                    (_, false) => format!("isnull({column})"),
                })
            }
            Test::Null => {
                let (column, t) = self.column(field)?;
                Ok(match t {
                    ColumnType::String => format!("isempty({column})"),
                    ColumnType::Dynamic => format!("isempty(tostring({column}))"),
                    _ => format!("isnull({column})"),
                })
            }
            Test::FieldRef {
                other,
                position,
                cased,
            } => {
                let (a, b) = (self.text(field)?, self.text(other)?);
                let (a, b) = if *cased {
                    (a, b)
                } else {
                    (format!("tolower({a})"), format!("tolower({b})"))
                };
                Ok(match position {
                    Position::Whole => format!("{a} == {b}"),
                    Position::Start => format!("indexof({a}, {b}) == 0"),
                    Position::Anywhere => format!("indexof({a}, {b}) >= 0"),
                    Position::End => format!(
                        "(strlen({a}) >= strlen({b}) and substring({a}, strlen({a}) - strlen({b})) == {b})"
                    ),
                })
            }
            Test::NhsNumber { min } => self.nhs_numbers(field, *min),
            Test::TimePart { part, op, value } => {
                let (column, t) = self.column(field)?;
                let time = match t {
                    ColumnType::DateTime => column,
                    _ => format!("todatetime({column})"),
                };
                let read = match part {
                    TimePart::Minute => format!("datetime_part('minute', {time})"),
                    TimePart::Hour => format!("datetime_part('hour', {time})"),
                    TimePart::Day => format!("datetime_part('day', {time})"),
                    TimePart::Week => format!("week_of_year({time})"),
                    TimePart::Month => format!("datetime_part('month', {time})"),
                    TimePart::Year => format!("datetime_part('year', {time})"),
                };
                Ok(format!("{read} {} {value}", op.symbol()))
            }
        }
    }

    fn string_test(
        &mut self,
        field: &str,
        pattern: &Pattern,
        cased: bool,
    ) -> Result<String, CompileError> {
        // The column is read in place, not copied: this runs for every
        // string predicate of every rule.
        let i = self.column_index(field)?;
        let (_, column, t) = &self.columns[i];
        let t = *t;
        // Numbers and booleans compare as values when the text is one.
        if let Pattern::Exact(value) = pattern {
            match t {
                ColumnType::Number if value.trim().parse::<f64>().is_ok() => {
                    return Ok(format!("{column} == {}", value.trim()));
                }
                ColumnType::Bool
                    if value.eq_ignore_ascii_case("true")
                        || value.eq_ignore_ascii_case("false") =>
                {
                    return Ok(format!("{column} == {}", value.to_ascii_lowercase()));
                }
                _ => {}
            }
        }
        if t == ColumnType::Dynamic {
            return Ok(dynamic_string_test(column, pattern, cased, |c, p| {
                self.scalar_string_test(&format!("tostring({c})"), p, cased)
            }));
        }
        Ok(match t {
            ColumnType::String => self.scalar_string_test(column, pattern, cased),
            _ => self.scalar_string_test(&["tostring(", column, ")"].concat(), pattern, cased),
        })
    }

    /// A string test on text (a string column or a converted value).
    fn scalar_string_test(&self, text: &str, pattern: &Pattern, cased: bool) -> String {
        let pick = |insensitive: &'static str, sensitive: &'static str| {
            if cased { sensitive } else { insensitive }
        };
        let regex;
        let (operator, value) = match pattern {
            Pattern::Exact(v) if v.is_empty() => return format!("isempty({text})"),
            Pattern::Exact(v) => (pick("=~", "=="), v.as_str()),
            Pattern::Contains(v) if v.is_empty() => return "true".to_string(),
            Pattern::Contains(v) => (pick("contains", "contains_cs"), v.as_str()),
            Pattern::StartsWith(v) => (pick("startswith", "startswith_cs"), v.as_str()),
            Pattern::EndsWith(v) => (pick("endswith", "endswith_cs"), v.as_str()),
            Pattern::Glob(pieces) => {
                regex = glob_regex(pieces, cased);
                ("matches regex", regex.as_str())
            }
        };
        // One string sized for the whole predicate: thousands of rules
        // make tens of thousands of these.
        let mut out = String::with_capacity(text.len() + operator.len() + value.len() + 6);
        out.push_str(text);
        out.push(' ');
        out.push_str(operator);
        out.push(' ');
        push_literal(&mut out, value);
        out
    }

    /// `--watchlists`: the field is in the Sentinel watchlist named after
    /// the list, read from its search key. One such test stands for every
    /// predicate the list expanded to, so each must compare the field with
    /// one entry as it is; anything else would deploy a query that tests
    /// something other than what replay tested, and is refused.
    fn watchlist(&mut self, pred: &Pred, list: &ListUse) -> Result<String, CompileError> {
        let (name, rule) = (&list.name, self.rule);
        let refuse = |why: &str| {
            CompileError::new(
                rule,
                format!(
                    "`%{name}%` cannot be read from the Sentinel watchlist `{name}`: {why}; \
                 compile without --watchlists to write the values of lists/{name}.txt into the query"
                ),
            )
        };
        if let Some(why) = &list.refused {
            return Err(refuse(why));
        }
        let (Some(field), Test::Str { pattern, cased }) = (&pred.field, &pred.test) else {
            return Err(refuse("its values are not compared as text"));
        };
        if !matches!(pattern, Pattern::Exact(_)) {
            return Err(refuse(&format!(
                "the entry `{pattern}` has a wildcard, and a watchlist entry matches a whole value"
            )));
        }
        let (column, t) = self.column(field)?;
        let text = match t {
            ColumnType::String => column,
            ColumnType::Dynamic => {
                return Err(refuse(&format!(
                    "`{column}` is a dynamic column, whose elements a watchlist cannot be matched against"
                )));
            }
            _ => ["tostring(", &column, ")"].concat(),
        };
        let operator = if *cased { "in" } else { "in~" };
        let mut watchlist = String::from("_GetWatchlist(");
        push_literal(&mut watchlist, name);
        Ok(format!(
            "{text} {operator} ({watchlist}) | project SearchKey)"
        ))
    }

    fn keyword(&self, test: &Test) -> Result<String, CompileError> {
        match test {
            Test::Str {
                pattern: Pattern::Contains(v),
                cased,
            } => Ok(format!(
                "* contains{} {}",
                if *cased { "_cs" } else { "" },
                literal(v)
            )),
            _ => Err(self.error(
                "a keyword with a wildcard inside, a regex or a non-string test cannot be searched across all columns in KQL",
            )),
        }
    }

    /// `|nhs_number`: count distinct checksum-valid NHS numbers in the
    /// field with `mv-apply`, then compare the count.
    ///
    /// RE2 has no look-around, so a match would swallow the separator the
    /// next number needs as its left boundary; every non-digit is doubled
    /// first, which leaves one copy for each side (and turns the single
    /// space or hyphen of a 3-3-4 grouping into a double one).
    fn nhs_numbers(&mut self, field: &str, min: u32) -> Result<String, CompileError> {
        let text = self.text(field)?;
        let n = self.helpers.len();
        let set = format!("_nhs_set_{n}");
        let digit = |i: usize| format!("toint(substring(_nhs, {i}, 1))");
        let sum = (0..9)
            .map(|i| format!("{} * {}", digit(i), 10 - i))
            .collect::<Vec<_>>()
            .join(" + ");
        self.stages.push(format!(
            "mv-apply _nhs = extract_all({}, replace_regex({text}, @'([^0-9])', @'\\1\\1')) to typeof(string) on (\n    \
             extend _nhs = replace_string(replace_string(_nhs, ' ', ''), '-', '')\n    \
             | extend _nhs_check = (11 - ({sum}) % 11) % 11\n    \
             | where _nhs_check != 10 and _nhs_check == {} and _nhs != strrep(substring(_nhs, 0, 1), 10)\n    \
             | summarize {set} = make_set(_nhs)\n    )",
            literal(
                r"(?:^|[^0-9])([0-9]{10}|[0-9]{3}  [0-9]{3}  [0-9]{4}|[0-9]{3}--[0-9]{3}--[0-9]{4})(?:[^0-9]|$)"
            ),
            digit(9),
        ));
        self.helpers.push(set.clone());
        Ok(format!("array_length({set}) >= {min}"))
    }
}

/// A string test on a `dynamic` column, with the evaluator's semantics:
/// a scalar value is tested as text, an array matches when any element
/// does. Kusto renders an array as compact JSON (`["vip","staff"]`), so
/// "any element" is an anchored regex over that text, one JSON string
/// between brackets or commas.
fn dynamic_string_test(
    column: &str,
    pattern: &Pattern,
    cased: bool,
    scalar: impl Fn(&str, &Pattern) -> String,
) -> String {
    // A character inside a JSON string: anything but a quote or a
    // backslash, or an escape.
    const CHAR: &str = r#"(?:[^"\\]|\\.)"#;
    let json = |text: &str| {
        let quoted = serde_json::to_string(text).unwrap_or_default();
        regex_escape(&quoted[1..quoted.len() - 1])
    };
    let body = match pattern {
        Pattern::Exact(v) => json(v),
        Pattern::StartsWith(v) => format!("{}{CHAR}*", json(v)),
        Pattern::EndsWith(v) => format!("{CHAR}*{}", json(v)),
        Pattern::Contains(v) => format!("{CHAR}*{}{CHAR}*", json(v)),
        Pattern::Glob(pieces) => pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(text) => json(text),
                Piece::AnyRun => format!("{CHAR}*"),
                Piece::AnyChar => CHAR.to_string(),
            })
            .collect(),
    };
    let flags = if cased { "" } else { "(?i)" };
    let element = format!(r#"{flags}^\[(?:.*,)?"{body}"(?:,.*)?\]$"#);
    format!(
        "({} or tostring({column}) matches regex {})",
        scalar(column, pattern),
        literal(&element)
    )
}

/// Correlations: the correlated rules' rows in one stream, counted per
/// group in fixed time bins; the result is one row per group and bin whose
/// condition holds.
///
/// Kusto has no sliding window in `summarize`; `bin(Timestamp, span)`
/// counts in fixed buckets, so a burst that straddles a bucket edge can be
/// missed where the evaluator's sliding window catches it (README, KQL).
fn correlation_query(
    rules: &[RuleLogic],
    index: usize,
    correlation: &Correlation,
    pipeline: &Pipeline,
    options: KqlOptions,
) -> Result<String, CompileError> {
    let branches = correlation
        .rules
        .iter()
        .enumerate()
        .map(|(position, &r)| branch(rules, index, correlation, position, r, pipeline, options))
        .collect::<Result<Vec<String>, CompileError>>()?;
    let span = format!("{}s", correlation.timespan_seconds);
    let by: Vec<String> = correlation
        .group_by
        .iter()
        .map(|g| name(g))
        .chain(std::iter::once(format!("bin(_time, {span})")))
        .collect();
    let (aggregate, measure) = match correlation.kind {
        CorrelationKind::EventCount => ("event_count = count()".to_string(), "event_count"),
        CorrelationKind::ValueCount => ("value_count = dcount(_value)".to_string(), "value_count"),
        CorrelationKind::Temporal | CorrelationKind::TemporalOrdered => {
            ("rule_count = dcount(_rule)".to_string(), "rule_count")
        }
        CorrelationKind::ValueSum => ("value_sum = sum(_value)".to_string(), "value_sum"),
        CorrelationKind::ValueAvg => ("value_avg = avg(_value)".to_string(), "value_avg"),
        CorrelationKind::ValuePercentile => (
            format!(
                "value_percentile = percentile(_value, {})",
                number(correlation.percentile.unwrap_or(50.0))
            ),
            "value_percentile",
        ),
        CorrelationKind::ValueMedian => (
            "value_median = percentile(_value, 50)".to_string(),
            "value_median",
        ),
    };
    let mut extra = Vec::new();
    let mut conditions: Vec<String> = correlation
        .condition
        .iter()
        .map(|(op, v)| format!("{measure} {} {}", op.symbol(), number(*v)))
        .collect();
    if matches!(
        correlation.kind,
        CorrelationKind::Temporal | CorrelationKind::TemporalOrdered
    ) {
        conditions = vec![format!("rule_count == {}", correlation.rules.len())];
        if correlation.kind == CorrelationKind::TemporalOrdered {
            for i in 0..correlation.rules.len() {
                extra.push(format!("_first_{i} = minif(_time, _rule == '{i}')"));
            }
            for i in 1..correlation.rules.len() {
                conditions.push(format!("_first_{} <= _first_{i}", i - 1));
            }
        }
    }
    let mut aggregates = vec![
        aggregate,
        "first_time = min(_time)".into(),
        "last_time = max(_time)".into(),
    ];
    aggregates.extend(extra);
    let mut out = String::new();
    if branches.len() == 1 {
        out.push_str(&branches[0]);
    } else {
        out.push_str("union\n");
        let parts: Vec<String> = branches
            .iter()
            .map(|b| format!("    ({})", b.replace('\n', "\n    ")))
            .collect();
        out.push_str(&parts.join(",\n"));
    }
    let _ = write!(
        out,
        "\n| summarize {} by {}\n| where {}",
        aggregates.join(", "),
        by.join(", "),
        conditions.join(" and ")
    );
    Ok(out)
}

/// The rows that rule `r`, the `position`-th rule of correlation `index`,
/// feeds it: `_rule` (the position), `_time`, the group-by columns under
/// the correlation's names and, when it aggregates a field, `_value`.
///
/// A detection gives one row per matching event. A correlation gives one
/// row per window it fired (its own query, recursively), as the evaluator
/// feeds a chained correlation one record per hit.
fn branch(
    rules: &[RuleLogic],
    index: usize,
    correlation: &Correlation,
    position: usize,
    r: usize,
    pipeline: &Pipeline,
    options: KqlOptions,
) -> Result<String, CompileError> {
    let base = &rules[r];
    let rule_column = format!("_rule = {}", literal(&position.to_string()));
    let expr = match &base.body {
        Body::Detection(expr) => expr,
        Body::Correlation(inner) => {
            let inner = (r, inner);
            return chained_branch(
                rules,
                index,
                correlation,
                rule_column,
                inner,
                pipeline,
                options,
            );
        }
    };
    let (source, mapped) = map_rule(base, expr, pipeline)?;
    let mut query = Query::new(base, pipeline, source, options);
    query.detection(mapped)?;
    // Group-by fields and the aggregated field, in this rule's columns:
    // named as columns already, not as the rule's fields.
    query.renames = None;
    let mut projections = vec![rule_column];
    projections.push(format!("_time = {}", name(&source.timestamp)));
    for group in &correlation.group_by {
        let field = correlation.group_field(group, r);
        let column = mapped_field(base, pipeline, source, field)?;
        projections.push(format!("{} = {}", name(group), query.text(&column)?));
    }
    if let Some(field) = &correlation.field {
        let column = mapped_field(base, pipeline, source, field)?;
        let read = match correlation.kind {
            CorrelationKind::ValueCount => query.text(&column)?,
            _ => {
                let (c, t) = query.column(&column)?;
                match t {
                    ColumnType::Number => c,
                    _ => format!("todouble({c})"),
                }
            }
        };
        projections.push(format!("_value = {read}"));
    }
    let mut text = query.finish();
    let _ = write!(text, "\n| project {}", projections.join(", "));
    Ok(text)
}

/// A counted correlation's fired windows as rows of the correlation that
/// counts it.
///
/// The evaluator places a fired window at the event that completed it and
/// gives it the counted correlation's group-by values. A bin has no
/// completing event; its last event (`last_time`) is the nearest: the same
/// event for a window judged when it closes (an upper-bound condition), a
/// later one in the same bin otherwise, while the bin start or its first
/// event would put a burst before events it must follow in
/// `temporal_ordered`.
fn chained_branch(
    rules: &[RuleLogic],
    index: usize,
    correlation: &Correlation,
    rule_column: String,
    (r, inner): (usize, &Correlation),
    pipeline: &Pipeline,
    options: KqlOptions,
) -> Result<String, CompileError> {
    let rule = &rules[index];
    // By name when it has one, as `correlation.rules` usually refers to it.
    let counted = rules[r].name.as_deref().unwrap_or(rules[r].key());
    if let Some(field) = &correlation.field
        && !matches!(
            correlation.kind,
            CorrelationKind::EventCount
                | CorrelationKind::Temporal
                | CorrelationKind::TemporalOrdered
        )
    {
        // The evaluator gives a fired window no field values either; a
        // query that aggregated nothing would never fire.
        return Err(CompileError::new(
            rule,
            format!(
                "`{}` over correlation `{counted}`: its fired windows have no `{field}` values to aggregate",
                correlation.kind.name()
            ),
        ));
    }
    let mut projections = vec![rule_column, "_time = last_time".to_string()];
    for group in &correlation.group_by {
        let field = correlation.group_field(group, r);
        if !inner.group_by.iter().any(|g| g == field) {
            // The evaluator would group every window under an empty value,
            // silently dropping the grouping.
            return Err(CompileError::new(
                rule,
                format!(
                    "group-by `{group}` reads `{field}` from correlation `{counted}`, which does not group by it (its windows carry {})",
                    describe_fields(&inner.group_by)
                ),
            ));
        }
        projections.push(format!("{} = {}", name(group), name(field)));
    }
    let mut text = correlation_query(rules, r, inner, pipeline, options)?;
    let _ = write!(text, "\n| project {}", projections.join(", "));
    Ok(text)
}

/// `a`, `b` for a message, or "no group-by values".
fn describe_fields(fields: &[String]) -> String {
    if fields.is_empty() {
        return "no group-by values".into();
    }
    fields
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A correlation's field name in the columns of a correlated rule.
/// For each group-by name of the correlation at `index`, the table
/// columns it reads: one per correlated rule (through `aliases`), and
/// through a counted correlation down to the columns its own group-by
/// reads. Sentinel's entity mappings are chosen from these, since the
/// result column carries the group-by's name (`host`, `User`), not the
/// column's. Columns that cannot be mapped are left out.
pub fn group_columns(
    rules: &[RuleLogic],
    index: usize,
    pipeline: &Pipeline,
) -> Vec<(String, Vec<String>)> {
    let Body::Correlation(correlation) = &rules[index].body else {
        return Vec::new();
    };
    correlation
        .group_by
        .iter()
        .map(|group| {
            let mut columns = Vec::new();
            for &r in &correlation.rules {
                let field = correlation.group_field(group, r);
                match &rules[r].body {
                    Body::Detection(expr) => {
                        if let Ok((source, _)) = map_rule(&rules[r], expr, pipeline)
                            && let Ok(column) = mapped_field(&rules[r], pipeline, source, field)
                        {
                            columns.push(column);
                        }
                    }
                    Body::Correlation(_) => columns.extend(
                        group_columns(rules, r, pipeline)
                            .into_iter()
                            .filter(|(name, _)| name == field)
                            .flat_map(|(_, inner)| inner),
                    ),
                }
            }
            columns.sort();
            columns.dedup();
            (group.clone(), columns)
        })
        .collect()
}

fn mapped_field(
    rule: &RuleLogic,
    pipeline: &Pipeline,
    source: &Source,
    field: &str,
) -> Result<String, CompileError> {
    let probe = Expr::Pred(Pred::new(Some(field.to_string()), Test::Exists(true)));
    let mapped = source
        .map(&pipeline.name, &probe, rule.taxonomy.as_deref(), true)
        .map_err(|e| CompileError::new(rule, e.to_string()))?;
    mapped
        .preds()
        .into_iter()
        .filter_map(|p| p.field.clone())
        .find(|f| !source.where_.iter().any(|(c, _)| c == f))
        .ok_or_else(|| CompileError::new(rule, format!("field `{field}` maps to no single column")))
}

/// Four spaces per level. Queries are rendered a piece at a time, and
/// each piece at a level asks for its indentation: a slice of one constant
/// string rather than a new string each time.
fn indent(depth: usize) -> std::borrow::Cow<'static, str> {
    const SPACES: &str = "                                                                ";
    match SPACES.get(..depth * 4) {
        Some(spaces) => std::borrow::Cow::Borrowed(spaces),
        None => std::borrow::Cow::Owned("    ".repeat(depth)),
    }
}

/// What goes between the operands of an `and`/`or` broken over lines.
fn separator(op: &str, depth: usize) -> String {
    ["\n", &indent(depth), op, " "].concat()
}

/// A column name, bracket-quoted when it is not a plain identifier.
fn name(column: &str) -> String {
    // Bytes, not chars: a plain identifier is ASCII, and any other byte
    // (a UTF-8 continuation byte included) rules it out.
    let plain = column
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && column
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if plain {
        column.to_string()
    } else {
        format!("[{}]", plain_literal(column))
    }
}

/// A string constant: verbatim `@'...'` with `'` doubled, or an escaped
/// `'...'` when the text holds characters a verbatim literal cannot.
pub fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 3);
    push_literal(&mut out, text);
    out
}

/// [`literal`], appended to `out`.
fn push_literal(out: &mut String, text: &str) {
    // Printable ASCII, as nearly every value is, holds no control
    // character; only other text is decoded to look for one.
    // Branch-free over the bytes, so the compiler vectorises it.
    let printable_ascii = text
        .bytes()
        .fold(true, |all, b| all & (0x20..0x7f).contains(&b));
    if !printable_ascii && text.chars().any(|c| c.is_control()) {
        out.push_str(&plain_literal(text));
        return;
    }
    // Each quote doubled: the text copied in runs up to and including
    // each quote, which is then written once more.
    out.push_str("@'");
    let mut run = 0;
    for at in memchr::memchr_iter(b'\'', text.as_bytes()) {
        out.push_str(&text[run..=at]);
        out.push('\'');
        run = at + 1;
    }
    out.push_str(&text[run..]);
    out.push('\'');
}

/// An escaped `'...'` literal.
fn plain_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// The KQL form of [`crate::pipeline::registry_path`]: the same rewriting
/// steps, then the value name after a backslash when there is one.
fn registry_path(key: &str, value: &str) -> String {
    let mut path = self::name(key);
    for (pattern, replacement) in crate::pipeline::REGISTRY_STEPS {
        path = format!(
            "replace_regex({path}, {}, {})",
            literal(pattern),
            literal(&replacement.replace("$1", "\\1"))
        );
    }
    let value = self::name(value);
    format!("strcat({path}, iff(isempty({value}), '', strcat(@'\\', {value})))")
}

/// The KQL form of [`crate::pipeline::registry_details`]: numbers in
/// Sysmon's hex spelling, binary data as `Binary Data`, the rest as is.
fn registry_details(kind: &str, data: &str) -> String {
    let (kind, data) = (self::name(kind), self::name(data));
    let number = format!("tolong({data})");
    let low = format!("tohex(binary_and({number}, 4294967295), 8)");
    let high = format!("tohex(binary_and(binary_shift_right({number}, 32), 4294967295), 8)");
    format!(
        "case({kind} =~ 'Dword' and isnotnull({number}), strcat('DWORD (0x', {low}, ')'), \
         {kind} =~ 'Qword' and isnotnull({number}), strcat('QWORD (0x', {high}, '-0x', {low}, ')'), \
         {kind} =~ 'Binary', 'Binary Data', \
         {data})"
    )
}

/// The KQL form of a `value_map` computed field: the first value whose
/// column values match (case-insensitively, as replay compares), else "".
fn value_map(column: &str, values: &[(String, Vec<String>)]) -> String {
    let column = self::name(column);
    let mut arms = String::new();
    for (value, means) in values {
        let means: Vec<String> = means.iter().map(|m| literal(m)).collect();
        arms.push_str(&format!(
            "{column} in~ ({}), {}, ",
            means.join(", "),
            literal(value)
        ));
    }
    format!("case({arms}'')")
}

/// The KQL form of a `json_path` computed field: the value's text, "" when
/// missing. A `string` column (AdditionalFields in Defender XDR) is parsed
/// first. A `dynamic` one (the same column in Sentinel) usually holds the
/// object, but connectors and exports also store the JSON text in it, and
/// property access on a dynamic string gives null; replay reads both
/// forms, so the query turns either into the object the same way.
fn json_path(column: &str, dynamic: bool, path: &[String], strip_prefix: &str) -> String {
    let mut access = if dynamic {
        format!("parse_json(tostring({}))", self::name(column))
    } else {
        format!("parse_json({})", self::name(column))
    };
    for key in path {
        let _ = write!(access, "[{}]", plain_literal(key));
    }
    let text = format!("tostring({access})");
    if strip_prefix.is_empty() {
        return text;
    }
    // Case-insensitive and anchored, as replay strips it.
    format!(
        "replace_regex({text}, {}, '')",
        literal(&format!("(?i)^{}", regex_escape(strip_prefix)))
    )
}

/// A Sigma glob as an anchored RE2 pattern (`(?is)` unless cased; `s` so
/// `*` spans line breaks, as in the evaluator).
fn glob_regex(pieces: &[Piece], cased: bool) -> String {
    let mut out = String::from(if cased { "(?s)^" } else { "(?is)^" });
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(&regex_escape(text)),
            Piece::AnyRun => out.push_str(".*"),
            Piece::AnyChar => out.push('.'),
        }
    }
    out.push('$');
    out
}

/// Escape RE2 metacharacters (and nothing else: RE2 rejects some escapes).
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::CmpOp;
    use std::cell::Cell;

    thread_local! {
        /// Set by a test to compile every rule from a mapped copy.
        pub(super) static COPY_ALWAYS: Cell<bool> = const { Cell::new(false) };
    }

    /// Reading a rule's own logic under renamed fields gives the query
    /// that a mapped copy of the logic gives, for every corpus and
    /// shipped rule, correlations included, under every shipped pipeline.
    #[test]
    fn renamed_rules_compile_as_their_mapped_copies() {
        let paths = ["tests/corpus/sigmahq".into(), "detections".into()];
        let files = crate::load::discover(&paths).expect("the corpus and detections are readable");
        let loaded = crate::load::load_files(&files);
        let lists = crate::logic::Lists::load(std::path::Path::new("lists")).expect("lists load");
        let (rules, _) = crate::logic::lower_rules(&loaded.rules, &lists);
        let pipelines = crate::pipeline::Pipelines::load(None).expect("pipelines load");
        let mut renamed = 0;
        for pipeline in ["defender_xdr", "sentinel", "healthcare"] {
            let pipeline = pipelines.get(pipeline).expect("shipped pipeline");
            for index in 0..rules.len() {
                if let Body::Detection(expr) = &rules[index].body
                    && let Ok((_, Mapped::Renamed { .. })) = map_rule(&rules[index], expr, pipeline)
                {
                    renamed += 1;
                }
                for watchlists in [false, true] {
                    let options = KqlOptions { watchlists };
                    let from_own =
                        compile(&rules, index, pipeline, options).map_err(|e| e.to_string());
                    COPY_ALWAYS.set(true);
                    let from_copy =
                        compile(&rules, index, pipeline, options).map_err(|e| e.to_string());
                    COPY_ALWAYS.set(false);
                    assert_eq!(
                        from_own, from_copy,
                        "{} ({}, {options:?})",
                        rules[index].path, pipeline.name
                    );
                }
            }
        }
        assert!(renamed > 500, "only {renamed} rules took the renaming path");
    }

    #[test]
    fn literals_cannot_break_out() {
        assert_eq!(literal(r"C:\Windows\"), r"@'C:\Windows\'");
        assert_eq!(literal("it's"), "@'it''s'");
        assert_eq!(literal("a\nb\\'"), r"'a\nb\\\''");
    }

    #[test]
    fn globs_are_anchored_and_case_insensitive() {
        let pieces = vec![
            Piece::Literal("a.b".into()),
            Piece::AnyRun,
            Piece::Literal("c".into()),
            Piece::AnyChar,
        ];
        assert_eq!(glob_regex(&pieces, false), r"(?is)^a\.b.*c.$");
        assert_eq!(glob_regex(&pieces, true), r"(?s)^a\.b.*c.$");
    }

    #[test]
    fn names_are_quoted_when_needed() {
        assert_eq!(name("FolderPath"), "FolderPath");
        assert_eq!(name("ehr.action"), "['ehr.action']");
    }

    #[test]
    fn cmp_symbols() {
        assert_eq!(CmpOp::Gte.symbol(), ">=");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(2.5), "2.5");
    }
}
