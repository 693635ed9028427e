//! Queues: create, look up, list, attributes, tags, permissions, purge, delete.

use crate::attributes::{self, parse_redrive_allow_policy, parse_redrive_policy, RedriveAllow};
use crate::errors::SqsError;
use crate::shapes::*;
use crate::{now_ms, parse_queue_arn, parse_queue_url, queue_arn, queue_url, Sqs};
use base64::Engine;
use cloudemu_core::RequestContext;
use cloudemu_storage::sqs::{Creation, QueueRecord};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A deleted name stays reserved this long, and purges are this far apart (both 60 s in AWS).
const SIXTY_SECONDS_MS: i64 = 60_000;
const MAX_TAGS: usize = 50;

fn valid_name(name: &str, fifo: bool) -> bool {
    let base = if fifo {
        match name.strip_suffix(".fifo") {
            Some(b) => b,
            None => return false,
        }
    } else {
        name
    };
    !base.is_empty()
        && name.len() <= 80
        && base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn encode_token(name: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(name)
}

fn decode_token(token: &str) -> Result<String, SqsError> {
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| SqsError::InvalidParameterValue("Invalid NextToken value.".into()))
}

/// One page of names after `next_token`, `max_results` long (or up to 1,000 without a token).
fn page(
    mut names: Vec<String>,
    next_token: Option<&str>,
    max_results: Option<i64>,
) -> Result<(Vec<String>, Option<String>), SqsError> {
    if let Some(m) = max_results {
        if !(1..=1000).contains(&m) {
            return Err(SqsError::InvalidParameterValue(format!(
                "Value {m} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."
            )));
        }
    }
    if let Some(t) = next_token {
        let after = decode_token(t)?;
        names.retain(|n| *n > after);
    }
    match max_results {
        Some(m) if names.len() > m as usize => {
            names.truncate(m as usize);
            let token = names.last().map(|n| encode_token(n));
            Ok((names, token))
        }
        Some(_) => Ok((names, None)),
        None => {
            names.truncate(1000);
            Ok((names, None))
        }
    }
}

impl Sqs {
    /// The queue a URL names, in the caller's region, or `QueueDoesNotExist`.
    pub(crate) async fn require_queue(
        &self,
        ctx: &RequestContext,
        url: &str,
    ) -> Result<QueueRecord, SqsError> {
        let (account, name) = parse_queue_url(url).ok_or(SqsError::QueueDoesNotExist)?;
        self.store
            .get_queue(&account, &ctx.region, &name)
            .await?
            .ok_or(SqsError::QueueDoesNotExist)
    }

    /// The queue an ARN names.
    pub(crate) async fn queue_by_arn(&self, arn: &str) -> Result<Option<QueueRecord>, SqsError> {
        let Some((region, account, name)) = parse_queue_arn(arn) else {
            return Ok(None);
        };
        Ok(self.store.get_queue(&account, &region, &name).await?)
    }

    /// A RedrivePolicy must name an existing queue of the same type that allows this source.
    async fn check_redrive(
        &self,
        source_arn: &str,
        fifo: bool,
        attrs: &Map<String, Value>,
    ) -> Result<(), SqsError> {
        let Some(policy) = attrs.get("RedrivePolicy").and_then(Value::as_str) else {
            return Ok(());
        };
        let invalid = |reason: &str| {
            SqsError::InvalidParameterValue(format!(
                "Value {policy} for parameter RedrivePolicy is invalid. Reason: {reason}"
            ))
        };
        let Some((dlq_arn, _)) = parse_redrive_policy(policy) else {
            return Err(invalid("Redrive policy is not a valid JSON map."));
        };
        let Some(dlq) = self.queue_by_arn(&dlq_arn).await? else {
            return Err(invalid("Dead-letter target does not exist."));
        };
        if dlq.name.ends_with(".fifo") != fifo {
            return Err(invalid(
                "Dead-letter target must be of same type as the source.",
            ));
        }
        if let Some(allow) = dlq
            .attribute("RedriveAllowPolicy")
            .and_then(parse_redrive_allow_policy)
        {
            let allowed = match allow {
                RedriveAllow::All => true,
                RedriveAllow::Deny => false,
                RedriveAllow::ByQueue(arns) => arns.iter().any(|a| a == source_arn),
            };
            if !allowed {
                return Err(invalid(
                    "Dead-letter target owner does not allow this source queue to use it as dead-letter queue.",
                ));
            }
        }
        Ok(())
    }

