//! Reading ahead of a queue's receivers, on a reader thread.
//!
//! Why: every receive and delete runs on the one writer thread ([`crate::sync_db`]), so a page
//! the writer has to read from disk stalls every write queued behind it. Messages that waited
//! in a queue longer than the OS keeps idle file pages cached are on disk only. On the machine
//! the benchmark runs on that is ~30 s, and a paced receive+delete run over such a backlog spent
//! up to 12 % of the writer's time in pread(2), in bursts, with p99 at 8–9 ms.
//!
//! Receivers take the first visible rows of the visible index, in its order, so the rows they
//! take next are known. When a receive reaches rows sent a while ago (a backlog), a reader
//! thread reads the next [`ROWS_PER_PASS`] of them, and the stretch of the expiry index their
//! deletes will change, before the writer gets there; the writer then finds those pages
//! cached. A consumer that keeps up takes rows sent moments ago, which are cached anyway, and
//! costs nothing here.

use crate::sync_db::SyncDb;
use rusqlite::{params, Connection};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Rows read per pass. The next pass starts when receivers pass the middle of this one, so the
/// reading stays half a pass to a pass ahead: at 40,000 messages/s, 25–50 ms of receives.
pub(crate) const ROWS_PER_PASS: i64 = 2048;
/// Receives of rows younger than this (by the time they became visible) do not read ahead.
pub(crate) const BACKLOG_AGE_MS: i64 = 5_000;

/// What has been read of one queue, in the visible index's order (`visible_ms`).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Window {
    /// A receive that reaches this starts the next pass.
    pub mid_ms: i64,
    /// The next pass reads from here.
    pub end_ms: i64,
    /// A pass is queued or running: receives do not start another.
    pub running: bool,
}

#[derive(Clone, Default)]
pub(crate) struct ReadAhead {
    windows: Arc<Mutex<HashMap<i64, Window>>>,
}

fn lock(m: &Mutex<HashMap<i64, Window>>) -> MutexGuard<'_, HashMap<i64, Window>> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ReadAhead {
    /// A receive on `queue_id` at `now_ms` took rows up to `reached_ms`: the greatest
    /// `visible_ms` they had before the receive hid them.
    pub(crate) fn received(&self, db: &SyncDb, queue_id: i64, reached_ms: i64, now_ms: i64) {
        if now_ms - reached_ms < BACKLOG_AGE_MS {
            return;
        }
        let from_ms = {
            let mut windows = lock(&self.windows);
            let w = windows.entry(queue_id).or_default();
            if w.running || reached_ms < w.mid_ms {
                return;
            }
            w.running = true;
            // Go on where the last pass ended, unless receivers have overtaken it.
            reached_ms.max(w.end_ms)
        };
        let windows = Arc::clone(&self.windows);
        // In memory mode there are no reader threads and nothing to read from disk: the job is
        // dropped and `running` stays set, so this queue never tries again.
        db.read_later(move |c| {
            let pass = read_pass(c, queue_id, from_ms, now_ms);
            if let Some(w) = lock(&windows).get_mut(&queue_id) {
                w.running = false;
                if let Ok((mid_ms, end_ms)) = pass {
                    w.mid_ms = mid_ms;
                    w.end_ms = end_ms;
                }
            }
        });
    }

    /// The queue is gone or emptied: its window means nothing any more.
    pub(crate) fn forget(&self, queue_id: i64) {
        lock(&self.windows).remove(&queue_id);
    }

    #[cfg(test)]
    pub(crate) fn window(&self, queue_id: i64) -> Option<Window> {
        lock(&self.windows).get(&queue_id).copied()
    }
}

