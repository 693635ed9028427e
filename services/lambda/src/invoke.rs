//! Invoke: RequestResponse (the function's answer, `X-Amz-Function-Error`, `LogType: Tail`),
//! Event (accepted at once, run in the background) and DryRun.

use crate::environment::EnvSpec;
use crate::errors::LambdaError;
use crate::executor::RunRequest;
use crate::shapes::{FunctionConfiguration, InvokeRequest, InvokeResponse};
use crate::Lambda;
use base64::Engine;
use bytes::Bytes;
use cloudemu_core::RequestContext;

/// Lambda's synchronous payload limit.
const MAX_PAYLOAD: usize = 6 * 1024 * 1024;
/// `X-Amz-Log-Result` carries the last 4 KB of the invocation's log.
const LOG_TAIL: usize = 4096;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl Lambda {
    pub(crate) async fn invoke(
        &self,
        ctx: &RequestContext,
        input: InvokeRequest,
    ) -> Result<InvokeResponse, LambdaError> {
        let record = self.require_function(ctx, &input.function_name).await?;
        let target = self
            .target(
                ctx,
                &record,
                &input.function_name,
                input.qualifier.as_deref(),
            )
            .await?;
        let payload = match input.payload.as_deref() {
            None => Bytes::new(),
            Some(p) => Bytes::from(
                b64()
                    .decode(p)
                    .map_err(|e| LambdaError::InvalidRequestContent(e.to_string()))?,
            ),
        };
        if payload.len() > MAX_PAYLOAD {
            return Err(LambdaError::PayloadTooLarge);
        }
        if !payload.is_empty() {
            serde_json::from_slice::<serde_json::Value>(&payload)
                .map_err(|e| LambdaError::InvalidRequestContent(e.to_string()))?;
        }
        let client_context = match input.client_context.as_deref() {
            None => None,
            Some(c) => Some(
                b64()
                    .decode(c)
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok())
                    .ok_or_else(|| {
                        LambdaError::InvalidParameter(
                            "Client context must be a valid Base64-encoded JSON object.".into(),
                        )
                    })?,
            ),
        };
        let config: FunctionConfiguration = target.config;
        let kind = input
            .invocation_type
            .as_deref()
            .unwrap_or("RequestResponse");
        if kind == "DryRun" {
            return Ok(InvokeResponse {
                status_code: 204,
                function_error: None,
                log_result: None,
                payload: None,
                executed_version: None,
            });
        }

        // Each version runs in its own environments; $LATEST keys on the bare name.
        let key = match config.version.as_str() {
            "$LATEST" => format!("{}/{}/{}", ctx.account_id, ctx.region, config.function_name),
            v => format!(
                "{}/{}/{}:{v}",
                ctx.account_id, ctx.region, config.function_name
            ),
        };
        let run = RunRequest {
            request_id: ctx.request_id.clone(),
            function_arn: config.function_arn.clone(),
            payload: if payload.is_empty() {
                Bytes::from_static(b"{}")
            } else {
                payload
            },
            client_context,
            // Only Cognito identity-pool credentials carry one; CloudEmu issues none yet.
            cognito_identity: None,
            timeout_secs: config.timeout,
            memory_size: config.memory_size,
            version: config.version.clone(),
        };
        let store = self.store.clone();
        let code_id = target.code_object_id.clone();
        let spec_config = config.clone();
        let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
        let endpoint_url = format!("http://{}", ctx.host);
        let spec = move || async move {
            let code_zip = store
                .read_code(&code_id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "the function's code is missing from the data dir".to_string())?;
            let layers = crate::layers::layer_zips(&store, spec_config.layers.as_deref()).await?;
            let c = spec_config;
            Ok(EnvSpec {
                log_group: c
                    .logging_config
                    .get("LogGroup")
                    .and_then(|g| g.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("/aws/lambda/{}", c.function_name)),
                function_name: c.function_name,
                version: c.version,
                runtime: c.runtime.unwrap_or_default(),
                handler: c.handler.unwrap_or_default(),
                memory_size: c.memory_size,
                region,
                account_id: account,
                revision_id: c.revision_id,
                variables: c.environment.map(|e| e.variables).unwrap_or_default(),
                endpoint_url,
                code_zip,
                layers,
            })
        };
        let exec = self.exec.clone();
        let revision = config.revision_id.clone();
        if kind == "Event" {
            // Stored before the 202, then run, retried and routed by async_invoke.
            self.accept_event(ctx, &input, run.payload.clone()).await?;
            return Ok(InvokeResponse {
                status_code: 202,
                function_error: None,
                log_result: None,
                payload: None,
                executed_version: None,
            });
        }
        let _slot = exec
            .acquire(&key, record.reserved_concurrency)
            .ok_or(LambdaError::Throttled)?;
        let result = exec.run(&key, &revision, spec, run).await;
        let log_result = (input.log_type.as_deref() == Some("Tail")).then(|| {
            let start = result.log.len().saturating_sub(LOG_TAIL);
            b64().encode(&result.log[start..])
        });
        Ok(InvokeResponse {
            status_code: 200,
            function_error: result.function_error.then(|| "Unhandled".to_string()),
            log_result,
            payload: Some(b64().encode(&result.payload)),
            executed_version: Some(config.version),
        })
    }
}
