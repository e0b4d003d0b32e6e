//! The Sigma backend: standard Sigma (specification v2.1) for every other
//! platform.
//!
//! Unlike the KQL backends this one works on the rule *documents*, not on
//! the lowered logic: the exported rule is the source rule, rewritten only
//! where standard Sigma needs it. What it does (README, "Standard Sigma"):
//!
//! - one YAML stream per reported rule, self-contained: a correlation comes
//!   with the rules it references (recursively), and every filter that
//!   lowering applied to one of those rules comes along as its own filter
//!   document; documents in file order;
//! - canonical key order, stable layout ([`emit`]), `tests:` removed;
//! - `taxonomy: stetho` fields translated to SigmaHQ's generic names through
//!   the inverse of the pipeline mapping ([`fields`]), all or nothing per
//!   export;
//! - the `healthcare:` block kept, and mirrored in `tags`;
//! - spellings only pySigma or only the specification accepts normalised to
//!   what both read the same way, without changing the logic (`utf16le` →
//!   `wide`, `any of` → `1 of`, a condition list → one `or`-ed condition,
//!   `generate` inside `correlation`, `rules: any` → the rules of the
//!   export, ...; the full list is in the README);
//! - what standard Sigma cannot express is an error naming the rule and the
//!   construct, or with `--lossy` the closest Sigma plus a comment and a
//!   warning.

pub(crate) mod emit;
mod fields;

use std::collections::{BTreeMap, BTreeSet};

use emit::{Out, OutEntry, OutScalar};

use super::CompileError;
use crate::commands::Lowered;
use crate::logic::{Body, Lists};
use crate::model::condition::{self, Quantifier, Target};
use crate::model::{Rule, RuleKind};
use crate::pipeline::Source;
use crate::source::yaml::{Node, NodeKind, Style, Typed};

/// Flags of `stetho compile --target sigma`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigmaOptions {
    /// Emit the closest standard Sigma for what Sigma cannot express, with
    /// a comment in the output and a warning, instead of failing.
    pub lossy: bool,
    /// Replace `%placeholder%` values under `expand` by the values of their
    /// list (`lists/NAME.txt`) and drop the `expand` modifier.
    pub resolve_placeholders: bool,
}

/// One exported rule: the YAML stream and what the export had to warn about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    pub text: String,
    pub warnings: Vec<String>,
}

/// Export rule `index` of `lowered` as standard Sigma YAML.
pub fn export(
    lowered: &Lowered,
    index: usize,
    options: SigmaOptions,
) -> Result<Export, CompileError> {
    let Some(rule) = lowered.rules.get(index) else {
        return Err(CompileError {
            path: String::new(),
            rule: index.to_string(),
            message: "no such rule".into(),
            not_applicable: false,
        });
    };
    let unit = Unit::collect(lowered, index)
        .map_err(|message| CompileError::new(rule, format!("Sigma export: {message}")))?;
    // Translate native field names; if any has no generic name, export the
    // whole unit in the stetho taxonomy instead (never a mix of both).
    let first = render(&unit, lowered, options, true)?;
    if first.failures.is_empty() {
        return Ok(first.export);
    }
    let mut second = render(&unit, lowered, options, false)?;
    let failures: Vec<String> = first.failures.into_iter().collect();
    second.export.warnings.insert(
        0,
        warning(
            unit.main,
            &format!(
                "kept in `taxonomy: stetho` (native column names): {}",
                failures.join("; ")
            ),
        ),
    );
    Ok(second.export)
}

fn key_of(doc: &Rule) -> String {
    doc.id
        .as_ref()
        .or(doc.name.as_ref())
        .or(doc.title.as_ref())
        .map_or_else(|| doc.file.display.clone(), |l| l.text.clone())
}

fn error(doc: &Rule, message: impl Into<String>) -> CompileError {
    CompileError {
        path: doc.file.display.clone(),
        rule: key_of(doc),
        message: message.into(),
        not_applicable: false,
    }
}

fn warning(doc: &Rule, message: &str) -> String {
    format!("{}: rule `{}`: {message}", doc.file.display, key_of(doc))
}

/// The documents one export holds.
struct Unit<'a> {
    /// The rule being exported.
    main: &'a Rule,
    /// Every document, in file order.
    docs: Vec<&'a Rule>,
    /// For each filter document, the detection documents it applies to.
    filtered: Vec<(&'a Rule, Vec<&'a Rule>)>,
}

