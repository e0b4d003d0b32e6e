//! The evaluator: [`RuleLogic`] compiled once into matchers, then run over
//! JSON events.
//!
//! Compilation does the work that must not happen per event: needles are
//! case-folded, single-needle searches get a prebuilt finder, wildcard
//! patterns and `re` values become size-limited linear-time regexes, CIDR
//! strings become networks. Evaluation borrows from the event and
//! allocates only when a non-ASCII value has to be case-folded.

pub mod correlate;
pub mod event;
mod nfa_bound;
pub mod nhs;
mod scan;

use std::cell::RefCell;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde_json::Value;

use crate::limits::{REGEX_NEST_LIMIT, REGEX_SIZE_LIMIT};
use crate::logic::{Body, CmpOp, Expr, Pattern, Position, Pred, RuleLogic, Test, TimePart};

/// Build the regex a `re` test stands for.
pub fn compile_regex_test(test: &Test) -> Result<regex::Regex, regex::Error> {
    let Test::Regex {
        pattern,
        ignore_case,
        multi_line,
        dot_all,
    } = test
    else {
        return regex::Regex::new("$^");
    };
    regex::RegexBuilder::new(&crate::logic::pattern::re2_compatible(pattern, *multi_line))
        .case_insensitive(*ignore_case)
        .multi_line(*multi_line)
        .dot_matches_new_line(*dot_all)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
}

