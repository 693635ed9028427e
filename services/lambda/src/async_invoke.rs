//! Asynchronous invocation as Lambda does it: an `Event` invoke is stored (so a restart does not
//! lose it) and answered 202; a worker runs it, retries a function error twice (after one, then
//! two minutes), and sends what finally failed to the function's DeadLetterConfig queue and
//! its OnFailure destination, and what succeeded to its OnSuccess destination. Everything goes
//! through the in-process client: Lambda's own Invoke, SQS's SendMessage.

use crate::event_invoke_config::{InvokeConfig, DEFAULT_MAX_AGE, DEFAULT_RETRIES};
use base64::Engine;
use cloudemu_core::internal::UNAVAILABLE;
use cloudemu_core::{InternalClient, RequestContext, ServiceError};
use cloudemu_storage::lambda_esm::{AsyncEvent, LambdaEsmStore};
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::Duration;

/// Lambda's waits before the second and third attempts.
const RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(60), Duration::from_secs(120)];
/// Waits before re-trying an invocation Lambda itself could not run (throttled, say):
/// doubling from one second up to five minutes, as Lambda backs off.
const SYSTEM_RETRY: Duration = Duration::from_secs(1);
const SYSTEM_RETRY_MAX: Duration = Duration::from_secs(300);

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub struct AsyncInvoker {
    client: OnceLock<InternalClient>,
    store: OnceLock<LambdaEsmStore>,
    /// Multiplies Lambda's retry delays (`--lambda-async-retry-scale`; 1 is AWS's timing).
    scale: f64,
}

impl AsyncInvoker {
    pub fn new(scale: f64) -> Self {
        Self {
            client: OnceLock::new(),
            store: OnceLock::new(),
            scale: if scale.is_finite() && scale >= 0.0 {
                scale
            } else {
                1.0
            },
        }
    }

    /// Called once the in-process client exists; resumes events a previous run accepted.
    pub fn attach(self: &std::sync::Arc<Self>, client: InternalClient, store: LambdaEsmStore) {
        if self.client.set(client).is_err() || self.store.set(store).is_err() {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            let Some(store) = me.store.get() else { return };
            match store.pending_events().await {
                Ok(events) => {
                    if !events.is_empty() {
                        tracing::info!(
                            count = events.len(),
                            "Lambda asynchronous invocations resumed"
                        );
                    }
                    for e in events {
                        me.clone().spawn(e);
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot read queued asynchronous invocations")
                }
            }
        });
    }

    /// Store an accepted event and start working on it.
    pub async fn accept(
        self: &std::sync::Arc<Self>,
        event: AsyncEvent,
    ) -> Result<(), cloudemu_storage::StorageError> {
        let Some(store) = self.store.get() else {
            // No client yet (a Lambda built without a server): nothing could run it.
            return Ok(());
        };
        store.enqueue_event(&event).await?;
        self.clone().spawn(event);
        Ok(())
    }

    fn spawn(self: std::sync::Arc<Self>, event: AsyncEvent) {
        tokio::spawn(async move { self.run(event).await });
    }

    fn delay(&self, attempt: usize) -> Duration {
        RETRY_DELAYS[attempt.min(RETRY_DELAYS.len() - 1)].mul_f64(self.scale)
    }

