//! Event source mappings (SQS queues): Create/Get/List/Update/DeleteEventSourceMapping. The
//! pollers that feed functions from the queues are in `sqs_poller`.

use crate::errors::LambdaError;
use crate::names::{function_arn, resolve};
use crate::Lambda;
use cloudemu_core::RequestContext;
use cloudemu_storage::lambda_esm::{MappingFilter, MappingRecord};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Lambda's default page size for ListEventSourceMappings.
const DEFAULT_PAGE: usize = 100;
/// SQS's defaults and limits for a mapping's batch.
const DEFAULT_BATCH: i64 = 10;
const FIFO_MAX_BATCH: i64 = 10;

/// An event source mapping as Lambda returns it; also the stored document.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct MappingConfiguration {
    #[serde(rename = "UUID")]
    pub uuid: String,
    pub batch_size: i64,
    pub maximum_batching_window_in_seconds: i64,
    pub event_source_arn: String,
    pub function_arn: String,
    /// Epoch seconds.
    pub last_modified: f64,
    pub state: String,
    pub state_transition_reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_criteria: Option<Value>,
    #[serde(default)]
    pub function_response_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_config: Option<Value>,
    pub event_source_mapping_arn: String,
}

impl MappingConfiguration {
    pub fn reports_batch_item_failures(&self) -> bool {
        self.function_response_types
            .iter()
            .any(|t| t == "ReportBatchItemFailures")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateMappingRequest {
    pub event_source_arn: Option<String>,
    pub function_name: String,
    pub enabled: Option<bool>,
    pub batch_size: Option<i64>,
    pub filter_criteria: Option<Value>,
    pub maximum_batching_window_in_seconds: Option<i64>,
    pub function_response_types: Option<Vec<String>>,
    pub scaling_config: Option<Value>,
    pub starting_position: Option<String>,
    pub tags: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateMappingRequest {
    #[serde(rename = "UUID")]
    pub uuid: String,
    pub function_name: Option<String>,
    pub enabled: Option<bool>,
    pub batch_size: Option<i64>,
    pub filter_criteria: Option<Value>,
    pub maximum_batching_window_in_seconds: Option<i64>,
    pub function_response_types: Option<Vec<String>>,
    pub scaling_config: Option<Value>,
}

#[derive(Deserialize)]
pub struct MappingIdRequest {
    #[serde(rename = "UUID")]
    pub uuid: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMappingsRequest {
    pub event_source_arn: Option<String>,
    pub function_name: Option<String>,
    pub marker: Option<String>,
    pub max_items: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMappingsResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub event_source_mappings: Vec<MappingConfiguration>,
}

/// An SQS queue ARN's parts: region, account, queue name.
pub struct QueueArn {
    pub region: String,
    pub account: String,
    pub name: String,
}

pub fn parse_queue_arn(arn: &str) -> Option<QueueArn> {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "sqs", region, account, name] if !name.is_empty() => Some(QueueArn {
            region: region.to_string(),
            account: account.to_string(),
            name: name.to_string(),
        }),
        _ => None,
    }
}

fn now_secs() -> f64 {
    // Lambda reports LastModified to the millisecond.
    (chrono::Utc::now().timestamp_millis() as f64) / 1000.0
}

fn not_found() -> LambdaError {
    LambdaError::ResourceNotFound("The resource you requested does not exist.".into())
}

fn parse(r: &MappingRecord) -> Result<MappingConfiguration, LambdaError> {
    serde_json::from_str(&r.config).map_err(|e| {
        LambdaError::Storage(cloudemu_storage::StorageError::Io(std::io::Error::other(
            format!("stored event source mapping is not valid: {e}"),
        )))
    })
}

fn to_json(c: &MappingConfiguration) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

/// The batch rules Lambda applies to SQS sources.
fn check_batch(
    batch: i64,
    window: i64,
    fifo: bool,
    response_types: &[String],
) -> Result<(), LambdaError> {
    if fifo && window > 0 {
        return Err(LambdaError::InvalidParameter(
            "Batching window is not supported for FIFO queues".into(),
        ));
    }
    if fifo && batch > FIFO_MAX_BATCH {
        return Err(LambdaError::InvalidParameter(format!(
            "Maximum batch size must be between 1 and {FIFO_MAX_BATCH} inclusive"
        )));
    }
    if batch > 10 && window == 0 {
        return Err(LambdaError::InvalidParameter(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is \
             greater than 10"
                .into(),
        ));
    }
    if let Some(t) = response_types
        .iter()
        .find(|t| t.as_str() != "ReportBatchItemFailures")
    {
        return Err(LambdaError::Validation(format!(
            "1 validation error detected: Value '[{t}]' at 'functionResponseTypes' failed to \
             satisfy constraint: Member must satisfy constraint: [Member must satisfy enum \
             value set: [ReportBatchItemFailures]]"
        )));
    }
    Ok(())
}

fn check_filters(criteria: &Option<Value>) -> Result<(), LambdaError> {
    match criteria {
        Some(c) => crate::event_filter::patterns(c)
            .map(|_| ())
            .map_err(LambdaError::InvalidParameter),
        None => Ok(()),
    }
}

impl Lambda {
    /// The function a mapping invokes: its unqualified name and the (qualified) ARN, after
    /// checking the function and any version or alias exist.
    async fn mapping_target(
        &self,
        ctx: &RequestContext,
        given: &str,
    ) -> Result<(String, String), LambdaError> {
        let record = self.require_function(ctx, given).await?;
        let f = resolve(ctx, given)?;
        self.target(ctx, &record, given, None).await?;
        let arn = match &f.qualifier {
            Some(q) => format!("{}:{q}", function_arn(ctx, &f.name)),
            None => function_arn(ctx, &f.name),
        };
        Ok((f.name, arn))
    }

    /// Checks the queue exists (as Lambda does when it validates the source), through SQS's
    /// own API.
    async fn check_queue(&self, ctx: &RequestContext, q: &QueueArn) -> Result<(), LambdaError> {
        let sqs_ctx = self.client.context(&q.account, &q.region, "GetQueueUrl");
        self.client
            .call_value(
                &sqs_ctx,
                "sqs",
                "GetQueueUrl",
                json!({"QueueName": q.name, "QueueOwnerAWSAccountId": q.account}),
            )
            .await
            .map(|_| ())
            .map_err(|e| {
                tracing::debug!(request_id = %ctx.request_id, error = %e, "event source queue check");
                LambdaError::InvalidParameter(
                    "Error occurred while ReceiveMessage. SQS Error Code: \
                     AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified \
                     queue does not exist for this wsdl version."
                        .into(),
                )
            })
    }

    pub(crate) async fn create_event_source_mapping(
        &self,
        ctx: &RequestContext,
        input: CreateMappingRequest,
    ) -> Result<MappingConfiguration, LambdaError> {
        let Some(source) = input.event_source_arn.clone() else {
            return Err(LambdaError::InvalidParameter(
                "Unrecognized event source, must be kinesis, dynamodb stream or sqs.".into(),
            ));
        };
        let Some(queue) = parse_queue_arn(&source) else {
            return Err(LambdaError::InvalidParameter(format!(
                "CloudEmu supports Amazon SQS event sources only for now; {source} is not an SQS \
                 queue ARN."
            )));
        };
        if input.starting_position.is_some() {
            return Err(LambdaError::InvalidParameter(
                "Unsupported starting position for the SQS event source.".into(),
            ));
        }
        let (name, arn) = self.mapping_target(ctx, &input.function_name).await?;
        let batch = input.batch_size.unwrap_or(DEFAULT_BATCH);
        let window = input.maximum_batching_window_in_seconds.unwrap_or(0);
        let types = input.function_response_types.unwrap_or_default();
        check_batch(batch, window, queue.name.ends_with(".fifo"), &types)?;
        check_filters(&input.filter_criteria)?;
        self.check_queue(ctx, &queue).await?;
        let esm = self.store.esm();
        let existing = esm
            .list_mappings(
                &ctx.account_id,
                &ctx.region,
                &MappingFilter {
                    function_arn: Some(&arn),
                    event_source_arn: Some(&source),
                    ..Default::default()
                },
                None,
                1,
            )
            .await?;
        if let Some(m) = existing.first() {
            return Err(LambdaError::Conflict(format!(
                "An event source mapping with SQS arn (\" {source} \") and function (\" {name} \") \
                 already exists. Please update or delete the existing mapping with UUID {}",
                m.uuid
            )));
        }
        let uuid = uuid::Uuid::new_v4().to_string();
        let enabled = input.enabled.unwrap_or(true);
        let config = MappingConfiguration {
            event_source_mapping_arn: format!(
                "arn:aws:lambda:{}:{}:event-source-mapping:{uuid}",
                ctx.region, ctx.account_id
            ),
            uuid: uuid.clone(),
            batch_size: batch,
            maximum_batching_window_in_seconds: window,
            event_source_arn: source.clone(),
            function_arn: arn.clone(),
            last_modified: now_secs(),
            state: if enabled { "Enabled" } else { "Disabled" }.into(),
            state_transition_reason: "USER_INITIATED".into(),
            filter_criteria: input.filter_criteria,
            function_response_types: types,
            scaling_config: input.scaling_config,
        };
        let record = MappingRecord {
            uuid,
            account_id: ctx.account_id.clone(),
            region: ctx.region.clone(),
            function_name: name,
            function_arn: arn,
            event_source_arn: source,
            config: to_json(&config),
            enabled,
            created_at: config.last_modified,
        };
        esm.create_mapping(&record).await?;
        if let Some(tags) = input.tags.filter(|t| !t.is_empty()) {
            esm.set_mapping_tags(
                &record.uuid,
                &serde_json::to_string(&tags).unwrap_or_default(),
            )
            .await?;
        }
        if enabled {
            self.pollers.start(&record);
        }
        // Lambda answers while the mapping is still being created; reads see it settled.
        Ok(MappingConfiguration {
            state: "Creating".into(),
            ..config
        })
    }

    async fn require_mapping(
        &self,
        ctx: &RequestContext,
        uuid: &str,
    ) -> Result<MappingRecord, LambdaError> {
        self.store
            .esm()
            .get_mapping(&ctx.account_id, &ctx.region, uuid)
            .await?
            .ok_or_else(not_found)
    }

    pub(crate) async fn get_event_source_mapping(
        &self,
        ctx: &RequestContext,
        input: MappingIdRequest,
    ) -> Result<MappingConfiguration, LambdaError> {
        parse(&self.require_mapping(ctx, &input.uuid).await?)
    }

    pub(crate) async fn list_event_source_mappings(
        &self,
        ctx: &RequestContext,
        input: ListMappingsRequest,
    ) -> Result<ListMappingsResponse, LambdaError> {
        let limit = input
            .max_items
            .map(|n| n.clamp(1, 10_000) as usize)
            .unwrap_or(DEFAULT_PAGE);
        let function = match input.function_name.as_deref() {
            None => None,
            Some(given) => Some(resolve(ctx, given)?),
        };
        let qualified = function
            .as_ref()
            .and_then(|f| f.qualifier.as_ref().map(|q| (f, q)))
            .map(|(f, q)| format!("{}:{q}", function_arn(ctx, &f.name)));
        let filter = MappingFilter {
            function_name: function
                .as_ref()
                .filter(|f| f.qualifier.is_none())
                .map(|f| f.name.as_str()),
            function_arn: qualified.as_deref(),
            event_source_arn: input.event_source_arn.as_deref(),
        };
        let mut rows = self
            .store
            .esm()
            .list_mappings(
                &ctx.account_id,
                &ctx.region,
                &filter,
                input.marker.as_deref(),
                limit + 1,
            )
            .await?;
        let next_marker = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| r.uuid.clone())
        } else {
            None
        };
        Ok(ListMappingsResponse {
            next_marker,
            event_source_mappings: rows.iter().map(parse).collect::<Result<_, _>>()?,
        })
    }

