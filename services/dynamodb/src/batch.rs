//! BatchGetItem and BatchWriteItem: many items in one call, with AWS's limits (100 keys and
//! 16 MB per read, 25 writes per write) and duplicate-key checks.

use crate::errors::{DynamoError, Result};
use crate::expr::{eval, Refs};
use crate::items::{
    collection_metrics, collection_metrics_per_table, consumed, finish_refs, parse_projection,
    read_units, write_units,
};
use crate::keys;
use crate::shapes::*;
use crate::streams::{self, Actor};
use crate::types::{item_from_body, item_from_wire, item_size, item_to_wire};
use crate::DynamoDb;
use cloudemu_core::{RequestContext, ServiceResponse};
use cloudemu_storage::dynamodb::{ItemKey, ItemWrite};
use serde_json::{json, Map, Value};
use std::collections::HashSet;

const MAX_GET_KEYS: usize = 100;
const MAX_WRITES: usize = 25;
/// BatchGetItem answers at most this much; the rest comes back as UnprocessedKeys.
const MAX_GET_BYTES: usize = 16 * 1024 * 1024;

impl DynamoDb {
    pub(crate) async fn batch_write_item(
        &self,
        ctx: &RequestContext,
        input: BatchWriteItemInput,
    ) -> Result<Value> {
        let total: usize = input
            .request_items
            .values()
            .map(|v| v.as_array().map_or(0, Vec::len))
            .sum();
        if total > MAX_WRITES {
            return Err(DynamoError::validation(
                "Too many items requested for the BatchWriteItem call",
            ));
        }
        let mut keys_out = Vec::new();
        let mut writes = Vec::new();
        let mut metas = Vec::new();
        let mut seen = HashSet::new();
        let mut units: Vec<(String, f64)> = Vec::new();
        let mut collections = Vec::new();
        let metrics_mode = input.return_item_collection_metrics.as_deref();
        for (table, requests) in &input.request_items {
            let (id, meta) = self
                .find_table(ctx, table)
                .await?
                .ok_or_else(DynamoError::no_table)?;
            let def = meta.key_def();
            let mut table_units = 0.0;
            for req in requests.as_array().into_iter().flatten() {
                let put = req.get("PutRequest").filter(|v| !v.is_null());
                let delete = req.get("DeleteRequest").filter(|v| !v.is_null());
                let (pk, sk, write) = match (put, delete) {
                    (Some(p), None) => {
                        let item = item_from_wire(
                            p.get("Item").and_then(Value::as_object).unwrap_or(&Map::new()),
                        )?;
                        let (pk, sk) = keys::of_item(&def, &item)?;
                        let size = item_size(&item);
                        if size > crate::types::MAX_ITEM_SIZE {
                            return Err(DynamoError::validation(
                                "Item size has exceeded the maximum allowed size",
                            ));
                        }
                        table_units += write_units(size);
                        if let Some(m) = collection_metrics(metrics_mode, &meta, &item) {
                            collections.push((meta.table_name.clone(), m));
                        }
                        (pk, sk, crate::indexes::put_write(&meta, &item, size)?)
                    }
                    (None, Some(d)) => {
                        let key = item_from_wire(
                            d.get("Key").and_then(Value::as_object).unwrap_or(&Map::new()),
                        )?;
                        let (pk, sk) = keys::of_key(&def, &key)?;
                        table_units += 1.0;
                        if let Some(m) = collection_metrics(metrics_mode, &meta, &key) {
                            collections.push((meta.table_name.clone(), m));
                        }
                        (pk, sk, crate::indexes::delete_write(&meta))
                    }
                    _ => {
                        return Err(DynamoError::validation(
                            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                        ))
                    }
                };
                let key = ItemKey {
                    table_id: id,
                    pk,
                    sk,
                };
                if !seen.insert(key.clone()) {
                    return Err(DynamoError::validation(
                        "Provided list of item keys contains duplicates",
                    ));
                }
                keys_out.push(key);
                writes.push(write);
                metas.push(meta.clone());
            }
            units.push((meta.table_name.clone(), table_units));
        }
        // All of a batch's writes commit together (AWS does not promise that; it never hurts).
        // Only stream records need the items as they were: without streams, skip that read.
        let streamed = metas.iter().any(|m| {
            m.stream_specification
                .as_ref()
                .is_some_and(|s| s.stream_enabled)
        });
        if !streamed {
            self.store
                .write_items_blind(&keys_out, move |_| Ok::<_, DynamoError>((writes, ())))
                .await??;
            return Ok(batch_write_reply(&input, &units, collections));
        }
        self.store
            .write_items(&keys_out, move |current| {
                let mut out = Vec::with_capacity(writes.len());
                for ((write, meta), cur) in writes.into_iter().zip(&metas).zip(current) {
                    let old = match cur {
                        Some(b) => Some(item_from_body(&b)?),
                        None => None,
                    };
                    let new = match &write {
                        ItemWrite::Put { body, .. } => Some(item_from_body(body)?),
                        _ => None,
                    };
                    if old.is_none() && new.is_none() {
                        out.push(ItemWrite::Keep);
                        continue;
                    }
                    let rec = streams::record(meta, old.as_ref(), new.as_ref(), Actor::User);
                    out.push(streams::with_record(write, rec));
                }
                Ok::<_, DynamoError>((out, ()))
            })
            .await??;
        Ok(batch_write_reply(&input, &units, collections))
    }

