//! Group commit: the writes of many concurrent requests committed in one transaction.
//!
//! On this kind of machine one SQLite commit per request caps writes at a few thousand per
//! second, and sqlx's per-statement round trips to its SQLite worker thread cost more than
//! SQLite itself (see shared/DESIGN.md). A single writer task takes whatever writes are waiting,
//! applies them in one `BEGIN IMMEDIATE` transaction (ideally with multi-row statements: the
//! writer sees the whole batch), commits once, then answers every caller. Nothing is
//! acknowledged before its batch commits, so an acknowledged write survives a crash.
//!
//! Services define a [`BatchWriter`] per kind of write and submit items through a
//! [`GroupCommit`] handle.
//!
//! Every statement is a round trip to sqlx's SQLite worker thread, so on disk the writer keeps a
//! connection of its own: a pooled one cost an acquire and a ping round trip per batch.

use crate::{Db, Result, StorageError};
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Applies a batch of items inside an open transaction.
pub trait BatchWriter: Send + Sync + 'static {
    type Item: Send + Sync + 'static;
    type Output: Send + 'static;

    /// Write `items` on `conn` (a transaction is open) and return one output per item, in
    /// order. An error aborts the whole batch: every caller gets it and nothing is committed.
    fn write<'c>(
        &'c self,
        conn: &'c mut SqliteConnection,
        items: &'c [Self::Item],
    ) -> BoxFuture<'c, Result<Vec<Self::Output>>>;
}

type Reply<O> = oneshot::Sender<std::result::Result<O, Arc<StorageError>>>;

/// A handle to a writer task; cheap to clone.
pub struct GroupCommit<W: BatchWriter> {
    queue: mpsc::Sender<(W::Item, Reply<W::Output>)>,
}

impl<W: BatchWriter> Clone for GroupCommit<W> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

/// Why a submitted write did not commit.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GroupCommitError {
    #[error("the batch failed: {0}")]
    Batch(Arc<StorageError>),
    #[error("the writer has stopped")]
    Stopped,
}

impl<W: BatchWriter> GroupCommit<W> {
    /// Start the writer task on the current Tokio runtime. `max_batch` bounds one
    /// transaction; `queue` bounds the writes waiting (callers wait when it is full).
    // A thread and runtime of its own was tried; its gain was not measured apart from the
    // other changes, so the simpler placement stays.
    pub fn spawn(db: Db, writer: W, max_batch: usize, queue: usize) -> Self {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let max_batch = max_batch.max(1);
        tokio::spawn(run(db, writer, rx, max_batch));
        Self { queue: tx }
    }

    /// Submit one write; resolves once the batch holding it has committed.
    pub async fn submit(&self, item: W::Item) -> std::result::Result<W::Output, GroupCommitError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((item, reply))
            .await
            .map_err(|_| GroupCommitError::Stopped)?;
        match answer.await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(GroupCommitError::Batch(e)),
            Err(_) => Err(GroupCommitError::Stopped),
        }
    }
}

