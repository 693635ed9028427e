//! Lambda layers: versions (documents in SQLite, zips in the object store) and their policies.

use super::{is_unique_violation, LambdaStore};
use crate::Result;
use sqlx::Row;

/// One stored layer version.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerVersionRecord {
    pub layer_name: String,
    pub version: i64,
    /// The LayerVersion document as the service renders it (JSON).
    pub config: String,
    pub code_object_id: String,
    pub policy_revision: String,
}

/// What a policy change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyChange {
    Done,
    /// No such layer version.
    NotFound,
    /// The caller's RevisionId is not the policy's current one.
    RevisionMismatch,
    /// Adding: the statement id is taken. Removing: no statement has that id.
    StatementConflict,
}

fn from_row(row: &sqlx::sqlite::SqliteRow) -> LayerVersionRecord {
    LayerVersionRecord {
        layer_name: row.get("layer_name"),
        version: row.get("version"),
        config: row.get("config"),
        code_object_id: row.get("code_object_id"),
        policy_revision: row.get("policy_revision"),
    }
}

const COLUMNS: &str = "layer_name, version, config, code_object_id, policy_revision";

impl LambdaStore {
    /// Add the next version of a layer (creating the layer); its configuration is built by
    /// `config_for(n)`. Version numbers are never reused.
    pub async fn publish_layer_version(
        &self,
        account: &str,
        region: &str,
        name: &str,
        config_for: &(dyn Fn(i64) -> String + Sync),
        code_object_id: &str,
        revision: &str,
    ) -> Result<(i64, String)> {
        let mut tx = self.db.begin_immediate().await?;
        sqlx::query(
            "INSERT INTO lambda_layers (account_id, region, layer_name) VALUES (?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        let n: i64 = sqlx::query_scalar(
            "UPDATE lambda_layers SET last_version = last_version + 1 \
             WHERE account_id = ? AND region = ? AND layer_name = ? RETURNING last_version",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
        let config = config_for(n);
        sqlx::query(
            "INSERT INTO lambda_layer_versions (account_id, region, layer_name, version, config, \
             code_object_id, policy_revision) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(n)
        .bind(&config)
        .bind(code_object_id)
        .bind(revision)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((n, config))
    }

    /// A layer version the API can see (not deleted).
    pub async fn get_layer_version(
        &self,
        account: &str,
        region: &str,
        name: &str,
        version: i64,
    ) -> Result<Option<LayerVersionRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM lambda_layer_versions WHERE account_id = ? AND region = ? \
             AND layer_name = ? AND version = ? AND deleted = 0"
        ))
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(version)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// A layer version's code for an environment: deleted versions still count, since the
    /// functions that use them keep running.
    pub async fn layer_code(
        &self,
        account: &str,
        region: &str,
        name: &str,
        version: i64,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT code_object_id FROM lambda_layer_versions WHERE account_id = ? \
             AND region = ? AND layer_name = ? AND version = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(version)
        .fetch_optional(self.db.pool())
        .await?)
    }

    /// Visible versions of one layer (`Some`) or of every layer (`None`), by layer name and
    /// newest version first.
    pub async fn list_layer_versions(
        &self,
        account: &str,
        region: &str,
        name: Option<&str>,
    ) -> Result<Vec<LayerVersionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM lambda_layer_versions WHERE account_id = ? AND region = ? \
             AND (? IS NULL OR layer_name = ?) AND deleted = 0 \
             ORDER BY layer_name, version DESC"
        ))
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(name)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    /// Delete a layer version. A version some function or function version still references
    /// (its ARN, `arn`, appears in their configuration) is hidden instead, so they keep
    /// running. Returns the code object to delete, if any.
    pub async fn delete_layer_version(
        &self,
        account: &str,
        region: &str,
        name: &str,
        version: i64,
        arn: &str,
    ) -> Result<Option<String>> {
        let needle = format!("\"Arn\":\"{arn}\"");
        let mut tx = self.db.begin_immediate().await?;
        let used: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM lambda_functions WHERE instr(config, ?1) > 0) \
             OR EXISTS (SELECT 1 FROM lambda_versions WHERE instr(config, ?1) > 0)",
        )
        .bind(&needle)
        .fetch_one(&mut *tx)
        .await?;
        let code = if used {
            sqlx::query(
                "DELETE FROM lambda_layer_permissions WHERE account_id = ? AND region = ? \
                 AND layer_name = ? AND version = ?",
            )
            .bind(account)
            .bind(region)
            .bind(name)
            .bind(version)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE lambda_layer_versions SET deleted = 1 WHERE account_id = ? \
                 AND region = ? AND layer_name = ? AND version = ?",
            )
            .bind(account)
            .bind(region)
            .bind(name)
            .bind(version)
            .execute(&mut *tx)
            .await?;
            None
        } else {
            sqlx::query_scalar(
                "DELETE FROM lambda_layer_versions WHERE account_id = ? AND region = ? \
                 AND layer_name = ? AND version = ? RETURNING code_object_id",
            )
            .bind(account)
            .bind(region)
            .bind(name)
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?
        };
        tx.commit().await?;
        Ok(code)
    }

    /// The current policy revision of a visible layer version, inside a transaction.
    async fn policy_revision(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        key: (&str, &str, &str, i64),
    ) -> Result<Option<String>> {
        let (account, region, name, version) = key;
        Ok(sqlx::query_scalar(
            "SELECT policy_revision FROM lambda_layer_versions WHERE account_id = ? \
             AND region = ? AND layer_name = ? AND version = ? AND deleted = 0",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(version)
        .fetch_optional(&mut **tx)
        .await?)
    }

    /// Add a statement to a layer version's policy, if `expected` (when given) is its current
    /// revision; the policy then gets `new_revision`.
    pub async fn add_layer_permission(
        &self,
        (account, region, name, version): (&str, &str, &str, i64),
        sid: &str,
        statement: &str,
        expected: Option<&str>,
        new_revision: &str,
    ) -> Result<PolicyChange> {
        let mut tx = self.db.begin_immediate().await?;
        let key = (account, region, name, version);
        let Some(current) = Self::policy_revision(&mut tx, key).await? else {
            return Ok(PolicyChange::NotFound);
        };
        if expected.is_some_and(|e| e != current) {
            return Ok(PolicyChange::RevisionMismatch);
        }
        let res = sqlx::query(
            "INSERT INTO lambda_layer_permissions (account_id, region, layer_name, version, \
             statement_id, statement) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(version)
        .bind(sid)
        .bind(statement)
        .execute(&mut *tx)
        .await;
        match res {
            Err(e) if is_unique_violation(&e) => return Ok(PolicyChange::StatementConflict),
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        Self::set_policy_revision(&mut tx, key, new_revision).await?;
        tx.commit().await?;
        Ok(PolicyChange::Done)
    }

    async fn set_policy_revision(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        (account, region, name, version): (&str, &str, &str, i64),
        revision: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE lambda_layer_versions SET policy_revision = ? WHERE account_id = ? \
             AND region = ? AND layer_name = ? AND version = ?",
        )
        .bind(revision)
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(version)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Remove a statement from a layer version's policy (same revision rule as adding).
    pub async fn remove_layer_permission(
        &self,
        (account, region, name, version): (&str, &str, &str, i64),
        sid: &str,
        expected: Option<&str>,
        new_revision: &str,
    ) -> Result<PolicyChange> {
        let mut tx = self.db.begin_immediate().await?;
        let key = (account, region, name, version);
        let Some(current) = Self::policy_revision(&mut tx, key).await? else {
            return Ok(PolicyChange::NotFound);
        };
        if expected.is_some_and(|e| e != current) {
            return Ok(PolicyChange::RevisionMismatch);
        }
        let res = sqlx::query(
            "DELETE FROM lambda_layer_permissions WHERE account_id = ? AND region = ? \
             AND layer_name = ? AND version = ? AND statement_id = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(version)
        .bind(sid)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() == 0 {
            return Ok(PolicyChange::StatementConflict);
        }
        Self::set_policy_revision(&mut tx, key, new_revision).await?;
        tx.commit().await?;
        Ok(PolicyChange::Done)
    }

    /// A visible layer version's policy statements (in the order added) and revision.
    pub async fn layer_policy(
        &self,
        (account, region, name, version): (&str, &str, &str, i64),
    ) -> Result<Option<(Vec<String>, String)>> {
        let Some(v) = self
            .get_layer_version(account, region, name, version)
            .await?
        else {
            return Ok(None);
        };
        let statements = sqlx::query_scalar(
            "SELECT statement FROM lambda_layer_permissions WHERE account_id = ? AND region = ? \
             AND layer_name = ? AND version = ? ORDER BY rowid",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(version)
        .fetch_all(self.db.pool())
        .await?;
        Ok(Some((statements, v.policy_revision)))
    }
}
