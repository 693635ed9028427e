//! DynamoDB Streams: a record for every committed item change of a table with a stream
//! (written in the same transaction as the change), and the Streams API that reads them:
//! ListStreams, DescribeStream, GetShardIterator, GetRecords. Each stream has one shard.

use crate::errors::{DynamoError, Result};
use crate::eval_equal;
use crate::table::TableMeta;
use crate::types::{item_size, item_to_wire, Item};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use cloudemu_core::{
    typed, BoxFuture, RequestContext, Service, ServiceError, ServiceRequest, ServiceResponse,
};
use cloudemu_storage::dynamodb::{DynamoDbStore, ItemWrite, StreamAppend};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Who made a change, for the record's userIdentity.
#[derive(Clone, Copy, PartialEq)]
pub enum Actor {
    User,
    /// The TTL sweeper: AWS marks these deletions as done by the service.
    Ttl,
}

/// The stream record for a change from `old` to `new`, if the table has a stream and the item
/// changed.
pub fn record(
    meta: &TableMeta,
    old: Option<&Item>,
    new: Option<&Item>,
    actor: Actor,
) -> Option<StreamAppend> {
    let spec = meta
        .stream_specification
        .as_ref()
        .filter(|s| s.stream_enabled)?;
    let label = meta.latest_stream_label.clone()?;
    let view = spec
        .stream_view_type
        .clone()
        .unwrap_or_else(|| "NEW_AND_OLD_IMAGES".into());
    let event = match (old, new) {
        (None, Some(_)) => "INSERT",
        (Some(o), Some(n)) => {
            if o.len() == n.len()
                && o.iter()
                    .all(|(k, v)| n.get(k).is_some_and(|w| eval_equal(v, w)))
            {
                return None; // AWS writes no record for a write that changed nothing
            }
            "MODIFY"
        }
        (Some(_), None) => "REMOVE",
        (None, None) => return None,
    };
    let any = new.or(old)?;
    let def = meta.key_def();
    let keys: Item = def
        .names()
        .filter_map(|n| any.get(n).map(|v| (n.to_string(), v.clone())))
        .collect();
    let mut size = item_size(&keys);
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": chrono::Utc::now().timestamp(),
        "Keys": item_to_wire(&keys),
        "StreamViewType": view,
    });
    if matches!(view.as_str(), "NEW_IMAGE" | "NEW_AND_OLD_IMAGES") {
        if let Some(n) = new {
            size += item_size(n);
            dynamodb["NewImage"] = Value::Object(item_to_wire(n));
        }
    }
    if matches!(view.as_str(), "OLD_IMAGE" | "NEW_AND_OLD_IMAGES") {
        if let Some(o) = old {
            size += item_size(o);
            dynamodb["OldImage"] = Value::Object(item_to_wire(o));
        }
    }
    dynamodb["SizeBytes"] = json!(size);
    let region = meta.table_arn.split(':').nth(3).unwrap_or_default();
    let mut rec = json!({
        "eventID": uuid::Uuid::new_v4().simple().to_string(),
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
    });
    if actor == Actor::Ttl {
        rec["userIdentity"] = json!({ "PrincipalId": "dynamodb.amazonaws.com", "Type": "Service" });
    }
    Some(StreamAppend {
        label,
        record: rec.to_string(),
    })
}

/// Attach a stream record to a write.
pub fn with_record(write: ItemWrite, append: Option<StreamAppend>) -> ItemWrite {
    match write {
        ItemWrite::Put {
            size,
            body,
            indexes,
            expires,
            ..
        } => ItemWrite::Put {
            size,
            body,
            indexes,
            expires,
            stream: append,
        },
        ItemWrite::Delete { indexed, .. } => ItemWrite::Delete {
            indexed,
            stream: append,
        },
        ItemWrite::Keep => ItemWrite::Keep,
    }
}

fn seq_text(seq: i64) -> String {
    format!("{seq:021}")
}

