//! TransactWriteItems and TransactGetItems: all-or-nothing across items and tables, with
//! CancellationReasons in request order and ClientRequestToken idempotency for 10 minutes.

use crate::errors::{DynamoError, Result};
use crate::expr::ast::{Condition, PathElem, Update};
use crate::expr::{self, eval, Refs};
use crate::items::{
    collection_metrics, collection_metrics_per_table, finish_refs, parse_projection,
};
use crate::keys;
use crate::shapes::*;
use crate::streams::{self, Actor};
use crate::types::{item_from_body, item_from_wire, item_size, item_to_wire, Item, MAX_ITEM_SIZE};
use crate::DynamoDb;
use cloudemu_core::RequestContext;
use cloudemu_storage::dynamodb::{ItemKey, ItemWrite, RequestToken};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How long a ClientRequestToken makes a repeat a no-op.
const TOKEN_WINDOW: Duration = Duration::from_secs(600);

pub(crate) enum Action {
    Check,
    Put(Item),
    Delete,
    Update(Option<Update>, Item),
}

pub(crate) struct Planned {
    pub meta: std::sync::Arc<crate::table::TableMeta>,
    pub key: ItemKey,
    pub action: Action,
    pub condition: Option<Condition>,
    pub return_old: bool,
    /// The cancellation reason when the condition fails (PartiQL INSERTs say DuplicateItem).
    pub fail: (&'static str, &'static str),
}

/// A request's identity for token idempotency: its JSON with every object's keys sorted, so
/// a retry whose maps list their keys in another order (SDKs build them from hash maps) is
/// still the same request.
pub(crate) fn fingerprint_of(request: &impl serde::Serialize) -> String {
    fn sorted(v: Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut entries: Vec<(String, Value)> = m.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
            }
            Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
            other => other,
        }
    }
    serde_json::to_value(request)
        .map(|v| sorted(v).to_string())
        .unwrap_or_default()
}

/// What a failed condition reports by default.
pub(crate) const CONDITION_FAILED: (&str, &str) =
    ("ConditionalCheckFailed", "The conditional request failed");

fn reason(code: &str, message: Option<&str>, item: Option<&Item>) -> Value {
    let mut r = json!({ "Code": code });
    if let Some(m) = message {
        r["Message"] = json!(m);
    }
    if let Some(i) = item {
        r["Item"] = Value::Object(item_to_wire(i));
    }
    r
}

impl DynamoDb {
    async fn plan(&self, ctx: &RequestContext, t: &TransactWriteItem) -> Result<Planned> {
        let (action_name, a) = match (&t.condition_check, &t.put, &t.delete, &t.update) {
            (Some(a), None, None, None) => ("ConditionCheck", a),
            (None, Some(a), None, None) => ("Put", a),
            (None, None, Some(a), None) => ("Delete", a),
            (None, None, None, Some(a)) => ("Update", a),
            _ => {
                return Err(DynamoError::validation(
                    "TransactItems can only contain one of Check, Put, Update or Delete",
                ))
            }
        };
        let (id, meta) = self
            .find_table(ctx, &a.table_name)
            .await?
            .ok_or_else(DynamoError::no_table)?;
        let def = meta.key_def();
        let mut refs = Refs::new(
            a.expression_attribute_names.as_ref(),
            a.expression_attribute_values.as_ref(),
        )?;
        let condition = match &a.condition_expression {
            Some(c) => Some(expr::parse_condition(c, "ConditionExpression", &mut refs)?),
            None if action_name == "ConditionCheck" => {
                return Err(DynamoError::validation(
                    "1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null",
                ))
            }
            None => None,
        };
        let (pk, sk, action) = match action_name {
            "Put" => {
                let item = item_from_wire(a.item.as_ref().unwrap_or(&Default::default()))?;
                let (pk, sk) = keys::of_item(&def, &item)?;
                if item_size(&item) > MAX_ITEM_SIZE {
                    return Err(DynamoError::validation(
                        "Item size has exceeded the maximum allowed size",
                    ));
                }
                (pk, sk, Action::Put(item))
            }
            _ => {
                let key = item_from_wire(a.key.as_ref().unwrap_or(&Default::default()))?;
                let (pk, sk) = keys::of_key(&def, &key)?;
                let action = match action_name {
                    "Delete" => Action::Delete,
                    "Update" => {
                        let u = match &a.update_expression {
                            Some(e) => Some(expr::parse_update(e, &mut refs)?),
                            None => None,
                        };
                        if let Some(u) = &u {
                            for p in u.paths() {
                                if let Some(PathElem::Attr(first)) = p.first() {
                                    if def.names().any(|k| k == first) {
                                        return Err(DynamoError::invalid(format!(
                                            "Cannot update attribute {first}. This attribute is part of the key"
                                        )));
                                    }
                                }
                            }
                        }
                        Action::Update(u, key)
                    }
                    _ => Action::Check,
                };
                (pk, sk, action)
            }
        };
        finish_refs(
            &refs,
            a.condition_expression.is_some() || a.update_expression.is_some(),
        )?;
        Ok(Planned {
            meta,
            key: ItemKey {
                table_id: id,
                pk,
                sk,
            },
            action,
            condition,
            return_old: a.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD"),
            fail: CONDITION_FAILED,
        })
    }

