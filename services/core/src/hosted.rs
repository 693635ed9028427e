//! Requests a service answers itself, outside any AWS API model: addressed by a host name the
//! service owns (Lambda function URLs, `<url-id>.lambda-url.<region>.<host>`). The gateway
//! hands them over as plain records, so a service still never sees the HTTP server.

/// One request under a host a service claims.
#[derive(Debug, Clone)]
pub struct HostedRequest {
    pub request_id: String,
    /// `host[:port]` exactly as the client sent it.
    pub host: String,
    pub method: String,
    /// Raw path, still percent-encoded.
    pub path: String,
    /// Raw query string without `?`.
    pub query: String,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
    pub source_ip: String,
    /// The request line's protocol (`HTTP/1.1`).
    pub protocol: String,
}

/// The answer, sent as is.
#[derive(Debug, Clone)]
pub struct HostedResponse {
    pub status: u16,
    /// Repeated names are sent repeated (`Set-Cookie`).
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
}

impl HostedResponse {
    /// A JSON body with its content type.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: bytes::Bytes::from(body.to_string()),
        }
    }
}
