//! rest-json (Lambda, ...): HTTP bindings plus a JSON body.
//!
//! Members without a location form the JSON body, unless the shape names a `payload` member:
//! a structure (or document) payload is the whole JSON body, a blob or string payload the raw
//! body, and a streaming payload never enters the value tree (the caller handles the stream).

use crate::rest::{self, json_body};
use crate::{
    HttpRequest, HttpResponse, Operation, ProtocolError, ResponseMeta, ServiceModel, Shape,
    ShapeRef, ShapeType, WireError,
};
use base64::Engine;
use serde_json::{Map, Value};

pub fn parse(
    model: &ServiceModel,
    op: &Operation,
    req: &HttpRequest<'_>,
) -> Result<Value, ProtocolError> {
    rest::parse_with::<JsonCodec>(model, op, req)
}

struct JsonCodec;

impl rest::BodyCodec for JsonCodec {
    fn payload(
        model: &ServiceModel,
        r: &ShapeRef,
        body: &[u8],
    ) -> Result<Option<Value>, ProtocolError> {
        json_body::from_wire(model, r, &parse_json(body)?)
    }

    fn members(
        model: &ServiceModel,
        shape: &Shape,
        body: &[u8],
    ) -> Result<Map<String, Value>, ProtocolError> {
        let doc = parse_json(body)?;
        let obj = doc
            .as_object()
            .ok_or_else(|| ProtocolError::Malformed("JSON body is not an object".into()))?;
        json_body::struct_from_wire(model, shape, obj)
    }
}

fn parse_json(body: &[u8]) -> Result<Value, ProtocolError> {
    serde_json::from_slice(body).map_err(|e| ProtocolError::Malformed(format!("invalid JSON: {e}")))
}

pub fn serialize_output(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
    meta: ResponseMeta<'_>,
) -> HttpResponse {
    let mut resp = HttpResponse {
        status: op.http.response_code.unwrap_or(200),
        headers: vec![("x-amzn-RequestId".into(), meta.request_id.to_string())],
        body: Vec::new(),
    };
    let Some(shape) = op.output.as_ref().and_then(|r| model.shape(&r.shape)) else {
        return resp;
    };
    let empty = Map::new();
    let obj = output.as_object().unwrap_or(&empty);
    rest::serialize_locations(model, shape, obj, &mut resp);
    let content_type = match shape.payload.as_deref() {
        Some(p) => payload_body(model, shape, p, obj, &mut resp.body),
        None => {
            let wire = json_body::struct_to_wire(model, shape, obj);
            resp.body = serde_json::to_vec(&Value::Object(wire)).unwrap_or_default();
            Some("application/json")
        }
    };
    set_content_type(&mut resp, content_type);
    resp
}

/// Write a payload member as the body; returns the content type it implies.
fn payload_body(
    model: &ServiceModel,
    shape: &crate::Shape,
    p: &str,
    obj: &Map<String, Value>,
    body: &mut Vec<u8>,
) -> Option<&'static str> {
    let m = shape.members.get(p)?;
    let pshape = model.shape(&m.shape)?;
    if rest::is_streaming(m, pshape) {
        return None;
    }
    let v = obj.get(p).filter(|v| !v.is_null())?;
    match (pshape.kind, v) {
        (ShapeType::Blob, Value::String(b64)) => {
            // A blob that is not valid base64 is sent as its text rather than dropped.
            *body = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_else(|_| b64.clone().into_bytes());
            Some("application/octet-stream")
        }
        (ShapeType::String, Value::String(s)) => {
            *body = s.clone().into_bytes();
            Some("text/plain")
        }
        _ => {
            let wire = json_body::to_wire(model, m, v)?;
            *body = serde_json::to_vec(&wire).unwrap_or_default();
            Some("application/json")
        }
    }
}

/// Content-Type unless an output member already set it.
pub(crate) fn set_content_type(resp: &mut HttpResponse, content_type: Option<&str>) {
    let Some(ct) = content_type else {
        return;
    };
    if !resp
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        resp.headers.push(("Content-Type".into(), ct.to_string()));
    }
}

pub fn serialize_error(
    model: &ServiceModel,
    err: &WireError,
    meta: ResponseMeta<'_>,
) -> HttpResponse {
    let mut resp = HttpResponse {
        status: err.status,
        headers: vec![
            ("X-Amzn-ErrorType".into(), err.code.clone()),
            ("x-amzn-RequestId".into(), meta.request_id.to_string()),
        ],
        body: Vec::new(),
    };
    let key = model
        .overlay
        .json_error_message_key
        .as_deref()
        .unwrap_or("message");
    let mut body = Map::new();
    body.insert(key.to_string(), Value::String(err.message.clone()));
    let shape = model.error_shape(&err.code).map(|(_, s)| s);
    if let Some(shape) = shape {
        rest::serialize_locations(model, shape, &err.fields, &mut resp);
    }
    for (name, v) in &err.fields {
        if name.eq_ignore_ascii_case("message") {
            continue;
        }
        match shape.and_then(|s| s.members.get(name)) {
            Some(m) if !rest::in_output_body(m) => {}
            Some(m) => {
                if let Some(w) = json_body::to_wire(model, m, v) {
                    body.insert(rest::wire_name(name, m).to_string(), w);
                }
            }
            None => {
                body.insert(name.clone(), v.clone());
            }
        }
    }
    resp.body = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    set_content_type(&mut resp, Some("application/json"));
    resp
}
