//! IAM roles, their inline and attached policies, and tags. Scoped by account (IAM is global).

use crate::{Db, Result};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub struct RoleRecord {
    pub account_id: String,
    pub role_name: String,
    pub role_id: String,
    pub path: String,
    pub arn: String,
    pub assume_role_policy: String,
    pub description: Option<String>,
    pub max_session_duration: i64,
    pub permissions_boundary: Option<String>,
    /// Epoch seconds.
    pub created_at: f64,
    pub tags: Vec<(String, String)>,
}

/// Changes `UpdateRole`-style calls may make; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct RoleUpdate {
    pub description: Option<String>,
    pub max_session_duration: Option<i64>,
    pub assume_role_policy: Option<String>,
}

#[derive(Clone)]
pub struct IamStore {
    db: Db,
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn is_missing_role(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

/// What a guarded delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleDeletion {
    Deleted,
    NotFound,
    /// Refused: inline policies remain.
    HasInlinePolicies,
    /// Refused: managed policies remain attached.
    HasAttachedPolicies,
}

/// What a write with a quota did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaWrite {
    Done,
    NoSuchRole,
    LimitExceeded,
}

impl IamStore {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    /// Insert a role with its tags; `false` if a role of that name (any case) exists.
    pub async fn create_role(&self, r: &RoleRecord) -> Result<bool> {
        let mut tx = self.db.pool().begin().await?;
        let res = sqlx::query(
            "INSERT INTO iam_roles (account_id, role_name, role_id, path, arn, assume_role_policy, \
             description, max_session_duration, permissions_boundary, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&r.account_id)
        .bind(&r.role_name)
        .bind(&r.role_id)
        .bind(&r.path)
        .bind(&r.arn)
        .bind(&r.assume_role_policy)
        .bind(&r.description)
        .bind(r.max_session_duration)
        .bind(&r.permissions_boundary)
        .bind(r.created_at)
        .execute(&mut *tx)
        .await;
        match res {
            Err(e) if is_unique_violation(&e) => return Ok(false),
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        upsert_tags(&mut tx, &r.account_id, &r.role_name, &r.tags).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn get_role(&self, account: &str, name: &str) -> Result<Option<RoleRecord>> {
        let row = sqlx::query("SELECT * FROM iam_roles WHERE account_id = ? AND role_name = ?")
            .bind(account)
            .bind(name)
            .fetch_optional(self.db.pool())
            .await?;
        match row {
            Some(row) => {
                let mut rec = role_from_row(&row);
                rec.tags = self.list_role_tags(account, &rec.role_name).await?;
                Ok(Some(rec))
            }
            None => Ok(None),
        }
    }

    /// Roles whose path starts with `path_prefix`, ordered by name (as IAM lists them).
    pub async fn list_roles(&self, account: &str, path_prefix: &str) -> Result<Vec<RoleRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM iam_roles WHERE account_id = ? AND substr(path, 1, length(?)) = ? \
             ORDER BY role_name COLLATE BINARY",
        )
        .bind(account)
        .bind(path_prefix)
        .bind(path_prefix)
        .fetch_all(self.db.pool())
        .await?;
        // Listings never include tags (IAM's list calls return a subset of each role).
        Ok(rows.iter().map(role_from_row).collect())
    }

    pub async fn update_role(&self, account: &str, name: &str, u: &RoleUpdate) -> Result<bool> {
        let res = sqlx::query(
            "UPDATE iam_roles SET description = COALESCE(?, description), \
             max_session_duration = COALESCE(?, max_session_duration), \
             assume_role_policy = COALESCE(?, assume_role_policy) \
             WHERE account_id = ? AND role_name = ?",
        )
        .bind(&u.description)
        .bind(u.max_session_duration)
        .bind(&u.assume_role_policy)
        .bind(account)
        .bind(name)
        .execute(self.db.pool())
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Delete a role (its tags go with it), refusing while policies remain, as IAM does.
    pub async fn delete_role(&self, account: &str, name: &str) -> Result<RoleDeletion> {
        let mut tx = self.db.begin_immediate().await?;
        let count = |table: &'static str| {
            format!("SELECT COUNT(*) FROM {table} WHERE account_id = ? AND role_name = ?")
        };
        let inline: i64 = sqlx::query_scalar(&count("iam_role_policies"))
            .bind(account)
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        if inline > 0 {
            return Ok(RoleDeletion::HasInlinePolicies);
        }
        let attached: i64 = sqlx::query_scalar(&count("iam_role_attached_policies"))
            .bind(account)
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        if attached > 0 {
            return Ok(RoleDeletion::HasAttachedPolicies);
        }
        let res = sqlx::query("DELETE FROM iam_roles WHERE account_id = ? AND role_name = ?")
            .bind(account)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(if res.rows_affected() > 0 {
            RoleDeletion::Deleted
        } else {
            RoleDeletion::NotFound
        })
    }

    /// Set or clear a role's permissions boundary; `false` if the role does not exist.
    pub async fn set_permissions_boundary(
        &self,
        account: &str,
        role: &str,
        arn: Option<&str>,
    ) -> Result<bool> {
        let res = sqlx::query(
            "UPDATE iam_roles SET permissions_boundary = ? WHERE account_id = ? AND role_name = ?",
        )
        .bind(arn)
        .bind(account)
        .bind(role)
        .execute(self.db.pool())
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Add or replace an inline policy; `false` if the role does not exist.
    pub async fn put_role_policy(
        &self,
        account: &str,
        role: &str,
        policy: &str,
        doc: &str,
    ) -> Result<bool> {
        let res = sqlx::query(
            "INSERT INTO iam_role_policies (account_id, role_name, policy_name, policy_document) \
             VALUES (?, ?, ?, ?) ON CONFLICT (account_id, role_name, policy_name) \
             DO UPDATE SET policy_document = excluded.policy_document",
        )
        .bind(account)
        .bind(role)
        .bind(policy)
        .bind(doc)
        .execute(self.db.pool())
        .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_missing_role(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_role_policy(
        &self,
        account: &str,
        role: &str,
        policy: &str,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT policy_document FROM iam_role_policies \
             WHERE account_id = ? AND role_name = ? AND policy_name = ?",
        )
        .bind(account)
        .bind(role)
        .bind(policy)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(|r| r.get(0)))
    }

    pub async fn delete_role_policy(
        &self,
        account: &str,
        role: &str,
        policy: &str,
    ) -> Result<bool> {
        let res = sqlx::query(
            "DELETE FROM iam_role_policies WHERE account_id = ? AND role_name = ? AND policy_name = ?",
        )
        .bind(account)
        .bind(role)
        .bind(policy)
        .execute(self.db.pool())
        .await?;
        Ok(res.rows_affected() > 0)
    }

    pub async fn list_role_policies(&self, account: &str, role: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT policy_name FROM iam_role_policies WHERE account_id = ? AND role_name = ? \
             ORDER BY policy_name",
        )
        .bind(account)
        .bind(role)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Attach a managed policy unless `max` are attached already (re-attaching is a no-op).
    pub async fn attach_role_policy(
        &self,
        account: &str,
        role: &str,
        arn: &str,
        max: i64,
        now: f64,
    ) -> Result<QuotaWrite> {
        let mut tx = self.db.begin_immediate().await?;
        let (count, present): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(policy_arn = ?), 0) FROM iam_role_attached_policies \
             WHERE account_id = ? AND role_name = ?",
        )
        .bind(arn)
        .bind(account)
        .bind(role)
        .fetch_one(&mut *tx)
        .await?;
        if present == 0 && count >= max {
            return Ok(QuotaWrite::LimitExceeded);
        }
        let res = sqlx::query(
            "INSERT OR IGNORE INTO iam_role_attached_policies (account_id, role_name, policy_arn, attached_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(account)
        .bind(role)
        .bind(arn)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            Err(e) if is_missing_role(&e) => return Ok(QuotaWrite::NoSuchRole),
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(QuotaWrite::Done)
    }

    pub async fn detach_role_policy(&self, account: &str, role: &str, arn: &str) -> Result<bool> {
        let res = sqlx::query(
            "DELETE FROM iam_role_attached_policies WHERE account_id = ? AND role_name = ? AND policy_arn = ?",
        )
        .bind(account)
        .bind(role)
        .bind(arn)
        .execute(self.db.pool())
        .await?;
        Ok(res.rows_affected() > 0)
    }

    pub async fn list_attached_role_policies(
        &self,
        account: &str,
        role: &str,
    ) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT policy_arn FROM iam_role_attached_policies WHERE account_id = ? AND role_name = ? \
             ORDER BY attached_at, policy_arn",
        )
        .bind(account)
        .bind(role)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Add or replace tags (keys match regardless of case) unless the role would exceed `max`.
    pub async fn tag_role(
        &self,
        account: &str,
        role: &str,
        tags: &[(String, String)],
        max: usize,
    ) -> Result<QuotaWrite> {
        let mut tx = self.db.begin_immediate().await?;
        let existing: Vec<String> = sqlx::query_scalar(
            "SELECT tag_key FROM iam_role_tags WHERE account_id = ? AND role_name = ?",
        )
        .bind(account)
        .bind(role)
        .fetch_all(&mut *tx)
        .await?;
        let new_keys = tags
            .iter()
            .filter(|(k, _)| !existing.iter().any(|e| e.eq_ignore_ascii_case(k)))
            .count();
        if existing.len() + new_keys > max {
            return Ok(QuotaWrite::LimitExceeded);
        }
        match upsert_tags(&mut tx, account, role, tags).await {
            Ok(()) => {}
            Err(crate::StorageError::Database(e)) if is_missing_role(&e) => {
                return Ok(QuotaWrite::NoSuchRole)
            }
            Err(e) => return Err(e),
        }
        tx.commit().await?;
        Ok(QuotaWrite::Done)
    }

