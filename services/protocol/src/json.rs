//! awsJson 1.0 / 1.1: `X-Amz-Target: Prefix.Operation`, JSON bodies both ways, errors as
//! `{"__type": …, "message": …}`; for query-compatible services also `x-amzn-query-error`.

use crate::model::{Shape, ShapeRef, ShapeType};
use crate::path::Path;
use crate::timestamp;
use crate::{
    HttpRequest, HttpResponse, Operation, ProtocolError, ResponseMeta, ServiceModel, WireError,
};
use serde_json::{Map, Value};

pub fn parse(
    model: &ServiceModel,
    op: &Operation,
    req: &HttpRequest<'_>,
) -> Result<Value, ProtocolError> {
    let body: Value = if req.body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(req.body).map_err(|e| {
            ProtocolError::Malformed(format!(
                "Start of structure or map found where not expected. ({e})"
            ))
        })?
    };
    match &op.input {
        Some(r) => {
            Ok(read(model, r, body, &Path::Root)?.unwrap_or_else(|| Value::Object(Map::new())))
        }
        None => Ok(Value::Object(Map::new())),
    }
}

/// Check and convert a JSON value against its shape: the JSON form is already our Value form
/// except that timestamps may arrive as strings and nulls mean "absent". The parsed body is
/// taken apart, not copied: its strings move into the result.
fn read(
    model: &ServiceModel,
    r: &ShapeRef,
    v: Value,
    path: &Path<'_>,
) -> Result<Option<Value>, ProtocolError> {
    if v.is_null() {
        return Ok(None);
    }
    let Some(shape) = model.shape(&r.shape) else {
        return Ok(Some(v));
    };
    let mismatch = |expected: &str| {
        ProtocolError::Malformed(format!(
            "Unexpected value type in payload: expected {expected} at '{}'",
            if path.is_root() {
                "$".to_string()
            } else {
                path.to_string()
            }
        ))
    };
    Ok(Some(match shape.kind {
        ShapeType::Structure => {
            if shape.document {
                return Ok(Some(v));
            }
            let Value::Object(obj) = v else {
                return Err(mismatch("structure"));
            };
            // The members the request sent (usually a few of the shape's), looked up in the
            // model; keys the model does not define are dropped.
            let mut out = Map::new();
            for (name, mv) in obj {
                if let Some(mref) = shape.members.get(&name) {
                    if let Some(x) = read(model, mref, mv, &Path::Field(path, &name))? {
                        out.insert(name, x);
                    }
                }
            }
            Value::Object(out)
        }
        ShapeType::List => {
            let Value::Array(items) = v else {
                return Err(mismatch("list"));
            };
            let Some(member) = &shape.member else {
                return Ok(Some(Value::Array(items)));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                // Nulls inside lists are kept: some services (DynamoDB) reject them by validation.
                match read(model, member, item, &Path::Index(path, i))? {
                    Some(x) => out.push(x),
                    None => out.push(Value::Null),
                }
            }
            Value::Array(out)
        }
        ShapeType::Map => {
            let Value::Object(obj) = v else {
                return Err(mismatch("map"));
            };
            let Some(vref) = &shape.value else {
                return Ok(Some(Value::Object(obj)));
            };
            let mut out = Map::new();
            for (k, item) in obj {
                if let Some(x) = read(model, vref, item, &Path::Field(path, &k))? {
                    out.insert(k, x);
                }
            }
            Value::Object(out)
        }
        ShapeType::String | ShapeType::Blob => {
            if !v.is_string() {
                return Err(mismatch("string"));
            }
            v
        }
        ShapeType::Boolean => {
            if !v.is_boolean() {
                return Err(mismatch("boolean"));
            }
            v
        }
        ShapeType::Integer | ShapeType::Long | ShapeType::Short | ShapeType::Byte => {
            match v.as_i64() {
                Some(_) => v,
                // Whole floats (`5.0`) are accepted as AWS's Jackson-based parsers do.
                None => match v.as_f64() {
                    Some(f) if f.fract() == 0.0 => Value::from(f as i64),
                    _ => return Err(mismatch("integer")),
                },
            }
        }
        ShapeType::Float | ShapeType::Double | ShapeType::BigDecimal | ShapeType::BigInteger => {
            match v {
                Value::Number(_) => v,
                // Non-finite floats travel as these strings in AWS JSON protocols.
                Value::String(ref s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => v,
                _ => return Err(mismatch("number")),
            }
        }
        ShapeType::Timestamp => match v {
            Value::Number(_) => v,
            Value::String(s) => timestamp::parse(&s)
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| mismatch("timestamp"))?,
            _ => return Err(mismatch("timestamp")),
        },
    }))
}

fn content_type(model: &ServiceModel) -> String {
    format!("application/x-amz-json-{}", model.json_version())
}

pub fn serialize_output(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
    meta: ResponseMeta<'_>,
) -> HttpResponse {
    serialize_output_encoded(model, op, output, &[], meta)
}

/// `serialize_output` with top-level members already encoded as JSON text (see
/// `crate::serialize_output_encoded`), written as they are where the model defines them.
pub fn serialize_output_encoded(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
    encoded: &[(String, String)],
    meta: ResponseMeta<'_>,
) -> HttpResponse {
    let body = match &op.output {
        Some(r) if !encoded.is_empty() => write_encoded(model, r, output, encoded),
        Some(r) => {
            let mut out = Vec::with_capacity(256);
            write_to(model, r, output, &mut out);
            out
        }
        None => b"{}".to_vec(),
    };
    HttpResponse {
        status: 200,
        headers: vec![
            ("Content-Type".into(), content_type(model)),
            ("x-amzn-RequestId".into(), meta.request_id.into()),
        ],
        body,
    }
}