    pub(crate) async fn update_event_source_mapping(
        &self,
        ctx: &RequestContext,
        input: UpdateMappingRequest,
    ) -> Result<MappingConfiguration, LambdaError> {
        let record = self.require_mapping(ctx, &input.uuid).await?;
        let mut config = parse(&record)?;
        let (mut name, mut arn) = (record.function_name.clone(), record.function_arn.clone());
        if let Some(given) = input.function_name.as_deref() {
            (name, arn) = self.mapping_target(ctx, given).await?;
            config.function_arn = arn.clone();
        }
        if let Some(b) = input.batch_size {
            config.batch_size = b;
        }
        if let Some(w) = input.maximum_batching_window_in_seconds {
            config.maximum_batching_window_in_seconds = w;
        }
        if let Some(t) = input.function_response_types {
            config.function_response_types = t;
        }
        check_filters(&input.filter_criteria)?;
        if let Some(f) = input.filter_criteria {
            // An empty FilterCriteria removes the filters, as on Lambda.
            config.filter_criteria = f
                .get("Filters")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
                .then_some(f);
        }
        if let Some(s) = input.scaling_config {
            config.scaling_config = s
                .get("MaximumConcurrency")
                .is_some_and(|v| !v.is_null())
                .then_some(s);
        }
        let fifo = record.event_source_arn.ends_with(".fifo");
        check_batch(
            config.batch_size,
            config.maximum_batching_window_in_seconds,
            fifo,
            &config.function_response_types,
        )?;
        let enabled = input.enabled.unwrap_or(record.enabled);
        let answered = match (record.enabled, enabled) {
            (true, false) => "Disabling",
            (false, true) => "Enabling",
            _ => "Updating",
        };
        config.state = if enabled { "Enabled" } else { "Disabled" }.into();
        config.state_transition_reason = "USER_INITIATED".into();
        config.last_modified = now_secs();
        let found = self
            .store
            .esm()
            .update_mapping(&record.uuid, &name, &arn, &to_json(&config), enabled)
            .await?;
        if !found {
            return Err(not_found());
        }
        // Pollers re-read the mapping for every batch; a restart applies a new concurrency.
        if enabled {
            self.pollers.restart(&MappingRecord {
                function_name: name,
                function_arn: arn,
                enabled,
                config: to_json(&config),
                ..record
            });
        } else {
            self.pollers.stop(&input.uuid);
        }
        Ok(MappingConfiguration {
            state: answered.into(),
            ..config
        })
    }

