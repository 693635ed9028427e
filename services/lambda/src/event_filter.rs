//! Event filtering for event source mappings (FilterCriteria): EventBridge-style patterns over
//! each record. For SQS a JSON body is matched as JSON; records no filter matches are dropped
//! (and, as Lambda does for SQS, deleted from the queue).

use serde_json::{Map, Value};

/// Lambda's limit on filters per mapping (without a quota increase).
const MAX_FILTERS: usize = 5;

pub const INVALID: &str = "Invalid filter pattern definition.";

/// The parsed patterns of a FilterCriteria, or the reason they are not valid.
pub fn patterns(criteria: &Value) -> Result<Vec<Map<String, Value>>, String> {
    let Some(filters) = criteria.get("Filters").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    if filters.len() > MAX_FILTERS {
        return Err(format!(
            "The number of filters ({}) exceeds the limit of {MAX_FILTERS}.",
            filters.len()
        ));
    }
    filters
        .iter()
        .map(|f| {
            let text = f.get("Pattern").and_then(Value::as_str).ok_or(INVALID)?;
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(p)) if valid(&p) => Ok(p),
                _ => Err(INVALID.to_string()),
            }
        })
        .collect()
}

/// A pattern's leaves are arrays of matchers; objects nest.
fn valid(p: &Map<String, Value>) -> bool {
    p.values().all(|v| match v {
        Value::Object(sub) => valid(sub),
        Value::Array(ms) => !ms.is_empty() && ms.iter().all(valid_matcher),
        _ => false,
    })
}

fn valid_matcher(m: &Value) -> bool {
    match m {
        Value::Object(o) => {
            o.len() == 1
                && o.iter().all(|(k, v)| match k.as_str() {
                    "prefix" | "suffix" | "equals-ignore-case" => v.is_string(),
                    "exists" => v.is_boolean(),
                    "anything-but" => true,
                    "numeric" => v.as_array().is_some_and(|a| numeric_ops(a).is_some()),
                    _ => false,
                })
        }
        _ => true,
    }
}

/// The record to match, with a JSON body parsed (SQS bodies are strings on the wire).
pub fn sqs_view(record: &Value) -> Value {
    let mut r = record.clone();
    if let Some(body) = r.get("body").and_then(Value::as_str) {
        if let Ok(parsed @ Value::Object(_)) = serde_json::from_str::<Value>(body) {
            r["body"] = parsed;
        }
    }
    r
}

/// Whether any pattern matches (no patterns: everything matches).
pub fn any_match(patterns: &[Map<String, Value>], event: &Value) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| object_matches(p, event))
}

fn object_matches(p: &Map<String, Value>, event: &Value) -> bool {
    p.iter().all(|(k, pv)| {
        let v = event.get(k);
        match pv {
            Value::Object(sub) => v.is_some_and(|v| object_matches(sub, v)),
            Value::Array(ms) => leaf_matches(ms, v),
            _ => false,
        }
    })
}

fn leaf_matches(matchers: &[Value], v: Option<&Value>) -> bool {
    let values: Vec<&Value> = match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(x) => vec![x],
        None => Vec::new(),
    };
    matchers
        .iter()
        .any(|m| match m.get("exists").and_then(Value::as_bool) {
            Some(want) => want == v.is_some_and(|x| !x.is_object()),
            None => values.iter().any(|x| matcher_matches(m, x)),
        })
}

fn equal(m: &Value, x: &Value) -> bool {
    match (m, x) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => m == x,
    }
}

fn matcher_matches(m: &Value, x: &Value) -> bool {
    let Value::Object(o) = m else {
        return equal(m, x);
    };
    let Some((op, arg)) = o.iter().next() else {
        return false;
    };
    let s = x.as_str();
    match op.as_str() {
        "prefix" => s.zip(arg.as_str()).is_some_and(|(s, p)| s.starts_with(p)),
        "suffix" => s.zip(arg.as_str()).is_some_and(|(s, p)| s.ends_with(p)),
        "equals-ignore-case" => s
            .zip(arg.as_str())
            .is_some_and(|(s, p)| s.eq_ignore_ascii_case(p)),
        "anything-but" => match arg {
            Value::Array(a) => !a.iter().any(|m| equal(m, x)),
            Value::Object(_) => !matcher_matches(arg, x),
            other => !equal(other, x),
        },
        "numeric" => match (x.as_f64(), arg.as_array().and_then(|a| numeric_ops(a))) {
            (Some(n), Some(ops)) => ops.iter().all(|(op, bound)| match *op {
                "=" => n == *bound,
                "<" => n < *bound,
                "<=" => n <= *bound,
                ">" => n > *bound,
                ">=" => n >= *bound,
                _ => false,
            }),
            _ => false,
        },
        _ => false,
    }
}

/// `[">", 0, "<=", 5]` as (operator, bound) pairs.
fn numeric_ops(a: &[Value]) -> Option<Vec<(&str, f64)>> {
    if a.is_empty() || !a.len().is_multiple_of(2) {
        return None;
    }
    a.chunks(2)
        .map(|c| {
            let op = c[0]
                .as_str()
                .filter(|o| ["=", "<", "<=", ">", ">="].contains(o))?;
            Some((op, c[1].as_f64()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(pattern: Value) -> Vec<Map<String, Value>> {
        patterns(&json!({"Filters": [{"Pattern": pattern.to_string()}]})).expect("valid")
    }

    #[test]
    fn body_fields_match_as_json() {
        let rec = sqs_view(
            &json!({"body": "{\"kind\": \"order\", \"n\": 5, \"tags\": [\"a\", \"b\"]}", "messageId": "1"}),
        );
        assert!(any_match(&p(json!({"body": {"kind": ["order"]}})), &rec));
        assert!(!any_match(&p(json!({"body": {"kind": ["refund"]}})), &rec));
        assert!(any_match(
            &p(json!({"body": {"n": [{"numeric": [">", 1, "<=", 5]}]}})),
            &rec
        ));
        assert!(!any_match(
            &p(json!({"body": {"n": [{"numeric": [">", 5]}]}})),
            &rec
        ));
        assert!(any_match(&p(json!({"body": {"tags": ["b"]}})), &rec));
        assert!(any_match(
            &p(json!({"body": {"kind": [{"prefix": "ord"}]}})),
            &rec
        ));
        assert!(any_match(
            &p(json!({"body": {"kind": [{"anything-but": ["refund"]}]}})),
            &rec
        ));
        assert!(any_match(
            &p(json!({"body": {"missing": [{"exists": false}]}})),
            &rec
        ));
        assert!(!any_match(
            &p(json!({"body": {"kind": [{"exists": false}]}})),
            &rec
        ));
        let plain = sqs_view(&json!({"body": "hello world"}));
        assert!(any_match(
            &p(json!({"body": [{"prefix": "hello"}]})),
            &plain
        ));
        assert!(!any_match(&p(json!({"body": {"kind": ["order"]}})), &plain));
    }

    #[test]
    fn invalid_patterns_are_refused() {
        for bad in [
            "not json",
            "{\"body\": \"x\"}",
            "{\"a\": [{\"numeric\": [\">\"]}]}",
            "{\"a\": []}",
        ] {
            assert!(
                patterns(&json!({"Filters": [{"Pattern": bad}]})).is_err(),
                "{bad}"
            );
        }
        assert!(patterns(&json!({})).expect("none").is_empty());
    }
}
