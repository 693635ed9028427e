//! SQS queues and messages. Every message write (a whole send batch, a whole receive with its
//! dead-letter moves, a whole delete batch, a visibility change) is ONE closure on the shared
//! synchronous writer ([`crate::sync_db`]): one thread handoff per request, group-committed
//! with other requests' writes and answered only after COMMIT, so it is durable when the
//! caller hears back. Queue management, rare and not on the hot path, stays on sqlx.

use crate::{Db, Result, StorageError};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use std::collections::HashSet;

mod read_ahead;
use read_ahead::ReadAhead;

#[derive(Debug, Clone, PartialEq)]
pub struct QueueRecord {
    pub id: i64,
    pub account_id: String,
    pub region: String,
    pub name: String,
    /// Settable attributes exactly as the client set them.
    pub attributes: Map<String, Value>,
    pub tags: Map<String, Value>,
    pub created_at: i64,
    pub modified_at: i64,
    pub purged_ms: Option<i64>,
}

impl QueueRecord {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).and_then(Value::as_str)
    }
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub queue_id: i64,
    pub message_id: String,
    pub body: String,
    pub md5_body: String,
    pub attributes: Option<String>,
    pub md5_attributes: Option<String>,
    pub system_attributes: Option<String>,
    pub md5_system: Option<String>,
    pub sender_id: String,
    pub sent_ms: i64,
    pub visible_ms: i64,
    pub expires_ms: i64,
    pub group_id: Option<String>,
    /// FIFO: the deduplication id, its scope (`""` for the queue, else the group) and the end of
    /// its window.
    pub dedup: Option<Dedup>,
}

#[derive(Debug, Clone)]
pub struct Dedup {
    pub id: String,
    pub scope: String,
    pub expires_ms: i64,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    pub id: i64,
    pub queue_id: i64,
    pub message_id: String,
    pub body: String,
    pub md5_body: String,
    pub attributes: Option<String>,
    pub md5_attributes: Option<String>,
    pub system_attributes: Option<String>,
    pub md5_system: Option<String>,
    pub sender_id: String,
    pub sent_ms: i64,
    pub visible_ms: i64,
    pub expires_ms: i64,
    pub receive_count: i64,
    pub first_receive_ms: Option<i64>,
    pub receipt: Option<String>,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
}

/// What a send stored (or found, for a duplicate FIFO send).
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub message_id: String,
    /// FIFO queues only: the message's sequence number.
    pub seq: Option<i64>,
}

/// A receive: make up to `max` visible messages invisible until `visible_ms`.
#[derive(Debug, Clone)]
pub struct ReceiveSpec {
    pub queue_id: i64,
    pub max: i64,
    pub now_ms: i64,
    pub visible_ms: i64,
    pub nonce: String,
    pub fifo: bool,
    /// Dead-letter queue id and maxReceiveCount: messages received that often move there.
    pub redrive: Option<(i64, i64)>,
    /// FIFO ReceiveRequestAttemptId and the end of its window: remembered with the receive,
    /// in the same transaction, when it hands out messages.
    pub attempt: Option<(String, i64)>,
    /// When nothing is received, also report when the next hidden message becomes visible
    /// (a long poll sleeps until then at the latest).
    pub next_if_empty: bool,
}

/// A message handle: the message row, its queue, and the nonce of the receive it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Handle {
    pub queue_id: i64,
    pub id: i64,
    pub nonce: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisibilityOutcome {
    Changed,
    /// The message is visible (not in flight).
    NotInflight,
    /// No such message, or a receipt from an earlier receive.
    InvalidHandle,
}

/// One request's message write, run whole as one closure on the `sync_db` writer.
#[derive(Debug, Clone)]
pub enum Write {
    Send(Vec<NewMessage>),
    Delete(Vec<Handle>),
    ChangeVisibility {
        now_ms: i64,
        entries: Vec<(Handle, i64)>,
    },
    Receive(ReceiveSpec),
    /// Move up to `max` visible messages from `from` to `to`, visible now (message move tasks);
    /// with no `to`, each message goes back to the queue the DLQ redrive took it from (messages
    /// without a live origin stay).
    Move {
        from: i64,
        to: Option<i64>,
        max: i64,
        now_ms: i64,
    },
}

#[derive(Debug, Clone)]
pub enum Written {
    Sent(Vec<Sent>),
    /// Done: each handle that named its message's latest receive deleted it; a stale handle
    /// deletes nothing (AWS answers success for both).
    Deleted,
    Visibility(Vec<VisibilityOutcome>),
    Received {
        messages: Vec<MessageRecord>,
        /// Asked for with `next_if_empty` and nothing received: the next instant a hidden
        /// message of the queue becomes visible, if one is waiting.
        next_visible_ms: Option<i64>,
    },
    /// How many messages went to which queue.
    Moved(Vec<(i64, i64)>),
    /// A queue the write names no longer exists (deleted, or state reset): nothing was written.
    QueueGone,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub visible: i64,
    pub not_visible: i64,
    pub delayed: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MoveTaskRecord {
    pub task_handle: String,
    pub account_id: String,
    pub region: String,
    pub source_arn: String,
    pub dest_arn: Option<String>,
    pub max_per_sec: Option<i64>,
    pub status: String,
    pub moved: i64,
    pub to_move: i64,
    pub failure: Option<String>,
    pub started_ms: i64,
}

#[derive(Clone)]
pub struct SqsStore {
    db: Db,
    read_ahead: ReadAhead,
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn json_map(text: &str) -> Map<String, Value> {
    serde_json::from_str(text).unwrap_or_default()
}

fn queue_from_row(r: &SqliteRow) -> QueueRecord {
    QueueRecord {
        id: r.get("id"),
        account_id: r.get("account_id"),
        region: r.get("region"),
        name: r.get("name"),
        attributes: json_map(r.get("attributes")),
        tags: json_map(r.get("tags")),
        created_at: r.get("created_at"),
        modified_at: r.get("modified_at"),
        purged_ms: r.get("purged_ms"),
    }
}

/// The message columns every read selects, in the order [`message_from_row`] reads them: by
/// position, since a lookup by name hashes the name for every column of every row.
macro_rules! message_fields {
    () => {
        "id, queue_id, message_id, body, md5_body, attributes, md5_attributes, \
         system_attributes, md5_system, sender_id, sent_ms, visible_ms, expires_ms, \
         receive_count, first_receive_ms, receipt, group_id, dedup_id"
    };
}

fn message_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRecord> {
    let receive_count = r.get(13)?;
    Ok(MessageRecord {
        id: r.get(0)?,
        queue_id: r.get(1)?,
        message_id: r.get(2)?,
        body: r.get(3)?,
        md5_body: r.get(4)?,
        attributes: r.get(5)?,
        md5_attributes: r.get(6)?,
        system_attributes: r.get(7)?,
        md5_system: r.get(8)?,
        sender_id: r.get(9)?,
        sent_ms: r.get(10)?,
        visible_ms: r.get(11)?,
        expires_ms: r.get(12)?,
        receive_count,
        first_receive_ms: r.get::<_, Option<i64>>(14)?.filter(|_| receive_count > 0),
        receipt: receipt_at(r, 15)?,
        group_id: r.get(16)?,
        dedup_id: r.get(17)?,
    })
}

/// A row's receipt nonce: `None` for the placeholder of a message never received (see
/// `unreceived!`) and for a NULL (rows stored before it, moved messages).
fn receipt_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match r.get_ref(i)? {
        rusqlite::types::ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        _ => None,
    })
}

