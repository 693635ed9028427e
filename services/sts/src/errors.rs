//! STS errors and their AWS codes: the one place they are mapped.

use cloudemu_core::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum StsError {
    #[error("{0} is invalid")]
    InvalidRoleArn(String),
    #[error(transparent)]
    Storage(#[from] cloudemu_storage::StorageError),
}

impl From<StsError> for ServiceError {
    fn from(e: StsError) -> Self {
        match e {
            StsError::InvalidRoleArn(arn) => {
                ServiceError::client("ValidationError", 400, format!("{arn} is invalid"))
            }
            StsError::Storage(e) => ServiceError::internal(e),
        }
    }
}