impl<'a> Unit<'a> {
    fn collect(lowered: &'a Lowered, index: usize) -> Result<Unit<'a>, String> {
        let mut indices = Vec::new();
        let mut stack = vec![index];
        while let Some(i) = stack.pop() {
            if indices.contains(&i) {
                continue;
            }
            indices.push(i);
            if let Some(Body::Correlation(c)) = lowered.rules.get(i).map(|r| &r.body) {
                stack.extend(c.rules.iter().copied());
            }
        }
        let mut docs = Vec::new();
        for &i in &indices {
            let logic = lowered
                .rules
                .get(i)
                .ok_or("a correlation names a missing rule")?;
            let doc = lowered
                .model_of(logic)
                .ok_or_else(|| format!("the source document of `{}` is missing", logic.key()))?;
            docs.push(doc);
        }
        let main = *docs.first().ok_or("no document")?;
        let by_position = |a: &&Rule, b: &&Rule| {
            (&a.file.display, a.document).cmp(&(&b.file.display, b.document))
        };
        docs.sort_by(by_position);
        let detections: Vec<&Rule> = docs
            .iter()
            .copied()
            .filter(|d| d.kind == RuleKind::Detection)
            .collect();
        let mut filtered = Vec::new();
        for filter in lowered
            .models()
            .iter()
            .filter(|m| m.kind == RuleKind::Filter)
        {
            let Some(spec) = &filter.filter else {
                continue;
            };
            let applied: Vec<&Rule> = detections
                .iter()
                .copied()
                .filter(|rule| {
                    let named = spec.applies_to_any
                        || spec.rules.iter().any(|r| {
                            rule.id.as_ref().is_some_and(|id| id.text == r.text)
                                || rule.name.as_ref().is_some_and(|n| n.text == r.text)
                        });
                    named && filter.logsource.covers(&rule.logsource)
                })
                .collect();
            if !applied.is_empty() {
                docs.push(filter);
                filtered.push((filter, applied));
            }
        }
        docs.sort_by(by_position);
        docs.dedup_by(|a, b| a.file.display == b.file.display && a.document == b.document);
        Ok(Unit {
            main,
            docs,
            filtered,
        })
    }

    /// The detection documents a correlation reaches, through chains.
    fn detections_of(&self, correlation: &Rule) -> Vec<&'a Rule> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = correlation
            .correlation
            .as_ref()
            .map(|c| c.rules.iter().map(|r| r.text.clone()).collect())
            .unwrap_or_default();
        while let Some(reference) = stack.pop() {
            if !seen.insert(reference.clone()) {
                continue;
            }
            let Some(doc) = self.by_reference(&reference) else {
                continue;
            };
            match doc.kind {
                RuleKind::Detection => out.push(doc),
                RuleKind::Correlation => {
                    if let Some(c) = &doc.correlation {
                        stack.extend(c.rules.iter().map(|r| r.text.clone()));
                    }
                }
                RuleKind::Filter => {}
            }
        }
        out
    }

    fn by_reference(&self, reference: &str) -> Option<&'a Rule> {
        self.docs.iter().copied().find(|d| {
            d.kind != RuleKind::Filter
                && (d.id.as_ref().is_some_and(|l| l.text == reference)
                    || d.name.as_ref().is_some_and(|l| l.text == reference))
        })
    }
}

struct Rendered {
    export: Export,
    /// Native field names without a generic name (first pass only).
    failures: BTreeSet<String>,
}

/// Everything one document's rewrite needs.
struct Ctx<'a> {
    lowered: &'a Lowered,
    options: SigmaOptions,
    unit: &'a Unit<'a>,
    /// The document being rewritten.
    doc: &'a Rule,
    /// Translate this document's native names to generic ones.
    translate: bool,
    /// Pipeline sources the document's fields belong to.
    sources: Vec<(&'static str, &'a Source)>,
    failures: BTreeSet<String>,
    warnings: Vec<String>,
}

impl Ctx<'_> {
    fn lists(&self) -> &Lists {
        &self.lowered.lists
    }

    /// The exported name of a field of this document.
    fn field(&mut self, field: &str) -> String {
        if !self.translate {
            return field.to_string();
        }
        if self.sources.is_empty() {
            self.failures.insert(format!(
                "no pipeline has a source for log source `{}`",
                self.doc.logsource.describe()
            ));
            return field.to_string();
        }
        let names: Vec<Option<String>> = self
            .sources
            .iter()
            .map(|(_, s)| fields::generic(s, field))
            .collect();
        match names.first() {
            Some(Some(first)) if names.iter().all(|n| n.as_ref() == Some(first)) => first.clone(),
            _ => {
                let (pipeline, source) = self.sources[0];
                self.failures.insert(format!(
                    "`{field}` has no SigmaHQ generic name ({pipeline}, {})",
                    source.logsource.describe()
                ));
                field.to_string()
            }
        }
    }

    fn warn(&mut self, message: &str) {
        self.warnings.push(warning(self.doc, message));
    }

    fn error(&self, message: impl Into<String>) -> CompileError {
        error(self.doc, message)
    }

    /// A construct standard Sigma cannot express: the rule is fine, the
    /// target cannot hold it (without `--lossy`).
    fn inexpressible(&self, message: impl Into<String>) -> CompileError {
        CompileError {
            not_applicable: true,
            ..error(self.doc, message)
        }
    }
}

fn render(
    unit: &Unit<'_>,
    lowered: &Lowered,
    options: SigmaOptions,
    translate: bool,
) -> Result<Rendered, CompileError> {
    let mut documents = Vec::with_capacity(unit.docs.len());
    let mut failures = BTreeSet::new();
    let mut warnings = Vec::new();
    for &doc in &unit.docs {
        let native = doc.taxonomy.as_deref() == Some("stetho");
        let sources = sources_of(unit, lowered, doc);
        let mut ctx = Ctx {
            lowered,
            options,
            unit,
            doc,
            translate: translate && native,
            sources,
            failures: BTreeSet::new(),
            warnings: Vec::new(),
        };
        let entries = document(&mut ctx, native)?;
        failures.extend(ctx.failures);
        warnings.extend(ctx.warnings);
        documents.push(entries);
    }
    let text = documents
        .iter()
        .map(|d| emit::document(d))
        .collect::<Vec<_>>()
        .join("---\n");
    emit::verify(&text, &documents).map_err(|e| {
        error(
            unit.main,
            format!("internal error in the Sigma export (please report): {e}"),
        )
    })?;
    Ok(Rendered {
        export: Export { text, warnings },
        failures,
    })
}

/// The pipeline sources whose names a document's fields are.
fn sources_of<'a>(
    unit: &Unit<'a>,
    lowered: &'a Lowered,
    doc: &Rule,
) -> Vec<(&'static str, &'a Source)> {
    let of = |rule: &Rule| fields::source_for(&lowered.pipelines, &rule.logsource);
    match doc.kind {
        RuleKind::Detection => of(doc).into_iter().collect(),
        RuleKind::Filter => unit
            .filtered
            .iter()
            .filter(|(f, _)| std::ptr::eq(*f, doc))
            .flat_map(|(_, applied)| applied.iter().filter_map(|r| of(r)))
            .collect(),
        RuleKind::Correlation => unit.detections_of(doc).into_iter().filter_map(of).collect(),
    }
}

