//! Amazon SQS: standard and FIFO queues, dead-letter queues, long polling, message move tasks.
//!
//! Messages live in SQLite (`cloudemu_storage::sqs`), never in memory; what this crate keeps in
//! memory is only who is waiting (long polls) and a cache of queue records.
//!
//! Besides `impl Service`, the typed handlers (`receive_message`, `delete_message`,
//! `change_message_visibility`, …) are public so other services (Lambda's event source
//! mappings) can consume queues without HTTP.

mod attributes;
mod errors;
mod md5;
mod messages;
mod move_tasks;
mod queues;
pub mod shapes;

use cloudemu_core::{
    typed, typed_response, BoxFuture, RequestContext, Service, ServiceError, ServiceRequest,
    ServiceResponse,
};
use cloudemu_storage::sqs::{QueueRecord, SqsStore};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

pub use errors::SqsError;

pub struct Sqs {
    store: SqsStore,
    /// Long polls wait here, woken by sends and visibility changes.
    waiters: Arc<Waiters>,
    /// Queue records for the message path, by (account, region, name). Every change to a
    /// queue goes through this struct and forgets its entry; a queue deleted behind our back
    /// (`/_cloudemu/reset`) is caught by the writer, which answers `QueueGone`.
    queues: Mutex<HashMap<(String, String, String), Arc<QueueRecord>>>,
    /// Move tasks asked to stop; their runner sees this between slices.
    cancelled_moves: Arc<Mutex<HashSet<String>>>,
}

impl Sqs {
    /// Must be called inside the Tokio runtime: it starts the retention sweeper.
    pub fn new(store: SqsStore) -> Self {
        let sweeper = store.clone();
        tokio::spawn(async move {
            // Receives and counts already skip expired messages; this reclaims their space.
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
            loop {
                tick.tick().await;
                loop {
                    match sweeper.sweep(now_ms(), 10_000).await {
                        Ok(10_000) => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "SQS retention sweep failed");
                            break;
                        }
                    }
                }
            }
        });
        Self {
            store,
            waiters: Arc::default(),
            queues: Mutex::new(HashMap::new()),
            cancelled_moves: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    fn notify(&self, queue_id: i64) -> Arc<Notify> {
        self.waiters.notify(queue_id)
    }

    fn wake(&self, queue_id: i64, messages: usize) {
        self.waiters.wake(queue_id, messages)
    }

    fn wake_all(&self, queue_id: i64) {
        self.waiters.wake_all(queue_id)
    }

    /// For background work (move tasks) that makes messages available.
    fn waiters_handle(&self) -> Arc<Waiters> {
        Arc::clone(&self.waiters)
    }

    /// The queue a URL names, from the cache unless `fresh`.
    pub(crate) async fn message_queue(
        &self,
        ctx: &RequestContext,
        url: &str,
        fresh: bool,
    ) -> Result<Arc<QueueRecord>, SqsError> {
        let (account, name) = parse_queue_url(url).ok_or(SqsError::QueueDoesNotExist)?;
        let key = (account, ctx.region.clone(), name);
        if !fresh {
            let cache = self.queues.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(q) = cache.get(&key) {
                return Ok(q.clone());
            }
        }
        let found = self.store.get_queue(&key.0, &key.1, &key.2).await?;
        let mut cache = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        match found {
            Some(q) => {
                let q = Arc::new(q);
                cache.insert(key, q.clone());
                Ok(q)
            }
            None => {
                cache.remove(&key);
                Err(SqsError::QueueDoesNotExist)
            }
        }
    }

    /// Drop a queue's cached record (it changed or is gone).
    pub(crate) fn forget(&self, q: &QueueRecord) {
        let mut cache = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        cache.remove(&(q.account_id.clone(), q.region.clone(), q.name.clone()));
    }
}

/// Long polls waiting per queue id, one `Notify` each.
#[derive(Default)]
pub(crate) struct Waiters(Mutex<HashMap<i64, Arc<Notify>>>);

impl Waiters {
    fn notify(&self, queue_id: i64) -> Arc<Notify> {
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        w.entry(queue_id)
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone()
    }

    /// Up to `messages` messages of a queue may have become available: wake one long poll
    /// for each, oldest first. Waking them all would have a thousand polls race to the
    /// database for one message. A poll that finds nothing waits again; one that is gone
    /// passes its wake-up on (tokio's `Notify` guarantees both).
    fn wake(&self, queue_id: i64, messages: usize) {
        let w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = w.get(&queue_id) {
            for _ in 0..messages {
                n.notify_one();
            }
        }
    }

    /// Wake every long poll on a queue: it is gone, or its attributes changed.
    fn wake_all(&self, queue_id: i64) {
        let w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = w.get(&queue_id) {
            n.notify_waiters();
        }
    }
}

pub const OPERATIONS: &[&str] = &[
    "AddPermission",
    "CancelMessageMoveTask",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "CreateQueue",
    "DeleteMessage",
    "DeleteMessageBatch",
    "DeleteQueue",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "ListMessageMoveTasks",
    "ListQueueTags",
    "ListQueues",
    "PurgeQueue",
    "ReceiveMessage",
    "RemovePermission",
    "SendMessage",
    "SendMessageBatch",
    "SetQueueAttributes",
    "StartMessageMoveTask",
    "TagQueue",
    "UntagQueue",
];