    /// True if this token was used with these parameters within the window (the call is a
    /// repeat); an error if it was used with others. Records the token otherwise.
    /// True when this token already committed the same request within the window (a
    /// repeat: answer without doing anything). Tokens in flight are held in memory; committed
    /// ones are also stored with their writes, so a restart keeps the window.
    async fn seen_token(
        &self,
        ctx: &RequestContext,
        token: &str,
        fingerprint: &str,
    ) -> Result<bool> {
        let k = (
            ctx.account_id.clone(),
            ctx.region.clone(),
            token.to_string(),
        );
        {
            let mut tokens = self
                .tokens
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            tokens.retain(|_, (_, at)| now.duration_since(*at) < TOKEN_WINDOW);
            match tokens.get(&k) {
                Some((f, _)) if f == fingerprint => return Ok(true),
                Some(_) => return Err(DynamoError::IdempotentParameterMismatch),
                None => {}
            }
        }
        let not_before = chrono::Utc::now().timestamp() - TOKEN_WINDOW.as_secs() as i64;
        let stored = self
            .store
            .request_token(&ctx.account_id, &ctx.region, token, not_before)
            .await?;
        let mut tokens = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Another request with this token may have registered while the store was read.
        let known = tokens.get(&k).map(|(f, _)| f.clone()).or(stored);
        match known {
            Some(f) if f == fingerprint => Ok(true),
            Some(_) => Err(DynamoError::IdempotentParameterMismatch),
            None => {
                tokens.insert(k, (fingerprint.to_string(), Instant::now()));
                Ok(false)
            }
        }
    }

    fn forget_token(&self, ctx: &RequestContext, token: &str) {
        let mut tokens = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tokens.remove(&(
            ctx.account_id.clone(),
            ctx.region.clone(),
            token.to_string(),
        ));
    }

    pub(crate) async fn transact_write_items(
        &self,
        ctx: &RequestContext,
        input: TransactWriteItemsInput,
    ) -> Result<Value> {
        let mut plans = Vec::with_capacity(input.transact_items.len());
        for t in &input.transact_items {
            plans.push(self.plan(ctx, t).await?);
        }
        let fingerprint = input
            .client_request_token
            .as_ref()
            .map(|_| fingerprint_of(&input.transact_items));
        // Puts, updates and deletes (not condition checks) report their item collection.
        let mode = input.return_item_collection_metrics.as_deref();
        let mut collections = Vec::new();
        let asked = mode == Some("SIZE");
        for (t, p) in input.transact_items.iter().zip(&plans).filter(|_| asked) {
            let key = match (&p.action, &t.delete) {
                (Action::Put(item), _) | (Action::Update(_, item), _) => Some(item.clone()),
                (Action::Delete, Some(d)) => Some(item_from_wire(
                    d.key.as_ref().unwrap_or(&Default::default()),
                )?),
                _ => None,
            };
            if let Some(m) = key.and_then(|k| collection_metrics(mode, &p.meta, &k)) {
                collections.push((p.meta.table_name.clone(), m));
            }
        }
        let mut out = self
            .commit_plans(ctx, plans, input.client_request_token, fingerprint)
            .await?;
        if let Some(m) = collection_metrics_per_table(collections) {
            out["ItemCollectionMetrics"] = m;
        }
        Ok(out)
    }

