//! Synchronous SQLite connections on their own threads: one thread handoff per request.
//!
//! Why: sqlx's SQLite driver runs each connection on a worker thread and hands every statement,
//! and every result row, across to it and back. Profiles of DynamoDB GetItem/PutItem spent 44%
//! of the CPU in the kernel switching threads for those handoffs and 6% in SQLite. Here a
//! request sends ONE closure to a thread that owns a plain `rusqlite` connection; the closure
//! runs all of the request's statements there and its result comes back once.
//!
//! * [`SyncDb::read`] runs a closure on one of a few reader threads (WAL lets them read while
//!   the writer writes). Each statement sees the latest commit; a closure that needs several
//!   statements to agree opens a transaction itself (`conn.unchecked_transaction()`).
//! * [`SyncDb::write`] runs a closure on the single writer thread. The writer takes every
//!   closure waiting (up to [`MAX_BATCH`]) and runs them one after another in ONE `BEGIN
//!   IMMEDIATE` transaction, each inside its own `SAVEPOINT`: a closure that returns an error
//!   (or panics) has its own changes rolled back and gets its error, the others are unaffected.
//!   Every caller is answered only after `COMMIT` succeeded, so an acknowledged write survives
//!   `kill -9` (WAL, `synchronous=NORMAL`). Closures run in submission order and each sees the
//!   changes of those before it, which is the serialization conditional writes need.
//!
//! In memory mode every connection (sqlx's and these) opens the same named shared-cache
//! in-memory database; there is no WAL there, so reads are sent to the writer thread instead
//! of reader threads (between its batches), which keeps SQLite's shared-cache table locks
//! from ever blocking one of our own threads on another.
//!
//! Closures must be short and must not block on anything but SQLite: they hold a thread every
//! other request of their kind may be waiting for. Keep sqlx for migrations and stores that
//! have not moved; both see the same database.

use crate::{Result, StorageError};
use rusqlite::{Connection, OpenFlags};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

/// Closures committed together at most (bounds one transaction's length).
pub const MAX_BATCH: usize = 256;
/// Reader threads on a database file. The machine this was tuned on has 2 cores; more
/// readers only add switching.
const READERS: usize = 3;
/// Prepared statements kept per connection (each request's statements are reused).
const STATEMENT_CACHE: usize = 128;

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// A write closure with its reply: run inside the batch, answered after the commit.
trait WriteTask: Send {
    /// Run inside the open transaction; an error means "roll back my savepoint".
    fn run(&mut self, conn: &Connection) -> std::result::Result<(), ()>;
    /// The batch committed (`None`) or failed as a whole (`Some(why)`).
    fn answer(self: Box<Self>, failed: Option<&str>);
}

