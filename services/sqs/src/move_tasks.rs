//! Message move tasks: move messages out of a dead-letter queue (back to their source, or to a
//! given queue) at a bounded rate, reporting progress.

use crate::attributes::parse_redrive_policy;
use crate::errors::SqsError;
use crate::shapes::*;
use crate::{now_ms, queue_arn, Sqs};
use base64::Engine;
use cloudemu_core::RequestContext;
use cloudemu_storage::sqs::{MoveTaskRecord, Write, Written};
use std::sync::Arc;
use std::time::Duration;

/// Moves per second when the caller sets no rate.
const DEFAULT_RATE: i64 = 500;

impl Sqs {
    pub async fn start_message_move_task(
        self: &Sqs,
        ctx: &RequestContext,
        input: StartMessageMoveTaskRequest,
    ) -> Result<StartMessageMoveTaskResult, SqsError> {
        let source = self.queue_by_arn(&input.source_arn).await?.ok_or_else(|| {
            SqsError::ResourceNotFound(
                "The resource that you specified for the SourceArn parameter doesn't exist.".into(),
            )
        })?;
        let source_arn = queue_arn(&source);
        // The source must be some queue's dead-letter queue.
        let redriving: Vec<_> = self
            .store
            .list_queues(&source.account_id, &source.region, "")
            .await?
            .into_iter()
            .filter(|q| {
                q.attribute("RedrivePolicy")
                    .and_then(parse_redrive_policy)
                    .is_some_and(|(t, _)| t == source_arn)
            })
            .collect();
        if redriving.is_empty() {
            return Err(SqsError::InvalidParameterValue(
                "Source queue must be configured as a Dead Letter Queue.".into(),
            ));
        }
        let dest = match &input.destination_arn {
            Some(arn) => Some(self.queue_by_arn(arn).await?.ok_or_else(|| {
                SqsError::ResourceNotFound(
                    "The resource that you specified for the DestinationArn parameter doesn't exist.".into(),
                )
            })?),
            // Each message goes back to the queue it was dead-lettered from.
            None => None,
        };
        if let Some(rate) = input.max_number_of_messages_per_second {
            if !(1..=500).contains(&rate) {
                return Err(SqsError::InvalidParameterValue(format!(
                    "Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500."
                )));
            }
        }
        if self
            .store
            .move_tasks(&source_arn)
            .await?
            .iter()
            .any(|t| t.status == "RUNNING")
        {
            return Err(SqsError::UnsupportedOperation(
                "There is already a task running. Only one active task is allowed for a source queue arn at a given time.".into(),
            ));
        }
        let to_move = self.store.counts(source.id, now_ms()).await?.visible;
        let handle = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{source_arn}", uuid::Uuid::new_v4()));
        let record = MoveTaskRecord {
            task_handle: handle.clone(),
            account_id: ctx.account_id.clone(),
            region: ctx.region.clone(),
            source_arn,
            dest_arn: input.destination_arn.clone(),
            max_per_sec: input.max_number_of_messages_per_second,
            status: "RUNNING".into(),
            moved: 0,
            to_move,
            failure: None,
            started_ms: now_ms(),
        };
        self.store.put_move_task(&record).await?;
        let store = self.store.clone();
        let cancels = Arc::clone(&self.cancelled_moves);
        let rate = input
            .max_number_of_messages_per_second
            .unwrap_or(DEFAULT_RATE);
        let (from, to) = (source.id, dest.map(|d| d.id));
        let waiters = self.waiters_handle();
        tokio::spawn(async move {
            let mut rec = record;
            while rec.moved < rec.to_move {
                let cancelled = cancels
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&rec.task_handle);
                if cancelled {
                    rec.status = "CANCELLED".into();
                    break;
                }
                let batch = rate.min(rec.to_move - rec.moved);
                let moved: Vec<(i64, i64)> = match store
                    .write(Write::Move {
                        from,
                        to,
                        max: batch,
                        now_ms: now_ms(),
                    })
                    .await
                {
                    Ok(Written::Moved(per_queue)) => per_queue,
                    Ok(_) | Err(_) => {
                        rec.status = "FAILED".into();
                        rec.failure = Some("AWS.SimpleQueueService.InternalError".into());
                        break;
                    }
                };
                let moved_now: i64 = moved.iter().map(|(_, n)| n).sum();
                rec.moved += moved_now;
                for (queue, n) in moved {
                    waiters.wake(queue, n as usize);
                }
                let _ = store.put_move_task(&rec).await;
                if moved_now < batch {
                    break;
                }
                // The rate is per second: the next slice waits its turn.
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            if rec.status == "RUNNING" {
                rec.status = "COMPLETED".into();
            }
            let _ = store.put_move_task(&rec).await;
        });
        Ok(StartMessageMoveTaskResult {
            task_handle: handle,
        })
    }

    pub async fn cancel_message_move_task(
        &self,
        _ctx: &RequestContext,
        input: CancelMessageMoveTaskRequest,
    ) -> Result<CancelMessageMoveTaskResult, SqsError> {
        let not_found = || SqsError::ResourceNotFound("Task does not exist.".into());
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&input.task_handle)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(not_found)?;
        let source_arn = raw.split_once(':').map(|(_, a)| a).ok_or_else(not_found)?;
        let tasks = self.store.move_tasks(source_arn).await?;
        let task = tasks
            .iter()
            .find(|t| t.task_handle == input.task_handle)
            .ok_or_else(not_found)?;
        if task.status != "RUNNING" {
            return Err(SqsError::UnsupportedOperation(
                "Only active tasks can be cancelled.".into(),
            ));
        }
        self.cancelled_moves
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(input.task_handle.clone());
        let mut rec = task.clone();
        rec.status = "CANCELLING".into();
        self.store.put_move_task(&rec).await?;
        Ok(CancelMessageMoveTaskResult {
            approximate_number_of_messages_moved: task.moved,
        })
    }

    pub async fn list_message_move_tasks(
        &self,
        _ctx: &RequestContext,
        input: ListMessageMoveTasksRequest,
    ) -> Result<ListMessageMoveTasksResult, SqsError> {
        let max = input.max_results.unwrap_or(1);
        if !(1..=10).contains(&max) {
            return Err(SqsError::InvalidParameterValue(format!(
                "Value {max} for parameter MaxResults is invalid. Reason: Must be between 1 and 10."
            )));
        }
        if self.queue_by_arn(&input.source_arn).await?.is_none() {
            return Err(SqsError::ResourceNotFound(
                "The resource that you specified for the SourceArn parameter doesn't exist.".into(),
            ));
        }
        let tasks = self.store.move_tasks(&input.source_arn).await?;
        Ok(ListMessageMoveTasksResult {
            results: tasks
                .into_iter()
                .take(max as usize)
                .map(|t| ListMessageMoveTasksResultEntry {
                    task_handle: (t.status == "RUNNING").then_some(t.task_handle),
                    status: t.status,
                    source_arn: t.source_arn,
                    destination_arn: t.dest_arn,
                    max_number_of_messages_per_second: t.max_per_sec,
                    approximate_number_of_messages_moved: t.moved,
                    approximate_number_of_messages_to_move: t.to_move,
                    failure_reason: t.failure,
                    started_timestamp: t.started_ms,
                })
                .collect(),
        })
    }
}
