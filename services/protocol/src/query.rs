//! awsQuery: form-encoded requests (`Action=…&Version=…&Foo.member.1=…`), XML responses
//! wrapped in `<OpResponse><OpResult>`, errors in `<ErrorResponse>`.

use crate::model::{ShapeRef, ShapeType};
use crate::timestamp;
use crate::xml::XmlWriter;
use crate::{
    HttpRequest, HttpResponse, Operation, ProtocolError, ResponseMeta, ServiceModel, WireError,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Decode an `application/x-www-form-urlencoded` string into pairs, in order.
pub fn decode_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

/// All query parameters of a request: the URL's query string, then a form body.
pub fn request_params(req: &HttpRequest<'_>) -> Vec<(String, String)> {
    let mut params = decode_form(req.query);
    let is_form = req
        .headers
        .get("content-type")
        .is_none_or(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if is_form && !req.body.is_empty() {
        params.extend(decode_form(&String::from_utf8_lossy(req.body)));
    }
    params
}

pub fn parse(
    model: &ServiceModel,
    op: &Operation,
    req: &HttpRequest<'_>,
) -> Result<Value, ProtocolError> {
    let params: BTreeMap<String, String> = request_params(req).into_iter().collect();
    parse_params(model, op, &params)
}

/// Build the input value of `op` from decoded query parameters.
pub fn parse_params(
    model: &ServiceModel,
    op: &Operation,
    params: &BTreeMap<String, String>,
) -> Result<Value, ProtocolError> {
    let Some(input) = &op.input else {
        return Ok(Value::Object(Map::new()));
    };
    let reader = Reader { model, params };
    Ok(reader
        .structure(&input.shape, "")?
        .unwrap_or_else(|| Value::Object(Map::new())))
}

struct Reader<'a> {
    model: &'a ServiceModel,
    params: &'a BTreeMap<String, String>,
}

impl Reader<'_> {
    /// Whether any parameter is `prefix` itself or lies below it.
    fn present(&self, prefix: &str) -> bool {
        if prefix.is_empty() || self.params.contains_key(prefix) {
            return true;
        }
        let dotted = format!("{prefix}.");
        self.params
            .range(dotted.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&dotted))
    }

    fn structure(&self, shape_name: &str, prefix: &str) -> Result<Option<Value>, ProtocolError> {
        let Some(shape) = self.model.shape(shape_name) else {
            return Ok(None);
        };
        let mut out = Map::new();
        for (name, mref) in &shape.members {
            let member_shape = self.model.shape(&mref.shape);
            let wire = mref
                .location_name
                .as_deref()
                .or(member_shape.and_then(|s| s.location_name.as_deref()))
                .unwrap_or(name);
            let key = if prefix.is_empty() {
                wire.to_string()
            } else {
                format!("{prefix}.{wire}")
            };
            if let Some(v) = self.value(mref, &key)? {
                out.insert(name.clone(), v);
            }
        }
        Ok(Some(Value::Object(out)))
    }

    fn value(&self, r: &ShapeRef, key: &str) -> Result<Option<Value>, ProtocolError> {
        let Some(shape) = self.model.shape(&r.shape) else {
            return Ok(None);
        };
        match shape.kind {
            ShapeType::Structure => {
                if !self.present(key) {
                    return Ok(None);
                }
                self.structure(&r.shape, key)
            }
            ShapeType::List => self.list(r, key),
            ShapeType::Map => self.map(r, key),
            _ => match self.params.get(key) {
                Some(text) => scalar(shape.kind, text, key).map(Some),
                None => Ok(None),
            },
        }
    }

    /// Indices `N` of `prefix.N...` keys, sorted.
    fn indices(&self, prefix: &str) -> Vec<String> {
        let dotted = format!("{prefix}.");
        let mut idx: Vec<(u64, String)> = self
            .params
            .range(dotted.clone()..)
            .take_while(|(k, _)| k.starts_with(&dotted))
            .filter_map(|(k, _)| {
                let seg = k[dotted.len()..].split('.').next()?;
                seg.parse::<u64>().ok().map(|n| (n, seg.to_string()))
            })
            .collect();
        idx.sort();
        idx.dedup();
        idx.into_iter().map(|(_, s)| s).collect()
    }

    fn list(&self, r: &ShapeRef, key: &str) -> Result<Option<Value>, ProtocolError> {
        let Some(shape) = self.model.shape(&r.shape) else {
            return Ok(None);
        };
        let Some(member) = &shape.member else {
            return Ok(None);
        };
        let flattened = r.flattened.unwrap_or(shape.flattened);
        let member_name = member.location_name.as_deref();
        let list_prefix = if flattened {
            match member_name {
                Some(n) => match key.rsplit_once('.') {
                    Some((parent, _)) => format!("{parent}.{n}"),
                    None => n.to_string(),
                },
                None => key.to_string(),
            }
        } else {
            format!("{key}.{}", member_name.unwrap_or("member"))
        };
        // A flattened list with a member name is sent under that name (`AttributeName.1`),
        // not under the list's own.
        if !self.present(key) && !self.present(&list_prefix) {
            return Ok(None);
        }
        let mut items = Vec::new();
        // Past the model's maximum, one extra item is enough for validation to reject the list.
        let limit = shape.max.map_or(usize::MAX, |m| m as usize + 1);
        for i in self.indices(&list_prefix).into_iter().take(limit) {
            if let Some(v) = self.value(member, &format!("{list_prefix}.{i}"))? {
                items.push(v);
            }
        }
        Ok(Some(Value::Array(items)))
    }

    fn map(&self, r: &ShapeRef, key: &str) -> Result<Option<Value>, ProtocolError> {
        let Some(shape) = self.model.shape(&r.shape) else {
            return Ok(None);
        };
        let (Some(kref), Some(vref)) = (&shape.key, &shape.value) else {
            return Ok(None);
        };
        if !self.present(key) {
            return Ok(None);
        }
        let flattened = r.flattened.unwrap_or(shape.flattened);
        let entry_prefix = if flattened {
            key.to_string()
        } else {
            format!("{key}.entry")
        };
        let kname = kref.location_name.as_deref().unwrap_or("key");
        let vname = vref.location_name.as_deref().unwrap_or("value");
        let mut out = Map::new();
        for i in self.indices(&entry_prefix) {
            let base = format!("{entry_prefix}.{i}");
            let Some(k) = self.params.get(&format!("{base}.{kname}")) else {
                continue;
            };
            if let Some(v) = self.value(vref, &format!("{base}.{vname}"))? {
                out.insert(k.clone(), v);
            }
        }
        Ok(Some(Value::Object(out)))
    }
}

