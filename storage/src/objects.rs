//! The object store: large bodies (S3 objects and parts, Lambda code) as files under the data
//! dir, or in memory with `--in-memory`.
//!
//! A body is streamed to a temp file while it is hashed, fsynced, then renamed into place, so a
//! crash never leaves a half-written object under a live name. File names are generated ids,
//! never derived from user input (keys are not file names).

use crate::Result;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What a completed write produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub id: String,
    pub size: u64,
    pub md5: [u8; 16],
    pub sha256: [u8; 32],
}

/// A body to read back.
pub enum ObjectBody {
    File(tokio::fs::File),
    Memory(Bytes),
}

/// Chunk size when streaming a body out: large enough for disk speed, small enough that
/// memory stays flat per transfer.
const READ_CHUNK: usize = 1024 * 1024;

impl ObjectBody {
    /// `len` bytes from `start` as a stream of chunks, read as the consumer asks for them.
    pub fn into_stream(
        self,
        start: u64,
        len: u64,
    ) -> futures_util::stream::BoxStream<'static, std::io::Result<Bytes>> {
        use futures_util::stream;
        match self {
            ObjectBody::Memory(b) => {
                let from = usize::try_from(start).unwrap_or(usize::MAX).min(b.len());
                let to = usize::try_from(start.saturating_add(len))
                    .unwrap_or(usize::MAX)
                    .min(b.len());
                stream::iter([Ok(b.slice(from..to))]).boxed()
            }
            ObjectBody::File(file) => {
                // Threads read ahead while the chunk before is still being sent: reading
                // only when asked left the disk idle during every send and the socket idle
                // during every read (an uncached 1 GiB GET: ~400-700 MB/s). Two of them, each
                // taking every other chunk: this disk serves one reader of 1 MiB requests at
                // ~550 MB/s and two at ~1.9 GB/s.
                // A body of one chunk needs one thread: the second would start only to stop.
                let chunks = len.div_ceil(READ_CHUNK as u64);
                let readers = usize::try_from(chunks).unwrap_or(READERS).clamp(1, READERS);
                let (mut txs, mut rxs) = (Vec::new(), Vec::new());
                for _ in 0..readers {
                    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
                    txs.push(tx);
                    rxs.push(rx);
                }
                tokio::spawn(async move {
                    let file = std::sync::Arc::new(file.into_std().await);
                    for (k, tx) in txs.into_iter().enumerate() {
                        let file = file.clone();
                        tokio::task::spawn_blocking(move || {
                            read_every_nth(&file, start, len, k, readers, &tx);
                        });
                    }
                });
                // Chunk i comes from reader i % readers; a reader that has sent its last
                // chunk (or an error) closes its channel, which ends the stream there.
                stream::unfold((rxs, 0usize), |(mut rxs, i)| async move {
                    let n = rxs.len();
                    let chunk = rxs[i % n].recv().await?;
                    Some((chunk, (rxs, i + 1)))
                })
                .boxed()
            }
        }
    }
}

/// Threads reading one body out (at most), and chunks each may hold unsent (~4 MiB per
/// transfer with [`READ_CHUNK`]).
const READERS: usize = 2;
const READ_AHEAD: usize = 2;

/// Send chunks `k`, `k + readers`, `k + 2 * readers`… of the `len` bytes of `file` from
/// `start` down `tx`, until done, an error (sent, then stop) or the receiver is gone (the
/// client went away).
fn read_every_nth(
    file: &std::fs::File,
    start: u64,
    len: u64,
    k: usize,
    readers: usize,
    tx: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) {
    use std::os::unix::fs::FileExt;
    let step = (READ_CHUNK * readers) as u64;
    let mut offset = (READ_CHUNK * k) as u64;
    while offset < len {
        let want = usize::try_from(len - offset)
            .unwrap_or(READ_CHUNK)
            .min(READ_CHUNK);
        let mut buf = vec![0u8; want];
        let chunk = match file.read_exact_at(&mut buf, start + offset) {
            Ok(()) => Ok(Bytes::from(buf)),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "stored body is shorter than recorded",
            )),
            Err(e) => Err(e),
        };
        let failed = chunk.is_err();
        if tx.blocking_send(chunk).is_err() || failed {
            return;
        }
        offset += step;
    }
}

#[derive(Clone)]
pub struct ObjectStore {
    inner: Arc<Inner>,
}

enum Inner {
    Dir(PathBuf),
    Memory(Mutex<HashMap<String, Bytes>>),
}

impl ObjectStore {
    /// Use `dir`, removing temp files a crash may have left.
    pub fn open_dir(dir: PathBuf) -> Result<Self> {
        let tmp = dir.join("tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        std::fs::create_dir_all(&tmp)?;
        Ok(Self {
            inner: Arc::new(Inner::Dir(dir)),
        })
    }

    pub fn memory() -> Self {
        Self {
            inner: Arc::new(Inner::Memory(Mutex::new(HashMap::new()))),
        }
    }

    fn path_of(dir: &std::path::Path, id: &str) -> PathBuf {
        // Two-character fan-out keeps directories small.
        dir.join(&id[..2]).join(id)
    }

    /// Store a body from a stream of chunks.
    pub async fn put_stream<S, E>(&self, body: S) -> Result<StoredObject>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.put_stream_hashing(body, true).await
    }

