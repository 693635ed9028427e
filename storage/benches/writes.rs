//! Durable write throughput on this machine: 32 concurrent writers inserting ~200-byte rows into
//! the on-disk database (WAL, synchronous=NORMAL), three ways:
//! one autocommit INSERT per write; group commit with one statement per row; group commit with
//! one multi-row statement per batch. `cargo bench -p cloudemu-storage`.

use cloudemu_storage::group_commit::{BatchWriter, BoxFuture, GroupCommit};
use cloudemu_storage::{Storage, StorageMode};
use sqlx::SqliteConnection;
use std::sync::Arc;
use std::time::Instant;

const WRITERS: usize = 32;
const PER_WRITER: usize = 1_500;

struct PerRow;
struct MultiRow;

fn body(i: usize) -> String {
    format!("{i:08}-{}", "x".repeat(190))
}

impl BatchWriter for PerRow {
    type Item = String;
    type Output = ();
    fn write<'c>(
        &'c self,
        conn: &'c mut SqliteConnection,
        items: &'c [String],
    ) -> BoxFuture<'c, cloudemu_storage::Result<Vec<()>>> {
        Box::pin(async move {
            for b in items {
                sqlx::query("INSERT INTO bench_rows (body) VALUES (?)")
                    .bind(b)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(vec![(); items.len()])
        })
    }
}

impl BatchWriter for MultiRow {
    type Item = String;
    type Output = ();
    fn write<'c>(
        &'c self,
        conn: &'c mut SqliteConnection,
        items: &'c [String],
    ) -> BoxFuture<'c, cloudemu_storage::Result<Vec<()>>> {
        Box::pin(async move {
            // SQLite allows 32,766 bound parameters; batches stay far below.
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO bench_rows (body) ");
            qb.push_values(items, |mut b, body| {
                b.push_bind(body);
            });
            qb.build().execute(&mut *conn).await?;
            Ok(vec![(); items.len()])
        })
    }
}

async fn fresh() -> (tempfile::TempDir, Storage) {
    let dir = tempfile::tempdir().expect("dir");
    let storage = Storage::open(StorageMode::Disk(dir.path().to_path_buf()))
        .await
        .expect("open");
    sqlx::query("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .execute(storage.db.pool())
        .await
        .expect("table");
    (dir, storage)
}

async fn run<F, Fut>(name: &str, write: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let write = Arc::new(write);
    let start = Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let write = write.clone();
            tokio::spawn(async move {
                for i in 0..PER_WRITER {
                    write(w * PER_WRITER + i).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("writer");
    }
    let n = WRITERS * PER_WRITER;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name:40} {:>9.0} writes/s ({n} writes in {secs:.2} s)",
        n as f64 / secs
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        println!("{WRITERS} concurrent writers, ~200-byte rows, on disk (WAL, synchronous=NORMAL)");
        let (_d1, s) = fresh().await;
        let pool = s.db.pool().clone();
        run("autocommit, one INSERT per write", move |i| {
            let pool = pool.clone();
            async move {
                sqlx::query("INSERT INTO bench_rows (body) VALUES (?)")
                    .bind(body(i))
                    .execute(&pool)
                    .await
                    .expect("insert");
            }
        })
        .await;

        let (_d2, s) = fresh().await;
        let gc = GroupCommit::spawn(s.db.clone(), PerRow, 256, 1024);
        run("group commit, one statement per row", move |i| {
            let gc = gc.clone();
            async move {
                gc.submit(body(i)).await.expect("commit");
            }
        })
        .await;

        let (_d3, s) = fresh().await;
        let gc = GroupCommit::spawn(s.db.clone(), MultiRow, 256, 1024);
        run("group commit, one multi-row statement", move |i| {
            let gc = gc.clone();
            async move {
                gc.submit(body(i)).await.expect("commit");
            }
        })
        .await;
    });
}
