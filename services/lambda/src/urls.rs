//! Function URLs' control plane: Create/Get/Update/Delete/ListFunctionUrlConfigs. The URL
//! itself is served by `url_serve`.

use crate::errors::LambdaError;
use crate::names::{function_arn, resolve};
use crate::shapes::Empty;
use crate::url_shapes::*;
use crate::Lambda;
use chrono::Utc;
use cloudemu_core::RequestContext;
use cloudemu_storage::lambda::UrlRecord;

const NOT_FOUND: &str = "The resource you requested does not exist.";
/// Lambda's default and maximum page size for ListFunctionUrlConfigs.
const MAX_PAGE: usize = 50;
/// Unqualified URLs invoke `$LATEST`; this is their stored qualifier.
const LATEST: &str = "$LATEST";

fn now() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn corrupt(e: impl std::fmt::Display) -> LambdaError {
    LambdaError::Storage(
        std::io::Error::other(format!("stored function URL unreadable: {e}")).into(),
    )
}

/// The URL as Lambda formats it (`https://<id>.lambda-url.<region>.on.aws/`), under the host
/// the caller used to reach CloudEmu.
/// A loopback address becomes `localhost` (`<id>.lambda-url.<region>.127.0.0.1` is no valid
/// host, while `*.localhost` resolves to loopback in curl, browsers and systemd-resolved).
pub(crate) fn function_url(host: &str, url_id: &str, region: &str) -> String {
    let (name, port) = if let Some(v6) = host.strip_prefix('[') {
        match v6.split_once("]:") {
            Some((h, p)) => (h, Some(p)),
            None => (v6.trim_end_matches(']'), None),
        }
    } else {
        match host.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host, None),
        }
    };
    let loopback = name
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback());
    let name = if loopback { "localhost" } else { name };
    match port {
        Some(p) => format!("http://{url_id}.lambda-url.{region}.{name}:{p}/"),
        None => format!("http://{url_id}.lambda-url.{region}.{name}/"),
    }
}