    pub(crate) async fn delete_event_source_mapping(
        &self,
        ctx: &RequestContext,
        input: MappingIdRequest,
    ) -> Result<MappingConfiguration, LambdaError> {
        let record = self.require_mapping(ctx, &input.uuid).await?;
        let config = parse(&record)?;
        self.pollers.stop(&record.uuid);
        if !self.store.esm().delete_mapping(&record.uuid).await? {
            return Err(not_found());
        }
        Ok(MappingConfiguration {
            state: "Deleting".into(),
            ..config
        })
    }
}

/// The UUID an event source mapping ARN names (`…:event-source-mapping:<uuid>`).
pub fn mapping_uuid(arn: &str) -> Option<&str> {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "lambda", _, _, "event-source-mapping", uuid] => Some(uuid),
        _ => None,
    }
}

impl Lambda {
    /// ListTags, TagResource and UntagResource on a mapping's ARN.
    pub(crate) async fn mapping_tags(
        &self,
        ctx: &RequestContext,
        arn: &str,
        uuid: &str,
        set: Option<std::collections::BTreeMap<String, String>>,
        remove: Option<Vec<String>>,
    ) -> Result<Value, LambdaError> {
        let esm = self.store.esm();
        let missing = || {
            tracing::debug!(resource = %arn, "tags of an unknown event source mapping");
            not_found()
        };
        let doc = esm
            .mapping_tags(&ctx.account_id, &ctx.region, uuid)
            .await?
            .ok_or_else(missing)?;
        let mut tags: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&doc).unwrap_or_default();
        if set.is_none() && remove.is_none() {
            return Ok(json!({"Tags": tags}));
        }
        tags.extend(set.unwrap_or_default());
        for k in remove.unwrap_or_default() {
            tags.remove(&k);
        }
        if !esm
            .set_mapping_tags(uuid, &serde_json::to_string(&tags).unwrap_or_default())
            .await?
        {
            return Err(missing());
        }
        Ok(json!({}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_rules() {
        assert!(check_batch(10, 0, false, &[]).is_ok());
        assert!(check_batch(11, 0, false, &[]).is_err());
        assert!(check_batch(10_000, 1, false, &[]).is_ok());
        assert!(check_batch(11, 1, true, &[]).is_err());
        assert!(check_batch(11, 0, true, &[]).is_err());
        assert!(check_batch(10, 1, true, &[]).is_err());
        assert!(check_batch(10, 0, true, &[]).is_ok());
        assert!(check_batch(5, 0, false, &["Other".into()]).is_err());
    }

    #[test]
    fn queue_arns() {
        let q = parse_queue_arn("arn:aws:sqs:eu-west-1:111122223333:jobs.fifo").expect("arn");
        assert_eq!(
            (q.region.as_str(), q.account.as_str(), q.name.as_str()),
            ("eu-west-1", "111122223333", "jobs.fifo")
        );
        assert!(parse_queue_arn("arn:aws:kinesis:eu-west-1:1:stream/x").is_none());
    }
}
