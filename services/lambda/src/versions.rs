//! Published versions: PublishVersion, the `Publish` flag, ListVersionsByFunction, and
//! resolving a qualifier to the configuration and code it names.

use crate::errors::LambdaError;
use crate::names::{function_arn, resolve};
use crate::shapes::*;
use crate::Lambda;
use cloudemu_core::RequestContext;
use cloudemu_storage::lambda::{FunctionRecord, Publish};
use serde_json::{json, Value};

/// What a qualifier names: a configuration, its code, and the revision environments key on.
pub struct Target {
    pub config: FunctionConfiguration,
    pub code_object_id: String,
}

impl Lambda {
    /// Resolve the qualifier (parameter or `name:qualifier`) to `$LATEST` or a version.
    pub(crate) async fn target(
        &self,
        ctx: &RequestContext,
        r: &FunctionRecord,
        given: &str,
        qualifier: Option<&str>,
    ) -> Result<Target, LambdaError> {
        let from_name = resolve(ctx, given)?.qualifier;
        match qualifier.or(from_name.as_deref()) {
            None | Some("$LATEST") => Ok(Target {
                config: crate::functions::settled(crate::functions::parse_config(r)?),
                code_object_id: r.code_object_id.clone(),
            }),
            Some(q) if q.parse::<i64>().is_err() => {
                // An alias: route to its version (or the weighted additional one).
                let alias = self.require_alias(ctx, &r.function_name, q).await?;
                let version = Self::route(&alias);
                Box::pin(self.target(ctx, r, &r.function_name, Some(&version))).await
            }
            Some(q) => {
                let not_found = || {
                    LambdaError::FunctionNotFound(format!(
                        "{}:{q}",
                        function_arn(ctx, &r.function_name)
                    ))
                };
                let n: i64 = q.parse().map_err(|_| not_found())?;
                let (config, code) = self
                    .store
                    .get_version(&ctx.account_id, &ctx.region, &r.function_name, n)
                    .await?
                    .ok_or_else(not_found)?;
                let config: FunctionConfiguration = serde_json::from_str(&config).map_err(|e| {
                    LambdaError::Storage(std::io::Error::other(e.to_string()).into())
                })?;
                Ok(Target {
                    config: crate::functions::settled(config),
                    code_object_id: code,
                })
            }
        }
    }

    /// Publish `$LATEST` as it is now; an unchanged `$LATEST` returns the last version.
    pub(crate) async fn publish(
        &self,
        ctx: &RequestContext,
        r: &FunctionRecord,
        description: Option<String>,
    ) -> Result<FunctionConfiguration, LambdaError> {
        let latest = crate::functions::settled(crate::functions::parse_config(r)?);
        let zip = self
            .store
            .read_code(&r.code_object_id)
            .await?
            .ok_or_else(|| LambdaError::Storage(std::io::Error::other("code missing").into()))?;
        // Each version owns its copy of the code, so replacing $LATEST's never touches it.
        let copy = self.store.put_code(zip).await?;
        let base = function_arn(ctx, &r.function_name);
        let config_for = |n: i64| {
            let mut c = latest.clone();
            c.version = n.to_string();
            c.function_arn = format!("{base}:{n}");
            c.revision_id = uuid::Uuid::new_v4().to_string();
            if let Some(d) = &description {
                c.description = d.clone();
            }
            serde_json::to_string(&c).unwrap_or_default()
        };
        let outcome = self
            .store
            .publish_version(
                &ctx.account_id,
                &ctx.region,
                &r.function_name,
                &r.revision_id,
                &config_for,
                &copy.id,
            )
            .await?;
        let config = match outcome {
            Publish::Created(c) => c,
            Publish::Existing(c) => {
                self.store.delete_code(&copy.id).await?;
                c
            }
            Publish::NotFound => {
                self.store.delete_code(&copy.id).await?;
                return Err(LambdaError::FunctionNotFound(base));
            }
            Publish::RevisionMismatch => {
                self.store.delete_code(&copy.id).await?;
                return Err(LambdaError::RevisionMismatch);
            }
        };
        serde_json::from_str(&config)
            .map_err(|e| LambdaError::Storage(std::io::Error::other(e.to_string()).into()))
    }

    pub(crate) async fn publish_version(
        &self,
        ctx: &RequestContext,
        input: PublishVersionRequest,
    ) -> Result<FunctionConfiguration, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        if input
            .revision_id
            .as_deref()
            .is_some_and(|rev| rev != r.revision_id)
        {
            return Err(LambdaError::RevisionMismatch);
        }
        let latest = crate::functions::parse_config(&r)?;
        if let Some(sha) = &input.code_sha256 {
            if *sha != latest.code_sha256 {
                return Err(LambdaError::InvalidParameter(format!(
                    "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). \
                     Please try again with the CodeSHA256 in $LATEST.",
                    latest.code_sha256
                )));
            }
        }
        self.publish(ctx, &r, input.description).await
    }

    pub(crate) async fn list_versions_by_function(
        &self,
        ctx: &RequestContext,
        input: FunctionNameRequest,
    ) -> Result<Value, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        let mut versions = vec![crate::functions::settled(crate::functions::parse_config(
            &r,
        )?)];
        for c in self
            .store
            .list_versions(&ctx.account_id, &ctx.region, &r.function_name)
            .await?
        {
            if let Ok(c) = serde_json::from_str::<FunctionConfiguration>(&c) {
                versions.push(crate::functions::settled(c));
            }
        }
        Ok(json!({"Versions": versions}))
    }
}
