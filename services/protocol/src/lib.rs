//! The model-driven AWS protocol engine.
//!
//! It knows no service: everything it does is read from a [`ServiceModel`] (botocore's
//! `service-2.json` plus an overlay). Requests are parsed into a `serde_json::Value` tree whose
//! shape mirrors the model's input shape; outputs come back as the same kind of tree and are
//! serialized as the protocol requires.
//!
//! Value conventions (the contract between this crate and the services):
//! - structure: a JSON object keyed by the model's member names; absent members are omitted;
//! - list: array; map: object; string and enum: string; boolean: bool;
//! - integer, long: integer number; float, double: number;
//! - blob: standard base64 string (not for streaming payloads, which never enter the tree);
//! - timestamp: number of seconds since the Unix epoch (fractional allowed).

pub mod json;
pub mod model;
mod path;
pub mod query;
pub mod rest;
pub mod rest_json;
pub mod rest_xml;
pub mod timestamp;
pub mod validate;
pub mod xml;

pub use model::{Operation, Protocol, ServiceModel, Shape, ShapeRef, ShapeType};
use serde_json::Value;

/// `obj.get(name)` for the model's walks over a structure's members. Request and reply objects
/// hold a handful of keys, and comparing those with `name` costs less than hashing it
/// (serde_json's map hashes with SipHash); larger objects are hashed.
pub(crate) fn get_member<'v>(
    obj: &'v serde_json::Map<String, Value>,
    name: &str,
) -> Option<&'v Value> {
    if obj.len() <= 8 {
        obj.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v)
    } else {
        obj.get(name)
    }
}

/// Request headers with lower-cased names, in arrival order.
#[derive(Debug, Clone, Default)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// First value of a header (name matched case-insensitively).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header joined by commas, as HTTP allows a list header to be sent
    /// either way (the Rust SDK sends one line per item).
    pub fn joined(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    }
}

/// What the engine needs of an HTTP request. `path` and `query` are raw (still percent-encoded).
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a Headers,
    pub body: &'a [u8],
}

/// A serialized response. For operations whose output payload is streaming, `body` is empty and
/// the caller attaches the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// An AWS error on its way to the wire: the record every service error becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct WireError {
    pub code: String,
    pub message: String,
    pub status: u16,
    /// `Sender` (client) or `Receiver` (server) fault.
    pub sender_fault: bool,
    /// Extra members of the error shape (e.g. `CancellationReasons`, S3's `Key`, `BucketName`).
    pub fields: serde_json::Map<String, Value>,
}

/// Per-response facts the serializers need besides the output value.
#[derive(Debug, Clone, Copy)]
pub struct ResponseMeta<'a> {
    pub request_id: &'a str,
}

/// Why a request could not be turned into an input value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProtocolError {
    /// The body or a parameter is not well-formed for the protocol (bad JSON, bad XML, a number
    /// that is not a number, ...). JSON services answer `SerializationException`.
    #[error("{0}")]
    Malformed(String),
    /// The request does not match any operation of the service.
    #[error("unknown operation: {0}")]
    UnknownOperation(String),
}

/// Parse a request for `op` into its input value, according to `protocol`.
pub fn parse_request(
    model: &ServiceModel,
    protocol: Protocol,
    op: &Operation,
    req: &HttpRequest<'_>,
) -> Result<Value, ProtocolError> {
    match protocol {
        Protocol::Query => query::parse(model, op, req),
        Protocol::Json => json::parse(model, op, req),
        Protocol::RestJson => rest_json::parse(model, op, req),
        Protocol::RestXml => rest_xml::parse(model, op, req),
    }
}

/// Serialize an operation's output value.
pub fn serialize_output(
    model: &ServiceModel,
    protocol: Protocol,
    op: &Operation,
    output: &Value,
    meta: ResponseMeta<'_>,
) -> HttpResponse {
    match protocol {
        Protocol::Query => query::serialize_output(model, op, output, meta),
        Protocol::Json => json::serialize_output(model, op, output, meta),
        Protocol::RestJson => rest_json::serialize_output(model, op, output, meta),
        Protocol::RestXml => rest_xml::serialize_output(model, op, output, meta),
    }
}

/// [`serialize_output`] with some top-level members given as JSON text in the model's JSON
/// form (`(member, text)`, each valid JSON, not also in `output`). JSON protocols write the
/// text as it is, so stored documents reach the client without a parse and re-encode; the
/// other protocols parse it into the value tree first.
pub fn serialize_output_encoded(
    model: &ServiceModel,
    protocol: Protocol,
    op: &Operation,
    output: &Value,
    encoded: &[(String, String)],
    meta: ResponseMeta<'_>,
) -> HttpResponse {
    if encoded.is_empty() {
        return serialize_output(model, protocol, op, output, meta);
    }
    if protocol == Protocol::Json {
        return json::serialize_output_encoded(model, op, output, encoded, meta);
    }
    let mut merged = output.clone();
    if let Value::Object(m) = &mut merged {
        for (member, text) in encoded {
            if let Ok(v) = serde_json::from_str(text) {
                m.insert(member.clone(), v);
            }
        }
    }
    serialize_output(model, protocol, op, &merged, meta)
}

/// Serialize an error in the protocol's error shape.
pub fn serialize_error(
    model: &ServiceModel,
    protocol: Protocol,
    err: &WireError,
    meta: ResponseMeta<'_>,
) -> HttpResponse {
    match protocol {
        Protocol::Query => query::serialize_error(model, err, meta),
        Protocol::Json => json::serialize_error(model, err, meta),
        Protocol::RestJson => rest_json::serialize_error(model, err, meta),
        Protocol::RestXml => rest_xml::serialize_error(model, err, meta),
    }
}

/// The input member sent as a streaming HTTP body (S3 `PutObject`'s `Body`), if any: such a body
/// never enters the value tree and reaches the service as a stream.
pub fn streaming_input_member<'m>(model: &'m ServiceModel, op: &Operation) -> Option<&'m str> {
    streaming_payload(model, op.input.as_ref()?)
}

/// The output member returned as a streaming HTTP body (S3 `GetObject`'s `Body`), if any.
pub fn streaming_output_member<'m>(model: &'m ServiceModel, op: &Operation) -> Option<&'m str> {
    streaming_payload(model, op.output.as_ref()?)
}

fn streaming_payload<'m>(model: &'m ServiceModel, r: &ShapeRef) -> Option<&'m str> {
    let shape = model.shape(&r.shape)?;
    let name = shape.payload.as_deref()?;
    let member = shape.members.get(name)?;
    let streaming = member.streaming || model.shape(&member.shape).is_some_and(|s| s.streaming);
    streaming.then_some(name)
}