struct Task<F, T> {
    f: Option<F>,
    out: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<F, T> WriteTask for Task<F, T>
where
    F: FnOnce(&Connection) -> Result<T> + Send,
    T: Send,
{
    fn run(&mut self, conn: &Connection) -> std::result::Result<(), ()> {
        let Some(f) = self.f.take() else {
            return Err(());
        };
        let out = catch_unwind(AssertUnwindSafe(|| f(conn)))
            .unwrap_or_else(|_| Err(failure("the write closure panicked")));
        let ok = out.is_ok();
        self.out = Some(out);
        if ok {
            Ok(())
        } else {
            Err(())
        }
    }

    fn answer(self: Box<Self>, failed: Option<&str>) {
        let out = match (failed, self.out) {
            (None, Some(out)) => out,
            (Some(why), Some(Err(e))) => Err(failure(&format!("{e}; then {why}"))),
            (Some(why), _) => Err(failure(why)),
            (None, None) => Err(failure("the write closure never ran")),
        };
        let _ = self.reply.send(out);
    }
}

enum ToWriter {
    Write(Box<dyn WriteTask>),
    /// A closure run on the writer's connection between batches: reads in memory mode, and
    /// [`SyncDb::between_batches`].
    Read(ReadJob),
    Stop,
}

enum ToReader {
    Read(ReadJob),
    Stop,
}

/// A handle to the reader threads and the writer thread of one database; cheap to clone.
#[derive(Clone)]
pub struct SyncDb {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None` in memory mode: reads go to the writer.
    readers: Option<flume::Sender<ToReader>>,
    reader_count: usize,
    writer: flume::Sender<ToWriter>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    closed: AtomicBool,
}

impl std::fmt::Debug for SyncDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncDb")
            .field("readers", &self.inner.reader_count)
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .finish()
    }
}

fn failure(what: &str) -> StorageError {
    StorageError::Io(std::io::Error::other(what.to_string()))
}

/// `f` boxed to run on a connection's thread outside any batch (a panic becomes its error),
/// and the receiver of what it returns.
fn job<T, F>(f: F) -> (ReadJob, oneshot::Receiver<Result<T>>)
where
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    let job: ReadJob = Box::new(move |conn| {
        let out = catch_unwind(AssertUnwindSafe(|| f(conn)))
            .unwrap_or_else(|_| Err(failure("the closure panicked")));
        let _ = reply.send(out);
    });
    (job, answer)
}

/// A closure's result; a thread that stopped before answering means the database closed.
async fn answered<T>(answer: oneshot::Receiver<Result<T>>) -> Result<T> {
    answer
        .await
        .unwrap_or_else(|_| Err(failure("the database is closed")))
}

/// Waiting for a lock another connection holds (a checkpoint that restarts the WAL holds off
/// the writer while it copies and syncs): sleep in steps of at most 1 ms, for ~10 s in all.
/// SQLite's own busy handler backs off 1, 2, 5, 10, 15… ms, so a writer blocked for 9 ms slept
/// 18 and every request queued behind it waited the difference.
fn busy(retries: i32) -> bool {
    let step_us = 50u64 << retries.clamp(0, 5);
    std::thread::sleep(Duration::from_micros(step_us.min(1_000)));
    retries < 10_000
}

/// Settings every connection needs (they are per connection in SQLite).
fn configure(conn: &Connection, file: bool) -> rusqlite::Result<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_handler(Some(busy))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Each write closure runs in a SAVEPOINT and statements with triggers keep a statement
    // journal: in temporary files those copy every page they touch through write(2) (an SQS
    // batch send wrote ~220 KB of journal per request); in memory it is a memcpy.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    if file {
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // The Db's checkpointer runs beside the writers; an automatic checkpoint would stall
        // the committing writer for its whole fsync (as on the sqlx connections).
        conn.pragma_update(None, "wal_autocheckpoint", "0")?;
    }
    Ok(())
}

impl SyncDb {
    /// Threads over a database file that is already in WAL mode and migrated.
    pub fn open_file(path: &Path) -> Result<Self> {
        let open = {
            let path = path.to_path_buf();
            move || -> rusqlite::Result<Connection> {
                let conn = Connection::open_with_flags(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&conn, true)?;
                Ok(conn)
            }
        };
        Self::start(open, READERS)
    }

    /// Threads over the shared-cache in-memory database `name` (an SQLite URI filename such
    /// as `file:cloudemu-mem-…`, opened with the same flags by sqlx). Reads share the writer.
    pub fn open_shared_memory(name: &str) -> Result<Self> {
        let name = name.to_string();
        let open = move || -> rusqlite::Result<Connection> {
            let conn = Connection::open_with_flags(
                &name,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_MEMORY
                    | OpenFlags::SQLITE_OPEN_SHARED_CACHE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            configure(&conn, false)?;
            Ok(conn)
        };
        Self::start(open, 0)
    }

    fn start(
        open: impl Fn() -> rusqlite::Result<Connection> + Send + Clone + 'static,
        readers: usize,
    ) -> Result<Self> {
        let mut threads = Vec::with_capacity(readers + 1);
        // Connections are opened here, not in the threads, so a bad path fails the open.
        let writer_conn = open()?;
        let (writer, writer_rx) = flume::unbounded();
        threads.push(
            std::thread::Builder::new()
                .name("sqlite-writer".into())
                .spawn(move || run_writer(writer_conn, writer_rx))?,
        );
        let reader_tx = if readers > 0 {
            let (tx, rx) = flume::unbounded::<ToReader>();
            for i in 0..readers {
                let conn = open()?;
                // A reader must never write: writes belong to the writer's batches.
                conn.pragma_update(None, "query_only", "ON")?;
                let rx = rx.clone();
                threads.push(
                    std::thread::Builder::new()
                        .name(format!("sqlite-reader-{i}"))
                        .spawn(move || run_reader(conn, rx))?,
                );
            }
            Some(tx)
        } else {
            None
        };
        Ok(Self {
            inner: Arc::new(Inner {
                readers: reader_tx,
                reader_count: readers,
                writer,
                threads: Mutex::new(threads),
                closed: AtomicBool::new(false),
            }),
        })
    }

    /// Run `f` on a reader connection and return its result. `f` sees every write that was
    /// acknowledged before this call.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(failure("the database is closed"));
        }
        let (job, answer) = job(f);
        let sent = match &self.inner.readers {
            Some(readers) => readers.send(ToReader::Read(job)).is_ok(),
            None => self.inner.writer.send(ToWriter::Read(job)).is_ok(),
        };
        if !sent {
            return Err(failure("the database is closed"));
        }
        answered(answer).await
    }

    /// Queue `f` for a reader thread and return at once; nobody waits for it. For work whose
    /// only purpose is its side effect on the OS page cache (reading ahead of a consumer), so
    /// it never runs on the writer: in memory mode, or once closed, `f` is dropped unrun and
    /// this returns false.
    pub fn read_later<F>(&self, f: F) -> bool
    where
        F: FnOnce(&Connection) + Send + 'static,
    {
        match &self.inner.readers {
            Some(readers) if !self.inner.closed.load(Ordering::Acquire) => {
                readers.send(ToReader::Read(Box::new(f))).is_ok()
            }
            _ => false,
        }
    }

    /// Run `f` on the writer connection inside a transaction shared with other requests'
    /// writes and return its result once that transaction has committed. If `f` returns an
    /// error, everything it wrote is rolled back (and nothing else is).
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(failure("the database is closed"));
        }
        let (reply, answer) = oneshot::channel();
        let task = Box::new(Task {
            f: Some(f),
            out: None,
            reply,
        });
        if self.inner.writer.send(ToWriter::Write(task)).is_err() {
            return Err(failure("the database is closed"));
        }
        answered(answer).await
    }

    /// Run `f` on the writer's connection between two batches (outside any transaction), for
    /// what must not run beside the writer: a checkpoint that restarts the WAL blocks writers
    /// while it works, and run here it costs them exactly its own time, with no lock to wait
    /// for and no sleeping in a busy handler on either side.
    pub async fn between_batches<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(failure("the database is closed"));
        }
        let (job, answer) = job(f);
        if self.inner.writer.send(ToWriter::Read(job)).is_err() {
            return Err(failure("the database is closed"));
        }
        answered(answer).await
    }

    /// True once [`Self::close`] has begun.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    /// Finish what is queued, stop the threads and close their connections (before the last
    /// checkpoint, which wants no other connection open). Later calls fail.
    pub async fn close(&self) {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(readers) = &self.inner.readers {
            for _ in 0..self.inner.reader_count {
                let _ = readers.send(ToReader::Stop);
            }
        }
        let _ = self.inner.writer.send(ToWriter::Stop);
        let threads = std::mem::take(
            &mut *self
                .inner
                .threads
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
    }
}

fn run_reader(conn: Connection, rx: flume::Receiver<ToReader>) {
    while let Ok(ToReader::Read(job)) = rx.recv() {
        job(&conn);
    }
}

fn run_writer(conn: Connection, rx: flume::Receiver<ToWriter>) {
    let mut writes: Vec<Box<dyn WriteTask>> = Vec::with_capacity(MAX_BATCH);
    let mut reads: Vec<ReadJob> = Vec::new();
    let mut stop = false;
    while !stop {
        match rx.recv() {
            Ok(ToWriter::Write(t)) => writes.push(t),
            Ok(ToWriter::Read(r)) => reads.push(r),
            Ok(ToWriter::Stop) | Err(_) => stop = true,
        }
        // Everything that queued while the previous batch committed joins this one.
        while !stop && writes.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(ToWriter::Write(t)) => writes.push(t),
                Ok(ToWriter::Read(r)) => reads.push(r),
                Ok(ToWriter::Stop) => stop = true,
                Err(_) => break,
            }
        }
        if !writes.is_empty() {
            commit_batch(&conn, &mut writes);
        }
        for r in reads.drain(..) {
            r(&conn);
        }
    }
    // Anything sent after Stop is dropped with the channel; its caller hears "closed".
}

fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// One transaction for `tasks`, a savepoint each; answers every task and empties `tasks`.
fn commit_batch(conn: &Connection, tasks: &mut Vec<Box<dyn WriteTask>>) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        let why = format!("could not start a write transaction: {e}");
        tracing::error!(error = %e, tasks = tasks.len(), "sync writer: BEGIN failed");
        tasks.drain(..).for_each(|t| t.answer(Some(&why)));
        return;
    }
    let mut broken = None;
    for (i, task) in tasks.iter_mut().enumerate() {
        if i == 0 {
            // The first closure needs no savepoint: rolling the whole transaction back undoes
            // its writes and nothing else, and a new one begins for the rest. A savepoint
            // copies every page a closure touches into its journal first (~17,000
            // instructions of a receive or delete batch), and under a steady load most
            // batches hold one or two requests.
            if task.run(conn).is_err() {
                if !conn.is_autocommit() {
                    let _ = exec(conn, "ROLLBACK");
                }
                if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
                    broken = Some(format!("could not start a write transaction: {e}"));
                    break;
                }
            }
            continue;
        }
        if let Err(e) = exec(conn, "SAVEPOINT job") {
            broken = Some(format!("savepoint failed: {e}"));
            break;
        }
        let ok = task.run(conn).is_ok();
        let end = if ok {
            exec(conn, "RELEASE job")
        } else if conn.is_autocommit() {
            // Some errors (disk full, I/O) make SQLite roll the whole transaction back:
            // the tasks before this one lost their writes too.
            Err(rusqlite::Error::InvalidQuery)
        } else {
            exec(conn, "ROLLBACK TO job").and_then(|()| exec(conn, "RELEASE job"))
        };
        if let Err(e) = end {
            broken = Some(format!("the write transaction was aborted: {e}"));
            break;
        }
    }
    let failed = match broken {
        Some(why) => {
            let _ = exec(conn, "ROLLBACK");
            Some(why)
        }
        None => match exec(conn, "COMMIT") {
            Ok(()) => None,
            Err(e) => {
                let _ = exec(conn, "ROLLBACK");
                Some(format!("commit failed: {e}"))
            }
        },
    };
    if let Some(why) = &failed {
        tracing::error!(error = %why, tasks = tasks.len(), "sync writer: batch failed");
    }
    tasks.drain(..).for_each(|t| t.answer(failed.as_deref()));
}

#[cfg(test)]
mod tests {
    use crate::{Storage, StorageMode};
    use rusqlite::OptionalExtension;
    use sqlx::Row;
    use std::time::Duration;

    async fn disk() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().expect("dir");
        let storage = Storage::open(StorageMode::Disk(dir.path().to_path_buf()))
            .await
            .expect("open");
        (dir, storage)
    }

    async fn make_table(storage: &Storage) {
        sqlx::query("CREATE TABLE sync_rows (id INTEGER PRIMARY KEY, value TEXT NOT NULL)")
            .execute(storage.db.pool())
            .await
            .expect("table");
    }

    fn insert(id: i64, value: &str) -> impl FnOnce(&rusqlite::Connection) -> crate::Result<i64> {
        let value = value.to_string();
        move |c| {
            c.prepare_cached("INSERT INTO sync_rows (id, value) VALUES (?1, ?2)")?
                .execute(rusqlite::params![id, value])?;
            Ok(id * 10)
        }
    }

    fn value_of(id: i64) -> impl FnOnce(&rusqlite::Connection) -> crate::Result<Option<String>> {
        move |c| {
            Ok(
                c.prepare_cached("SELECT value FROM sync_rows WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?,
            )
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_all_land_and_readers_and_sqlx_see_them() {
        let (_dir, storage) = disk().await;
        make_table(&storage).await;
        let db = storage.db.sync().clone();
        let mut tasks = Vec::new();
        for i in 0..300i64 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                db.write(insert(i, &format!("v{i}"))).await
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.expect("task").expect("committed"), i as i64 * 10);
        }
        assert_eq!(
            db.read(value_of(299)).await.expect("read").as_deref(),
            Some("v299")
        );
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM sync_rows")
            .fetch_one(storage.db.pool())
            .await
            .expect("count")
            .get(0);
        assert_eq!(n, 300);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wal_restart_between_batches_empties_the_log_while_writes_go_on() {
        let (_dir, storage) = disk().await;
        make_table(&storage).await;
        let db = storage.db.sync().clone();
        let mut writes = Vec::new();
        for i in 0..200i64 {
            let db = db.clone();
            writes.push(tokio::spawn(async move {
                db.write(insert(i, &format!("v{i}"))).await
            }));
        }
        // Queued among the writes: it runs between two batches, never inside one. (The Db's
        // own PASSIVE checkpointer may hold the checkpoint lock at that moment: then again.)
        let mut restart = (1, 0, 0);
        for _ in 0..20 {
            restart = db
                .between_batches(|c| {
                    Ok(c.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    })?)
                })
                .await
                .expect("checkpoint");
            if restart.0 == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let (busy, log, copied) = restart;
        assert_eq!(busy, 0, "nothing held the checkpoint off");
        assert_eq!(log, copied, "every frame was copied");
        for t in writes {
            t.await.expect("task").expect("committed");
        }
        assert_eq!(
            db.read(value_of(199)).await.expect("read").as_deref(),
            Some("v199")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_first_closure_of_a_batch_leaves_the_rest_of_the_batch() {
        let (_dir, storage) = disk().await;
        make_table(&storage).await;
        let db = storage.db.sync().clone();
        // Hold the writer so that everything below queues up and runs as one batch, the
        // failing closure first (it runs without a savepoint of its own).
        let hold = db.between_batches(|_| {
            std::thread::sleep(Duration::from_millis(300));
            Ok(())
        });
        let bad = db.write(|c| {
            insert(1, "one")(c)?;
            insert(1, "again")(c)
        });
        let good = db.write(insert(2, "two"));
        let after = db.write(insert(3, "three"));
        let (hold, bad, good, after) = tokio::join!(hold, bad, good, after);
        hold.expect("hold");
        assert!(bad.is_err());
        assert_eq!(good.expect("second write"), 20);
        assert_eq!(after.expect("third write"), 30);
        for (id, want) in [(1, None), (2, Some("two")), (3, Some("three"))] {
            let got = db.read(value_of(id)).await.expect("read");
            assert_eq!(got.as_deref(), want, "row {id}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_closure_rolls_back_only_its_own_writes() {
        let (_dir, storage) = disk().await;
        make_table(&storage).await;
        let db = storage.db.sync().clone();
        let good = db.write(insert(1, "one"));
        let bad = db.write(|c| {
            insert(2, "two")(c)?;
            // The primary key is taken: this closure fails after writing row 2.
            insert(1, "again")(c)
        });
        let panics = db.write(|c| -> crate::Result<()> {
            insert(3, "three")(c)?;
            panic!("a bug in one request")
        });
        let after = db.write(insert(4, "four"));
        let (good, bad, panics, after) = tokio::join!(good, bad, panics, after);
        assert_eq!(good.expect("first write"), 10);
        assert!(bad.is_err());
        assert!(panics.is_err());
        assert_eq!(after.expect("later write"), 40);
        for (id, want) in [(1, Some("one")), (2, None), (3, None), (4, Some("four"))] {
            let got = db.read(value_of(id)).await.expect("read");
            assert_eq!(got.as_deref(), want, "row {id}");
        }
    }

    #[tokio::test]
    async fn acknowledged_writes_survive_a_reopen_without_close() {
        let dir = tempfile::tempdir().expect("dir");
        {
            let storage = Storage::open(StorageMode::Disk(dir.path().to_path_buf()))
                .await
                .expect("open");
            make_table(&storage).await;
            storage
                .db
                .sync()
                .write(insert(7, "kept"))
                .await
                .expect("write");
            // No close, no checkpoint: the commit alone must be durable (the WAL holds it).
            std::mem::forget(storage);
        }
        let storage = Storage::open(StorageMode::Disk(dir.path().to_path_buf()))
            .await
            .expect("reopen");
        let got = storage.db.sync().read(value_of(7)).await.expect("read");
        assert_eq!(got.as_deref(), Some("kept"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_mode_shares_one_database_with_sqlx_and_reset_clears_it() {
        let storage = Storage::open(StorageMode::Memory).await.expect("open");
        make_table(&storage).await;
        let db = storage.db.sync().clone();
        db.write(insert(1, "one")).await.expect("write");
        // sqlx sees what the sync writer wrote, and the other way round.
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM sync_rows")
            .fetch_one(storage.db.pool())
            .await
            .expect("count")
            .get(0);
        assert_eq!(n, 1);
        sqlx::query("INSERT INTO sync_rows (id, value) VALUES (2, 'two')")
            .execute(storage.db.pool())
            .await
            .expect("sqlx insert");
        assert_eq!(
            db.read(value_of(2)).await.expect("read").as_deref(),
            Some("two")
        );
        let before = storage.db.generation();
        storage.reset().await.expect("reset");
        assert!(storage.db.generation() > before);
        assert_eq!(db.read(value_of(1)).await.expect("read"), None);
        // Two memory-mode storages are separate databases.
        let other = Storage::open(StorageMode::Memory)
            .await
            .expect("open other");
        assert!(other.db.sync().read(value_of(2)).await.is_err());
    }

    #[tokio::test]
    async fn close_finishes_queued_work_then_refuses() {
        let (dir, storage) = disk().await;
        make_table(&storage).await;
        let db = storage.db.sync().clone();
        db.write(insert(1, "one")).await.expect("write");
        storage.close().await;
        assert!(db.read(value_of(1)).await.is_err());
        assert!(db.write(insert(2, "two")).await.is_err());
        // A clean close leaves the data dir a single file: every connection was closed.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("cloudemu.db"))
            .collect();
        assert_eq!(names, vec!["cloudemu.db".to_string()]);
    }
}