    async fn run(&self, mut ev: AsyncEvent) {
        let (Some(client), Some(store)) = (self.client.get(), self.store.get()) else {
            return;
        };
        let mut ctx = client.context(&ev.account_id, &ev.region, "Invoke");
        // The function sees the request id the 202 answered with.
        ctx.request_id = ev.id.clone();
        let payload: Value = serde_json::from_slice(&ev.payload).unwrap_or(json!({}));
        let mut backoff = SYSTEM_RETRY;
        loop {
            let function = match self.describe(client, &ctx, &ev).await {
                Ok(f) => f,
                Err(e) if e.code == UNAVAILABLE => return,
                Err(e) => {
                    // The function (or its version or alias) is gone: nothing left to run.
                    tracing::info!(event = %ev.id, error = %e, "asynchronous invocation dropped");
                    let _ = store.finish_event(&ev.id).await;
                    return;
                }
            };
            let config = function.invoke_config(store, &ev).await;
            let max_retries = config.maximum_retry_attempts.unwrap_or(DEFAULT_RETRIES);
            let max_age = config
                .maximum_event_age_in_seconds
                .unwrap_or(DEFAULT_MAX_AGE);
            if now_ms() - ev.received_ms > max_age * 1000 {
                let outcome = Outcome::expired(ev.attempts);
                self.fail(client, &ctx, &ev, &payload, &function, &config, outcome)
                    .await;
                let _ = store.finish_event(&ev.id).await;
                return;
            }
            let mut input = json!({
                "FunctionName": ev.function_name,
                "InvocationType": "RequestResponse",
                "Payload": b64().encode(&ev.payload),
            });
            if let Some(q) = &ev.qualifier {
                input["Qualifier"] = json!(q);
            }
            let result = client.call_value(&ctx, "lambda", "Invoke", input).await;
            let out = match result {
                Ok(out) => out,
                Err(e) if e.code == UNAVAILABLE => return,
                Err(e) if e.status == 429 || e.status >= 500 => {
                    // Lambda retries throttles and its own errors until the event is too old.
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(SYSTEM_RETRY_MAX);
                    continue;
                }
                Err(e) => {
                    tracing::info!(event = %ev.id, error = %e, "asynchronous invocation refused");
                    let _ = store.finish_event(&ev.id).await;
                    return;
                }
            };
            ev.attempts += 1;
            let outcome = Outcome::from_invoke(&out, ev.attempts);
            if outcome.function_error.is_none() {
                self.deliver(
                    client,
                    &ctx,
                    config.on_success(),
                    &outcome.record(&ev, &payload, &function),
                )
                .await;
                let _ = store.finish_event(&ev.id).await;
                return;
            }
            let retries_done = ev.attempts - 1;
            if retries_done >= max_retries {
                self.fail(client, &ctx, &ev, &payload, &function, &config, outcome)
                    .await;
                let _ = store.finish_event(&ev.id).await;
                return;
            }
            match store.record_attempt(&ev.id, ev.attempts).await {
                Ok(true) => {}
                _ => return, // reset or storage closed
            }
            tokio::time::sleep(self.delay(retries_done as usize)).await;
        }
    }

    /// The function configuration the event targets (for its DLQ and ARN).
    async fn describe(
        &self,
        client: &InternalClient,
        ctx: &RequestContext,
        ev: &AsyncEvent,
    ) -> Result<Function, ServiceError> {
        let mut input = json!({"FunctionName": ev.function_name});
        if let Some(q) = &ev.qualifier {
            input["Qualifier"] = json!(q);
        }
        let c = client
            .call_value(ctx, "lambda", "GetFunctionConfiguration", input)
            .await?;
        let name = c["FunctionName"].as_str().unwrap_or_default().to_string();
        Ok(Function {
            qualified_arn: match c["Version"].as_str() {
                Some(v) => format!(
                    "arn:aws:lambda:{}:{}:function:{name}:{}",
                    ev.region,
                    ev.account_id,
                    ev.qualifier.as_deref().unwrap_or(v)
                ),
                None => c["FunctionArn"].as_str().unwrap_or_default().to_string(),
            },
            name,
            dead_letter_arn: c["DeadLetterConfig"]["TargetArn"]
                .as_str()
                .map(str::to_string),
        })
    }

