//! Lambda errors and their AWS codes, statuses and messages: the one place they are mapped.

use cloudemu_core::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    /// Carries the function ARN, as Lambda's message does.
    #[error("Function not found: {0}")]
    FunctionNotFound(String),
    #[error("Function already exist: {0}")]
    FunctionExists(String),
    #[error("{0}")]
    InvalidParameter(String),
    /// Another resource than a function (policy statements).
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Validation(String),
    #[error("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")]
    RevisionMismatch,
    #[error("Request must be smaller than 6291456 bytes for the InvokeFunction operation")]
    PayloadTooLarge,
    #[error("Could not parse request body into json: {0}")]
    InvalidRequestContent(String),
    #[error("Rate Exceeded.")]
    Throttled,
    #[error(transparent)]
    Storage(#[from] cloudemu_storage::StorageError),
}

impl From<LambdaError> for ServiceError {
    fn from(e: LambdaError) -> Self {
        let msg = e.to_string();
        let err = match e {
            LambdaError::FunctionNotFound(_) => {
                ServiceError::client("ResourceNotFoundException", 404, msg)
            }
            LambdaError::ResourceNotFound(_) => {
                ServiceError::client("ResourceNotFoundException", 404, msg)
            }
            LambdaError::FunctionExists(_) | LambdaError::Conflict(_) => {
                ServiceError::client("ResourceConflictException", 409, msg)
            }
            LambdaError::InvalidParameter(_) => {
                ServiceError::client("InvalidParameterValueException", 400, msg)
            }
            LambdaError::Validation(_) => ServiceError::client("ValidationException", 400, msg),
            LambdaError::RevisionMismatch => {
                ServiceError::client("PreconditionFailedException", 412, msg)
            }
            LambdaError::PayloadTooLarge => {
                ServiceError::client("RequestTooLargeException", 413, msg)
            }
            LambdaError::InvalidRequestContent(_) => {
                ServiceError::client("InvalidRequestContentException", 400, msg)
            }
            LambdaError::Throttled => ServiceError::client("TooManyRequestsException", 429, msg)
                .with_field(
                    "Reason",
                    "ReservedFunctionConcurrentInvocationLimitExceeded",
                ),
            LambdaError::Storage(e) => return ServiceError::internal(e),
        };
        // Lambda's client errors carry `"Type": "User"` beside the message.
        err.with_field("Type", "User")
    }
}
