//! What every CloudEmu service shares and nothing more: the request context a service sees, the
//! error record it returns, and the trait the gateway calls. No HTTP, no wire formats.

pub mod body;
pub mod error;
pub mod hosted;
pub mod identity;
pub mod internal;
pub mod serde_helpers;

pub use body::{Body, ByteStream, Trailer};
pub use error::ServiceError;
pub use hosted::{HostedRequest, HostedResponse};
pub use internal::InternalClient;

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// Who is calling and where, as the gateway resolved it.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    /// 12-digit account the request acts in.
    pub account_id: String,
    pub region: String,
    /// The access key id the request was signed with, when it was signed.
    pub access_key_id: Option<String>,
    /// `host[:port]` exactly as the client addressed us (services build URLs from it).
    pub host: String,
    pub operation: String,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An operation's input: the model value tree, and the streaming payload when the operation
/// has one (otherwise `Body::Empty`).
#[derive(Debug)]
pub struct ServiceRequest {
    pub input: Value,
    pub body: Body,
    /// Input members sent after the body (trailers); complete once `body` has been read.
    pub trailer: Trailer,
    /// The body came in chunked transfer coding, so no length was declared before it (some
    /// services, S3 among them, refuse such bodies).
    pub chunked_transfer: bool,
}

/// An operation's output: the model value tree, and the streaming payload when the operation
/// returns one.
#[derive(Debug)]
pub struct ServiceResponse {
    pub output: Value,
    /// Top-level output members the service already holds as JSON text in the model's JSON
    /// form, i.e. what `output` would hold for them, serialized: stored documents (DynamoDB
    /// items) go to the client without being parsed into a value tree and written out again.
    /// Each text is valid JSON (the service's promise); a member given here is not in `output`.
    pub encoded: Vec<(String, String)>,
    pub body: Body,
    /// Headers the service sets beyond what the model serializes (they replace a header of the
    /// same name): facts of the wire the model lacks, such as a payload's real content type.
    pub headers: Vec<(String, String)>,
}

impl From<Value> for ServiceResponse {
    fn from(output: Value) -> Self {
        Self {
            output,
            encoded: Vec::new(),
            body: Body::Empty,
            headers: Vec::new(),
        }
    }
}

impl ServiceResponse {
    /// The whole output as one value tree, `encoded` members parsed into it: for callers that
    /// read the output rather than send it (in-process calls).
    pub fn into_output(self) -> Result<Value, serde_json::Error> {
        let mut output = self.output;
        for (member, text) in self.encoded {
            let v: Value = serde_json::from_str(&text)?;
            if let Value::Object(m) = &mut output {
                m.insert(member, v);
            }
        }
        Ok(output)
    }
}

/// A service: business logic behind operation names, fed and answering model-shaped values.
pub trait Service: Send + Sync + 'static {
    /// The service id (`sts`, `iam`, …), which is also its model's name.
    fn id(&self) -> &'static str;

    /// Operations this service implements; anything else in its model answers `NotImplemented`.
    fn operations(&self) -> &'static [&'static str];

    /// Run one operation. The input has passed the protocol layer's model validation.
    fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        request: ServiceRequest,
    ) -> BoxFuture<'a, Result<ServiceResponse, ServiceError>>;

    /// The concrete service, for admin endpoints that call a service's own methods.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }

    /// Called once after every service is built, with the client through which this service
    /// may call other services' operations ([`internal`]); background work that needs it
    /// (pollers, retry queues) starts here. Runs inside the Tokio runtime.
    fn attach(&self, _client: InternalClient) {}
    /// Whether requests under this host (without port) are the service's own, answered by
    /// [`Service::serve_hosted`] instead of an AWS API operation.
    fn claims_host(&self, _host: &str) -> bool {
        false
    }

    /// Answer a request under a host the service claims.
    fn serve_hosted(&self, _request: HostedRequest) -> BoxFuture<'_, HostedResponse> {
        Box::pin(async { HostedResponse::json(404, &serde_json::json!({"Message": "Not Found"})) })
    }

    /// The server is stopping: release what outlives requests (processes, scratch files).
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Deserialize the input, run a typed operation, serialize its output: the one place where model
/// values become the service's typed structs.
pub async fn typed<I, O, F, Fut>(input: Value, f: F) -> Result<Value, ServiceError>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(I) -> Fut,
    Fut: Future<Output = Result<O, ServiceError>>,
{
    let input = serde_json::from_value(input).map_err(bad_input)?;
    let output = f(input).await?;
    serde_json::to_value(output)
        .map_err(|e| ServiceError::internal(format!("output serialization failed: {e}")))
}

/// [`typed`] for an operation that builds its whole response itself (one with `encoded`
/// members): only the input is converted.
pub async fn typed_response<I, F, Fut>(input: Value, f: F) -> Result<ServiceResponse, ServiceError>
where
    I: DeserializeOwned,
    F: FnOnce(I) -> Fut,
    Fut: Future<Output = Result<ServiceResponse, ServiceError>>,
{
    f(serde_json::from_value(input).map_err(bad_input)?).await
}

fn bad_input(e: serde_json::Error) -> ServiceError {
    // Model validation passed, so this is an input the typed layer cannot represent: the
    // client's request, not a server fault.
    tracing::warn!(error = %e, "input does not fit the typed operation");
    ServiceError::client(
        "SerializationException",
        400,
        format!("The request could not be deserialized: {e}"),
    )
}