    /// Store a body computing only its MD5 (`sha256` is left all zero): SHA-256 in software
    /// costs more than the disk write, and S3 needs it only when asked for that checksum.
    pub async fn put_stream_md5<S, E>(&self, body: S) -> Result<StoredObject>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.put_stream_hashing(body, false).await
    }

    async fn put_stream_hashing<S, E>(&self, mut body: S, sha256: bool) -> Result<StoredObject>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match &*self.inner {
            Inner::Dir(dir) => {
                let tmp = dir.join("tmp").join(&id);
                let dest = Self::path_of(dir, &id);
                let written = crate::body_writer::write_file(body, tmp, dest, sha256).await?;
                Ok(StoredObject {
                    id,
                    size: written.size,
                    md5: written.md5,
                    sha256: written.sha256.unwrap_or_default(),
                })
            }
            Inner::Memory(map) => {
                let mut md5 = crate::body_md5::BodyMd5::new()?;
                let mut sha = sha256.then(Sha256::new);
                let mut buf = Vec::new();
                while let Some(chunk) = body.next().await {
                    let chunk = chunk.map_err(|e| std::io::Error::other(e.into()))?;
                    md5.update(&chunk)?;
                    if let Some(sha) = sha.as_mut() {
                        sha.update(&chunk);
                    }
                    buf.extend_from_slice(&chunk);
                }
                let size = buf.len() as u64;
                map.lock()
                    .map_err(|_| std::io::Error::other("object store lock poisoned"))?
                    .insert(id.clone(), Bytes::from(buf));
                Ok(StoredObject {
                    id,
                    size,
                    md5: md5.finish()?,
                    sha256: sha.map(|s| s.finalize().into()).unwrap_or_default(),
                })
            }
        }
    }

    pub async fn put_bytes(&self, data: Bytes) -> Result<StoredObject> {
        let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(data)]);
        self.put_stream(stream).await
    }

    /// Open a stored body; `None` if no such object.
    pub async fn open(&self, id: &str) -> Result<Option<ObjectBody>> {
        if !valid_id(id) {
            return Ok(None);
        }
        match &*self.inner {
            Inner::Dir(dir) => match tokio::fs::File::open(Self::path_of(dir, id)).await {
                Ok(f) => Ok(Some(ObjectBody::File(f))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            },
            Inner::Memory(map) => Ok(map
                .lock()
                .map_err(|_| std::io::Error::other("object store lock poisoned"))?
                .get(id)
                .cloned()
                .map(ObjectBody::Memory)),
        }
    }

    /// Delete a body; `false` if it did not exist.
    pub async fn delete(&self, id: &str) -> Result<bool> {
        if !valid_id(id) {
            return Ok(false);
        }
        match &*self.inner {
            Inner::Dir(dir) => match tokio::fs::remove_file(Self::path_of(dir, id)).await {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(e.into()),
            },
            Inner::Memory(map) => Ok(map
                .lock()
                .map_err(|_| std::io::Error::other("object store lock poisoned"))?
                .remove(id)
                .is_some()),
        }
    }

    /// Remove every object.
    pub fn clear(&self) -> Result<()> {
        match &*self.inner {
            Inner::Dir(dir) => {
                for entry in std::fs::read_dir(dir)? {
                    let entry = entry?;
                    if entry.file_type()?.is_dir() && entry.file_name() != "tmp" {
                        std::fs::remove_dir_all(entry.path())?;
                    }
                }
            }
            Inner::Memory(map) => map
                .lock()
                .map_err(|_| std::io::Error::other("object store lock poisoned"))?
                .clear(),
        }
        Ok(())
    }
}

/// Every column that names a body in the object store, by table. A store that keeps bodies
/// here must be listed, or the start-up sweep would take its files for orphans.
const BODY_REFERENCES: &[(&str, &str)] = &[
    ("s3_objects", "body_id"),
    ("s3_object_versions", "body_id"),
    ("s3_parts", "body_id"),
    ("lambda_functions", "code_object_id"),
    ("lambda_versions", "code_object_id"),
    ("lambda_layer_versions", "code_object_id"),
];

impl ObjectStore {
    /// The start-up sweep: orphans older than now go (logged; a failure only leaves them).
    pub async fn sweep_at_start(&self, db: &crate::Db) {
        match self.sweep_orphans(db, std::time::SystemTime::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(files = n, "removed orphaned object bodies"),
            Err(e) => tracing::warn!(error = %e, "could not sweep orphaned object bodies"),
        }
    }

