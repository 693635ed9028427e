//! KMS errors and their AWS codes, statuses and messages: the one place they are mapped.

use cloudemu_core::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0} is disabled.")]
    Disabled(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("")]
    InvalidCiphertext,
    #[error("The key ID in the request does not identify a CMK that can perform this operation.")]
    IncorrectKey,
    #[error("{0}")]
    InvalidKeyUsage(String),
    #[error("")]
    InvalidSignature,
    #[error("")]
    InvalidMac,
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    InvalidMarker(String),
    #[error("{0}")]
    InvalidAliasName(String),
    #[error("{0}")]
    InvalidArn(String),
    #[error("{0}")]
    InvalidGrantToken(String),
    #[error("{0}")]
    InvalidGrantId(String),
    #[error("{0}")]
    MalformedPolicy(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    Tag(String),
    #[error("{0}")]
    InvalidImportToken(String),
    #[error("{0}")]
    IncorrectKeyMaterial(String),
    #[error("{0}")]
    ExpiredImportToken(String),
    #[error("The request would have succeeded, but the DryRun option is set.")]
    DryRun,
    /// Internal: a concurrent request already made this automatic rotation.
    #[error("rotation already done")]
    RotationRaced,
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Storage(#[from] cloudemu_storage::StorageError),
}

impl From<KmsError> for ServiceError {
    fn from(e: KmsError) -> Self {
        let msg = e.to_string();
        let code = match e {
            KmsError::NotFound(_) => "NotFoundException",
            KmsError::Disabled(_) => "DisabledException",
            KmsError::InvalidState(_) => "KMSInvalidStateException",
            KmsError::InvalidCiphertext => "InvalidCiphertextException",
            KmsError::IncorrectKey => "IncorrectKeyException",
            KmsError::InvalidKeyUsage(_) => "InvalidKeyUsageException",
            KmsError::InvalidSignature => "KMSInvalidSignatureException",
            KmsError::InvalidMac => "KMSInvalidMacException",
            KmsError::AlreadyExists(_) => "AlreadyExistsException",
            KmsError::Validation(_) => "ValidationException",
            KmsError::Unsupported(_) => "UnsupportedOperationException",
            KmsError::InvalidMarker(_) => "InvalidMarkerException",
            KmsError::InvalidAliasName(_) => "InvalidAliasNameException",
            KmsError::InvalidArn(_) => "InvalidArnException",
            KmsError::InvalidGrantToken(_) => "InvalidGrantTokenException",
            KmsError::InvalidGrantId(_) => "InvalidGrantIdException",
            KmsError::MalformedPolicy(_) => "MalformedPolicyDocumentException",
            KmsError::LimitExceeded(_) => "LimitExceededException",
            KmsError::Tag(_) => "TagException",
            KmsError::InvalidImportToken(_) => "InvalidImportTokenException",
            KmsError::IncorrectKeyMaterial(_) => "IncorrectKeyMaterialException",
            KmsError::ExpiredImportToken(_) => "ExpiredImportTokenException",
            // The one KMS error AWS answers with another status (KMS API reference).
            KmsError::DryRun => return ServiceError::client("DryRunOperationException", 412, msg),
            KmsError::Internal(m) => return ServiceError::internal(m),
            KmsError::RotationRaced => return ServiceError::internal("rotation race escaped"),
            KmsError::Storage(e) => return ServiceError::internal(e),
        };
        ServiceError::client(code, 400, msg)
    }
}
