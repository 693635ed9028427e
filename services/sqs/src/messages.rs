//! Messages: send, receive (with long polling), delete, change visibility, and their batches.

use crate::attributes::parse_redrive_policy;
use crate::errors::SqsError;
use crate::md5;
use crate::shapes::*;
use crate::{now_ms, queue_arn, Sqs};
use base64::Engine;
use cloudemu_core::RequestContext;
use cloudemu_storage::sqs::{
    Dedup, Handle, MessageRecord, NewMessage, QueueRecord, ReceiveSpec, VisibilityOutcome, Write,
    Written,
};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::time::Duration;

const MAX_BATCH: usize = 10;
const MAX_MESSAGE_ATTRIBUTES: usize = 10;
const DEDUP_WINDOW_MS: i64 = 5 * 60 * 1000;
const MAX_VISIBILITY: i64 = 43_200;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn is_fifo(q: &QueueRecord) -> bool {
    q.name.ends_with(".fifo")
}

fn int_attr(q: &QueueRecord, name: &str, default: i64) -> i64 {
    q.attribute(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A receipt handle names the queue, the message and the receive that handed it out, so a
/// handle from an earlier receive stops working once the message is received again.
fn receipt_handle(m: &MessageRecord) -> String {
    B64.encode(format!(
        "{}:{}:{}",
        m.queue_id,
        m.id,
        m.receipt.as_deref().unwrap_or("")
    ))
}

fn parse_handle(q: &QueueRecord, text: &str) -> Result<Handle, SqsError> {
    let invalid = || SqsError::ReceiptHandleIsInvalid(text.to_string());
    let raw = B64.decode(text).map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    let mut parts = raw.splitn(3, ':');
    let queue_id: i64 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(invalid)?;
    let id: i64 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(invalid)?;
    let nonce = parts.next().filter(|n| !n.is_empty()).ok_or_else(invalid)?;
    if queue_id != q.id {
        return Err(invalid());
    }
    Ok(Handle {
        queue_id,
        id,
        nonce: nonce.to_string(),
    })
}

/// The characters SQS accepts in bodies and attribute values.
fn check_characters(text: &str) -> Result<(), SqsError> {
    for c in text.chars() {
        let ok = matches!(c as u32, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF);
        if !ok {
            return Err(SqsError::InvalidMessageContents(format!(
                "#x{:X}",
                c as u32
            )));
        }
    }
    Ok(())
}

fn check_batch_ids<'a>(
    ids: impl Iterator<Item = &'a str>,
    count: usize,
    entry_name: &'static str,
) -> Result<(), SqsError> {
    if count == 0 {
        return Err(SqsError::EmptyBatchRequest(entry_name));
    }
    if count > MAX_BATCH {
        return Err(SqsError::TooManyEntriesInBatchRequest(count));
    }
    let mut seen = HashSet::new();
    for id in ids {
        if id.is_empty()
            || id.len() > 80
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(SqsError::InvalidBatchEntryId);
        }
        if !seen.insert(id) {
            return Err(SqsError::BatchEntryIdsNotDistinct(id.to_string()));
        }
    }
    Ok(())
}

