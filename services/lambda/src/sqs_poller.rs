//! Poller tasks for each enabled SQS event source mapping (five, or the mapping's
//! ScalingConfig.MaximumConcurrency if lower): long-polls the queue through SQS's own
//! API (the in-process client), invokes the function with the batch in the event shape Lambda
//! sends, deletes what succeeded, and leaves failures to the queue's visibility timeout and
//! redrive policy, as Lambda does.

use crate::event_sources::{parse_queue_arn, MappingConfiguration};
use base64::Engine;
use cloudemu_core::internal::UNAVAILABLE;
use cloudemu_core::{InternalClient, RequestContext, ServiceError};
use cloudemu_storage::lambda_esm::{LambdaEsmStore, MappingRecord};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// SQS's longest long poll: an idle poller makes one request per 20 s.
const LONG_POLL_SECS: i64 = 20;
/// Back-off after a failed receive or invoke, so a broken mapping does not spin.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// The system attributes Lambda puts in each record's `attributes`.
const SYSTEM_ATTRIBUTES: &[&str] = &[
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
];

/// The running pollers, by mapping UUID.
#[derive(Default)]
pub struct Pollers {
    client: OnceLock<InternalClient>,
    store: OnceLock<LambdaEsmStore>,
    running: Mutex<HashMap<String, watch::Sender<bool>>>,
}

impl Pollers {
    /// Called once the in-process client exists: from now on mappings can be polled, and the
    /// stored enabled mappings resume (a restart keeps feeding functions).
    pub fn attach(&self, client: InternalClient, store: LambdaEsmStore) -> Option<()> {
        self.client.set(client).ok()?;
        self.store.set(store).ok()
    }

    /// Start polling for a mapping unless its poller already runs.
    pub fn start(&self, m: &MappingRecord) {
        let (Some(client), Some(store)) = (self.client.get(), self.store.get()) else {
            return; // not attached yet: `resume` will start it
        };
        let Ok(mut running) = self.running.lock() else {
            return;
        };
        if running.get(&m.uuid).is_some_and(|s| !s.is_closed()) {
            return;
        }
        let (tx, rx) = watch::channel(false);
        running.insert(m.uuid.clone(), tx);
        for _ in 0..concurrency(m) {
            let poller = Poller {
                client: client.clone(),
                store: store.clone(),
                uuid: m.uuid.clone(),
                account: m.account_id.clone(),
                region: m.region.clone(),
            };
            tokio::spawn(poller.run(rx.clone()));
        }
    }

    /// Restart a mapping's pollers (its concurrency may have changed).
    pub fn restart(&self, m: &MappingRecord) {
        self.stop(&m.uuid);
        self.start(m);
    }

    /// Stop a mapping's pollers (batches being processed finish first).
    pub fn stop(&self, uuid: &str) {
        if let Some(tx) = self.running.lock().ok().and_then(|mut r| r.remove(uuid)) {
            let _ = tx.send(true);
        }
    }

