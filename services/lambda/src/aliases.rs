//! Aliases: names for a version, optionally sending a weighted share of invocations to a
//! second version (RoutingConfig.AdditionalVersionWeights).

use crate::errors::LambdaError;
use crate::names::function_arn;
use crate::shapes::*;
use crate::Lambda;
use cloudemu_core::RequestContext;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Lambda's default and maximum page size for ListAliases.
const PAGE: usize = 50;

fn alias_arn(ctx: &RequestContext, function: &str, alias: &str) -> String {
    format!("{}:{alias}", function_arn(ctx, function))
}

fn decode(doc: &str) -> Result<AliasConfiguration, LambdaError> {
    serde_json::from_str(doc)
        .map_err(|e| LambdaError::Storage(std::io::Error::other(e.to_string()).into()))
}

impl Lambda {
    /// The version must exist (`$LATEST` or a published number).
    async fn check_version(
        &self,
        ctx: &RequestContext,
        function: &str,
        version: &str,
    ) -> Result<(), LambdaError> {
        if version == "$LATEST" {
            return Ok(());
        }
        let missing =
            || LambdaError::FunctionNotFound(format!("{}:{version}", function_arn(ctx, function)));
        let n: i64 = version.parse().map_err(|_| missing())?;
        self.store
            .get_version(&ctx.account_id, &ctx.region, function, n)
            .await?
            .map(|_| ())
            .ok_or_else(missing)
    }

    /// Weights name published versions other than the alias's own, each in [0, 1], at most one.
    async fn check_routing(
        &self,
        ctx: &RequestContext,
        function: &str,
        version: &str,
        routing: &Option<AliasRoutingConfiguration>,
    ) -> Result<(), LambdaError> {
        let Some(weights) = routing
            .as_ref()
            .and_then(|r| r.additional_version_weights.as_ref())
        else {
            return Ok(());
        };
        if weights.len() > 1 {
            return Err(LambdaError::InvalidParameter(
                "Number of items in AdditionalVersionWeights cannot be greater than 1".into(),
            ));
        }
        for (v, w) in weights {
            if !(0.0..=1.0).contains(w) {
                return Err(LambdaError::Validation(format!(
                    "1 validation error detected: Value '{w}' at 'routingConfig.additionalVersionWeights' \
                     failed to satisfy constraint: Member must have value less than or equal to 1.0"
                )));
            }
            if v == version {
                return Err(LambdaError::InvalidParameter(
                    "Invalid function version. The primary version and the additional version \
                     cannot be the same."
                        .into(),
                ));
            }
            self.check_version(ctx, function, v).await?;
        }
        Ok(())
    }

