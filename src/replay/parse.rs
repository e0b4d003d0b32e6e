//! Parsing replayed events: only the top-level keys something reads.
//!
//! Parsing is most of what replay costs, so a line is never turned into a
//! whole JSON value. Keys no rule, correlation or timestamp reads are
//! skipped without building anything. Fields the rule set scans for every
//! event are handed to its scan as the parser meets them, straight from the
//! line's text; a field the scan decides completely (every predicate on it
//! is a case-insensitive literal) is not even kept in the parsed event.

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::eval::{PrescanValue, RuleSet, Scratch};
use crate::events;
use crate::fixture;
use crate::logic::{Body, Expr, RuleLogic, Test};
use crate::pipeline::Source;

/// What parsing does with one top-level key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyUse {
    /// Keep the value in the parsed event.
    pub keep: bool,
    /// Scan the value with the rule set as it is read: the position of the
    /// field's automaton (see [`RuleSet::prescan_position`]).
    pub scan: Option<u16>,
}

/// The top-level keys replay parses. Every key of every event is looked up
/// here, so the hash is a fast one (foldhash) rather than the standard
/// library's DoS-resistant SipHash: the keys are the rules' own field
/// names, and an event can only choose which lookups happen, not make them
/// collide.
pub type WantedKeys = foldhash::HashMap<String, KeyUse>;

/// The keys to parse for one prepared rule set.
pub struct Keys {
    /// Every key something reads, all kept, none scanned while parsing.
    pub plain: WantedKeys,
    /// The same keys with the rule set's scan fields scanned while parsing
    /// (and dropped when nothing else reads them).
    pub scanning: WantedKeys,
}

impl Keys {
    /// `None` means "everything" (keyword searches read every value).
    pub fn new(
        set: &RuleSet,
        rules: &[RuleLogic],
        exprs: &[Option<Expr>],
        canonical: &[Source],
        timestamp_fields: &[String],
    ) -> Option<Keys> {
        let everything = paths(rules, exprs, canonical, timestamp_fields, &|_| true)?;
        let after_scan = paths(rules, exprs, canonical, timestamp_fields, &|field| {
            set.reads_value(field)
        })?;
        let plain = everything
            .iter()
            .map(|key| {
                (
                    key.clone(),
                    KeyUse {
                        keep: true,
                        scan: None,
                    },
                )
            })
            .collect();
        let scanning: WantedKeys = everything
            .iter()
            .map(|key| {
                let scan = set.prescan_position(key);
                let keep = scan.is_none() || after_scan.contains(key);
                (key.clone(), KeyUse { keep, scan })
            })
            .collect();
        Some(Keys { plain, scanning })
    }
}

/// The top-level keys an event must keep for `exprs`, correlations and
/// timestamps to see everything they read, counting a predicate's field
/// only when `reads` says evaluation reads it. `None` means "everything".
fn paths(
    rules: &[RuleLogic],
    exprs: &[Option<Expr>],
    canonical: &[Source],
    timestamp_fields: &[String],
    reads: &dyn Fn(&str) -> bool,
) -> Option<foldhash::HashSet<String>> {
    let mut paths: Vec<String> = timestamp_fields.to_vec();
    for expr in exprs.iter().flatten() {
        for pred in expr.preds() {
            let field = pred.field.clone()?;
            if reads(&field) {
                paths.push(field);
            }
            if let Test::FieldRef { other, .. } = &pred.test {
                paths.push(other.clone());
            }
        }
    }
    for rule in rules {
        if let Body::Correlation(c) = &rule.body {
            paths.extend(c.group_by.iter().cloned());
            paths.extend(c.field.iter().cloned());
            paths.extend(c.aliases.values().flat_map(|m| m.values().cloned()));
        }
    }
    for source in canonical {
        paths.extend(source.columns.values().cloned());
        for (_, computed) in source.computed() {
            paths.extend(computed.inputs().into_iter().map(str::to_string));
        }
    }
    // Generator lines keep their spec and event.
    paths.push(fixture::GENERATOR_KEY.to_string());
    paths.push("event".to_string());
    // A dotted path may be one flat key or a walk from any of its prefixes.
    let mut keys = foldhash::HashSet::default();
    for path in paths {
        for (i, _) in path.match_indices('.') {
            keys.insert(path[..i].to_string());
        }
        keys.insert(path);
    }
    Some(keys)
}