/// What `CreateQueue` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Creation {
    Created(QueueRecord),
    /// A queue of that name exists (the service compares attributes).
    Exists(QueueRecord),
    /// The name was deleted less than `window_ms` ago.
    DeletedRecently,
}

impl SqsStore {
    pub(crate) fn new(db: Db) -> Self {
        Self {
            db,
            read_ahead: ReadAhead::default(),
        }
    }

    /// Run one message write as one closure on the writer thread; resolves once it has
    /// committed. If it fails, nothing of it was written.
    pub async fn write(&self, w: Write) -> Result<Written> {
        let receive = match &w {
            Write::Receive(spec) => Some((spec.queue_id, spec.now_ms)),
            _ => None,
        };
        let (written, reached_ms) = self.db.sync().write(move |c| apply(c, w)).await?;
        if let (Some((queue_id, now_ms)), Some(reached_ms)) = (receive, reached_ms) {
            self.read_ahead
                .received(self.db.sync(), queue_id, reached_ms, now_ms);
        }
        Ok(written)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn create_queue(
        &self,
        account: &str,
        region: &str,
        name: &str,
        attributes: &Map<String, Value>,
        tags: &Map<String, Value>,
        now_s: i64,
        recent_window_ms: i64,
    ) -> Result<Creation> {
        let mut tx = self.db.begin_immediate().await?;
        if let Some(row) =
            sqlx::query("SELECT * FROM sqs_queues WHERE account_id = ? AND region = ? AND name = ?")
                .bind(account)
                .bind(region)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?
        {
            return Ok(Creation::Exists(queue_from_row(&row)));
        }
        let deleted: Option<i64> = sqlx::query_scalar(
            "SELECT deleted_ms FROM sqs_deleted_queues WHERE account_id = ? AND region = ? AND name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        if deleted.is_some_and(|d| now_s * 1000 - d < recent_window_ms) {
            return Ok(Creation::DeletedRecently);
        }
        let res = sqlx::query(
            "INSERT INTO sqs_queues (account_id, region, name, attributes, tags, created_at, modified_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(Value::Object(attributes.clone()).to_string())
        .bind(Value::Object(tags.clone()).to_string())
        .bind(now_s)
        .bind(now_s)
        .fetch_one(&mut *tx)
        .await;
        let row = match res {
            Ok(r) => r,
            Err(e) if is_unique_violation(&e) => {
                return Err(StorageError::Database(e));
            }
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        Ok(Creation::Created(queue_from_row(&row)))
    }

    pub async fn get_queue(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<QueueRecord>> {
        let row = sqlx::query(
            "SELECT * FROM sqs_queues WHERE account_id = ? AND region = ? AND name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.as_ref().map(queue_from_row))
    }

    pub async fn get_queue_by_id(&self, id: i64) -> Result<Option<QueueRecord>> {
        let row = sqlx::query("SELECT * FROM sqs_queues WHERE id = ?")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.as_ref().map(queue_from_row))
    }

    /// Queues of an account and region whose name starts with `prefix`, by name.
    pub async fn list_queues(
        &self,
        account: &str,
        region: &str,
        prefix: &str,
    ) -> Result<Vec<QueueRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM sqs_queues WHERE account_id = ? AND region = ? \
             AND substr(name, 1, length(?)) = ? ORDER BY name",
        )
        .bind(account)
        .bind(region)
        .bind(prefix)
        .bind(prefix)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(queue_from_row).collect())
    }

    /// Every queue of a region (for redrive lookups across accounts' ARNs).
    pub async fn all_queues(&self, region: &str) -> Result<Vec<QueueRecord>> {
        let rows = sqlx::query("SELECT * FROM sqs_queues WHERE region = ? ORDER BY name")
            .bind(region)
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.iter().map(queue_from_row).collect())
    }

    /// Replace a queue's attributes; `false` if it is gone.
    pub async fn set_attributes(
        &self,
        id: i64,
        attributes: &Map<String, Value>,
        now_s: i64,
    ) -> Result<bool> {
        let res = sqlx::query("UPDATE sqs_queues SET attributes = ?, modified_at = ? WHERE id = ?")
            .bind(Value::Object(attributes.clone()).to_string())
            .bind(now_s)
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(res.rows_affected() == 1)
    }

