//! AWS IAM: the calls the Terraform provider and SDK users make about roles and the caller.
//! IAM is global: everything is scoped by account only.

mod errors;
mod paging;
mod role_policies;
mod roles;
mod shapes;
mod users;

use cloudemu_core::{
    typed, BoxFuture, RequestContext, Service, ServiceError, ServiceRequest, ServiceResponse,
};
use cloudemu_storage::iam::IamStore;
use serde_json::Value;

pub use errors::IamError;

pub struct Iam {
    store: IamStore,
}

impl Iam {
    pub fn new(store: IamStore) -> Self {
        Self { store }
    }
}

pub const OPERATIONS: &[&str] = &[
    "AttachRolePolicy",
    "CreateRole",
    "DeleteRole",
    "DeleteRolePermissionsBoundary",
    "DeleteRolePolicy",
    "DetachRolePolicy",
    "GetRole",
    "GetRolePolicy",
    "GetUser",
    "ListAttachedRolePolicies",
    "ListInstanceProfilesForRole",
    "ListRolePolicies",
    "ListRoleTags",
    "ListRoles",
    "PutRolePermissionsBoundary",
    "PutRolePolicy",
    "TagRole",
    "UntagRole",
    "UpdateAssumeRolePolicy",
    "UpdateRole",
    "UpdateRoleDescription",
];

/// Route an operation to its typed handler; `$h` is a method of `Iam`.
macro_rules! route {
    ($self:ident, $ctx:ident, $input:ident, $h:ident) => {
        typed($input, |i| async move { Ok($self.$h($ctx, i).await?) }).await
    };
}

impl Service for Iam {
    fn id(&self) -> &'static str {
        "iam"
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        request: ServiceRequest,
    ) -> BoxFuture<'a, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            let input = request.input;
            let output: Result<Value, ServiceError> = match operation {
                "CreateRole" => route!(self, ctx, input, create_role),
                "GetRole" => route!(self, ctx, input, get_role),
                "DeleteRole" => route!(self, ctx, input, delete_role),
                "ListRoles" => route!(self, ctx, input, list_roles),
                "UpdateRole" => route!(self, ctx, input, update_role),
                "UpdateRoleDescription" => route!(self, ctx, input, update_role_description),
                "UpdateAssumeRolePolicy" => route!(self, ctx, input, update_assume_role_policy),
                "TagRole" => route!(self, ctx, input, tag_role),
                "UntagRole" => route!(self, ctx, input, untag_role),
                "ListRoleTags" => route!(self, ctx, input, list_role_tags),
                "ListInstanceProfilesForRole" => {
                    route!(self, ctx, input, list_instance_profiles_for_role)
                }
                "PutRolePolicy" => route!(self, ctx, input, put_role_policy),
                "PutRolePermissionsBoundary" => {
                    route!(self, ctx, input, put_role_permissions_boundary)
                }
                "DeleteRolePermissionsBoundary" => {
                    route!(self, ctx, input, delete_role_permissions_boundary)
                }
                "GetRolePolicy" => route!(self, ctx, input, get_role_policy),
                "DeleteRolePolicy" => route!(self, ctx, input, delete_role_policy),
                "ListRolePolicies" => route!(self, ctx, input, list_role_policies),
                "AttachRolePolicy" => route!(self, ctx, input, attach_role_policy),
                "DetachRolePolicy" => route!(self, ctx, input, detach_role_policy),
                "ListAttachedRolePolicies" => route!(self, ctx, input, list_attached_role_policies),
                "GetUser" => route!(self, ctx, input, get_user),
                other => Err(ServiceError::not_implemented("iam", other)),
            };
            output.map(ServiceResponse::from)
        })
    }
}

/// IAM returns policy documents URL-encoded (RFC 3986: spaces as `%20`), and SDKs decode them.
pub(crate) fn url_encode_policy(doc: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(doc, UNRESERVED).to_string()
}

/// Policy documents must be JSON objects; AWS answers `MalformedPolicyDocument` otherwise.
pub(crate) fn check_policy_document(doc: &str) -> Result<(), IamError> {
    match serde_json::from_str::<Value>(doc) {
        Ok(Value::Object(_)) => Ok(()),
        _ => Err(IamError::MalformedPolicy(
            "This policy contains invalid Json".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn policies_are_encoded_as_iam_does() {
        assert_eq!(
            super::url_encode_policy(r#"{"Version": "2012-10-17"}"#),
            "%7B%22Version%22%3A%20%222012-10-17%22%7D"
        );
    }
}
