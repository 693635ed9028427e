//! Roles: create, read, update, delete, list, tags.

use crate::errors::IamError;
use crate::paging::page;
use crate::shapes::*;
use crate::{check_policy_document, url_encode_policy, Iam};
use chrono::{TimeZone, Utc};
use cloudemu_core::identity::random_id;
use cloudemu_core::RequestContext;
use cloudemu_storage::iam::{QuotaWrite, RoleDeletion, RoleRecord, RoleUpdate};

/// IAM's quota of tags per role.
const MAX_TAGS: usize = 50;

/// Which parts of a role a response includes: IAM's list calls return a subset.
#[derive(Clone, Copy, PartialEq)]
enum View {
    Full,
    Listing,
}

fn to_role(r: RoleRecord, view: View) -> Role {
    let full = view == View::Full;
    Role {
        path: r.path,
        role_name: r.role_name,
        role_id: r.role_id,
        arn: r.arn,
        create_date: Utc
            .timestamp_millis_opt((r.created_at * 1000.0) as i64)
            .single()
            .unwrap_or_default(),
        assume_role_policy_document: url_encode_policy(&r.assume_role_policy),
        description: r.description,
        max_session_duration: r.max_session_duration,
        permissions_boundary: r.permissions_boundary.filter(|_| full).map(|arn| {
            AttachedPermissionsBoundary {
                permissions_boundary_type: "PermissionsBoundaryPolicy",
                permissions_boundary_arn: arn,
            }
        }),
        tags: (full && !r.tags.is_empty()).then(|| {
            r.tags
                .into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect()
        }),
        role_last_used: full.then(RoleLastUsed::default),
    }
}

/// Tag keys must be unique regardless of case.
fn check_tags(tags: &[Tag]) -> Result<(), IamError> {
    let mut seen = std::collections::HashSet::new();
    for t in tags {
        if !seen.insert(t.key.to_ascii_lowercase()) {
            return Err(IamError::InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.".into(),
            ));
        }
    }
    Ok(())
}

