//! Put/Get/Update/Delete/ListFunctionEventInvokeConfigs: how asynchronous invocations of a
//! function (or one of its versions or aliases) are retried and where their outcome goes.

use crate::errors::LambdaError;
use crate::names::{function_arn, resolve};
use crate::Lambda;
use cloudemu_core::RequestContext;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Lambda's defaults when a function has no configuration.
pub const DEFAULT_RETRIES: i64 = 2;
pub const DEFAULT_MAX_AGE: i64 = 21_600;
const DEFAULT_PAGE: usize = 50;

/// The stored configuration (the request's members; defaults are applied when used).
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub struct InvokeConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_in_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_config: Option<Value>,
    /// Epoch seconds.
    #[serde(default)]
    pub last_modified: f64,
}

impl InvokeConfig {
    fn destination(&self, which: &str) -> Option<&str> {
        self.destination_config
            .as_ref()?
            .get(which)?
            .get("Destination")?
            .as_str()
    }

    pub fn on_success(&self) -> Option<&str> {
        self.destination("OnSuccess")
    }

    pub fn on_failure(&self) -> Option<&str> {
        self.destination("OnFailure")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutInvokeConfigRequest {
    pub function_name: String,
    pub qualifier: Option<String>,
    pub maximum_retry_attempts: Option<i64>,
    pub maximum_event_age_in_seconds: Option<i64>,
    pub destination_config: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvokeConfigIdRequest {
    pub function_name: String,
    pub qualifier: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInvokeConfigsRequest {
    pub function_name: String,
    pub marker: Option<String>,
    pub max_items: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvokeConfigResponse {
    pub last_modified: f64,
    pub function_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_in_seconds: Option<i64>,
    pub destination_config: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInvokeConfigsResponse {
    pub function_event_invoke_configs: Vec<InvokeConfigResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

/// Destination types Lambda accepts for asynchronous invocations.
fn check_destinations(d: &Option<Value>) -> Result<(), LambdaError> {
    let Some(d) = d else { return Ok(()) };
    for which in ["OnSuccess", "OnFailure"] {
        let Some(arn) = d
            .get(which)
            .and_then(|o| o.get("Destination"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let service = arn.split(':').nth(2).unwrap_or_default();
        if !arn.starts_with("arn:")
            || !matches!(service, "sqs" | "sns" | "lambda" | "events" | "s3")
        {
            return Err(LambdaError::InvalidParameter(format!(
                "The provided destination config DestinationConfig({which}={arn}) is invalid."
            )));
        }
    }
    Ok(())
}

fn response(arn: String, c: &InvokeConfig) -> InvokeConfigResponse {
    let mut destination = json!({"OnSuccess": {}, "OnFailure": {}});
    if let Some(d) = &c.destination_config {
        for which in ["OnSuccess", "OnFailure"] {
            if let Some(v) = d.get(which).filter(|v| v.get("Destination").is_some()) {
                destination[which] = v.clone();
            }
        }
    }
    InvokeConfigResponse {
        last_modified: c.last_modified,
        function_arn: arn,
        maximum_retry_attempts: c.maximum_retry_attempts,
        maximum_event_age_in_seconds: c.maximum_event_age_in_seconds,
        destination_config: destination,
    }
}

fn now_secs() -> f64 {
    (chrono::Utc::now().timestamp_millis() as f64) / 1000.0
}

impl Lambda {
    /// The function name, the qualifier (`$LATEST` when none) and the qualified ARN, after
    /// checking the function and the version or alias exist.
    async fn invoke_config_target(
        &self,
        ctx: &RequestContext,
        given: &str,
        qualifier: Option<&str>,
    ) -> Result<(String, String, String), LambdaError> {
        let record = self.require_function(ctx, given).await?;
        let f = resolve(ctx, given)?;
        self.target(ctx, &record, given, qualifier).await?;
        let q = qualifier
            .map(str::to_string)
            .or(f.qualifier)
            .unwrap_or_else(|| "$LATEST".to_string());
        let arn = format!("{}:{q}", function_arn(ctx, &f.name));
        Ok((f.name, q, arn))
    }

    fn no_config(arn: &str) -> LambdaError {
        LambdaError::ResourceNotFound(format!(
            "The function {arn} doesn't have an EventInvokeConfig"
        ))
    }

    async fn write_invoke_config(
        &self,
        ctx: &RequestContext,
        input: PutInvokeConfigRequest,
        merge: bool,
    ) -> Result<InvokeConfigResponse, LambdaError> {
        let (name, q, arn) = self
            .invoke_config_target(ctx, &input.function_name, input.qualifier.as_deref())
            .await?;
        check_destinations(&input.destination_config)?;
        let esm = self.store.esm();
        let mut config = if merge {
            let doc = esm
                .get_invoke_config(&ctx.account_id, &ctx.region, &name, &q)
                .await?
                .ok_or_else(|| Self::no_config(&arn))?;
            serde_json::from_str(&doc).unwrap_or_default()
        } else {
            InvokeConfig::default()
        };
        if input.maximum_retry_attempts.is_some() {
            config.maximum_retry_attempts = input.maximum_retry_attempts;
        }
        if input.maximum_event_age_in_seconds.is_some() {
            config.maximum_event_age_in_seconds = input.maximum_event_age_in_seconds;
        }
        if input.destination_config.is_some() {
            config.destination_config = input.destination_config;
        }
        config.last_modified = now_secs();
        let doc = serde_json::to_string(&config).unwrap_or_default();
        esm.put_invoke_config(&ctx.account_id, &ctx.region, &name, &q, &doc)
            .await?;
        Ok(response(arn, &config))
    }

    pub(crate) async fn put_function_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: PutInvokeConfigRequest,
    ) -> Result<InvokeConfigResponse, LambdaError> {
        self.write_invoke_config(ctx, input, false).await
    }

    pub(crate) async fn update_function_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: PutInvokeConfigRequest,
    ) -> Result<InvokeConfigResponse, LambdaError> {
        self.write_invoke_config(ctx, input, true).await
    }

    pub(crate) async fn get_function_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: InvokeConfigIdRequest,
    ) -> Result<InvokeConfigResponse, LambdaError> {
        let (name, q, arn) = self
            .invoke_config_target(ctx, &input.function_name, input.qualifier.as_deref())
            .await?;
        let doc = self
            .store
            .esm()
            .get_invoke_config(&ctx.account_id, &ctx.region, &name, &q)
            .await?
            .ok_or_else(|| Self::no_config(&arn))?;
        Ok(response(
            arn,
            &serde_json::from_str(&doc).unwrap_or_default(),
        ))
    }

    pub(crate) async fn delete_function_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: InvokeConfigIdRequest,
    ) -> Result<Value, LambdaError> {
        let (name, q, arn) = self
            .invoke_config_target(ctx, &input.function_name, input.qualifier.as_deref())
            .await?;
        if !self
            .store
            .esm()
            .delete_invoke_config(&ctx.account_id, &ctx.region, &name, &q)
            .await?
        {
            return Err(Self::no_config(&arn));
        }
        Ok(json!({}))
    }

    pub(crate) async fn list_function_event_invoke_configs(
        &self,
        ctx: &RequestContext,
        input: ListInvokeConfigsRequest,
    ) -> Result<ListInvokeConfigsResponse, LambdaError> {
        let record = self.require_function(ctx, &input.function_name).await?;
        let limit = input
            .max_items
            .map(|n| n.clamp(1, 50) as usize)
            .unwrap_or(DEFAULT_PAGE);
        let mut rows = self
            .store
            .esm()
            .list_invoke_configs(
                &ctx.account_id,
                &ctx.region,
                &record.function_name,
                input.marker.as_deref(),
                limit + 1,
            )
            .await?;
        let next_marker = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|(q, _)| q.clone())
        } else {
            None
        };
        let base = function_arn(ctx, &record.function_name);
        Ok(ListInvokeConfigsResponse {
            function_event_invoke_configs: rows
                .iter()
                .map(|(q, doc)| {
                    response(
                        format!("{base}:{q}"),
                        &serde_json::from_str(doc).unwrap_or_default(),
                    )
                })
                .collect(),
            next_marker,
        })
    }
}
