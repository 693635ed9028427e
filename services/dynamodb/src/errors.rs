//! DynamoDB errors and their AWS codes and messages: the one place they are mapped. Every
//! DynamoDB client error answers HTTP 400.

use cloudemu_core::ServiceError;
use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum DynamoError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceInUse(String),
    #[error("{0}")]
    LimitExceeded(String),
    /// The continuous-backups calls name a missing table with their own code.
    #[error("Table not found: {0}")]
    TableNotFound(String),
    /// `item` is the existing item when the caller asked for it (`ALL_OLD`).
    #[error("The conditional request failed")]
    ConditionalCheckFailed { item: Option<Map<String, Value>> },
    /// `reasons` are the CancellationReasons, one per action in request order.
    #[error("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes.join(", "))]
    TransactionCanceled {
        codes: Vec<String>,
        reasons: Vec<Value>,
    },
    #[error("Duplicate primary key exists in table")]
    DuplicateItem,
    #[error("The request uses the same client token as a previous, but non-identical request.")]
    IdempotentParameterMismatch,
    #[error(transparent)]
    Storage(#[from] cloudemu_storage::StorageError),
}

impl DynamoError {
    pub fn validation(msg: impl Into<String>) -> Self {
        Self::Validation(msg.into())
    }

    /// AWS's prefix for most semantic checks.
    pub fn invalid(detail: impl std::fmt::Display) -> Self {
        Self::Validation(format!(
            "One or more parameter values were invalid: {detail}"
        ))
    }

    /// The data plane's answer for a table that does not exist.
    pub fn no_table() -> Self {
        Self::ResourceNotFound("Requested resource not found".into())
    }

    /// The control plane's answer, which names the table.
    pub fn table_not_found(name: &str) -> Self {
        Self::ResourceNotFound(format!(
            "Requested resource not found: Table: {name} not found"
        ))
    }
}

impl From<DynamoError> for ServiceError {
    fn from(e: DynamoError) -> Self {
        let msg = e.to_string();
        match e {
            DynamoError::Validation(_) => ServiceError::client("ValidationException", 400, msg),
            DynamoError::ResourceNotFound(_) => {
                ServiceError::client("ResourceNotFoundException", 400, msg)
            }
            DynamoError::ResourceInUse(_) => {
                ServiceError::client("ResourceInUseException", 400, msg)
            }
            DynamoError::LimitExceeded(_) => {
                ServiceError::client("LimitExceededException", 400, msg)
            }
            DynamoError::TableNotFound(_) => {
                ServiceError::client("TableNotFoundException", 400, msg)
            }
            DynamoError::ConditionalCheckFailed { item } => {
                let err = ServiceError::client("ConditionalCheckFailedException", 400, msg);
                match item {
                    Some(item) => err.with_field("Item", Value::Object(item)),
                    None => err,
                }
            }
            DynamoError::TransactionCanceled { reasons, .. } => {
                ServiceError::client("TransactionCanceledException", 400, msg)
                    .with_field("CancellationReasons", Value::Array(reasons))
            }
            DynamoError::DuplicateItem => ServiceError::client("DuplicateItemException", 400, msg),
            DynamoError::IdempotentParameterMismatch => {
                ServiceError::client("IdempotentParameterMismatchException", 400, msg)
            }
            DynamoError::Storage(e) => ServiceError::internal(e),
        }
    }
}

pub type Result<T> = std::result::Result<T, DynamoError>;
