//! rest-xml (S3, S3 Control): HTTP bindings plus an XML body.
//!
//! Members without a location form the XML body under a root element, unless the shape names a
//! `payload` member: a structure payload is the root element itself, a blob or string payload
//! the raw body, and a streaming payload never enters the value tree.

use crate::rest::{self, xml_body};
use crate::rest_json::set_content_type;
use crate::timestamp::TimestampFormat;
use crate::xml::XmlWriter;
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
    rest::parse_with::<XmlCodec>(model, op, req)
}

struct XmlCodec;

impl rest::BodyCodec for XmlCodec {
    fn payload(
        model: &ServiceModel,
        r: &ShapeRef,
        body: &[u8],
    ) -> Result<Option<Value>, ProtocolError> {
        let root = crate::xml::parse(body).map_err(ProtocolError::Malformed)?;
        xml_body::from_element(model, r, &root).map(Some)
    }

    fn members(
        model: &ServiceModel,
        shape: &Shape,
        body: &[u8],
    ) -> Result<Map<String, Value>, ProtocolError> {
        let root = crate::xml::parse(body).map_err(ProtocolError::Malformed)?;
        xml_body::struct_from_element(model, shape, &root)
    }
}

/// A stand-in for S3's `x-amz-id-2` host id, derived from the request id so it is stable.
fn host_id(request_id: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(request_id)
}

fn base_response(status: u16, meta: ResponseMeta<'_>) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![
            ("x-amz-request-id".into(), meta.request_id.to_string()),
            ("x-amz-id-2".into(), host_id(meta.request_id)),
        ],
        body: Vec::new(),
    }
}

pub fn serialize_output(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
    meta: ResponseMeta<'_>,
) -> HttpResponse {
    let mut resp = base_response(op.http.response_code.unwrap_or(200), meta);
    let Some(oref) = op.output.as_ref() else {
        return resp;
    };
    let Some(shape) = model.shape(&oref.shape) else {
        return resp;
    };
    let empty = Map::new();
    let obj = output.as_object().unwrap_or(&empty);
    rest::serialize_locations(model, shape, obj, &mut resp);
    let content_type = match shape.payload.as_deref() {
        Some(p) => payload_body(model, shape, p, obj, &mut resp.body),
        None => {
            let has_body = shape.members.iter().any(|(name, m)| {
                rest::in_output_body(m) && obj.get(name).is_some_and(|v| !v.is_null())
            });
            let named_root = model.overlay.xml_root_names.get(&op.name);
            // A root the overlay names is always sent, even empty (S3's quiet DeleteResult).
            if has_body || named_root.is_some() {
                let root = oref
                    .location_name
                    .as_deref()
                    .or(shape.location_name.as_deref())
                    .or(named_root.map(String::as_str))
                    .unwrap_or(&oref.shape);
                let mut w = XmlWriter::new();
                w.declaration();
                let attrs = root_namespace(model, oref, shape);
                if model.overlay.xml_text_roots.contains(&op.name) {
                    let text = shape
                        .members
                        .iter()
                        .filter(|(_, m)| rest::in_output_body(m))
                        .find_map(|(name, m)| {
                            let v = obj.get(name).filter(|v| !v.is_null())?;
                            rest::scalar_to_text(model, m, v, TimestampFormat::Iso8601)
                        })
                        .unwrap_or_default();
                    let attrs: Vec<(&str, &str)> = attrs
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    w.open(root, &attrs);
                    w.text(&text);
                    w.close(root);
                } else {
                    xml_body::write_struct(&mut w, model, root, shape, obj, attrs);
                }
                resp.body = w.finish().into_bytes();
                Some("application/xml")
            } else {
                None
            }
        }
    };
    set_content_type(&mut resp, content_type);
    resp
}

/// The namespace declared on the root: the shape's own, else the service's (overlay).
fn root_namespace(
    model: &ServiceModel,
    r: &crate::ShapeRef,
    shape: &Shape,
) -> Vec<(String, String)> {
    if let Some(ns) = r.xml_namespace.as_ref().or(shape.xml_namespace.as_ref()) {
        return vec![rest::namespace_attr(ns)];
    }
    model
        .overlay
        .xml_namespace
        .as_ref()
        .map(|uri| vec![("xmlns".to_string(), uri.clone())])
        .unwrap_or_default()
}

fn payload_body(
    model: &ServiceModel,
    shape: &Shape,
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
            *body = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_else(|_| b64.clone().into_bytes());
            Some("application/octet-stream")
        }
        (ShapeType::String, Value::String(s)) => {
            *body = s.clone().into_bytes();
            Some("text/plain")
        }
        (ShapeType::Structure, Value::Object(pobj)) => {
            let root = m
                .location_name
                .as_deref()
                .or(pshape.location_name.as_deref())
                .unwrap_or(&m.shape);
            let mut w = XmlWriter::new();
            w.declaration();
            let attrs = root_namespace(model, m, pshape);
            xml_body::write_struct(&mut w, model, root, pshape, pobj, attrs);
            *body = w.finish().into_bytes();
            Some("application/xml")
        }
        _ => None,
    }
}

pub fn serialize_error(
    model: &ServiceModel,
    err: &WireError,
    meta: ResponseMeta<'_>,
) -> HttpResponse {
    let mut resp = base_response(err.status, meta);
    let shape = model.error_shape(&err.code).map(|(_, s)| s);
    if let Some(shape) = shape {
        rest::serialize_locations(model, shape, &err.fields, &mut resp);
    }
    let extra_headers = model.overlay.error_headers.get(&err.code);
    for (member, header) in extra_headers.into_iter().flatten() {
        let text = match err.fields.get(member) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => continue,
            Some(other) => other.to_string(),
        };
        resp.headers.push((header.clone(), text));
    }
    let mut w = XmlWriter::new();
    w.declaration();
    let bare = model.overlay.no_error_wrapping;
    if !bare {
        w.open("ErrorResponse", &[]);
    }
    w.open("Error", &[]);
    if !bare {
        w.element(
            "Type",
            if err.sender_fault {
                "Sender"
            } else {
                "Receiver"
            },
        );
    }
    w.element("Code", &err.code);
    w.element("Message", &err.message);
    for (name, v) in &err.fields {
        if matches!(name.as_str(), "Message" | "message" | "Code" | "Type")
            || extra_headers.is_some_and(|h| h.contains_key(name))
        {
            continue;
        }
        match shape.and_then(|s| s.members.get(name)) {
            Some(m) if !rest::in_output_body(m) => {}
            Some(m) => xml_body::write_member(&mut w, model, rest::wire_name(name, m), m, v),
            None => xml_body::write_untyped(&mut w, name, v),
        }
    }
    if bare {
        w.element("RequestId", meta.request_id);
        w.element("HostId", &host_id(meta.request_id));
        w.close("Error");
    } else {
        w.close("Error");
        w.element("RequestId", meta.request_id);
        w.close("ErrorResponse");
    }
    resp.body = w.finish().into_bytes();
    set_content_type(&mut resp, Some("application/xml"));
    resp
}