/// The rewritten top-level entries of one document.
fn document(ctx: &mut Ctx<'_>, native: bool) -> Result<Vec<OutEntry>, CompileError> {
    let doc = ctx.doc;
    let Some(root) = doc.root.as_map() else {
        return Err(ctx.error("Sigma export: the document is not a mapping"));
    };
    let mut entries: Vec<OutEntry> = Vec::new();
    let mut saw_tags = false;
    for entry in root {
        let key = entry.key_str();
        let value = &entry.value;
        let out = match key {
            "tests" | "schedule" => continue,
            "taxonomy" if ctx.translate => continue,
            "generate" if doc.kind == RuleKind::Correlation => continue,
            "tags" => {
                saw_tags = true;
                tags(ctx, Some(value))
            }
            "detection" if doc.kind == RuleKind::Detection => {
                search_block(ctx, value, BlockKind::Detection)?
            }
            "filter" if doc.kind == RuleKind::Filter => {
                search_block(ctx, value, BlockKind::Filter)?
            }
            "correlation" if doc.kind == RuleKind::Correlation => correlation(ctx, value)?,
            "fields" => as_list(map_strings(value, &mut |f| OutScalar::string(ctx.field(f)))),
            // The schema wants lists; pySigma also takes a single string.
            "falsepositives" | "references" | "scope" => as_list(Out::from_node(value)),
            // Sigma v2 dates are YYYY-MM-DD; v1's YYYY/MM/DD is rewritten.
            "date" | "modified" => match value.as_string() {
                Some(d) if is_slash_date(d) => OutScalar::quoted(d.replace('/', "-")),
                _ => Out::from_node(value),
            },
            _ => Out::from_node(value),
        };
        let mut out_entry = OutEntry::new(key, out);
        if key == "taxonomy" && native {
            out_entry.comments.push(
                "stetho: field names are the native columns of the stetho taxonomy (see README, \"Standard Sigma\")"
                    .into(),
            );
        }
        entries.push(out_entry);
    }
    if !saw_tags {
        let mirrored = tags(ctx, None);
        if !matches!(&mirrored, Out::Seq(items) if items.is_empty()) {
            entries.push(OutEntry::new("tags", mirrored));
        }
    }
    // `generate` belongs inside `correlation`, where pySigma reads it.
    if doc.kind == RuleKind::Correlation
        && let Some(generate) = doc.root.get("generate")
        && let Some(block) = entries
            .iter_mut()
            .find(|e| e.key == "correlation")
            .and_then(|e| e.value.as_map_mut())
        && !block.iter().any(|e| e.key == "generate")
    {
        block.push(OutEntry::new("generate", Out::from_node(generate)));
    }
    Ok(order(entries))
}

/// A single string as a one-item list.
fn as_list(out: Out) -> Out {
    match out {
        Out::Scalar(s @ OutScalar::Str { .. }) => Out::Seq(vec![Out::Scalar(s)]),
        other => other,
    }
}

/// `YYYY/MM/DD`, the date format Sigma v2 dropped.
fn is_slash_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('/').collect();
    parts.len() == 3
        && [4, 2, 2]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Top-level keys in the canonical order ([`crate::model::order`]); the
/// `healthcare` block goes last (`tests` is never exported).
fn order(mut entries: Vec<OutEntry>) -> Vec<OutEntry> {
    crate::model::order::sort_keys(&[], &mut entries, |e| e.key.as_str());
    entries
}

/// Whether a string is a valid Sigma tag (`^[a-z0-9_-]+\.[a-z0-9._-]+$`).
fn valid_tag(tag: &str) -> bool {
    let Some((namespace, rest)) = tag.split_once('.') else {
        return false;
    };
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
    !namespace.is_empty()
        && namespace.chars().all(ok)
        && !rest.is_empty()
        && rest.chars().all(|c| ok(c) || c == '.')
}

