//! Fixture conventions inside event files: the header object and
//! generator lines (DESIGN.md §4).
//!
//! A fixture's first line may be `{"stetho_fixture": {"schema": ...,
//! "logsource": ..., "description": ...}}`, saying what shape its events have.
//! A line `{"stetho_generate": {"count": N, "every": "20s", "vary": {"F":
//! "text {i}"}}, "event": {...}}` stands for N copies of the event, the
//! timestamp advanced by `every` each time and `{i}` replaced by 1..N in the
//! `vary` fields, so a volume rule's fixture is one reviewable line, not 50.

use serde_json::{Map, Value};

use crate::model::LogSource;

pub const HEADER_KEY: &str = "stetho_fixture";
pub const GENERATOR_KEY: &str = "stetho_generate";

/// Most events one generator line may produce.
pub const MAX_GENERATED: u64 = 100_000;

/// A checksum-valid NHS number outside the 999 test range found in a
/// fixture file: 1-based line, byte column in the line, and the masked number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealLooking {
    pub line: usize,
    pub column: usize,
    pub masked: String,
}

/// Scan a fixture for NHS numbers that could belong to real patients.
///
/// Fixtures are committed to git; a recording that slips through with real
/// identifiers is a data breach. Only the never-issued 999 range is allowed.
pub fn real_looking_nhs_numbers(path: &std::path::Path) -> std::io::Result<Vec<RealLooking>> {
    use std::io::BufRead;
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut found = Vec::new();
    for (n, line) in file.split(b'\n').enumerate() {
        let line = line?;
        let text = String::from_utf8_lossy(&line);
        for (offset, _, digits) in crate::eval::nhs::real_looking(&text) {
            found.push(RealLooking {
                line: n + 1,
                column: offset + 1,
                masked: crate::eval::nhs::masked(&digits),
            });
        }
    }
    Ok(found)
}

/// What a fixture header declares.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Header {
    pub schema: Option<String>,
    pub logsource: LogSource,
    pub description: Option<String>,
}

/// The header, if `value` is one.
pub fn header(value: &Value) -> Option<Header> {
    let inner = value
        .as_object()
        .filter(|m| m.len() == 1)?
        .get(HEADER_KEY)?;
    let text = |k: &str| inner.get(k).and_then(Value::as_str).map(str::to_string);
    let ls = inner.get("logsource");
    let part = |k: &str| {
        ls.and_then(|l| l.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Some(Header {
        schema: text("schema"),
        logsource: LogSource {
            product: part("product"),
            category: part("category"),
            service: part("service"),
        },
        description: text("description"),
    })
}

/// The events a generator line stands for, if `value` is one.
pub fn expand(value: &Value, timestamp_fields: &[&str]) -> Option<Result<Vec<Value>, String>> {
    let spec = value.as_object()?.get(GENERATOR_KEY)?;
    Some(expand_spec(spec, value.get("event"), timestamp_fields))
}

fn expand_spec(
    spec: &Value,
    event: Option<&Value>,
    timestamp_fields: &[&str],
) -> Result<Vec<Value>, String> {
    let count = spec
        .get("count")
        .and_then(Value::as_u64)
        .ok_or("generator needs a positive `count`")?;
    if count == 0 || count > MAX_GENERATED {
        return Err(format!("generator `count` must be 1..={MAX_GENERATED}"));
    }
    let every = match spec.get("every").and_then(Value::as_str) {
        Some(text) => {
            crate::logic::lower::parse_timespan(text).ok_or(format!("invalid `every`: {text}"))?
        }
        None => 0,
    };
    let vary: Map<String, Value> = spec
        .get("vary")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let base = event
        .and_then(Value::as_object)
        .ok_or("generator needs an `event` object")?;
    let start = timestamp_fields.iter().find_map(|f| {
        base.get(*f)
            .and_then(Value::as_str)
            .map(|t| (*f, t.to_string()))
    });
    let start_time = match &start {
        Some((_, text)) => Some(
            crate::eval::parse_timestamp(text).ok_or(format!("cannot read timestamp `{text}`"))?,
        ),
        None => None,
    };
    let mut out = Vec::with_capacity(count as usize);
    for i in 1..=count {
        let mut event = base.clone();
        for (field, template) in &vary {
            let value = match template {
                Value::String(t) => Value::String(t.replace("{i}", &i.to_string())),
                other => other.clone(),
            };
            event.insert(field.clone(), value);
        }
        if let (Some((field, _)), Some(t0)) = (&start, start_time) {
            let t = t0 + time::Duration::seconds(((i - 1) * every) as i64);
            let text = t
                .format(&time::format_description::well_known::Rfc3339)
                .map_err(|e| e.to_string())?;
            event.insert((*field).to_string(), Value::String(text));
        }
        out.push(Value::Object(event));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn headers_are_recognised() {
        let h = header(&json!({"stetho_fixture": {"schema": "defender_xdr.DeviceProcessEvents", "logsource": {"product": "windows"}}}))
            .expect("header");
        assert_eq!(
            h.schema.as_deref(),
            Some("defender_xdr.DeviceProcessEvents")
        );
        assert_eq!(h.logsource.product.as_deref(), Some("windows"));
        assert!(header(&json!({"stetho_fixture": {}, "other": 1})).is_none());
    }

    #[test]
    fn generators_advance_time_and_substitute() {
        let line = json!({"stetho_generate": {"count": 3, "every": "20s", "vary": {"Id": "n{i}"}},
                          "event": {"Timestamp": "2025-03-14T02:00:00Z", "Id": "x"}});
        let events = expand(&line, &["Timestamp"])
            .expect("generator")
            .expect("valid");
        assert_eq!(events.len(), 3);
        assert_eq!(events[2]["Id"], "n3");
        assert_eq!(events[2]["Timestamp"], "2025-03-14T02:00:40Z");
        let bad = json!({"stetho_generate": {"count": 0}, "event": {}});
        assert!(expand(&bad, &[]).expect("generator").is_err());
    }
}
