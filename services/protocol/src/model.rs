//! botocore's service model (`service-2.json`) as typed data, plus CloudEmu's per-service overlay.
//!
//! Only what parsing, validation and serialization need is kept; unknown keys are ignored so a
//! newer botocore release never breaks loading.

use indexmap::IndexMap;
use serde::Deserialize;
use std::collections::HashMap;

/// Every request looks up shapes and members by name, dozens of times (~66 per SQS receive or
/// delete batch, callgrind): with the standard library's SipHash, hashing was ~11 % of an HTTP
/// worker's instructions. The tables hold the model's own names, fixed at load, so a fast
/// hasher without HashDoS resistance is enough.
pub type Fast = foldhash::fast::RandomState;

/// A loaded service model: metadata, operations by name, shapes by name, and the overlay.
#[derive(Debug)]
pub struct ServiceModel {
    pub metadata: Metadata,
    pub operations: IndexMap<String, Operation, Fast>,
    pub shapes: HashMap<String, Shape, Fast>,
    pub overlay: Overlay,
    /// Compiled `pattern` traits, by pattern text; `None` where the (Java) pattern has no Rust
    /// equivalent and is therefore not enforced.
    pub(crate) patterns: std::sync::RwLock<HashMap<String, Option<regex::Regex>, Fast>>,
}