    /// Remove body files no row refers to that are older than `before`: what a crash
    /// between a body's rename and its row's commit (or a row's delete and its file's
    /// unlink) leaves. Run at start-up, before any request can be writing a new body. If the
    /// references cannot all be read, nothing is removed. Returns how many files went.
    pub async fn sweep_orphans(
        &self,
        db: &crate::Db,
        before: std::time::SystemTime,
    ) -> Result<usize> {
        let Inner::Dir(dir) = &*self.inner else {
            return Ok(0);
        };
        let mut keep = std::collections::HashSet::new();
        for (table, column) in BODY_REFERENCES {
            let ids: Vec<String> = sqlx::query_scalar(&format!("SELECT {column} FROM {table}"))
                .fetch_all(db.pool())
                .await?;
            keep.extend(ids);
        }
        let mut removed = 0;
        for fan in std::fs::read_dir(dir)? {
            let fan = fan?;
            if fan.file_name() == "tmp" || !fan.file_type()?.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(fan.path())? {
                let entry = entry?;
                let name = entry.file_name();
                let Some(id) = name.to_str().filter(|n| valid_id(n)) else {
                    continue;
                };
                let old = entry.metadata()?.modified().is_ok_and(|m| m < before);
                if old && !keep.contains(id) {
                    std::fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// Ids are ours (32 hex chars); anything else never reaches the filesystem.
fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn read_all(store: &ObjectStore, id: &str) -> Option<Vec<u8>> {
        match store.open(id).await.expect("open")? {
            ObjectBody::File(mut f) => {
                let mut v = Vec::new();
                f.read_to_end(&mut v).await.expect("read");
                Some(v)
            }
            ObjectBody::Memory(b) => Some(b.to_vec()),
        }
    }

    #[tokio::test]
    async fn put_read_delete_on_disk_and_in_memory() {
        let dir = tempfile::tempdir().expect("tempdir");
        for store in [
            ObjectStore::open_dir(dir.path().join("objects")).expect("open"),
            ObjectStore::memory(),
        ] {
            let chunks = futures_util::stream::iter(vec![
                Ok::<_, std::io::Error>(Bytes::from_static(b"hello ")),
                Ok(Bytes::from_static(b"world")),
            ]);
            let obj = store.put_stream(chunks).await.expect("put");
            assert_eq!(obj.size, 11);
            // MD5("hello world")
            assert_eq!(
                obj.md5
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
                "5eb63bbbe01eeed093cb22bb8f5acdc3"
            );
            assert_eq!(
                read_all(&store, &obj.id).await.as_deref(),
                Some(&b"hello world"[..])
            );
            assert!(store
                .open("../../etc/passwd")
                .await
                .expect("open")
                .is_none());
            assert!(store.delete(&obj.id).await.expect("delete"));
            assert!(read_all(&store, &obj.id).await.is_none());
            assert!(!store.delete(&obj.id).await.expect("delete"));
        }
    }

    #[tokio::test]
    async fn a_failed_stream_leaves_no_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ObjectStore::open_dir(dir.path().join("objects")).expect("open");
        let chunks = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"partial")),
            Err(std::io::Error::other("client went away")),
        ]);
        assert!(store.put_stream(chunks).await.is_err());
        let leftovers = std::fs::read_dir(dir.path().join("objects/tmp"))
            .expect("tmp")
            .count();
        assert_eq!(leftovers, 0);
    }

    async fn collect(body: ObjectBody, start: u64, len: u64) -> std::io::Result<Vec<u8>> {
        use futures_util::StreamExt;
        let mut out = Vec::new();
        let mut stream = body.into_stream(start, len);
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn ranges_across_chunks_come_back_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ObjectStore::open_dir(dir.path().join("objects")).expect("open");
        let data: Vec<u8> = (0..5 * READ_CHUNK + 321)
            .map(|i| (i % 251) as u8 ^ (i / READ_CHUNK) as u8)
            .collect();
        let obj = store
            .put_bytes(Bytes::from(data.clone()))
            .await
            .expect("put");
        let ranges = [
            (0, data.len()),
            (0, 0),
            (1, 1),
            (READ_CHUNK - 5, 2 * READ_CHUNK + 10),
            (3 * READ_CHUNK, READ_CHUNK),
            (data.len() - 7, 7),
        ];
        for (start, len) in ranges {
            let body = store.open(&obj.id).await.expect("open").expect("some");
            let got = collect(body, start as u64, len as u64).await.expect("read");
            assert!(got == data[start..start + len], "bytes {start}+{len}");
        }
        // A body shorter than its record is an error, not a short success.
        let body = store.open(&obj.id).await.expect("open").expect("some");
        let err = collect(body, 0, data.len() as u64 + 1).await;
        assert_eq!(
            err.expect_err("short body").kind(),
            std::io::ErrorKind::UnexpectedEof
        );
        // The same when the read is one chunk long (one reader thread).
        let body = store.open(&obj.id).await.expect("open").expect("some");
        let err = collect(body, data.len() as u64 - 5, 10).await;
        assert_eq!(
            err.expect_err("short one-chunk read").kind(),
            std::io::ErrorKind::UnexpectedEof
        );
    }
}