/// Message attributes as SQS checks them; returns their size toward the message size limit.
fn check_message_attributes(attrs: &MessageAttributes) -> Result<usize, SqsError> {
    if attrs.len() > MAX_MESSAGE_ATTRIBUTES {
        return Err(SqsError::InvalidParameterValue(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].",
            attrs.len()
        )));
    }
    let mut size = 0;
    for (name, v) in attrs {
        let bad_name = name.is_empty()
            || name.len() > 256
            || name.starts_with('.')
            || name.ends_with('.')
            || name.contains("..")
            || name.to_ascii_lowercase().starts_with("aws.")
            || name.to_ascii_lowercase().starts_with("amazon.")
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if bad_name {
            return Err(SqsError::InvalidParameterValue(format!(
                "Message (user) attribute '{name}' is invalid."
            )));
        }
        let base = v.data_type.split('.').next().unwrap_or("");
        if !matches!(base, "String" | "Number" | "Binary") || v.data_type.len() > 256 {
            return Err(SqsError::InvalidParameterValue(format!(
                "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
            )));
        }
        let value_len = match base {
            "Binary" => match &v.binary_value {
                Some(b) => B64.decode(b).map(|r| r.len()).unwrap_or(0),
                None => 0,
            },
            _ => v.string_value.as_deref().map_or(0, str::len),
        };
        let present = match base {
            "Binary" => v.binary_value.as_deref().is_some_and(|b| !b.is_empty()),
            _ => v.string_value.as_deref().is_some_and(|s| !s.is_empty()),
        };
        if !present {
            return Err(SqsError::InvalidParameterValue(format!(
                "Message (user) attribute '{name}' must contain a non-empty value of message attribute type '{}'.",
                v.data_type
            )));
        }
        if base == "Number" {
            let s = v.string_value.as_deref().unwrap_or("");
            if s.trim().parse::<f64>().is_err() {
                return Err(SqsError::InvalidParameterValue(format!(
                    "Could not cast message attribute '{name}' value to number."
                )));
            }
        }
        if let Some(s) = &v.string_value {
            check_characters(s)?;
        }
        size += name.len() + v.data_type.len() + value_len;
    }
    Ok(size)
}

/// One message to send, as SendMessage and SendMessageBatch entries carry it.
struct Outgoing {
    body: String,
    delay_seconds: Option<i64>,
    attributes: MessageAttributes,
    system_attributes: MessageAttributes,
    dedup_id: Option<String>,
    group_id: Option<String>,
}

impl From<SendMessageRequest> for Outgoing {
    fn from(r: SendMessageRequest) -> Self {
        Self {
            body: r.message_body,
            delay_seconds: r.delay_seconds,
            attributes: r.message_attributes,
            system_attributes: r.message_system_attributes,
            dedup_id: r.message_deduplication_id,
            group_id: r.message_group_id,
        }
    }
}

impl From<SendMessageBatchRequestEntry> for Outgoing {
    fn from(r: SendMessageBatchRequestEntry) -> Self {
        Self {
            body: r.message_body,
            delay_seconds: r.delay_seconds,
            attributes: r.message_attributes,
            system_attributes: r.message_system_attributes,
            dedup_id: r.message_deduplication_id,
            group_id: r.message_group_id,
        }
    }
}