    /// A finally failed event: the DLQ gets the event itself, OnFailure the record.
    #[allow(clippy::too_many_arguments)]
    async fn fail(
        &self,
        client: &InternalClient,
        ctx: &RequestContext,
        ev: &AsyncEvent,
        payload: &Value,
        function: &Function,
        config: &InvokeConfig,
        outcome: Outcome,
    ) {
        tracing::info!(event = %ev.id, function = %function.name, condition = outcome.condition, "asynchronous invocation failed");
        if let Some(dlq) = &function.dead_letter_arn {
            let message = outcome
                .response
                .get("errorMessage")
                .and_then(Value::as_str)
                .unwrap_or(outcome.condition)
                .to_string();
            let attrs = json!({
                "RequestID": {"DataType": "String", "StringValue": ev.id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": message},
            });
            let body = String::from_utf8_lossy(&ev.payload).into_owned();
            if let Err(e) = send_to_queue(client, dlq, body, Some(attrs)).await {
                tracing::warn!(event = %ev.id, error = %e, "dead-letter queue delivery failed");
            }
        }
        let record = outcome.record(ev, payload, function);
        self.deliver(client, ctx, config.on_failure(), &record)
            .await;
    }

    /// Send a destination record to an SQS queue or a Lambda function. Other destination types
    /// (SNS, EventBridge, S3) are stored but not delivered yet.
    async fn deliver(
        &self,
        client: &InternalClient,
        ctx: &RequestContext,
        destination: Option<&str>,
        record: &Value,
    ) {
        let Some(arn) = destination else { return };
        let body = record.to_string();
        let res = match arn.split(':').nth(2) {
            Some("sqs") => send_to_queue(client, arn, body, None).await,
            Some("lambda") => client
                .call_value(
                    // A request of its own: the destination's event gets its own id.
                    &client.context(&ctx.account_id, &ctx.region, "Invoke"),
                    "lambda",
                    "Invoke",
                    json!({"FunctionName": arn, "InvocationType": "Event", "Payload": b64().encode(body)}),
                )
                .await
                .map(|_| ()),
            _ => {
                tracing::info!(destination = %arn, "destination type not delivered by CloudEmu yet");
                Ok(())
            }
        };
        if let Err(e) = res {
            tracing::warn!(destination = %arn, error = %e, "destination delivery failed");
        }
    }
}

struct Function {
    name: String,
    /// The ARN with the qualifier that ran (`:$LATEST`, a version or the alias).
    qualified_arn: String,
    dead_letter_arn: Option<String>,
}

impl Function {
    async fn invoke_config(&self, store: &LambdaEsmStore, ev: &AsyncEvent) -> InvokeConfig {
        let qualifier = ev.qualifier.as_deref().unwrap_or("$LATEST");
        match store
            .get_invoke_config(&ev.account_id, &ev.region, &self.name, qualifier)
            .await
        {
            Ok(Some(doc)) => serde_json::from_str(&doc).unwrap_or_default(),
            _ => InvokeConfig::default(),
        }
    }
}

/// How an attempt ended, in the terms of a destination record.
struct Outcome {
    condition: &'static str,
    attempts: i64,
    status: i64,
    executed_version: Option<String>,
    function_error: Option<String>,
    response: Value,
}

impl Outcome {
    fn from_invoke(out: &Value, attempts: i64) -> Self {
        let function_error = out["FunctionError"].as_str().map(str::to_string);
        let response = out["Payload"]
            .as_str()
            .and_then(|p| b64().decode(p).ok())
            .map(|b| serde_json::from_slice(&b).unwrap_or(Value::Null))
            .unwrap_or(Value::Null);
        Self {
            condition: if function_error.is_some() {
                "RetriesExhausted"
            } else {
                "Success"
            },
            attempts,
            status: out["StatusCode"].as_i64().unwrap_or(200),
            executed_version: out["ExecutedVersion"].as_str().map(str::to_string),
            function_error,
            response,
        }
    }

    fn expired(attempts: i64) -> Self {
        Self {
            condition: "EventAgeExceeded",
            attempts,
            status: 200,
            executed_version: None,
            function_error: None,
            response: Value::Null,
        }
    }

    /// The record Lambda sends to a destination.
    fn record(&self, ev: &AsyncEvent, payload: &Value, f: &Function) -> Value {
        let mut response_context = json!({"statusCode": self.status});
        if let Some(v) = &self.executed_version {
            response_context["executedVersion"] = json!(v);
        }
        if let Some(e) = &self.function_error {
            response_context["functionError"] = json!(e);
        }
        json!({
            "version": "1.0",
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "requestContext": {
                "requestId": ev.id,
                "functionArn": f.qualified_arn,
                "condition": self.condition,
                "approximateInvokeCount": self.attempts,
            },
            "requestPayload": payload,
            "responseContext": response_context,
            "responsePayload": self.response,
        })
    }
}

async fn send_to_queue(
    client: &InternalClient,
    arn: &str,
    body: String,
    attributes: Option<Value>,
) -> Result<(), ServiceError> {
    let q = crate::event_sources::parse_queue_arn(arn)
        .ok_or_else(|| ServiceError::client("InvalidParameterValueException", 400, arn))?;
    let url = client
        .call_value(
            &client.context(&q.account, &q.region, "GetQueueUrl"),
            "sqs",
            "GetQueueUrl",
            json!({"QueueName": q.name, "QueueOwnerAWSAccountId": q.account}),
        )
        .await?["QueueUrl"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut input = json!({"QueueUrl": url, "MessageBody": body});
    if let Some(a) = attributes {
        input["MessageAttributes"] = a;
    }
    let sqs_ctx = client.context(&q.account, &q.region, "SendMessage");
    client
        .call_value(&sqs_ctx, "sqs", "SendMessage", input)
        .await
        .map(|_| ())
}

impl crate::Lambda {
    /// Accept an `Event` invocation: stored durably before Invoke answers 202.
    pub(crate) async fn accept_event(
        &self,
        ctx: &RequestContext,
        input: &crate::shapes::InvokeRequest,
        payload: bytes::Bytes,
    ) -> Result<(), crate::errors::LambdaError> {
        let f = crate::names::resolve(ctx, &input.function_name)?;
        let event = AsyncEvent {
            id: ctx.request_id.clone(),
            account_id: ctx.account_id.clone(),
            region: ctx.region.clone(),
            function_name: f.name,
            qualifier: input.qualifier.clone().or(f.qualifier),
            payload: payload.to_vec(),
            attempts: 0,
            received_ms: now_ms(),
        };
        self.async_invoker.accept(event).await?;
        Ok(())
    }
}
