//! Aliases: friendly names for keys, usable wherever a cryptographic call takes a KeyId.

use crate::errors::KmsError;
use crate::model::{alias_arn, now};
use crate::paging::page;
use crate::shapes::*;
use crate::Kms;
use cloudemu_core::RequestContext;
use cloudemu_storage::kms::AliasWrite;

/// Aliases of AWS managed keys that ListAliases shows in a fresh account, before any service
/// has created the keys (so without a TargetKeyId).
const AWS_MANAGED: &[&str] = &[
    "alias/aws/acm",
    "alias/aws/dynamodb",
    "alias/aws/ebs",
    "alias/aws/elasticfilesystem",
    "alias/aws/es",
    "alias/aws/glue",
    "alias/aws/kinesisvideo",
    "alias/aws/lambda",
    "alias/aws/rds",
    "alias/aws/redshift",
    "alias/aws/s3",
    "alias/aws/secretsmanager",
    "alias/aws/ssm",
    "alias/aws/xray",
];

fn check_name(name: &str) -> Result<(), KmsError> {
    if !name.starts_with("alias/") || name.len() <= "alias/".len() {
        return Err(KmsError::Validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html".into(),
        ));
    }
    if name.starts_with("alias/aws/") {
        return Err(KmsError::InvalidAliasName(
            "Alias names starting with alias/aws/ are reserved for AWS managed keys.".into(),
        ));
    }
    Ok(())
}

impl Kms {
    pub(crate) async fn create_alias(
        &self,
        ctx: &RequestContext,
        r: AliasRequest,
    ) -> Result<serde_json::Value, KmsError> {
        check_name(&r.alias_name)?;
        let target = r.target_key_id.unwrap_or_default();
        let key = self.load(ctx, &target, false).await?;
        key.require_not_pending_deletion()?;
        match self
            .store
            .create_alias(&ctx.account_id, &ctx.region, &r.alias_name, &key.id, now())
            .await?
        {
            AliasWrite::Done => Ok(serde_json::json!({})),
            AliasWrite::AlreadyExists => Err(KmsError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                alias_arn(ctx, &r.alias_name)
            ))),
            AliasWrite::NotFound => Err(KmsError::NotFound(format!(
                "Key '{}' does not exist",
                key.arn
            ))),
        }
    }

    pub(crate) async fn update_alias(
        &self,
        ctx: &RequestContext,
        r: AliasRequest,
    ) -> Result<serde_json::Value, KmsError> {
        check_name(&r.alias_name)?;
        let target = r.target_key_id.unwrap_or_default();
        let key = self.load(ctx, &target, false).await?;
        key.require_not_pending_deletion()?;
        let alias_missing = || {
            KmsError::NotFound(format!(
                "Alias {} is not found.",
                alias_arn(ctx, &r.alias_name)
            ))
        };
        let current = self
            .store
            .get_alias(&ctx.account_id, &ctx.region, &r.alias_name)
            .await?
            .ok_or_else(alias_missing)?;
        // An alias may only move between keys of the same type and usage.
        if let Ok(old) = self.load(ctx, &current.key_id, false).await {
            let same_kind = old.doc.key_usage == key.doc.key_usage
                && crate::specs::is_symmetric(&old.doc.key_spec)
                    == crate::specs::is_symmetric(&key.doc.key_spec);
            if !same_kind {
                return Err(KmsError::Validation(format!(
                    "Alias {} cannot be changed from a key with usage {} to a key with usage {} and spec {}.",
                    alias_arn(ctx, &r.alias_name),
                    old.doc.key_usage,
                    key.doc.key_usage,
                    key.doc.key_spec
                )));
            }
        }
        if !self
            .store
            .update_alias(&ctx.account_id, &ctx.region, &r.alias_name, &key.id, now())
            .await?
        {
            return Err(alias_missing());
        }
        Ok(serde_json::json!({}))
    }

    pub(crate) async fn delete_alias(
        &self,
        ctx: &RequestContext,
        r: AliasRequest,
    ) -> Result<serde_json::Value, KmsError> {
        if !self
            .store
            .delete_alias(&ctx.account_id, &ctx.region, &r.alias_name)
            .await?
        {
            return Err(KmsError::NotFound(format!(
                "Alias {} is not found.",
                alias_arn(ctx, &r.alias_name)
            )));
        }
        Ok(serde_json::json!({}))
    }

    pub(crate) async fn list_aliases(
        &self,
        ctx: &RequestContext,
        r: ListRequest,
    ) -> Result<ListAliasesResponse, KmsError> {
        let key_id = match &r.key_id {
            Some(k) => Some(self.load(ctx, k, false).await?.id),
            None => None,
        };
        // An alias goes with its key at the key's deletion date, even in the instant before
        // the sweeper deletes them.
        let mut rows = Vec::new();
        for a in self
            .store
            .list_aliases(&ctx.account_id, &ctx.region, key_id.as_deref())
            .await?
        {
            if !self.key_deleted(ctx, &a.key_id).await? {
                rows.push(a);
            }
        }
        let mut all: Vec<AliasListEntry> = rows
            .into_iter()
            .map(|a| AliasListEntry {
                alias_arn: alias_arn(ctx, &a.alias_name),
                alias_name: a.alias_name,
                target_key_id: Some(a.key_id),
                creation_date: Some(a.created_at),
                last_updated_date: Some(a.updated_at),
            })
            .collect();
        if key_id.is_none() {
            all.extend(AWS_MANAGED.iter().map(|name| AliasListEntry {
                alias_name: name.to_string(),
                alias_arn: alias_arn(ctx, name),
                target_key_id: None,
                creation_date: None,
                last_updated_date: None,
            }));
            all.sort_by(|a, b| a.alias_name.cmp(&b.alias_name));
        }
        let (aliases, truncated, next_marker) = page(all, r.marker.as_deref(), r.limit, 50)?;
        Ok(ListAliasesResponse {
            aliases,
            truncated,
            next_marker,
        })
    }
}