/// Check a message against its queue and build the row to store; also returns its size.
fn prepare(
    ctx: &RequestContext,
    q: &QueueRecord,
    m: Outgoing,
    now: i64,
) -> Result<(NewMessage, SendMessageResult, usize), SqsError> {
    let fifo = is_fifo(q);
    if m.body.is_empty() {
        return Err(SqsError::MissingParameter("MessageBody"));
    }
    check_characters(&m.body)?;
    if let Some(d) = m.delay_seconds {
        if fifo {
            return Err(SqsError::InvalidParameterValue(format!(
                "Value {d} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
            )));
        }
        if !(0..=900).contains(&d) {
            return Err(SqsError::InvalidParameterValue(format!(
                "Value {d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
            )));
        }
    }
    let attr_size = check_message_attributes(&m.attributes)?;
    for (name, v) in &m.system_attributes {
        if name != "AWSTraceHeader" || v.data_type != "String" || v.string_value.is_none() {
            return Err(SqsError::InvalidParameterValue(format!(
                "Message system attribute name '{name}' is invalid."
            )));
        }
    }
    let size = m.body.len() + attr_size;
    let max = int_attr(q, "MaximumMessageSize", 1_048_576);
    if size as i64 > max {
        return Err(SqsError::InvalidParameterValue(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."
        )));
    }
    let dedup = if fifo {
        let group = m
            .group_id
            .as_deref()
            .ok_or(SqsError::MissingParameter("MessageGroupId"))?;
        let id = match &m.dedup_id {
            Some(id) => id.clone(),
            None if q.attribute("ContentBasedDeduplication") == Some("true") => {
                Sha256::digest(m.body.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            }
            None => {
                return Err(SqsError::InvalidParameterValue(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly".into(),
                ))
            }
        };
        let scope = if q.attribute("DeduplicationScope") == Some("messageGroup") {
            group.to_string()
        } else {
            String::new()
        };
        Some(Dedup {
            id,
            scope,
            expires_ms: now + DEDUP_WINDOW_MS,
        })
    } else {
        if m.dedup_id.is_some() {
            return Err(SqsError::InvalidParameterValue(
                "The request include parameter MessageDeduplicationId that is not valid for this queue type".into(),
            ));
        }
        None
    };
    let delay = m
        .delay_seconds
        .unwrap_or_else(|| int_attr(q, "DelaySeconds", 0));
    let retention = int_attr(q, "MessageRetentionPeriod", 345_600);
    let md5_body = md5::hex(m.body.as_bytes());
    let md5_attributes = md5::of_attributes(&m.attributes);
    let md5_system = md5::of_attributes(&m.system_attributes);
    let message_id = uuid::Uuid::new_v4().to_string();
    let row = NewMessage {
        queue_id: q.id,
        message_id: message_id.clone(),
        body: m.body,
        md5_body: md5_body.clone(),
        attributes: (!m.attributes.is_empty())
            .then(|| serde_json::to_string(&m.attributes).unwrap_or_default()),
        md5_attributes: md5_attributes.clone(),
        system_attributes: (!m.system_attributes.is_empty())
            .then(|| serde_json::to_string(&m.system_attributes).unwrap_or_default()),
        md5_system: md5_system.clone(),
        sender_id: ctx
            .access_key_id
            .clone()
            .unwrap_or_else(|| ctx.account_id.clone()),
        sent_ms: now,
        visible_ms: now + delay * 1000,
        expires_ms: now + retention * 1000,
        group_id: m.group_id,
        dedup,
    };
    let result = SendMessageResult {
        md5_of_message_body: md5_body,
        md5_of_message_attributes: md5_attributes,
        md5_of_message_system_attributes: md5_system,
        message_id,
        sequence_number: None,
    };
    Ok((row, result, size))
}

fn sequence_number(seq: i64) -> String {
    format!("{seq:020}")
}

/// Which of a message's attributes a receive asked for.
fn wanted_attribute(names: &[String], name: &str) -> bool {
    names.iter().any(|n| n == "All" || n == name)
}

fn wanted_message_attribute(names: &[String], name: &str) -> bool {
    names.iter().any(|n| {
        n == "All"
            || n == ".*"
            || n == name
            || n.strip_suffix(".*").is_some_and(|prefix| {
                name.starts_with(prefix) && name[prefix.len()..].starts_with('.')
            })
    })
}

