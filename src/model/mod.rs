//! The rule model: a Sigma document read into typed parts that keep their
//! positions.
//!
//! The model is deliberately lenient: it takes what it can from a document
//! and leaves shape errors to the JSON Schema stage, which reports them with
//! better messages. Checks then work on the typed parts.

pub mod condition;
pub mod modifier;
pub mod order;

use std::sync::Arc;

use crate::source::yaml::{Node, NodeKind, Scalar};
use crate::source::{SourceFile, Span};

pub use modifier::Modifier;

/// Which of the three Sigma document types a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    Detection,
    Correlation,
    Filter,
}

impl RuleKind {
    /// Decide from the document's top-level keys.
    pub fn of(doc: &Node) -> Option<RuleKind> {
        if doc.get("correlation").is_some() {
            Some(RuleKind::Correlation)
        } else if doc.get("filter").is_some() && doc.get("detection").is_none() {
            Some(RuleKind::Filter)
        } else if doc.get("detection").is_some() {
            Some(RuleKind::Detection)
        } else {
            None
        }
    }
}

/// A string attribute and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub text: String,
    pub span: Span,
}

impl Located {
    fn from_node(node: &Node) -> Option<Located> {
        node.as_str().map(|t| Located {
            text: t.to_string(),
            span: node.span,
        })
    }
}

/// The `logsource` of a rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogSource {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
}

impl LogSource {
    pub fn from_node(node: Option<&Node>) -> LogSource {
        let get = |k: &str| {
            node.and_then(|n| n.get(k))
                .and_then(Node::as_str)
                .map(str::to_string)
        };
        LogSource {
            product: get("product"),
            category: get("category"),
            service: get("service"),
        }
    }

    /// Whether `self` (a pipeline source, a field catalogue, a filter) applies
    /// to a rule's log source: every key `self` sets equals the rule's.
    pub fn covers(&self, rule: &LogSource) -> bool {
        let same = |mine: &Option<String>, theirs: &Option<String>| {
            mine.as_ref()
                .is_none_or(|m| theirs.as_deref() == Some(m.as_str()))
        };
        same(&self.product, &rule.product)
            && same(&self.category, &rule.category)
            && same(&self.service, &rule.service)
    }

    /// How many keys are set: among several covering log sources the most
    /// specific wins.
    pub fn specificity(&self) -> usize {
        [&self.product, &self.category, &self.service]
            .iter()
            .filter(|p| p.is_some())
            .count()
    }