/// A new URL id: 32 lower-case alphanumerics, as Lambda's are.
fn new_url_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Lambda {
    /// The function and the qualifier a URL operation names (`Qualifier` or `name:alias`):
    /// only aliases qualify URLs; none means `$LATEST`.
    async fn url_target(
        &self,
        ctx: &RequestContext,
        given: &str,
        qualifier: Option<&str>,
    ) -> Result<(String, String, String), LambdaError> {
        let r = self.require_function(ctx, given).await?;
        let from_name = resolve(ctx, given)?.qualifier;
        let name = r.function_name;
        match qualifier.or(from_name.as_deref()) {
            None => {
                let arn = function_arn(ctx, &name);
                Ok((name, LATEST.to_string(), arn))
            }
            Some(q) if q.starts_with('$') || q.bytes().all(|b| b.is_ascii_digit()) => {
                Err(LambdaError::Validation(format!(
                    "1 validation error detected: Value '{q}' at 'qualifier' failed to satisfy \
                     constraint: Member must satisfy regular expression pattern: \
                     ((?!^\\d+$)^[0-9a-zA-Z-_]+$)"
                )))
            }
            Some(alias) => {
                self.require_alias(ctx, &name, alias).await?;
                let arn = format!("{}:{alias}", function_arn(ctx, &name));
                Ok((name, alias.to_string(), arn))
            }
        }
    }

    fn url_config(ctx: &RequestContext, r: &UrlRecord) -> Result<FunctionUrlConfig, LambdaError> {
        let mut c: FunctionUrlConfig = serde_json::from_str(&r.config).map_err(corrupt)?;
        c.function_url = Some(function_url(&ctx.host, &r.url_id, &r.region));
        Ok(c)
    }

    pub(crate) async fn create_function_url_config(
        &self,
        ctx: &RequestContext,
        input: CreateFunctionUrlConfigRequest,
    ) -> Result<FunctionUrlConfig, LambdaError> {
        let (name, qualifier, arn) = self
            .url_target(ctx, &input.function_name, input.qualifier.as_deref())
            .await?;
        let created = now();
        let config = FunctionUrlConfig {
            function_url: None,
            function_arn: arn.clone(),
            auth_type: input.auth_type,
            cors: input.cors,
            creation_time: created.clone(),
            last_modified_time: Some(created),
            invoke_mode: input.invoke_mode.unwrap_or_else(|| "BUFFERED".into()),
        };
        let record = UrlRecord {
            account_id: ctx.account_id.clone(),
            region: ctx.region.clone(),
            function_name: name.clone(),
            qualifier,
            url_id: new_url_id(),
            config: serde_json::to_string(&config).map_err(corrupt)?,
        };
        match self.store.create_url(&record).await? {
            Some(true) => {
                let mut out = Self::url_config(ctx, &record)?;
                out.last_modified_time = None;
                Ok(out)
            }
            Some(false) => Err(LambdaError::Conflict(format!(
                "Failed to create function url config for [functionArn = {arn}]. Error message:  \
                 FunctionUrlConfig exists for this Lambda function"
            ))),
            None => Err(LambdaError::FunctionNotFound(function_arn(ctx, &name))),
        }
    }

    async fn require_url(
        &self,
        ctx: &RequestContext,
        given: &str,
        qualifier: Option<&str>,
    ) -> Result<UrlRecord, LambdaError> {
        let (name, qualifier, _) = self.url_target(ctx, given, qualifier).await?;
        self.store
            .get_url(&ctx.account_id, &ctx.region, &name, &qualifier)
            .await?
            .ok_or_else(|| LambdaError::ResourceNotFound(NOT_FOUND.into()))
    }

    pub(crate) async fn get_function_url_config(
        &self,
        ctx: &RequestContext,
        input: FunctionUrlRequest,
    ) -> Result<FunctionUrlConfig, LambdaError> {
        let r = self
            .require_url(ctx, &input.function_name, input.qualifier.as_deref())
            .await?;
        Self::url_config(ctx, &r)
    }

    pub(crate) async fn update_function_url_config(
        &self,
        ctx: &RequestContext,
        input: UpdateFunctionUrlConfigRequest,
    ) -> Result<FunctionUrlConfig, LambdaError> {
        let r = self
            .require_url(ctx, &input.function_name, input.qualifier.as_deref())
            .await?;
        let mut c = Self::url_config(ctx, &r)?;
        if let Some(a) = input.auth_type {
            c.auth_type = a;
        }
        if let Some(cors) = input.cors {
            c.cors = Some(cors);
        }
        if let Some(m) = input.invoke_mode {
            c.invoke_mode = m;
        }
        c.last_modified_time = Some(now());
        let stored = FunctionUrlConfig {
            function_url: None,
            ..c.clone()
        };
        let doc = serde_json::to_string(&stored).map_err(corrupt)?;
        if !self
            .store
            .update_url(
                &ctx.account_id,
                &ctx.region,
                &r.function_name,
                &r.qualifier,
                &doc,
            )
            .await?
        {
            return Err(LambdaError::ResourceNotFound(NOT_FOUND.into()));
        }
        Ok(c)
    }

    pub(crate) async fn delete_function_url_config(
        &self,
        ctx: &RequestContext,
        input: FunctionUrlRequest,
    ) -> Result<Empty, LambdaError> {
        let r = self
            .require_url(ctx, &input.function_name, input.qualifier.as_deref())
            .await?;
        self.store
            .delete_url(&ctx.account_id, &ctx.region, &r.function_name, &r.qualifier)
            .await?;
        Ok(Empty {})
    }

    pub(crate) async fn list_function_url_configs(
        &self,
        ctx: &RequestContext,
        input: ListFunctionUrlConfigsRequest,
    ) -> Result<ListFunctionUrlConfigsResponse, LambdaError> {
        let f = self.require_function(ctx, &input.function_name).await?;
        let limit = input.max_items.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
        let mut rows: Vec<UrlRecord> = self
            .store
            .list_urls(&ctx.account_id, &ctx.region, &f.function_name)
            .await?
            .into_iter()
            .filter(|r| {
                input
                    .marker
                    .as_deref()
                    .is_none_or(|m| r.qualifier.as_str() > m)
            })
            .collect();
        let next_marker = (rows.len() > limit).then(|| {
            rows.truncate(limit);
            rows.last().map(|r| r.qualifier.clone())
        });
        Ok(ListFunctionUrlConfigsResponse {
            function_url_configs: rows
                .iter()
                .map(|r| Self::url_config(ctx, r))
                .collect::<Result<_, _>>()?,
            next_marker: next_marker.flatten(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::function_url;

    #[test]
    fn urls_use_the_callers_host() {
        assert_eq!(
            function_url("localhost:4566", "abc", "us-east-1"),
            "http://abc.lambda-url.us-east-1.localhost:4566/"
        );
        assert_eq!(
            function_url("127.0.0.1:4566", "abc", "eu-west-1"),
            "http://abc.lambda-url.eu-west-1.localhost:4566/"
        );
        assert_eq!(
            function_url("emu.internal", "abc", "us-east-1"),
            "http://abc.lambda-url.us-east-1.emu.internal/"
        );
    }
}