/// The record is taken, not borrowed: its body (up to 256 KiB) and ids move into the reply.
fn to_message(
    m: MessageRecord,
    q: &QueueRecord,
    attribute_names: &[String],
    message_attribute_names: &[String],
) -> Message {
    let fifo = is_fifo(q);
    let mut attrs = Attributes::new();
    // Each value is made only when asked for: most receives ask for none.
    let mut add = |name: &str, value: &dyn Fn() -> Option<String>| {
        if wanted_attribute(attribute_names, name) {
            if let Some(v) = value() {
                attrs.insert(name.to_string(), v);
            }
        }
    };
    add("SenderId", &|| Some(m.sender_id.clone()));
    add("SentTimestamp", &|| Some(m.sent_ms.to_string()));
    add("ApproximateReceiveCount", &|| {
        Some(m.receive_count.to_string())
    });
    add("ApproximateFirstReceiveTimestamp", &|| {
        m.first_receive_ms.map(|t| t.to_string())
    });
    if fifo {
        add("SequenceNumber", &|| Some(sequence_number(m.id)));
        add("MessageDeduplicationId", &|| m.dedup_id.clone());
    }
    add("MessageGroupId", &|| m.group_id.clone());
    add("AWSTraceHeader", &|| {
        let system: MessageAttributes =
            serde_json::from_str(m.system_attributes.as_deref()?).ok()?;
        system.get("AWSTraceHeader")?.string_value.clone()
    });
    let message_attributes: MessageAttributes = match m.attributes.as_deref() {
        Some(text) if !message_attribute_names.is_empty() => {
            let all: MessageAttributes = serde_json::from_str(text).unwrap_or_default();
            all.into_iter()
                .filter(|(k, _)| wanted_message_attribute(message_attribute_names, k))
                .collect()
        }
        _ => MessageAttributes::new(),
    };
    let receipt_handle = receipt_handle(&m);
    Message {
        message_id: m.message_id,
        receipt_handle,
        md5_of_body: m.md5_body,
        body: m.body,
        attributes: attrs,
        md5_of_message_attributes: md5::of_attributes(&message_attributes),
        message_attributes,
    }
}

/// A receive ready to look for messages (and wait for them).
struct Poll {
    queue: std::sync::Arc<QueueRecord>,
    max: i64,
    deadline: i64,
    visibility: i64,
    fifo: bool,
    redrive: Option<(i64, i64)>,
    attempt_id: Option<String>,
    nonce: String,
}

enum Planned {
    /// A retried FIFO receive, answered with the messages its first attempt received.
    Answered(ReceiveMessageResult),
    Poll(Poll),
}

fn check_visibility(v: i64) -> Result<(), SqsError> {
    if (0..=MAX_VISIBILITY).contains(&v) {
        Ok(())
    } else {
        Err(SqsError::InvalidParameterValue(format!(
            "Value {v} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided."
        )))
    }
}

fn unexpected(w: Written) -> SqsError {
    if matches!(w, Written::QueueGone) {
        return SqsError::QueueGone;
    }
    SqsError::Storage(cloudemu_storage::StorageError::Io(std::io::Error::other(
        format!("unexpected writer output {w:?}"),
    )))
}

/// Message operations use cached queue records; when the writer finds the queue gone, look
/// it up again once (it may have been deleted and created anew).
macro_rules! retry_if_gone {
    ($self:ident, $ctx:ident, $input:ident, $once:ident) => {
        match $self.$once($ctx, $input.clone(), false).await {
            Err(SqsError::QueueGone) => $self.$once($ctx, $input, true).await,
            other => other,
        }
    };
}

impl Sqs {
    pub async fn send_message(
        &self,
        ctx: &RequestContext,
        input: SendMessageRequest,
    ) -> Result<SendMessageResult, SqsError> {
        retry_if_gone!(self, ctx, input, send_message_once)
    }

    pub async fn send_message_batch(
        &self,
        ctx: &RequestContext,
        input: SendMessageBatchRequest,
    ) -> Result<SendMessageBatchResult, SqsError> {
        retry_if_gone!(self, ctx, input, send_message_batch_once)
    }

    pub async fn receive_message(
        &self,
        ctx: &RequestContext,
        input: ReceiveMessageRequest,
    ) -> Result<ReceiveMessageResult, SqsError> {
        // By reference, not cloned for the retry: a long poll holds one copy of its request.
        match self.receive_message_once(ctx, &input, false).await {
            Err(SqsError::QueueGone) => self.receive_message_once(ctx, &input, true).await,
            other => other,
        }
    }

    pub async fn delete_message(
        &self,
        ctx: &RequestContext,
        input: DeleteMessageRequest,
    ) -> Result<Empty, SqsError> {
        retry_if_gone!(self, ctx, input, delete_message_once)
    }

