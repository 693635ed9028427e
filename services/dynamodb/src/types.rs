//! Attribute values: parsed from and written back to DynamoDB JSON (`{"S": "x"}`), with
//! DynamoDB's validation, ordering and size rules.

use crate::errors::{DynamoError, Result};
use crate::number::Number;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub type Item = BTreeMap<String, AttrValue>;

#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    S(String),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    M(Item),
    L(Vec<AttrValue>),
    Ss(Vec<String>),
    Ns(Vec<Number>),
    Bs(Vec<Vec<u8>>),
}

/// Maps and lists nest at most 32 levels deep.
const MAX_NESTING: usize = 32;

/// Item size limit, counted as DynamoDB counts it (names + values).
pub const MAX_ITEM_SIZE: usize = 400 * 1024;

fn invalid(detail: &str) -> DynamoError {
    DynamoError::invalid(detail)
}

fn decode_b64(v: &Value) -> Result<Vec<u8>> {
    let s = v.as_str().unwrap_or_default();
    B64.decode(s)
        .map_err(|_| DynamoError::validation("Invalid Base64 value for binary attribute"))
}

fn strings(v: &Value) -> Vec<&Value> {
    v.as_array().map(|a| a.iter().collect()).unwrap_or_default()
}

/// Sets may not repeat an element; AWS lists the set in its message.
fn check_duplicates<T: PartialEq>(items: &[T], render: impl Fn(&T) -> String) -> Result<()> {
    for (i, a) in items.iter().enumerate() {
        if items[..i].contains(a) {
            let shown: Vec<String> = items.iter().map(render).collect();
            return Err(invalid(&format!(
                "Input collection [{}] contains duplicates.",
                shown.join(", ")
            )));
        }
    }
    Ok(())
}

impl AttrValue {
    /// Parse one attribute value as a client sent it.
    pub fn from_wire(v: &Value) -> Result<Self> {
        Self::from_wire_at(v, 0)
    }

    fn from_wire_at(v: &Value, depth: usize) -> Result<Self> {
        if depth > MAX_NESTING {
            return Err(invalid("Nesting Levels have exceeded supported limits"));
        }
        let Some(obj) = v.as_object() else {
            return Err(DynamoError::validation(
                "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
            ));
        };
        let mut set = obj.iter().filter(|(_, x)| !x.is_null());
        let Some((ty, val)) = set.next() else {
            return Err(DynamoError::validation(
                "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
            ));
        };
        if set.next().is_some() {
            return Err(DynamoError::validation(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
            ));
        }
        Ok(match ty.as_str() {
            "S" => AttrValue::S(val.as_str().unwrap_or_default().to_string()),
            "N" => AttrValue::N(Number::parse(val.as_str().unwrap_or_default())?),
            "B" => AttrValue::B(decode_b64(val)?),
            "BOOL" => AttrValue::Bool(val.as_bool().unwrap_or_default()),
            "NULL" => {
                if val.as_bool() != Some(true) {
                    return Err(invalid("Null attribute value types must have the value of true"));
                }
                AttrValue::Null
            }
            "SS" => {
                let items: Vec<String> = strings(val)
                    .iter()
                    .map(|s| s.as_str().unwrap_or_default().to_string())
                    .collect();
                if items.is_empty() {
                    return Err(invalid("An string set  may not be empty"));
                }
                check_duplicates(&items, |s| s.clone())?;
                AttrValue::Ss(items)
            }
            "NS" => {
                let raw = strings(val);
                if raw.is_empty() {
                    return Err(invalid("An number set  may not be empty"));
                }
                let items = raw
                    .iter()
                    .map(|s| Number::parse(s.as_str().unwrap_or_default()))
                    .collect::<Result<Vec<_>>>()?;
                check_duplicates(&items, |n| n.to_string())?;
                AttrValue::Ns(items)
            }
            "BS" => {
                let raw = strings(val);
                if raw.is_empty() {
                    return Err(invalid("Binary sets should not be empty"));
                }
                let items = raw
                    .iter()
                    .map(|b| decode_b64(b))
                    .collect::<Result<Vec<_>>>()?;
                check_duplicates(&items, |b| B64.encode(b))?;
                AttrValue::Bs(items)
            }
            "M" => AttrValue::M(
                val.as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| Ok((k.clone(), AttrValue::from_wire_at(v, depth + 1)?)))
                    .collect::<Result<_>>()?,
            ),
            "L" => AttrValue::L(
                strings(val)
                    .into_iter()
                    .map(|v| AttrValue::from_wire_at(v, depth + 1))
                    .collect::<Result<_>>()?,
            ),
            _ => {
                return Err(DynamoError::validation(
                    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
                ))
            }
        })
    }

    pub fn to_wire(&self) -> Value {
        let mut m = Map::with_capacity(1);
        let (k, v) = match self {
            AttrValue::S(s) => ("S", Value::String(s.clone())),
            AttrValue::N(n) => ("N", Value::String(n.to_string())),
            AttrValue::B(b) => ("B", Value::String(B64.encode(b))),
            AttrValue::Bool(b) => ("BOOL", Value::Bool(*b)),
            AttrValue::Null => ("NULL", Value::Bool(true)),
            AttrValue::M(item) => ("M", Value::Object(item_to_wire(item))),
            AttrValue::L(l) => (
                "L",
                Value::Array(l.iter().map(AttrValue::to_wire).collect()),
            ),
            AttrValue::Ss(s) => (
                "SS",
                Value::Array(s.iter().map(|x| Value::String(x.clone())).collect()),
            ),
            AttrValue::Ns(s) => (
                "NS",
                Value::Array(s.iter().map(|x| Value::String(x.to_string())).collect()),
            ),
            AttrValue::Bs(s) => (
                "BS",
                Value::Array(s.iter().map(|x| Value::String(B64.encode(x))).collect()),
            ),
        };
        m.insert(k.to_string(), v);
        Value::Object(m)
    }

    /// The type descriptor (`S`, `N`, `SS`, …) as `attribute_type` and messages name it.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttrValue::S(_) => "S",
            AttrValue::N(_) => "N",
            AttrValue::B(_) => "B",
            AttrValue::Bool(_) => "BOOL",
            AttrValue::Null => "NULL",
            AttrValue::M(_) => "M",
            AttrValue::L(_) => "L",
            AttrValue::Ss(_) => "SS",
            AttrValue::Ns(_) => "NS",
            AttrValue::Bs(_) => "BS",
        }
    }

    /// Size in bytes as DynamoDB counts it (without the attribute's name).
    pub fn size(&self) -> usize {
        match self {
            AttrValue::S(s) => s.len(),
            AttrValue::N(n) => number_size(n),
            AttrValue::B(b) => b.len(),
            AttrValue::Bool(_) | AttrValue::Null => 1,
            AttrValue::M(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + v.size()).sum::<usize>(),
            AttrValue::L(l) => 3 + l.iter().map(|v| 1 + v.size()).sum::<usize>(),
            AttrValue::Ss(s) => s.iter().map(String::len).sum(),
            AttrValue::Ns(s) => s.iter().map(number_size).sum(),
            AttrValue::Bs(s) => s.iter().map(Vec::len).sum(),
        }
    }
}