/// Route an operation to its typed handler; `$h` is a method of `Sqs`. Each handler's future
/// gets its own allocation of its own size: inline, every call (a held long poll too) would
/// take the size of the largest operation's future.
macro_rules! route {
    ($self:ident, $ctx:ident, $input:ident, $h:ident) => {
        Box::pin(typed(
            $input,
            |i| async move { Ok($self.$h($ctx, i).await?) },
        ))
        .await
    };
}

impl Service for Sqs {
    fn id(&self) -> &'static str {
        "sqs"
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        request: ServiceRequest,
    ) -> BoxFuture<'a, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            let input = request.input;
            if operation == "ReceiveMessage" {
                return Box::pin(typed_response(input, |i| async move {
                    messages_encoded(self.receive_message(ctx, i).await?).map_err(|e| {
                        ServiceError::internal(format!("output serialization failed: {e}"))
                    })
                }))
                .await;
            }
            let output: Result<Value, ServiceError> = match operation {
                "CreateQueue" => route!(self, ctx, input, create_queue),
                "DeleteQueue" => route!(self, ctx, input, delete_queue),
                "GetQueueUrl" => route!(self, ctx, input, get_queue_url),
                "ListQueues" => route!(self, ctx, input, list_queues),
                "GetQueueAttributes" => route!(self, ctx, input, get_queue_attributes),
                "SetQueueAttributes" => route!(self, ctx, input, set_queue_attributes),
                "PurgeQueue" => route!(self, ctx, input, purge_queue),
                "TagQueue" => route!(self, ctx, input, tag_queue),
                "UntagQueue" => route!(self, ctx, input, untag_queue),
                "ListQueueTags" => route!(self, ctx, input, list_queue_tags),
                "ListDeadLetterSourceQueues" => {
                    route!(self, ctx, input, list_dead_letter_source_queues)
                }
                "AddPermission" => route!(self, ctx, input, add_permission),
                "RemovePermission" => route!(self, ctx, input, remove_permission),
                "SendMessage" => route!(self, ctx, input, send_message),
                "SendMessageBatch" => route!(self, ctx, input, send_message_batch),
                "DeleteMessage" => route!(self, ctx, input, delete_message),
                "DeleteMessageBatch" => route!(self, ctx, input, delete_message_batch),
                "ChangeMessageVisibility" => route!(self, ctx, input, change_message_visibility),
                "ChangeMessageVisibilityBatch" => {
                    route!(self, ctx, input, change_message_visibility_batch)
                }
                "StartMessageMoveTask" => route!(self, ctx, input, start_message_move_task),
                "CancelMessageMoveTask" => route!(self, ctx, input, cancel_message_move_task),
                "ListMessageMoveTasks" => route!(self, ctx, input, list_message_move_tasks),
                other => Err(ServiceError::not_implemented("sqs", other)),
            };
            output.map(ServiceResponse::from)
        })
    }
}

/// A receive's reply with its messages written straight to JSON text (`encoded`), in the
/// model's JSON form (`shapes::Message` names and orders its fields as the model does): as a
/// value tree, each of up to ten messages was copied field by field into maps and then
/// walked again to be written: ~60,000 instructions more per receive of ten (callgrind).
fn messages_encoded(
    result: shapes::ReceiveMessageResult,
) -> Result<ServiceResponse, serde_json::Error> {
    let mut response = ServiceResponse::from(Value::Object(Default::default()));
    if !result.messages.is_empty() {
        let text = serde_json::to_string(&result.messages)?;
        response.encoded.push(("Messages".into(), text));
    }
    Ok(response)
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `http://<host the client used>/<account>/<name>`: exactly three path segments after the
/// host, as Terraform expects.
pub(crate) fn queue_url(ctx: &RequestContext, q: &QueueRecord) -> String {
    format!("http://{}/{}/{}", ctx.host, q.account_id, q.name)
}

pub(crate) fn queue_arn(q: &QueueRecord) -> String {
    format!("arn:aws:sqs:{}:{}:{}", q.region, q.account_id, q.name)
}

/// The account and queue name a queue URL (or its path, the legacy form) names.
pub(crate) fn parse_queue_url(url: &str) -> Option<(String, String)> {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map(|(_, p)| p).unwrap_or(""),
        None => url.trim_start_matches('/'),
    };
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        [.., account, name] if !name.is_empty() => Some((account.to_string(), name.to_string())),
        _ => None,
    }
}

/// The region, account and name an SQS queue ARN names.
pub(crate) fn parse_queue_arn(arn: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sqs", region, account, name] => {
            Some((region.to_string(), account.to_string(), name.to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_and_paths() {
        assert_eq!(
            parse_queue_url("http://localhost:4566/000000000000/q1"),
            Some(("000000000000".into(), "q1".into()))
        );
        assert_eq!(
            parse_queue_url("/000000000000/q.fifo"),
            Some(("000000000000".into(), "q.fifo".into()))
        );
        assert_eq!(parse_queue_url("http://localhost:4566/"), None);
        assert_eq!(
            parse_queue_arn("arn:aws:sqs:us-east-1:123456789012:dlq"),
            Some(("us-east-1".into(), "123456789012".into(), "dlq".into()))
        );
    }
}