    /// Start every stored enabled mapping's poller.
    pub async fn resume(&self) {
        let Some(store) = self.store.get() else {
            return;
        };
        match store.enabled_mappings().await {
            Ok(all) => {
                for m in &all {
                    self.start(m);
                }
                if !all.is_empty() {
                    tracing::info!(count = all.len(), "Lambda event source mappings resumed");
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot list event source mappings"),
        }
    }
}

/// A received message and the event record made from it.
type Received<'a> = (&'a Value, Value);

/// Batches a mapping processes at once: Lambda starts five pollers for an SQS source, and
/// ScalingConfig.MaximumConcurrency caps the invocations a mapping may run (at least 2).
fn concurrency(m: &MappingRecord) -> usize {
    const INITIAL_POLLERS: usize = 5;
    serde_json::from_str::<MappingConfiguration>(&m.config)
        .ok()
        .and_then(|c| c.scaling_config?.get("MaximumConcurrency")?.as_u64())
        .map_or(INITIAL_POLLERS, |n| (n as usize).min(INITIAL_POLLERS))
}

struct Poller {
    client: InternalClient,
    store: LambdaEsmStore,
    uuid: String,
    account: String,
    region: String,
}

/// Why a poller ends.
enum Stop {
    Stopped,
}

impl Poller {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut pause = RETRY_PAUSE;
        let mut queue: Option<(String, String)> = None; // (source ARN, queue URL)
        loop {
            if *stop.borrow() {
                break;
            }
            // The mapping is re-read for every batch: updates apply at once, and a deleted (or
            // reset) mapping ends its poller.
            let config = match self
                .store
                .get_mapping(&self.account, &self.region, &self.uuid)
                .await
            {
                Ok(Some(r)) if r.enabled => {
                    match serde_json::from_str::<MappingConfiguration>(&r.config) {
                        Ok(c) => c,
                        Err(_) => break,
                    }
                }
                _ => break,
            };
            let url = match &queue {
                Some((arn, url)) if *arn == config.event_source_arn => url.clone(),
                _ => match self.queue_url(&config.event_source_arn).await {
                    Ok(url) => {
                        queue = Some((config.event_source_arn.clone(), url.clone()));
                        url
                    }
                    Err(e) if e.code == UNAVAILABLE => break,
                    Err(e) => {
                        tracing::warn!(mapping = %self.uuid, error = %e, "event source queue unavailable");
                        if self.pause(&mut stop, &mut pause).await.is_err() {
                            break;
                        }
                        continue;
                    }
                },
            };
            let batch = tokio::select! {
                _ = stop.changed() => break,
                b = self.gather(&url, &config) => b,
            };
            let messages = match batch {
                Ok(m) => m,
                Err(e) if e.code == UNAVAILABLE => break,
                Err(e) => {
                    tracing::warn!(mapping = %self.uuid, error = %e, "receiving from the event source failed");
                    queue = None;
                    if self.pause(&mut stop, &mut pause).await.is_err() {
                        break;
                    }
                    continue;
                }
            };
            if messages.is_empty() {
                continue;
            }
            match self.deliver(&url, &config, &messages).await {
                Ok(()) => pause = RETRY_PAUSE,
                Err(e) if e.code == UNAVAILABLE => break,
                Err(e) => {
                    tracing::info!(mapping = %self.uuid, error = %e, "event source batch not processed");
                    if self.pause(&mut stop, &mut pause).await.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::debug!(mapping = %self.uuid, "event source poller stopped");
    }

    /// Sleep `pause` (doubling it up to a bound) unless stopped meanwhile.
    async fn pause(
        &self,
        stop: &mut watch::Receiver<bool>,
        pause: &mut Duration,
    ) -> Result<(), Stop> {
        let d = *pause;
        *pause = (*pause * 2).min(MAX_PAUSE);
        tokio::select! {
            _ = stop.changed() => Err(Stop::Stopped),
            _ = tokio::time::sleep(d) => Ok(()),
        }
    }

    fn ctx(&self, operation: &str) -> RequestContext {
        self.client.context(&self.account, &self.region, operation)
    }

    async fn queue_url(&self, arn: &str) -> Result<String, ServiceError> {
        let q = parse_queue_arn(arn)
            .ok_or_else(|| ServiceError::client("InvalidParameterValueException", 400, arn))?;
        let out = self
            .client
            .call_value(
                &self.client.context(&q.account, &q.region, "GetQueueUrl"),
                "sqs",
                "GetQueueUrl",
                json!({"QueueName": q.name, "QueueOwnerAWSAccountId": q.account}),
            )
            .await?;
        out.get("QueueUrl")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ServiceError::internal("GetQueueUrl answered no QueueUrl"))
    }

    /// Receive up to BatchSize messages: one long poll, then, with a batching window, more
    /// receives until the batch is full or the window has passed.
    async fn gather(
        &self,
        url: &str,
        c: &MappingConfiguration,
    ) -> Result<Vec<Value>, ServiceError> {
        let window = Duration::from_secs(c.maximum_batching_window_in_seconds.max(0) as u64);
        let mut messages: Vec<Value> = Vec::new();
        let mut deadline: Option<Instant> = None;
        loop {
            let wanted = (c.batch_size - messages.len() as i64).clamp(1, 10);
            let wait = match deadline {
                None => LONG_POLL_SECS,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    // Rounded up: a sub-second remainder long-polls one second, not zero
                    // (which would spin until the window closes).
                    (left.as_secs_f64().ceil() as i64).clamp(1, LONG_POLL_SECS)
                }
            };
            let out = self
                .client
                .call_value(
                    &self.ctx("ReceiveMessage"),
                    "sqs",
                    "ReceiveMessage",
                    json!({
                        "QueueUrl": url,
                        "MaxNumberOfMessages": wanted,
                        "WaitTimeSeconds": wait,
                        "MessageSystemAttributeNames": SYSTEM_ATTRIBUTES,
                        "MessageAttributeNames": ["All"],
                    }),
                )
                .await?;
            let got = out
                .get("Messages")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let empty = got.is_empty();
            messages.extend(got);
            if messages.is_empty() {
                // Nothing yet: the caller long-polls again (after re-reading the mapping).
                return Ok(messages);
            }
            if window.is_zero() || messages.len() as i64 >= c.batch_size {
                break;
            }
            let d = *deadline.get_or_insert_with(|| Instant::now() + window);
            if empty && Instant::now() >= d {
                break;
            }
        }
        Ok(messages)
    }