/// Convert a scalar parameter's text by shape type.
pub fn scalar(kind: ShapeType, text: &str, key: &str) -> Result<Value, ProtocolError> {
    let bad = || ProtocolError::Malformed(format!("Invalid value '{text}' for parameter {key}"));
    Ok(match kind {
        ShapeType::Integer | ShapeType::Long | ShapeType::Short | ShapeType::Byte => {
            Value::from(text.trim().parse::<i64>().map_err(|_| bad())?)
        }
        ShapeType::Float | ShapeType::Double | ShapeType::BigDecimal => {
            let f = text.trim().parse::<f64>().map_err(|_| bad())?;
            serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or(Value::String(text.to_string()))
        }
        ShapeType::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        ShapeType::Timestamp => {
            let t = timestamp::parse(text).ok_or_else(bad)?;
            serde_json::Number::from_f64(t)
                .map(Value::Number)
                .ok_or_else(bad)?
        }
        _ => Value::String(text.to_string()),
    })
}

fn xmlns(model: &ServiceModel) -> Vec<(&'static str, &str)> {
    model
        .metadata
        .xml_namespace
        .as_deref()
        .map(|ns| vec![("xmlns", ns)])
        .unwrap_or_default()
}

pub fn serialize_output(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
    meta: ResponseMeta<'_>,
) -> HttpResponse {
    let mut w = XmlWriter::new();
    let root = format!("{}Response", op.name);
    w.open(&root, &xmlns(model));
    if let Some(out_ref) = &op.output {
        // Models name the wrapper; where one does not, AWS still wraps in `<OpResult>`.
        let wrapper = out_ref
            .result_wrapper
            .clone()
            .unwrap_or_else(|| format!("{}Result", op.name));
        w.open(&wrapper, &[]);
        write_members(model, &out_ref.shape, output, &mut w);
        w.close(&wrapper);
    }
    w.open("ResponseMetadata", &[]);
    w.element("RequestId", meta.request_id);
    w.close("ResponseMetadata");
    w.close(&root);
    xml_response(200, w.finish(), meta)
}

pub fn serialize_error(
    model: &ServiceModel,
    err: &WireError,
    meta: ResponseMeta<'_>,
) -> HttpResponse {
    let mut w = XmlWriter::new();
    w.open("ErrorResponse", &xmlns(model));
    w.open("Error", &[]);
    w.element(
        "Type",
        if err.sender_fault {
            "Sender"
        } else {
            "Receiver"
        },
    );
    // awsQueryCompatible services answer query clients with their legacy codes.
    let code = model
        .overlay
        .query_error_codes
        .get(&err.code)
        .unwrap_or(&err.code);
    w.element("Code", code);
    w.element("Message", &err.message);
    for (k, v) in &err.fields {
        crate::rest::xml_body::write_untyped(&mut w, k, v);
    }
    w.close("Error");
    w.element("RequestId", meta.request_id);
    w.close("ErrorResponse");
    xml_response(err.status, w.finish(), meta)
}

fn xml_response(status: u16, body: String, meta: ResponseMeta<'_>) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![
            ("Content-Type".into(), "text/xml".into()),
            ("x-amzn-RequestId".into(), meta.request_id.into()),
        ],
        body: body.into_bytes(),
    }
}

/// Write the members of a structure value as XML elements: the same XML body rules as rest-xml
/// (botocore reads both with one parser).
pub fn write_members(model: &ServiceModel, shape_name: &str, value: &Value, w: &mut XmlWriter) {
    if let (Some(shape), Some(obj)) = (model.shape(shape_name), value.as_object()) {
        crate::rest::xml_body::write_children(w, model, shape, obj);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_forms() {
        assert_eq!(
            decode_form("Action=GetUser&Path=%2Fa%2F&Name=a+b&Empty="),
            vec![
                ("Action".to_string(), "GetUser".to_string()),
                ("Path".to_string(), "/a/".to_string()),
                ("Name".to_string(), "a b".to_string()),
                ("Empty".to_string(), String::new()),
            ]
        );
    }
}