    pub async fn delete_message_batch(
        &self,
        ctx: &RequestContext,
        input: DeleteMessageBatchRequest,
    ) -> Result<BatchResult, SqsError> {
        retry_if_gone!(self, ctx, input, delete_message_batch_once)
    }

    pub async fn change_message_visibility(
        &self,
        ctx: &RequestContext,
        input: ChangeMessageVisibilityRequest,
    ) -> Result<Empty, SqsError> {
        retry_if_gone!(self, ctx, input, change_message_visibility_once)
    }

    pub async fn change_message_visibility_batch(
        &self,
        ctx: &RequestContext,
        input: ChangeMessageVisibilityBatchRequest,
    ) -> Result<BatchResult, SqsError> {
        retry_if_gone!(self, ctx, input, change_message_visibility_batch_once)
    }

    async fn send_message_once(
        &self,
        ctx: &RequestContext,
        input: SendMessageRequest,
        fresh: bool,
    ) -> Result<SendMessageResult, SqsError> {
        let q = self.message_queue(ctx, &input.queue_url, fresh).await?;
        let (row, mut result, _) = prepare(ctx, &q, input.into(), now_ms())?;
        let fifo = is_fifo(&q);
        match self.store.write(Write::Send(vec![row])).await? {
            Written::Sent(sent) => {
                if let Some(s) = sent.into_iter().next() {
                    if fifo {
                        result.message_id = s.message_id;
                        result.sequence_number = s.seq.map(sequence_number);
                    }
                }
            }
            other => return Err(unexpected(other)),
        }
        self.wake(q.id, 1);
        Ok(result)
    }

    async fn send_message_batch_once(
        &self,
        ctx: &RequestContext,
        input: SendMessageBatchRequest,
        fresh: bool,
    ) -> Result<SendMessageBatchResult, SqsError> {
        let q = self.message_queue(ctx, &input.queue_url, fresh).await?;
        check_batch_ids(
            input.entries.iter().map(|e| e.id.as_str()),
            input.entries.len(),
            "SendMessageBatchRequestEntry",
        )?;
        let now = now_ms();
        let max = int_attr(&q, "MaximumMessageSize", 1_048_576);
        let mut rows = Vec::new();
        let mut results = Vec::new();
        let mut failed = Vec::new();
        let mut total = 0usize;
        for e in input.entries {
            let id = e.id.clone();
            match prepare(ctx, &q, e.into(), now) {
                Ok((row, result, size)) => {
                    total += size;
                    rows.push(row);
                    results.push((id, result));
                }
                Err(err) => failed.push(BatchResultErrorEntry {
                    id,
                    sender_fault: true,
                    code: err.code().to_string(),
                    message: err.to_string(),
                }),
            }
        }
        if total as i64 > max {
            return Err(SqsError::BatchRequestTooLong(total, max));
        }
        let mut successful = Vec::new();
        if !rows.is_empty() {
            let fifo = is_fifo(&q);
            let sent_count = rows.len();
            match self.store.write(Write::Send(rows)).await? {
                Written::Sent(sent) => {
                    for ((id, mut result), s) in results.into_iter().zip(sent) {
                        if fifo {
                            result.message_id = s.message_id;
                            result.sequence_number = s.seq.map(sequence_number);
                        }
                        successful.push(SendMessageBatchResultEntry { id, result });
                    }
                }
                other => return Err(unexpected(other)),
            }
            self.wake(q.id, sent_count);
        }
        Ok(SendMessageBatchResult { successful, failed })
    }