    pub(crate) async fn batch_get_item(
        &self,
        ctx: &RequestContext,
        input: BatchGetItemInput,
    ) -> Result<ServiceResponse> {
        let mut requests = Vec::new();
        let mut total = 0;
        for (table, spec) in &input.request_items {
            let spec: KeysAndAttributes = serde_json::from_value(spec.clone())
                .map_err(|e| DynamoError::validation(e.to_string()))?;
            total += spec.keys.len();
            requests.push((table.clone(), spec));
        }
        if total > MAX_GET_KEYS {
            return Err(DynamoError::validation(
                "Too many items requested for the BatchGetItem call",
            ));
        }
        // Responses as JSON text, one (table, items text) each: bodies without a projection are
        // passed through as stored.
        let mut responses: Vec<(String, String)> = Vec::new();
        let mut unprocessed = Map::new();
        let mut bytes = 0;
        let mut caps = Vec::new();
        for (table, spec) in requests {
            let (id, meta) = self
                .find_table(ctx, &table)
                .await?
                .ok_or_else(DynamoError::no_table)?;
            let def = meta.key_def();
            let mut refs = Refs::new(spec.expression_attribute_names.as_ref(), None)?;
            let projection = parse_projection(
                spec.projection_expression.as_deref(),
                spec.attributes_to_get.as_ref(),
                &mut refs,
            )?;
            finish_refs(&refs, spec.projection_expression.is_some())?;
            let mut seen = HashSet::new();
            let mut items = String::from("[");
            let mut left = Vec::new();
            let mut table_units = 0.0;
            let mut wanted = Vec::with_capacity(spec.keys.len());
            for key in &spec.keys {
                let k = item_from_wire(key)?;
                let (pk, sk) = keys::of_key(&def, &k)?;
                if !seen.insert((pk.clone(), sk.clone())) {
                    return Err(DynamoError::invalid(
                        "Provided list of item keys contains duplicates",
                    ));
                }
                wanted.push(ItemKey {
                    table_id: id,
                    pk,
                    sk,
                });
            }
            // One read for the table's keys; the 16 MB cut is applied to what came back.
            let bodies = self.store.get_items_sized(wanted).await?;
            for (key, body) in spec.keys.iter().zip(bodies) {
                if bytes >= MAX_GET_BYTES {
                    left.push(Value::Object(key.clone()));
                    continue;
                }
                let Some((size, body)) = body else {
                    continue;
                };
                let size = usize::try_from(size).unwrap_or(0);
                bytes += size;
                table_units += read_units(size, spec.consistent_read.unwrap_or(false));
                if items.len() > 1 {
                    items.push(',');
                }
                match &projection {
                    Some(p) => {
                        let item = eval::project(&item_from_body(&body)?, p);
                        items.push_str(&Value::Object(item_to_wire(&item)).to_string());
                    }
                    None => items.push_str(&body),
                }
            }
            items.push(']');
            // A table named twice (by name and by ARN) answers once, as a map would.
            match responses.iter_mut().find(|(t, _)| *t == meta.table_name) {
                Some(entry) => entry.1 = items,
                None => responses.push((meta.table_name.clone(), items)),
            }
            if !left.is_empty() {
                let mut rest =
                    serde_json::to_value(input.request_items.get(&table)).unwrap_or_default();
                rest["Keys"] = Value::Array(left);
                unprocessed.insert(table.clone(), rest);
            }
            if let Some(c) = consumed(
                input.return_consumed_capacity.as_deref(),
                &meta.table_name,
                table_units,
            ) {
                caps.push(c);
            }
        }
        let mut out = json!({ "UnprocessedKeys": unprocessed });
        if !caps.is_empty() {
            out["ConsumedCapacity"] = Value::Array(caps);
        }
        let mut text = String::from("{");
        for (i, (table, items)) in responses.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&Value::String(table.clone()).to_string());
            text.push(':');
            text.push_str(items);
        }
        text.push('}');
        let mut response = ServiceResponse::from(out);
        response.encoded.push(("Responses".into(), text));
        Ok(response)
    }
}

fn batch_write_reply(
    input: &BatchWriteItemInput,
    units: &[(String, f64)],
    collections: Vec<(String, Value)>,
) -> Value {
    let mut out = json!({ "UnprocessedItems": {} });
    if let Some(m) = collection_metrics_per_table(collections) {
        out["ItemCollectionMetrics"] = m;
    }
    let caps: Vec<Value> = units
        .iter()
        .filter_map(|(t, u)| consumed(input.return_consumed_capacity.as_deref(), t, *u))
        .collect();
    if !caps.is_empty() {
        out["ConsumedCapacity"] = Value::Array(caps);
    }
    out
}