/// Check that a `re` test compiles, with the limits its matcher is built
/// with: the pattern parses and its NFA stays under the size limit. Much
/// cheaper than [`compile_regex_test`], which also builds the search
/// strategies; lowering checks every regex of every rule this way.
///
/// Each thread keeps one NFA compiler: a fresh one allocates and then frees
/// its UTF-8 suffix tables (ten thousand entries) for every regex, which
/// cost more than compiling a typical rule's pattern. The compiler clears
/// its state at the start of each build, so reuse cannot leak one pattern
/// into the next.
pub fn check_regex_test(test: &Test) -> Result<(), String> {
    use regex_automata::nfa::thompson;
    use regex_automata::util::syntax;
    thread_local! {
        static COMPILER: RefCell<thompson::Compiler> = RefCell::new({
            let mut compiler = thompson::Compiler::new();
            compiler.configure(thompson::Config::new().nfa_size_limit(Some(REGEX_SIZE_LIMIT)));
            compiler
        });
    }
    let Test::Regex {
        pattern,
        ignore_case,
        multi_line,
        dot_all,
    } = test
    else {
        return Ok(());
    };
    let pattern = crate::logic::pattern::re2_compatible(pattern, *multi_line);
    let config = syntax::Config::new()
        .case_insensitive(*ignore_case)
        .multi_line(*multi_line)
        .dot_matches_new_line(*dot_all)
        .nest_limit(REGEX_NEST_LIMIT);
    // The compiler parses with the same configuration; when the parsed
    // pattern is certainly small enough, building its NFA would prove
    // nothing more.
    if let Ok(hir) = syntax::parse_with(&pattern, &config)
        && nfa_bound::certainly_within(&hir, REGEX_SIZE_LIMIT)
    {
        return Ok(());
    }
    COMPILER.with_borrow_mut(|compiler| {
        compiler
            .syntax(config)
            .build(&pattern)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

/// How a string pattern is matched.
enum StrKind {
    Exact,
    Prefix,
    Suffix,
    /// Substring search with a prebuilt automaton (ASCII case-insensitive
    /// when not cased).
    Contains(AhoCorasick),
    Glob(regex::Regex),
}

struct StrMatcher {
    kind: StrKind,
    /// The needle, lower-cased unless `cased`.
    needle: String,
    cased: bool,
    /// The needle is ASCII, so ASCII-only case folding is exact.
    ascii: bool,
}

impl StrMatcher {
    fn new(pattern: &Pattern, cased: bool) -> Result<StrMatcher, regex::Error> {
        let fold = |s: &str| if cased { s.to_string() } else { fold_case(s) };
        let (kind, needle) = match pattern {
            Pattern::Exact(s) => (StrKind::Exact, fold(s)),
            Pattern::StartsWith(s) => (StrKind::Prefix, fold(s)),
            Pattern::EndsWith(s) => (StrKind::Suffix, fold(s)),
            Pattern::Contains(s) => {
                let needle = fold(s);
                // One needle: a contiguous NFA builds in microseconds, where
                // a DFA per predicate would dominate start-up with many rules.
                let automaton = AhoCorasickBuilder::new()
                    .ascii_case_insensitive(!cased)
                    .match_kind(MatchKind::LeftmostFirst)
                    .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                    .build([needle.as_str()])
                    .map_err(|e| regex::Error::Syntax(e.to_string()))?;
                (StrKind::Contains(automaton), needle)
            }
            Pattern::Glob(_) => {
                let re = regex::RegexBuilder::new(&pattern.to_regex())
                    .case_insensitive(!cased)
                    .dot_matches_new_line(true)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()?;
                (StrKind::Glob(re), String::new())
            }
        };
        let ascii = needle.is_ascii();
        Ok(StrMatcher {
            kind,
            needle,
            cased,
            ascii,
        })
    }

    fn matches(&self, haystack: &str) -> bool {
        if let StrKind::Glob(re) = &self.kind {
            return re.is_match(haystack);
        }
        if self.cased || (self.ascii && haystack.is_ascii()) {
            return self.matches_folded(haystack, !self.cased);
        }
        // Unicode case folding needs a lower-cased copy; reuse one buffer
        // per thread instead of allocating per value.
        thread_local! {
            static LOWER: RefCell<String> = const { RefCell::new(String::new()) };
        }
        LOWER.with(|buffer| {
            let mut buffer = buffer.borrow_mut();
            buffer.clear();
            fold_into(haystack, &mut buffer);
            self.matches_folded(&buffer, false)
        })
    }

    /// Match against a haystack that is either already folded or compared
    /// with ASCII case-insensitivity.
    fn matches_folded(&self, haystack: &str, ascii_ci: bool) -> bool {
        let eq = |a: &[u8], b: &[u8]| {
            if ascii_ci {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        let (h, n) = (haystack.as_bytes(), self.needle.as_bytes());
        match &self.kind {
            StrKind::Exact => h.len() == n.len() && eq(h, n),
            StrKind::Prefix => h.len() >= n.len() && eq(&h[..n.len()], n),
            StrKind::Suffix => h.len() >= n.len() && eq(&h[h.len() - n.len()..], n),
            StrKind::Contains(automaton) => n.is_empty() || automaton.is_match(haystack),
            StrKind::Glob(re) => re.is_match(haystack),
        }
    }
}

enum CTest {
    Str(StrMatcher),
    Regex(regex::Regex),
    Cidr(ipnet::IpNet),
    Cmp(CmpOp, f64),
    Exists(bool),
    Null,
    FieldRef {
        other: String,
        position: Position,
        cased: bool,
    },
    Nhs(u32),
    TimePart(TimePart, CmpOp, i64),
}

struct CPred {
    field: Option<String>,
    test: CTest,
}

/// A compiled expression; predicates are indices into a shared table, so
/// rules that test the same thing (`Image|endswith: '\\powershell.exe'`
/// appears in dozens of SigmaHQ rules) test it once per event.
enum CExpr {
    And(Vec<CExpr>),
    Or(Vec<CExpr>),
    Not(Box<CExpr>),
    Pred(u32),
    Const(bool),
}

/// Compiles expressions into one table of distinct predicates.
#[derive(Default)]
struct Compiler {
    preds: Vec<CPred>,
    index: std::collections::HashMap<String, u32>,
}

impl Compiler {
    fn expr(&mut self, expr: &Expr) -> Result<CExpr, regex::Error> {
        Ok(match expr {
            Expr::And(items) => CExpr::And(
                items
                    .iter()
                    .map(|e| self.expr(e))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(items) => CExpr::Or(
                items
                    .iter()
                    .map(|e| self.expr(e))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(inner) => CExpr::Not(Box::new(self.expr(inner)?)),
            Expr::Const(b) => CExpr::Const(*b),
            Expr::Pred(p) => {
                // The debug form identifies a predicate completely (field,
                // test kind, pattern, flags); it is only built at compile time.
                let key = format!("{p:?}");
                if let Some(&i) = self.index.get(&key) {
                    return Ok(CExpr::Pred(i));
                }
                let i = self.preds.len() as u32;
                self.preds.push(compile_pred(p)?);
                self.index.insert(key, i);
                CExpr::Pred(i)
            }
        })
    }
}

/// A rule's detection logic compiled for evaluation on its own.
pub struct Matcher {
    expr: CExpr,
    preds: Vec<CPred>,
}

impl Matcher {
    /// Compile a detection expression.
    pub fn compile(expr: &Expr) -> Result<Matcher, regex::Error> {
        let mut compiler = Compiler::default();
        let expr = compiler.expr(expr)?;
        Ok(Matcher {
            expr,
            preds: compiler.preds,
        })
    }

    /// Whether the event satisfies the logic.
    pub fn matches(&self, event: &Value) -> bool {
        eval(&self.expr, &mut |i| {
            eval_pred(&self.preds[i as usize], event)
        })
    }
}

fn compile_pred(pred: &Pred) -> Result<CPred, regex::Error> {
    let test = match &pred.test {
        Test::Str { pattern, cased } => CTest::Str(StrMatcher::new(pattern, *cased)?),
        t @ Test::Regex { .. } => CTest::Regex(compile_regex_test(t)?),
        Test::Cidr(net) => CTest::Cidr(*net),
        Test::Cmp { op, value } => CTest::Cmp(*op, *value),
        Test::Exists(b) => CTest::Exists(*b),
        Test::Null => CTest::Null,
        Test::FieldRef {
            other,
            position,
            cased,
        } => CTest::FieldRef {
            other: other.clone(),
            position: *position,
            cased: *cased,
        },
        Test::NhsNumber { min } => CTest::Nhs(*min),
        Test::TimePart { part, op, value } => CTest::TimePart(*part, *op, *value),
    };
    Ok(CPred {
        field: pred.field.clone(),
        test,
    })
}

/// Evaluate with `pred` answering predicate lookups (directly, or from a
/// per-event memo).
fn eval(expr: &CExpr, pred: &mut dyn FnMut(u32) -> bool) -> bool {
    match expr {
        CExpr::And(items) => items.iter().all(|e| eval(e, pred)),
        CExpr::Or(items) => items.iter().any(|e| eval(e, pred)),
        CExpr::Not(inner) => !eval(inner, pred),
        CExpr::Const(b) => *b,
        CExpr::Pred(i) => pred(*i),
    }
}

fn eval_pred(pred: &CPred, event: &Value) -> bool {
    let Some(field) = pred.field.as_deref() else {
        // Keywords: any string value anywhere in the event.
        return match &pred.test {
            CTest::Str(m) => event::any_string(event, &mut |s| m.matches(s)),
            CTest::Regex(re) => event::any_string(event, &mut |s| re.is_match(s)),
            _ => false,
        };
    };
    match &pred.test {
        CTest::Exists(want) => event::exists(event, field) == *want,
        CTest::Null => {
            let mut seen = false;
            let empty = event::any_value(event, field, &mut |v| {
                seen = true;
                match v {
                    Value::Null => true,
                    Value::String(s) => s.is_empty(),
                    Value::Array(a) => a.is_empty(),
                    _ => false,
                }
            });
            empty || !seen
        }
        test => {
            let mut seen = false;
            let mut buffer = String::new();
            let hit = event::any_value(event, field, &mut |v| {
                seen = true;
                value_matches(test, v, event, &mut buffer)
            });
            if hit {
                return true;
            }
            // A missing field reads as the empty string for string, regex
            // and field-reference tests (Kusto string columns are never null).
            !seen
                && matches!(
                    test,
                    CTest::Str(_) | CTest::Regex(_) | CTest::FieldRef { .. }
                )
                && value_matches(test, &Value::Null, event, &mut buffer)
        }
    }
}

fn value_matches(test: &CTest, value: &Value, event: &Value, buffer: &mut String) -> bool {
    match test {
        CTest::Str(m) => event::text_of(value, buffer).is_some_and(|s| m.matches(s)),
        CTest::Regex(re) => event::text_of(value, buffer).is_some_and(|s| re.is_match(s)),
        CTest::Cidr(net) => value
            .as_str()
            .and_then(|s| s.trim().parse::<std::net::IpAddr>().ok())
            .is_some_and(|ip| net.contains(&ip)),
        CTest::Cmp(op, right) => event::number_of(value).is_some_and(|left| op.holds(left, *right)),
        CTest::Nhs(min) => {
            event::text_of(value, buffer).is_some_and(|s| nhs::count_distinct(s) >= *min as usize)
        }
        CTest::TimePart(part, op, right) => value
            .as_str()
            .and_then(parse_timestamp)
            .is_some_and(|t| op.holds(time_part(&t, *part) as f64, *right as f64)),
        CTest::FieldRef {
            other,
            position,
            cased,
        } => {
            let Some(mine) = event::text_of(value, buffer).map(str::to_string) else {
                return false;
            };
            // A missing referenced field reads as the empty string, like
            // every other missing field.
            if !event::exists(event, other) {
                return relate(&mine, "", *position, *cased);
            }
            let mut other_buffer = String::new();
            event::any_value(event, other, &mut |o| {
                event::text_of(o, &mut other_buffer)
                    .is_some_and(|theirs| relate(&mine, theirs, *position, *cased))
            })
        }
        CTest::Exists(_) | CTest::Null => false,
    }
}

/// Unicode case folding, character by character. `str::to_lowercase` treats
/// a final capital sigma specially (ς), which would make a needle and an
/// identical haystack folded piecewise differ; folding every string the same
/// way keeps "equal ignoring case" symmetric.
pub fn fold_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

/// Append the case-folded form of `s` to `out`: lower case, with the final
/// sigma folded to σ as Unicode case folding does.
pub fn fold_into(s: &str, out: &mut String) {
    out.extend(
        s.chars()
            .flat_map(char::to_lowercase)
            .map(|c| if c == 'ς' { 'σ' } else { c }),
    );
}

fn relate(mine: &str, theirs: &str, position: Position, cased: bool) -> bool {
    let (a, b) = if cased {
        (mine.to_string(), theirs.to_string())
    } else {
        (fold_case(mine), fold_case(theirs))
    };
    match position {
        Position::Whole => a == b,
        Position::Start => a.starts_with(&b),
        Position::End => a.ends_with(&b),
        Position::Anywhere => a.contains(&b),
    }
}

/// Parse an event timestamp: RFC 3339 (`2025-03-14T02:13:45.120Z`), or the
/// same with a space instead of `T` and no zone (taken as UTC).
pub fn parse_timestamp(text: &str) -> Option<time::OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let normalised = text.replacen(' ', "T", 1);
    // Byte 10 may fall inside a multi-byte character of garbage input.
    let after_date = normalised.get(10..).unwrap_or("");
    let with_zone = if normalised.ends_with('Z') || after_date.contains(['+', '-']) {
        normalised
    } else {
        format!("{normalised}Z")
    };
    time::OffsetDateTime::parse(&with_zone, &Rfc3339).ok()
}

fn time_part(t: &time::OffsetDateTime, part: TimePart) -> i64 {
    let t = t.to_offset(time::UtcOffset::UTC);
    match part {
        TimePart::Minute => i64::from(t.minute()),
        TimePart::Hour => i64::from(t.hour()),
        TimePart::Day => i64::from(t.day()),
        TimePart::Week => i64::from(t.iso_week()),
        TimePart::Month => i64::from(u8::from(t.month())),
        TimePart::Year => i64::from(t.year()),
    }
}

/// A set of detection rules compiled together, with a literal prefilter.
///
/// Most rules can only match when certain literals occur in certain fields
/// (a `contains`, `endswith` or exact value). The prefilter reduces each
/// rule to *clauses*: each clause is a set of (field, literal) of which at
/// least one must occur, and every clause must hold (`CommandLine|contains:
/// x` AND `Image|endswith: y` is two clauses). All literals of all rules go
/// into one Aho-Corasick automaton per field, each event is scanned once
/// per field, and only the rules whose clauses were all satisfied (plus the
/// few rules without any clause) are evaluated in full. Clauses are
/// necessary conditions, never decisions: the prefilter only skips rules
/// that cannot match, so it never changes a result.
pub struct RuleSet {
    exprs: Vec<Option<CExpr>>,
    /// For each rule evaluated, the later rules with identical logic: they
    /// are not compiled or prefiltered themselves, and match exactly when
    /// it does.
    twins: Vec<Vec<usize>>,
    /// Distinct predicates of all rules.
    preds: Vec<CPred>,
    /// For each predicate the field scan decides (literal,
    /// case-insensitive), the position of its field in `indexes`;
    /// [`NOT_DECIDED`] otherwise. Only a field that was scanned decides.
    decided: Vec<u16>,
    /// Rules evaluated for every event (no clause known).
    always: Vec<usize>,
    /// Per rule, the bit of every one of its clauses (0 for `always` and
    /// absent rules): the scan compares a rule's satisfied bits with it
    /// at every literal hit, and a comparison is cheaper than counting
    /// bits on processors without a population-count instruction.
    all_clauses: Vec<u8>,
    /// Per-field automata in scan order: the fields most rules read first.
    indexes: Vec<FieldIndex>,
    /// Per rule, the last position in `indexes` one of its clauses reads:
    /// once the rule has a literal hit, every field up to this one may
    /// complete it and is scanned.
    last_field: Vec<u16>,
    /// Top-level keys the parser may scan as it reads them, with their
    /// position in `indexes`.
    prescan: foldhash::HashMap<String, u16>,
    /// Fields whose values evaluation reads after the scan (a predicate
    /// the scan does not decide, or the other side of a field reference).
    read_after_scan: std::collections::HashSet<String>,
}

/// A value the parser hands to [`RuleSet::prescan`]: text straight from
/// the input where it can, anything else parsed.
pub enum PrescanValue<'a> {
    Text(&'a str),
    Json(&'a Value),
}

/// A predicate the field scan does not decide.
const NOT_DECIDED: u16 = u16::MAX;

/// Most clauses kept per rule (the most selective ones).
const MAX_CLAUSES: usize = 8;

struct FieldIndex {
    field: String,
    /// Scan this field for every event: some rule may still become a
    /// candidate through it whatever the earlier fields held. Otherwise
    /// it is scanned only when a rule with a literal hit reads it, since a
    /// rule that has a clause wholly on earlier fields, none of which
    /// matched, cannot become a candidate (a 1,000-rule set reads a dozen
    /// fields, most events need two or three of them).
    always_scan: bool,
    scanner: scan::Scanner<Found>,
}

/// What finding one of a field's literals stands for.
#[derive(Clone, Copy, Debug)]
enum Found {
    /// A predicate the literal decides, where it must sit for the
    /// predicate to hold (the literal is `len` bytes long).
    Decides { pred: u32, anchor: Anchor, len: u32 },
    /// A clause of a rule the literal satisfies.
    Serves { rule: u32, clause: u8 },
}

/// Where a literal found by the field scan must sit for its predicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anchor {
    Whole,
    Start,
    End,
    Anywhere,
}

/// Needle -> (rule, clause) targets and decided predicates, per field.
type Needles = std::collections::BTreeMap<String, (Vec<(u32, u8)>, Vec<(u32, Anchor)>)>;

/// Per-thread scratch space for [`RuleSet::matching`].
pub struct Scratch {
    /// Bit i set: clause i of the rule is satisfied for this event.
    satisfied: Vec<u8>,
    candidate: Vec<bool>,
    touched: Vec<usize>,
    ready: Vec<usize>,
    lower: String,
    /// A number's text while it is scanned, kept so that scanning numbers
    /// does not allocate for every event.
    number_text: String,
    /// Per predicate for the current event: 0 not yet known, 1 false, 2 true.
    memo: Vec<u8>,
    memo_touched: Vec<u32>,
    /// Per field index: scanned for the current event.
    scanned: Vec<bool>,
    /// The last field a rule with a literal hit reads; `None` before any.
    needed_until: Option<u16>,
    /// Per field index: the parser scanned it for the current event (see
    /// [`RuleSet::prescan_position`]), to catch a key given twice.
    prescanned: Vec<bool>,
}

type Clause = Vec<(String, String)>;

impl RuleSet {
    /// Compile `exprs` (one per rule; `None` for rules that do not apply).
    pub fn new(exprs: &[Option<Expr>]) -> Result<RuleSet, (usize, regex::Error)> {
        let mut compiled = Vec::with_capacity(exprs.len());
        let mut compiler = Compiler::default();
        let mut always = Vec::new();
        let mut all_clauses = vec![0u8; exprs.len()];
        let mut by_field: std::collections::BTreeMap<String, Needles> =
            std::collections::BTreeMap::new();
        let mut twins = vec![Vec::new(); exprs.len()];
        // Per rule, the fields of each clause (for the scan order).
        let mut clause_fields: Vec<Vec<Vec<String>>> = vec![Vec::new(); exprs.len()];
        let mut first_with: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        for (i, expr) in exprs.iter().enumerate() {
            let Some(expr) = expr else {
                compiled.push(None);
                continue;
            };
            // Rule libraries hold near-copies (a rule forked per team or
            // tenant, with its own id and title): identical logic is
            // evaluated once per event, for the first rule that has it.
            // The debug form identifies an expression completely.
            match first_with.entry(format!("{expr:?}")) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    twins[*first.get()].push(i);
                    compiled.push(None);
                    continue;
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            }
            compiled.push(Some(compiler.expr(expr).map_err(|e| (i, e))?));
            match clauses(expr) {
                Some(mut list) if !list.is_empty() => {
                    // Keep the most selective clauses: longest shortest literal.
                    list.sort_by_key(|c| {
                        std::cmp::Reverse(
                            c.iter().map(|(_, n)| n.len()).min().unwrap_or(usize::MAX),
                        )
                    });
                    list.truncate(MAX_CLAUSES);
                    // At most eight clauses: the mask fits a byte.
                    all_clauses[i] = ((1u16 << list.len()) - 1) as u8;
                    clause_fields[i] = list
                        .iter()
                        .map(|c| c.iter().map(|(f, _)| f.clone()).collect())
                        .collect();
                    for (k, clause) in list.into_iter().enumerate() {
                        for (field, needle) in clause {
                            by_field
                                .entry(field)
                                .or_default()
                                .entry(needle)
                                .or_default()
                                .0
                                .push((i as u32, k as u8));
                        }
                    }
                }
                _ => always.push(i),
            }
        }
        // Case-insensitive literal predicates are decided by the same scan:
        // a needle found at the right place means true, not found means
        // false, with no second search.
        let mut decided_field: Vec<Option<String>> = vec![None; compiler.preds.len()];
        for (p, pred) in compiler.preds.iter().enumerate() {
            let (Some(field), CTest::Str(m)) = (&pred.field, &pred.test) else {
                continue;
            };
            let anchor = match m.kind {
                StrKind::Exact => Anchor::Whole,
                StrKind::Prefix => Anchor::Start,
                StrKind::Suffix => Anchor::End,
                StrKind::Contains(_) => Anchor::Anywhere,
                StrKind::Glob(_) => continue,
            };
            if m.cased || m.needle.is_empty() {
                continue;
            }
            decided_field[p] = Some(field.clone());
            by_field
                .entry(field.clone())
                .or_default()
                .entry(m.needle.clone())
                .or_default()
                .1
                .push((p as u32, anchor));
        }
        let order = scan_order(&by_field, &clause_fields);
        let position: std::collections::HashMap<&str, u16> = order
            .iter()
            .enumerate()
            .map(|(k, f)| (f.as_str(), k as u16))
            .collect();
        let decided: Vec<u16> = decided_field
            .iter()
            .map(|f| f.as_deref().map_or(NOT_DECIDED, |f| position[f]))
            .collect();
        // A rule becomes decidable after the scan of the last field of its
        // earliest-complete clause; fields up to there must always be
        // scanned for it, later ones only once it has a hit.
        let mut always_scan = vec![false; order.len()];
        let mut last_field = vec![0u16; exprs.len()];
        for (r, clauses) in clause_fields.iter().enumerate() {
            let last_of = |c: &Vec<String>| c.iter().map(|f| position[f.as_str()]).max();
            let Some(decidable_at) = clauses.iter().filter_map(last_of).min() else {
                continue;
            };
            last_field[r] = clauses.iter().filter_map(last_of).max().unwrap_or(0);
            for field in clauses.iter().flatten() {
                let k = position[field.as_str()];
                if k <= decidable_at {
                    always_scan[k as usize] = true;
                }
            }
        }
        let mut indexes = Vec::with_capacity(order.len());
        for (k, field) in order.into_iter().enumerate() {
            let Some(needles) = by_field.remove(&field) else {
                continue;
            };
            let mut patterns = Vec::with_capacity(needles.len());
            let mut meanings = Vec::with_capacity(needles.len());
            for (needle, (serves, decides)) in needles {
                let len = needle.len() as u32;
                let mut meaning: Vec<Found> = decides
                    .into_iter()
                    .map(|(pred, anchor)| Found::Decides { pred, anchor, len })
                    .collect();
                meaning.extend(
                    serves
                        .into_iter()
                        .map(|(rule, clause)| Found::Serves { rule, clause }),
                );
                patterns.push(needle);
                meanings.push(meaning);
            }
            let scanner = scan::Scanner::new(&patterns, |i| meanings[i].as_slice())
                .map_err(|e| (0, regex::Error::Syntax(e)))?;
            indexes.push(FieldIndex {
                field,
                always_scan: always_scan[k],
                scanner,
            });
        }
        let prescan = indexes
            .iter()
            .enumerate()
            .filter(|(_, index)| index.always_scan && !index.field.contains('.'))
            .map(|(k, index)| (index.field.clone(), k as u16))
            .collect();
        let mut read_after_scan = std::collections::HashSet::new();
        for (pred, &decided) in compiler.preds.iter().zip(&decided) {
            if let CTest::FieldRef { other, .. } = &pred.test {
                read_after_scan.insert(other.clone());
            }
            if let Some(field) = &pred.field
                && decided == NOT_DECIDED
            {
                read_after_scan.insert(field.clone());
            }
        }
        Ok(RuleSet {
            exprs: compiled,
            twins,
            preds: compiler.preds,
            decided,
            always,
            all_clauses,
            indexes,
            last_field,
            prescan,
            read_after_scan,
        })
    }

    pub fn scratch(&self) -> Scratch {
        Scratch {
            satisfied: vec![0; self.exprs.len()],
            candidate: vec![false; self.exprs.len()],
            memo: vec![0; self.preds.len()],
            memo_touched: Vec::new(),
            touched: Vec::new(),
            ready: Vec::new(),
            lower: String::new(),
            number_text: String::new(),
            scanned: vec![false; self.indexes.len()],
            needed_until: None,
            prescanned: vec![false; self.indexes.len()],
        }
    }

    /// The scan position of a top-level event key the parser may scan while
    /// it reads the event, instead of [`RuleSet::matching`] looking the
    /// field up afterwards: a field scanned for every event whose name is
    /// a plain key (a dotted name may also be a path into nested objects).
    pub fn prescan_position(&self, key: &str) -> Option<u16> {
        self.prescan.get(key).copied()
    }

    /// Whether evaluation reads this field's value itself, beyond what the
    /// scan decides. A prescanned field it does not read need not be kept
    /// in the parsed event at all.
    pub fn reads_value(&self, field: &str) -> bool {
        self.prescan_position(field).is_none() || self.read_after_scan.contains(field)
    }

    /// Start an event whose prescannable fields the parser scans: every one
    /// of them counts as scanned (an absent field holds nothing to find).
    pub fn begin_prescan(&self, scratch: &mut Scratch) {
        for &k in self.prescan.values() {
            scratch.scanned[k as usize] = true;
        }
    }

    /// Scan one value of a prescanned field as the parser reads it. Returns
    /// `false` when the event gives the key a second time: the parsed event
    /// keeps only the last value, so the scan must start over without
    /// prescanning.
    pub fn prescan(&self, position: u16, value: PrescanValue<'_>, scratch: &mut Scratch) -> bool {
        if std::mem::replace(&mut scratch.prescanned[usize::from(position)], true) {
            return false;
        }
        let index = &self.indexes[position as usize];
        match value {
            PrescanValue::Text(text) => self.scan_text(index, text, scratch),
            PrescanValue::Json(value) => self.scan_value(index, value, scratch),
        }
        true
    }

    /// Indices of the rules the event matches, in rule order. Fields the
    /// parser already scanned (see [`RuleSet::begin_prescan`]) are not
    /// scanned again.
    pub fn matching(&self, event: &Value, scratch: &mut Scratch, out: &mut Vec<usize>) {
        out.clear();
        for (k, index) in self.indexes.iter().enumerate() {
            if scratch.scanned[k]
                || !index.always_scan && scratch.needed_until.is_none_or(|last| (k as u16) > last)
            {
                continue;
            }
            scratch.scanned[k] = true;
            // `any_value` hands over array elements one by one, so
            // `scan_value`'s own walk only sees single values here.
            event::any_value(event, &index.field, &mut |v| {
                self.scan_value(index, v, scratch);
                false
            });
        }
        self.evaluate(event, scratch, out);
    }

    /// Forget what the scans of the current event found.
    pub fn reset(&self, scratch: &mut Scratch) {
        for &i in &scratch.touched {
            scratch.satisfied[i] = 0;
            scratch.candidate[i] = false;
        }
        scratch.touched.clear();
        scratch.ready.clear();
        for &p in &scratch.memo_touched {
            scratch.memo[p as usize] = 0;
        }
        scratch.memo_touched.clear();
        scratch.scanned.fill(false);
        scratch.needed_until = None;
        scratch.prescanned.fill(false);
    }

    /// Scan one value of a field: text as text, numbers and booleans as
    /// their JSON text, `null` as the empty string (see [`event::text_of`]).
    fn scan_value(&self, index: &FieldIndex, value: &Value, scratch: &mut Scratch) {
        let mut buffer = std::mem::take(&mut scratch.number_text);
        event::fan_out(value, &mut |v| {
            if let Some(text) = event::text_of(v, &mut buffer) {
                self.scan_text(index, text, scratch);
            }
            false
        });
        scratch.number_text = buffer;
    }

    /// Find the field's literals in one text and record what they satisfy
    /// and decide.
    fn scan_text(&self, index: &FieldIndex, text: &str, scratch: &mut Scratch) {
        let mut lower = std::mem::take(&mut scratch.lower);
        let haystack = if text.is_ascii() {
            text
        } else {
            lower.clear();
            fold_into(text, &mut lower);
            lower.as_str()
        };
        index
            .scanner
            .scan(haystack.as_bytes(), |found, end| match *found {
                Found::Decides { pred, anchor, len } => {
                    let start = end - len as usize;
                    let holds = match anchor {
                        Anchor::Whole => start == 0 && end == haystack.len(),
                        Anchor::Start => start == 0,
                        Anchor::End => end == haystack.len(),
                        Anchor::Anywhere => true,
                    };
                    if holds && scratch.memo[pred as usize] != 2 {
                        scratch.memo[pred as usize] = 2;
                        scratch.memo_touched.push(pred);
                    }
                }
                Found::Serves { rule, clause } => {
                    let rule = rule as usize;
                    let bit = 1u8 << clause;
                    let bits = &mut scratch.satisfied[rule];
                    if *bits & bit != 0 {
                        return;
                    }
                    if *bits == 0 {
                        scratch.touched.push(rule);
                        let last = self.last_field[rule];
                        scratch.needed_until =
                            Some(scratch.needed_until.map_or(last, |n| n.max(last)));
                    }
                    *bits |= bit;
                    if *bits == self.all_clauses[rule] && !scratch.candidate[rule] {
                        scratch.candidate[rule] = true;
                        scratch.ready.push(rule);
                    }
                }
            });
        scratch.lower = lower;
    }

    /// Evaluate the candidate rules (and those without clauses) in full,
    /// then reset the scratch space for the next event.
    fn evaluate(&self, event: &Value, scratch: &mut Scratch, out: &mut Vec<usize>) {
        scratch.ready.extend_from_slice(&self.always);
        scratch.ready.sort_unstable();
        for &i in &scratch.ready {
            let Some(expr) = &self.exprs[i] else { continue };
            let (memo, touched, preds, decided, scanned) = (
                &mut scratch.memo,
                &mut scratch.memo_touched,
                &self.preds,
                &self.decided,
                &scratch.scanned,
            );
            let hit = eval(expr, &mut |p| match memo[p as usize] {
                1 => false,
                2 => true,
                // Decided by the field scan, which did not find it.
                _ if decided[p as usize] != NOT_DECIDED
                    && scanned[decided[p as usize] as usize] =>
                {
                    false
                }
                _ => {
                    let value = eval_pred(&preds[p as usize], event);
                    memo[p as usize] = if value { 2 } else { 1 };
                    touched.push(p);
                    value
                }
            });
            if hit {
                out.push(i);
                out.extend_from_slice(&self.twins[i]);
            }
        }
        if out.windows(2).any(|w| w[0] > w[1]) {
            out.sort_unstable();
        }
        self.reset(scratch);
    }
}

/// The order fields are scanned in: those the most rules' clauses read
/// first, so that most rules are decided (hit or out) after the first few
/// scans. Fields that only decide predicates come last. Ties by name, so
/// the order is the same every run.
fn scan_order(
    by_field: &std::collections::BTreeMap<String, Needles>,
    clause_fields: &[Vec<Vec<String>>],
) -> Vec<String> {
    let mut readers: std::collections::BTreeMap<&str, usize> =
        by_field.keys().map(|f| (f.as_str(), 0)).collect();
    for clauses in clause_fields {
        let fields: std::collections::BTreeSet<&str> =
            clauses.iter().flatten().map(String::as_str).collect();
        for field in fields {
            *readers.entry(field).or_default() += 1;
        }
    }
    let mut order: Vec<(&str, usize)> = readers.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    order.into_iter().map(|(f, _)| f.to_string()).collect()
}

/// The prefilter clauses of an expression: every clause must hold, and a
/// clause holds when one of its (field, literal) pairs occurs
/// case-insensitively. `None` when nothing is known (the rule is always
/// evaluated).
fn clauses(expr: &Expr) -> Option<Vec<Clause>> {
    match expr {
        Expr::Pred(Pred {
            field: Some(field),
            test: Test::Str { pattern, .. },
            ..
        }) => {
            let literal = match pattern {
                Pattern::Exact(s)
                | Pattern::StartsWith(s)
                | Pattern::EndsWith(s)
                | Pattern::Contains(s) => s.clone(),
                Pattern::Glob(pieces) => pieces
                    .iter()
                    .filter_map(|p| match p {
                        crate::logic::Piece::Literal(s) => Some(s.clone()),
                        _ => None,
                    })
                    .max_by_key(String::len)
                    .unwrap_or_default(),
            };
            (!literal.is_empty()).then(|| vec![vec![(field.clone(), fold_case(&literal))]])
        }
        Expr::And(items) => {
            let all: Vec<Clause> = items.iter().filter_map(clauses).flatten().collect();
            (!all.is_empty()).then_some(all)
        }
        Expr::Or(items) => {
            // One clause: for each alternative, its most selective clause.
            let mut union = Vec::new();
            for item in items {
                let best = clauses(item)?
                    .into_iter()
                    .max_by_key(|c| c.iter().map(|(_, n)| n.len()).min().unwrap_or(0))?;
                union.extend(best);
            }
            Some(vec![union])
        }
        _ => None,
    }
}

/// The compiled form of a whole lowered rule set (detections only;
/// correlations are fed by [`correlate::Correlator`]).
pub struct Engine {
    set: RuleSet,
}

impl Engine {
    pub fn new(rules: &[RuleLogic]) -> Result<Engine, (usize, regex::Error)> {
        let exprs: Vec<Option<Expr>> = rules
            .iter()
            .map(|r| match &r.body {
                Body::Detection(e) => Some(e.clone()),
                Body::Correlation(_) => None,
            })
            .collect();
        Ok(Engine {
            set: RuleSet::new(&exprs)?,
        })
    }

    /// Indices of the detection rules the event matches.
    pub fn matching(&self, event: &Value, out: &mut Vec<usize>) {
        let mut scratch = self.set.scratch();
        self.set.matching(event, &mut scratch, out);
    }
}

#[cfg(test)]
mod tests;