/// Parse one event, keeping only the wanted top-level keys (all of them
/// with `None`).
pub fn parse_event(text: &[u8], wanted: Option<&WantedKeys>) -> Result<Value, String> {
    match wanted {
        None => serde_json::from_slice(text).map_err(|e| events::json_error(&e)),
        Some(wanted) => parse_filtered(text, wanted, None).map(|(value, _)| value),
    }
}

/// Parse one event with `keys.scanning`, scanning fields into `scratch` as
/// they are read; [`RuleSet::matching`] then goes on from there. Falls back
/// to a plain parse (and a clean `scratch`) when the event gives a scanned
/// key twice, since the parsed event keeps only the last value. Returns
/// whether the scan ran.
pub fn parse_scanning(
    text: &[u8],
    keys: &Keys,
    set: &RuleSet,
    scratch: &mut Scratch,
) -> (Result<Value, String>, bool) {
    set.begin_prescan(scratch);
    match parse_filtered(text, &keys.scanning, Some((set, &mut *scratch))) {
        Ok((value, true)) => (Ok(value), true),
        Ok((_, false)) => {
            set.reset(scratch);
            (parse_event(text, Some(&keys.plain)), false)
        }
        Err(message) => {
            set.reset(scratch);
            (Err(message), false)
        }
    }
}

/// Parse with a key filter; the flag is `false` when a scanned key came
/// twice.
fn parse_filtered(
    text: &[u8],
    wanted: &WantedKeys,
    scan: Option<(&RuleSet, &mut Scratch)>,
) -> Result<(Value, bool), String> {
    let mut once = true;
    let filtered = Filtered {
        wanted,
        scan,
        once: &mut once,
    };
    // One UTF-8 check of the whole line is cheaper than serde_json's check
    // of each string in it (a few dozen per event); a line that is not
    // UTF-8 takes the byte path, which reports where.
    let value = match std::str::from_utf8(text) {
        Ok(text) => finish(serde_json::Deserializer::from_str(text), filtered),
        Err(_) => finish(serde_json::Deserializer::from_slice(text), filtered),
    }?;
    Ok((value, once))
}

fn finish<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    filtered: Filtered<'_, '_>,
) -> Result<Value, String> {
    let value = filtered
        .deserialize(&mut de)
        .map_err(|e| events::json_error(&e))?;
    de.end().map_err(|e| events::json_error(&e))?;
    Ok(value)
}

/// Deserializes an event object, skipping values of keys nobody reads and
/// scanning the values of scanned keys.
struct Filtered<'a, 'b> {
    wanted: &'a WantedKeys,
    scan: Option<(&'a RuleSet, &'b mut Scratch)>,
    /// Cleared when a scanned key comes a second time.
    once: &'b mut bool,
}