/// One byte per two significant digits, plus one.
fn number_size(n: &Number) -> usize {
    n.significant_digits().div_ceil(2) + 1
}

pub fn item_from_wire(m: &Map<String, Value>) -> Result<Item> {
    m.iter()
        .map(|(k, v)| Ok((k.clone(), AttrValue::from_wire(v)?)))
        .collect()
}

pub fn item_to_wire(item: &Item) -> Map<String, Value> {
    item.iter().map(|(k, v)| (k.clone(), v.to_wire())).collect()
}

pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

/// An item as stored (DynamoDB JSON text, written by us).
pub fn item_from_body(body: &str) -> Result<Item> {
    let v: Value = serde_json::from_str(body).map_err(|e| {
        DynamoError::Storage(cloudemu_storage::StorageError::Io(std::io::Error::other(
            format!("corrupt stored item: {e}"),
        )))
    })?;
    item_from_wire(v.as_object().unwrap_or(&Map::new()))
}

pub fn item_to_body(item: &Item) -> String {
    Value::Object(item_to_wire(item)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_canonicalises() {
        let v = json!({"M": {"n": {"N": "1.50"}, "l": {"L": [{"S": "x"}, {"NULL": true}]},
                      "b": {"B": "AAE="}, "ns": {"NS": ["1", "2.0"]}}});
        let parsed = AttrValue::from_wire(&v).expect("valid");
        assert_eq!(
            parsed.to_wire(),
            json!({"M": {"b": {"B": "AAE="}, "l": {"L": [{"S": "x"}, {"NULL": true}]},
                         "n": {"N": "1.5"}, "ns": {"NS": ["1", "2"]}}})
        );
    }

    #[test]
    fn rejects_malformed_values_with_aws_wording() {
        let msg = |v: Value| AttrValue::from_wire(&v).expect_err("invalid").to_string();
        assert!(msg(json!({})).starts_with("Supplied AttributeValue is empty"));
        assert!(msg(json!({"S": "a", "N": "1"})).starts_with("Supplied AttributeValue has more"));
        assert_eq!(
            msg(json!({"SS": []})),
            "One or more parameter values were invalid: An string set  may not be empty"
        );
        assert_eq!(
            msg(json!({"NS": ["1", "1.0"]})),
            "One or more parameter values were invalid: Input collection [1, 1] contains duplicates."
        );
        assert!(msg(json!({"NULL": false})).contains("Null attribute value types"));
    }

    #[test]
    fn nesting_is_bounded() {
        let mut v = json!({"S": "leaf"});
        for _ in 0..32 {
            v = json!({ "L": [v] });
        }
        assert!(AttrValue::from_wire(&v).is_ok());
        let v = json!({ "L": [v] });
        assert_eq!(
            AttrValue::from_wire(&v).expect_err("33 levels").to_string(),
            "One or more parameter values were invalid: Nesting Levels have exceeded supported limits"
        );
    }

    #[test]
    fn sizes_as_dynamodb_counts_them() {
        let item = item_from_wire(
            json!({"id": {"S": "abc"}, "n": {"N": "12345"}, "ok": {"BOOL": true}})
                .as_object()
                .expect("object"),
        )
        .expect("valid");
        // id(2)+abc(3) + n(1)+ceil(5/2)+1=4 + ok(2)+1
        assert_eq!(item_size(&item), 5 + 5 + 3);
    }
}