    /// `product/category/service` with missing parts left out.
    pub fn describe(&self) -> String {
        [&self.product, &self.category, &self.service]
            .iter()
            .filter_map(|p| p.as_deref())
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// One modifier as written after `|`, known or not.
#[derive(Clone, Debug)]
pub struct ModifierUse {
    pub name: String,
    pub modifier: Option<Modifier>,
    pub span: Span,
}

/// One value of a detection item, with its position.
#[derive(Clone, Debug)]
pub struct Value {
    pub scalar: Scalar,
    pub span: Span,
}

/// `field|mod|mod: value-or-list` (or a keyword list entry, with no field).
#[derive(Clone, Debug)]
pub struct Item {
    pub field: Option<String>,
    /// Span of the whole key (`Image|endswith`), or of the value for keywords.
    pub key_span: Span,
    /// Span of the field name inside the key.
    pub field_span: Span,
    pub modifiers: Vec<ModifierUse>,
    pub values: Vec<Value>,
    /// Span of the value node (a scalar or the whole list).
    pub value_span: Span,
    /// The value was written as a list.
    pub is_list: bool,
    /// A value in the list was not a scalar (schema reports it).
    pub has_nested: bool,
}

impl Item {
    pub fn has(&self, m: Modifier) -> bool {
        self.modifiers.iter().any(|u| u.modifier == Some(m))
    }
}

/// The body of a search identifier.
#[derive(Clone, Debug)]
pub enum Search {
    /// A map: every item must match (AND).
    AllOf(Vec<Item>),
    /// A list of maps: any map must match (OR).
    AnyOf(Vec<Vec<Item>>),
    /// A list of plain values searched across the whole event (OR).
    Keywords(Vec<Item>),
}

impl Search {
    /// Every item, in file order.
    pub fn items(&self) -> Vec<&Item> {
        match self {
            Search::AllOf(items) | Search::Keywords(items) => items.iter().collect(),
            Search::AnyOf(groups) => groups.iter().flatten().collect(),
        }
    }
}

/// A named search identifier in `detection` (or `filter`).
#[derive(Clone, Debug)]
pub struct SearchIdentifier {
    pub name: String,
    pub span: Span,
    pub search: Search,
}

/// A condition string and where it is.
#[derive(Clone, Debug)]
pub struct ConditionText {
    pub text: String,
    pub node_span: Span,
}

/// The `detection` block of a rule (or the `filter` block of a filter).
#[derive(Clone, Debug, Default)]
pub struct Detection {
    pub identifiers: Vec<SearchIdentifier>,
    pub conditions: Vec<ConditionText>,
    /// The span of the `condition` key, for "missing"/"unused" reports.
    pub condition_key: Option<Span>,
}

impl Detection {
    fn from_node(node: &Node, skip: &[&str]) -> Detection {
        let mut detection = Detection::default();
        let Some(entries) = node.as_map() else {
            return detection;
        };
        for entry in entries {
            let key = entry.key_str();
            if key == "condition" {
                detection.condition_key = Some(entry.key.span);
                match &entry.value.kind {
                    NodeKind::Scalar(s) => detection.conditions.push(ConditionText {
                        text: s.text.clone(),
                        node_span: entry.value.span,
                    }),
                    NodeKind::Seq(items) => {
                        for item in items {
                            if let Some(s) = item.as_scalar() {
                                detection.conditions.push(ConditionText {
                                    text: s.text.clone(),
                                    node_span: item.span,
                                });
                            }
                        }
                    }
                    NodeKind::Map(_) => {}
                }
                continue;
            }
            if skip.contains(&key) {
                continue;
            }
            if let Some(search) = read_search(&entry.value) {
                detection.identifiers.push(SearchIdentifier {
                    name: key.to_string(),
                    span: entry.key.span,
                    search,
                });
            }
        }
        detection
    }

    pub fn identifier(&self, name: &str) -> Option<&SearchIdentifier> {
        self.identifiers.iter().find(|i| i.name == name)
    }
}

fn read_search(node: &Node) -> Option<Search> {
    match &node.kind {
        NodeKind::Map(entries) => Some(Search::AllOf(
            entries
                .iter()
                .map(|e| read_item(&e.key, &e.value))
                .collect(),
        )),
        NodeKind::Seq(items) => {
            if items.iter().all(|n| n.as_map().is_some()) && !items.is_empty() {
                Some(Search::AnyOf(
                    items
                        .iter()
                        .filter_map(Node::as_map)
                        .map(|entries| {
                            entries
                                .iter()
                                .map(|e| read_item(&e.key, &e.value))
                                .collect()
                        })
                        .collect(),
                ))
            } else {
                Some(Search::Keywords(
                    items
                        .iter()
                        .filter_map(|n| {
                            n.as_scalar().map(|s| Item {
                                field: None,
                                key_span: n.span,
                                field_span: n.span,
                                modifiers: Vec::new(),
                                values: vec![Value {
                                    scalar: s.clone(),
                                    span: n.span,
                                }],
                                value_span: n.span,
                                is_list: false,
                                has_nested: false,
                            })
                        })
                        .collect(),
                ))
            }
        }
        NodeKind::Scalar(_) => None,
    }
}

/// Split `Field|mod1|mod2` into the field and its modifiers, with spans.
fn read_item(key: &Node, value: &Node) -> Item {
    let text = key.as_str().unwrap_or("");
    // The key's span covers its quotes when quoted; find the text inside.
    let base = key.span.start + usize::from(key.as_scalar().is_some_and(|s| s.style.is_quoted()));
    let mut parts = text.split('|');
    let field_text = parts.next().unwrap_or("");
    let mut offset = field_text.len() + 1;
    let modifiers = parts
        .map(|name| {
            let span = Span::new(base + offset, base + offset + name.len());
            offset += name.len() + 1;
            ModifierUse {
                name: name.to_string(),
                modifier: Modifier::parse(name),
                span,
            }
        })
        .collect();
    let (values, is_list, has_nested) = match &value.kind {
        NodeKind::Scalar(s) => (
            vec![Value {
                scalar: s.clone(),
                span: value.span,
            }],
            false,
            false,
        ),
        NodeKind::Seq(items) => {
            // Sized for every item (all scalars, but in a malformed rule):
            // collected through a filter, the list grew by doubling.
            let mut values: Vec<Value> = Vec::with_capacity(items.len());
            values.extend(items.iter().filter_map(|n| {
                n.as_scalar().map(|s| Value {
                    scalar: s.clone(),
                    span: n.span,
                })
            }));
            let nested = values.len() != items.len();
            (values, true, nested)
        }
        NodeKind::Map(_) => (Vec::new(), false, true),
    };
    Item {
        field: (!field_text.is_empty()).then(|| field_text.to_string()),
        key_span: key.span,
        field_span: Span::new(base, base + field_text.len()),
        modifiers,
        values,
        value_span: value.span,
        is_list,
        has_nested,
    }
}

/// The `correlation` block of a correlation rule.
#[derive(Clone, Debug, Default)]
pub struct Correlation {
    pub kind: Option<Located>,
    pub rules: Vec<Located>,
    pub group_by: Vec<Located>,
    pub timespan: Option<Located>,
    pub generate: bool,
    pub span: Span,
}

/// The `filter` block of a filter rule.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub rules: Vec<Located>,
    pub applies_to_any: bool,
}

/// One Sigma document with its typed parts.
#[derive(Clone, Debug)]
pub struct Rule {
    pub file: Arc<SourceFile>,
    /// 0-based index of the document in its file.
    pub document: usize,
    pub root: Node,
    pub kind: RuleKind,
    pub title: Option<Located>,
    pub id: Option<Located>,
    pub name: Option<Located>,
    pub taxonomy: Option<String>,
    pub level: Option<String>,
    pub logsource: LogSource,
    pub tags: Vec<Located>,
    pub detection: Option<Detection>,
    pub correlation: Option<Correlation>,
    pub filter: Option<Filter>,
}

impl Rule {
    /// Read a document; `None` if it is no Sigma rule at all.
    pub fn from_document(file: &Arc<SourceFile>, document: usize, root: Node) -> Option<Rule> {
        let kind = RuleKind::of(&root)?;
        let located = |key: &str| root.get(key).and_then(Located::from_node);
        let tags = root
            .get("tags")
            .map(|n| {
                n.string_list()
                    .into_iter()
                    .map(|(t, span)| Located {
                        text: t.to_string(),
                        span,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let detection = match kind {
            RuleKind::Detection => root
                .get("detection")
                .map(|d| Detection::from_node(d, &["timeframe"])),
            RuleKind::Filter => root
                .get("filter")
                .map(|d| Detection::from_node(d, &["rules"])),
            RuleKind::Correlation => None,
        };
        let correlation = root.get("correlation").map(|c| Correlation {
            kind: c.get("type").and_then(Located::from_node),
            rules: located_list(c.get("rules")),
            group_by: located_list(c.get("group-by")),
            timespan: c.get("timespan").and_then(Located::from_node),
            generate: c
                .get("generate")
                .or_else(|| root.get("generate"))
                .and_then(Node::as_str)
                == Some("true"),
            span: c.span,
        });
        let filter = (kind == RuleKind::Filter).then(|| {
            let rules = root.get_path(&["filter", "rules"]);
            Filter {
                applies_to_any: rules.and_then(Node::as_str) == Some("any"),
                rules: located_list(rules.filter(|n| n.as_seq().is_some())),
            }
        });
        Some(Rule {
            file: Arc::clone(file),
            document,
            kind,
            title: located("title"),
            id: located("id"),
            name: located("name"),
            taxonomy: root
                .get("taxonomy")
                .and_then(Node::as_str)
                .map(str::to_string),
            level: root.get("level").and_then(Node::as_str).map(str::to_string),
            logsource: LogSource::from_node(root.get("logsource")),
            tags,
            detection,
            correlation,
            filter,
            root,
        })
    }

    /// The rule's `healthcare:` block, if it has one.
    pub fn healthcare(&self) -> Option<&Node> {
        self.root.get("healthcare")
    }

    /// A short name for messages: the title, else the id, else the file.
    pub fn label(&self) -> String {
        self.title
            .as_ref()
            .or(self.id.as_ref())
            .map_or_else(|| self.file.display.clone(), |l| l.text.clone())
    }

    /// Drop a detection rule's YAML document but for its `title` entry,
    /// where [`Rule::anchor_span`] points. Lowering a detection and
    /// compiling it to a query read the model's fields, never the document
    /// (a correlation's and a filter's are read by lowering, and are kept).
    pub fn shed_document(&mut self) {
        if self.kind != RuleKind::Detection {
            return;
        }
        if let NodeKind::Map(entries) = &mut self.root.kind {
            entries.retain(|e| e.key_str() == "title");
            entries.shrink_to_fit();
        }
    }

    /// Span to point at when a problem concerns the whole rule.
    pub fn anchor_span(&self) -> Span {
        self.root
            .entry("title")
            .map_or(Span::new(self.root.span.start, self.root.span.start), |e| {
                e.key.span
            })
    }
}

fn located_list(node: Option<&Node>) -> Vec<Located> {
    node.map(|n| {
        n.string_list()
            .into_iter()
            .map(|(t, span)| Located {
                text: t.to_string(),
                span,
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Map a byte range inside a scalar's text to a span in the file.
///
/// Exact for single-line plain and quoted scalars (the common case); for
/// escaped or folded scalars, where text and source differ, falls back to
/// the whole scalar.
pub fn span_in_scalar(
    file: &SourceFile,
    node_span: Span,
    text: &str,
    range: std::ops::Range<usize>,
) -> Span {
    let source = file.slice(node_span);
    if let Some(at) = source.find(text)
        && !text.is_empty()
    {
        let start = node_span.start + at + range.start.min(text.len());
        let end = node_span.start + at + range.end.min(text.len());
        return Span::new(start, end.max(start));
    }
    node_span
}
