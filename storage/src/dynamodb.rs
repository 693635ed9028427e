//! DynamoDB tables and items, scoped by account and region.
//!
//! A table's definition is an opaque JSON document the service owns. Items are keyed by the
//! service's order-preserving encodings of their hash (`pk`) and range (`sk`) keys, so SQLite's
//! primary-key order is DynamoDB's key order and a Query is a range scan of that index.

use crate::{Db, Result};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension};
use sqlx::Row;
use std::collections::HashMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub table_id: i64,
    pub name: String,
    pub meta: String,
}

/// One item's address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemKey {
    pub table_id: i64,
    pub pk: Vec<u8>,
    pub sk: Vec<u8>,
}

/// A stored item as read back.
#[derive(Debug, Clone)]
pub struct ItemRow {
    pub pk: Vec<u8>,
    pub sk: Vec<u8>,
    pub size: i64,
    pub body: String,
}

/// One stored item borrowed from SQLite's row while a visitor looks at it
/// ([`DynamoDbStore::query_each`]): nothing is copied unless the visitor copies it.
#[derive(Debug, Clone, Copy)]
pub struct ItemRef<'a> {
    pub pk: &'a [u8],
    pub sk: &'a [u8],
    pub size: i64,
    pub body: &'a str,
}

/// What a visit of stored items ends with: the visitor's state, and whether it stopped while
/// at least one more row followed the last one it saw.
pub type Visited<S> = (S, bool);

/// One secondary-index entry of an item.
#[derive(Debug, Clone)]
pub struct IndexEntry {
    pub index: String,
    pub ipk: Vec<u8>,
    pub isk: Vec<u8>,
    pub size: i64,
    /// The item as the index projects it.
    pub body: String,
}

/// An index entry as read back, with the table keys of its item.
#[derive(Debug, Clone)]
pub struct IndexRow {
    pub ipk: Vec<u8>,
    pub isk: Vec<u8>,
    pub pk: Vec<u8>,
    pub sk: Vec<u8>,
    pub size: i64,
    pub body: String,
}

/// What to do with one item of a conditional write. `indexes` is `None` for tables without
/// secondary indexes; otherwise the item's entries replace whatever it had.
#[derive(Debug, Clone)]
pub enum ItemWrite {
    Put {
        size: i64,
        body: String,
        indexes: Option<Vec<IndexEntry>>,
        /// When the item's TTL attribute says it expires (epoch seconds).
        expires: Option<i64>,
        stream: Option<StreamAppend>,
    },
    Delete {
        indexed: bool,
        stream: Option<StreamAppend>,
    },
    Keep,
}

/// A stream record written with an item change (same transaction, so a record exists exactly
/// for each committed change).
#[derive(Debug, Clone)]
pub struct StreamAppend {
    pub label: String,
    pub record: String,
}

/// A transaction's ClientRequestToken, recorded with its writes (same transaction).
#[derive(Debug, Clone)]
pub struct RequestToken {
    pub account: String,
    pub region: String,
    pub token: String,
    /// What the request asked for: a repeat must ask for the same.
    pub fingerprint: String,
}

/// A stored stream record.
#[derive(Debug, Clone)]
pub struct StreamRow {
    pub seq: i64,
    pub record: String,
}

/// An index's position in a read: (index range key, table hash key, table range key).
pub type IndexCursor = (Vec<u8>, Vec<u8>, Vec<u8>);

/// The range-key bounds of a Query.
#[derive(Debug, Clone)]
pub struct SkRange {
    pub lower: Bound<Vec<u8>>,
    pub upper: Bound<Vec<u8>>,
}

/// Table definitions are read on every item request; they are cached here (shared, so a hit
/// copies nothing).
#[derive(Default)]
struct TableCache {
    /// The database generation the entries belong to.
    generation: u64,
    /// Bumped by every invalidation: a read that raced one must not fill the cache.
    version: u64,
    rows: HashMap<(String, String, String), Arc<TableRow>>,
}

#[derive(Clone)]
pub struct DynamoDbStore {
    db: Db,
    cache: Arc<Mutex<TableCache>>,
    /// Tables deleted recently: a write that was already in flight may still land rows for
    /// them, which `purge_deleted` removes once such writes have finished.
    deleted: Arc<Mutex<Vec<(i64, std::time::Instant)>>>,
}

// The item paths run on `SyncDb` (one thread handoff per request, not per statement and row);
// table definitions, streams, TTL and statistics stay on sqlx.

fn read_body(c: &Connection, key: &ItemKey) -> rusqlite::Result<Option<String>> {
    c.prepare_cached("SELECT body FROM ddb_items WHERE table_id = ?1 AND pk = ?2 AND sk = ?3")?
        .query_row(params![key.table_id, key.pk, key.sk], |r| r.get(0))
        .optional()
}

