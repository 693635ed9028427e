//! The shared SQLite database.

use crate::sync_db::SyncDb;
use crate::Result;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row, SqlitePool};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// WAL frames (4 KiB pages) past which the checkpointer restarts the log (~64 MiB).
const WAL_RESTART_FRAMES: i64 = 16_384;

#[derive(Clone, Debug)]
pub struct Db {
    pool: SqlitePool,
    /// Bumped by every reset, so in-memory caches over the database know to drop everything.
    generation: Arc<AtomicU64>,
    /// The database file (None in memory): `close` checkpoints it once the pool is gone.
    path: Option<PathBuf>,
    /// Synchronous connections on their own threads (one handoff per request, not per
    /// statement): the same database as `pool`.
    sync: SyncDb,
}

impl Db {
    /// WAL with `synchronous=NORMAL`: a committed transaction survives a process crash
    /// (`kill -9`); only an OS crash or power loss can take the last commits.
    pub async fn open_file(path: &Path) -> Result<Self> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Checkpoints run beside the writers (below), not inside their commits: an
            // automatic checkpoint stalls the committing writer for its whole fsync.
            .pragma("wal_autocheckpoint", "0");
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(4)
            .connect_with(opts)
            .await?;
        MIGRATOR.run(&pool).await?;
        // After the migrations: these connections expect the schema and WAL mode in place.
        let sync = SyncDb::open_file(path)?;
        let checkpointer = pool.clone();
        let writer = sync.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            while !checkpointer.is_closed() {
                tick.tick().await;
                // PASSIVE never waits for writers or readers; what it cannot copy now waits
                // for the next tick. Under sustained writes the WAL never gets to start over,
                // so past ~64 MiB a RESTART checkpoint briefly holds writers back to bound it.
                let log: Option<(i64, i64, i64)> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                    .fetch_optional(&checkpointer)
                    .await
                    .ok()
                    .flatten();
                // On the synchronous writer's own thread, between its batches: from here it
                // would first wait for the writer's transaction (sleeping in SQLite's busy
                // handler) and then make the writer wait (sleeping in its handler).
                if log.is_some_and(|(_, frames, _)| frames > WAL_RESTART_FRAMES) {
                    let _ = writer
                        .between_batches(|c| {
                            Ok(c.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))?)
                        })
                        .await;
                }
            }
        });
        Ok(Self {
            pool,
            generation: Arc::default(),
            path: Some(path.to_path_buf()),
            sync,
        })
    }

    /// One pooled connection that never closes, to a named shared-cache in-memory database
    /// (unique to this `Db`), so the synchronous connections open the same database; it lives
    /// as long as one of them is open.
    pub async fn open_memory() -> Result<Self> {
        let name = format!("file:cloudemu-mem-{}", uuid::Uuid::new_v4().simple());
        let opts = SqliteConnectOptions::new()
            .filename(&name)
            .in_memory(true)
            .shared_cache(true)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts)
            .await?;
        MIGRATOR.run(&pool).await?;
        let sync = SyncDb::open_shared_memory(&name)?;
        Ok(Self {
            pool,
            generation: Arc::default(),
            path: None,
            sync,
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The synchronous connections ([`SyncDb`]): run a request's statements in one closure.
    pub fn sync(&self) -> &SyncDb {
        &self.sync
    }

    /// Changes whenever all state is deleted (`reset`): caches compare it before trusting
    /// what they hold.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A transaction that takes SQLite's write lock up front, for writes that read before they
    /// write (quotas, conflict checks, batches): nothing can slip in between.
    pub async fn begin_immediate(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub(crate) async fn clear_all_tables(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let tables: Vec<String> = sqlx::query(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%'",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
        for t in tables {
            // Table names come from sqlite_master, not from a client.
            sqlx::query(&format!("DELETE FROM \"{t}\""))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    pub(crate) async fn close(&self) {
        // Queued work finishes and those connections close first: the checkpoints below
        // copy everything only when no other connection is reading.
        self.sync.close().await;
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await;
        self.pool.close().await;
        // Background writers and the checkpointer may have raced the checkpoint above (a busy
        // checkpoint copies nothing); with every pooled connection gone, one more on its own
        // empties the log for certain, so a cleanly stopped data dir is a single file.
        if let Some(path) = &self.path {
            let opts = SqliteConnectOptions::new()
                .filename(path)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5));
            if let Ok(mut conn) = opts.connect().await {
                // A background writer outside the pool (a group-commit writer's own connection,
                // a sweeper finishing a batch) can still hold the write lock for a moment, and a
                // busy checkpoint copies nothing: retry until one completes, for ~2 s at most.
                for _ in 0..20 {
                    let done: Option<(i64, i64, i64)> =
                        sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                            .fetch_optional(&mut conn)
                            .await
                            .ok()
                            .flatten();
                    if matches!(done, Some((0, _, _))) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                let _ = conn.close().await;
            }
        }
    }
}