impl<'de> DeserializeSeed<'de> for Filtered<'_, '_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Filtered<'_, '_> {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an event object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key_seed(KeyFilter(self.wanted))? {
            let Some((key, KeyUse { scan, .. })) = key else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let scanner = match (scan, &mut self.scan) {
                (Some(position), Some((set, scratch))) if *self.once => {
                    Some((position, *set, &mut **scratch))
                }
                _ => None,
            };
            match (key, scanner) {
                (Some(key), None) => {
                    out.insert(key, map.next_value()?);
                }
                (Some(key), Some((position, set, scratch))) => {
                    let value: Value = map.next_value()?;
                    *self.once &= set.prescan(position, PrescanValue::Json(&value), scratch);
                    out.insert(key, value);
                }
                (None, Some((position, set, scratch))) => {
                    *self.once &= map.next_value_seed(Scan {
                        set,
                        position,
                        scratch,
                    })?;
                }
                // A scan-only key after a repeated key: the event is parsed
                // again without scanning, which keeps it.
                (None, None) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// A key: `None` when nobody reads it; otherwise its use, with the key
/// owned only when the value is kept.
struct KeyFilter<'a>(&'a WantedKeys);

impl<'de> DeserializeSeed<'de> for KeyFilter<'_> {
    type Value = Option<(Option<String>, KeyUse)>;
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyFilter<'_> {
    type Value = Option<(Option<String>, KeyUse)>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self
            .0
            .get(key)
            .map(|&used| (used.keep.then(|| key.to_string()), used)))
    }
}

/// A value only the scan reads: text is scanned where it lies in the line,
/// anything else is parsed, scanned and dropped. Yields [`RuleSet::prescan`]'s
/// answer.
struct Scan<'a> {
    set: &'a RuleSet,
    position: u16,
    scratch: &'a mut Scratch,
}

