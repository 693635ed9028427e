//! PartiQL `SELECT … FROM "table"."index"`: a read of the index's entries, as projected.
//! A partition read when the WHERE clause fixes the index's hash key, a scan of the index
//! otherwise; pages of at most 1 MB (or Limit entries) read, continued with NextToken.

use super::{equality, MAX_PAGE_BYTES};
use crate::errors::{DynamoError, Result};
use crate::expr::ast::{Condition, Path};
use crate::expr::eval;
use crate::indexes::IndexDef;
use crate::keys;
use crate::table::TableMeta;
use crate::types::{item_from_body, item_from_wire, item_to_wire, Item};
use crate::DynamoDb;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use cloudemu_storage::dynamodb::{IndexCursor, SkRange};
use serde_json::{json, Map, Value};
use std::ops::Bound;

/// Index entries read per round trip to the store.
const BATCH: i64 = 256;

impl DynamoDb {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn partiql_select_index(
        &self,
        id: i64,
        meta: &TableMeta,
        index: &str,
        projection: Option<Vec<Path>>,
        condition: Option<Condition>,
        limit: Option<i64>,
        next_token: Option<String>,
    ) -> Result<Value> {
        let idx: IndexDef = meta.index(index).ok_or_else(|| {
            DynamoError::validation(format!(
                "The table does not have the specified index: {index}"
            ))
        })?;
        let def = meta.key_def();
        let bad_token = || DynamoError::validation("Given NextToken is not valid");
        // The token carries the last entry's table and index keys.
        let mut after: Option<(Vec<u8>, IndexCursor)> = match &next_token {
            Some(t) => {
                let key: Map<String, Value> = B64
                    .decode(t)
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .ok_or_else(bad_token)?;
                let item = item_from_wire(&key)?;
                let (pk, sk) = keys::of_item(&def, &item).map_err(|_| bad_token())?;
                let (ipk, isk) = keys::of_item(&idx.key, &item).map_err(|_| bad_token())?;
                Some((ipk, (isk, pk, sk)))
            }
            None => None,
        };
        let hash = condition
            .as_ref()
            .and_then(|c| equality(c, &idx.key.hash.0))
            .filter(|v| keys::matches_type(v, idx.key.hash.1))
            .map(keys::encode);
        if let (Some(h), Some((ipk, _))) = (&hash, &after) {
            if h != ipk {
                return Err(bad_token());
            }
        }
        let limit = limit.map(|l| l.max(1) as usize).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let (mut scanned, mut bytes) = (0usize, 0i64);
        let mut last: Option<Item> = None;
        let mut more = false;
        'pages: loop {
            let rows = match &hash {
                Some(ipk) => {
                    let all = SkRange {
                        lower: Bound::Unbounded,
                        upper: Bound::Unbounded,
                    };
                    let cursor = after.as_ref().map(|(_, c)| c);
                    self.store
                        .query_index(id, &idx.name, ipk, &all, true, cursor, BATCH)
                        .await?
                }
                None => {
                    let from = after.as_ref().map(|(ipk, c)| (ipk.as_slice(), c));
                    self.store.scan_index(id, &idx.name, from, BATCH).await?
                }
            };
            let exhausted = (rows.len() as i64) < BATCH;
            for (i, row) in rows.iter().enumerate() {
                let item = item_from_body(&row.body)?;
                scanned += 1;
                bytes += row.size;
                after = Some((
                    row.ipk.clone(),
                    (row.isk.clone(), row.pk.clone(), row.sk.clone()),
                ));
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
        if let (true, Some(last)) = (more, last) {
            let key: Item = def
                .names()
                .chain(idx.key.names())
                .filter_map(|n| last.get(n).map(|v| (n.to_string(), v.clone())))
                .collect();
            out["NextToken"] = json!(B64.encode(Value::Object(item_to_wire(&key)).to_string()));
        }
        Ok(out)
    }
}
