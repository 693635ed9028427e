//! A role's inline policies and attached managed policies.

use crate::errors::IamError;
use crate::paging::page;
use crate::shapes::*;
use crate::{check_policy_document, url_encode_policy, Iam};
use chrono::Utc;
use cloudemu_core::RequestContext;
use cloudemu_storage::iam::QuotaWrite;

/// AWS's default quota of managed policies per role.
const MAX_ATTACHED_POLICIES: i64 = 10;

pub(crate) fn is_policy_arn(arn: &str) -> bool {
    policy_name_of(arn).is_some()
}

/// `arn:aws:iam::(aws|<account>):policy/<path/>name` → name.
fn policy_name_of(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let (Some(_partition), Some("iam"), Some(""), Some(owner), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let owner_ok =
        owner == "aws" || (owner.len() == 12 && owner.bytes().all(|b| b.is_ascii_digit()));
    let name = resource.strip_prefix("policy/")?.rsplit('/').next()?;
    (owner_ok && !name.is_empty()).then_some(name)
}

impl Iam {
    pub(crate) async fn put_role_policy(
        &self,
        ctx: &RequestContext,
        input: PutRolePolicyRequest,
    ) -> Result<Empty, IamError> {
        check_policy_document(&input.policy_document)?;
        let r = self.require_role(ctx, &input.role_name).await?;
        let stored = self
            .store
            .put_role_policy(
                &ctx.account_id,
                &r.role_name,
                &input.policy_name,
                &input.policy_document,
            )
            .await?;
        if !stored {
            return Err(IamError::NoSuchRole(r.role_name));
        }
        Ok(Empty {})
    }

    pub(crate) async fn get_role_policy(
        &self,
        ctx: &RequestContext,
        input: RolePolicyRequest,
    ) -> Result<GetRolePolicyResponse, IamError> {
        let r = self.require_role(ctx, &input.role_name).await?;
        let doc = self
            .store
            .get_role_policy(&ctx.account_id, &r.role_name, &input.policy_name)
            .await?
            .ok_or_else(|| IamError::NoSuchRolePolicy(input.policy_name.clone()))?;
        Ok(GetRolePolicyResponse {
            role_name: r.role_name,
            policy_name: input.policy_name,
            policy_document: url_encode_policy(&doc),
        })
    }

    pub(crate) async fn delete_role_policy(
        &self,
        ctx: &RequestContext,
        input: RolePolicyRequest,
    ) -> Result<Empty, IamError> {
        let r = self.require_role(ctx, &input.role_name).await?;
        if !self
            .store
            .delete_role_policy(&ctx.account_id, &r.role_name, &input.policy_name)
            .await?
        {
            return Err(IamError::NoSuchRolePolicy(input.policy_name));
        }
        Ok(Empty {})
    }

    pub(crate) async fn list_role_policies(
        &self,
        ctx: &RequestContext,
        input: ListRequest,
    ) -> Result<ListRolePoliciesResponse, IamError> {
        let r = self
            .require_role(ctx, &input.role_name.unwrap_or_default())
            .await?;
        let names = self
            .store
            .list_role_policies(&ctx.account_id, &r.role_name)
            .await?;
        let (policy_names, is_truncated, marker) =
            page(names, input.marker.as_deref(), input.max_items)?;
        Ok(ListRolePoliciesResponse {
            policy_names,
            is_truncated,
            marker,
        })
    }

    pub(crate) async fn attach_role_policy(
        &self,
        ctx: &RequestContext,
        input: PolicyArnRequest,
    ) -> Result<Empty, IamError> {
        if !is_policy_arn(&input.policy_arn) {
            return Err(IamError::InvalidInput(format!(
                "ARN {} is not valid.",
                input.policy_arn
            )));
        }
        let r = self.require_role(ctx, &input.role_name).await?;
        let now = Utc::now().timestamp_millis() as f64 / 1000.0;
        let outcome = self
            .store
            .attach_role_policy(
                &ctx.account_id,
                &r.role_name,
                &input.policy_arn,
                MAX_ATTACHED_POLICIES,
                now,
            )
            .await?;
        match outcome {
            QuotaWrite::Done => Ok(Empty {}),
            QuotaWrite::NoSuchRole => Err(IamError::NoSuchRole(r.role_name)),
            QuotaWrite::LimitExceeded => Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for PoliciesPerRole: {MAX_ATTACHED_POLICIES}"
            ))),
        }
    }

    pub(crate) async fn detach_role_policy(
        &self,
        ctx: &RequestContext,
        input: PolicyArnRequest,
    ) -> Result<Empty, IamError> {
        let r = self.require_role(ctx, &input.role_name).await?;
        if !self
            .store
            .detach_role_policy(&ctx.account_id, &r.role_name, &input.policy_arn)
            .await?
        {
            return Err(IamError::PolicyNotAttached(input.policy_arn));
        }
        Ok(Empty {})
    }

    pub(crate) async fn list_attached_role_policies(
        &self,
        ctx: &RequestContext,
        input: ListRequest,
    ) -> Result<ListAttachedRolePoliciesResponse, IamError> {
        let r = self
            .require_role(ctx, &input.role_name.unwrap_or_default())
            .await?;
        let arns = self
            .store
            .list_attached_role_policies(&ctx.account_id, &r.role_name)
            .await?;
        let (arns, is_truncated, marker) = page(arns, input.marker.as_deref(), input.max_items)?;
        Ok(ListAttachedRolePoliciesResponse {
            attached_policies: arns
                .into_iter()
                .map(|arn| AttachedPolicy {
                    policy_name: policy_name_of(&arn).unwrap_or_default().to_string(),
                    policy_arn: arn,
                })
                .collect(),
            is_truncated,
            marker,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::policy_name_of;

    #[test]
    fn policy_arns() {
        assert_eq!(
            policy_name_of("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
            Some("AWSLambdaBasicExecutionRole")
        );
        assert_eq!(
            policy_name_of("arn:aws:iam::123456789012:policy/mine"),
            Some("mine")
        );
        assert_eq!(policy_name_of("arn:aws:iam::12:policy/mine"), None);
        assert_eq!(policy_name_of("mine"), None);
    }
}