    pub(crate) async fn create_alias(
        &self,
        ctx: &RequestContext,
        input: CreateAliasRequest,
    ) -> Result<AliasConfiguration, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        self.check_version(ctx, &r.function_name, &input.function_version)
            .await?;
        self.check_routing(
            ctx,
            &r.function_name,
            &input.function_version,
            &input.routing_config,
        )
        .await?;
        let alias = AliasConfiguration {
            alias_arn: alias_arn(ctx, &r.function_name, &input.name),
            name: input.name.clone(),
            function_version: input.function_version,
            description: input.description.unwrap_or_default(),
            routing_config: input.routing_config,
            revision_id: uuid::Uuid::new_v4().to_string(),
        };
        let doc = serde_json::to_string(&alias).unwrap_or_default();
        match self
            .store
            .create_alias(
                &ctx.account_id,
                &ctx.region,
                &r.function_name,
                &input.name,
                &doc,
                &alias.revision_id,
            )
            .await?
        {
            Some(true) => Ok(alias),
            Some(false) => Err(LambdaError::Conflict(format!(
                "Alias already exists: {}",
                alias.alias_arn
            ))),
            None => Err(LambdaError::FunctionNotFound(function_arn(
                ctx,
                &r.function_name,
            ))),
        }
    }

    pub(crate) async fn require_alias(
        &self,
        ctx: &RequestContext,
        function: &str,
        alias: &str,
    ) -> Result<AliasConfiguration, LambdaError> {
        let doc = self
            .store
            .get_alias(&ctx.account_id, &ctx.region, function, alias)
            .await?
            .ok_or_else(|| {
                LambdaError::ResourceNotFound(format!(
                    "Alias not found: {}",
                    alias_arn(ctx, function, alias)
                ))
            })?;
        decode(&doc)
    }

    pub(crate) async fn get_alias(
        &self,
        ctx: &RequestContext,
        input: AliasNameRequest,
    ) -> Result<AliasConfiguration, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        self.require_alias(ctx, &r.function_name, &input.name).await
    }

    pub(crate) async fn list_aliases(
        &self,
        ctx: &RequestContext,
        input: ListAliasesRequest,
    ) -> Result<Value, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        let mut aliases = Vec::new();
        for doc in self
            .store
            .list_aliases(&ctx.account_id, &ctx.region, &r.function_name)
            .await?
        {
            let a = decode(&doc)?;
            if input
                .function_version
                .as_deref()
                .is_none_or(|v| v == a.function_version)
            {
                aliases.push(a);
            }
        }
        let start = match input.marker.as_deref() {
            Some(m) => aliases
                .iter()
                .position(|a| a.name.as_str() > m)
                .unwrap_or(aliases.len()),
            None => 0,
        };
        let limit = input.max_items.unwrap_or(PAGE).clamp(1, PAGE);
        let page: Vec<_> = aliases.iter().skip(start).take(limit).collect();
        let next = (start + limit < aliases.len()).then(|| page.last().map(|a| a.name.clone()));
        let mut out = json!({"Aliases": page});
        if let Some(Some(m)) = next {
            out["NextMarker"] = json!(m);
        }
        Ok(out)
    }

    pub(crate) async fn update_alias(
        &self,
        ctx: &RequestContext,
        input: UpdateAliasRequest,
    ) -> Result<AliasConfiguration, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        let mut alias = self
            .require_alias(ctx, &r.function_name, &input.name)
            .await?;
        let expected = alias.revision_id.clone();
        if input
            .revision_id
            .as_deref()
            .is_some_and(|rev| rev != expected)
        {
            return Err(LambdaError::RevisionMismatch);
        }
        if let Some(v) = input.function_version {
            alias.function_version = v;
        }
        if let Some(d) = input.description {
            alias.description = d;
        }
        if let Some(rc) = input.routing_config {
            alias.routing_config = Some(rc);
        }
        self.check_version(ctx, &r.function_name, &alias.function_version)
            .await?;
        self.check_routing(
            ctx,
            &r.function_name,
            &alias.function_version,
            &alias.routing_config,
        )
        .await?;
        alias.revision_id = uuid::Uuid::new_v4().to_string();
        let doc = serde_json::to_string(&alias).unwrap_or_default();
        match self
            .store
            .update_alias(
                &ctx.account_id,
                &ctx.region,
                &r.function_name,
                &input.name,
                &expected,
                (&doc, &alias.revision_id),
            )
            .await?
        {
            Some(true) => Ok(alias),
            Some(false) => Err(LambdaError::RevisionMismatch),
            None => Err(LambdaError::ResourceNotFound(format!(
                "Alias not found: {}",
                alias.alias_arn
            ))),
        }
    }

    pub(crate) async fn delete_alias(
        &self,
        ctx: &RequestContext,
        input: AliasNameRequest,
    ) -> Result<Empty, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        // Deleting an alias that does not exist succeeds, as in Lambda.
        self.store
            .delete_alias(&ctx.account_id, &ctx.region, &r.function_name, &input.name)
            .await?;
        Ok(Empty {})
    }

    /// The version an invocation through `alias` runs: the alias's own, or the additional
    /// version with its weight's probability.
    pub(crate) fn route(alias: &AliasConfiguration) -> String {
        let weights: BTreeMap<String, f64> = alias
            .routing_config
            .as_ref()
            .and_then(|r| r.additional_version_weights.clone())
            .unwrap_or_default();
        let roll: f64 = rand::random();
        let mut acc = 0.0;
        for (v, w) in weights {
            acc += w;
            if roll < acc {
                return v;
            }
        }
        alias.function_version.clone()
    }
}
