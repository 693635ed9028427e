//! PartiQL for DynamoDB: ExecuteStatement and BatchExecuteStatement running SELECT, INSERT,
//! UPDATE and DELETE on single tables through the same storage, evaluator and index/stream
//! maintenance as the classic API.

mod index_select;
mod parser;

use crate::errors::{DynamoError, Result};
use crate::expr::ast::{Comparator, Condition, Operand, PathElem};
use crate::expr::eval;
use crate::keys;
use crate::streams::{self, Actor};
use crate::table::{KeyDef, TableMeta};
use crate::types::{
    item_from_body, item_from_wire, item_size, item_to_wire, AttrValue, Item, MAX_ITEM_SIZE,
};
use crate::DynamoDb;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use cloudemu_core::RequestContext;
use cloudemu_storage::dynamodb::{ItemKey, ItemWrite, SkRange};
use parser::Statement;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::ops::Bound;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecuteStatementInput {
    pub statement: String,
    pub parameters: Option<Vec<Value>>,
    pub consistent_read: Option<bool>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
    pub return_values_on_condition_check_failure: Option<String>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ParameterizedStatement {
    pub statement: String,
    pub parameters: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecuteTransactionInput {
    pub transact_statements: Vec<ParameterizedStatement>,
    pub client_request_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct BatchExecuteStatementInput {
    pub statements: Vec<ExecuteStatementInput>,
}

const MAX_PAGE_BYTES: i64 = 1024 * 1024;
const MAX_BATCH: usize = 25;

/// The top-level AND-ed parts of a WHERE clause.
fn conjuncts<'a>(c: &'a Condition, out: &mut Vec<&'a Condition>) {
    match c {
        Condition::And(a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        other => out.push(other),
    }
}

/// The value a WHERE clause requires `attr` to equal, if it says so at the top level.
fn equality<'a>(c: &'a Condition, attr: &str) -> Option<&'a AttrValue> {
    let mut parts = Vec::new();
    conjuncts(c, &mut parts);
    parts.into_iter().find_map(|p| match p {
        Condition::Compare(Operand::Path(path), Comparator::Eq, Operand::Value(v))
        | Condition::Compare(Operand::Value(v), Comparator::Eq, Operand::Path(path))
            if path.as_slice() == [PathElem::Attr(attr.to_string())] =>
        {
            Some(v)
        }
        _ => None,
    })
}

/// The full primary key a WHERE clause pins down (UPDATE and DELETE need one).
fn key_of(def: &KeyDef, c: &Condition) -> Result<Item> {
    let missing = || {
        DynamoError::validation(
            "Where clause does not contain a mandatory equality on all key attributes",
        )
    };
    let mut key = Item::new();
    for name in def.names() {
        key.insert(
            name.to_string(),
            equality(c, name).ok_or_else(missing)?.clone(),
        );
    }
    Ok(key)
}

impl DynamoDb {
    async fn partiql_table(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<(i64, std::sync::Arc<TableMeta>)> {
        self.find_table(ctx, name)
            .await?
            .ok_or_else(DynamoError::no_table)
    }

    pub(crate) async fn execute_statement(
        &self,
        ctx: &RequestContext,
        input: ExecuteStatementInput,
    ) -> Result<Value> {
        let params = input
            .parameters
            .iter()
            .flatten()
            .map(AttrValue::from_wire)
            .collect::<Result<Vec<_>>>()?;
        let stmt = parser::parse(&input.statement, params)?;
        let rvoccf = input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
        match stmt {
            Statement::Select {
                table,
                index,
                projection,
                condition,
            } => {
                if let Some(index) = index {
                    let (id, meta) = self.partiql_table(ctx, &table).await?;
                    return self
                        .partiql_select_index(
                            id,
                            &meta,
                            &index,
                            projection,
                            condition,
                            input.limit,
                            input.next_token,
                        )
                        .await;
                }
                self.partiql_select(
                    ctx,
                    &table,
                    projection,
                    condition,
                    input.limit,
                    input.next_token,
                )
                .await
            }
            Statement::Insert { table, item } => {
                let (id, meta) = self.partiql_table(ctx, &table).await?;
                let AttrValue::M(item) = item else {
                    return Err(DynamoError::validation(
                        "Statement wasn't well formed, can't be processed: VALUE must be a map",
                    ));
                };
                let (pk, sk) = keys::of_item(&meta.key_def(), &item)?;
                let size = item_size(&item);
                if size > MAX_ITEM_SIZE {
                    return Err(DynamoError::validation(
                        "Item size has exceeded the maximum allowed size",
                    ));
                }
                let write = crate::indexes::put_write(&meta, &item, size)?;
                self.store
                    .write_items(
                        &[ItemKey {
                            table_id: id,
                            pk,
                            sk,
                        }],
                        move |current| {
                            if current.into_iter().next().flatten().is_some() {
                                return Err(DynamoError::DuplicateItem);
                            }
                            let rec = streams::record(&meta, None, Some(&item), Actor::User);
                            Ok((vec![streams::with_record(write, rec)], ()))
                        },
                    )
                    .await??;
                Ok(json!({ "Items": [] }))
            }
            Statement::Update {
                table,
                update,
                condition,
            } => {
                let (id, meta) = self.partiql_table(ctx, &table).await?;
                let def = meta.key_def();
                let key = key_of(&def, &condition)?;
                for p in update.paths() {
                    if let Some(PathElem::Attr(first)) = p.first() {
                        if def.names().any(|k| k == first) {
                            return Err(DynamoError::invalid(format!(
                                "Cannot update attribute {first}. This attribute is part of the key"
                            )));
                        }
                    }
                }
                let (pk, sk) = keys::of_key(&def, &key)?;
                self.store
                    .write_items(
                        &[ItemKey {
                            table_id: id,
                            pk,
                            sk,
                        }],
                        move |current| {
                            let Some(body) = current.into_iter().next().flatten() else {
                                return Err(DynamoError::ConditionalCheckFailed { item: None });
                            };
                            let old = item_from_body(&body)?;
                            if !eval::eval_condition(&condition, &old) {
                                return Err(DynamoError::ConditionalCheckFailed {
                                    item: rvoccf.then(|| item_to_wire(&old)),
                                });
                            }
                            let mut new = old.clone();
                            eval::apply_update(&mut new, &update)?;
                            let size = item_size(&new);
                            if size > MAX_ITEM_SIZE {
                                return Err(DynamoError::validation(
                                    "Item size has exceeded the maximum allowed size",
                                ));
                            }
                            let write = crate::indexes::put_write(&meta, &new, size)?;
                            let rec = streams::record(&meta, Some(&old), Some(&new), Actor::User);
                            Ok((vec![streams::with_record(write, rec)], ()))
                        },
                    )
                    .await??;
                Ok(json!({ "Items": [] }))
            }
            Statement::Delete { table, condition } => {
                let (id, meta) = self.partiql_table(ctx, &table).await?;
                let def = meta.key_def();
                let key = key_of(&def, &condition)?;
                let (pk, sk) = keys::of_key(&def, &key)?;
                let delete = crate::indexes::delete_write(&meta);
                self.store
                    .write_items(
                        &[ItemKey {
                            table_id: id,
                            pk,
                            sk,
                        }],
                        move |current| {
                            let Some(body) = current.into_iter().next().flatten() else {
                                return Ok((vec![ItemWrite::Keep], ()));
                            };
                            let old = item_from_body(&body)?;
                            if !eval::eval_condition(&condition, &old) {
                                return Err(DynamoError::ConditionalCheckFailed {
                                    item: rvoccf.then(|| item_to_wire(&old)),
                                });
                            }
                            let rec = streams::record(&meta, Some(&old), None, Actor::User);
                            Ok((vec![streams::with_record(delete, rec)], ()))
                        },
                    )
                    .await??;
                Ok(json!({ "Items": [] }))
            }
        }
    }

    /// SELECT: a partition read when the WHERE clause fixes the hash key, a scan otherwise;
    /// pages of at most 1 MB (or Limit items) read, continued with NextToken.
    async fn partiql_select(
        &self,
        ctx: &RequestContext,
        table: &str,
        projection: Option<Vec<crate::expr::ast::Path>>,
        condition: Option<Condition>,
        limit: Option<i64>,
        next_token: Option<String>,
    ) -> Result<Value> {
        let (id, meta) = self.partiql_table(ctx, table).await?;
        let def = meta.key_def();
        let start: Option<(Vec<u8>, Vec<u8>)> = match &next_token {
            Some(t) => {
                let key: Map<String, Value> = B64
                    .decode(t)
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .ok_or_else(|| DynamoError::validation("Given NextToken is not valid"))?;
                Some(keys::of_key(&def, &item_from_wire(&key)?)?)
            }
            None => None,
        };
        let hash = condition
            .as_ref()
            .and_then(|c| equality(c, &def.hash.0))
            .filter(|v| keys::matches_type(v, def.hash.1))
            .cloned();
        let limit = limit.map(|l| l.max(1) as usize).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let (mut scanned, mut bytes) = (0usize, 0i64);
        let mut last: Option<Item> = None;
        let mut after = start;
        let mut more = false;
        'pages: loop {
            let rows = match &hash {
                Some(h) => {
                    let pk = keys::encode(h);
                    if after.as_ref().is_some_and(|(p, _)| *p != pk) {
                        return Err(DynamoError::validation("Given NextToken is not valid"));
                    }
                    let range = SkRange {
                        lower: Bound::Unbounded,
                        upper: Bound::Unbounded,
                    };
                    self.store
                        .query(
                            id,
                            &pk,
                            &range,
                            true,
                            after.as_ref().map(|(_, s)| s.as_slice()),
                            256,
                        )
                        .await?
                }
                None => {
                    self.store
                        .scan(
                            id,
                            after.as_ref().map(|(p, s)| (p.as_slice(), s.as_slice())),
                            256,
                        )
                        .await?
                }
            };
            let exhausted = rows.len() < 256;
            for (i, row) in rows.iter().enumerate() {
                let item = item_from_body(&row.body)?;
                scanned += 1;
                bytes += row.size;
                after = Some((row.pk.clone(), row.sk.clone()));
                if condition
                    .as_ref()
                    .is_none_or(|c| eval::eval_condition(c, &item))
                {
                    let out = match &projection {
                        Some(p) => eval::project(&item, p),
                        None => item.clone(),
                    };
                    items.push(Value::Object(item_to_wire(&out)));
                }
                last = Some(item);
                if scanned >= limit || bytes >= MAX_PAGE_BYTES {
                    more = i + 1 < rows.len() || !exhausted;
                    break 'pages;
                }
            }
            if exhausted {
                break;
            }
        }
        let mut out = json!({ "Items": items });
        if more {
            if let Some(last) = last {
                let key: Item = def
                    .names()
                    .filter_map(|n| last.get(n).map(|v| (n.to_string(), v.clone())))
                    .collect();
                out["NextToken"] = json!(B64.encode(Value::Object(item_to_wire(&key)).to_string()));
            }
        }
        Ok(out)
    }

    /// ExecuteTransaction: all SELECTs (read together) or all writes (committed together,
    /// with TransactWriteItems' cancellation reasons and token idempotency).
    pub(crate) async fn execute_transaction(
        &self,
        ctx: &RequestContext,
        input: ExecuteTransactionInput,
    ) -> Result<Value> {
        use crate::transact::{Action, Planned, CONDITION_FAILED};
        let mut statements = Vec::with_capacity(input.transact_statements.len());
        for st in &input.transact_statements {
            let params = st
                .parameters
                .iter()
                .flatten()
                .map(AttrValue::from_wire)
                .collect::<Result<Vec<_>>>()?;
            statements.push(parser::parse(&st.statement, params)?);
        }
        let reads = statements
            .iter()
            .filter(|s| matches!(s, Statement::Select { .. }))
            .count();
        if reads > 0 && reads < statements.len() {
            return Err(DynamoError::validation(
                "Transaction is not allowed with mix of read and write statements",
            ));
        }
        if reads > 0 {
            // Every key first, then one read of all of them: a transaction's reads share one
            // snapshot, so none sees a write that another misses.
            let mut wanted = Vec::with_capacity(reads);
            let mut keys_wanted = Vec::with_capacity(reads);
            for st in statements {
                let Statement::Select {
                    table,
                    projection,
                    condition,
                    ..
                } = st
                else {
                    continue;
                };
                let (id, meta) = self.partiql_table(ctx, &table).await?;
                let def = meta.key_def();
                let cond = condition.ok_or_else(|| {
                    DynamoError::validation(
                        "Where clause does not contain a mandatory equality on all key attributes",
                    )
                })?;
                let key = key_of(&def, &cond)?;
                let (pk, sk) = keys::of_key(&def, &key)?;
                keys_wanted.push(ItemKey {
                    table_id: id,
                    pk,
                    sk,
                });
                wanted.push((cond, projection));
            }
            let bodies = self.store.get_items(keys_wanted).await?;
            let mut responses = Vec::with_capacity(reads);
            for ((cond, projection), body) in wanted.into_iter().zip(bodies) {
                let item = match body {
                    Some(body) => {
                        Some(item_from_body(&body)?).filter(|i| eval::eval_condition(&cond, i))
                    }
                    None => None,
                };
                responses.push(match item {
                    Some(i) => {
                        let i = match &projection {
                            Some(p) => eval::project(&i, p),
                            None => i,
                        };
                        json!({ "Item": item_to_wire(&i) })
                    }
                    None => json!({}),
                });
            }
            return Ok(json!({ "Responses": responses }));
        }
        let mut plans = Vec::with_capacity(statements.len());
        for st in statements {
            let plan = match st {
                Statement::Insert { table, item } => {
                    let (id, meta) = self.partiql_table(ctx, &table).await?;
                    let AttrValue::M(item) = item else {
                        return Err(DynamoError::validation(
                            "Statement wasn't well formed, can't be processed: VALUE must be a map",
                        ));
                    };
                    let def = meta.key_def();
                    let (pk, sk) = keys::of_item(&def, &item)?;
                    Planned {
                        condition: Some(Condition::AttributeNotExists(vec![PathElem::Attr(
                            def.hash.0.clone(),
                        )])),
                        meta,
                        key: ItemKey {
                            table_id: id,
                            pk,
                            sk,
                        },
                        action: Action::Put(item),
                        return_old: false,
                        fail: ("DuplicateItem", "Duplicate primary key exists in table"),
                    }
                }
                Statement::Update {
                    table,
                    update,
                    condition,
                } => {
                    let (id, meta) = self.partiql_table(ctx, &table).await?;
                    let def = meta.key_def();
                    let key = key_of(&def, &condition)?;
                    let (pk, sk) = keys::of_key(&def, &key)?;
                    Planned {
                        condition: Some(Condition::And(
                            Box::new(Condition::AttributeExists(vec![PathElem::Attr(
                                def.hash.0.clone(),
                            )])),
                            Box::new(condition),
                        )),
                        meta,
                        key: ItemKey {
                            table_id: id,
                            pk,
                            sk,
                        },
                        action: Action::Update(Some(update), key),
                        return_old: false,
                        fail: CONDITION_FAILED,
                    }
                }
                Statement::Delete { table, condition } => {
                    let (id, meta) = self.partiql_table(ctx, &table).await?;
                    let def = meta.key_def();
                    let key = key_of(&def, &condition)?;
                    let (pk, sk) = keys::of_key(&def, &key)?;
                    Planned {
                        condition: Some(condition),
                        meta,
                        key: ItemKey {
                            table_id: id,
                            pk,
                            sk,
                        },
                        action: Action::Delete,
                        return_old: false,
                        fail: CONDITION_FAILED,
                    }
                }
                Statement::Select { .. } => continue,
            };
            plans.push(plan);
        }
        let fingerprint = input
            .client_request_token
            .as_ref()
            .map(|_| crate::transact::fingerprint_of(&input.transact_statements));
        self.commit_plans(ctx, plans, input.client_request_token, fingerprint)
            .await?;
        Ok(json!({}))
    }

    pub(crate) async fn batch_execute_statement(
        &self,
        ctx: &RequestContext,
        input: BatchExecuteStatementInput,
    ) -> Result<Value> {
        if input.statements.len() > MAX_BATCH {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length less than or equal to {MAX_BATCH}"
            )));
        }
        let mut responses = Vec::with_capacity(input.statements.len());
        for st in input.statements {
            let table = table_named(&st.statement);
            let is_select = st
                .statement
                .trim_start()
                .to_ascii_uppercase()
                .starts_with("SELECT");
            let result = self.execute_statement(ctx, st).await;
            let mut r = json!({});
            if let Some(t) = table {
                r["TableName"] = json!(t);
            }
            match result {
                Ok(v) => {
                    if is_select {
                        if let Some(item) = v["Items"].as_array().and_then(|a| a.first()) {
                            r["Item"] = item.clone();
                        }
                    }
                }
                Err(e) => {
                    let code = match &e {
                        DynamoError::ConditionalCheckFailed { .. } => "ConditionalCheckFailed",
                        DynamoError::DuplicateItem => "DuplicateItem",
                        DynamoError::ResourceNotFound(_) => "ResourceNotFound",
                        DynamoError::Storage(_) => "InternalServerError",
                        _ => "ValidationError",
                    };
                    let mut err = json!({ "Code": code, "Message": e.to_string() });
                    if let DynamoError::ConditionalCheckFailed { item: Some(item) } = &e {
                        err["Item"] = Value::Object(item.clone());
                    }
                    r["Error"] = err;
                }
            }
            responses.push(r);
        }
        Ok(json!({ "Responses": responses }))
    }
}

/// The table a statement names, for BatchExecuteStatement's per-statement TableName.
fn table_named(statement: &str) -> Option<String> {
    let words: Vec<&str> = statement.split_whitespace().collect();
    let pos = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("FROM") || w.eq_ignore_ascii_case("INTO"))
        .map(|i| i + 1)
        .or_else(|| {
            words
                .first()
                .filter(|w| w.eq_ignore_ascii_case("UPDATE"))
                .map(|_| 1)
        })?;
    let name = words.get(pos)?.split('.').next()?;
    Some(name.trim_matches('"').to_string())
}