    pub async fn create_queue(
        &self,
        ctx: &RequestContext,
        input: CreateQueueRequest,
    ) -> Result<QueueUrlResult, SqsError> {
        let name = input.queue_name;
        let fifo_attr = input.attributes.get("FifoQueue").map(String::as_str);
        let fifo = name.ends_with(".fifo");
        if fifo_attr == Some("true") && !fifo || fifo && fifo_attr == Some("false") {
            return Err(SqsError::InvalidParameterValue(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.".into(),
            ));
        }
        if !valid_name(&name, fifo) {
            return Err(SqsError::InvalidParameterValue(if fifo {
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.".into()
            } else {
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length".into()
            }));
        }
        if input.tags.len() > MAX_TAGS {
            return Err(SqsError::InvalidParameterValue(format!(
                "Too many tags added for queue {name}."
            )));
        }
        let attrs = attributes::initial(&input.attributes, fifo)?;
        let arn = format!("arn:aws:sqs:{}:{}:{}", ctx.region, ctx.account_id, name);
        self.check_redrive(&arn, fifo, &attrs).await?;
        let tags: Map<String, Value> = input
            .tags
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let now_s = now_ms() / 1000;
        match self
            .store
            .create_queue(
                &ctx.account_id,
                &ctx.region,
                &name,
                &attrs,
                &tags,
                now_s,
                SIXTY_SECONDS_MS,
            )
            .await?
        {
            Creation::Created(q) => Ok(QueueUrlResult {
                queue_url: queue_url(ctx, &q),
            }),
            Creation::Exists(q) => {
                // Creating an existing queue succeeds unless a requested attribute differs.
                for (k, v) in &input.attributes {
                    if q.attribute(k) != Some(v.as_str())
                        && !(v.is_empty() && q.attribute(k).is_none())
                    {
                        return Err(SqsError::QueueNameExists(k.clone()));
                    }
                }
                Ok(QueueUrlResult {
                    queue_url: queue_url(ctx, &q),
                })
            }
            Creation::DeletedRecently => Err(SqsError::QueueDeletedRecently),
        }
    }

    pub async fn delete_queue(
        &self,
        ctx: &RequestContext,
        input: QueueUrlRequest,
    ) -> Result<Empty, SqsError> {
        let q = self.require_queue(ctx, &input.queue_url).await?;
        self.store.delete_queue(&q, now_ms()).await?;
        self.forget(&q);
        self.wake_all(q.id);
        Ok(Empty {})
    }

    pub async fn get_queue_url(
        &self,
        ctx: &RequestContext,
        input: GetQueueUrlRequest,
    ) -> Result<QueueUrlResult, SqsError> {
        let account = input
            .queue_owner_aws_account_id
            .unwrap_or_else(|| ctx.account_id.clone());
        let q = self
            .store
            .get_queue(&account, &ctx.region, &input.queue_name)
            .await?
            .ok_or(SqsError::QueueDoesNotExist)?;
        Ok(QueueUrlResult {
            queue_url: queue_url(ctx, &q),
        })
    }

    pub async fn list_queues(
        &self,
        ctx: &RequestContext,
        input: ListQueuesRequest,
    ) -> Result<ListQueuesResult, SqsError> {
        let queues = self
            .store
            .list_queues(
                &ctx.account_id,
                &ctx.region,
                input.queue_name_prefix.as_deref().unwrap_or(""),
            )
            .await?;
        let names = queues.iter().map(|q| q.name.clone()).collect();
        let (names, next_token) = page(names, input.next_token.as_deref(), input.max_results)?;
        let by_name: BTreeMap<&str, &QueueRecord> =
            queues.iter().map(|q| (q.name.as_str(), q)).collect();
        Ok(ListQueuesResult {
            queue_urls: names
                .iter()
                .filter_map(|n| by_name.get(n.as_str()).map(|q| queue_url(ctx, q)))
                .collect(),
            next_token,
        })
    }