impl Iam {
    /// The role or `NoSuchEntity`.
    pub(crate) async fn require_role(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<RoleRecord, IamError> {
        self.store
            .get_role(&ctx.account_id, name)
            .await?
            .ok_or_else(|| IamError::NoSuchRole(name.to_string()))
    }

    pub(crate) async fn create_role(
        &self,
        ctx: &RequestContext,
        input: CreateRoleRequest,
    ) -> Result<RoleResponse, IamError> {
        check_policy_document(&input.assume_role_policy_document)?;
        let tags = input.tags.unwrap_or_default();
        check_tags(&tags)?;
        let path = input.path.unwrap_or_else(|| "/".into());
        let record = RoleRecord {
            account_id: ctx.account_id.clone(),
            arn: format!(
                "arn:aws:iam::{}:role{}{}",
                ctx.account_id, path, input.role_name
            ),
            role_name: input.role_name.clone(),
            role_id: random_id("AROA", 17),
            path,
            assume_role_policy: input.assume_role_policy_document,
            description: input.description,
            max_session_duration: input.max_session_duration.unwrap_or(3600),
            permissions_boundary: input.permissions_boundary,
            created_at: (Utc::now().timestamp_millis() / 1000) as f64,
            tags: tags.into_iter().map(|t| (t.key, t.value)).collect(),
        };
        if !self.store.create_role(&record).await? {
            return Err(IamError::RoleExists(input.role_name));
        }
        let mut role = to_role(record, View::Full);
        // CreateRole does not echo RoleLastUsed.
        role.role_last_used = None;
        Ok(RoleResponse { role })
    }

    pub(crate) async fn get_role(
        &self,
        ctx: &RequestContext,
        input: RoleNameRequest,
    ) -> Result<RoleResponse, IamError> {
        let r = self.require_role(ctx, &input.role_name).await?;
        Ok(RoleResponse {
            role: to_role(r, View::Full),
        })
    }

    pub(crate) async fn delete_role(
        &self,
        ctx: &RequestContext,
        input: RoleNameRequest,
    ) -> Result<Empty, IamError> {
        let r = self.require_role(ctx, &input.role_name).await?;
        match self
            .store
            .delete_role(&ctx.account_id, &r.role_name)
            .await?
        {
            RoleDeletion::Deleted => Ok(Empty {}),
            RoleDeletion::NotFound => Err(IamError::NoSuchRole(input.role_name)),
            RoleDeletion::HasInlinePolicies => Err(IamError::RoleHasInlinePolicies),
            RoleDeletion::HasAttachedPolicies => Err(IamError::RoleHasAttachedPolicies),
        }
    }

    pub(crate) async fn list_roles(
        &self,
        ctx: &RequestContext,
        input: ListRequest,
    ) -> Result<ListRolesResponse, IamError> {
        let prefix = input.path_prefix.unwrap_or_else(|| "/".into());
        let roles = self.store.list_roles(&ctx.account_id, &prefix).await?;
        let (roles, is_truncated, marker) = page(roles, input.marker.as_deref(), input.max_items)?;
        Ok(ListRolesResponse {
            roles: roles
                .into_iter()
                .map(|r| to_role(r, View::Listing))
                .collect(),
            is_truncated,
            marker,
        })
    }

    pub(crate) async fn update_role(
        &self,
        ctx: &RequestContext,
        input: UpdateRoleRequest,
    ) -> Result<Empty, IamError> {
        let r = self.require_role(ctx, &input.role_name).await?;
        let update = RoleUpdate {
            description: input.description,
            max_session_duration: input.max_session_duration,
            assume_role_policy: None,
        };
        self.store
            .update_role(&ctx.account_id, &r.role_name, &update)
            .await?;
        Ok(Empty {})
    }

    pub(crate) async fn update_role_description(
        &self,
        ctx: &RequestContext,
        input: UpdateRoleRequest,
    ) -> Result<RoleResponse, IamError> {
        let r = self.require_role(ctx, &input.role_name).await?;
        let update = RoleUpdate {
            description: Some(input.description.unwrap_or_default()),
            ..Default::default()
        };
        self.store
            .update_role(&ctx.account_id, &r.role_name, &update)
            .await?;
        let r = self.require_role(ctx, &r.role_name).await?;
        Ok(RoleResponse {
            role: to_role(r, View::Full),
        })
    }

    pub(crate) async fn update_assume_role_policy(
        &self,
        ctx: &RequestContext,
        input: UpdateAssumeRolePolicyRequest,
    ) -> Result<Empty, IamError> {
        check_policy_document(&input.policy_document)?;
        let r = self.require_role(ctx, &input.role_name).await?;
        let update = RoleUpdate {
            assume_role_policy: Some(input.policy_document),
            ..Default::default()
        };
        self.store
            .update_role(&ctx.account_id, &r.role_name, &update)
            .await?;
        Ok(Empty {})
    }

    pub(crate) async fn tag_role(
        &self,
        ctx: &RequestContext,
        input: TagRoleRequest,
    ) -> Result<Empty, IamError> {
        check_tags(&input.tags)?;
        let r = self.require_role(ctx, &input.role_name).await?;
        let tags: Vec<(String, String)> =
            input.tags.into_iter().map(|t| (t.key, t.value)).collect();
        match self
            .store
            .tag_role(&ctx.account_id, &r.role_name, &tags, MAX_TAGS)
            .await?
        {
            QuotaWrite::Done => Ok(Empty {}),
            QuotaWrite::NoSuchRole => Err(IamError::NoSuchRole(r.role_name)),
            QuotaWrite::LimitExceeded => Err(IamError::LimitExceeded(
                "The number of tags has reached the maximum limit.".into(),
            )),
        }
    }

    pub(crate) async fn put_role_permissions_boundary(
        &self,
        ctx: &RequestContext,
        input: PermissionsBoundaryRequest,
    ) -> Result<Empty, IamError> {
        let arn = input.permissions_boundary.unwrap_or_default();
        if !crate::role_policies::is_policy_arn(&arn) {
            return Err(IamError::InvalidInput(format!("ARN {arn} is not valid.")));
        }
        let r = self.require_role(ctx, &input.role_name).await?;
        if !self
            .store
            .set_permissions_boundary(&ctx.account_id, &r.role_name, Some(&arn))
            .await?
        {
            return Err(IamError::NoSuchRole(r.role_name));
        }
        Ok(Empty {})
    }

    pub(crate) async fn delete_role_permissions_boundary(
        &self,
        ctx: &RequestContext,
        input: PermissionsBoundaryRequest,
    ) -> Result<Empty, IamError> {
        let r = self.require_role(ctx, &input.role_name).await?;
        self.store
            .set_permissions_boundary(&ctx.account_id, &r.role_name, None)
            .await?;
        Ok(Empty {})
    }

    pub(crate) async fn untag_role(
        &self,
        ctx: &RequestContext,
        input: UntagRoleRequest,
    ) -> Result<Empty, IamError> {
        let r = self.require_role(ctx, &input.role_name).await?;
        self.store
            .untag_role(&ctx.account_id, &r.role_name, &input.tag_keys)
            .await?;
        Ok(Empty {})
    }

    pub(crate) async fn list_role_tags(
        &self,
        ctx: &RequestContext,
        input: ListRequest,
    ) -> Result<ListRoleTagsResponse, IamError> {
        let name = input.role_name.unwrap_or_default();
        let r = self.require_role(ctx, &name).await?;
        let (tags, is_truncated, marker) = page(r.tags, input.marker.as_deref(), input.max_items)?;
        Ok(ListRoleTagsResponse {
            tags: tags
                .into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect(),
            is_truncated,
            marker,
        })
    }

    pub(crate) async fn list_instance_profiles_for_role(
        &self,
        ctx: &RequestContext,
        input: ListRequest,
    ) -> Result<ListInstanceProfilesForRoleResponse, IamError> {
        self.require_role(ctx, &input.role_name.unwrap_or_default())
            .await?;
        // Instance profiles are not modelled yet, so no role belongs to one.
        Ok(ListInstanceProfilesForRoleResponse {
            instance_profiles: Vec::new(),
            is_truncated: false,
        })
    }
}
