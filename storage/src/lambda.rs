//! Lambda functions: configuration documents in SQLite, code zips in the object store.

use crate::objects::{ObjectBody, StoredObject};
use crate::{Db, ObjectStore, Result};
use bytes::Bytes;
use sqlx::Row;
use tokio::io::AsyncReadExt;

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRecord {
    pub account_id: String,
    pub region: String,
    pub function_name: String,
    /// The FunctionConfiguration document as the service renders it (JSON).
    pub config: String,
    pub revision_id: String,
    pub code_object_id: String,
    /// JSON object of tag key -> value.
    pub tags: String,
    /// Epoch seconds.
    pub created_at: f64,
    pub reserved_concurrency: Option<i64>,
}

/// A new configuration for a function, applied only over the revision the caller read.
#[derive(Debug, Clone)]
pub struct FunctionWrite<'a> {
    pub expected_revision: &'a str,
    pub new_revision: &'a str,
    pub config: &'a str,
    /// A new code object, or `None` to keep the current code.
    pub code_object_id: Option<&'a str>,
}

/// What a conditional update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionUpdate {
    /// Updated; the code object the row referenced before (to delete if replaced).
    Done {
        previous_code: String,
    },
    NotFound,
    /// The caller's expected revision is not the current one.
    RevisionMismatch,
}

#[derive(Clone)]
pub struct LambdaStore {
    db: Db,
    objects: ObjectStore,
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn from_row(row: &sqlx::sqlite::SqliteRow) -> FunctionRecord {
    FunctionRecord {
        account_id: row.get("account_id"),
        region: row.get("region"),
        function_name: row.get("function_name"),
        config: row.get("config"),
        revision_id: row.get("revision_id"),
        code_object_id: row.get("code_object_id"),
        tags: row.get("tags"),
        created_at: row.get("created_at"),
        reserved_concurrency: row.get("reserved_concurrency"),
    }
}

impl LambdaStore {
    pub(crate) fn new(db: Db, objects: ObjectStore) -> Self {
        Self { db, objects }
    }

    /// Store a code zip (durably, before any row refers to it).
    pub async fn put_code(&self, zip: Bytes) -> Result<StoredObject> {
        self.objects.put_bytes(zip).await
    }

    /// A stored code zip, whole (zips are at most 50 MB, as Lambda's direct upload limit).
    pub async fn read_code(&self, id: &str) -> Result<Option<Bytes>> {
        match self.objects.open(id).await? {
            None => Ok(None),
            Some(ObjectBody::Memory(b)) => Ok(Some(b)),
            Some(ObjectBody::File(mut f)) => {
                let mut out = Vec::new();
                f.read_to_end(&mut out).await?;
                Ok(Some(Bytes::from(out)))
            }
        }
    }

    /// Drop a code zip no row refers to any more.
    pub async fn delete_code(&self, id: &str) -> Result<()> {
        self.objects.delete(id).await?;
        Ok(())
    }

