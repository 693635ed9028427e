//! SQS errors and their AWS codes, statuses and messages: the one place they are mapped. Codes
//! are the JSON protocol's (the model's shape names); the protocol layer turns them into the
//! legacy query codes (`AWS.SimpleQueueService.NonExistentQueue`, …) where AWS does.

use cloudemu_core::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum SqsError {
    #[error("The specified queue does not exist.")]
    QueueDoesNotExist,
    /// The queue was deleted after it was looked up (the caller may look again).
    #[error("The specified queue does not exist.")]
    QueueGone,
    #[error("A queue already exists with the same name and a different value for attribute {0}")]
    QueueNameExists(String),
    #[error("You must wait 60 seconds after deleting a queue before you can create another with the same name.")]
    QueueDeletedRecently,
    #[error("Only one PurgeQueue operation on {0} is allowed every 60 seconds.")]
    PurgeQueueInProgress(String),
    #[error("The input receipt handle \"{0}\" is not a valid receipt handle.")]
    ReceiptHandleIsInvalid(String),
    #[error("Value {0} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.")]
    MessageNotInflight(String),
    #[error("Maximum number of entries per request are 10. You have sent {0}.")]
    TooManyEntriesInBatchRequest(usize),
    #[error("There should be at least one {0} in the request.")]
    EmptyBatchRequest(&'static str),
    #[error("Id {0} repeated.")]
    BatchEntryIdsNotDistinct(String),
    #[error("Batch requested message too long. Reason: Batch size ({0} bytes) exceeds the maximum allowed ({1} bytes).")]
    BatchRequestTooLong(usize, i64),
    #[error("A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")]
    InvalidBatchEntryId,
    #[error("Unknown Attribute {0}.")]
    InvalidAttributeName(String),
    #[error("Invalid value for the parameter {0}.")]
    InvalidAttributeValue(String),
    #[error("Invalid binary character '{0}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")]
    InvalidMessageContents(String),
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("The request must contain the parameter {0}.")]
    MissingParameter(&'static str),
    #[error("{0}")]
    UnsupportedOperation(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    OverLimit(String),
    #[error(transparent)]
    Storage(#[from] cloudemu_storage::StorageError),
}

impl SqsError {
    /// The code a batch result entry carries for this error.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            SqsError::QueueDoesNotExist | SqsError::QueueGone => "QueueDoesNotExist",
            SqsError::QueueNameExists(_) => "QueueNameExists",
            SqsError::QueueDeletedRecently => "QueueDeletedRecently",
            SqsError::PurgeQueueInProgress(_) => "PurgeQueueInProgress",
            SqsError::ReceiptHandleIsInvalid(_) => "ReceiptHandleIsInvalid",
            SqsError::MessageNotInflight(_) => "MessageNotInflight",
            SqsError::TooManyEntriesInBatchRequest(_) => "TooManyEntriesInBatchRequest",
            SqsError::EmptyBatchRequest(_) => "EmptyBatchRequest",
            SqsError::BatchEntryIdsNotDistinct(_) => "BatchEntryIdsNotDistinct",
            SqsError::BatchRequestTooLong(..) => "BatchRequestTooLong",
            SqsError::InvalidBatchEntryId => "InvalidBatchEntryId",
            SqsError::InvalidAttributeName(_) => "InvalidAttributeName",
            SqsError::InvalidAttributeValue(_) => "InvalidAttributeValue",
            SqsError::InvalidMessageContents(_) => "InvalidMessageContents",
            SqsError::InvalidParameterValue(_) => "InvalidParameterValue",
            SqsError::MissingParameter(_) => "MissingParameter",
            SqsError::UnsupportedOperation(_) => "UnsupportedOperation",
            SqsError::ResourceNotFound(_) => "ResourceNotFoundException",
            SqsError::OverLimit(_) => "OverLimit",
            SqsError::Storage(_) => "InternalError",
        }
    }

    fn status(&self) -> u16 {
        match self {
            SqsError::PurgeQueueInProgress(_) | SqsError::OverLimit(_) => 403,
            SqsError::ResourceNotFound(_) => 404,
            _ => 400,
        }
    }
}

impl From<SqsError> for ServiceError {
    fn from(e: SqsError) -> Self {
        match e {
            SqsError::Storage(e) => ServiceError::internal(e),
            e => ServiceError::client(e.code(), e.status(), e.to_string()),
        }
    }
}