    pub async fn set_tags(&self, id: i64, tags: &Map<String, Value>) -> Result<bool> {
        let res = sqlx::query("UPDATE sqs_queues SET tags = ? WHERE id = ?")
            .bind(Value::Object(tags.clone()).to_string())
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Delete a queue and its messages, remembering the name for the 60 s no-reuse window.
    pub async fn delete_queue(&self, q: &QueueRecord, now_ms: i64) -> Result<bool> {
        let mut tx = self.db.begin_immediate().await?;
        let res = sqlx::query("DELETE FROM sqs_queues WHERE id = ?")
            .bind(q.id)
            .execute(&mut *tx)
            .await?;
        if res.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM sqs_messages WHERE queue_id = ?")
            .bind(q.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sqs_dedup WHERE queue_id = ?")
            .bind(q.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sqs_receive_attempts WHERE queue_id = ?")
            .bind(q.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT OR REPLACE INTO sqs_deleted_queues (account_id, region, name, deleted_ms) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(&q.account_id)
        .bind(&q.region)
        .bind(&q.name)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.read_ahead.forget(q.id);
        Ok(true)
    }

    /// Delete every message of a queue unless it was purged within `window_ms`; `false` then.
    pub async fn purge(&self, id: i64, now_ms: i64, window_ms: i64) -> Result<bool> {
        let mut tx = self.db.begin_immediate().await?;
        let res = sqlx::query(
            "UPDATE sqs_queues SET purged_ms = ? WHERE id = ? AND (purged_ms IS NULL OR purged_ms <= ?)",
        )
        .bind(now_ms)
        .bind(id)
        .bind(now_ms - window_ms)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM sqs_messages WHERE queue_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // Every message of the queue is gone, in the same transaction.
        sqlx::query("UPDATE sqs_message_counts SET total = 0 WHERE queue_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.read_ahead.forget(id);
        Ok(true)
    }

    /// Exact counts without scanning the queue: the kept total, minus what a range of
    /// the visible index shows hidden (in flight or delayed), minus expired messages the sweeper
    /// has not removed yet (found by the expiry index). Cost grows with the hidden and unswept
    /// messages, not with the visible backlog. One statement, so one snapshot.
    pub async fn counts(&self, queue_id: i64, now_ms: i64) -> Result<Counts> {
        let (total, hidden_nv, hidden_d, exp_v, exp_nv, exp_d) = self
            .db
            .sync()
            .read(move |c| {
                Ok(c.prepare_cached(
                    "SELECT \
                       (SELECT COALESCE(MAX(total), 0) FROM sqs_message_counts WHERE queue_id = ?1), \
                       h.nv, h.d, e.v, e.nv, e.d \
                     FROM \
                       (SELECT COALESCE(SUM(receive_count > 0), 0) AS nv, \
                               COALESCE(SUM(receive_count = 0), 0) AS d \
                          FROM sqs_messages INDEXED BY sqs_messages_visible \
                         WHERE queue_id = ?1 AND visible_ms > ?2) AS h, \
                       (SELECT COALESCE(SUM(visible_ms <= ?2), 0) AS v, \
                               COALESCE(SUM(visible_ms > ?2 AND receive_count > 0), 0) AS nv, \
                               COALESCE(SUM(visible_ms > ?2 AND receive_count = 0), 0) AS d \
                          FROM sqs_messages INDEXED BY sqs_messages_expiry \
                         WHERE expires_ms <= ?2 AND queue_id = ?1) AS e",
                )?
                .query_row(params![queue_id, now_ms], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                })?)
            })
            .await?;
        Ok(Counts {
            visible: (total - hidden_nv - hidden_d - exp_v).max(0),
            not_visible: hidden_nv - exp_nv,
            delayed: hidden_d - exp_d,
        })
    }

    /// The nonce of the receive that used a ReceiveRequestAttemptId within its window.
    pub async fn attempt_nonce(
        &self,
        queue_id: i64,
        attempt_id: &str,
        now_ms: i64,
    ) -> Result<Option<String>> {
        let attempt_id = attempt_id.to_string();
        self.db
            .sync()
            .read(move |c| {
                Ok(c.prepare_cached(
                    "SELECT nonce FROM sqs_receive_attempts WHERE queue_id = ?1 \
                     AND attempt_id = ?2 AND expires_ms > ?3",
                )?
                .query_row(params![queue_id, attempt_id, now_ms], |r| r.get(0))
                .optional()?)
            })
            .await
    }

    /// Up to `limit` unexpired messages in send order, unchanged (test peeking).
    pub async fn peek(&self, queue_id: i64, now_ms: i64, limit: i64) -> Result<Vec<MessageRecord>> {
        self.db
            .sync()
            .read(move |c| {
                let mut st = c.prepare_cached(concat!(
                    "SELECT ",
                    message_fields!(),
                    " FROM sqs_messages WHERE queue_id = ?1 AND expires_ms > ?2 ORDER BY id LIMIT ?3"
                ))?;
                let rows = st.query_map(params![queue_id, now_ms, limit], message_from_row)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// Messages still held by the receive that handed out `nonce` (ReceiveRequestAttemptId).
    pub async fn held_by(
        &self,
        queue_id: i64,
        nonce: &str,
        now_ms: i64,
    ) -> Result<Vec<MessageRecord>> {
        let nonce = nonce.to_string();
        self.db
            .sync()
            .read(move |c| {
                let mut st = c.prepare_cached(concat!(
                    "SELECT ",
                    message_fields!(),
                    " FROM sqs_messages WHERE queue_id = ?1 AND receipt = ?2 AND visible_ms > ?3 \
                     ORDER BY id"
                ))?;
                let rows = st.query_map(params![queue_id, nonce, now_ms], message_from_row)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// Drop messages past their retention, ended deduplication windows and expired name
    /// reservations; at most `limit` messages at a time so the writer never waits long.
    pub async fn sweep(&self, now_ms: i64, limit: i64) -> Result<u64> {
        // On the writer thread like every other message write: the queues' totals change with
        // the rows, in the same savepoint.
        let gone = self
            .db
            .sync()
            .write(move |c| {
                let mut totals = Totals::default();
                let mut st = c.prepare_cached(
                    "DELETE FROM sqs_messages WHERE id IN \
                     (SELECT id FROM sqs_messages WHERE expires_ms <= ?1 LIMIT ?2) \
                     RETURNING queue_id",
                )?;
                let mut gone = 0;
                for q in st.query_map(params![now_ms, limit], |r| r.get::<_, i64>(0))? {
                    totals.add(q?, -1);
                    gone += 1;
                }
                drop(st);
                totals.write(c)?;
                Ok(gone)
            })
            .await?;
        sqlx::query("DELETE FROM sqs_dedup WHERE expires_ms <= ?")
            .bind(now_ms)
            .execute(self.db.pool())
            .await?;
        sqlx::query("DELETE FROM sqs_receive_attempts WHERE expires_ms <= ?")
            .bind(now_ms)
            .execute(self.db.pool())
            .await?;
        sqlx::query("DELETE FROM sqs_deleted_queues WHERE deleted_ms <= ?")
            .bind(now_ms - 60_000)
            .execute(self.db.pool())
            .await?;
        Ok(gone)
    }

    pub async fn put_move_task(&self, t: &MoveTaskRecord) -> Result<()> {
        sqlx::query(
            "INSERT OR REPLACE INTO sqs_move_tasks (task_handle, account_id, region, source_arn, \
             dest_arn, max_per_sec, status, moved, to_move, failure, started_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&t.task_handle)
        .bind(&t.account_id)
        .bind(&t.region)
        .bind(&t.source_arn)
        .bind(&t.dest_arn)
        .bind(t.max_per_sec)
        .bind(&t.status)
        .bind(t.moved)
        .bind(t.to_move)
        .bind(&t.failure)
        .bind(t.started_ms)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    pub async fn move_tasks(&self, source_arn: &str) -> Result<Vec<MoveTaskRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM sqs_move_tasks WHERE source_arn = ? ORDER BY started_ms DESC",
        )
        .bind(source_arn)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| MoveTaskRecord {
                task_handle: r.get("task_handle"),
                account_id: r.get("account_id"),
                region: r.get("region"),
                source_arn: r.get("source_arn"),
                dest_arn: r.get("dest_arn"),
                max_per_sec: r.get("max_per_sec"),
                status: r.get("status"),
                moved: r.get("moved"),
                to_move: r.get("to_move"),
                failure: r.get("failure"),
                started_ms: r.get("started_ms"),
            })
            .collect())
    }
}

/// The columns a send writes, in the order [`insert_message`] binds them, then the two a
/// receive fills in (see `unreceived!`).
macro_rules! message_columns {
    () => {
        "queue_id, message_id, body, md5_body, attributes, md5_attributes, system_attributes, \
         md5_system, sender_id, sent_ms, visible_ms, expires_ms, group_id, dedup_id, \
         receipt, first_receive_ms"
    };
}

/// What a message that was never received holds in `receipt` and `first_receive_ms`: as many
/// bytes as a receive writes there (the service's nonce, a UUID in 32 hex characters, and a
/// millisecond time), so the receive's UPDATE overwrites the row in place. With NULLs there
/// each first receive grew its row by 38 bytes; rows are packed full when sent in order, so
/// receiving split the table's pages, and each split wrote the parent page and allocated a
/// page (page 1, the freelist): a third of the pages a commit wrote under a steady
/// receive+delete load.
/// The receipt placeholder is a BLOB, which never equals the TEXT nonce of a handle, so no
/// handle can name a message before its first receive; readers map it to `None`. The time is
/// a value outside any real time that SQLite stores in the same 6 bytes as one; it is read
/// only with `receive_count > 0`.
macro_rules! unreceived {
    () => {
        concat!(unreceived_receipt!(), ", ", unreceived_first_receive!())
    };
}
macro_rules! unreceived_receipt {
    () => {
        "zeroblob(32)"
    };
}
macro_rules! unreceived_first_receive {
    () => {
        "-1099511627776"
    };
}

/// Run one request's write, whole, on the writer connection (inside its own savepoint of the
/// writer's shared transaction; answered after COMMIT). The queues' kept totals change once
/// per queue at the end, in the same savepoint: if any statement fails, none of it stays.
/// With a receive's messages comes how far in its queue it reached (see [`mark_received`]).
fn apply(c: &Connection, w: Write) -> Result<(Written, Option<i64>)> {
    let mut totals = Totals::default();
    let mut reached_ms = None;
    let written = apply_counted(c, w, &mut totals, &mut reached_ms)?;
    totals.write(c)?;
    Ok((written, reached_ms))
}

/// Net changes to queues' message totals (`sqs_message_counts`) made by one request's
/// statements, from their row counts. One UPDATE per queue per request replaces the per-row
/// triggers the totals had: those ran an UPDATE per message and made SQLite keep a statement
/// journal for every statement on `sqs_messages`.
#[derive(Default)]
struct Totals(Vec<(i64, i64)>);

impl Totals {
    fn add(&mut self, queue_id: i64, n: i64) {
        match self.0.iter_mut().find(|(q, _)| *q == queue_id) {
            Some((_, total)) => *total += n,
            None => self.0.push((queue_id, n)),
        }
    }

    fn write(self, c: &Connection) -> rusqlite::Result<()> {
        for (queue_id, n) in self.0.into_iter().filter(|&(_, n)| n != 0) {
            c.prepare_cached(
                "UPDATE sqs_message_counts SET total = total + ?1 WHERE queue_id = ?2",
            )?
            .execute(params![n, queue_id])?;
        }
        Ok(())
    }
}

fn apply_counted(
    c: &Connection,
    w: Write,
    totals: &mut Totals,
    reached_ms: &mut Option<i64>,
) -> Result<Written> {
    match w {
        Write::Send(msgs) => send(c, &msgs, totals),
        Write::Delete(handles) => {
            delete(c, &handles, totals)?;
            Ok(Written::Deleted)
        }
        Write::ChangeVisibility { now_ms, entries } => {
            let mut out = Vec::with_capacity(entries.len());
            for (h, visible_ms) in &entries {
                out.push(change_visibility(c, h, *visible_ms, now_ms)?);
            }
            Ok(Written::Visibility(out))
        }
        Write::Receive(spec) => {
            let messages = receive(c, &spec, totals, reached_ms)?;
            if let (Some((attempt, until)), false) = (&spec.attempt, messages.is_empty()) {
                c.prepare_cached(
                    "INSERT OR REPLACE INTO sqs_receive_attempts \
                     (queue_id, attempt_id, nonce, expires_ms) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![spec.queue_id, attempt, spec.nonce, until])?;
            }
            let next_visible_ms = if spec.next_if_empty && messages.is_empty() {
                c.prepare_cached(
                    "SELECT MIN(visible_ms) FROM sqs_messages WHERE queue_id = ?1 AND visible_ms > ?2",
                )?
                .query_row(params![spec.queue_id, spec.now_ms], |r| r.get(0))?
            } else {
                None
            };
            Ok(Written::Received {
                messages,
                next_visible_ms,
            })
        }
        Write::Move {
            from,
            to,
            max,
            now_ms,
        } => {
            // No message may outlive its queue: a move names queues that must still exist.
            for q in std::iter::once(from).chain(to) {
                if !queue_exists(c, q)? {
                    return Ok(Written::QueueGone);
                }
            }
            let moved = move_messages(c, from, to, max, now_ms)?;
            for &(q, n) in &moved {
                totals.add(from, -n);
                totals.add(q, n);
            }
            Ok(Written::Moved(moved))
        }
    }
}

fn queue_exists(c: &Connection, id: i64) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT 1 FROM sqs_queues WHERE id = ?1")?
        .exists([id])
}

/// Messages per multi-row INSERT: a request carries at most 10; larger lists are split.
const ROWS_PER_STATEMENT: usize = 10;

/// `(?1, …, tail), (…, tail)`: `rows` groups of `columns` parameters numbered from 1, each
/// group ending with the SQL `tail`.
fn value_groups(rows: usize, columns: usize, tail: &str) -> String {
    let mut sql = String::new();
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..columns {
            if col > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("?{}", r * columns + col + 1));
        }
        sql.push_str(", ");
        sql.push_str(tail);
        sql.push(')');
    }
    sql
}

/// Delete the messages whose handle names their latest receive exactly: a stale receipt
/// deletes nothing (AWS answers success for both). One rowid lookup per handle: the single
/// statement per request this replaced (`id IN (SELECT … JOIN (VALUES …))`) built a temporary
/// B-tree for its IN list on every call, which cost more than ten executions of this one.
fn delete(c: &Connection, handles: &[Handle], totals: &mut Totals) -> Result<()> {
    let mut st = c.prepare_cached(
        "DELETE FROM sqs_messages WHERE id = ?1 AND queue_id = ?2 AND receipt = ?3",
    )?;
    for h in handles {
        let deleted = st.execute(params![h.id, h.queue_id, h.nonce])?;
        totals.add(h.queue_id, -(deleted as i64));
    }
    Ok(())
}

/// A send's messages all name one queue; when it is gone none is stored (`QueueGone`).
fn send(c: &Connection, msgs: &[NewMessage], totals: &mut Totals) -> Result<Written> {
    let Some(first) = msgs.first() else {
        return Ok(Written::Sent(Vec::new()));
    };
    // Asked inside the writer's transaction: a queue deleted since the caller looked it up
    // takes no more messages.
    if !queue_exists(c, first.queue_id)? {
        return Ok(Written::QueueGone);
    }
    // Standard queues' messages (no deduplication, no sequence number to hand back) go in
    // one multi-row statement per request.
    let plain: Vec<&NewMessage> = msgs.iter().filter(|m| m.dedup.is_none()).collect();
    for chunk in plain.chunks(ROWS_PER_STATEMENT) {
        insert_messages(c, chunk)?;
        for m in chunk {
            totals.add(m.queue_id, 1);
        }
    }
    let mut sent = Vec::with_capacity(msgs.len());
    for m in msgs {
        sent.push(match &m.dedup {
            None => Sent {
                message_id: m.message_id.clone(),
                seq: None,
            },
            Some(d) => send_deduplicated(c, m, d, totals)?,
        });
    }
    Ok(Written::Sent(sent))
}

fn message_values(m: &NewMessage) -> [SqlValue; 14] {
    let text = |v: &Option<String>| v.clone().map_or(SqlValue::Null, SqlValue::Text);
    [
        m.queue_id.into(),
        m.message_id.clone().into(),
        m.body.clone().into(),
        m.md5_body.clone().into(),
        text(&m.attributes),
        text(&m.md5_attributes),
        text(&m.system_attributes),
        text(&m.md5_system),
        m.sender_id.clone().into(),
        m.sent_ms.into(),
        m.visible_ms.into(),
        m.expires_ms.into(),
        text(&m.group_id),
        text(&m.dedup.as_ref().map(|d| d.id.clone())),
    ]
}

fn insert_messages(c: &Connection, msgs: &[&NewMessage]) -> rusqlite::Result<()> {
    let sql = format!(
        concat!(
            "INSERT INTO sqs_messages (",
            message_columns!(),
            ") VALUES {}"
        ),
        value_groups(msgs.len(), 14, unreceived!())
    );
    let args: Vec<SqlValue> = msgs.iter().flat_map(|m| message_values(m)).collect();
    c.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(args))?;
    Ok(())
}

/// Inserts one message; returns its row id (a FIFO queue's sequence number).
fn insert_message(c: &Connection, m: &NewMessage) -> rusqlite::Result<i64> {
    c.prepare_cached(concat!(
        "INSERT INTO sqs_messages (",
        message_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ",
        unreceived!(),
        ")"
    ))?
    .execute(params![
        m.queue_id,
        m.message_id,
        m.body,
        m.md5_body,
        m.attributes,
        m.md5_attributes,
        m.system_attributes,
        m.md5_system,
        m.sender_id,
        m.sent_ms,
        m.visible_ms,
        m.expires_ms,
        m.group_id,
        m.dedup.as_ref().map(|d| d.id.as_str()),
    ])?;
    Ok(c.last_insert_rowid())
}

/// A FIFO send: within the deduplication window the first message's id answers again.
fn send_deduplicated(
    c: &Connection,
    m: &NewMessage,
    d: &Dedup,
    totals: &mut Totals,
) -> Result<Sent> {
    let seen: Option<(String, i64)> = c
        .prepare_cached(
            "SELECT message_id, seq FROM sqs_dedup WHERE queue_id = ?1 AND scope = ?2 \
             AND dedup_id = ?3 AND expires_ms > ?4",
        )?
        .query_row(params![m.queue_id, d.scope, d.id, m.sent_ms], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((message_id, seq)) = seen {
        return Ok(Sent {
            message_id,
            seq: Some(seq),
        });
    }
    let seq = insert_message(c, m)?;
    totals.add(m.queue_id, 1);
    c.prepare_cached(
        "INSERT OR REPLACE INTO sqs_dedup (queue_id, scope, dedup_id, message_id, seq, expires_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![m.queue_id, d.scope, d.id, m.message_id, seq, d.expires_ms])?;
    Ok(Sent {
        message_id: m.message_id.clone(),
        seq: Some(seq),
    })
}

fn change_visibility(
    c: &Connection,
    h: &Handle,
    visible_ms: i64,
    now_ms: i64,
) -> Result<VisibilityOutcome> {
    let row: Option<(i64, Option<String>)> = c
        .prepare_cached(
            "SELECT visible_ms, receipt FROM sqs_messages WHERE id = ?1 AND queue_id = ?2",
        )?
        .query_row(params![h.id, h.queue_id], |r| {
            Ok((r.get(0)?, receipt_at(r, 1)?))
        })
        .optional()?;
    let Some((current, receipt)) = row else {
        return Ok(VisibilityOutcome::InvalidHandle);
    };
    if receipt.as_deref() != Some(h.nonce.as_str()) {
        return Ok(VisibilityOutcome::InvalidHandle);
    }
    if current <= now_ms {
        return Ok(VisibilityOutcome::NotInflight);
    }
    c.prepare_cached("UPDATE sqs_messages SET visible_ms = ?1 WHERE id = ?2")?
        .execute(params![visible_ms, h.id])?;
    Ok(VisibilityOutcome::Changed)
}

/// A message move task's slice: returns how many messages went to which queue.
fn move_messages(
    c: &Connection,
    from: i64,
    to: Option<i64>,
    max: i64,
    now_ms: i64,
) -> Result<Vec<(i64, i64)>> {
    // A moved message starts over in its new queue: no receipt, no receives, no origin.
    let mut st = c.prepare_cached(concat!(
        "UPDATE sqs_messages SET queue_id = COALESCE(?1, origin_queue_id), origin_queue_id = NULL, \
         visible_ms = ?2, receive_count = 0, receipt = ",
        unreceived_receipt!(),
        ", first_receive_ms = ",
        unreceived_first_receive!(),
        " WHERE id IN (SELECT id FROM sqs_messages WHERE queue_id = ?3 AND visible_ms <= ?2 \
         AND expires_ms > ?2 AND (?1 IS NOT NULL OR origin_queue_id IN (SELECT id FROM sqs_queues)) \
         ORDER BY id LIMIT ?4) RETURNING queue_id",
    ))?;
    let rows = st.query_map(params![to, now_ms, from, max], |r| r.get::<_, i64>(0))?;
    let mut per_queue: Vec<(i64, i64)> = Vec::new();
    for q in rows {
        let q = q?;
        match per_queue.iter_mut().find(|(id, _)| *id == q) {
            Some((_, n)) => *n += 1,
            None => per_queue.push((q, 1)),
        }
    }
    Ok(per_queue)
}

fn receive(
    c: &Connection,
    spec: &ReceiveSpec,
    totals: &mut Totals,
    reached_ms: &mut Option<i64>,
) -> Result<Vec<MessageRecord>> {
    if !spec.fifo && spec.redrive.is_none() {
        // The common case. Standard queues promise no order, so the index on
        // (queue_id, visible_ms) serves the first visible rows without sorting.
        let mut st = c.prepare_cached(concat!(
            "SELECT ",
            message_fields!(),
            " FROM sqs_messages WHERE queue_id = ?1 AND visible_ms <= ?2 AND expires_ms > ?2 \
             LIMIT ?3"
        ))?;
        let mut msgs = st
            .query_map(
                params![spec.queue_id, spec.now_ms, spec.max],
                message_from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        *reached_ms = mark_received(c, spec, &mut msgs)?;
        msgs.sort_by_key(|m| m.id);
        return Ok(msgs);
    }
    let mut blocked: HashSet<String> = HashSet::new();
    if spec.fifo {
        let mut st = c.prepare_cached(
            "SELECT DISTINCT group_id FROM sqs_messages WHERE queue_id = ?1 AND visible_ms > ?2 \
             AND receive_count > 0 AND group_id IS NOT NULL",
        )?;
        for g in st.query_map(params![spec.queue_id, spec.now_ms], |r| r.get(0))? {
            blocked.insert(g?);
        }
    }
    let candidates: Vec<(i64, i64, Option<String>)> = {
        let sql = if spec.fifo {
            "SELECT id, receive_count, group_id FROM sqs_messages WHERE queue_id = ?1 \
             AND visible_ms <= ?2 AND expires_ms > ?2 ORDER BY id LIMIT ?3"
        } else {
            "SELECT id, receive_count, group_id FROM sqs_messages WHERE queue_id = ?1 \
             AND visible_ms <= ?2 AND expires_ms > ?2 LIMIT ?3"
        };
        let limit = if spec.fifo { 1000 } else { spec.max * 4 };
        let mut st = c.prepare_cached(sql)?;
        let rows = st.query_map(params![spec.queue_id, spec.now_ms, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut chosen: Vec<i64> = Vec::new();
    let mut dead: Vec<i64> = Vec::new();
    for (id, count, group) in candidates {
        if let Some(g) = &group {
            if blocked.contains(g) {
                continue;
            }
        }
        if let Some((_, max_receives)) = spec.redrive {
            if count >= max_receives {
                dead.push(id);
                // A FIFO group's order holds across the move: its later messages wait.
                if let Some(g) = group {
                    blocked.insert(g);
                }
                continue;
            }
        }
        if (chosen.len() as i64) < spec.max {
            chosen.push(id);
        }
    }
    if let Some((dlq, _)) = spec.redrive {
        // `origin_queue_id = queue_id` reads the row before the update: the queue it leaves.
        let mut st = c.prepare_cached(concat!(
            "UPDATE sqs_messages SET queue_id = ?1, origin_queue_id = queue_id, visible_ms = ?2, \
             receipt = ",
            unreceived_receipt!(),
            " WHERE id = ?3"
        ))?;
        for id in &dead {
            let moved = st.execute(params![dlq, spec.now_ms, id])? as i64;
            totals.add(spec.queue_id, -moved);
            totals.add(dlq, moved);
        }
    }
    let mut st = c.prepare_cached(concat!(
        "SELECT ",
        message_fields!(),
        " FROM sqs_messages WHERE id = ?1"
    ))?;
    let mut msgs = Vec::with_capacity(chosen.len());
    for id in chosen {
        msgs.extend(st.query_row([id], message_from_row).optional()?);
    }
    *reached_ms = mark_received(c, spec, &mut msgs)?;
    msgs.sort_by_key(|m| m.id);
    Ok(msgs)
}

/// Hand `msgs` (rows as read in this transaction, on the one writer) out in this receive:
/// hidden until `spec.visible_ms`, counted, bound to this receive's nonce. Each record is
/// changed first and its new state written, so the reply and the row cannot disagree. By
/// rowid and without RETURNING: SQLite builds a temporary B-tree for each RETURNING statement
/// and for an `id IN (SELECT …)` list, which cost a receive of ten more than these ten small
/// updates. Returns the greatest `visible_ms` the rows had before: how far along the visible
/// index this receive reached (where reading ahead goes on from).
fn mark_received(
    c: &Connection,
    spec: &ReceiveSpec,
    msgs: &mut [MessageRecord],
) -> rusqlite::Result<Option<i64>> {
    let mut st = c.prepare_cached(
        "UPDATE sqs_messages SET visible_ms = ?1, receive_count = ?2, first_receive_ms = ?3, \
         receipt = ?4 WHERE id = ?5",
    )?;
    let mut reached_ms = None;
    for m in msgs.iter_mut() {
        reached_ms = reached_ms.max(Some(m.visible_ms));
        m.visible_ms = spec.visible_ms;
        m.receive_count += 1;
        m.first_receive_ms = m.first_receive_ms.or(Some(spec.now_ms));
        m.receipt = Some(spec.nonce.clone());
        st.execute(params![
            m.visible_ms,
            m.receive_count,
            m.first_receive_ms,
            m.receipt,
            m.id
        ])?;
    }
    Ok(reached_ms)
}

#[cfg(test)]
mod counts_tests {
    //! The kept totals against every way a message comes, goes or changes state, with the
    //! clock passed in so delays, visibility and retention can be crossed without waiting.
    use super::*;
    use std::path::Path;

    pub(super) fn msg(queue_id: i64, n: u32, visible_ms: i64, expires_ms: i64) -> NewMessage {
        NewMessage {
            queue_id,
            message_id: format!("m{queue_id}-{n}"),
            body: "b".into(),
            md5_body: "x".into(),
            attributes: None,
            md5_attributes: None,
            system_attributes: None,
            md5_system: None,
            sender_id: "s".into(),
            sent_ms: 1000,
            visible_ms,
            expires_ms,
            group_id: None,
            dedup: None,
        }
    }

    pub(super) async fn queue(store: &SqsStore, name: &str) -> i64 {
        let empty = Map::new();
        match store
            .create_queue("123456789012", "us-east-1", name, &empty, &empty, 1, 60_000)
            .await
            .expect("create")
        {
            Creation::Created(q) => q.id,
            other => panic!("{other:?}"),
        }
    }

    async fn counts(store: &SqsStore, q: i64, now: i64) -> (i64, i64, i64) {
        let c = store.counts(q, now).await.expect("counts");
        (c.visible, c.not_visible, c.delayed)
    }

    #[tokio::test]
    async fn counts_stay_exact_through_every_change_and_a_restart() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("db");
        let db = Db::open_file(&path).await.expect("open");
        let store = SqsStore::new(db.clone());
        let (q, dlq) = (queue(&store, "q").await, queue(&store, "dlq").await);
        let mut batch: Vec<NewMessage> = (0..3).map(|n| msg(q, n, 1000, 100_000)).collect();
        batch.push(msg(q, 3, 5000, 100_000)); // delayed until 5000
        batch.push(msg(q, 4, 1000, 2000)); // retention ends at 2000
        store.write(Write::Send(batch)).await.expect("send");
        assert_eq!(counts(&store, q, 1000).await, (4, 0, 1));
        assert_eq!(
            counts(&store, q, 2000).await,
            (3, 0, 1),
            "expired, not swept"
        );

        let got = match store
            .write(Write::Receive(ReceiveSpec {
                queue_id: q,
                max: 2,
                now_ms: 2000,
                visible_ms: 3000,
                nonce: "n1".into(),
                fifo: false,
                redrive: None,
                attempt: None,
                next_if_empty: false,
            }))
            .await
            .expect("receive")
        {
            Written::Received { messages, .. } => messages,
            other => panic!("{other:?}"),
        };
        assert_eq!(got.len(), 2);
        assert_eq!(counts(&store, q, 2000).await, (1, 2, 1));
        assert_eq!(counts(&store, q, 3000).await, (3, 0, 1), "visibility ended");
        assert_eq!(counts(&store, q, 5000).await, (4, 0, 0), "delay ended");

        store
            .write(Write::Delete(vec![Handle {
                queue_id: q,
                id: got[0].id,
                nonce: "n1".into(),
            }]))
            .await
            .expect("delete");
        assert_eq!(counts(&store, q, 2000).await, (1, 1, 1));

        store
            .write(Write::Move {
                from: q,
                to: Some(dlq),
                max: 10,
                now_ms: 2000,
            })
            .await
            .expect("move");
        assert_eq!(counts(&store, q, 2000).await, (0, 1, 1));
        assert_eq!(counts(&store, dlq, 2000).await, (1, 0, 0));

        // Restart: the totals are rows, written in the same transactions as the messages.
        drop(store);
        db.close().await;
        let db = Db::open_file(&path).await.expect("reopen");
        let store = SqsStore::new(db.clone());
        assert_eq!(counts(&store, q, 2000).await, (0, 1, 1));
        assert_eq!(counts(&store, dlq, 2000).await, (1, 0, 0));

        assert_eq!(counts(&store, q, 200_000).await, (0, 0, 0), "all expired");
        store.sweep(200_000, 10).await.expect("sweep");
        assert_eq!(counts(&store, q, 0).await, (0, 0, 0), "swept");
        assert_eq!(counts(&store, dlq, 0).await, (0, 0, 0), "swept");

        let batch: Vec<NewMessage> = (10..15).map(|n| msg(q, n, 0, 100_000)).collect();
        store.write(Write::Send(batch)).await.expect("send");
        assert_eq!(counts(&store, q, 0).await, (5, 0, 0));
        assert!(store.purge(q, 0, 60_000).await.expect("purge"));
        assert_eq!(counts(&store, q, 0).await, (0, 0, 0), "purged");
        db.close().await;
    }

    pub(super) fn receive_spec(queue_id: i64, now_ms: i64, nonce: &str) -> ReceiveSpec {
        ReceiveSpec {
            queue_id,
            max: 10,
            now_ms,
            visible_ms: now_ms + 1000,
            nonce: nonce.into(),
            fifo: false,
            redrive: None,
            attempt: None,
            next_if_empty: false,
        }
    }

    pub(super) async fn received(store: &SqsStore, spec: ReceiveSpec) -> Vec<MessageRecord> {
        match store.write(Write::Receive(spec)).await.expect("receive") {
            Written::Received { messages, .. } => messages,
            other => panic!("{other:?}"),
        }
    }

    /// The row count itself: what every kept total must equal.
    async fn rows(store: &SqsStore, q: i64) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM sqs_messages WHERE queue_id = ?")
            .bind(q)
            .fetch_one(store.db.pool())
            .await
            .expect("count")
    }

    #[tokio::test]
    async fn counts_follow_redrive_duplicates_stale_deletes_and_moves_home() {
        let db = Db::open_memory().await.expect("open");
        let store = SqsStore::new(db.clone());
        let (q, dlq, fifo) = (
            queue(&store, "q").await,
            queue(&store, "dlq").await,
            queue(&store, "f.fifo").await,
        );
        let batch: Vec<NewMessage> = (0..4).map(|n| msg(q, n, 0, 100_000)).collect();
        store.write(Write::Send(batch)).await.expect("send");
        let first = received(&store, receive_spec(q, 0, "n1")).await;
        assert_eq!(first.len(), 4);

        // A delete batch with two live handles, one stale and one of a message gone already.
        let handle = |m: &MessageRecord, nonce: &str| Handle {
            queue_id: q,
            id: m.id,
            nonce: nonce.into(),
        };
        store
            .write(Write::Delete(vec![
                handle(&first[0], "n1"),
                handle(&first[1], "n1"),
                handle(&first[2], "stale"),
            ]))
            .await
            .expect("delete");
        store
            .write(Write::Delete(vec![handle(&first[0], "n1")]))
            .await
            .expect("delete again");
        assert_eq!(counts(&store, q, 0).await, (0, 2, 0));

        // Received once already: the next receive past maxReceiveCount 1 dead-letters both.
        let mut spec = receive_spec(q, 2000, "n2");
        spec.redrive = Some((dlq, 1));
        assert!(received(&store, spec).await.is_empty());
        assert_eq!(counts(&store, q, 2000).await, (0, 0, 0));
        assert_eq!(counts(&store, dlq, 2000).await, (2, 0, 0));

        // A move task without a destination takes each back where the redrive found it.
        store
            .write(Write::Move {
                from: dlq,
                to: None,
                max: 10,
                now_ms: 2000,
            })
            .await
            .expect("move home");
        assert_eq!(counts(&store, q, 2000).await, (2, 0, 0));
        assert_eq!(counts(&store, dlq, 2000).await, (0, 0, 0));

        // FIFO: a duplicate within the window stores nothing and counts nothing.
        let fifo_msg = |n: u32, dedup: &str| NewMessage {
            group_id: Some("g".into()),
            dedup: Some(Dedup {
                id: dedup.into(),
                scope: String::new(),
                expires_ms: 300_000,
            }),
            ..msg(fifo, n, 0, 100_000)
        };
        store
            .write(Write::Send(vec![
                fifo_msg(0, "a"),
                fifo_msg(1, "a"),
                fifo_msg(2, "b"),
            ]))
            .await
            .expect("fifo send");
        assert_eq!(counts(&store, fifo, 0).await, (2, 0, 0));

        for id in [q, dlq, fifo] {
            let c = counts(&store, id, 0).await;
            assert_eq!(c.0 + c.1 + c.2, rows(&store, id).await, "queue {id}");
        }
        // A deleted queue's total goes with it; its messages too.
        let gone = store.get_queue_by_id(q).await.expect("get").expect("q");
        assert!(store.delete_queue(&gone, 3000).await.expect("delete queue"));
        assert_eq!(rows(&store, q).await, 0);
        assert_eq!(counts(&store, q, 0).await, (0, 0, 0));
        db.close().await;
    }

    /// A database written with the per-row triggers (every migration before
    /// `20261124000009_sqs_counts_statement.sql`) is exact after the upgrade, even with a
    /// total that disagrees with its rows.
    #[tokio::test]
    async fn the_upgrade_recounts_totals_from_the_rows() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("db");
        // The migrations as they stood before this one, as files for sqlx's runtime migrator.
        let old_dir = dir.path().join("migrations");
        std::fs::create_dir(&old_dir).expect("dir");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        for f in std::fs::read_dir(&src).expect("migrations") {
            let name = f.expect("entry").file_name();
            if name.to_string_lossy().as_ref() < "20261124000009" {
                std::fs::copy(src.join(&name), old_dir.join(&name)).expect("copy");
            }
        }
        let old = sqlx::migrate::Migrator::new(old_dir).await.expect("old");
        let pool = sqlx::SqlitePool::connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true),
        )
        .await
        .expect("old database");
        old.run(&pool).await.expect("old migrations");
        for sql in [
            "INSERT INTO sqs_queues (account_id, region, name, attributes, tags, created_at, \
             modified_at) VALUES ('1', 'r', 'a', '{}', '{}', 0, 0), ('1', 'r', 'b', '{}', '{}', 0, 0)",
            "INSERT INTO sqs_messages (queue_id, message_id, body, md5_body, sender_id, sent_ms, \
             visible_ms, expires_ms) VALUES (1, 'x', 'b', 'm', 's', 0, 0, 9000000000000), \
             (1, 'y', 'b', 'm', 's', 0, 0, 9000000000000), (2, 'z', 'b', 'm', 's', 0, 0, 9000000000000)",
            // Drift the old schema could not explain: the upgrade must not trust the totals.
            "UPDATE sqs_message_counts SET total = 7 WHERE queue_id = 2",
        ] {
            sqlx::query(sql).execute(&pool).await.expect(sql);
        }
        pool.close().await;

        let db = Db::open_file(&path).await.expect("upgrade");
        let store = SqsStore::new(db.clone());
        assert_eq!(counts(&store, 1, 0).await, (2, 0, 0));
        assert_eq!(counts(&store, 2, 0).await, (1, 0, 0));
        // And no trigger counts a message twice any more.
        let batch: Vec<NewMessage> = (0..3).map(|n| msg(2, n, 0, 100_000)).collect();
        store.write(Write::Send(batch)).await.expect("send");
        assert_eq!(counts(&store, 2, 0).await, (4, 0, 0));
        db.close().await;
    }

    /// `n` bench-sized messages (200-byte bodies), sent in order as a queue fills.
    async fn full_queue(store: &SqsStore, q: i64, n: u32) {
        let batch: Vec<NewMessage> = (0..n)
            .map(|i| NewMessage {
                body: "x".repeat(200),
                md5_body: "0".repeat(32),
                ..msg(q, i, 0, 100_000_000)
            })
            .collect();
        for chunk in batch.chunks(10) {
            store
                .write(Write::Send(chunk.to_vec()))
                .await
                .expect("send");
        }
    }

    async fn pages(store: &SqsStore) -> i64 {
        sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(store.db.pool())
            .await
            .expect("page_count")
    }

    pub(super) const NONCE: &str = "0123456789abcdef0123456789abcdef";

    #[tokio::test]
    async fn a_first_receive_rewrites_each_row_in_place() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open_file(&dir.path().join("db")).await.expect("open");
        let store = SqsStore::new(db.clone());
        let q = queue(&store, "q").await;
        full_queue(&store, q, 600).await;
        let before = pages(&store).await;
        for i in 0..60 {
            let got = received(&store, receive_spec(q, 10 + i, NONCE)).await;
            assert_eq!(got.len(), 10);
            assert!(got.iter().all(|m| m.receipt.as_deref() == Some(NONCE)
                && m.first_receive_ms == Some(10 + i)
                && m.receive_count == 1));
        }
        // A row that grew on its first receive split full pages and allocated new ones.
        assert_eq!(pages(&store).await, before, "receiving grew the table");
        db.close().await;
    }

    #[tokio::test]
    async fn a_message_never_received_has_no_receipt_any_handle_could_name() {
        let db = Db::open_memory().await.expect("open");
        let store = SqsStore::new(db.clone());
        let q = queue(&store, "q").await;
        full_queue(&store, q, 3).await;
        let peeked = store.peek(q, 0, 10).await.expect("peek");
        assert_eq!(peeked.len(), 3);
        assert!(peeked
            .iter()
            .all(|m| m.receipt.is_none() && m.first_receive_ms.is_none() && m.receive_count == 0));
        // The placeholder is 32 zero bytes; the same bytes as text must not match it.
        let forged = Handle {
            queue_id: q,
            id: peeked[0].id,
            nonce: "\0".repeat(32),
        };
        let outcome = store
            .write(Write::ChangeVisibility {
                now_ms: 0,
                entries: vec![(forged.clone(), 5_000)],
            })
            .await
            .expect("change visibility");
        assert!(matches!(
            outcome,
            Written::Visibility(v) if v == [VisibilityOutcome::InvalidHandle]
        ));
        store
            .write(Write::Delete(vec![forged]))
            .await
            .expect("delete");
        assert_eq!(
            rows(&store, q).await,
            3,
            "a forged handle deleted a message"
        );
        db.close().await;
    }

    #[tokio::test]
    async fn rows_stored_with_nulls_before_the_placeholders_receive_and_delete() {
        let db = Db::open_memory().await.expect("open");
        let store = SqsStore::new(db.clone());
        let q = queue(&store, "q").await;
        sqlx::query(
            "INSERT INTO sqs_messages (queue_id, message_id, body, md5_body, sender_id, sent_ms, \
             visible_ms, expires_ms) VALUES (?, 'old', 'b', 'm', 's', 0, 0, 9000000000000)",
        )
        .bind(q)
        .execute(store.db.pool())
        .await
        .expect("old row");
        let got = received(&store, receive_spec(q, 7, NONCE)).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].first_receive_ms, Some(7));
        assert_eq!(got[0].receipt.as_deref(), Some(NONCE));
        let again = store.peek(q, 0, 10).await.expect("peek");
        assert_eq!(again[0].first_receive_ms, Some(7), "stored as handed out");
        store
            .write(Write::Delete(vec![Handle {
                queue_id: q,
                id: got[0].id,
                nonce: NONCE.into(),
            }]))
            .await
            .expect("delete");
        assert_eq!(rows(&store, q).await, 0);
        db.close().await;
    }

    #[tokio::test]
    async fn a_moved_message_starts_over_without_a_receipt() {
        let db = Db::open_memory().await.expect("open");
        let store = SqsStore::new(db.clone());
        let (q, dlq) = (queue(&store, "q").await, queue(&store, "dlq").await);
        full_queue(&store, dlq, 1).await;
        let got = received(&store, receive_spec(dlq, 5, NONCE)).await;
        assert_eq!(got.len(), 1);
        store
            .write(Write::Move {
                from: dlq,
                to: Some(q),
                max: 10,
                now_ms: 2_000,
            })
            .await
            .expect("move");
        let moved = store.peek(q, 2_000, 10).await.expect("peek");
        assert_eq!(moved.len(), 1);
        assert_eq!(
            (
                moved[0].receive_count,
                moved[0].first_receive_ms,
                moved[0].receipt.clone()
            ),
            (0, None, None)
        );
        let stale = Handle {
            queue_id: q,
            id: got[0].id,
            nonce: NONCE.into(),
        };
        store
            .write(Write::Delete(vec![stale]))
            .await
            .expect("delete");
        assert_eq!(
            rows(&store, q).await,
            1,
            "the old receipt still worked after the move"
        );
        let again = received(&store, receive_spec(q, 2_000, "n2")).await;
        assert_eq!(
            (again[0].receive_count, again[0].first_receive_ms),
            (1, Some(2_000))
        );
        db.close().await;
    }
}
