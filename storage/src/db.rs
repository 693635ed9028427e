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

/// WAL frames (4 KiB pages) past which the checkpointer starts the log over (~16 MiB).
const WAL_RESTART_FRAMES: i64 = 4_096;
/// Frames the writer may be left to copy itself when the log starts over: each costs it a few
/// µs while every write waits.
const WAL_CATCH_UP_FRAMES: i64 = 256;
/// How often the checkpointer looks at the log while it grows, and while it does not (an idle
/// server wakes twice a second for it, no more).
const CHECKPOINT_BUSY: Duration = Duration::from_millis(100);
const CHECKPOINT_IDLE: Duration = Duration::from_millis(500);
/// Passes the checkpointer makes to get there before it hands over what is left anyway.
const WAL_CATCH_UP_PASSES: usize = 6;

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

/// Copies the WAL into the database file beside the writers, and keeps the log bounded.
///
/// PASSIVE checkpoints never wait for writers or readers, but under sustained writes they
/// never catch up either (each copies only what was in the log when it began), and the log
/// starts over only once it is wholly copied. Past [`WAL_RESTART_FRAMES`] the log is started
/// over from the synchronous writer's thread, between its batches, where nothing is written
/// meanwhile. Every write waits while that runs (a RESTART with ~1,000 frames left took
/// ~10 ms, once a second, under 20,000 SQS sends/s: the whole p99), so first more PASSIVE
/// passes run here, each copying what was appended during the one before, until what is left
/// is small.
async fn checkpoint_forever(pool: SqlitePool, writer: SyncDb, path: PathBuf) {
    let mut pause = CHECKPOINT_IDLE;
    let mut seen = 0;
    while !pool.is_closed() {
        tokio::time::sleep(pause).await;
        let Some(mut log) = passive_checkpoint(&pool).await else {
            continue;
        };
        // While writes arrive, copy often: each pass is short, the log stays small, and the
        // pages the writer reuses after a restart were written moments ago.
        let writing = log != seen;
        pause = if writing {
            CHECKPOINT_BUSY
        } else {
            CHECKPOINT_IDLE
        };
        seen = log;
        if writing {
            let wal = wal_path(&path);
            let _ = tokio::task::spawn_blocking(move || read_log_ahead(&wal, log)).await;
        }
        if log <= WAL_RESTART_FRAMES {
            continue;
        }
        for _ in 0..WAL_CATCH_UP_PASSES {
            let Some(now) = passive_checkpoint(&pool).await else {
                break;
            };
            // `now - log` frames arrived during the last pass: the writer's share if we stop.
            let appended = now - log;
            log = now;
            if appended <= WAL_CATCH_UP_FRAMES {
                break;
            }
        }
        // A PASSIVE checkpoint that did not reach the end of the log never syncs the database
        // file, so everything the passes copied is still to be written out: the RESTART's
        // fsync would do it (~4 ms per ~40 MB) while writes wait. Sync here first (any handle
        // to the file will do), and the WAL too, so theirs find little left.
        // The RESTART below sends the writer back to the log's start: read that in too.
        let files = [path.clone(), wal_path(&path)];
        let _ = tokio::task::spawn_blocking(move || {
            for f in &files {
                if let Ok(f) = std::fs::File::open(f) {
                    let _ = f.sync_data();
                }
            }
            read_log_ahead(&files[1], 0);
        })
        .await;
        // On the writer's own thread: from here it would first wait for the writer's
        // transaction (in SQLite's busy handler) and then make the writer wait.
        let _ = writer
            .between_batches(|c| Ok(c.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))?))
            .await;
    }
}

/// Frames of the log to keep in the page cache ahead of the writer: more than it writes
/// between two checkpoint passes (~1,000 frames in 100 ms under SQS load).
const WAL_WARM_FRAMES: u64 = 4_096;

/// After a RESTART the writer overwrites the log from its start. A frame is a 24-byte header
/// and a page, so its writes never line up with the filesystem's blocks, and rewriting a block
/// the kernel has dropped from the page cache means first reading it from disk, on the
/// writer's thread, while every request waits. This VM's kernel (DAMON) drops page-cache
/// pages every 5 s, the log's among them: then every frame written for the next ~150 ms
/// waited for a read (143-228 such waits in 6 s of SQS receive+delete; 21-102 with this).
/// So while writes arrive, each pass asks the kernel to read ahead (asynchronously) the part
/// of the log from `frame` on, which the writer overwrites next; cached pages cost nothing.
/// Truncating the log at restart instead (SQLite's `journal_size_limit`) made appends need no
/// reads, but the freed blocks are discarded synchronously on the writer's thread here
/// (`discard` mount): p99 went from ~6 to 11 ms. A hint: failing it changes nothing else.
fn read_log_ahead(wal: &Path, frame: i64) {
    #[cfg(target_os = "linux")]
    {
        const FRAME: u64 = 4096 + 24;
        let start = 32 + frame.max(0) as u64 * FRAME;
        if let Ok(file) = std::fs::File::open(wal) {
            let _ = rustix::fs::fadvise(
                &file,
                start,
                std::num::NonZeroU64::new(WAL_WARM_FRAMES * FRAME),
                rustix::fs::Advice::WillNeed,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (wal, frame);
}

/// SQLite's WAL beside the database file at `db`.
fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// One PASSIVE checkpoint: the frames in the log, None if it failed.
async fn passive_checkpoint(pool: &SqlitePool) -> Option<i64> {
    let (_busy, log, _copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_optional(pool)
        .await
        .ok()
        .flatten()?;
    Some(log)
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
        tokio::spawn(checkpoint_forever(
            pool.clone(),
            sync.clone(),
            path.to_path_buf(),
        ));
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

#[cfg(test)]
mod tests {
    use super::WAL_RESTART_FRAMES;
    use crate::{Storage, StorageMode};
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    async fn log_frames(storage: &Storage) -> i64 {
        super::passive_checkpoint(storage.db.pool())
            .await
            .expect("checkpoint")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_starts_over_while_writes_never_stop() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = Storage::open(StorageMode::Disk(dir.path().to_path_buf()))
            .await
            .expect("open");
        sqlx::query("CREATE TABLE wal_rows (id INTEGER PRIMARY KEY, value BLOB NOT NULL)")
            .execute(storage.db.pool())
            .await
            .expect("table");
        // Writes without a pause, each a few pages: the log only starts over if the
        // checkpointer gets it copied and restarted between them.
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicI64::new(0));
        let writer = {
            let (db, stop, written) = (storage.db.clone(), stop.clone(), written.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Acquire) {
                    let id = written.load(Ordering::Acquire) + 1;
                    db.sync()
                        .write(move |c| {
                            c.execute(
                                "INSERT INTO wal_rows (id, value) VALUES (?1, zeroblob(10000))",
                                [id],
                            )?;
                            Ok(())
                        })
                        .await
                        .expect("write");
                    written.store(id, Ordering::Release);
                }
            })
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut longest = 0;
        let restarted = loop {
            assert!(
                Instant::now() < deadline,
                "the log never started over ({longest} frames)"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
            let log = log_frames(&storage).await;
            if longest > WAL_RESTART_FRAMES && log < longest {
                break log;
            }
            longest = longest.max(log);
        };
        stop.store(true, Ordering::Release);
        writer.await.expect("writer");
        assert!(restarted < longest, "{restarted} frames after {longest}");
        let n = written.load(Ordering::Acquire);
        let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM wal_rows")
            .fetch_one(storage.db.pool())
            .await
            .expect("count");
        assert_eq!(rows, n, "every acknowledged write is there");
        storage.close().await;
    }
}
