//! Single-item writes and reads: PutItem, GetItem, UpdateItem, DeleteItem.

use crate::errors::{DynamoError, Result};
use crate::expr::ast::{Condition, Path, PathElem};
use crate::expr::{self, eval, Refs};
use crate::keys;
use crate::shapes::*;
use crate::streams::{self, Actor};
use crate::table::TableMeta;
use crate::types::{item_from_body, item_from_wire, item_size, item_to_wire, Item, MAX_ITEM_SIZE};
use crate::DynamoDb;
use cloudemu_core::{RequestContext, ServiceResponse};
use cloudemu_storage::dynamodb::{ItemKey, ItemWrite};
use serde_json::{json, Map, Value};

/// What a write's ConditionExpression (or legacy Expected) requires of the current item.
pub(crate) fn parse_write_condition(
    expression: Option<&str>,
    expected: Option<&AttrMap>,
    operator: Option<&str>,
    refs: &mut Refs,
) -> Result<Option<Condition>> {
    match (expression, expected) {
        (Some(_), Some(_)) => Err(DynamoError::validation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        )),
        (Some(e), None) => Ok(Some(expr::parse_condition(e, "ConditionExpression", refs)?)),
        (None, Some(exp)) => crate::legacy::expected(exp, operator).map(Some),
        (None, None) => {
            if operator.is_some() {
                return Err(DynamoError::validation(
                    "ConditionalOperator can only be used when Filter or Expected has two or more elements",
                ));
            }
            Ok(None)
        }
    }
}

/// Refuse updates and conditions aimed at nothing: check the refs maps are all used.
pub(crate) fn finish_refs(refs: &Refs, any_expression: bool) -> Result<()> {
    if any_expression {
        refs.check_all_used()
    } else {
        refs.require_unused_absent()
    }
}

/// A stored body as a JSON value, without the round trip through attribute values.
pub(crate) fn body_json(body: &str) -> Result<Value> {
    serde_json::from_str(body).map_err(|e| {
        DynamoError::Storage(cloudemu_storage::StorageError::Io(std::io::Error::other(
            format!("corrupt stored item: {e}"),
        )))
    })
}

fn keys_only(meta: &TableMeta, item: &Item) -> Item {
    meta.key_def()
        .names()
        .filter_map(|n| item.get(n).map(|v| (n.to_string(), v.clone())))
        .collect()
}