    /// Insert a function; `false` if one of that name exists in the account and region.
    pub async fn create_function(&self, r: &FunctionRecord) -> Result<bool> {
        let res = sqlx::query(
            "INSERT INTO lambda_functions (account_id, region, function_name, config, \
             revision_id, code_object_id, tags, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&r.account_id)
        .bind(&r.region)
        .bind(&r.function_name)
        .bind(&r.config)
        .bind(&r.revision_id)
        .bind(&r.code_object_id)
        .bind(&r.tags)
        .bind(r.created_at)
        .execute(self.db.pool())
        .await;
        match res {
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
            Ok(_) => Ok(true),
        }
    }

    pub async fn get_function(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<FunctionRecord>> {
        let row = sqlx::query(
            "SELECT * FROM lambda_functions WHERE account_id = ? AND region = ? AND function_name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// Up to `limit` functions whose names sort after `after`, in name order.
    pub async fn list_functions(
        &self,
        account: &str,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FunctionRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM lambda_functions WHERE account_id = ? AND region = ? \
             AND function_name > ? ORDER BY function_name LIMIT ?",
        )
        .bind(account)
        .bind(region)
        .bind(after.unwrap_or(""))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    /// Replace a function's configuration (and code object, when given) if its revision is
    /// still the expected one: concurrent updates cannot overwrite each other unseen.
    pub async fn update_function(
        &self,
        account: &str,
        region: &str,
        name: &str,
        w: &FunctionWrite<'_>,
    ) -> Result<FunctionUpdate> {
        let mut tx = self.db.begin_immediate().await?;
        let row = sqlx::query(
            "SELECT revision_id, code_object_id FROM lambda_functions \
             WHERE account_id = ? AND region = ? AND function_name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(FunctionUpdate::NotFound);
        };
        if row.get::<String, _>("revision_id") != w.expected_revision {
            return Ok(FunctionUpdate::RevisionMismatch);
        }
        let previous_code: String = row.get("code_object_id");
        sqlx::query(
            "UPDATE lambda_functions SET config = ?, revision_id = ?, \
             code_object_id = COALESCE(?, code_object_id) \
             WHERE account_id = ? AND region = ? AND function_name = ?",
        )
        .bind(w.config)
        .bind(w.new_revision)
        .bind(w.code_object_id)
        .bind(account)
        .bind(region)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(FunctionUpdate::Done { previous_code })
    }

    /// Delete a function with its versions; the code objects they used (for the caller to
    /// delete), `None` if absent.
    pub async fn delete_function(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<Vec<String>>> {
        let mut tx = self.db.begin_immediate().await?;
        let mut codes: Vec<String> = sqlx::query_scalar(
            "SELECT code_object_id FROM lambda_versions WHERE account_id = ? AND region = ? \
             AND function_name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_all(&mut *tx)
        .await?;
        let row = sqlx::query(
            "DELETE FROM lambda_functions WHERE account_id = ? AND region = ? \
             AND function_name = ? RETURNING code_object_id",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.map(|r| {
            codes.push(r.get("code_object_id"));
            codes
        }))
    }

    /// Add `set` and remove `remove` from a function's tags atomically; `false` if no such
    /// function.
    pub async fn modify_tags(
        &self,
        account: &str,
        region: &str,
        name: &str,
        set: &[(String, String)],
        remove: &[String],
    ) -> Result<bool> {
        let mut tx = self.db.begin_immediate().await?;
        let current: Option<String> = sqlx::query_scalar(
            "SELECT tags FROM lambda_functions WHERE account_id = ? AND region = ? AND function_name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(current) = current else {
            return Ok(false);
        };
        let mut tags: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&current).unwrap_or_default();
        for (k, v) in set {
            tags.insert(k.clone(), serde_json::Value::String(v.clone()));
        }
        for k in remove {
            tags.remove(k);
        }
        sqlx::query(
            "UPDATE lambda_functions SET tags = ? WHERE account_id = ? AND region = ? AND function_name = ?",
        )
        .bind(serde_json::Value::Object(tags).to_string())
        .bind(account)
        .bind(region)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Number of functions and the total size of their code in an account and region.
    pub async fn usage(&self, account: &str, region: &str) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(json_extract(config, '$.CodeSize')), 0) AS size \
             FROM lambda_functions WHERE account_id = ? AND region = ?",
        )
        .bind(account)
        .bind(region)
        .fetch_one(self.db.pool())
        .await?;
        Ok((row.get("n"), row.get("size")))
    }

    /// Add a statement to the policy of a function (`qualifier` "") or of one of its versions
    /// or aliases. `Ok(None)` if the function does not exist, `Ok(Some(false))` if the
    /// statement id is taken in that policy.
    pub async fn add_permission(
        &self,
        account: &str,
        region: &str,
        name: &str,
        qualifier: &str,
        sid: &str,
        statement: &str,
    ) -> Result<Option<bool>> {
        let res = sqlx::query(
            "INSERT INTO lambda_permissions (account_id, region, function_name, qualifier, \
             statement_id, statement) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(qualifier)
        .bind(sid)
        .bind(statement)
        .execute(self.db.pool())
        .await;
        match res {
            Ok(_) => Ok(Some(true)),
            Err(e) if is_unique_violation(&e) => Ok(Some(false)),
            Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Remove a statement from one policy (`qualifier` as for `add_permission`); `false` if
    /// there was none with that id.
    pub async fn remove_permission(
        &self,
        account: &str,
        region: &str,
        name: &str,
        qualifier: &str,
        sid: &str,
    ) -> Result<bool> {
        let res = sqlx::query(
            "DELETE FROM lambda_permissions WHERE account_id = ? AND region = ? \
             AND function_name = ? AND qualifier = ? AND statement_id = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(qualifier)
        .bind(sid)
        .execute(self.db.pool())
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// One policy's statements (`qualifier` as for `add_permission`) in the order they were
    /// added.
    pub async fn permissions(
        &self,
        account: &str,
        region: &str,
        name: &str,
        qualifier: &str,
    ) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT statement FROM lambda_permissions WHERE account_id = ? AND region = ? \
             AND function_name = ? AND qualifier = ? ORDER BY rowid",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(qualifier)
        .fetch_all(self.db.pool())
        .await?)
    }

    /// Set (or clear, with `None`) a function's reserved concurrency, refusing when the
    /// account's unreserved pool would fall below `min_unreserved` of `account_limit`.
    /// `Ok(None)` if the function does not exist, `Ok(Some(false))` if refused.
    pub async fn set_reserved_concurrency(
        &self,
        account: &str,
        region: &str,
        name: &str,
        value: Option<i64>,
        account_limit: i64,
        min_unreserved: i64,
    ) -> Result<Option<bool>> {
        let mut tx = self.db.begin_immediate().await?;
        let others: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(reserved_concurrency), 0) FROM lambda_functions \
             WHERE account_id = ? AND region = ? AND function_name != ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
        if account_limit - others - value.unwrap_or(0) < min_unreserved {
            return Ok(Some(false));
        }
        let res = sqlx::query(
            "UPDATE lambda_functions SET reserved_concurrency = ? \
             WHERE account_id = ? AND region = ? AND function_name = ?",
        )
        .bind(value)
        .bind(account)
        .bind(region)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((res.rows_affected() > 0).then_some(true))
    }

    /// Concurrency reserved by all functions of an account and region.
    pub async fn reserved_total(&self, account: &str, region: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(SUM(reserved_concurrency), 0) FROM lambda_functions \
             WHERE account_id = ? AND region = ?",
        )
        .bind(account)
        .bind(region)
        .fetch_one(self.db.pool())
        .await?)
    }

    /// Publish `$LATEST` (at `latest_revision`) as the next version, its configuration built by
    /// `config_for(n)`. Publishing an unchanged `$LATEST` again returns the last version.
    pub async fn publish_version(
        &self,
        account: &str,
        region: &str,
        name: &str,
        latest_revision: &str,
        config_for: &(dyn Fn(i64) -> String + Sync),
        code_object_id: &str,
    ) -> Result<Publish> {
        let mut tx = self.db.begin_immediate().await?;
        let row = sqlx::query(
            "SELECT revision_id, last_version, published_revision FROM lambda_functions \
             WHERE account_id = ? AND region = ? AND function_name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Publish::NotFound);
        };
        if row.get::<String, _>("revision_id") != latest_revision {
            return Ok(Publish::RevisionMismatch);
        }
        let last: i64 = row.get("last_version");
        if row
            .get::<Option<String>, _>("published_revision")
            .as_deref()
            == Some(latest_revision)
        {
            let existing: Option<String> = sqlx::query_scalar(
                "SELECT config FROM lambda_versions WHERE account_id = ? AND region = ? \
                 AND function_name = ? AND version = ?",
            )
            .bind(account)
            .bind(region)
            .bind(name)
            .bind(last)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(config) = existing {
                return Ok(Publish::Existing(config));
            }
        }
        let n = last + 1;
        let config = config_for(n);
        sqlx::query(
            "INSERT INTO lambda_versions (account_id, region, function_name, version, config, \
             code_object_id) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(n)
        .bind(&config)
        .bind(code_object_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE lambda_functions SET last_version = ?, published_revision = ? \
             WHERE account_id = ? AND region = ? AND function_name = ?",
        )
        .bind(n)
        .bind(latest_revision)
        .bind(account)
        .bind(region)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Publish::Created(config))
    }

    /// A published version: (configuration, code object id).
    pub async fn get_version(
        &self,
        account: &str,
        region: &str,
        name: &str,
        version: i64,
    ) -> Result<Option<(String, String)>> {
        let row = sqlx::query(
            "SELECT config, code_object_id FROM lambda_versions WHERE account_id = ? \
             AND region = ? AND function_name = ? AND version = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(version)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(|r| (r.get("config"), r.get("code_object_id"))))
    }

    /// A function's published versions' configurations, oldest first.
    pub async fn list_versions(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT config FROM lambda_versions WHERE account_id = ? AND region = ? \
             AND function_name = ? ORDER BY version",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_all(self.db.pool())
        .await?)
    }

    /// Delete one version; its code object id, `None` if there was no such version.
    pub async fn delete_version(
        &self,
        account: &str,
        region: &str,
        name: &str,
        version: i64,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "DELETE FROM lambda_versions WHERE account_id = ? AND region = ? \
             AND function_name = ? AND version = ? RETURNING code_object_id",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(version)
        .fetch_optional(self.db.pool())
        .await?)
    }

    /// Insert an alias. `Ok(None)` if the function does not exist, `Ok(Some(false))` if the
    /// alias exists.
    pub async fn create_alias(
        &self,
        account: &str,
        region: &str,
        name: &str,
        alias: &str,
        config: &str,
        revision: &str,
    ) -> Result<Option<bool>> {
        let res = sqlx::query(
            "INSERT INTO lambda_aliases (account_id, region, function_name, alias_name, config, \
             revision_id) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(alias)
        .bind(config)
        .bind(revision)
        .execute(self.db.pool())
        .await;
        match res {
            Ok(_) => Ok(Some(true)),
            Err(e) if is_unique_violation(&e) => Ok(Some(false)),
            Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_alias(
        &self,
        account: &str,
        region: &str,
        name: &str,
        alias: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT config FROM lambda_aliases WHERE account_id = ? AND region = ? \
             AND function_name = ? AND alias_name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(alias)
        .fetch_optional(self.db.pool())
        .await?)
    }

    /// A function's aliases in name order.
    pub async fn list_aliases(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT config FROM lambda_aliases WHERE account_id = ? AND region = ? \
             AND function_name = ? ORDER BY alias_name",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_all(self.db.pool())
        .await?)
    }

    /// Replace an alias with `(config, revision)` if its revision is still `expected`: `None`
    /// if it does not exist, `Some(false)` on a revision mismatch.
    pub async fn update_alias(
        &self,
        account: &str,
        region: &str,
        name: &str,
        alias: &str,
        expected: &str,
        (config, revision): (&str, &str),
    ) -> Result<Option<bool>> {
        let res = sqlx::query(
            "UPDATE lambda_aliases SET config = ?, revision_id = ? WHERE account_id = ? \
             AND region = ? AND function_name = ? AND alias_name = ? AND revision_id = ?",
        )
        .bind(config)
        .bind(revision)
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(alias)
        .bind(expected)
        .execute(self.db.pool())
        .await?;
        if res.rows_affected() > 0 {
            return Ok(Some(true));
        }
        Ok(self
            .get_alias(account, region, name, alias)
            .await?
            .map(|_| false))
    }

    pub async fn delete_alias(
        &self,
        account: &str,
        region: &str,
        name: &str,
        alias: &str,
    ) -> Result<bool> {
        let res = sqlx::query(
            "DELETE FROM lambda_aliases WHERE account_id = ? AND region = ? \
             AND function_name = ? AND alias_name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(alias)
        .execute(self.db.pool())
        .await?;
        Ok(res.rows_affected() > 0)
    }
}

/// What PublishVersion did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publish {
    /// A new version, with its configuration.
    Created(String),
    /// `$LATEST` was unchanged since the last version, which is returned.
    Existing(String),
    NotFound,
    RevisionMismatch,
}

impl LambdaStore {
    /// Event source mappings, event-invoke configurations and queued asynchronous invocations
    /// (`lambda_esm`).
    pub fn esm(&self) -> crate::lambda_esm::LambdaEsmStore {
        crate::lambda_esm::LambdaEsmStore::new(self.db.clone())
    }
}
// Layers and function URLs: more of the same store, in their own files.
mod layers;
mod urls;
pub use layers::{LayerVersionRecord, PolicyChange};
pub use urls::UrlRecord;