fn apply_writes(c: &Connection, keys: &[ItemKey], writes: Vec<ItemWrite>) -> rusqlite::Result<()> {
    for (key, write) in keys.iter().zip(writes) {
        let reindex = match &write {
            ItemWrite::Put { indexes, .. } => indexes.is_some(),
            ItemWrite::Delete { indexed, .. } => *indexed,
            ItemWrite::Keep => false,
        };
        let stream = match &write {
            ItemWrite::Put { stream, .. } | ItemWrite::Delete { stream, .. } => stream.as_ref(),
            ItemWrite::Keep => None,
        };
        if let Some(a) = stream {
            c.prepare_cached(
                "INSERT INTO ddb_stream_records (table_id, stream_label, record) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![key.table_id, a.label, a.record])?;
        }
        if reindex {
            c.prepare_cached(
                "DELETE FROM ddb_index_items WHERE table_id = ?1 AND pk = ?2 AND sk = ?3",
            )?
            .execute(params![key.table_id, key.pk, key.sk])?;
        }
        match write {
            ItemWrite::Put {
                size,
                body,
                indexes,
                expires,
                ..
            } => {
                for e in indexes.iter().flatten() {
                    insert_entry(c, key, e)?;
                }
                c.prepare_cached(
                    "INSERT OR REPLACE INTO ddb_items (table_id, pk, sk, size, body, expires) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    key.table_id,
                    key.pk,
                    key.sk,
                    size,
                    body,
                    expires
                ])?;
            }
            ItemWrite::Delete { .. } => {
                c.prepare_cached(
                    "DELETE FROM ddb_items WHERE table_id = ?1 AND pk = ?2 AND sk = ?3",
                )?
                .execute(params![key.table_id, key.pk, key.sk])?;
            }
            ItemWrite::Keep => {}
        }
    }
    Ok(())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn insert_entry(c: &Connection, key: &ItemKey, e: &IndexEntry) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO ddb_index_items \
         (table_id, index_name, ipk, isk, pk, sk, size, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        key.table_id,
        e.index,
        e.ipk,
        e.isk,
        key.pk,
        key.sk,
        e.size,
        e.body
    ])?;
    Ok(())
}

fn index_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IndexRow> {
    Ok(IndexRow {
        ipk: r.get(0)?,
        isk: r.get(1)?,
        pk: r.get(2)?,
        sk: r.get(3)?,
        size: r.get(4)?,
        body: r.get(5)?,
    })
}

fn table_from_row(row: &sqlx::sqlite::SqliteRow) -> TableRow {
    TableRow {
        table_id: row.get("table_id"),
        name: row.get("table_name"),
        meta: row.get("meta"),
    }
}

fn item_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ItemRow> {
    Ok(ItemRow {
        pk: r.get(0)?,
        sk: r.get(1)?,
        size: r.get(2)?,
        body: r.get(3)?,
    })
}

/// SQL for a range-key bound on `col`, pushing its value onto `args`.
fn push_bound(
    sql: &mut String,
    args: &mut Vec<SqlValue>,
    col: &str,
    b: &Bound<Vec<u8>>,
    lower: bool,
) {
    let (op, v) = match (b, lower) {
        (Bound::Included(v), true) => (">=", v),
        (Bound::Excluded(v), true) => (">", v),
        (Bound::Included(v), false) => ("<=", v),
        (Bound::Excluded(v), false) => ("<", v),
        (Bound::Unbounded, _) => return,
    };
    args.push(SqlValue::Blob(v.clone()));
    sql.push_str(&format!(" AND {col} {op} ?{}", args.len()));
}

/// Run a SELECT (cached: the few shapes of SQL above recur) and map its rows.
fn select<T>(
    c: &Connection,
    sql: &str,
    args: &[SqlValue],
    map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), map)?;
    rows.collect()
}