/// The output structure with `encoded` members spliced in, in model order like `write_shape`.
fn write_encoded(
    model: &ServiceModel,
    r: &ShapeRef,
    output: &Value,
    encoded: &[(String, String)],
) -> Vec<u8> {
    let size: usize = encoded.iter().map(|(_, t)| t.len() + 32).sum();
    let mut out = Vec::with_capacity(256 + size);
    let (Some(shape), Value::Object(obj)) = (model.shape(&r.shape), output) else {
        write_to(model, r, output, &mut out);
        return out;
    };
    out.push(b'{');
    let mut first = true;
    for (name, mref) in &shape.members {
        let text = encoded.iter().find(|(m, _)| m == name).map(|(_, t)| t);
        let value = crate::get_member(obj, name).filter(|v| !v.is_null());
        if text.is_none() && value.is_none() {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        let _ = serde_json::to_writer(&mut out, name);
        out.push(b':');
        match (text, value) {
            (Some(t), _) => out.extend_from_slice(t.as_bytes()),
            (None, Some(v)) => write_to(model, mref, v, &mut out),
            (None, None) => {}
        }
    }
    out.push(b'}');
    out
}

/// Only what the shape defines (so replies never leak internal fields), in model order, written
/// straight to bytes: building an intermediate `Value` copied large replies (a DynamoDB Query
/// page) value by value before serializing them.
pub fn write_to(model: &ServiceModel, r: &ShapeRef, v: &Value, out: &mut Vec<u8>) {
    write_shape(model, model.shape(&r.shape), v, out);
}

/// `write_to` with the shape already looked up: a list or map resolves its member's shape once,
/// not once per element (a 100-item Query page has hundreds of attribute values).
fn write_shape(model: &ServiceModel, shape: Option<&Shape>, v: &Value, out: &mut Vec<u8>) {
    let leaf = |v: &Value, out: &mut Vec<u8>| {
        // Writing a `Value` into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, v);
    };
    let Some(shape) = shape else {
        return leaf(v, out);
    };
    let member = |out: &mut Vec<u8>, name: &str, mref: &ShapeRef, mv: &Value| {
        let _ = serde_json::to_writer(&mut *out, name);
        out.push(b':');
        write_to(model, mref, mv, out);
    };
    match (shape.kind, v) {
        (ShapeType::Structure, Value::Object(obj)) if !shape.document && obj.len() == 1 => {
            // One key (a union such as DynamoDB's AttributeValue): one member lookup instead
            // of one per member of the shape. The bytes are the same as below.
            out.push(b'{');
            if let Some((name, mv)) = obj.iter().next() {
                if let Some(mref) = shape.members.get(name).filter(|_| !mv.is_null()) {
                    member(out, name, mref, mv);
                }
            }
            out.push(b'}');
        }
        (ShapeType::Structure, Value::Object(obj)) if !shape.document => {
            out.push(b'{');
            let mut first = true;
            for (name, mref) in &shape.members {
                if let Some(mv) = crate::get_member(obj, name).filter(|mv| !mv.is_null()) {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    member(out, name, mref, mv);
                }
            }
            out.push(b'}');
        }
        (ShapeType::List, Value::Array(items)) => match &shape.member {
            Some(m) => {
                let element = model.shape(&m.shape);
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_shape(model, element, item, out);
                }
                out.push(b']');
            }
            None => leaf(v, out),
        },
        (ShapeType::Map, Value::Object(obj)) => match &shape.value {
            Some(vr) => {
                let value = model.shape(&vr.shape);
                out.push(b'{');
                for (i, (k, item)) in obj.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    let _ = serde_json::to_writer(&mut *out, k);
                    out.push(b':');
                    write_shape(model, value, item, out);
                }
                out.push(b'}');
            }
            None => leaf(v, out),
        },
        _ => leaf(v, out),
    }
}

pub fn serialize_error(
    model: &ServiceModel,
    err: &WireError,
    meta: ResponseMeta<'_>,
) -> HttpResponse {
    let prefix = model
        .overlay
        .json_error_type_prefix
        .as_deref()
        .unwrap_or("");
    let message_key = model
        .overlay
        .json_error_message_key
        .as_deref()
        .unwrap_or("message");
    let mut body = Map::new();
    body.insert(
        "__type".into(),
        Value::String(format!("{prefix}{}", err.code)),
    );
    body.insert(message_key.into(), Value::String(err.message.clone()));
    for (k, v) in &err.fields {
        body.insert(k.clone(), v.clone());
    }
    let mut headers = vec![
        ("Content-Type".into(), content_type(model)),
        ("x-amzn-RequestId".into(), meta.request_id.into()),
    ];
    if model.metadata.aws_query_compatible.is_some() {
        let code = model
            .overlay
            .query_error_codes
            .get(&err.code)
            .map(String::as_str)
            .unwrap_or(&err.code);
        let fault = if err.sender_fault {
            "Sender"
        } else {
            "Receiver"
        };
        headers.push(("x-amzn-query-error".into(), format!("{code};{fault}")));
    }
    HttpResponse {
        status: err.status,
        headers,
        body: serde_json::to_vec(&Value::Object(body)).unwrap_or_default(),
    }
}