async fn run<W: BatchWriter>(
    db: Db,
    writer: W,
    mut rx: mpsc::Receiver<(W::Item, Reply<W::Output>)>,
    max_batch: usize,
) {
    let mut items = Vec::with_capacity(max_batch);
    let mut replies = Vec::with_capacity(max_batch);
    let mut own: Option<SqliteConnection> = None;
    while let Some((item, reply)) = rx.recv().await {
        items.push(item);
        replies.push(reply);
        // Everything that queued while the previous batch committed joins this one.
        while items.len() < max_batch {
            match rx.try_recv() {
                Ok((item, reply)) => {
                    items.push(item);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        let result = commit_batch(&db, &mut own, &writer, &items).await;
        match result {
            Ok(outputs) if outputs.len() == replies.len() => {
                for (reply, out) in replies.drain(..).zip(outputs) {
                    let _ = reply.send(Ok(out));
                }
            }
            Ok(outputs) => {
                let e = Arc::new(StorageError::Io(std::io::Error::other(format!(
                    "batch writer returned {} outputs for {} items",
                    outputs.len(),
                    replies.len()
                ))));
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(e.clone()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, items = items.len(), "group commit failed");
                let e = Arc::new(e);
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
        items.clear();
    }
}

async fn commit_batch<W: BatchWriter>(
    db: &Db,
    own: &mut Option<SqliteConnection>,
    writer: &W,
    items: &[W::Item],
) -> Result<Vec<W::Output>> {
    let opts = db.pool().connect_options();
    // An in-memory database exists only on its pool's one connection.
    if opts.get_filename() == std::path::Path::new(":memory:") {
        let mut tx = db.begin_immediate().await?;
        let outputs = writer.write(&mut tx, items).await?;
        tx.commit().await?;
        return Ok(outputs);
    }
    let conn = match own {
        Some(c) => c,
        None => own.insert(opts.connect().await?),
    };
    let result = async {
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let outputs = writer.write(&mut tx, items).await?;
        tx.commit().await?;
        Ok(outputs)
    }
    .await;
    if result.is_err() {
        // A connection that failed mid-transaction is not trusted again: the next batch opens
        // a fresh one (dropping this one rolls back whatever it left open).
        *own = None;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Storage, StorageMode};
    use sqlx::Row;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Inserts `(id, value)` rows with one multi-row statement per batch; ids < 0 fail the batch.
    #[derive(Default)]
    struct Rows {
        batches: Arc<AtomicUsize>,
    }

    impl BatchWriter for Rows {
        type Item = (i64, String);
        type Output = i64;

        fn write<'c>(
            &'c self,
            conn: &'c mut SqliteConnection,
            items: &'c [Self::Item],
        ) -> BoxFuture<'c, Result<Vec<i64>>> {
            Box::pin(async move {
                self.batches.fetch_add(1, Ordering::Relaxed);
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO gc_rows (id, value) ");
                qb.push_values(items, |mut b, (id, v)| {
                    b.push_bind(id).push_bind(v);
                });
                qb.build().execute(&mut *conn).await?;
                if items.iter().any(|(id, _)| *id < 0) {
                    return Err(StorageError::Io(std::io::Error::other("negative id")));
                }
                Ok(items.iter().map(|(id, _)| *id * 10).collect())
            })
        }
    }

    async fn setup() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().expect("dir");
        let storage = Storage::open(StorageMode::Disk(dir.path().to_path_buf()))
            .await
            .expect("open");
        sqlx::query("CREATE TABLE gc_rows (id INTEGER PRIMARY KEY, value TEXT NOT NULL)")
            .execute(storage.db.pool())
            .await
            .expect("table");
        (dir, storage)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_share_commits_and_all_land() {
        let (_dir, storage) = setup().await;
        let writer = Rows::default();
        let batches = writer.batches.clone();
        let gc = GroupCommit::spawn(storage.db.clone(), writer, 64, 256);
        let mut tasks = Vec::new();
        for i in 0..500i64 {
            let gc = gc.clone();
            tasks.push(tokio::spawn(async move {
                gc.submit((i, format!("v{i}"))).await
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.expect("task").expect("committed"), i as i64 * 10);
        }
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM gc_rows")
            .fetch_one(storage.db.pool())
            .await
            .expect("count")
            .get(0);
        assert_eq!(n, 500);
        let batches = batches.load(Ordering::Relaxed);
        assert!(batches < 500, "writes were not grouped: {batches} batches");
    }

    #[tokio::test]
    async fn a_failing_batch_commits_nothing_and_tells_every_caller() {
        let (_dir, storage) = setup().await;
        let gc = GroupCommit::spawn(storage.db.clone(), Rows::default(), 64, 256);
        assert!(matches!(
            gc.submit((-1, "bad".into())).await,
            Err(GroupCommitError::Batch(_))
        ));
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM gc_rows")
            .fetch_one(storage.db.pool())
            .await
            .expect("count")
            .get(0);
        assert_eq!(n, 0);
        assert_eq!(
            gc.submit((7, "ok".into())).await.expect("next batch works"),
            70
        );
    }
}