    async fn receive_message_once(
        &self,
        ctx: &RequestContext,
        input: &ReceiveMessageRequest,
        fresh: bool,
    ) -> Result<ReceiveMessageResult, SqsError> {
        // The checks and look-ups before the first look run in their own allocation, freed
        // before the poll waits: a held long poll keeps only what waiting and answering need.
        let poll = match Box::pin(self.plan_receive(ctx, input, fresh)).await? {
            Planned::Answered(result) => return Ok(result),
            Planned::Poll(poll) => poll,
        };
        let msgs = self.poll(&poll).await?;
        let mut attribute_names = input.attribute_names.clone();
        attribute_names.extend(input.message_system_attribute_names.iter().cloned());
        Ok(ReceiveMessageResult {
            messages: msgs
                .into_iter()
                .map(|m| {
                    to_message(
                        m,
                        &poll.queue,
                        &attribute_names,
                        &input.message_attribute_names,
                    )
                })
                .collect(),
        })
    }

    /// Validate a receive and settle what its polling needs; a retried FIFO receive
    /// (ReceiveRequestAttemptId) may be answered here already.
    async fn plan_receive(
        &self,
        ctx: &RequestContext,
        input: &ReceiveMessageRequest,
        fresh: bool,
    ) -> Result<Planned, SqsError> {
        let q = self.message_queue(ctx, &input.queue_url, fresh).await?;
        let max = input.max_number_of_messages.unwrap_or(1);
        if !(1..=10).contains(&max) {
            return Err(SqsError::InvalidParameterValue(format!(
                "Value {max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
            )));
        }
        let wait = input
            .wait_time_seconds
            .unwrap_or_else(|| int_attr(&q, "ReceiveMessageWaitTimeSeconds", 0));
        if !(0..=20).contains(&wait) {
            return Err(SqsError::InvalidParameterValue(format!(
                "Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
            )));
        }
        let visibility = input
            .visibility_timeout
            .unwrap_or_else(|| int_attr(&q, "VisibilityTimeout", 30));
        check_visibility(visibility)?;
        let fifo = is_fifo(&q);
        let redrive = match q.attribute("RedrivePolicy").and_then(parse_redrive_policy) {
            Some((arn, count)) => self.queue_by_arn(&arn).await?.map(|d| (d.id, count)),
            None => None,
        };

        // A retried FIFO receive with the same attempt id gets the same messages back; the id
        // is stored with the receive, so this holds across a restart too.
        let attempt_id = input
            .receive_request_attempt_id
            .as_ref()
            .filter(|_| fifo)
            .cloned();
        let mut nonce = uuid::Uuid::new_v4().simple().to_string();
        if let Some(attempt) = &attempt_id {
            let now = now_ms();
            if let Some(n) = self.store.attempt_nonce(q.id, attempt, now).await? {
                let held = self.store.held_by(q.id, &n, now).await?;
                if !held.is_empty() {
                    let mut attribute_names = input.attribute_names.clone();
                    attribute_names.extend(input.message_system_attribute_names.iter().cloned());
                    return Ok(Planned::Answered(ReceiveMessageResult {
                        messages: held
                            .into_iter()
                            .map(|m| {
                                to_message(m, &q, &attribute_names, &input.message_attribute_names)
                            })
                            .collect(),
                    }));
                }
                nonce = n;
            }
        }
        Ok(Planned::Poll(Poll {
            queue: q,
            max,
            deadline: now_ms() + wait * 1000,
            visibility,
            fifo,
            redrive,
            attempt_id,
            nonce,
        }))
    }

