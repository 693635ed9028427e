//! Shared by rest-json and rest-xml: URI template matching (operation routing) and the
//! non-body locations (URI labels, query string, headers, status code).

mod bindings;
pub(crate) mod json_body;
mod routing;
pub(crate) mod xml_body;

pub use bindings::{parse_locations, serialize_locations};
pub use routing::{extract_labels, match_operation, match_request, parse_query};

use crate::model::XmlNamespace;
use crate::timestamp::TimestampFormat;
use crate::{HttpRequest, Operation, ProtocolError, ServiceModel, Shape, ShapeRef, ShapeType};
use base64::Engine;
use serde_json::Value;

/// The shape a reference points at. A dangling reference is a model bug; callers treat it as
/// "nothing to do" rather than panic on a request path.
pub(crate) fn shape_of<'m>(model: &'m ServiceModel, r: &ShapeRef) -> Option<&'m Shape> {
    model.shape(&r.shape)
}

/// `timestampFormat` on the member reference wins over the one on the shape.
pub(crate) fn ts_format(r: &ShapeRef, shape: &Shape, default: TimestampFormat) -> TimestampFormat {
    r.timestamp_format
        .as_deref()
        .or(shape.timestamp_format.as_deref())
        .and_then(TimestampFormat::from_trait)
        .unwrap_or(default)
}

/// The wire name of a member: its `locationName`, else the member name.
pub(crate) fn wire_name<'a>(name: &'a str, r: &'a ShapeRef) -> &'a str {
    r.location_name.as_deref().unwrap_or(name)
}

/// Whether an output member travels in the body. Clients read only `header`, `headers` and
/// `statusCode` from elsewhere; a `querystring` or `uri` member of an output is a body member.
pub(crate) fn in_output_body(r: &ShapeRef) -> bool {
    !matches!(
        r.location.as_deref(),
        Some("header" | "headers" | "statusCode")
    )
}

pub(crate) fn is_streaming(r: &ShapeRef, shape: &Shape) -> bool {
    r.streaming || shape.streaming || shape.event_stream
}

/// Timestamps travel as epoch seconds; whole seconds stay integers so they print as such.
pub(crate) fn epoch_value(secs: f64) -> Value {
    if secs.fract() == 0.0 && secs.abs() < 9.0e15 {
        Value::from(secs as i64)
    } else {
        serde_json::Number::from_f64(secs).map_or(Value::Null, Value::Number)
    }
}

/// Floats that JSON numbers cannot hold travel as these strings (the AWS convention).
pub(crate) fn is_special_float(s: &str) -> bool {
    matches!(s, "NaN" | "Infinity" | "-Infinity")
}

/// A scalar from its text form (URI label, query value, header, XML text). Timestamps are
/// accepted in any format: clients do not all honour `timestampFormat`.
pub(crate) fn scalar_from_text(
    model: &ServiceModel,
    r: &ShapeRef,
    text: &str,
) -> Result<Value, crate::ProtocolError> {
    use crate::ProtocolError::Malformed;
    let Some(shape) = shape_of(model, r) else {
        return Ok(Value::String(text.to_string()));
    };
    Ok(match shape.kind {
        ShapeType::String if r.json_value => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| Malformed(format!("invalid base64 JSON value: {text}")))?;
            serde_json::from_slice(&raw)
                .map_err(|_| Malformed(format!("invalid JSON value: {text}")))?
        }
        ShapeType::String | ShapeType::Blob => Value::String(text.to_string()),
        ShapeType::Integer | ShapeType::Long | ShapeType::Short | ShapeType::Byte => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| Malformed(format!("invalid integer: {text}")))?,
        ShapeType::BigInteger => match text.trim().parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::String(text.trim().to_string()),
        },
        ShapeType::Float | ShapeType::Double | ShapeType::BigDecimal => {
            let t = text.trim();
            if is_special_float(t) {
                Value::String(t.to_string())
            } else {
                let n = t
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| Malformed(format!("invalid number: {text}")))?;
                serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
            }
        }
        ShapeType::Boolean => match text.trim() {
            t if t.eq_ignore_ascii_case("true") => Value::Bool(true),
            t if t.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(Malformed(format!("invalid boolean: {text}"))),
        },
        ShapeType::Timestamp => crate::timestamp::parse(text)
            .map(epoch_value)
            .ok_or_else(|| Malformed(format!("invalid timestamp: {text}")))?,
        // Aggregates have no text form; the caller handles them.
        ShapeType::Structure | ShapeType::List | ShapeType::Map => {
            return Err(Malformed(format!("unexpected text value: {text}")))
        }
    })
}

