//! Lambda's event plumbing: event source mappings, asynchronous-invocation configurations and
//! the durable queue of accepted asynchronous invocations.

use crate::{Db, Result};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub struct MappingRecord {
    pub uuid: String,
    pub account_id: String,
    pub region: String,
    pub function_name: String,
    pub function_arn: String,
    pub event_source_arn: String,
    /// The EventSourceMappingConfiguration document (JSON).
    pub config: String,
    pub enabled: bool,
    pub created_at: f64,
}

/// Which mappings a listing wants (all `None`: every mapping in the account and region).
#[derive(Debug, Clone, Default)]
pub struct MappingFilter<'a> {
    pub function_name: Option<&'a str>,
    /// A qualified ARN matches only mappings that invoke exactly it.
    pub function_arn: Option<&'a str>,
    pub event_source_arn: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AsyncEvent {
    pub id: String,
    pub account_id: String,
    pub region: String,
    pub function_name: String,
    pub qualifier: Option<String>,
    pub payload: Vec<u8>,
    pub attempts: i64,
    pub received_ms: i64,
}

#[derive(Clone)]
pub struct LambdaEsmStore {
    db: Db,
}

fn mapping(row: &sqlx::sqlite::SqliteRow) -> MappingRecord {
    MappingRecord {
        uuid: row.get("uuid"),
        account_id: row.get("account_id"),
        region: row.get("region"),
        function_name: row.get("function_name"),
        function_arn: row.get("function_arn"),
        event_source_arn: row.get("event_source_arn"),
        config: row.get("config"),
        enabled: row.get::<i64, _>("enabled") != 0,
        created_at: row.get("created_at"),
    }
}

fn event(row: &sqlx::sqlite::SqliteRow) -> AsyncEvent {
    AsyncEvent {
        id: row.get("id"),
        account_id: row.get("account_id"),
        region: row.get("region"),
        function_name: row.get("function_name"),
        qualifier: row.get("qualifier"),
        payload: row.get("payload"),
        attempts: row.get("attempts"),
        received_ms: row.get("received_ms"),
    }
}