    pub async fn untag_role(&self, account: &str, role: &str, keys: &[String]) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        for k in keys {
            sqlx::query(
                "DELETE FROM iam_role_tags WHERE account_id = ? AND role_name = ? AND tag_key = ?",
            )
            .bind(account)
            .bind(role)
            .bind(k)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_role_tags(&self, account: &str, role: &str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT tag_key, tag_value FROM iam_role_tags WHERE account_id = ? AND role_name = ? \
             ORDER BY position",
        )
        .bind(account)
        .bind(role)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

async fn upsert_tags(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    account: &str,
    role: &str,
    tags: &[(String, String)],
) -> Result<()> {
    for (k, v) in tags {
        sqlx::query(
            "INSERT INTO iam_role_tags (account_id, role_name, tag_key, tag_value, position) \
             VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM iam_role_tags \
                                  WHERE account_id = ? AND role_name = ?)) \
             ON CONFLICT (account_id, role_name, tag_key) \
             DO UPDATE SET tag_key = excluded.tag_key, tag_value = excluded.tag_value",
        )
        .bind(account)
        .bind(role)
        .bind(k)
        .bind(v)
        .bind(account)
        .bind(role)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn role_from_row(row: &sqlx::sqlite::SqliteRow) -> RoleRecord {
    RoleRecord {
        account_id: row.get("account_id"),
        role_name: row.get("role_name"),
        role_id: row.get("role_id"),
        path: row.get("path"),
        arn: row.get("arn"),
        assume_role_policy: row.get("assume_role_policy"),
        description: row.get("description"),
        max_session_duration: row.get("max_session_duration"),
        permissions_boundary: row.get("permissions_boundary"),
        created_at: row.get("created_at"),
        tags: Vec::new(),
    }
}