    /// Invoke the function with the batch; delete what it processed.
    async fn deliver(
        &self,
        url: &str,
        c: &MappingConfiguration,
        messages: &[Value],
    ) -> Result<(), ServiceError> {
        // Records no filter matches are deleted without invoking the function, as Lambda does
        // for SQS sources.
        let patterns = c
            .filter_criteria
            .as_ref()
            .and_then(|f| crate::event_filter::patterns(f).ok())
            .unwrap_or_default();
        let (records, dropped): (Vec<Received>, Vec<Received>) = messages
            .iter()
            .map(|m| (m, record(m, &c.event_source_arn, &self.region)))
            .partition(|(_, r)| {
                crate::event_filter::any_match(&patterns, &crate::event_filter::sqs_view(r))
            });
        if !dropped.is_empty() {
            let dropped: Vec<&Value> = dropped.iter().map(|(m, _)| *m).collect();
            self.delete(url, &dropped).await?;
        }
        if records.is_empty() {
            return Ok(());
        }
        let messages: Vec<Value> = records.iter().map(|(m, _)| (*m).clone()).collect();
        let messages = messages.as_slice();
        let event = json!({
            "Records": records.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
        });
        let payload = base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(&event).unwrap_or_default());
        let out = self
            .client
            .call_value(
                &self.ctx("Invoke"),
                "lambda",
                "Invoke",
                json!({
                    "FunctionName": c.function_arn,
                    "InvocationType": "RequestResponse",
                    "Payload": payload,
                }),
            )
            .await?;
        if out.get("FunctionError").is_some_and(|v| !v.is_null()) {
            // The whole batch returns to the queue when its visibility timeout ends.
            tracing::info!(mapping = %self.uuid, "function failed on a batch; messages left to the queue");
            return Ok(());
        }
        let answer = out
            .get("Payload")
            .and_then(Value::as_str)
            .and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok())
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .unwrap_or(Value::Null);
        let ids: Vec<&str> = messages
            .iter()
            .filter_map(|m| m.get("MessageId").and_then(Value::as_str))
            .collect();
        let failed = if c.reports_batch_item_failures() {
            match failed_items(&answer, &ids) {
                Some(f) => f,
                None => {
                    tracing::info!(mapping = %self.uuid, "invalid batchItemFailures: the whole batch failed");
                    return Ok(());
                }
            }
        } else {
            Vec::new()
        };
        let done: Vec<&Value> = messages
            .iter()
            .filter(|m| {
                m.get("MessageId")
                    .and_then(Value::as_str)
                    .is_some_and(|id| !failed.iter().any(|f| f == id))
            })
            .collect();
        self.delete(url, &done).await
    }

    /// Delete messages by receipt handle, ten per DeleteMessageBatch.
    async fn delete(&self, url: &str, messages: &[&Value]) -> Result<(), ServiceError> {
        for chunk in messages.chunks(10) {
            let entries: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| json!({"Id": i.to_string(), "ReceiptHandle": m.get("ReceiptHandle")}))
                .collect();
            self.client
                .call_value(
                    &self.ctx("DeleteMessageBatch"),
                    "sqs",
                    "DeleteMessageBatch",
                    json!({"QueueUrl": url, "Entries": entries}),
                )
                .await?;
        }
        Ok(())
    }
}

/// The message ids a ReportBatchItemFailures answer names, or `None` when the answer is not
/// valid (an identifier that is empty or not in the batch), which fails the whole batch as on
/// Lambda. An answer without `batchItemFailures` (or null, or not an object) is full success.
fn failed_items(answer: &Value, batch: &[&str]) -> Option<Vec<String>> {
    let Some(items) = answer.get("batchItemFailures") else {
        return Some(Vec::new());
    };
    let Some(items) = items.as_array() else {
        return if items.is_null() {
            Some(Vec::new())
        } else {
            None
        };
    };
    items
        .iter()
        .map(|i| {
            i.get("itemIdentifier")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty() && batch.contains(id))
                .map(str::to_string)
        })
        .collect()
}

