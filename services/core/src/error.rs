//! The error record: what a service returns and the protocol layer serializes.

use serde_json::{Map, Value};

/// What AWS tells a client about a failure on its side; the cause stays in our log.
pub const INTERNAL_FAILURE_MESSAGE: &str =
    "The request processing has failed because of an unknown error, exception or failure.";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ServiceError {
    pub code: String,
    pub message: String,
    /// The HTTP status AWS answers this error with.
    pub status: u16,
    /// Client's fault (`Sender`) or ours (`Receiver`).
    pub sender_fault: bool,
    /// Extra members of the error shape.
    pub fields: Map<String, Value>,
}

impl ServiceError {
    /// A client error (sender fault).
    pub fn client(code: impl Into<String>, status: u16, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            status,
            sender_fault: true,
            fields: Map::new(),
        }
    }

    /// A server-side failure. The cause is logged; the client sees only a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal failure");
        Self {
            code: "InternalFailure".into(),
            message: INTERNAL_FAILURE_MESSAGE.into(),
            status: 500,
            sender_fault: false,
            fields: Map::new(),
        }
    }

    /// A modelled operation CloudEmu does not serve yet.
    pub fn not_implemented(service: &str, operation: &str) -> Self {
        Self {
            code: "NotImplemented".into(),
            message: format!(
                "The operation {operation} of service {service} is not implemented by CloudEmu yet"
            ),
            status: 501,
            sender_fault: false,
            fields: Map::new(),
        }
    }

    pub fn with_field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }
}
