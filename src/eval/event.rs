//! Reading fields out of JSON events.
//!
//! A field name is looked up as a flat key first (`ehr.action` in the
//! healthcare sources is one key), then as a dotted path into nested
//! objects (`Status.additionalDetails` in SigninLogs). Arrays on the way
//! fan out: a predicate holds when any element satisfies it. Lookups borrow
//! from the event and allocate nothing.

use serde_json::Value;

/// Call `visit` for every value `path` reaches in `event` until it returns
/// `true`; returns whether any call did. Returns `false` when the field is
/// missing.
pub fn any_value(event: &Value, path: &str, visit: &mut dyn FnMut(&Value) -> bool) -> bool {
    match event {
        Value::Object(map) => {
            if let Some(v) = map.get(path) {
                return fan_out(v, visit);
            }
            // Try every split point `a.b|c.d`: the key may itself hold dots.
            for (i, _) in path.match_indices('.') {
                if let Some(inner) = map.get(&path[..i]) {
                    let rest = &path[i + 1..];
                    if any_value_in(inner, rest, visit) {
                        return true;
                    }
                }
            }
            false
        }
        Value::Array(items) => items.iter().any(|item| any_value(item, path, visit)),
        _ => false,
    }
}

fn any_value_in(value: &Value, rest: &str, visit: &mut dyn FnMut(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| any_value(item, rest, visit)),
        other => any_value(other, rest, visit),
    }
}

/// Call `visit` for a value, or for each element of an array (nested
/// arrays flattened), until it returns `true`.
pub fn fan_out(value: &Value, visit: &mut dyn FnMut(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) if !items.is_empty() => items.iter().any(|i| fan_out(i, visit)),
        other => visit(other),
    }
}

/// Whether the field is present at all (even as `null`).
pub fn exists(event: &Value, path: &str) -> bool {
    let mut found = false;
    any_value(event, path, &mut |_| {
        found = true;
        true
    });
    found
}

/// The first value of a field, for identities and grouping.
pub fn first<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    match event {
        Value::Object(map) => {
            if let Some(v) = map.get(path) {
                return Some(v);
            }
            for (i, _) in path.match_indices('.') {
                if let Some(inner) = map.get(&path[..i])
                    && let Some(v) = first(inner, &path[i + 1..])
                {
                    return Some(v);
                }
            }
            None
        }
        _ => None,
    }
}

/// Every scalar value in the event as text, recursively (keyword search:
/// the specification searches the whole event, numbers included).
pub fn any_string(event: &Value, visit: &mut dyn FnMut(&str) -> bool) -> bool {
    // One buffer for the whole walk: numbers are formatted into it rather
    // than allocated per value.
    let mut buffer = String::new();
    any_scalar_text(event, &mut buffer, visit)
}

fn any_scalar_text(
    value: &Value,
    buffer: &mut String,
    visit: &mut dyn FnMut(&str) -> bool,
) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|i| any_scalar_text(i, buffer, visit)),
        Value::Object(map) => map.values().any(|v| any_scalar_text(v, buffer, visit)),
        Value::Null => false,
        scalar => text_of(scalar, buffer).is_some_and(&mut *visit),
    }
}

/// A scalar's text for string comparison: strings as they are, numbers and
/// booleans in their JSON form, `null` as the empty string.
pub fn text_of<'a>(value: &'a Value, buffer: &'a mut String) -> Option<&'a str> {
    match value {
        Value::String(s) => Some(s),
        Value::Null => Some(""),
        Value::Bool(b) => Some(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            use std::fmt::Write as _;
            buffer.clear();
            let _ = write!(buffer, "{n}");
            Some(buffer.as_str())
        }
        _ => None,
    }
}

/// A value as a number: JSON numbers and numeric strings.
pub fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(event: &Value, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        any_value(event, path, &mut |v| {
            out.push(v.clone());
            false
        });
        out
    }

    #[test]
    fn flat_keys_with_dots_win_then_nested_paths() {
        let event = json!({"ehr.action": "view", "Status": {"additionalDetails": "MFA denied"}});
        assert_eq!(values(&event, "ehr.action"), vec![json!("view")]);
        assert_eq!(
            values(&event, "Status.additionalDetails"),
            vec![json!("MFA denied")]
        );
        assert!(values(&event, "Status.missing").is_empty());
    }

    #[test]
    fn arrays_fan_out() {
        let event = json!({"patient.flags": ["vip", "restricted"], "Parameters": [{"Name": "A"}, {"Name": "B"}]});
        assert_eq!(values(&event, "patient.flags").len(), 2);
        assert_eq!(
            values(&event, "Parameters.Name"),
            vec![json!("A"), json!("B")]
        );
    }

    #[test]
    fn presence_includes_null() {
        let event = json!({"a": null});
        assert!(exists(&event, "a"));
        assert!(!exists(&event, "b"));
    }
}
