//! Shape-driven conversion between rest-json bodies and the engine's value tree.
//!
//! On the wire, member names are their `locationName` (jsonName), blobs are base64 strings,
//! timestamps are epoch seconds unless `timestampFormat` says otherwise, and non-finite floats
//! are the strings `NaN`, `Infinity`, `-Infinity`.

use super::{epoch_value, in_output_body, is_special_float, shape_of, ts_format, wire_name};
use crate::timestamp::{self, TimestampFormat};
use crate::{ProtocolError, ServiceModel, Shape, ShapeRef, ShapeType};
use serde_json::{Map, Value};

/// Wire JSON -> value for one member. `Ok(None)` for `null`.
pub(crate) fn from_wire(
    model: &ServiceModel,
    r: &ShapeRef,
    v: &Value,
) -> Result<Option<Value>, ProtocolError> {
    use ProtocolError::Malformed;
    if v.is_null() {
        return Ok(None);
    }
    let Some(shape) = shape_of(model, r) else {
        return Ok(Some(v.clone()));
    };
    let mismatch = || Malformed(format!("unexpected JSON value for {}: {v}", r.shape));
    if shape.document {
        return Ok(Some(v.clone()));
    }
    Ok(Some(match shape.kind {
        ShapeType::Structure => {
            let obj = v.as_object().ok_or_else(mismatch)?;
            Value::Object(struct_from_wire(model, shape, obj)?)
        }
        ShapeType::List => {
            let arr = v.as_array().ok_or_else(mismatch)?;
            let Some(item) = shape.member.as_deref() else {
                return Ok(Some(v.clone()));
            };
            let mut out = Vec::with_capacity(arr.len());
            for i in arr {
                if let Some(x) = from_wire(model, item, i)? {
                    out.push(x);
                }
            }
            Value::Array(out)
        }
        ShapeType::Map => {
            let obj = v.as_object().ok_or_else(mismatch)?;
            let Some(vref) = shape.value.as_deref() else {
                return Ok(Some(v.clone()));
            };
            let mut out = Map::new();
            for (k, i) in obj {
                if let Some(x) = from_wire(model, vref, i)? {
                    out.insert(k.clone(), x);
                }
            }
            Value::Object(out)
        }
        ShapeType::String | ShapeType::Blob => {
            if !v.is_string() {
                return Err(mismatch());
            }
            v.clone()
        }
        ShapeType::Boolean => {
            if !v.is_boolean() {
                return Err(mismatch());
            }
            v.clone()
        }
        ShapeType::Integer | ShapeType::Long | ShapeType::Short | ShapeType::Byte => {
            let n = v.as_number().ok_or_else(mismatch)?;
            if n.is_i64() || n.is_u64() {
                v.clone()
            } else {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
                    _ => return Err(mismatch()),
                }
            }
        }
        ShapeType::BigInteger => {
            if !v.is_number() && !v.is_string() {
                return Err(mismatch());
            }
            v.clone()
        }
        ShapeType::Float | ShapeType::Double | ShapeType::BigDecimal => match v {
            Value::Number(_) => v.clone(),
            Value::String(s) if is_special_float(s) => v.clone(),
            _ => return Err(mismatch()),
        },
        ShapeType::Timestamp => match v {
            Value::Number(n) => epoch_value(n.as_f64().ok_or_else(mismatch)?),
            Value::String(s) => epoch_value(timestamp::parse(s).ok_or_else(mismatch)?),
            _ => return Err(mismatch()),
        },
    }))
}

/// Wire JSON object -> structure value. Unknown keys are ignored, as clients do.
pub(crate) fn struct_from_wire(
    model: &ServiceModel,
    shape: &Shape,
    obj: &Map<String, Value>,
) -> Result<Map<String, Value>, ProtocolError> {
    let mut out = Map::new();
    for (name, m) in &shape.members {
        if m.location.is_some() {
            continue;
        }
        if let Some(v) = obj.get(wire_name(name, m)) {
            if let Some(x) = from_wire(model, m, v)? {
                out.insert(name.clone(), x);
            }
        }
    }
    Ok(out)
}

/// Value -> wire JSON for one member. `None` when the value cannot be written (e.g. a malformed
/// timestamp), so the member is left out rather than sent wrong.
pub(crate) fn to_wire(model: &ServiceModel, r: &ShapeRef, v: &Value) -> Option<Value> {
    let Some(shape) = shape_of(model, r) else {
        return Some(v.clone());
    };
    if shape.document {
        return Some(v.clone());
    }
    match (shape.kind, v) {
        (_, Value::Null) => None,
        (ShapeType::Structure, Value::Object(obj)) => {
            Some(Value::Object(struct_to_wire(model, shape, obj)))
        }
        (ShapeType::List, Value::Array(items)) => {
            let Some(item) = shape.member.as_deref() else {
                return Some(v.clone());
            };
            Some(Value::Array(
                items
                    .iter()
                    .filter_map(|i| to_wire(model, item, i))
                    .collect(),
            ))
        }
        (ShapeType::Map, Value::Object(obj)) => {
            let Some(vref) = shape.value.as_deref() else {
                return Some(v.clone());
            };
            Some(Value::Object(
                obj.iter()
                    .filter_map(|(k, i)| Some((k.clone(), to_wire(model, vref, i)?)))
                    .collect(),
            ))
        }
        (ShapeType::Timestamp, _) => {
            let secs = match v {
                Value::Number(n) => n.as_f64()?,
                Value::String(s) => timestamp::parse(s)?,
                _ => return None,
            };
            Some(match ts_format(r, shape, TimestampFormat::UnixTimestamp) {
                TimestampFormat::UnixTimestamp => epoch_value(secs),
                fmt => Value::String(timestamp::format(secs, fmt)),
            })
        }
        _ => Some(v.clone()),
    }
}

/// Structure value -> wire JSON object, leaving out members bound to response headers/status.
pub(crate) fn struct_to_wire(
    model: &ServiceModel,
    shape: &Shape,
    obj: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, m) in &shape.members {
        if !in_output_body(m) {
            continue;
        }
        if let Some(w) = obj.get(name).and_then(|v| to_wire(model, m, v)) {
            out.insert(wire_name(name, m).to_string(), w);
        }
    }
    out
}