/// Read the next [`ROWS_PER_PASS`] visible rows of `queue_id` from `from_ms` on (their table
/// pages and visible-index pages), then the expiry-index entries of the same messages. Returns
/// the `visible_ms` at which the next pass should start and from which it reads. A short pass
/// has read everything visible at `now_ms`: the next waits for receivers to reach rows that
/// became visible later.
pub(crate) fn read_pass(
    c: &Connection,
    queue_id: i64,
    from_ms: i64,
    now_ms: i64,
) -> rusqlite::Result<(i64, i64)> {
    let mut st = c.prepare_cached(
        "SELECT visible_ms, expires_ms FROM sqs_messages INDEXED BY sqs_messages_visible \
         WHERE queue_id = ?1 AND visible_ms >= ?2 AND visible_ms <= ?3 \
         ORDER BY visible_ms LIMIT ?4",
    )?;
    let mut rows = st.query(params![queue_id, from_ms, now_ms, ROWS_PER_PASS])?;
    let (mut n, mut mid_ms, mut end_ms) = (0i64, now_ms, now_ms);
    let (mut min_expiry, mut max_expiry) = (i64::MAX, i64::MIN);
    while let Some(r) = rows.next()? {
        let (visible_ms, expires_ms): (i64, i64) = (r.get(0)?, r.get(1)?);
        n += 1;
        if n == ROWS_PER_PASS / 2 {
            mid_ms = visible_ms;
        }
        end_ms = visible_ms;
        min_expiry = min_expiry.min(expires_ms);
        max_expiry = max_expiry.max(expires_ms);
    }
    if n < ROWS_PER_PASS {
        (mid_ms, end_ms) = (now_ms, now_ms);
    }
    if n > 0 {
        // Deletes remove these messages' expiry entries; that stretch of the index holds other
        // queues' messages sent at the same time too, so the count is capped.
        c.prepare_cached(
            "SELECT COUNT(*) FROM (SELECT 1 FROM sqs_messages INDEXED BY sqs_messages_expiry \
             WHERE expires_ms BETWEEN ?1 AND ?2 LIMIT ?3)",
        )?
        .query_row(params![min_expiry, max_expiry, 4 * ROWS_PER_PASS], |r| {
            r.get::<_, i64>(0)
        })?;
    }
    Ok((mid_ms, end_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqs::counts_tests::{msg, queue, receive_spec, received, NONCE};
    use crate::sqs::{NewMessage, ReceiveSpec, SqsStore, Write};
    use crate::Db;
    use std::time::Duration;

    /// Messages `visible_ms` = `from`, `from + 1`, … (one per millisecond, sent at that instant
    /// too, which names them below), sent in batches.
    async fn send(store: &SqsStore, queue_id: i64, from: i64, n: i64) {
        let msgs: Vec<NewMessage> = (from..from + n)
            .map(|v| NewMessage {
                body: "b".repeat(100),
                sent_ms: v,
                ..msg(queue_id, v as u32, v, 1_000_000_000 + v)
            })
            .collect();
        for chunk in msgs.chunks(10) {
            store
                .write(Write::Send(chunk.to_vec()))
                .await
                .expect("send");
        }
    }

    /// The send instants of the messages one receive at `now_ms` takes (they stay hidden past
    /// every later `now_ms` these tests use).
    async fn receive(store: &SqsStore, queue_id: i64, now_ms: i64) -> Vec<i64> {
        let spec = ReceiveSpec {
            visible_ms: now_ms + 1_000_000,
            ..receive_spec(queue_id, now_ms, NONCE)
        };
        let got = received(store, spec).await;
        got.iter().map(|m| m.sent_ms).collect()
    }

    /// The window once no pass is queued or running (a pass runs on a reader thread).
    async fn settled(store: &SqsStore, queue_id: i64) -> Option<Window> {
        for _ in 0..500 {
            match store.read_ahead.window(queue_id) {
                Some(w) if w.running => tokio::time::sleep(Duration::from_millis(10)).await,
                other => return other,
            }
        }
        panic!("the pass never finished");
    }

    #[tokio::test]
    async fn a_pass_reads_its_own_queues_visible_rows_in_order_and_says_where_to_go_on() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open_file(&dir.path().join("db")).await.expect("open");
        let store = SqsStore::new(db.clone());
        let (a, b) = (queue(&store, "a").await, queue(&store, "b").await);
        // The same visible times in another queue must not count toward this one's rows.
        send(&store, b, 0, 3000).await;
        send(&store, a, 0, 3000).await;
        let pass = |from_ms: i64, now_ms: i64| {
            db.sync()
                .read(move |c| Ok(read_pass(c, a, from_ms, now_ms)?))
        };
        let half = ROWS_PER_PASS / 2;
        assert_eq!(
            pass(100, 10_000).await.expect("pass"),
            (100 + half - 1, 100 + ROWS_PER_PASS - 1),
            "a full pass: the next starts when receives reach its middle row"
        );
        assert_eq!(
            pass(2500, 10_000).await.expect("pass"),
            (10_000, 10_000),
            "a short pass read everything visible: wait for rows visible after it"
        );
        assert_eq!(
            pass(100, 1000).await.expect("pass"),
            (1000, 1000),
            "rows not yet visible are not read"
        );
        db.close().await;
    }

    #[tokio::test]
    async fn receives_from_a_backlog_read_ahead_and_receives_of_fresh_rows_do_not() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open_file(&dir.path().join("db")).await.expect("open");
        let store = SqsStore::new(db.clone());
        let q = queue(&store, "q").await;
        send(&store, q, 0, 6000).await;

        // Rows that became visible moments ago: a consumer keeping up reads nothing ahead.
        assert_eq!(receive(&store, q, 10).await, (0..10).collect::<Vec<_>>());
        assert_eq!(settled(&store, q).await, None);

        // A backlog: the pass goes on from the last row received (19, now hidden, so from 20).
        let now = 100_000;
        assert_eq!(receive(&store, q, now).await, (10..20).collect::<Vec<_>>());
        let first = settled(&store, q).await.expect("a window");
        assert_eq!(
            (first.mid_ms, first.end_ms),
            (20 + ROWS_PER_PASS / 2 - 1, 20 + ROWS_PER_PASS - 1)
        );
        // Receives short of its middle start nothing; the one that passes it reads on from
        // where the first pass ended.
        let mut reached = 19;
        while reached < first.mid_ms {
            reached = *receive(&store, q, now).await.last().expect("a message");
            if reached < first.mid_ms {
                assert_eq!(store.read_ahead.window(q), Some(first));
            }
        }
        let second = settled(&store, q).await.expect("a window");
        assert_eq!(
            (second.mid_ms, second.end_ms),
            (
                first.end_ms + ROWS_PER_PASS / 2 - 1,
                first.end_ms + ROWS_PER_PASS - 1
            )
        );

        // Emptied queues forget their window.
        assert!(store.purge(q, now, 60_000).await.expect("purge"));
        assert_eq!(store.read_ahead.window(q), None);
        db.close().await;
    }

    #[tokio::test]
    async fn in_memory_a_backlog_never_reads_ahead() {
        let db = Db::open_memory().await.expect("open");
        let store = SqsStore::new(db.clone());
        let q = queue(&store, "q").await;
        send(&store, q, 0, 100).await;
        for _ in 0..3 {
            assert_eq!(receive(&store, q, 100_000).await.len(), 10);
        }
        // No reader threads: the one pass asked for was dropped unrun, and none was asked since.
        assert_eq!(
            store.read_ahead.window(q),
            Some(Window {
                mid_ms: 0,
                end_ms: 0,
                running: true
            })
        );
        db.close().await;
    }
}
