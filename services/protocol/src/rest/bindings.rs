//! The non-body HTTP bindings of the rest protocols: `uri`, `querystring`, `header`, `headers`
//! (prefix maps) and `statusCode` members.

use super::{parse_query, scalar_from_text, scalar_to_text, shape_of};
use crate::timestamp::TimestampFormat;
use crate::{HttpRequest, HttpResponse, Operation, ProtocolError, ServiceModel, Shape, ShapeType};
use serde_json::{Map, Value};

/// Fill `out` with the input members bound to the URI, query string and headers.
pub fn parse_locations(
    model: &ServiceModel,
    op: &Operation,
    shape: &Shape,
    req: &HttpRequest<'_>,
    labels: &[(String, String)],
    out: &mut Map<String, Value>,
) -> Result<(), ProtocolError> {
    let params = parse_query(req.query);
    // Keys a query map must not swallow: the template's literals and the named query members.
    let mut bound: Vec<&str> = op
        .http
        .request_uri
        .split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .map(|p| p.split('=').next().unwrap_or(p))
                .collect()
        })
        .unwrap_or_default();
    for (name, m) in &shape.members {
        if m.location.as_deref() == Some("querystring") {
            bound.push(m.location_name.as_deref().unwrap_or(name));
        }
    }
    for (name, m) in &shape.members {
        let Some(location) = m.location.as_deref() else {
            continue;
        };
        let Some(mshape) = shape_of(model, m) else {
            continue;
        };
        let wire = m.location_name.as_deref().unwrap_or(name);
        let value = match location {
            "uri" => match labels.iter().find(|(k, _)| k == wire) {
                Some((_, v)) => Some(scalar_from_text(model, m, v)?),
                None => None,
            },
            "querystring" => parse_query_member(model, m, mshape, wire, &params, &bound)?,
            "header" if mshape.kind == ShapeType::List => match req.headers.joined(wire) {
                Some(v) => parse_header(model, m, mshape, &v)?,
                None => None,
            },
            "header" => match req.headers.get(wire) {
                Some(v) => parse_header(model, m, mshape, v)?,
                None => None,
            },
            "headers" => {
                let prefix = m
                    .location_name
                    .as_deref()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let mut map = Map::new();
                for (k, v) in &req.headers.0 {
                    if let Some(key) = k.to_ascii_lowercase().strip_prefix(&prefix) {
                        map.insert(key.to_string(), Value::String(v.trim().to_string()));
                    }
                }
                (!map.is_empty()).then_some(Value::Object(map))
            }
            _ => None,
        };
        if let Some(v) = value {
            out.insert(name.clone(), v);
        }
    }
    Ok(())
}

fn parse_query_member(
    model: &ServiceModel,
    m: &crate::ShapeRef,
    mshape: &Shape,
    wire: &str,
    params: &[(String, String)],
    bound: &[&str],
) -> Result<Option<Value>, ProtocolError> {
    match mshape.kind {
        ShapeType::Map if m.location_name.is_none() => {
            // A query map without a name takes every parameter no other member claims.
            let Some(vref) = mshape.value.as_deref() else {
                return Ok(None);
            };
            let vshape = shape_of(model, vref);
            let mut map = Map::new();
            for (k, v) in params {
                if bound.contains(&k.as_str()) {
                    continue;
                }
                if vshape.map(|s| s.kind) == Some(ShapeType::List) {
                    let Some(item) = vshape.and_then(|s| s.member.as_deref()) else {
                        continue;
                    };
                    let entry = map
                        .entry(k.clone())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(items) = entry {
                        items.push(scalar_from_text(model, item, v)?);
                    }
                } else if !map.contains_key(k) {
                    map.insert(k.clone(), scalar_from_text(model, vref, v)?);
                }
            }
            Ok((!map.is_empty()).then_some(Value::Object(map)))
        }
        ShapeType::List => {
            let Some(item) = mshape.member.as_deref() else {
                return Ok(None);
            };
            let items = params
                .iter()
                .filter(|(k, _)| k == wire)
                .map(|(_, v)| scalar_from_text(model, item, v))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((!items.is_empty()).then_some(Value::Array(items)))
        }
        _ => match params.iter().find(|(k, _)| k == wire) {
            Some((_, v)) => Ok(Some(scalar_from_text(model, m, v)?)),
            None => Ok(None),
        },
    }
}