    /// Check every plan's condition and apply every action, all or nothing.
    pub(crate) async fn commit_plans(
        &self,
        ctx: &RequestContext,
        plans: Vec<Planned>,
        token: Option<String>,
        fingerprint: Option<String>,
    ) -> Result<Value> {
        let mut seen = HashSet::new();
        for p in &plans {
            if !seen.insert(p.key.clone()) {
                return Err(DynamoError::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
        }
        if let (Some(t), Some(fingerprint)) = (&token, &fingerprint) {
            if self.seen_token(ctx, t, fingerprint).await? {
                return Ok(json!({}));
            }
        }
        let keys: Vec<ItemKey> = plans.iter().map(|p| p.key.clone()).collect();
        let record = token.clone().zip(fingerprint).map(|(t, f)| RequestToken {
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            token: t,
            fingerprint: f,
        });
        let result = self
            .store
            .write_items_with_token(&keys, record, move |current| {
                let mut writes = Vec::with_capacity(plans.len());
                let mut reasons = Vec::with_capacity(plans.len());
                let mut codes = Vec::with_capacity(plans.len());
                let mut failed = false;
                for (plan, cur) in plans.iter().zip(current) {
                    let old = match cur {
                        Some(b) => Some(item_from_body(&b)?),
                        None => None,
                    };
                    let empty = Item::new();
                    if let Some(c) = &plan.condition {
                        if !eval::eval_condition(c, old.as_ref().unwrap_or(&empty)) {
                            failed = true;
                            codes.push(plan.fail.0.to_string());
                            reasons.push(reason(
                                plan.fail.0,
                                Some(plan.fail.1),
                                old.as_ref().filter(|_| plan.return_old),
                            ));
                            writes.push(ItemWrite::Keep);
                            continue;
                        }
                    }
                    let write = match &plan.action {
                        Action::Check => Ok(ItemWrite::Keep),
                        Action::Delete if old.is_none() => Ok(ItemWrite::Keep),
                        Action::Delete => Ok(streams::with_record(
                            crate::indexes::delete_write(&plan.meta),
                            streams::record(&plan.meta, old.as_ref(), None, Actor::User),
                        )),
                        Action::Put(item) => {
                            crate::indexes::put_write(&plan.meta, item, item_size(item)).map(|w| {
                                let rec = streams::record(
                                    &plan.meta,
                                    old.as_ref(),
                                    Some(item),
                                    Actor::User,
                                );
                                streams::with_record(w, rec)
                            })
                        }
                        Action::Update(u, key) => {
                            let mut new = old.clone().unwrap_or_else(|| key.clone());
                            let applied = match u {
                                Some(u) => eval::apply_update(&mut new, u),
                                None => Ok(()),
                            };
                            applied.and_then(|_| {
                                let size = item_size(&new);
                                if size > MAX_ITEM_SIZE {
                                    return Err(DynamoError::validation(
                                        "Item size to update has exceeded the maximum allowed size",
                                    ));
                                }
                                let rec = streams::record(
                                    &plan.meta,
                                    old.as_ref(),
                                    Some(&new),
                                    Actor::User,
                                );
                                crate::indexes::put_write(&plan.meta, &new, size)
                                    .map(|w| streams::with_record(w, rec))
                            })
                        }
                    };
                    match write {
                        Ok(w) => {
                            codes.push("None".to_string());
                            reasons.push(reason("None", None, None));
                            writes.push(w);
                        }
                        Err(e) => {
                            failed = true;
                            codes.push("ValidationError".to_string());
                            reasons.push(reason("ValidationError", Some(&e.to_string()), None));
                            writes.push(ItemWrite::Keep);
                        }
                    }
                }
                if failed {
                    return Err(DynamoError::TransactionCanceled { codes, reasons });
                }
                Ok((writes, ()))
            })
            .await;
        let outcome = match result {
            Ok(Ok(())) => Ok(json!({})),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(e.into()),
        };
        // A cancelled transaction did nothing: its token may be used again.
        if let (Err(_), Some(t)) = (&outcome, &token) {
            self.forget_token(ctx, t);
        }
        outcome
    }

    pub(crate) async fn transact_get_items(
        &self,
        ctx: &RequestContext,
        input: TransactGetItemsInput,
    ) -> Result<Value> {
        let mut responses = Vec::with_capacity(input.transact_items.len());
        let mut seen = HashSet::new();
        let mut plans = Vec::new();
        for t in &input.transact_items {
            let g = t.get.as_ref().ok_or_else(|| {
                DynamoError::validation(
                    "1 validation error detected: Value null at 'transactItems.1.member.get' failed to satisfy constraint: Member must not be null",
                )
            })?;
            let (id, meta) = self
                .find_table(ctx, &g.table_name)
                .await?
                .ok_or_else(DynamoError::no_table)?;
            let key = item_from_wire(&g.key)?;
            let (pk, sk) = keys::of_key(&meta.key_def(), &key)?;
            let mut refs = Refs::new(g.expression_attribute_names.as_ref(), None)?;
            let projection = parse_projection(g.projection_expression.as_deref(), None, &mut refs)?;
            finish_refs(&refs, g.projection_expression.is_some())?;
            let key = ItemKey {
                table_id: id,
                pk,
                sk,
            };
            if !seen.insert(key.clone()) {
                return Err(DynamoError::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            plans.push((key, projection));
        }
        // All items from one snapshot: a transactional read sees no write half-applied.
        let (keys, projections): (Vec<_>, Vec<_>) = plans.into_iter().unzip();
        let bodies = self.store.get_items(keys).await?;
        for (body, projection) in bodies.into_iter().zip(projections) {
            match body {
                Some(body) => {
                    let item = item_from_body(&body)?;
                    let item = match &projection {
                        Some(p) => eval::project(&item, p),
                        None => item,
                    };
                    responses.push(json!({ "Item": item_to_wire(&item) }));
                }
                None => responses.push(json!({})),
            }
        }
        Ok(json!({ "Responses": responses }))
    }
}