/// Run `sql` (selecting pk, sk, size, body) and show each row to `visit` until it returns
/// false; then tell whether another row followed.
fn visit_items<S>(
    c: &Connection,
    sql: &str,
    args: &[SqlValue],
    state: &mut S,
    visit: &mut impl FnMut(&mut S, ItemRef<'_>) -> bool,
) -> rusqlite::Result<bool> {
    let mut stmt = c.prepare_cached(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
    while let Some(r) = rows.next()? {
        let item = ItemRef {
            pk: r.get_ref(0)?.as_blob()?,
            sk: r.get_ref(1)?.as_blob()?,
            size: r.get(2)?,
            body: r.get_ref(3)?.as_str()?,
        };
        if !visit(state, item) {
            return Ok(rows.next()?.is_some());
        }
    }
    Ok(false)
}

/// The SQL and arguments of a partition range read ([`DynamoDbStore::query`]); `limit` -1
/// means no limit.
fn query_sql(
    table_id: i64,
    pk: &[u8],
    range: &SkRange,
    forward: bool,
    after: Option<&[u8]>,
    limit: i64,
) -> (String, Vec<SqlValue>) {
    let mut sql =
        String::from("SELECT pk, sk, size, body FROM ddb_items WHERE table_id = ?1 AND pk = ?2");
    let mut args = vec![SqlValue::Integer(table_id), SqlValue::Blob(pk.to_vec())];
    push_bound(&mut sql, &mut args, "sk", &range.lower, true);
    push_bound(&mut sql, &mut args, "sk", &range.upper, false);
    if let Some(after) = after {
        args.push(SqlValue::Blob(after.to_vec()));
        let op = if forward { ">" } else { "<" };
        sql.push_str(&format!(" AND sk {op} ?{}", args.len()));
    }
    args.push(SqlValue::Integer(limit));
    let dir = if forward { "ASC" } else { "DESC" };
    sql.push_str(&format!(" ORDER BY sk {dir} LIMIT ?{}", args.len()));
    (sql, args)
}

/// The SQL and arguments of a table read in key order after `after` ([`DynamoDbStore::scan`]).
fn scan_sql(
    table_id: i64,
    after: Option<(&[u8], &[u8])>,
    limit: i64,
) -> (&'static str, Vec<SqlValue>) {
    match after {
        Some((pk, sk)) => (
            "SELECT pk, sk, size, body FROM ddb_items WHERE table_id = ?1 \
             AND (pk, sk) > (?2, ?3) ORDER BY pk, sk LIMIT ?4",
            vec![
                SqlValue::Integer(table_id),
                SqlValue::Blob(pk.to_vec()),
                SqlValue::Blob(sk.to_vec()),
                SqlValue::Integer(limit),
            ],
        ),
        None => (
            "SELECT pk, sk, size, body FROM ddb_items WHERE table_id = ?1 \
             ORDER BY pk, sk LIMIT ?2",
            vec![SqlValue::Integer(table_id), SqlValue::Integer(limit)],
        ),
    }
}

impl DynamoDbStore {
    pub(crate) fn new(db: Db) -> Self {
        Self {
            db,
            cache: Arc::default(),
            deleted: Arc::default(),
        }
    }

    fn cache(&self) -> MutexGuard<'_, TableCache> {
        let mut c = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let generation = self.db.generation();
        if c.generation != generation {
            c.rows.clear();
            c.generation = generation;
            c.version += 1;
        }
        c
    }

    fn invalidate(&self, account: &str, region: &str, name: &str) {
        let mut c = self.cache();
        c.version += 1;
        c.rows
            .remove(&(account.to_string(), region.to_string(), name.to_string()));
    }

    /// Create a table; `None` if one of that name exists in the account and region.
    pub async fn create_table(
        &self,
        account: &str,
        region: &str,
        name: &str,
        meta: &str,
    ) -> Result<Option<i64>> {
        let res = sqlx::query(
            "INSERT INTO ddb_tables (account_id, region, table_name, meta) VALUES (?, ?, ?, ?)",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(meta)
        .execute(self.db.pool())
        .await;
        match res {
            Ok(r) => Ok(Some(r.last_insert_rowid())),
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A table's row, shared with the cache (every item request reads it).
    pub async fn get_table(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<Arc<TableRow>>> {
        let key = (account.to_string(), region.to_string(), name.to_string());
        let version = {
            let c = self.cache();
            if let Some(row) = c.rows.get(&key) {
                return Ok(Some(row.clone()));
            }
            c.version
        };
        let (acc, reg, nm) = key.clone();
        let row = self
            .db
            .sync()
            .read(move |c| {
                Ok(c.prepare_cached(
                    "SELECT table_id, table_name, meta FROM ddb_tables \
                     WHERE account_id = ?1 AND region = ?2 AND table_name = ?3",
                )?
                .query_row(params![acc, reg, nm], |r| {
                    Ok(TableRow {
                        table_id: r.get(0)?,
                        name: r.get(1)?,
                        meta: r.get(2)?,
                    })
                })
                .optional()?)
            })
            .await?
            .map(Arc::new);
        if let Some(r) = &row {
            let mut c = self.cache();
            if c.version == version {
                c.rows.insert(key, r.clone());
            }
        }
        Ok(row)
    }

    /// Table names after `after` in byte order, at most `limit`.
    pub async fn list_tables(
        &self,
        account: &str,
        region: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT table_name FROM ddb_tables WHERE account_id = ? AND region = ? \
             AND table_name > ? ORDER BY table_name COLLATE BINARY LIMIT ?",
        )
        .bind(account)
        .bind(region)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Rewrite a table's definition with `f`, atomically. `None` if the table does not exist;
    /// `Some(Err)` if `f` refused (nothing is written).
    pub async fn update_table<E>(
        &self,
        account: &str,
        region: &str,
        name: &str,
        f: impl FnOnce(&TableRow) -> std::result::Result<String, E>,
    ) -> Result<Option<std::result::Result<TableRow, E>>> {
        let mut tx = self.db.begin_immediate().await?;
        // Under the write lock: no reader can re-cache the old row after this.
        self.invalidate(account, region, name);
        let row = sqlx::query(
            "SELECT table_id, table_name, meta FROM ddb_tables \
             WHERE account_id = ? AND region = ? AND table_name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row.as_ref().map(table_from_row) else {
            return Ok(None);
        };
        let meta = match f(&row) {
            Ok(m) => m,
            Err(e) => return Ok(Some(Err(e))),
        };
        sqlx::query("UPDATE ddb_tables SET meta = ? WHERE table_id = ?")
            .bind(&meta)
            .bind(row.table_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        // And after: a read between the first invalidation and the commit saw the old row.
        self.invalidate(account, region, name);
        Ok(Some(Ok(TableRow { meta, ..row })))
    }

    /// Delete a table and its items if `check` allows it. `None` if the table does not exist.
    pub async fn delete_table<E>(
        &self,
        account: &str,
        region: &str,
        name: &str,
        check: impl FnOnce(&TableRow) -> std::result::Result<(), E>,
    ) -> Result<Option<std::result::Result<TableRow, E>>> {
        let mut tx = self.db.begin_immediate().await?;
        self.invalidate(account, region, name);
        let row = sqlx::query(
            "SELECT table_id, table_name, meta FROM ddb_tables \
             WHERE account_id = ? AND region = ? AND table_name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row.as_ref().map(table_from_row) else {
            return Ok(None);
        };
        if let Err(e) = check(&row) {
            return Ok(Some(Err(e)));
        }
        sqlx::query("DELETE FROM ddb_items WHERE table_id = ?")
            .bind(row.table_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM ddb_index_items WHERE table_id = ?")
            .bind(row.table_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM ddb_stream_records WHERE table_id = ?")
            .bind(row.table_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM ddb_tables WHERE table_id = ?")
            .bind(row.table_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.invalidate(account, region, name);
        self.deleted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((row.table_id, std::time::Instant::now()));
        Ok(Some(Ok(row)))
    }

    /// Item count and total item size of a table.
    pub async fn table_stats(&self, table_id: i64) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM ddb_items WHERE table_id = ?",
        )
        .bind(table_id)
        .fetch_one(self.db.pool())
        .await?;
        Ok((row.get(0), row.get(1)))
    }

    pub async fn get_item(&self, key: &ItemKey) -> Result<Option<String>> {
        let key = key.clone();
        self.db.sync().read(move |c| Ok(read_body(c, &key)?)).await
    }

    /// The bodies at `keys`, in order, read together (BatchGetItem, TransactGetItems).
    pub async fn get_items(&self, keys: Vec<ItemKey>) -> Result<Vec<Option<String>>> {
        self.db
            .sync()
            .read(move |c| {
                // One snapshot for all of them, as a transactional read needs.
                let tx = c.unchecked_transaction()?;
                let bodies = keys
                    .iter()
                    .map(|k| read_body(&tx, k))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                tx.finish()?;
                Ok(bodies)
            })
            .await
    }

    /// [`Self::get_items`] with each item's stored size (what Query and Scan count too), for
    /// callers that pass bodies through without parsing them.
    pub async fn get_items_sized(&self, keys: Vec<ItemKey>) -> Result<Vec<Option<(i64, String)>>> {
        self.db
            .sync()
            .read(move |c| {
                let tx = c.unchecked_transaction()?;
                let mut out = Vec::with_capacity(keys.len());
                for key in &keys {
                    out.push(
                        tx.prepare_cached(
                            "SELECT size, body FROM ddb_items \
                             WHERE table_id = ?1 AND pk = ?2 AND sk = ?3",
                        )?
                        .query_row(params![key.table_id, key.pk, key.sk], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })
                        .optional()?,
                    );
                }
                tx.finish()?;
                Ok(out)
            })
            .await
    }

    /// Read the items at `keys`, let `f` decide what to write for each (in order), and apply
    /// that atomically: conditional writes and transactions are all-or-nothing and nothing can
    /// change the items between the read and the write. If `f` refuses, nothing is written.
    ///
    /// The whole job runs as one closure on the `SyncDb` writer: the jobs of concurrent
    /// requests run one after another inside a shared transaction (each sees the ones before
    /// it), which is both the serialization conditional writes need and one commit for many
    /// requests; each is answered after that commit.
    pub async fn write_items<T, E>(
        &self,
        keys: &[ItemKey],
        f: impl FnOnce(Vec<Option<String>>) -> std::result::Result<(Vec<ItemWrite>, T), E>
            + Send
            + 'static,
    ) -> Result<std::result::Result<T, E>>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        self.submit(keys, true, None, f).await
    }

    /// [`Self::write_items`] that also records `token` when the writes commit (and only then).
    pub async fn write_items_with_token<T, E>(
        &self,
        keys: &[ItemKey],
        token: Option<RequestToken>,
        f: impl FnOnce(Vec<Option<String>>) -> std::result::Result<(Vec<ItemWrite>, T), E>
            + Send
            + 'static,
    ) -> Result<std::result::Result<T, E>>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        self.submit(keys, true, token, f).await
    }

    /// The fingerprint a token was recorded with, if at or after `not_before` (epoch seconds).
    pub async fn request_token(
        &self,
        account: &str,
        region: &str,
        token: &str,
        not_before: i64,
    ) -> Result<Option<String>> {
        let (a, r, t) = (account.to_string(), region.to_string(), token.to_string());
        self.db
            .sync()
            .read(move |c| {
                Ok(c.prepare_cached(
                    "SELECT fingerprint FROM ddb_request_tokens \
                     WHERE account_id = ?1 AND region = ?2 AND token = ?3 AND created >= ?4",
                )?
                .query_row(params![a, r, t, not_before], |row| row.get(0))
                .optional()?)
            })
            .await
    }

    /// Forget tokens recorded before `cutoff` (epoch seconds).
    pub async fn forget_request_tokens(&self, cutoff: i64) -> Result<()> {
        self.db
            .sync()
            .write(move |c| {
                c.prepare_cached("DELETE FROM ddb_request_tokens WHERE created < ?1")?
                    .execute([cutoff])?;
                Ok(())
            })
            .await
    }

    /// Like [`Self::write_items`] for writes that do not depend on what is stored (`f` sees
    /// no current items): unconditional puts and deletes skip the read.
    pub async fn write_items_blind<T, E>(
        &self,
        keys: &[ItemKey],
        f: impl FnOnce(Vec<Option<String>>) -> std::result::Result<(Vec<ItemWrite>, T), E>
            + Send
            + 'static,
    ) -> Result<std::result::Result<T, E>>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        self.submit(keys, false, None, f).await
    }

    async fn submit<T, E>(
        &self,
        keys: &[ItemKey],
        read: bool,
        token: Option<RequestToken>,
        f: impl FnOnce(Vec<Option<String>>) -> std::result::Result<(Vec<ItemWrite>, T), E>
            + Send
            + 'static,
    ) -> Result<std::result::Result<T, E>>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let keys = keys.to_vec();
        self.db
            .sync()
            .write(move |c| {
                let current = if read {
                    keys.iter()
                        .map(|k| read_body(c, k))
                        .collect::<rusqlite::Result<Vec<_>>>()?
                } else {
                    vec![None; keys.len()]
                };
                match f(current) {
                    Ok((writes, t)) => {
                        apply_writes(c, &keys, writes)?;
                        if let Some(tk) = &token {
                            c.prepare_cached(
                                "INSERT OR REPLACE INTO ddb_request_tokens \
                                 (account_id, region, token, fingerprint, created) \
                                 VALUES (?1, ?2, ?3, ?4, ?5)",
                            )?
                            .execute(params![
                                tk.account,
                                tk.region,
                                tk.token,
                                tk.fingerprint,
                                chrono::Utc::now().timestamp()
                            ])?;
                        }
                        Ok(Ok(t))
                    }
                    Err(e) => Ok(Err(e)),
                }
            })
            .await
    }

    /// Items of one partition within `range`, in key order (or reverse), strictly after
    /// `after` (a range key) when given, at most `limit`.
    pub async fn query(
        &self,
        table_id: i64,
        pk: &[u8],
        range: &SkRange,
        forward: bool,
        after: Option<&[u8]>,
        limit: i64,
    ) -> Result<Vec<ItemRow>> {
        let (sql, args) = query_sql(table_id, pk, range, forward, after, limit);
        self.db
            .sync()
            .read(move |c| Ok(select(c, &sql, &args, item_from_row)?))
            .await
    }

    /// [`Self::query`] without a limit, each item shown to `visit` as SQLite holds it (no copy
    /// per item) until `visit` returns false: a Query page is built in one read, on the reader
    /// thread.
    #[allow(clippy::too_many_arguments)]
    pub async fn query_each<S, V>(
        &self,
        table_id: i64,
        pk: &[u8],
        range: &SkRange,
        forward: bool,
        after: Option<&[u8]>,
        mut state: S,
        mut visit: V,
    ) -> Result<Visited<S>>
    where
        S: Send + 'static,
        V: FnMut(&mut S, ItemRef<'_>) -> bool + Send + 'static,
    {
        let (sql, args) = query_sql(table_id, pk, range, forward, after, -1);
        self.db
            .sync()
            .read(move |c| {
                let more = visit_items(c, &sql, &args, &mut state, &mut visit)?;
                Ok((state, more))
            })
            .await
    }

    /// Items of a table in key order strictly after `(pk, sk)` when given, at most `limit`.
    pub async fn scan(
        &self,
        table_id: i64,
        after: Option<(&[u8], &[u8])>,
        limit: i64,
    ) -> Result<Vec<ItemRow>> {
        let (sql, args) = scan_sql(table_id, after, limit);
        self.db
            .sync()
            .read(move |c| Ok(select(c, sql, &args, item_from_row)?))
            .await
    }

    /// [`Self::scan`] without a limit, shown to `visit` like [`Self::query_each`].
    pub async fn scan_each<S, V>(
        &self,
        table_id: i64,
        after: Option<(&[u8], &[u8])>,
        mut state: S,
        mut visit: V,
    ) -> Result<Visited<S>>
    where
        S: Send + 'static,
        V: FnMut(&mut S, ItemRef<'_>) -> bool + Send + 'static,
    {
        let (sql, args) = scan_sql(table_id, after, -1);
        self.db
            .sync()
            .read(move |c| {
                let more = visit_items(c, sql, &args, &mut state, &mut visit)?;
                Ok((state, more))
            })
            .await
    }

    /// Entries of one index partition within `range`, in index order (or reverse), strictly
    /// after `after` when given, at most `limit`.
    #[allow(clippy::too_many_arguments)]
    pub async fn query_index(
        &self,
        table_id: i64,
        index: &str,
        ipk: &[u8],
        range: &SkRange,
        forward: bool,
        after: Option<&IndexCursor>,
        limit: i64,
    ) -> Result<Vec<IndexRow>> {
        let mut sql = String::from(
            "SELECT ipk, isk, pk, sk, size, body FROM ddb_index_items \
             WHERE table_id = ?1 AND index_name = ?2 AND ipk = ?3",
        );
        let mut args = vec![
            SqlValue::Integer(table_id),
            SqlValue::Text(index.to_string()),
            SqlValue::Blob(ipk.to_vec()),
        ];
        push_bound(&mut sql, &mut args, "isk", &range.lower, true);
        push_bound(&mut sql, &mut args, "isk", &range.upper, false);
        if let Some((isk, pk, sk)) = after {
            let n = args.len();
            args.extend([
                SqlValue::Blob(isk.clone()),
                SqlValue::Blob(pk.clone()),
                SqlValue::Blob(sk.clone()),
            ]);
            let op = if forward { ">" } else { "<" };
            sql.push_str(&format!(
                " AND (isk, pk, sk) {op} (?{}, ?{}, ?{})",
                n + 1,
                n + 2,
                n + 3
            ));
        }
        args.push(SqlValue::Integer(limit));
        let dir = if forward { "ASC" } else { "DESC" };
        sql.push_str(&format!(
            " ORDER BY isk {dir}, pk {dir}, sk {dir} LIMIT ?{}",
            args.len()
        ));
        self.db
            .sync()
            .read(move |c| Ok(select(c, &sql, &args, index_from_row)?))
            .await
    }

    /// Entries of one index in index order strictly after `after` (ipk, then the cursor).
    pub async fn scan_index(
        &self,
        table_id: i64,
        index: &str,
        after: Option<(&[u8], &IndexCursor)>,
        limit: i64,
    ) -> Result<Vec<IndexRow>> {
        let mut args = vec![
            SqlValue::Integer(table_id),
            SqlValue::Text(index.to_string()),
        ];
        let sql = match after {
            Some((ipk, (isk, pk, sk))) => {
                args.extend([
                    SqlValue::Blob(ipk.to_vec()),
                    SqlValue::Blob(isk.clone()),
                    SqlValue::Blob(pk.clone()),
                    SqlValue::Blob(sk.clone()),
                    SqlValue::Integer(limit),
                ]);
                "SELECT ipk, isk, pk, sk, size, body FROM ddb_index_items \
                 WHERE table_id = ?1 AND index_name = ?2 \
                 AND (ipk, isk, pk, sk) > (?3, ?4, ?5, ?6) ORDER BY ipk, isk, pk, sk LIMIT ?7"
            }
            None => {
                args.push(SqlValue::Integer(limit));
                "SELECT ipk, isk, pk, sk, size, body FROM ddb_index_items \
                 WHERE table_id = ?1 AND index_name = ?2 ORDER BY ipk, isk, pk, sk LIMIT ?3"
            }
        };
        self.db
            .sync()
            .read(move |c| Ok(select(c, sql, &args, index_from_row)?))
            .await
    }

    /// Add entries for existing items (a new index being backfilled).
    pub async fn put_index_entries(&self, entries: Vec<(ItemKey, IndexEntry)>) -> Result<()> {
        self.db
            .sync()
            .write(move |c| {
                for (key, e) in &entries {
                    insert_entry(c, key, e)?;
                }
                Ok(())
            })
            .await
    }

    /// Forget every entry of an index (the index was deleted).
    pub async fn drop_index(&self, table_id: i64, index: &str) -> Result<()> {
        sqlx::query("DELETE FROM ddb_index_items WHERE table_id = ? AND index_name = ?")
            .bind(table_id)
            .bind(index)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Entry count and size of an index (DescribeTable's index ItemCount / IndexSizeBytes).
    pub async fn index_stats(&self, table_id: i64, index: &str) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM ddb_index_items \
             WHERE table_id = ? AND index_name = ?",
        )
        .bind(table_id)
        .bind(index)
        .fetch_one(self.db.pool())
        .await?;
        Ok((row.get(0), row.get(1)))
    }

    /// A table read from the database, bypassing this store's cache (for readers that hold a
    /// different store than the one that writes the table).
    pub async fn get_table_fresh(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<TableRow>> {
        let row = sqlx::query(
            "SELECT table_id, table_name, meta FROM ddb_tables \
             WHERE account_id = ? AND region = ? AND table_name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.as_ref().map(table_from_row))
    }

    /// A table by id (the TTL sweeper finds items, not names).
    pub async fn table_by_id(&self, table_id: i64) -> Result<Option<TableRow>> {
        let row =
            sqlx::query("SELECT table_id, table_name, meta FROM ddb_tables WHERE table_id = ?")
                .bind(table_id)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(row.as_ref().map(table_from_row))
    }

    /// Items whose expiry lies in `[not_before, now]`, oldest first, at most `limit`.
    pub async fn expired_items(
        &self,
        now: i64,
        not_before: i64,
        limit: i64,
    ) -> Result<Vec<ItemKey>> {
        let rows = sqlx::query(
            "SELECT table_id, pk, sk FROM ddb_items WHERE expires IS NOT NULL \
             AND expires <= ? AND expires >= ? ORDER BY expires LIMIT ?",
        )
        .bind(now)
        .bind(not_before)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| ItemKey {
                table_id: r.get(0),
                pk: r.get(1),
                sk: r.get(2),
            })
            .collect())
    }

    /// Recompute every item's expiry from its TTL attribute (`None`: TTL is off).
    pub async fn refresh_expiry(&self, table_id: i64, attribute: Option<&str>) -> Result<()> {
        match attribute {
            Some(attr) => {
                // The stored body is canonical DynamoDB JSON: `{"attr": {"N": "…"}}`. Any
                // other type leaves the item without an expiry, as AWS ignores it.
                let path = format!("$.\"{}\".N", attr.replace('"', "\\\""));
                sqlx::query(
                    "UPDATE ddb_items SET expires = CAST(json_extract(body, ?) AS INTEGER) \
                     WHERE table_id = ?",
                )
                .bind(path)
                .bind(table_id)
                .execute(self.db.pool())
                .await?;
            }
            None => {
                sqlx::query("UPDATE ddb_items SET expires = NULL WHERE table_id = ?")
                    .bind(table_id)
                    .execute(self.db.pool())
                    .await?;
            }
        }
        Ok(())
    }

    /// True when the database has been closed (the server stopped).
    pub fn is_closed(&self) -> bool {
        self.db.sync().is_closed() || self.db.pool().is_closed()
    }

    /// Records of one stream after sequence number `after`, oldest first, at most `limit`.
    pub async fn stream_records(
        &self,
        table_id: i64,
        label: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StreamRow>> {
        let rows = sqlx::query(
            "SELECT seq, record FROM ddb_stream_records WHERE table_id = ? AND stream_label = ? \
             AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(table_id)
        .bind(label)
        .bind(after)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| StreamRow {
                seq: r.get(0),
                record: r.get(1),
            })
            .collect())
    }

    /// Delete stream records written before `cutoff` (epoch seconds; AWS keeps 24 hours),
    /// oldest first, at most `limit`; returns how many went. Sequence numbers grow with
    /// time, so only the oldest records are looked at: a young oldest record ends the trim.
    pub async fn trim_stream_records(&self, cutoff: i64, limit: i64) -> Result<usize> {
        self.db
            .sync()
            .write(move |c| {
                let due: Vec<i64> = select(
                    c,
                    "SELECT seq, CAST(json_extract(record, '$.dynamodb.ApproximateCreationDateTime') \
                     AS INTEGER) FROM ddb_stream_records ORDER BY seq LIMIT ?1",
                    &[SqlValue::Integer(limit)],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?)),
                )?
                .into_iter()
                .take_while(|(_, at)| at.is_some_and(|t| t < cutoff))
                .map(|(seq, _)| seq)
                .collect();
                let Some(&last) = due.last() else {
                    return Ok(0);
                };
                c.prepare_cached("DELETE FROM ddb_stream_records WHERE seq <= ?1")?
                    .execute([last])?;
                Ok(due.len())
            })
            .await
    }

    /// The first and last sequence numbers of a stream, if it has records.
    pub async fn stream_bounds(&self, table_id: i64, label: &str) -> Result<Option<(i64, i64)>> {
        let row = sqlx::query(
            "SELECT MIN(seq), MAX(seq) FROM ddb_stream_records WHERE table_id = ? AND stream_label = ?",
        )
        .bind(table_id)
        .bind(label)
        .fetch_one(self.db.pool())
        .await?;
        let (lo, hi): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
        Ok(lo.zip(hi))
    }

    /// The highest sequence number ever issued (LATEST iterators start after it).
    pub async fn last_stream_seq(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM ddb_stream_records")
            .fetch_one(self.db.pool())
            .await?;
        Ok(row.get(0))
    }

    /// Every table of an account and region (ListStreams looks at their definitions).
    pub async fn all_tables(&self, account: &str, region: &str) -> Result<Vec<TableRow>> {
        let rows = sqlx::query(
            "SELECT table_id, table_name, meta FROM ddb_tables WHERE account_id = ? AND region = ? \
             ORDER BY table_name COLLATE BINARY",
        )
        .bind(account)
        .bind(region)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(table_from_row).collect())
    }

    /// Remove rows that writes in flight during a DeleteTable left behind, for tables deleted
    /// more than `settle` ago (table ids are never reused, so nothing else can own them).
    pub async fn purge_deleted(&self, settle: std::time::Duration) -> Result<()> {
        let due: Vec<i64> = {
            let mut deleted = self
                .deleted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let (due, keep): (Vec<_>, Vec<_>) = deleted
                .drain(..)
                .partition(|(_, at)| at.elapsed() >= settle);
            *deleted = keep;
            due.into_iter().map(|(id, _)| id).collect()
        };
        for id in due {
            let mut tx = self.db.begin_immediate().await?;
            for table in ["ddb_items", "ddb_index_items", "ddb_stream_records"] {
                // Table names are constants above, not input.
                sqlx::query(&format!("DELETE FROM {table} WHERE table_id = ?"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Storage, StorageMode};

    fn put(body: &str) -> ItemWrite {
        ItemWrite::Put {
            size: body.len() as i64,
            body: body.to_string(),
            indexes: None,
            expires: None,
            stream: None,
        }
    }

    #[tokio::test]
    async fn stream_records_older_than_the_cutoff_are_trimmed_oldest_first() {
        let storage = Storage::open(StorageMode::Memory).await.expect("open");
        let store = storage.dynamodb();
        let key = ItemKey {
            table_id: 1,
            pk: b"a".to_vec(),
            sk: Vec::new(),
        };
        for at in [100, 200, 300] {
            let record = format!(r#"{{"dynamodb":{{"ApproximateCreationDateTime":{at}}}}}"#);
            let write = ItemWrite::Put {
                size: 2,
                body: "{}".into(),
                indexes: None,
                expires: None,
                stream: Some(StreamAppend {
                    label: "l".into(),
                    record,
                }),
            };
            store
                .write_items_blind(std::slice::from_ref(&key), move |_| {
                    Ok::<_, ()>((vec![write], ()))
                })
                .await
                .expect("write")
                .expect("decided");
        }
        assert_eq!(store.trim_stream_records(250, 1000).await.expect("trim"), 2);
        assert_eq!(
            store.trim_stream_records(250, 1000).await.expect("again"),
            0
        );
        let left = store.stream_records(1, "l", 0, 10).await.expect("read");
        assert_eq!(left.len(), 1);
        assert!(left[0].record.contains("300"));
    }

    #[tokio::test]
    async fn rows_landing_after_a_table_delete_are_purged() {
        let storage = Storage::open(StorageMode::Memory).await.expect("open");
        let store = storage.dynamodb();
        let id = store
            .create_table("000000000000", "us-east-1", "t", "{}")
            .await
            .expect("create")
            .expect("new");
        let key = ItemKey {
            table_id: id,
            pk: b"a".to_vec(),
            sk: Vec::new(),
        };
        store
            .delete_table("000000000000", "us-east-1", "t", |_| Ok::<_, ()>(()))
            .await
            .expect("delete")
            .expect("existed")
            .expect("allowed");
        // A write that was already in flight when the table went.
        store
            .write_items(std::slice::from_ref(&key), |_| {
                Ok::<_, ()>((vec![put("{}")], ()))
            })
            .await
            .expect("write")
            .expect("decided");
        assert!(store.get_item(&key).await.expect("read").is_some());
        store
            .purge_deleted(std::time::Duration::ZERO)
            .await
            .expect("purge");
        assert!(store.get_item(&key).await.expect("read").is_none());
    }
}
