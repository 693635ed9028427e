//! Background upkeep. Time to live: items whose TTL attribute (a Number of epoch seconds) lies
//! in the past are deleted by a background sweeper, as AWS does (items more than five years
//! past are left alone, also as AWS does). Stream records older than 24 hours are trimmed,
//! and ClientRequestTokens older than their 10-minute window forgotten.

use crate::errors::Result;
use crate::streams::{self, Actor};
use crate::table::TableMeta;
use crate::types::{item_from_body, AttrValue, Item};
use cloudemu_storage::dynamodb::{DynamoDbStore, ItemWrite};
use std::collections::HashMap;
use std::time::Duration;

/// How often the sweeper looks for expired items.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// AWS ignores expiry times more than five years in the past.
const MAX_AGE_SECS: i64 = 5 * 365 * 24 * 3600;
const BATCH: i64 = 500;
/// Stream records are kept 24 hours, as AWS keeps them.
const STREAM_RETENTION_SECS: i64 = 24 * 3600;
/// ClientRequestTokens are kept for AWS's 10-minute idempotency window.
const TOKEN_WINDOW_SECS: i64 = 600;

/// The expiry an item's TTL attribute gives it, if it is a Number.
pub fn expiry(item: &Item, attribute: &str) -> Option<i64> {
    match item.get(attribute)? {
        AttrValue::N(n) => {
            let text = n.to_string();
            let whole = text.split('.').next().unwrap_or_default();
            Some(whole.parse::<i64>().unwrap_or(if whole.starts_with('-') {
                i64::MIN
            } else {
                i64::MAX
            }))
        }
        _ => None,
    }
}

/// Run until the database closes: TTL sweeps, and the purge of rows a write in flight left for
/// a table deleted under it.
pub async fn sweep_forever(store: DynamoDbStore) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        if store.is_closed() {
            return;
        }
        if let Err(e) = store.purge_deleted(Duration::from_secs(5)).await {
            if store.is_closed() {
                return;
            }
            tracing::warn!(error = %e, "purging deleted tables failed");
        }
        let now = chrono::Utc::now().timestamp();
        ticks += 1;
        // Once a minute is plenty for a 24-hour window.
        if ticks % 60 == 1 {
            let cutoff = now - STREAM_RETENTION_SECS;
            if let Err(e) = store.trim_stream_records(cutoff, 5000).await {
                if store.is_closed() {
                    return;
                }
                tracing::warn!(error = %e, "trimming stream records failed");
            }
            if let Err(e) = store.forget_request_tokens(now - TOKEN_WINDOW_SECS).await {
                if store.is_closed() {
                    return;
                }
                tracing::warn!(error = %e, "forgetting request tokens failed");
            }
        }
        match sweep_once(&store, now).await {
            Ok(n) if n > 0 => tracing::debug!(deleted = n, "TTL sweep"),
            Ok(_) => {}
            Err(e) => {
                if store.is_closed() {
                    return;
                }
                tracing::warn!(error = %e, "TTL sweep failed");
            }
        }
    }
}

/// Delete what has expired by `now`; returns how many items went.
pub async fn sweep_once(store: &DynamoDbStore, now: i64) -> Result<usize> {
    let floor = now - MAX_AGE_SECS;
    let keys = store.expired_items(now, floor, BATCH).await?;
    let mut tables: HashMap<i64, Option<TableMeta>> = HashMap::new();
    let mut deleted = 0;
    for key in keys {
        if let std::collections::hash_map::Entry::Vacant(slot) = tables.entry(key.table_id) {
            let meta = match store.table_by_id(key.table_id).await? {
                Some(row) => Some(TableMeta::from_json(&row.meta)?),
                None => None,
            };
            slot.insert(meta);
        }
        let Some(Some(meta)) = tables.get(&key.table_id) else {
            continue;
        };
        let Some(ttl) = meta.ttl.clone() else {
            continue;
        };
        let delete = crate::indexes::delete_write(meta);
        let stream_meta = meta.clone();
        // Re-checked in the writer: the item may have been rewritten since it was found.
        let gone = store
            .write_items(&[key], move |current| {
                let old = match current.into_iter().next().flatten() {
                    Some(body) => Some(item_from_body(&body)?),
                    None => None,
                };
                let still_expired = old.as_ref().is_some_and(|o| {
                    expiry(o, &ttl.attribute_name).is_some_and(|e| e <= now && e >= floor)
                });
                let write = if still_expired {
                    let rec = streams::record(&stream_meta, old.as_ref(), None, Actor::Ttl);
                    streams::with_record(delete, rec)
                } else {
                    ItemWrite::Keep
                };
                Ok::<_, crate::errors::DynamoError>((vec![write], still_expired))
            })
            .await??;
        deleted += usize::from(gone);
    }
    Ok(deleted)
}
