//! Sessions behind temporary credentials that STS issued.

use crate::{Db, Result};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub access_key_id: String,
    pub account_id: String,
    /// The caller ARN the credentials act as (`arn:aws:sts::…:assumed-role/Role/Session`).
    pub arn: String,
    pub user_id: String,
    /// Epoch seconds.
    pub expires_at: f64,
}

#[derive(Clone)]
pub struct StsStore {
    db: Db,
}

impl StsStore {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn put_session(&self, s: &SessionRecord) -> Result<()> {
        sqlx::query(
            "INSERT OR REPLACE INTO sts_sessions (access_key_id, account_id, arn, user_id, expires_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&s.access_key_id)
        .bind(&s.account_id)
        .bind(&s.arn)
        .bind(&s.user_id)
        .bind(s.expires_at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    pub async fn get_session(&self, access_key_id: &str) -> Result<Option<SessionRecord>> {
        let row = sqlx::query("SELECT * FROM sts_sessions WHERE access_key_id = ?")
            .bind(access_key_id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.map(|r| SessionRecord {
            access_key_id: r.get("access_key_id"),
            account_id: r.get("account_id"),
            arn: r.get("arn"),
            user_id: r.get("user_id"),
            expires_at: r.get("expires_at"),
        }))
    }
}
