//! IAM errors and their AWS codes, statuses and messages: the one place they are mapped.

use cloudemu_core::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error("The role with name {0} cannot be found.")]
    NoSuchRole(String),
    #[error("The user with name {0} cannot be found.")]
    NoSuchUser(String),
    #[error("The role policy with name {0} cannot be found.")]
    NoSuchRolePolicy(String),
    #[error("Policy {0} was not found.")]
    PolicyNotAttached(String),
    #[error("Role with name {0} already exists.")]
    RoleExists(String),
    #[error("Cannot delete entity, must delete policies first.")]
    RoleHasInlinePolicies,
    #[error("Cannot delete entity, must detach all policies first.")]
    RoleHasAttachedPolicies,
    #[error("{0}")]
    MalformedPolicy(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error(transparent)]
    Storage(#[from] cloudemu_storage::StorageError),
}

impl From<IamError> for ServiceError {
    fn from(e: IamError) -> Self {
        let msg = e.to_string();
        match e {
            IamError::NoSuchRole(_)
            | IamError::NoSuchUser(_)
            | IamError::NoSuchRolePolicy(_)
            | IamError::PolicyNotAttached(_) => ServiceError::client("NoSuchEntity", 404, msg),
            IamError::RoleExists(_) => ServiceError::client("EntityAlreadyExists", 409, msg),
            IamError::RoleHasInlinePolicies | IamError::RoleHasAttachedPolicies => {
                ServiceError::client("DeleteConflict", 409, msg)
            }
            IamError::MalformedPolicy(_) => {
                ServiceError::client("MalformedPolicyDocument", 400, msg)
            }
            IamError::InvalidInput(_) => ServiceError::client("InvalidInput", 400, msg),
            IamError::LimitExceeded(_) => ServiceError::client("LimitExceeded", 409, msg),
            IamError::Storage(e) => ServiceError::internal(e),
        }
    }
}