    pub async fn get_queue_attributes(
        &self,
        ctx: &RequestContext,
        input: GetQueueAttributesRequest,
    ) -> Result<GetQueueAttributesResult, SqsError> {
        let q = self.require_queue(ctx, &input.queue_url).await?;
        for n in &input.attribute_names {
            if !attributes::known(n) {
                return Err(SqsError::InvalidAttributeName(n.clone()));
            }
        }
        let all = input.attribute_names.iter().any(|n| n == "All");
        let wanted = |n: &str| all || input.attribute_names.iter().any(|a| a == n);
        let mut out = Attributes::new();
        for (k, v) in &q.attributes {
            if let (true, Some(v)) = (wanted(k), v.as_str()) {
                out.insert(k.clone(), v.to_string());
            }
        }
        if wanted("QueueArn") {
            out.insert("QueueArn".into(), queue_arn(&q));
        }
        if wanted("CreatedTimestamp") {
            out.insert("CreatedTimestamp".into(), q.created_at.to_string());
        }
        if wanted("LastModifiedTimestamp") {
            out.insert("LastModifiedTimestamp".into(), q.modified_at.to_string());
        }
        if wanted("ApproximateNumberOfMessages")
            || wanted("ApproximateNumberOfMessagesNotVisible")
            || wanted("ApproximateNumberOfMessagesDelayed")
        {
            let c = self.store.counts(q.id, now_ms()).await?;
            for (k, v) in [
                ("ApproximateNumberOfMessages", c.visible),
                ("ApproximateNumberOfMessagesNotVisible", c.not_visible),
                ("ApproximateNumberOfMessagesDelayed", c.delayed),
            ] {
                if wanted(k) {
                    out.insert(k.into(), v.to_string());
                }
            }
        }
        Ok(GetQueueAttributesResult { attributes: out })
    }

    pub async fn set_queue_attributes(
        &self,
        ctx: &RequestContext,
        input: SetQueueAttributesRequest,
    ) -> Result<Empty, SqsError> {
        let q = self.require_queue(ctx, &input.queue_url).await?;
        let fifo = q.name.ends_with(".fifo");
        let mut attrs = q.attributes.clone();
        attributes::apply(&mut attrs, &input.attributes, fifo, false)?;
        self.check_redrive(&queue_arn(&q), fifo, &attrs).await?;
        if !self
            .store
            .set_attributes(q.id, &attrs, now_ms() / 1000)
            .await?
        {
            return Err(SqsError::QueueDoesNotExist);
        }
        self.forget(&q);
        // A shorter wait or delay may let a held long poll find messages sooner.
        self.wake_all(q.id);
        Ok(Empty {})
    }

    pub async fn purge_queue(
        &self,
        ctx: &RequestContext,
        input: QueueUrlRequest,
    ) -> Result<Empty, SqsError> {
        let q = self.require_queue(ctx, &input.queue_url).await?;
        if !self.store.purge(q.id, now_ms(), SIXTY_SECONDS_MS).await? {
            return Err(SqsError::PurgeQueueInProgress(q.name));
        }
        Ok(Empty {})
    }

    pub async fn tag_queue(
        &self,
        ctx: &RequestContext,
        input: TagQueueRequest,
    ) -> Result<Empty, SqsError> {
        let q = self.require_queue(ctx, &input.queue_url).await?;
        let mut tags = q.tags.clone();
        for (k, v) in input.tags {
            tags.insert(k, Value::String(v));
        }
        if tags.len() > MAX_TAGS {
            return Err(SqsError::InvalidParameterValue(format!(
                "Too many tags added for queue {}.",
                q.name
            )));
        }
        self.store.set_tags(q.id, &tags).await?;
        self.forget(&q);
        Ok(Empty {})
    }

    pub async fn untag_queue(
        &self,
        ctx: &RequestContext,
        input: UntagQueueRequest,
    ) -> Result<Empty, SqsError> {
        let q = self.require_queue(ctx, &input.queue_url).await?;
        let mut tags = q.tags.clone();
        for k in &input.tag_keys {
            tags.remove(k);
        }
        self.store.set_tags(q.id, &tags).await?;
        self.forget(&q);
        Ok(Empty {})
    }

    pub async fn list_queue_tags(
        &self,
        ctx: &RequestContext,
        input: QueueUrlRequest,
    ) -> Result<ListQueueTagsResult, SqsError> {
        let q = self.require_queue(ctx, &input.queue_url).await?;
        Ok(ListQueueTagsResult {
            tags: q
                .tags
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect(),
        })
    }