/// The text form of a scalar (headers, XML text). `None` for values that have none.
pub(crate) fn scalar_to_text(
    model: &ServiceModel,
    r: &ShapeRef,
    v: &Value,
    default_ts: TimestampFormat,
) -> Option<String> {
    let shape = shape_of(model, r);
    if let Some(shape) = shape {
        if shape.kind == ShapeType::Timestamp {
            let secs = match v {
                Value::Number(n) => n.as_f64()?,
                Value::String(s) => crate::timestamp::parse(s)?,
                _ => return None,
            };
            return Some(crate::timestamp::format(
                secs,
                ts_format(r, shape, default_ts),
            ));
        }
        if shape.kind == ShapeType::String && r.json_value {
            let json = serde_json::to_string(v).ok()?;
            return Some(base64::engine::general_purpose::STANDARD.encode(json));
        }
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(number_text(n)),
        _ => None,
    }
}

fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    // Rust prints the shortest representation that round-trips (`1.1`, not `1.1000000000000001`).
    n.as_f64().map(|f| f.to_string()).unwrap_or_default()
}

/// `xmlns` / `xmlns:prefix` attribute for a namespace declaration.
pub(crate) fn namespace_attr(ns: &XmlNamespace) -> (String, String) {
    match ns {
        XmlNamespace::Uri(uri) => ("xmlns".into(), uri.clone()),
        XmlNamespace::Full {
            prefix: Some(p),
            uri,
        } => (format!("xmlns:{p}"), uri.clone()),
        XmlNamespace::Full { prefix: None, uri } => ("xmlns".into(), uri.clone()),
    }
}

#[cfg(test)]
mod tests;

/// How a rest protocol decodes a structured request body (JSON or XML).
pub(crate) trait BodyCodec {
    /// The whole body as the value of the payload member `r`.
    fn payload(
        model: &ServiceModel,
        r: &ShapeRef,
        body: &[u8],
    ) -> Result<Option<Value>, ProtocolError>;
    /// The whole body as the body members of the input structure `shape`.
    fn members(
        model: &ServiceModel,
        shape: &Shape,
        body: &[u8],
    ) -> Result<serde_json::Map<String, Value>, ProtocolError>;
}

/// Parse a rest request: URI labels, query string and headers, then the body: a payload member
/// (raw blob or string, structured, or streaming and left to the service) or the body members.
pub(crate) fn parse_with<C: BodyCodec>(
    model: &ServiceModel,
    op: &Operation,
    req: &HttpRequest<'_>,
) -> Result<Value, ProtocolError> {
    let mut out = serde_json::Map::new();
    let Some(shape) = op.input.as_ref().and_then(|r| model.shape(&r.shape)) else {
        return Ok(Value::Object(out));
    };
    let labels = extract_labels(op, req.path).unwrap_or_default();
    parse_locations(model, op, shape, req, &labels, &mut out)?;
    let body_is_empty = req.body.iter().all(u8::is_ascii_whitespace);
    match shape.payload.as_deref() {
        Some(p) => {
            let Some(m) = shape.members.get(p) else {
                return Ok(Value::Object(out));
            };
            let Some(pshape) = model.shape(&m.shape) else {
                return Ok(Value::Object(out));
            };
            if is_streaming(m, pshape) {
                return Ok(Value::Object(out));
            }
            match pshape.kind {
                ShapeType::Blob if !req.body.is_empty() => {
                    let b64 = base64::engine::general_purpose::STANDARD.encode(req.body);
                    out.insert(p.to_string(), Value::String(b64));
                }
                ShapeType::String if !req.body.is_empty() => {
                    let text = std::str::from_utf8(req.body)
                        .map_err(|_| ProtocolError::Malformed("body is not UTF-8".into()))?;
                    out.insert(p.to_string(), Value::String(text.to_string()));
                }
                ShapeType::Blob | ShapeType::String => {}
                _ if body_is_empty => {}
                _ => {
                    if let Some(v) = C::payload(model, m, req.body)? {
                        out.insert(p.to_string(), v);
                    }
                }
            }
        }
        None if body_is_empty => {}
        None => out.extend(C::members(model, shape, req.body)?),
    }
    Ok(Value::Object(out))
}