fn parse_header(
    model: &ServiceModel,
    m: &crate::ShapeRef,
    mshape: &Shape,
    raw: &str,
) -> Result<Option<Value>, ProtocolError> {
    if mshape.kind != ShapeType::List {
        let v = if mshape.kind == ShapeType::String {
            raw
        } else {
            raw.trim()
        };
        return scalar_from_text(model, m, v).map(Some);
    }
    let Some(item) = mshape.member.as_deref() else {
        return Ok(None);
    };
    let is_ts = shape_of(model, item).map(|s| s.kind) == Some(ShapeType::Timestamp);
    let items = split_header_list(raw, is_ts)
        .iter()
        .map(|s| scalar_from_text(model, item, s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Value::Array(items)))
}

/// Split a comma-separated header list. Items may be double-quoted (with `\"` escapes) to carry
/// commas; HTTP dates contain a comma of their own, so for timestamp lists a bare weekday is
/// joined with the piece that follows it.
fn split_header_list(raw: &str, timestamps: bool) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' if !quoted => items.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    items.push(cur);
    // Trim unquoted padding only; quoted items were already stripped of their quotes.
    let items: Vec<String> = items.into_iter().map(|s| s.trim().to_string()).collect();
    if !timestamps {
        if items.len() == 1 && items[0].is_empty() {
            return Vec::new();
        }
        return items;
    }
    let mut out: Vec<String> = Vec::new();
    let mut iter = items.into_iter().peekable();
    while let Some(item) = iter.next() {
        let weekday = !item.is_empty() && item.len() <= 9 && item.chars().all(char::is_alphabetic);
        match iter.peek() {
            Some(next) if weekday => {
                out.push(format!("{item}, {next}"));
                iter.next();
            }
            _ if item.is_empty() => {}
            _ => out.push(item),
        }
    }
    out
}

/// Apply the output members bound to headers and the status code.
pub fn serialize_locations(
    model: &ServiceModel,
    shape: &Shape,
    value: &Map<String, Value>,
    resp: &mut HttpResponse,
) {
    for (name, m) in &shape.members {
        let Some(location) = m.location.as_deref() else {
            continue;
        };
        let Some(v) = value.get(name).filter(|v| !v.is_null()) else {
            continue;
        };
        let wire = m.location_name.as_deref().unwrap_or(name);
        match location {
            "header" => {
                if let Some(text) = header_text(model, m, v) {
                    resp.headers.push((wire.to_string(), text));
                }
            }
            "headers" => {
                let (Value::Object(map), Some(vref)) =
                    (v, shape_of(model, m).and_then(|s| s.value.as_deref()))
                else {
                    continue;
                };
                for (k, item) in map {
                    if let Some(text) = scalar_to_text(model, vref, item, TimestampFormat::Rfc822) {
                        resp.headers.push((format!("{wire}{k}"), text));
                    }
                }
            }
            "statusCode" => {
                if let Some(code) = v.as_u64().and_then(|c| u16::try_from(c).ok()) {
                    resp.status = code;
                }
            }
            _ => {}
        }
    }
}

fn header_text(model: &ServiceModel, m: &crate::ShapeRef, v: &Value) -> Option<String> {
    let rfc = TimestampFormat::Rfc822;
    let Value::Array(items) = v else {
        return scalar_to_text(model, m, v, rfc);
    };
    let item = shape_of(model, m)?.member.as_deref()?;
    let is_string = shape_of(model, item).map(|s| s.kind) == Some(ShapeType::String);
    let parts: Vec<String> = items
        .iter()
        .filter_map(|i| scalar_to_text(model, item, i, rfc))
        .map(|s| {
            // Quote strings that would otherwise split or lose their quotes.
            if is_string && (s.contains(',') || s.contains('"')) {
                format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
            } else {
                s
            }
        })
        .collect();
    Some(parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::split_header_list;

    #[test]
    fn splits_header_lists() {
        assert_eq!(split_header_list("a, b,c", false), ["a", "b", "c"]);
        assert_eq!(
            split_header_list(r#""b,c", "\"def\"", a"#, false),
            ["b,c", "\"def\"", "a"]
        );
        assert_eq!(
            split_header_list(
                "Mon, 16 Dec 2019 23:48:18 GMT, Mon, 16 Dec 2019 23:48:18 GMT",
                true
            ),
            [
                "Mon, 16 Dec 2019 23:48:18 GMT",
                "Mon, 16 Dec 2019 23:48:18 GMT"
            ]
        );
        assert_eq!(
            split_header_list("1576540098, 2", true),
            ["1576540098", "2"]
        );
    }
}
