//! Account-level and auxiliary reads: account settings, tags, code signing, versions.

use crate::errors::LambdaError;
use crate::names::{function_arn, resolve};
use crate::shapes::*;
use crate::Lambda;
use cloudemu_core::RequestContext;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Lambda's default account quotas (Lambda quotas page).
const TOTAL_CODE_SIZE: i64 = 80_530_636_800; // 75 GB
const CODE_SIZE_UNZIPPED: i64 = 262_144_000;
const CODE_SIZE_ZIPPED: i64 = 52_428_800;
pub(crate) const CONCURRENT_EXECUTIONS: i64 = 1000;
/// Lambda keeps at least this much of the account's concurrency unreserved.
const MIN_UNRESERVED: i64 = 100;

impl Lambda {
    pub(crate) async fn get_account_settings(
        &self,
        ctx: &RequestContext,
        _input: Value,
    ) -> Result<Value, LambdaError> {
        let (count, size) = self.store.usage(&ctx.account_id, &ctx.region).await?;
        let reserved = self
            .store
            .reserved_total(&ctx.account_id, &ctx.region)
            .await?;
        Ok(json!({
            "AccountLimit": {
                "TotalCodeSize": TOTAL_CODE_SIZE,
                "CodeSizeUnzipped": CODE_SIZE_UNZIPPED,
                "CodeSizeZipped": CODE_SIZE_ZIPPED,
                "ConcurrentExecutions": CONCURRENT_EXECUTIONS,
                "UnreservedConcurrentExecutions": CONCURRENT_EXECUTIONS - reserved,
            },
            "AccountUsage": {"TotalCodeSize": size, "FunctionCount": count},
        }))
    }

    /// No code signing configurations exist, so every function answers an empty ARN.
    pub(crate) async fn get_function_code_signing_config(
        &self,
        ctx: &RequestContext,
        input: FunctionNameRequest,
    ) -> Result<Value, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        Ok(json!({"CodeSigningConfigArn": "", "FunctionName": r.function_name}))
    }

    /// The function a taggable ARN names (tags live on the unqualified function).
    async fn tag_target(&self, ctx: &RequestContext, arn: &str) -> Result<String, LambdaError> {
        let f = resolve(ctx, arn)?;
        if f.qualifier.is_some() {
            return Err(LambdaError::InvalidParameter(
                "Tags are not supported on function versions or aliases.".into(),
            ));
        }
        let r = self.require_function(ctx, arn).await?;
        Ok(r.function_name)
    }

    pub(crate) async fn list_tags(
        &self,
        ctx: &RequestContext,
        input: TagResourceRequest,
    ) -> Result<Value, LambdaError> {
        if let Some(uuid) = crate::event_sources::mapping_uuid(&input.resource) {
            return self
                .mapping_tags(ctx, &input.resource, uuid, None, None)
                .await;
        }
        let r = self.require_function(ctx, &input.resource).await?;
        let tags: BTreeMap<String, String> = serde_json::from_str(&r.tags).unwrap_or_default();
        Ok(json!({"Tags": tags}))
    }

    pub(crate) async fn tag_resource(
        &self,
        ctx: &RequestContext,
        input: TagResourceRequest,
    ) -> Result<Empty, LambdaError> {
        if let Some(uuid) = crate::event_sources::mapping_uuid(&input.resource) {
            let tags = Some(input.tags.clone().unwrap_or_default());
            self.mapping_tags(ctx, &input.resource, uuid, tags, None)
                .await?;
            return Ok(Empty {});
        }
        let name = self.tag_target(ctx, &input.resource).await?;
        let set: Vec<(String, String)> = input.tags.unwrap_or_default().into_iter().collect();
        self.write_tags(ctx, &name, &set, &[]).await
    }

    pub(crate) async fn untag_resource(
        &self,
        ctx: &RequestContext,
        input: TagResourceRequest,
    ) -> Result<Empty, LambdaError> {
        if let Some(uuid) = crate::event_sources::mapping_uuid(&input.resource) {
            let keys = Some(input.tag_keys.clone().unwrap_or_default());
            self.mapping_tags(ctx, &input.resource, uuid, None, keys)
                .await?;
            return Ok(Empty {});
        }
        let name = self.tag_target(ctx, &input.resource).await?;
        self.write_tags(ctx, &name, &[], &input.tag_keys.unwrap_or_default())
            .await
    }

    async fn write_tags(
        &self,
        ctx: &RequestContext,
        name: &str,
        set: &[(String, String)],
        remove: &[String],
    ) -> Result<Empty, LambdaError> {
        if self
            .store
            .modify_tags(&ctx.account_id, &ctx.region, name, set, remove)
            .await?
        {
            Ok(Empty {})
        } else {
            Err(LambdaError::FunctionNotFound(function_arn(ctx, name)))
        }
    }

    pub(crate) async fn put_function_concurrency(
        &self,
        ctx: &RequestContext,
        input: PutFunctionConcurrencyRequest,
    ) -> Result<Value, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        let n = input.reserved_concurrent_executions;
        self.set_concurrency(ctx, &r.function_name, Some(n)).await?;
        Ok(json!({"ReservedConcurrentExecutions": n}))
    }

    pub(crate) async fn get_function_concurrency(
        &self,
        ctx: &RequestContext,
        input: FunctionNameRequest,
    ) -> Result<Value, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        Ok(match r.reserved_concurrency {
            Some(n) => json!({"ReservedConcurrentExecutions": n}),
            None => json!({}),
        })
    }

    pub(crate) async fn delete_function_concurrency(
        &self,
        ctx: &RequestContext,
        input: FunctionNameRequest,
    ) -> Result<Empty, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        self.set_concurrency(ctx, &r.function_name, None).await?;
        Ok(Empty {})
    }

    async fn set_concurrency(
        &self,
        ctx: &RequestContext,
        name: &str,
        value: Option<i64>,
    ) -> Result<(), LambdaError> {
        match self
            .store
            .set_reserved_concurrency(
                &ctx.account_id,
                &ctx.region,
                name,
                value,
                CONCURRENT_EXECUTIONS,
                MIN_UNRESERVED,
            )
            .await?
        {
            Some(true) => Ok(()),
            Some(false) => Err(LambdaError::InvalidParameter(format!(
                "Specified ReservedConcurrentExecutions for function decreases account's \
                 UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
            ))),
            None => Err(LambdaError::FunctionNotFound(function_arn(ctx, name))),
        }
    }
}