/// One record of the SQS event Lambda sends.
fn record(m: &Value, source_arn: &str, region: &str) -> Value {
    let s = |k: &str| m.get(k).cloned().unwrap_or(Value::Null);
    let attributes = m
        .get("Attributes")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let message_attributes: Map<String, Value> = m
        .get("MessageAttributes")
        .and_then(Value::as_object)
        .map(|attrs| {
            attrs
                .iter()
                .map(|(name, a)| {
                    let mut v = Map::new();
                    if let Some(x) = a.get("StringValue") {
                        v.insert("stringValue".into(), x.clone());
                    }
                    if let Some(x) = a.get("BinaryValue") {
                        v.insert("binaryValue".into(), x.clone());
                    }
                    v.insert("stringListValues".into(), json!([]));
                    v.insert("binaryListValues".into(), json!([]));
                    v.insert(
                        "dataType".into(),
                        a.get("DataType").cloned().unwrap_or(Value::Null),
                    );
                    (name.clone(), Value::Object(v))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut r = json!({
        "messageId": s("MessageId"),
        "receiptHandle": s("ReceiptHandle"),
        "body": s("Body"),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": s("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": source_arn,
        "awsRegion": region,
    });
    if let (Some(md5), Some(obj)) = (m.get("MD5OfMessageAttributes"), r.as_object_mut()) {
        obj.insert("md5OfMessageAttributes".into(), md5.clone());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_item_failures() {
        let batch = ["a", "b"];
        assert_eq!(failed_items(&json!({}), &batch), Some(vec![]));
        assert_eq!(failed_items(&Value::Null, &batch), Some(vec![]));
        assert_eq!(
            failed_items(
                &json!({"batchItemFailures": [{"itemIdentifier": "b"}]}),
                &batch
            ),
            Some(vec!["b".to_string()])
        );
        assert_eq!(
            failed_items(
                &json!({"batchItemFailures": [{"itemIdentifier": "zz"}]}),
                &batch
            ),
            None
        );
        assert_eq!(
            failed_items(
                &json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
                &batch
            ),
            None
        );
    }

    #[test]
    fn pollers_per_mapping() {
        let mapping = |scaling: Option<Value>| MappingRecord {
            uuid: "u".into(),
            account_id: "a".into(),
            region: "r".into(),
            function_name: "f".into(),
            function_arn: "arn".into(),
            event_source_arn: "arn:aws:sqs:r:a:q".into(),
            config: json!({
                "UUID": "u", "BatchSize": 10, "MaximumBatchingWindowInSeconds": 0,
                "EventSourceArn": "arn:aws:sqs:r:a:q", "FunctionArn": "arn", "LastModified": 0.0,
                "State": "Enabled", "StateTransitionReason": "USER_INITIATED",
                "EventSourceMappingArn": "x", "ScalingConfig": scaling,
            })
            .to_string(),
            enabled: true,
            created_at: 0.0,
        };
        assert_eq!(concurrency(&mapping(None)), 5);
        assert_eq!(
            concurrency(&mapping(Some(json!({"MaximumConcurrency": 2})))),
            2
        );
        assert_eq!(
            concurrency(&mapping(Some(json!({"MaximumConcurrency": 900})))),
            5
        );
    }

    #[test]
    fn record_shape() {
        let m = json!({
            "MessageId": "id1", "ReceiptHandle": "rh", "Body": "hi", "MD5OfBody": "md5",
            "Attributes": {"ApproximateReceiveCount": "1"},
            "MessageAttributes": {"k": {"StringValue": "v", "DataType": "String"}},
            "MD5OfMessageAttributes": "m2",
        });
        let r = record(&m, "arn:aws:sqs:us-east-1:000000000000:q", "us-east-1");
        assert_eq!(r["messageId"], "id1");
        assert_eq!(r["eventSource"], "aws:sqs");
        assert_eq!(r["messageAttributes"]["k"]["stringValue"], "v");
        assert_eq!(r["messageAttributes"]["k"]["dataType"], "String");
        assert_eq!(r["md5OfMessageAttributes"], "m2");
    }
}