/// The rule's tags plus those mirrored from its `healthcare:` block.
fn tags(ctx: &mut Ctx<'_>, existing: Option<&Node>) -> Out {
    let mut items: Vec<Out> = match existing.map(|n| &n.kind) {
        Some(NodeKind::Seq(items)) => items.iter().map(Out::from_node).collect(),
        Some(_) => existing.into_iter().map(Out::from_node).collect(),
        None => Vec::new(),
    };
    let mut have: BTreeSet<String> = existing
        .map(|n| {
            n.string_list()
                .into_iter()
                .map(|(t, _)| t.to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let Some(healthcare) = ctx.doc.healthcare() else {
        return Out::Seq(items);
    };
    let list = |path: &[&str]| -> Vec<String> {
        healthcare
            .get_path(path)
            .map(|n| {
                n.string_list()
                    .into_iter()
                    .map(|(t, _)| t.to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut mirrored: Vec<String> = Vec::new();
    mirrored.extend(
        list(&["attack", "techniques"])
            .iter()
            .map(|t| format!("attack.{}", t.to_ascii_lowercase())),
    );
    mirrored.extend(list(&["references", "cves"]).iter().filter_map(|c| {
        c.get(4..)
            .map(|rest| format!("cve.{}", rest.to_ascii_lowercase()))
    }));
    mirrored.extend(
        list(&["clinical_impact"])
            .iter()
            .map(|v| format!("health.impact.{v}")),
    );
    mirrored.extend(
        list(&["affected_services"])
            .iter()
            .map(|v| format!("health.service.{v}")),
    );
    mirrored.extend(
        list(&["asset_classes"])
            .iter()
            .map(|v| format!("health.asset.{v}")),
    );
    mirrored.extend(
        list(&["data_categories"])
            .iter()
            .map(|v| format!("health.data.{v}")),
    );
    mirrored.extend(
        list(&["caf", "outcomes"])
            .iter()
            .map(|v| format!("caf.{}", v.to_ascii_lowercase())),
    );
    for tag in mirrored {
        if !valid_tag(&tag) {
            ctx.warn(&format!(
                "`{tag}` is not a valid Sigma tag; not mirrored into `tags`"
            ));
            continue;
        }
        if have.insert(tag.clone()) {
            items.push(OutScalar::string(tag));
        }
    }
    Out::Seq(items)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Detection,
    Filter,
}

/// A `detection:` block, or the `filter:` block of a filter.
fn search_block(ctx: &mut Ctx<'_>, block: &Node, kind: BlockKind) -> Result<Out, CompileError> {
    let Some(entries) = block.as_map() else {
        return Ok(Out::from_node(block));
    };
    // The filter schema requires an identifier named `selection`: without
    // one, the first identifier takes that name (and the condition follows).
    let names: Vec<&str> = entries
        .iter()
        .filter(|e| !matches!(e.key_str(), "condition" | "rules") && e.value.as_scalar().is_none())
        .map(|e| e.key_str())
        .collect();
    let mut rename = Rename {
        from: (kind == BlockKind::Filter && !names.is_empty() && !names.contains(&"selection"))
            .then(|| names[0]),
        split: BTreeMap::new(),
        names: &names,
    };
    let mut taken: BTreeSet<String> = entries.iter().map(|e| e.key_str().to_string()).collect();
    let mut out = Vec::with_capacity(entries.len());
    // The condition is written once every identifier is, since a split
    // identifier changes how the condition names it.
    let mut condition_at = None;
    for entry in entries {
        let key = entry.key_str();
        let value = &entry.value;
        let mut comments = Vec::new();
        let out_key = match rename.from {
            Some(from) if from == key => {
                comments.push(format!(
                    "stetho: `{key}` renamed `selection`, which the Sigma filter schema requires"
                ));
                "selection"
            }
            _ => key,
        };
        let mut parts = Vec::new();
        let rewritten = match (key, &value.kind) {
            ("condition", _) => {
                condition_at = Some((out.len(), value));
                Out::Seq(Vec::new())
            }
            ("rules", _) if kind == BlockKind::Filter => filter_rules(ctx, value, &mut comments)?,
            ("timeframe", _) if kind == BlockKind::Detection => {
                ctx.warn("`timeframe` (removed in Sigma v2, ignored by stetho) is not exported");
                continue;
            }
            (_, NodeKind::Map(items)) => {
                let mapped = items
                    .iter()
                    .map(|e| item(ctx, key, e.key_str(), &e.value))
                    .collect::<Result<Vec<_>, _>>()?;
                parts = split_same_keys(mapped);
                Out::Map(parts.remove(0))
            }
            (_, NodeKind::Seq(items))
                if !items.is_empty() && items.iter().all(|n| n.as_map().is_some()) =>
            {
                let mut groups = Vec::with_capacity(items.len());
                for group in items {
                    let entries = group.as_map().unwrap_or(&[]);
                    let mapped = entries
                        .iter()
                        .map(|e| item(ctx, key, e.key_str(), &e.value))
                        .collect::<Result<Vec<_>, _>>()?;
                    if let Some(same) = first_repeated_key(&mapped) {
                        return Err(ctx.error(format!(
                            "two keys of one map in `{key}` become the same key `{same}` in standard Sigma, \
                             and a map in a list cannot be split; write them in separate search identifiers"
                        )));
                    }
                    groups.push(Out::Map(mapped));
                }
                Out::Seq(groups)
            }
            (_, NodeKind::Seq(_)) => Out::from_node(value),
            (_, NodeKind::Scalar(_)) => {
                ctx.warn(&format!(
                    "`{key}` is neither a search identifier nor the condition (stetho ignores it); not exported"
                ));
                continue;
            }
        };
        out.push(OutEntry {
            comments,
            key: out_key.to_string(),
            value: rewritten,
        });
        if !parts.is_empty() {
            ctx.warn(&format!(
                "`{key}` holds keys that become the same key in standard Sigma; it is exported as {} \
                 search identifiers that the condition joins with `and`",
                parts.len() + 1
            ));
        }
        let mut extra = Vec::with_capacity(parts.len());
        for part in parts {
            let name = fresh_name(&mut taken, out_key);
            out.push(OutEntry {
                comments: vec![format!(
                    "stetho: part of `{key}`: its keys would repeat a key of `{out_key}` in standard Sigma"
                )],
                key: name.clone(),
                value: Out::Map(part),
            });
            extra.push(name);
        }
        if !extra.is_empty() {
            rename.split.insert(key, extra);
        }
    }
    if let Some((at, value)) = condition_at {
        let active = rename.from.is_some() || !rename.split.is_empty();
        out[at].value = condition_value(ctx, value, active.then_some(&rename));
    }
    Ok(Out::Map(out))
}

/// The entries of a search identifier's map in layers with no key twice:
/// the first time each key appears, then the second, and so on. Keys that
/// differ in a rule can become one in standard Sigma (`utf16le` is written
/// `wide`, `ignorecase` `i`; two fields can map to one name), and a YAML
/// map cannot hold a key twice; the layers are ANDed by the condition.
fn split_same_keys(entries: Vec<OutEntry>) -> Vec<Vec<OutEntry>> {
    let mut layers: Vec<Vec<OutEntry>> = vec![Vec::new()];
    for entry in entries {
        let free = layers
            .iter()
            .position(|layer| layer.iter().all(|e| e.key != entry.key));
        match free {
            Some(i) => layers[i].push(entry),
            None => layers.push(vec![entry]),
        }
    }
    layers
}

/// A key that appears twice among `entries`.
fn first_repeated_key(entries: &[OutEntry]) -> Option<&str> {
    entries.iter().enumerate().find_map(|(i, e)| {
        entries[..i]
            .iter()
            .any(|earlier| earlier.key == e.key)
            .then_some(e.key.as_str())
    })
}

/// A search identifier name `base_2`, `base_3`, ... not yet in `taken`.
fn fresh_name(taken: &mut BTreeSet<String>, base: &str) -> String {
    let name = (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|n| !taken.contains(n))
        .unwrap_or_default();
    taken.insert(name.clone());
    name
}

/// How a condition's identifiers are written when the export changed
/// them; quantifiers are then written out as the identifiers they select.
struct Rename<'a> {
    /// The identifier renamed `selection` (the filter schema needs one).
    from: Option<&'a str>,
    /// Identifiers split in parts, with the names of their later parts.
    split: BTreeMap<&'a str, Vec<String>>,
    /// The block's identifiers, as the rule names them.
    names: &'a [&'a str],
}

impl Rename<'_> {
    /// An identifier as the condition now writes it, and its precedence.
    fn ident(&self, name: &str) -> (String, u8) {
        let own = match self.from {
            Some(from) if from == name => "selection".to_string(),
            _ => name.to_string(),
        };
        match self.split.get(name) {
            Some(parts) => {
                let mut all = vec![own];
                all.extend(parts.iter().cloned());
                (all.join(" and "), 2)
            }
            None => (own, 4),
        }
    }
}

/// Normalise modifier spellings to those the specification and pySigma
/// both read the same way.
fn modifier_name(name: &str) -> &str {
    match name {
        "utf16le" => "wide",
        "ignorecase" => "i",
        "multiline" => "m",
        "dotall" => "s",
        other => other,
    }
}

/// One `field|modifiers: value` entry of a search identifier.
fn item(ctx: &mut Ctx<'_>, ident: &str, key: &str, value: &Node) -> Result<OutEntry, CompileError> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or("");
    let modifiers: Vec<&str> = parts.collect();
    let out_field = if field.is_empty() {
        String::new()
    } else {
        ctx.field(field)
    };
    if modifiers.contains(&"nhs_number") {
        return nhs_number(ctx, ident, key, &out_field, value);
    }
    let mut mods: Vec<&str> = modifiers.iter().map(|m| modifier_name(m)).collect();
    // Under a string modifier stetho matches a number's text; pySigma refuses
    // a number there, so it is written as the string it is matched as.
    let stringly = mods.iter().any(|m| STRING_MODIFIERS.contains(m));
    let mut out_value = if stringly {
        map_scalars(
            value,
            &mut |n| match n.as_scalar().map(|s| (s.typed(), &s.text)) {
                Some((Typed::Int(_) | Typed::Float(_) | Typed::Bool(_), text)) => {
                    OutScalar::quoted(text.clone())
                }
                _ => Out::from_node(n),
            },
        )
    } else {
        Out::from_node(value)
    };
    if mods.contains(&"fieldref") && mods.contains(&"cased") {
        ctx.warn(&format!(
            "`{key}` in `{ident}`: `cased` with `fieldref` is exported as written, but pySigma 1.x refuses it"
        ));
    }
    if mods.contains(&"fieldref") {
        out_value = map_strings(value, &mut |s| OutScalar::string(ctx.field(s)));
    }
    if mods.contains(&"re") {
        out_value = map_scalars(value, &mut |n| match n.as_scalar() {
            Some(s) if s.typed() != Typed::Null => Out::Scalar(OutScalar::Str {
                text: portable_regex(&s.text),
                style: match s.style {
                    Style::Folded | Style::Literal => s.style,
                    _ => Style::SingleQuoted,
                },
            }),
            _ => Out::from_node(n),
        });
    }
    // pySigma parses a network when it loads the rule, so a placeholder
    // under `cidr` is always written as its list's values.
    let forced = mods.contains(&"cidr") && !ctx.options.resolve_placeholders;
    if mods.contains(&"expand") && (ctx.options.resolve_placeholders || forced) {
        if forced {
            ctx.warn(&format!(
                "`{key}` in `{ident}`: placeholders under `cidr` are written as their lists' values \
                 (pySigma reads a network when it loads a rule and cannot keep a placeholder)"
            ));
        }
        let mut resolved = Vec::new();
        for scalar in scalars(value) {
            let text = scalar.as_str().unwrap_or("");
            let values = resolve(ctx.lists(), text).map_err(|m| {
                ctx.error(format!(
                    "`{key}` in `{ident}`: {m} (--resolve-placeholders)"
                ))
            })?;
            resolved.extend(values.into_iter().map(OutScalar::quoted));
        }
        mods.retain(|m| *m != "expand");
        out_value = if value.as_seq().is_none() && resolved.len() == 1 {
            resolved.remove(0)
        } else {
            Out::Seq(resolved)
        };
    }
    let mut out_key = out_field;
    for m in &mods {
        out_key.push('|');
        out_key.push_str(m);
    }
    Ok(OutEntry::new(out_key, out_value))
}

/// A regular expression in the spelling every flavour reads alike: a
/// `\x{HHHH}` escape of a non-ASCII character (PCRE, RE2 and Rust, but not
/// Python, so not pySigma) is written as the character itself.
fn portable_regex(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(hex) = after.strip_prefix("x{")
            && let Some(end) = hex.find('}')
            && let Ok(code) = u32::from_str_radix(&hex[..end], 16)
            && let Some(c) = char::from_u32(code)
            && code >= 0x80
            && !c.is_control()
        {
            out.push(c);
            rest = &hex[end + 1..];
            continue;
        }
        // Any other escape is copied whole, so `\\x{..}` stays as it is.
        let mut chars = after.chars();
        out.push('\\');
        if let Some(next) = chars.next() {
            out.push(next);
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
    out
}

/// The scalar values of an item: the value itself or the items of its list.
fn scalars(value: &Node) -> Vec<&Node> {
    match &value.kind {
        NodeKind::Seq(items) => items.iter().filter(|n| n.as_scalar().is_some()).collect(),
        NodeKind::Scalar(_) => vec![value],
        NodeKind::Map(_) => Vec::new(),
    }
}

/// Modifiers under which a value is a string pattern.
const STRING_MODIFIERS: &[&str] = &[
    "contains",
    "startswith",
    "endswith",
    "windash",
    "base64",
    "base64offset",
    "wide",
    "utf16be",
    "utf16",
    "re",
];

/// Rewrite the scalars of a value (a scalar or a list of them).
fn map_scalars(value: &Node, f: &mut dyn FnMut(&Node) -> Out) -> Out {
    match &value.kind {
        NodeKind::Scalar(_) => f(value),
        NodeKind::Seq(items) => Out::Seq(items.iter().map(|n| map_scalars(n, f)).collect()),
        NodeKind::Map(_) => Out::from_node(value),
    }
}

/// Rewrite the string scalars of a value (a scalar or a list of them).
fn map_strings(value: &Node, f: &mut dyn FnMut(&str) -> Out) -> Out {
    match &value.kind {
        NodeKind::Scalar(_) => match value.as_string() {
            Some(s) => f(s),
            None => Out::from_node(value),
        },
        NodeKind::Seq(items) => Out::Seq(items.iter().map(|n| map_strings(n, f)).collect()),
        NodeKind::Map(_) => Out::from_node(value),
    }
}

/// `%name%` replaced by each value of `lists/name.txt`, as lowering does.
fn resolve(lists: &Lists, text: &str) -> Result<Vec<String>, String> {
    crate::logic::lower::resolve_placeholders(text, lists)
}

/// The regular expression `--lossy` writes for `nhs_number: N`: N numbers
/// of the 10-digit or 3-3-4 shape, each not inside a longer digit run.
pub fn nhs_number_regex(min: u32) -> String {
    let number = "(?:[0-9]{10}|[0-9]{3} [0-9]{3} [0-9]{4}|[0-9]{3}-[0-9]{3}-[0-9]{4})";
    let mut out = format!("(?:^|[^0-9]){number}");
    for _ in 1..min.max(1) {
        out.push_str(&format!("(?:[^0-9]|[^0-9][\\s\\S]*[^0-9]){number}"));
    }
    out.push_str("(?:[^0-9]|$)");
    out
}

fn nhs_number(
    ctx: &mut Ctx<'_>,
    ident: &str,
    key: &str,
    field: &str,
    value: &Node,
) -> Result<OutEntry, CompileError> {
    let construct = format!("`{key}` in `{ident}`");
    if !ctx.options.lossy {
        return Err(ctx.inexpressible(format!(
            "{construct}: `nhs_number` (Modulus 11 check digit, repdigits excluded, distinct numbers counted) \
             is a stetho extension that standard Sigma cannot express; \
             --lossy exports a regular expression of the number's shapes instead"
        )));
    }
    let min = scalars(value)
        .iter()
        .filter_map(|n| match n.as_scalar().map(|s| s.typed()) {
            Some(Typed::Bool(true)) => Some(1),
            Some(Typed::Int(n)) if n >= 1 => Some(u32::try_from(n).unwrap_or(u32::MAX)),
            _ => None,
        })
        .min()
        .ok_or_else(|| ctx.error(format!("{construct}: `nhs_number` takes true or a count")))?;
    let count = if min == 1 {
        "an NHS number".to_string()
    } else {
        format!("{min} NHS numbers")
    };
    let note = format!(
        "stetho --lossy: `{key}` ({count}: Modulus 11 check digit, repdigits excluded, distinct) \
         approximated by a regex of 10-digit and 3-3-4 shapes, without the check digit or distinctness; \
         matches more than the source rule"
    );
    ctx.warn(&format!(
        "{construct} exported with --lossy as a regular expression of NHS number shapes \
         (no check digit, no distinct count): it matches more than the source rule"
    ));
    Ok(OutEntry {
        comments: vec![note],
        key: format!("{field}|re"),
        value: OutScalar::quoted(nhs_number_regex(min)),
    })
}

/// `rules:` of a filter: `any` (or an empty list) becomes the rules of this
/// export it applies to, which the filter schema requires as a list.
fn filter_rules(
    ctx: &mut Ctx<'_>,
    value: &Node,
    comments: &mut Vec<String>,
) -> Result<Out, CompileError> {
    let any = value.as_str() == Some("any") || value.as_seq().is_some_and(<[Node]>::is_empty);
    if !any {
        return Ok(Out::from_node(value));
    }
    let doc = ctx.doc;
    let applied = ctx
        .unit
        .filtered
        .iter()
        .filter(|(f, _)| std::ptr::eq(*f, doc))
        .flat_map(|(_, applied)| applied.iter().copied())
        .collect::<Vec<_>>();
    let mut references = Vec::new();
    for rule in applied {
        let reference = rule
            .id
            .as_ref()
            .or(rule.name.as_ref())
            .ok_or_else(|| {
                ctx.error(format!(
                    "`rules: any` applies to `{}`, which has neither an id nor a name to list in standard Sigma",
                    rule.label()
                ))
            })?;
        references.push(OutScalar::string(reference.text.clone()));
    }
    comments.push("stetho: `rules: any`, listed as the rules of this export it applies to".into());
    Ok(Out::Seq(references))
}

/// The `condition:` of a detection or filter block: one string, in the
/// grammar the specification and pySigma share.
fn condition_value(ctx: &mut Ctx<'_>, value: &Node, rename: Option<&Rename<'_>>) -> Out {
    let texts: Vec<&Node> = match &value.kind {
        NodeKind::Scalar(_) => vec![value],
        NodeKind::Seq(items) => items.iter().filter(|n| n.as_scalar().is_some()).collect(),
        NodeKind::Map(_) => return Out::from_node(value),
    };
    let rendered: Vec<(String, bool)> = texts
        .iter()
        .map(|n| {
            let text = n.as_str().unwrap_or("");
            if (rename.is_some() || uses_any_of(text))
                && let Ok(parsed) = condition::parse(text)
            {
                (render_condition(&parsed, 0, rename), true)
            } else {
                (text.to_string(), false)
            }
        })
        .collect();
    if rendered.len() == 1 && !rendered[0].1 {
        return Out::from_node(texts[0]);
    }
    if rendered.len() > 1 {
        ctx.warn("a list of conditions is exported as one condition joined with `or`");
    }
    let joined = if rendered.len() == 1 {
        rendered[0].0.clone()
    } else {
        rendered
            .iter()
            .map(|(t, _)| format!("({t})"))
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let style = texts
        .first()
        .and_then(|n| n.as_scalar())
        .map_or(Style::Plain, |s| s.style);
    Out::Scalar(OutScalar::Str {
        text: joined,
        style: if style == Style::Folded {
            Style::Folded
        } else {
            Style::Plain
        },
    })
}

/// Whether a condition uses pySigma's `any of` (the specification's `1 of`).
fn uses_any_of(text: &str) -> bool {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    words.windows(2).any(|w| w[0] == "any" && w[1] == "of")
}

/// A parsed condition written back, `1 of` for any quantifier.
fn render_condition(expr: &condition::Expr, parent: u8, rename: Option<&Rename<'_>>) -> String {
    use condition::Expr as C;
    let name = |n: &str| match rename {
        Some(r) => r.ident(n),
        None => (n.to_string(), 4),
    };
    // An operand of a quantifier written out, in parentheses below `within`.
    let operand = |n: &str, within: u8| {
        let (text, precedence) = name(n);
        if precedence < within {
            format!("({text})")
        } else {
            text
        }
    };
    let join = |items: Vec<String>, op: &str, precedence: u8| (items.join(op), precedence);
    let (text, precedence) = match expr {
        C::Or(items) => join(
            items
                .iter()
                .map(|e| render_condition(e, 1, rename))
                .collect(),
            " or ",
            1,
        ),
        C::And(items) => join(
            items
                .iter()
                .map(|e| render_condition(e, 2, rename))
                .collect(),
            " and ",
            2,
        ),
        C::Not(inner) => (format!("not {}", render_condition(inner, 3, rename)), 3),
        C::Ident { name: n, .. } => name(n),
        C::Of {
            quantifier, target, ..
        } => match rename {
            Some(r) => {
                let selected = condition::select(target, r.names.iter().copied());
                match (selected.as_slice(), quantifier) {
                    ([one], _) => name(one),
                    (_, Quantifier::Any) => {
                        join(selected.iter().map(|n| operand(n, 1)).collect(), " or ", 1)
                    }
                    (_, Quantifier::All) => {
                        join(selected.iter().map(|n| operand(n, 2)).collect(), " and ", 2)
                    }
                }
            }
            None => {
                let q = match quantifier {
                    Quantifier::Any => "1",
                    Quantifier::All => "all",
                };
                let t = match target {
                    Target::Them => "them".to_string(),
                    Target::Pattern(p) => p.clone(),
                };
                (format!("{q} of {t}"), 4)
            }
        },
    };
    if precedence < parent {
        format!("({text})")
    } else {
        text
    }
}

/// The `correlation:` block: field names translated, pySigma-only forms
/// refused or (`--lossy`) replaced.
fn correlation(ctx: &mut Ctx<'_>, block: &Node) -> Result<Out, CompileError> {
    let Some(entries) = block.as_map() else {
        return Ok(Out::from_node(block));
    };
    let aliases: BTreeSet<&str> = block
        .get("aliases")
        .and_then(Node::as_map)
        .map(|m| m.iter().map(|e| e.key_str()).collect())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(entries.len());
    let mut median = false;
    for entry in entries {
        let key = entry.key_str();
        let value = &entry.value;
        let mut comments = Vec::new();
        let rewritten = match key {
            "type" if value.as_str() == Some("value_median") => {
                if !ctx.options.lossy {
                    return Err(ctx.inexpressible(
                        "correlation type `value_median` is a pySigma extension, not Sigma v2.1; \
                         --lossy exports it as `value_percentile` with `percentile: 50`",
                    ));
                }
                median = true;
                comments.push(
                    "stetho --lossy: `value_median` written as `value_percentile` with `percentile: 50`"
                        .into(),
                );
                ctx.warn("correlation type `value_median` exported with --lossy as `value_percentile` 50");
                OutScalar::string("value_percentile")
            }
            "group-by" => map_strings(value, &mut |f| {
                if aliases.contains(f) {
                    OutScalar::string(f)
                } else {
                    OutScalar::string(ctx.field(f))
                }
            }),
            "aliases" => aliases_block(ctx, value),
            "condition" => match &value.kind {
                NodeKind::Map(items) => {
                    let mut cond = Vec::with_capacity(items.len() + 1);
                    let mut bounds = 0;
                    for e in items {
                        let v = match e.key_str() {
                            "field" => {
                                map_strings(&e.value, &mut |f| OutScalar::string(ctx.field(f)))
                            }
                            "gt" | "gte" | "lt" | "lte" | "eq" | "neq" => {
                                bounds += 1;
                                Out::from_node(&e.value)
                            }
                            _ => Out::from_node(&e.value),
                        };
                        cond.push(OutEntry::new(e.key_str(), v));
                    }
                    if bounds > 1 {
                        ctx.warn(
                            "a correlation range condition (two bounds) is Sigma v2.1, but pySigma 1.x refuses it",
                        );
                    }
                    if median && !cond.iter().any(|e| e.key == "percentile") {
                        cond.push(OutEntry::new(
                            "percentile",
                            Out::Scalar(OutScalar::Raw("50".into())),
                        ));
                    }
                    Out::Map(cond)
                }
                _ => {
                    if !ctx.options.lossy {
                        return Err(ctx.inexpressible(
                            "a correlation condition that is not a map of bounds is not Sigma v2.1 \
                             (stetho ignores it and uses the default); --lossy leaves it out",
                        ));
                    }
                    ctx.warn("a correlation condition that is not a map was left out (--lossy)");
                    continue;
                }
            },
            _ => Out::from_node(value),
        };
        out.push(OutEntry {
            comments,
            key: key.to_string(),
            value: rewritten,
        });
    }
    Ok(Out::Map(out))
}

/// `aliases: {alias: {rule: field}}`, each field in its rule's names.
fn aliases_block(ctx: &mut Ctx<'_>, value: &Node) -> Out {
    let Some(aliases) = value.as_map() else {
        return Out::from_node(value);
    };
    let mut out = Vec::with_capacity(aliases.len());
    for alias in aliases {
        let Some(per_rule) = alias.value.as_map() else {
            out.push(OutEntry::new(alias.key_str(), Out::from_node(&alias.value)));
            continue;
        };
        let mut fields_out = Vec::with_capacity(per_rule.len());
        for e in per_rule {
            let rule = ctx.unit.by_reference(e.key_str());
            let field = match e.value.as_string() {
                Some(f) if ctx.translate => {
                    let saved = std::mem::take(&mut ctx.sources);
                    ctx.sources = rule
                        .and_then(|r| fields::source_for(&ctx.lowered.pipelines, &r.logsource))
                        .into_iter()
                        .collect();
                    let name = ctx.field(f);
                    ctx.sources = saved;
                    OutScalar::string(name)
                }
                _ => Out::from_node(&e.value),
            };
            fields_out.push(OutEntry::new(e.key_str(), field));
        }
        out.push(OutEntry::new(alias.key_str(), Out::Map(fields_out)));
    }
    Out::Map(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_of_is_written_as_one_of() {
        let parsed = condition::parse("any of sel* and not (f1 or f2)").expect("parses");
        assert_eq!(
            render_condition(&parsed, 0, None),
            "1 of sel* and not (f1 or f2)"
        );
        let parsed = condition::parse("(a or b) and not all of them").expect("parses");
        assert_eq!(
            render_condition(&parsed, 0, None),
            "(a or b) and not all of them"
        );
        let names = ["f1", "f2", "g"];
        let rename = Rename {
            from: Some("f1"),
            split: BTreeMap::new(),
            names: &names,
        };
        let parsed = condition::parse("not 1 of f* and all of them").expect("parses");
        assert_eq!(
            render_condition(&parsed, 0, Some(&rename)),
            "not (selection or f2) and selection and f2 and g"
        );
        // A split identifier is its parts joined with `and`, in parentheses
        // where a tighter operator surrounds it.
        let split = Rename {
            from: None,
            split: BTreeMap::from([("f1", vec!["f1_2".to_string()])]),
            names: &names,
        };
        let parsed = condition::parse("not f1 or 1 of f* or (all of f* and g)").expect("parses");
        assert_eq!(
            render_condition(&parsed, 0, Some(&split)),
            "not (f1 and f1_2) or f1 and f1_2 or f2 or f1 and f1_2 and f2 and g"
        );
        assert!(uses_any_of("any of sel_*"));
        assert!(!uses_any_of("sel_any and of_x"));
    }

    #[test]
    fn tags_follow_the_schema_pattern() {
        assert!(valid_tag("health.impact.severe"));
        assert!(valid_tag("caf.c1.c"));
        assert!(valid_tag("attack.t1003.001"));
        assert!(!valid_tag("health.Impact"));
        assert!(!valid_tag("health"));
        assert!(!valid_tag("health.a b"));
    }

    #[test]
    fn the_lossy_nhs_number_regex_matches_the_shapes() {
        let one = regex::Regex::new(&nhs_number_regex(1)).expect("compiles");
        assert!(one.is_match("x 9434765919 y"));
        assert!(one.is_match("943 476 5919"));
        assert!(one.is_match("id=943-476-5919;"));
        assert!(!one.is_match("19434765919"));
        assert!(!one.is_match("94347659"));
        let three = regex::Regex::new(&nhs_number_regex(3)).expect("compiles");
        assert!(three.is_match("9434765919 943 476 5919,4010232137"));
        assert!(!three.is_match("9434765919 4010232137"));
    }

    #[test]
    fn regexes_lose_escapes_python_cannot_read() {
        assert_eq!(
            portable_regex(r"[-/\x{2013}\x{2014}]h?p\x{41}\\x{2013}"),
            "[-/\u{2013}\u{2014}]h?p\\x{41}\\\\x{2013}"
        );
        assert_eq!(portable_regex(r"a\"), r"a\");
    }

    #[test]
    fn placeholders_resolve_as_lowering_does() {
        let lists = Lists::from_pairs(&[("hosts", &["a", "b"]), ("dirs", &["C:\\x"])]);
        assert_eq!(
            resolve(&lists, "%dirs%/%hosts%*").expect("resolves"),
            vec!["C:\\x/a*", "C:\\x/b*"]
        );
        assert_eq!(resolve(&lists, "100\\%").expect("resolves"), vec!["100%"]);
        assert!(resolve(&lists, "%missing%").is_err());
    }
}