    pub async fn list_dead_letter_source_queues(
        &self,
        ctx: &RequestContext,
        input: ListDeadLetterSourceQueuesRequest,
    ) -> Result<ListDeadLetterSourceQueuesResult, SqsError> {
        let q = self.require_queue(ctx, &input.queue_url).await?;
        let arn = queue_arn(&q);
        let sources: Vec<QueueRecord> = self
            .store
            .list_queues(&q.account_id, &q.region, "")
            .await?
            .into_iter()
            .filter(|s| {
                s.attribute("RedrivePolicy")
                    .and_then(parse_redrive_policy)
                    .is_some_and(|(target, _)| target == arn)
            })
            .collect();
        let names = sources.iter().map(|s| s.name.clone()).collect();
        let (names, next_token) = page(names, input.next_token.as_deref(), input.max_results)?;
        Ok(ListDeadLetterSourceQueuesResult {
            queue_urls: names
                .iter()
                .filter_map(|n| sources.iter().find(|s| &s.name == n))
                .map(|s| queue_url(ctx, s))
                .collect(),
            next_token,
        })
    }

    pub async fn add_permission(
        &self,
        ctx: &RequestContext,
        input: AddPermissionRequest,
    ) -> Result<Empty, SqsError> {
        let q = self.require_queue(ctx, &input.queue_url).await?;
        if input.aws_account_ids.is_empty() {
            return Err(SqsError::MissingParameter("AWSAccountIds"));
        }
        if input.actions.is_empty() {
            return Err(SqsError::MissingParameter("Actions"));
        }
        let arn = queue_arn(&q);
        let mut policy: Map<String, Value> = q
            .attribute("Policy")
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_else(|| {
                let mut m = Map::new();
                m.insert("Version".into(), json!("2012-10-17"));
                m.insert("Id".into(), json!(format!("{arn}/SQSDefaultPolicy")));
                m
            });
        let statements = policy.entry("Statement").or_insert_with(|| json!([]));
        let Some(list) = statements.as_array_mut() else {
            return Err(SqsError::InvalidParameterValue(
                "The queue policy is not valid.".into(),
            ));
        };
        if list
            .iter()
            .any(|s| s.get("Sid").and_then(Value::as_str) == Some(&input.label))
        {
            return Err(SqsError::InvalidParameterValue(format!(
                "Value {} for parameter Label is invalid. Reason: Already exists.",
                input.label
            )));
        }
        let principals: Vec<String> = input
            .aws_account_ids
            .iter()
            .map(|a| format!("arn:aws:iam::{a}:root"))
            .collect();
        let actions: Vec<String> = input.actions.iter().map(|a| format!("SQS:{a}")).collect();
        list.push(json!({
            "Sid": input.label,
            "Effect": "Allow",
            "Principal": { "AWS": if principals.len() == 1 { json!(principals[0]) } else { json!(principals) } },
            "Action": if actions.len() == 1 { json!(actions[0]) } else { json!(actions) },
            "Resource": arn,
        }));
        let mut attrs = q.attributes.clone();
        attrs.insert(
            "Policy".into(),
            Value::String(Value::Object(policy).to_string()),
        );
        self.store
            .set_attributes(q.id, &attrs, now_ms() / 1000)
            .await?;
        self.forget(&q);
        Ok(Empty {})
    }

    pub async fn remove_permission(
        &self,
        ctx: &RequestContext,
        input: RemovePermissionRequest,
    ) -> Result<Empty, SqsError> {
        let q = self.require_queue(ctx, &input.queue_url).await?;
        let not_found = || {
            SqsError::InvalidParameterValue(format!(
                "Value {} for parameter Label is invalid. Reason: can't find label on existing policy.",
                input.label
            ))
        };
        let mut policy: Map<String, Value> = q
            .attribute("Policy")
            .and_then(|p| serde_json::from_str(p).ok())
            .ok_or_else(not_found)?;
        let list = policy
            .get_mut("Statement")
            .and_then(Value::as_array_mut)
            .ok_or_else(not_found)?;
        let before = list.len();
        list.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(&input.label));
        if list.len() == before {
            return Err(not_found());
        }
        let empty = list.is_empty();
        let mut attrs = q.attributes.clone();
        if empty {
            attrs.remove("Policy");
        } else {
            attrs.insert(
                "Policy".into(),
                Value::String(Value::Object(policy).to_string()),
            );
        }
        self.store
            .set_attributes(q.id, &attrs, now_ms() / 1000)
            .await?;
        self.forget(&q);
        Ok(Empty {})
    }
}