impl Scan<'_> {
    fn json(self, value: &Value) -> bool {
        self.set
            .prescan(self.position, PrescanValue::Json(value), self.scratch)
    }
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<bool, E> {
        Ok(self
            .set
            .prescan(self.position, PrescanValue::Text(text), self.scratch))
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(self.json(&Value::Bool(v)))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<bool, E> {
        Ok(self.json(&Value::from(v)))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<bool, E> {
        Ok(self.json(&Value::from(v)))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<bool, E> {
        Ok(self.json(&Value::from(v)))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<bool, E> {
        Ok(self.json(&Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
        let value =
            serde::Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        Ok(self.json(&value))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        let value =
            serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(self.json(&value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(keys: &[&str]) -> WantedKeys {
        keys.iter()
            .map(|k| {
                (
                    k.to_string(),
                    KeyUse {
                        keep: true,
                        scan: None,
                    },
                )
            })
            .collect()
    }

    fn pred(field: &str, test: Test) -> Option<Expr> {
        Some(Expr::Pred(crate::logic::Pred {
            field: Some(field.to_string()),
            test,
            list: None,
        }))
    }

    /// Rule 0 reads `Hashes` only through the scan; rule 1 reads
    /// `CommandLine` with a regex, so its value must be kept.
    fn hashes_and_command_line() -> (RuleSet, Keys, Vec<Option<Expr>>) {
        let exprs = vec![
            pred(
                "Hashes",
                Test::Str {
                    pattern: crate::logic::Pattern::Contains("imphash=abc".into()),
                    cased: false,
                },
            ),
            pred(
                "CommandLine",
                Test::Regex {
                    pattern: "a.c".into(),
                    ignore_case: false,
                    multi_line: false,
                    dot_all: false,
                },
            ),
        ];
        let set = RuleSet::new(&exprs).expect("compiles");
        let keys = Keys::new(&set, &[], &exprs, &[], &[]).expect("no keywords");
        (set, keys, exprs)
    }

    fn scanned_matches(
        set: &RuleSet,
        keys: &Keys,
        scratch: &mut Scratch,
        text: &[u8],
    ) -> Vec<usize> {
        let (parsed, _) = parse_scanning(text, keys, set, scratch);
        let mut out = Vec::new();
        set.matching(&parsed.expect("parses"), scratch, &mut out);
        out
    }

    fn plain_matches(set: &RuleSet, text: &[u8]) -> Vec<usize> {
        let value: Value = serde_json::from_slice(text).expect("parses");
        let mut out = Vec::new();
        set.matching(&value, &mut set.scratch(), &mut out);
        out
    }

    #[test]
    fn a_field_only_the_scan_reads_is_scanned_and_not_kept() {
        let (set, keys, _) = hashes_and_command_line();
        assert!(matches!(
            keys.scanning["Hashes"],
            KeyUse {
                keep: false,
                scan: Some(_)
            }
        ));
        assert!(keys.scanning["CommandLine"].keep);
        assert!(keys.plain.values().all(|k| k.keep && k.scan.is_none()));
        let mut scratch = set.scratch();
        let text = br#"{"Hashes":"SHA1=00,IMPHASH=ABC","CommandLine":"abc","Other":1}"#;
        let (parsed, scanned) = parse_scanning(text, &keys, &set, &mut scratch);
        assert!(scanned);
        assert_eq!(
            parsed.clone().expect("parses"),
            serde_json::json!({"CommandLine": "abc"})
        );
        let mut out = Vec::new();
        set.matching(&parsed.expect("parses"), &mut scratch, &mut out);
        assert_eq!(out, vec![0, 1]);
    }

    #[test]
    fn scanned_values_that_are_not_text_read_as_the_evaluator_reads_them() {
        let (set, keys, _) = hashes_and_command_line();
        let mut scratch = set.scratch();
        for text in [
            &br#"{"Hashes":["x","imphash=abc"]}"#[..],
            br#"{"Hashes":[["IMPHASH=ABC"]]}"#,
            br#"{"Hashes":12}"#,
            br#"{"Hashes":null}"#,
            br#"{"Hashes":true}"#,
            br#"{"Hashes":{"imphash":"abc"}}"#,
            br#"{"Hashes":[]}"#,
            br#"{"Hashes":"imphash=abc"}"#,
        ] {
            assert_eq!(
                scanned_matches(&set, &keys, &mut scratch, text),
                plain_matches(&set, text),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn a_key_given_twice_is_read_as_the_parsed_event_keeps_it() {
        let (set, keys, _) = hashes_and_command_line();
        let mut scratch = set.scratch();
        let text = br#"{"Hashes":"IMPHASH=ABC","Hashes":"none","CommandLine":"x"}"#;
        let (parsed, scanned) = parse_scanning(text, &keys, &set, &mut scratch);
        assert!(!scanned);
        assert_eq!(parsed.expect("parses")["Hashes"], "none");
        assert_eq!(
            scanned_matches(&set, &keys, &mut scratch, text),
            Vec::<usize>::new()
        );
        assert_eq!(plain_matches(&set, text), Vec::<usize>::new());
        let reversed = br#"{"Hashes":"none","Hashes":"IMPHASH=ABC"}"#;
        assert_eq!(
            scanned_matches(&set, &keys, &mut scratch, reversed),
            vec![0]
        );
    }

    #[test]
    fn a_malformed_line_leaves_nothing_behind_for_the_next() {
        let (set, keys, _) = hashes_and_command_line();
        let mut scratch = set.scratch();
        let (parsed, _) = parse_scanning(br#"{"Hashes":"imphash=abc","#, &keys, &set, &mut scratch);
        assert!(parsed.is_err());
        assert_eq!(
            scanned_matches(&set, &keys, &mut scratch, br#"{"CommandLine":"zzz"}"#),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn parsing_keeps_only_wanted_keys_and_their_prefixes() {
        let wanted = kept(&["Image", "Status", "Status.additionalDetails", "ehr.action"]);
        let event = parse_event(
            br#"{"Image":"a","Other":{"deep":[1,2,3]},"Status":{"additionalDetails":"x"},"ehr.action":"view"}"#,
            Some(&wanted),
        )
        .expect("parses");
        assert_eq!(
            event,
            serde_json::json!({"Image": "a", "Status": {"additionalDetails": "x"}, "ehr.action": "view"})
        );
        assert!(parse_event(b"[1, 2]", Some(&wanted)).is_err());
        assert!(parse_event(b"{\"Image\": \"a\"} trailing", Some(&wanted)).is_err());
        assert_eq!(
            parse_event(b"{\"Other\": 1}", None).expect("parses"),
            serde_json::json!({"Other": 1})
        );
    }
}