fn check_item_size(item: &Item) -> Result<usize> {
    let size = item_size(item);
    if size > MAX_ITEM_SIZE {
        return Err(DynamoError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    Ok(size)
}

/// ConsumedCapacity as AWS reports it: writes in 1 KB units, reads in 4 KB units (halved
/// for eventually consistent reads).
pub(crate) fn consumed(mode: Option<&str>, table: &str, units: f64) -> Option<Value> {
    match mode {
        Some("TOTAL") => Some(json!({ "TableName": table, "CapacityUnits": units })),
        Some("INDEXES") => Some(json!({
            "TableName": table, "CapacityUnits": units, "Table": { "CapacityUnits": units }
        })),
        _ => None,
    }
}

/// ItemCollectionMetrics for tables with local indexes (the only ones with item collections),
/// when asked for with SIZE. Collections here never approach AWS's 10 GB limit.
pub(crate) fn collection_metrics(
    mode: Option<&str>,
    meta: &TableMeta,
    item: &Item,
) -> Option<Value> {
    if mode != Some("SIZE") || meta.local_secondary_indexes.is_empty() {
        return None;
    }
    let hash = meta.key_def().hash.0;
    let value = item.get(&hash)?.to_wire();
    Some(json!({
        "ItemCollectionKey": { hash: value },
        "SizeEstimateRangeGB": [0.0, 1.0],
    }))
}

/// ItemCollectionMetrics of a multi-item write: per table, one entry per write to a table
/// with local indexes, in request order. Absent when none applies.
pub(crate) fn collection_metrics_per_table(entries: Vec<(String, Value)>) -> Option<Value> {
    let mut per_table = Map::new();
    for (table, m) in entries {
        if let Value::Array(list) = per_table
            .entry(table)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            list.push(m);
        }
    }
    (!per_table.is_empty()).then_some(Value::Object(per_table))
}

pub(crate) fn write_units(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

pub(crate) fn read_units(size: usize, consistent: bool) -> f64 {
    let units = size.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

fn check_return_values_old_or_none(rv: Option<&str>) -> Result<bool> {
    match rv {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(_) => Err(DynamoError::validation(
            "ReturnValues can only be ALL_OLD or NONE",
        )),
    }
}

fn condition_failed(old: Option<&Item>, return_old: Option<&str>) -> DynamoError {
    DynamoError::ConditionalCheckFailed {
        item: match (return_old, old) {
            (Some("ALL_OLD"), Some(old)) => Some(item_to_wire(old)),
            _ => None,
        },
    }
}

/// The projection a read asks for (ProjectionExpression or legacy AttributesToGet).
pub(crate) fn parse_projection(
    expression: Option<&str>,
    attributes_to_get: Option<&Vec<String>>,
    refs: &mut Refs,
) -> Result<Option<Vec<Path>>> {
    match (expression, attributes_to_get) {
        (Some(_), Some(_)) => Err(DynamoError::validation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
        )),
        (Some(e), None) => Ok(Some(expr::parse_projection(e, refs)?)),
        (None, Some(names)) => {
            let mut seen = std::collections::BTreeSet::new();
            for n in names {
                if !seen.insert(n) {
                    return Err(DynamoError::validation(format!(
                        "One or more parameter values were invalid: Duplicate value in attribute name: {n}"
                    )));
                }
            }
            Ok(Some(
                names.iter().map(|n| vec![PathElem::Attr(n.clone())]).collect(),
            ))
        }
        (None, None) => Ok(None),
    }
}

impl DynamoDb {
    /// The table and its item address for a `Key` parameter.
    async fn keyed(
        &self,
        ctx: &RequestContext,
        table: &str,
        key: &AttrMap,
    ) -> Result<(std::sync::Arc<TableMeta>, ItemKey, Item)> {
        let (id, meta) = self
            .find_table(ctx, table)
            .await?
            .ok_or_else(DynamoError::no_table)?;
        let key = item_from_wire(key)?;
        let (pk, sk) = keys::of_key(&meta.key_def(), &key)?;
        Ok((
            meta,
            ItemKey {
                table_id: id,
                pk,
                sk,
            },
            key,
        ))
    }

    pub(crate) async fn put_item(
        &self,
        ctx: &RequestContext,
        input: PutItemInput,
    ) -> Result<Value> {
        let (id, meta) = self
            .find_table(ctx, &input.table_name)
            .await?
            .ok_or_else(DynamoError::no_table)?;
        let return_old = check_return_values_old_or_none(input.return_values.as_deref())?;
        let item = item_from_wire(&input.item)?;
        let (pk, sk) = keys::of_item(&meta.key_def(), &item)?;
        let size = check_item_size(&item)?;
        let mut refs = Refs::new(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let condition = parse_write_condition(
            input.condition_expression.as_deref(),
            input.expected.as_ref(),
            input.conditional_operator.as_deref(),
            &mut refs,
        )?;
        finish_refs(&refs, input.condition_expression.is_some())?;
        let write = crate::indexes::put_write(&meta, &item, size)?;
        let rvoccf = input.return_values_on_condition_check_failure.clone();
        let stream_meta = meta.clone();
        let metrics_item = keys_only(&meta, &item);
        let new_item = item;
        // Only a condition, ALL_OLD, a stream record or capacity accounting needs the old item.
        let needs_old = condition.is_some()
            || return_old
            || input.return_consumed_capacity.is_some()
            || meta
                .stream_specification
                .as_ref()
                .is_some_and(|s| s.stream_enabled);
        let decide = move |current: Vec<Option<String>>| {
            let old = match current.into_iter().next().flatten() {
                Some(b) => Some(item_from_body(&b)?),
                None => None,
            };
            if let Some(c) = &condition {
                if !eval::eval_condition(c, old.as_ref().unwrap_or(&Item::new())) {
                    return Err(condition_failed(old.as_ref(), rvoccf.as_deref()));
                }
            }
            let rec = streams::record(&stream_meta, old.as_ref(), Some(&new_item), Actor::User);
            Ok((vec![streams::with_record(write, rec)], old))
        };
        let key = [ItemKey {
            table_id: id,
            pk,
            sk,
        }];
        let old = if needs_old {
            self.store.write_items(&key, decide).await??
        } else {
            self.store.write_items_blind(&key, decide).await??
        };
        let mut out = Map::new();
        if let (true, Some(old)) = (return_old, &old) {
            out.insert("Attributes".into(), Value::Object(item_to_wire(old)));
        }
        let units = write_units(size.max(old.as_ref().map(item_size).unwrap_or(0)));
        if let Some(c) = consumed(
            input.return_consumed_capacity.as_deref(),
            &meta.table_name,
            units,
        ) {
            out.insert("ConsumedCapacity".into(), c);
        }
        if let Some(m) = collection_metrics(
            input.return_item_collection_metrics.as_deref(),
            &meta,
            &metrics_item,
        ) {
            out.insert("ItemCollectionMetrics".into(), m);
        }
        Ok(Value::Object(out))
    }

    pub(crate) async fn get_item(
        &self,
        ctx: &RequestContext,
        input: GetItemInput,
    ) -> Result<ServiceResponse> {
        let (meta, key, _) = self.keyed(ctx, &input.table_name, &input.key).await?;
        let mut refs = Refs::new(input.expression_attribute_names.as_ref(), None)?;
        let projection = parse_projection(
            input.projection_expression.as_deref(),
            input.attributes_to_get.as_ref(),
            &mut refs,
        )?;
        finish_refs(&refs, input.projection_expression.is_some())?;
        let mut out = Map::new();
        let mut encoded = Vec::new();
        let mut size = 0;
        if let Some(body) = self.store.get_item(&key).await? {
            if projection.is_none() && input.return_consumed_capacity.is_none() {
                // Stored bodies are canonical DynamoDB JSON already: sent as they are.
                encoded.push(("Item".to_string(), body));
            } else {
                let item = item_from_body(&body)?;
                size = item_size(&item);
                let wire = match &projection {
                    Some(paths) => item_to_wire(&eval::project(&item, paths)),
                    None => item_to_wire(&item),
                };
                out.insert("Item".into(), Value::Object(wire));
            }
        }
        let units = read_units(size, input.consistent_read.unwrap_or(false));
        if let Some(c) = consumed(
            input.return_consumed_capacity.as_deref(),
            &meta.table_name,
            units,
        ) {
            out.insert("ConsumedCapacity".into(), c);
        }
        let mut response = ServiceResponse::from(Value::Object(out));
        response.encoded = encoded;
        Ok(response)
    }

    pub(crate) async fn delete_item(
        &self,
        ctx: &RequestContext,
        input: DeleteItemInput,
    ) -> Result<Value> {
        let (meta, key, metrics_item) = self.keyed(ctx, &input.table_name, &input.key).await?;
        let return_old = check_return_values_old_or_none(input.return_values.as_deref())?;
        let mut refs = Refs::new(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let condition = parse_write_condition(
            input.condition_expression.as_deref(),
            input.expected.as_ref(),
            input.conditional_operator.as_deref(),
            &mut refs,
        )?;
        finish_refs(&refs, input.condition_expression.is_some())?;
        let rvoccf = input.return_values_on_condition_check_failure.clone();
        let delete = crate::indexes::delete_write(&meta);
        let stream_meta = meta.clone();
        let old = self
            .store
            .write_items(&[key], move |current| {
                let old = match current.into_iter().next().flatten() {
                    Some(b) => Some(item_from_body(&b)?),
                    None => None,
                };
                if let Some(c) = &condition {
                    if !eval::eval_condition(c, old.as_ref().unwrap_or(&Item::new())) {
                        return Err(condition_failed(old.as_ref(), rvoccf.as_deref()));
                    }
                }
                let write = if old.is_some() {
                    let rec = streams::record(&stream_meta, old.as_ref(), None, Actor::User);
                    streams::with_record(delete, rec)
                } else {
                    ItemWrite::Keep
                };
                Ok((vec![write], old))
            })
            .await??;
        let mut out = Map::new();
        if let (true, Some(old)) = (return_old, &old) {
            out.insert("Attributes".into(), Value::Object(item_to_wire(old)));
        }
        let units = write_units(old.as_ref().map(item_size).unwrap_or(0));
        if let Some(c) = consumed(
            input.return_consumed_capacity.as_deref(),
            &meta.table_name,
            units,
        ) {
            out.insert("ConsumedCapacity".into(), c);
        }
        if let Some(m) = collection_metrics(
            input.return_item_collection_metrics.as_deref(),
            &meta,
            &metrics_item,
        ) {
            out.insert("ItemCollectionMetrics".into(), m);
        }
        Ok(Value::Object(out))
    }

    pub(crate) async fn update_item(
        &self,
        ctx: &RequestContext,
        input: UpdateItemInput,
    ) -> Result<Value> {
        let (meta, key, key_item) = self.keyed(ctx, &input.table_name, &input.key).await?;
        let metrics_item = key_item.clone();
        let rv = input.return_values.clone().unwrap_or_else(|| "NONE".into());
        let mut refs = Refs::new(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let update = match (&input.update_expression, &input.attribute_updates) {
            (Some(_), Some(_)) => {
                return Err(DynamoError::validation(
                    "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}",
                ))
            }
            (Some(e), None) => Some(expr::parse_update(e, &mut refs)?),
            (None, Some(au)) => Some(crate::legacy::attribute_updates(au)?),
            (None, None) => None,
        };
        let condition = parse_write_condition(
            input.condition_expression.as_deref(),
            input.expected.as_ref(),
            input.conditional_operator.as_deref(),
            &mut refs,
        )?;
        finish_refs(
            &refs,
            input.update_expression.is_some() || input.condition_expression.is_some(),
        )?;
        let def = meta.key_def();
        let mut touched: Vec<Path> = Vec::new();
        if let Some(u) = &update {
            for p in u.paths() {
                if let Some(PathElem::Attr(first)) = p.first() {
                    if def.names().any(|k| k == first) {
                        return Err(DynamoError::invalid(format!(
                            "Cannot update attribute {first}. This attribute is part of the key"
                        )));
                    }
                }
                touched.push(p.clone());
            }
        }
        let rvoccf = input.return_values_on_condition_check_failure.clone();
        let table_meta = meta.clone();
        let (old, new) = self
            .store
            .write_items(&[key], move |current| {
                let old = match current.into_iter().next().flatten() {
                    Some(b) => Some(item_from_body(&b)?),
                    None => None,
                };
                if let Some(c) = &condition {
                    if !eval::eval_condition(c, old.as_ref().unwrap_or(&Item::new())) {
                        return Err(condition_failed(old.as_ref(), rvoccf.as_deref()));
                    }
                }
                let mut new = old.clone().unwrap_or_else(|| key_item.clone());
                if let Some(u) = &update {
                    eval::apply_update(&mut new, u)?;
                }
                let size = check_item_size(&new)?;
                let write = crate::indexes::put_write(&table_meta, &new, size)?;
                let rec = streams::record(&table_meta, old.as_ref(), Some(&new), Actor::User);
                Ok((vec![streams::with_record(write, rec)], (old, new)))
            })
            .await??;
        let mut out = Map::new();
        let attributes = match rv.as_str() {
            "ALL_OLD" => old.clone(),
            "ALL_NEW" => Some(new.clone()),
            "UPDATED_OLD" => old.as_ref().map(|o| eval::project(o, &touched)),
            "UPDATED_NEW" => Some(eval::project(&new, &touched)),
            _ => None,
        };
        if let Some(a) = attributes.filter(|a| !a.is_empty()) {
            out.insert("Attributes".into(), Value::Object(item_to_wire(&a)));
        }
        let size = item_size(&new).max(old.as_ref().map(item_size).unwrap_or(0));
        if let Some(c) = consumed(
            input.return_consumed_capacity.as_deref(),
            &meta.table_name,
            write_units(size),
        ) {
            out.insert("ConsumedCapacity".into(), c);
        }
        if let Some(m) = collection_metrics(
            input.return_item_collection_metrics.as_deref(),
            &meta,
            &metrics_item,
        ) {
            out.insert("ItemCollectionMetrics".into(), m);
        }
        Ok(Value::Object(out))
    }
}