impl LambdaEsmStore {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn create_mapping(&self, m: &MappingRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO lambda_event_source_mappings (uuid, account_id, region, function_name, \
             function_arn, event_source_arn, config, enabled, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&m.uuid)
        .bind(&m.account_id)
        .bind(&m.region)
        .bind(&m.function_name)
        .bind(&m.function_arn)
        .bind(&m.event_source_arn)
        .bind(&m.config)
        .bind(i64::from(m.enabled))
        .bind(m.created_at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// A mapping by UUID in an account and region.
    pub async fn get_mapping(
        &self,
        account: &str,
        region: &str,
        uuid: &str,
    ) -> Result<Option<MappingRecord>> {
        let row = sqlx::query(
            "SELECT * FROM lambda_event_source_mappings \
             WHERE uuid = ? AND account_id = ? AND region = ?",
        )
        .bind(uuid)
        .bind(account)
        .bind(region)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.as_ref().map(mapping))
    }

    /// Up to `limit` mappings after UUID `after`, in UUID order.
    pub async fn list_mappings(
        &self,
        account: &str,
        region: &str,
        filter: &MappingFilter<'_>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<MappingRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM lambda_event_source_mappings WHERE account_id = ? AND region = ? \
             AND uuid > ? AND (? IS NULL OR function_name = ?) AND (? IS NULL OR function_arn = ?) \
             AND (? IS NULL OR event_source_arn = ?) ORDER BY uuid LIMIT ?",
        )
        .bind(account)
        .bind(region)
        .bind(after.unwrap_or(""))
        .bind(filter.function_name)
        .bind(filter.function_name)
        .bind(filter.function_arn)
        .bind(filter.function_arn)
        .bind(filter.event_source_arn)
        .bind(filter.event_source_arn)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(mapping).collect())
    }

    /// Every enabled mapping of every account (their pollers resume at start).
    pub async fn enabled_mappings(&self) -> Result<Vec<MappingRecord>> {
        let rows = sqlx::query("SELECT * FROM lambda_event_source_mappings WHERE enabled = 1")
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.iter().map(mapping).collect())
    }

    /// Replace a mapping's document and enabled flag; `false` if it is gone.
    pub async fn update_mapping(
        &self,
        uuid: &str,
        function_name: &str,
        function_arn: &str,
        config: &str,
        enabled: bool,
    ) -> Result<bool> {
        let res = sqlx::query(
            "UPDATE lambda_event_source_mappings SET function_name = ?, function_arn = ?, \
             config = ?, enabled = ? WHERE uuid = ?",
        )
        .bind(function_name)
        .bind(function_arn)
        .bind(config)
        .bind(i64::from(enabled))
        .bind(uuid)
        .execute(self.db.pool())
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// A mapping's tags (a JSON object), or `None` if there is no such mapping.
    pub async fn mapping_tags(
        &self,
        account: &str,
        region: &str,
        uuid: &str,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT tags FROM lambda_event_source_mappings \
             WHERE uuid = ? AND account_id = ? AND region = ?",
        )
        .bind(uuid)
        .bind(account)
        .bind(region)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(|r| r.get("tags")))
    }

    /// Replace a mapping's tags; `false` if it is gone.
    pub async fn set_mapping_tags(&self, uuid: &str, tags: &str) -> Result<bool> {
        let res = sqlx::query("UPDATE lambda_event_source_mappings SET tags = ? WHERE uuid = ?")
            .bind(tags)
            .bind(uuid)
            .execute(self.db.pool())
            .await?;
        Ok(res.rows_affected() > 0)
    }

    pub async fn delete_mapping(&self, uuid: &str) -> Result<bool> {
        let res = sqlx::query("DELETE FROM lambda_event_source_mappings WHERE uuid = ?")
            .bind(uuid)
            .execute(self.db.pool())
            .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Insert or replace a function's event-invoke configuration for a qualifier.
    pub async fn put_invoke_config(
        &self,
        account: &str,
        region: &str,
        function: &str,
        qualifier: &str,
        config: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO lambda_event_invoke_configs (account_id, region, function_name, \
             qualifier, config) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, region, \
             function_name, qualifier) DO UPDATE SET config = excluded.config",
        )
        .bind(account)
        .bind(region)
        .bind(function)
        .bind(qualifier)
        .bind(config)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    pub async fn get_invoke_config(
        &self,
        account: &str,
        region: &str,
        function: &str,
        qualifier: &str,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT config FROM lambda_event_invoke_configs WHERE account_id = ? AND region = ? \
             AND function_name = ? AND qualifier = ?",
        )
        .bind(account)
        .bind(region)
        .bind(function)
        .bind(qualifier)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(|r| r.get("config")))
    }

    /// A function's configurations as (qualifier, document), in qualifier order after `after`.
    pub async fn list_invoke_configs(
        &self,
        account: &str,
        region: &str,
        function: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT qualifier, config FROM lambda_event_invoke_configs WHERE account_id = ? \
             AND region = ? AND function_name = ? AND qualifier > ? ORDER BY qualifier LIMIT ?",
        )
        .bind(account)
        .bind(region)
        .bind(function)
        .bind(after.unwrap_or(""))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("qualifier"), r.get("config")))
            .collect())
    }

    pub async fn delete_invoke_config(
        &self,
        account: &str,
        region: &str,
        function: &str,
        qualifier: &str,
    ) -> Result<bool> {
        let res = sqlx::query(
            "DELETE FROM lambda_event_invoke_configs WHERE account_id = ? AND region = ? \
             AND function_name = ? AND qualifier = ?",
        )
        .bind(account)
        .bind(region)
        .bind(function)
        .bind(qualifier)
        .execute(self.db.pool())
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Accept an asynchronous invocation (durably, before Invoke answers 202).
    pub async fn enqueue_event(&self, e: &AsyncEvent) -> Result<()> {
        sqlx::query(
            "INSERT INTO lambda_async_events (id, account_id, region, function_name, qualifier, \
             payload, attempts, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&e.id)
        .bind(&e.account_id)
        .bind(&e.region)
        .bind(&e.function_name)
        .bind(&e.qualifier)
        .bind(&e.payload)
        .bind(e.attempts)
        .bind(e.received_ms)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Every unfinished asynchronous invocation (resumed at start).
    pub async fn pending_events(&self) -> Result<Vec<AsyncEvent>> {
        let rows = sqlx::query("SELECT * FROM lambda_async_events ORDER BY received_ms")
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.iter().map(event).collect())
    }

    /// Record an attempt; `false` if the event is gone (a reset).
    pub async fn record_attempt(&self, id: &str, attempts: i64) -> Result<bool> {
        let res = sqlx::query("UPDATE lambda_async_events SET attempts = ? WHERE id = ?")
            .bind(attempts)
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(res.rows_affected() > 0)
    }

    pub async fn finish_event(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM lambda_async_events WHERE id = ?")
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}