    /// Receive, waiting (long polling) until a message can be had or the deadline passes.
    async fn poll(&self, p: &Poll) -> Result<Vec<MessageRecord>, SqsError> {
        let queue_id = p.queue.id;
        let notify = self.notify(queue_id);
        loop {
            // Registered before looking, so a send between the look and the wait still wakes us.
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = now_ms();
            let spec = ReceiveSpec {
                queue_id,
                max: p.max,
                now_ms: now,
                visible_ms: now + p.visibility * 1000,
                nonce: p.nonce.clone(),
                fifo: p.fifo,
                redrive: p.redrive,
                attempt: p.attempt_id.clone().map(|a| (a, now + DEDUP_WINDOW_MS)),
                next_if_empty: now < p.deadline,
            };
            let (msgs, next_visible) = match self.store.write(Write::Receive(spec)).await? {
                Written::Received {
                    messages,
                    next_visible_ms,
                } => (messages, next_visible_ms),
                other => return Err(unexpected(other)),
            };
            if !msgs.is_empty() || now >= p.deadline {
                if let Some((dlq, _)) = p.redrive {
                    // The receive may have dead-lettered messages: how many is not known here.
                    self.wake_all(dlq);
                }
                return Ok(msgs);
            }
            // Sleep until a send wakes us, the next hidden message becomes visible, or time is up.
            let wake_at = next_visible.map_or(p.deadline, |t| t.min(p.deadline));
            let pause = Duration::from_millis((wake_at - now).max(1) as u64);
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    async fn delete_message_once(
        &self,
        ctx: &RequestContext,
        input: DeleteMessageRequest,
        fresh: bool,
    ) -> Result<Empty, SqsError> {
        let q = self.message_queue(ctx, &input.queue_url, fresh).await?;
        let h = parse_handle(&q, &input.receipt_handle)?;
        if let Written::QueueGone = self.store.write(Write::Delete(vec![h])).await? {
            return Err(SqsError::QueueGone);
        }
        if is_fifo(&q) {
            // The message's group may be unblocked now.
            self.wake(q.id, 1);
        }
        Ok(Empty {})
    }

    async fn delete_message_batch_once(
        &self,
        ctx: &RequestContext,
        input: DeleteMessageBatchRequest,
        fresh: bool,
    ) -> Result<BatchResult, SqsError> {
        let q = self.message_queue(ctx, &input.queue_url, fresh).await?;
        check_batch_ids(
            input.entries.iter().map(|e| e.id.as_str()),
            input.entries.len(),
            "DeleteMessageBatchRequestEntry",
        )?;
        let mut handles = Vec::new();
        let mut ok_ids = Vec::new();
        let mut failed = Vec::new();
        for e in input.entries {
            match parse_handle(&q, &e.receipt_handle) {
                Ok(h) => {
                    handles.push(h);
                    ok_ids.push(e.id);
                }
                Err(err) => failed.push(BatchResultErrorEntry {
                    id: e.id,
                    sender_fault: true,
                    code: err.code().to_string(),
                    message: err.to_string(),
                }),
            }
        }
        if !handles.is_empty() {
            let deleted = handles.len();
            if let Written::QueueGone = self.store.write(Write::Delete(handles)).await? {
                return Err(SqsError::QueueGone);
            }
            if is_fifo(&q) {
                self.wake(q.id, deleted);
            }
        }
        Ok(BatchResult {
            successful: ok_ids
                .into_iter()
                .map(|id| BatchResultEntry { id })
                .collect(),
            failed,
        })
    }

    async fn change_visibilities(
        &self,
        q: &QueueRecord,
        entries: Vec<(Handle, i64)>,
    ) -> Result<Vec<VisibilityOutcome>, SqsError> {
        let now = now_ms();
        let count = entries.len();
        let entries = entries
            .into_iter()
            .map(|(h, secs)| (h, now + secs * 1000))
            .collect();
        let out = match self
            .store
            .write(Write::ChangeVisibility {
                now_ms: now,
                entries,
            })
            .await?
        {
            Written::Visibility(v) => v,
            other => return Err(unexpected(other)),
        };
        self.wake(q.id, count);
        Ok(out)
    }

    async fn change_message_visibility_once(
        &self,
        ctx: &RequestContext,
        input: ChangeMessageVisibilityRequest,
        fresh: bool,
    ) -> Result<Empty, SqsError> {
        let q = self.message_queue(ctx, &input.queue_url, fresh).await?;
        check_visibility(input.visibility_timeout)?;
        let h = parse_handle(&q, &input.receipt_handle)?;
        let out = self
            .change_visibilities(&q, vec![(h, input.visibility_timeout)])
            .await?;
        match out.first() {
            Some(VisibilityOutcome::Changed) => Ok(Empty {}),
            Some(VisibilityOutcome::NotInflight) => {
                Err(SqsError::MessageNotInflight(input.receipt_handle))
            }
            _ => Err(SqsError::ReceiptHandleIsInvalid(input.receipt_handle)),
        }
    }

    async fn change_message_visibility_batch_once(
        &self,
        ctx: &RequestContext,
        input: ChangeMessageVisibilityBatchRequest,
        fresh: bool,
    ) -> Result<BatchResult, SqsError> {
        let q = self.message_queue(ctx, &input.queue_url, fresh).await?;
        check_batch_ids(
            input.entries.iter().map(|e| e.id.as_str()),
            input.entries.len(),
            "ChangeMessageVisibilityBatchRequestEntry",
        )?;
        let mut failed = Vec::new();
        let mut pending = Vec::new();
        let mut pending_ids = Vec::new();
        for e in input.entries {
            let v = e.visibility_timeout.unwrap_or(0);
            let checked = check_visibility(v).and_then(|_| parse_handle(&q, &e.receipt_handle));
            match checked {
                Ok(h) => {
                    pending.push((h, v));
                    pending_ids.push((e.id, e.receipt_handle));
                }
                Err(err) => failed.push(BatchResultErrorEntry {
                    id: e.id,
                    sender_fault: true,
                    code: err.code().to_string(),
                    message: err.to_string(),
                }),
            }
        }
        let mut successful = Vec::new();
        if !pending.is_empty() {
            let out = self.change_visibilities(&q, pending).await?;
            for ((id, handle), o) in pending_ids.into_iter().zip(out) {
                let err = match o {
                    VisibilityOutcome::Changed => {
                        successful.push(BatchResultEntry { id });
                        continue;
                    }
                    VisibilityOutcome::NotInflight => SqsError::MessageNotInflight(handle),
                    VisibilityOutcome::InvalidHandle => SqsError::ReceiptHandleIsInvalid(handle),
                };
                failed.push(BatchResultErrorEntry {
                    id,
                    sender_fault: true,
                    code: err.code().to_string(),
                    message: err.to_string(),
                });
            }
        }
        Ok(BatchResult { successful, failed })
    }

    /// Every message of a queue without changing its visibility (the test peek endpoint).
    pub async fn peek_messages(
        &self,
        ctx: &RequestContext,
        queue_url: &str,
    ) -> Result<Vec<serde_json::Value>, SqsError> {
        let q = self.require_queue(ctx, queue_url).await?;
        let now = now_ms();
        let msgs = self.store.peek(q.id, now, 10_000).await?;
        let arn = queue_arn(&q);
        Ok(msgs
            .into_iter()
            .map(|m| {
                let visible = m.visible_ms <= now;
                let mut v =
                    serde_json::to_value(to_message(m, &q, &["All".into()], &["All".into()]))
                        .unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.remove("ReceiptHandle");
                    o.insert("Visible".into(), visible.into());
                    o.insert("QueueArn".into(), arn.clone().into());
                }
                v
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_attribute_name_filters() {
        let names = vec!["foo.*".to_string(), "bar".to_string()];
        assert!(wanted_message_attribute(&names, "foo.x"));
        assert!(!wanted_message_attribute(&names, "foox"));
        assert!(wanted_message_attribute(&names, "bar"));
        assert!(!wanted_message_attribute(&names, "baz"));
        assert!(wanted_message_attribute(&[".*".into()], "anything"));
    }

    #[test]
    fn characters_outside_the_allowed_ranges_are_refused() {
        assert!(check_characters("ok\t\n\r é 😀").is_ok());
        assert!(check_characters("bad\u{0}").is_err());
        assert!(check_characters("bad\u{FFFE}").is_err());
    }
}