fn shard_id(table_id: i64) -> String {
    format!("shardId-00000000000000000001-{table_id:08x}")
}

/// What a shard iterator encodes.
#[derive(Serialize, Deserialize)]
struct Cursor {
    arn: String,
    after: i64,
}

pub struct DynamoDbStreams {
    store: DynamoDbStore,
}

impl DynamoDbStreams {
    pub fn new(store: DynamoDbStore) -> Self {
        Self { store }
    }
}

pub const STREAM_OPERATIONS: &[&str] = &[
    "DescribeStream",
    "GetRecords",
    "GetShardIterator",
    "ListStreams",
];

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ListStreamsInput {
    table_name: Option<String>,
    limit: Option<i64>,
    exclusive_start_stream_arn: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct StreamArnInput {
    stream_arn: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct GetShardIteratorInput {
    stream_arn: String,
    shard_id: String,
    shard_iterator_type: String,
    sequence_number: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct GetRecordsInput {
    shard_iterator: String,
    limit: Option<i64>,
}

fn stream_not_found(arn: &str) -> DynamoError {
    DynamoError::ResourceNotFound(format!(
        "Requested resource not found: Stream: {arn} not found"
    ))
}

impl DynamoDbStreams {
    /// The table and label a stream ARN names, if that stream exists.
    async fn stream(&self, ctx: &RequestContext, arn: &str) -> Result<(i64, TableMeta, String)> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let resource = match parts.as_slice() {
            ["arn", _, "dynamodb", region, account, resource]
                if *region == ctx.region && *account == ctx.account_id =>
            {
                *resource
            }
            _ => return Err(stream_not_found(arn)),
        };
        let mut it = resource.splitn(4, '/');
        let (Some("table"), Some(name), Some("stream"), Some(label)) =
            (it.next(), it.next(), it.next(), it.next())
        else {
            return Err(stream_not_found(arn));
        };
        let row = self
            .store
            .get_table_fresh(&ctx.account_id, &ctx.region, name)
            .await?
            .ok_or_else(|| stream_not_found(arn))?;
        let meta = TableMeta::from_json(&row.meta)?;
        if meta.latest_stream_label.as_deref() != Some(label) {
            return Err(stream_not_found(arn));
        }
        Ok((row.table_id, meta, label.to_string()))
    }

    async fn list_streams(&self, ctx: &RequestContext, input: ListStreamsInput) -> Result<Value> {
        let mut streams = Vec::new();
        for row in self.store.all_tables(&ctx.account_id, &ctx.region).await? {
            let meta = TableMeta::from_json(&row.meta)?;
            if input
                .table_name
                .as_deref()
                .is_some_and(|t| t != meta.table_name)
            {
                continue;
            }
            if let Some(label) = &meta.latest_stream_label {
                streams.push(json!({
                    "StreamArn": format!("{}/stream/{label}", meta.table_arn),
                    "TableName": meta.table_name,
                    "StreamLabel": label,
                }));
            }
        }
        if let Some(start) = &input.exclusive_start_stream_arn {
            if let Some(i) = streams.iter().position(|s| s["StreamArn"] == json!(start)) {
                streams.drain(..=i);
            }
        }
        let limit = input.limit.unwrap_or(100).max(1) as usize;
        let mut out = json!({});
        if streams.len() > limit {
            streams.truncate(limit);
            out["LastEvaluatedStreamArn"] = streams[limit - 1]["StreamArn"].clone();
        }
        out["Streams"] = Value::Array(streams);
        Ok(out)
    }

    async fn describe_stream(&self, ctx: &RequestContext, input: StreamArnInput) -> Result<Value> {
        let (id, meta, label) = self.stream(ctx, &input.stream_arn).await?;
        let enabled = meta
            .stream_specification
            .as_ref()
            .is_some_and(|s| s.stream_enabled);
        let bounds = self.store.stream_bounds(id, &label).await?;
        let mut range = json!({ "StartingSequenceNumber": seq_text(bounds.map_or(1, |b| b.0)) });
        if !enabled {
            range["EndingSequenceNumber"] = json!(seq_text(bounds.map_or(1, |b| b.1)));
        }
        Ok(json!({ "StreamDescription": {
            "StreamArn": input.stream_arn,
            "StreamLabel": label,
            "StreamStatus": if enabled { "ENABLED" } else { "DISABLED" },
            "StreamViewType": meta.stream_specification.as_ref().and_then(|s| s.stream_view_type.clone()),
            "CreationRequestDateTime": meta.creation_date_time,
            "TableName": meta.table_name,
            "KeySchema": meta.key_schema,
            "Shards": [{ "ShardId": shard_id(id), "SequenceNumberRange": range }],
        } }))
    }

    async fn get_shard_iterator(
        &self,
        ctx: &RequestContext,
        input: GetShardIteratorInput,
    ) -> Result<Value> {
        let (id, _, _) = self.stream(ctx, &input.stream_arn).await?;
        if input.shard_id != shard_id(id) {
            return Err(DynamoError::ResourceNotFound(format!(
                "Requested resource not found: Shard does not exist: {}",
                input.shard_id
            )));
        }
        let seq = || -> Result<i64> {
            input
                .sequence_number
                .as_deref()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| {
                    DynamoError::validation(format!(
                        "Invalid SequenceNumber: {}",
                        input.sequence_number.as_deref().unwrap_or("null")
                    ))
                })
        };
        let after = match input.shard_iterator_type.as_str() {
            "TRIM_HORIZON" => 0,
            "LATEST" => self.store.last_stream_seq().await?,
            "AT_SEQUENCE_NUMBER" => seq()? - 1,
            _ => seq()?,
        };
        Ok(json!({ "ShardIterator": encode_cursor(&Cursor { arn: input.stream_arn, after }) }))
    }

    async fn get_records(&self, ctx: &RequestContext, input: GetRecordsInput) -> Result<Value> {
        let cursor: Cursor = B64
            .decode(&input.shard_iterator)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| DynamoError::validation("Invalid ShardIterator"))?;
        let (id, _, label) = self.stream(ctx, &cursor.arn).await?;
        let limit = input.limit.unwrap_or(1000).clamp(1, 1000);
        let rows = self
            .store
            .stream_records(id, &label, cursor.after, limit)
            .await?;
        let mut after = cursor.after;
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            let mut rec: Value = serde_json::from_str(&row.record).unwrap_or_default();
            rec["dynamodb"]["SequenceNumber"] = json!(seq_text(row.seq));
            records.push(rec);
            after = row.seq;
        }
        Ok(json!({
            "Records": records,
            "NextShardIterator": encode_cursor(&Cursor { arn: cursor.arn, after }),
        }))
    }
}

fn encode_cursor(c: &Cursor) -> String {
    B64.encode(serde_json::to_vec(c).unwrap_or_default())
}

macro_rules! route {
    ($self:ident, $ctx:ident, $input:ident, $h:ident) => {
        typed($input, |i| async move { Ok($self.$h($ctx, i).await?) }).await
    };
}

impl Service for DynamoDbStreams {
    fn id(&self) -> &'static str {
        "dynamodbstreams"
    }

    fn operations(&self) -> &'static [&'static str] {
        STREAM_OPERATIONS
    }

    fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        request: ServiceRequest,
    ) -> BoxFuture<'a, std::result::Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            let input = request.input;
            let output: std::result::Result<Value, ServiceError> = match operation {
                "ListStreams" => route!(self, ctx, input, list_streams),
                "DescribeStream" => route!(self, ctx, input, describe_stream),
                "GetShardIterator" => route!(self, ctx, input, get_shard_iterator),
                "GetRecords" => route!(self, ctx, input, get_records),
                other => Err(ServiceError::not_implemented("dynamodbstreams", other)),
            };
            output.map(ServiceResponse::from)
        })
    }
}
