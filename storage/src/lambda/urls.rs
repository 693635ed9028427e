//! Lambda function URLs: one configuration per function and qualifier, found by URL id when a
//! request arrives under `<url-id>.lambda-url.<region>.<host>`.

use super::{is_unique_violation, LambdaStore};
use crate::Result;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub struct UrlRecord {
    pub account_id: String,
    pub region: String,
    pub function_name: String,
    /// `$LATEST` or an alias name.
    pub qualifier: String,
    pub url_id: String,
    /// The FunctionUrlConfig document as the service renders it (JSON), without FunctionUrl,
    /// which depends on the host the caller used.
    pub config: String,
}

fn from_row(row: &sqlx::sqlite::SqliteRow) -> UrlRecord {
    UrlRecord {
        account_id: row.get("account_id"),
        region: row.get("region"),
        function_name: row.get("function_name"),
        qualifier: row.get("qualifier"),
        url_id: row.get("url_id"),
        config: row.get("config"),
    }
}

impl LambdaStore {
    /// Insert a function URL. `Ok(None)` if the function does not exist, `Ok(Some(false))` if
    /// the function and qualifier already have one.
    pub async fn create_url(&self, r: &UrlRecord) -> Result<Option<bool>> {
        let res = sqlx::query(
            "INSERT INTO lambda_function_urls (account_id, region, function_name, qualifier, \
             url_id, config) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&r.account_id)
        .bind(&r.region)
        .bind(&r.function_name)
        .bind(&r.qualifier)
        .bind(&r.url_id)
        .bind(&r.config)
        .execute(self.db.pool())
        .await;
        match res {
            Ok(_) => Ok(Some(true)),
            Err(e) if is_unique_violation(&e) => Ok(Some(false)),
            Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_url(
        &self,
        account: &str,
        region: &str,
        name: &str,
        qualifier: &str,
    ) -> Result<Option<UrlRecord>> {
        let row = sqlx::query(
            "SELECT * FROM lambda_function_urls WHERE account_id = ? AND region = ? \
             AND function_name = ? AND qualifier = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(qualifier)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// The URL a request's host names.
    pub async fn url_by_id(&self, url_id: &str) -> Result<Option<UrlRecord>> {
        let row = sqlx::query("SELECT * FROM lambda_function_urls WHERE url_id = ?")
            .bind(url_id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// A function's URLs, by qualifier.
    pub async fn list_urls(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Vec<UrlRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM lambda_function_urls WHERE account_id = ? AND region = ? \
             AND function_name = ? ORDER BY qualifier",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    /// Replace a URL's configuration; `false` if there is none.
    pub async fn update_url(
        &self,
        account: &str,
        region: &str,
        name: &str,
        qualifier: &str,
        config: &str,
    ) -> Result<bool> {
        let res = sqlx::query(
            "UPDATE lambda_function_urls SET config = ? WHERE account_id = ? AND region = ? \
             AND function_name = ? AND qualifier = ?",
        )
        .bind(config)
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(qualifier)
        .execute(self.db.pool())
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Delete a URL; `false` if there was none.
    pub async fn delete_url(
        &self,
        account: &str,
        region: &str,
        name: &str,
        qualifier: &str,
    ) -> Result<bool> {
        let res = sqlx::query(
            "DELETE FROM lambda_function_urls WHERE account_id = ? AND region = ? \
             AND function_name = ? AND qualifier = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(qualifier)
        .execute(self.db.pool())
        .await?;
        Ok(res.rows_affected() > 0)
    }
}