#[derive(Debug, Deserialize)]
struct RawModel {
    metadata: Metadata,
    operations: IndexMap<String, Operation, Fast>,
    shapes: HashMap<String, Shape, Fast>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub api_version: String,
    #[serde(default)]
    pub endpoint_prefix: String,
    pub protocol: String,
    #[serde(default)]
    pub protocols: Vec<String>,
    pub json_version: Option<String>,
    pub target_prefix: Option<String>,
    pub signing_name: Option<String>,
    pub xml_namespace: Option<String>,
    pub aws_query_compatible: Option<serde_json::Value>,
    pub service_id: Option<String>,
    pub global_endpoint: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub name: String,
    pub http: Http,
    pub input: Option<ShapeRef>,
    pub output: Option<ShapeRef>,
    #[serde(default)]
    pub errors: Vec<ShapeRef>,
    #[serde(default)]
    pub deprecated: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Http {
    #[serde(default = "default_method")]
    pub method: String,
    #[serde(default = "default_uri")]
    pub request_uri: String,
    pub response_code: Option<u16>,
}

fn default_method() -> String {
    "POST".into()
}
fn default_uri() -> String {
    "/".into()
}

/// A reference to a shape from an operation or a member, with the traits that apply at that use.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ShapeRef {
    pub shape: String,
    /// `header`, `headers` (prefix map), `querystring`, `uri`, `statusCode`; absent = body.
    pub location: Option<String>,
    pub location_name: Option<String>,
    pub query_name: Option<String>,
    pub flattened: Option<bool>,
    pub xml_attribute: Option<bool>,
    pub xml_namespace: Option<XmlNamespace>,
    pub timestamp_format: Option<String>,
    pub result_wrapper: Option<String>,
    #[serde(default)]
    pub streaming: bool,
    #[serde(default)]
    pub host_label: bool,
    #[serde(default)]
    pub idempotency_token: bool,
    #[serde(default)]
    pub json_value: bool,
    #[serde(default)]
    pub event_payload: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum XmlNamespace {
    Uri(String),
    Full { prefix: Option<String>, uri: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeType {
    Structure,
    List,
    Map,
    String,
    Integer,
    Long,
    Float,
    Double,
    Boolean,
    Blob,
    Timestamp,
    Byte,
    Short,
    #[serde(rename = "bigdecimal")]
    BigDecimal,
    #[serde(rename = "biginteger")]
    BigInteger,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    #[serde(rename = "type")]
    pub kind: ShapeType,
    #[serde(default)]
    pub members: IndexMap<String, ShapeRef, Fast>,
    #[serde(default)]
    pub required: Vec<String>,
    /// List element.
    pub member: Option<Box<ShapeRef>>,
    /// Map key and value.
    pub key: Option<Box<ShapeRef>>,
    pub value: Option<Box<ShapeRef>>,
    #[serde(rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<String>,
    #[serde(default)]
    pub flattened: bool,
    pub location_name: Option<String>,
    pub xml_namespace: Option<XmlNamespace>,
    pub timestamp_format: Option<String>,
    /// Structure member sent as the whole HTTP body (rest protocols).
    pub payload: Option<String>,
    #[serde(default)]
    pub streaming: bool,
    #[serde(default)]
    pub exception: bool,
    pub error: Option<ErrorTrait>,
    #[serde(default)]
    pub union: bool,
    #[serde(default)]
    pub document: bool,
    #[serde(default)]
    pub event_stream: bool,
    #[serde(default)]
    pub sensitive: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorTrait {
    pub code: Option<String>,
    pub http_status_code: Option<u16>,
    #[serde(default)]
    pub sender_fault: bool,
}

/// Server-side facts the botocore model does not carry. One JSON file per service under
/// `services/models/overlay/`; each file says where its facts come from.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Overlay {
    /// Code of the error for failed input validation (`ValidationError` for query services,
    /// `ValidationException` for most JSON services).
    pub validation_error_code: Option<String>,
    /// Prefix of `__type` in JSON error bodies (e.g. `com.amazonaws.dynamodb.v20120810#`).
    pub json_error_type_prefix: Option<String>,
    /// Name of the message member in JSON error bodies (`message` unless the service differs).
    pub json_error_message_key: Option<String>,
    /// Extra `X-Amz-Target` prefixes that reach this service over JSON (e.g. STS's JSON dialect).
    #[serde(default)]
    pub json_target_prefixes: Vec<String>,
    /// Error code -> legacy query error code (`awsQueryCompatible` services).
    #[serde(default)]
    pub query_error_codes: HashMap<String, String>,
    /// Operation name -> XML root element of its rest-xml response where the model lacks one.
    #[serde(default)]
    pub xml_root_names: HashMap<String, String>,
    /// The service has no validation layer for enum values: it takes any string and answers
    /// unknown ones with its own errors (S3: `InvalidLocationConstraint`, `InvalidStorageClass`;
    /// SQS: `InvalidAttributeName` for an unknown attribute name).
    #[serde(default)]
    pub open_enums: bool,
    /// Code for a request body that is not well-formed (S3's `MalformedXML`), where it differs
    /// from the validation code.
    pub malformed_error_code: Option<String>,
    /// Model patterns the service itself does not enforce (S3 Control's resource-ARN pattern
    /// rejects the bucket ARNs S3 Control accepts).
    #[serde(default)]
    pub unenforced_patterns: Vec<String>,
    /// Operations whose rest-xml response root is the text of the output's one body member
    /// (S3's `<LocationConstraint>eu-west-2</LocationConstraint>`).
    #[serde(default)]
    pub xml_text_roots: Vec<String>,
    /// rest-xml errors are a bare `<Error>` (S3) instead of `<ErrorResponse><Error>`.
    #[serde(default)]
    pub no_error_wrapping: bool,
    /// Namespace declared on rest-xml response roots whose shape declares none (S3's
    /// `http://s3.amazonaws.com/doc/2006-03-01/`).
    pub xml_namespace: Option<String>,
    /// Query-protocol input member that old clients leave out and instead post to the
    /// resource's own URL (SQS's `QueueUrl`: `POST /<account>/<queue>`): the gateway fills it
    /// with the request's URL.
    pub query_url_member: Option<String>,
    /// Code for a missing required top-level member, worded "The request must contain the
    /// parameter X." (SQS's `MissingParameter`), instead of the generic validation error.
    pub missing_parameter_code: Option<String>,
    /// Error code -> (error member -> HTTP header): headers some errors carry that their
    /// model shape does not declare (S3's `x-amz-delete-marker` on a 404 `NoSuchKey`). Such
    /// members go in the header, not the body.
    #[serde(default)]
    pub error_headers: HashMap<String, HashMap<String, String>>,
    /// Free text: where the facts in this overlay come from.
    #[serde(default)]
    pub source: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("invalid service model: {0}")]
    Model(serde_json::Error),
    #[error("invalid overlay: {0}")]
    Overlay(serde_json::Error),
}

/// The wire protocol family of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// awsQuery: form-encoded request, XML response.
    Query,
    /// awsJson 1.0 / 1.1: `X-Amz-Target`, JSON both ways.
    Json,
    RestJson,
    RestXml,
}

impl ServiceModel {
    pub fn from_json(model: &str, overlay: Option<&str>) -> Result<Self, ModelError> {
        let raw: RawModel = serde_json::from_str(model).map_err(ModelError::Model)?;
        let overlay = match overlay {
            Some(text) => serde_json::from_str(text).map_err(ModelError::Overlay)?,
            None => Overlay::default(),
        };
        Ok(Self {
            metadata: raw.metadata,
            operations: raw.operations,
            shapes: raw.shapes,
            overlay,
            patterns: Default::default(),
        })
    }

    /// The protocol the model declares first.
    pub fn protocol(&self) -> Protocol {
        match self.metadata.protocol.as_str() {
            "query" | "ec2" => Protocol::Query,
            "json" => Protocol::Json,
            "rest-json" => Protocol::RestJson,
            _ => Protocol::RestXml,
        }
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    /// A shape by name. Models are validated at load in tests, so a missing shape is a model bug;
    /// callers treat `None` as "no shape" rather than panic.
    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    pub fn json_version(&self) -> &str {
        self.metadata.json_version.as_deref().unwrap_or("1.0")
    }

    /// The error shape whose code (error.code, else the shape name) is `code`.
    pub fn error_shape(&self, code: &str) -> Option<(&str, &Shape)> {
        self.shapes.iter().find_map(|(name, s)| {
            if !s.exception {
                return None;
            }
            let c = s
                .error
                .as_ref()
                .and_then(|e| e.code.as_deref())
                .unwrap_or(name);
            (c == code || name == code).then_some((name.as_str(), s))
        })
    }
}
