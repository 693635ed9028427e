//! Writing a body to a file at disk speed. The async side only receives chunks and hands the
//! same batches (reference-counted, never copied) to two blocking threads: one hashes (MD5 is
//! the costliest thing in a PUT: ~1.8 s of CPU per GiB here, so it gets a core to itself), the
//! other writes. Receiving, hashing and writing overlap. A third thread flushes what is already
//! written while the rest arrives, so the final fsync waits for the tail only, not for the
//! whole body. The channels are bounded: memory stays flat whatever the body's size.

use crate::Result;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use md5::{Digest as _, Md5};
use sha2::{Digest as _, Sha256};
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;

/// Chunks are handed to the writer in batches of about this many bytes: fewer wake-ups than
/// one per network read, without copying.
const BATCH: usize = 256 * 1024;
/// Batches in flight to each thread: at most ~4 MiB held per body being received. Fewer let
/// the hasher run dry whenever the network side stalls briefly.
const IN_FLIGHT: usize = 16;
/// After this many bytes written since the last flush, start flushing them in the background.
const FLUSH_STEP: u64 = 32 * 1024 * 1024;

/// What the writer computed.
pub(crate) struct Written {
    pub size: u64,
    pub md5: [u8; 16],
    pub sha256: Option<[u8; 32]>,
}

enum Piece {
    Data(Vec<Bytes>),
    /// The body ended normally; without it the writer treats a closed channel as an abort.
    End,
}

/// Stream `body` into `tmp`, fsync it and rename it to `dest`. On any failure (the body's or
/// the disk's) nothing is left at either path, and the body's own error is the one returned.
pub(crate) async fn write_file<S, E>(
    mut body: S,
    tmp: PathBuf,
    dest: PathBuf,
    sha256: bool,
) -> Result<Written>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (to_hasher, hasher_rx) = flume::bounded::<Piece>(IN_FLIGHT);
    let (to_writer, writer_rx) = flume::bounded::<Piece>(IN_FLIGHT);
    let hasher = tokio::task::spawn_blocking(move || hash_blocking(hasher_rx, sha256));
    let writer = tokio::task::spawn_blocking(move || write_blocking(writer_rx, &tmp, &dest));
    let fed: Result<()> = async {
        let mut batch = Vec::new();
        let mut batched = 0;
        let mut end = false;
        while !end {
            match body.next().await {
                Some(chunk) => {
                    let chunk = chunk.map_err(|e| std::io::Error::other(e.into()))?;
                    batched += chunk.len();
                    batch.push(chunk);
                    if batched < BATCH {
                        continue;
                    }
                }
                None => end = true,
            }
            batched = 0;
            let batch = std::mem::take(&mut batch);
            // A send fails only when that thread has given up; its error is reported below.
            if to_hasher
                .send_async(Piece::Data(batch.clone()))
                .await
                .is_err()
                || to_writer.send_async(Piece::Data(batch)).await.is_err()
            {
                return Ok(());
            }
        }
        let _ = to_hasher.send_async(Piece::End).await;
        let _ = to_writer.send_async(Piece::End).await;
        Ok(())
    }
    .await;
    // A failed body drops the senders without `End`, which makes both threads give up.
    drop((to_hasher, to_writer));
    let stopped = |e| std::io::Error::other(format!("body writer stopped: {e}"));
    let written = writer.await.map_err(stopped)?;
    let hashed = hasher.await.map_err(stopped)?;
    fed?;
    let size = written?;
    let (md5, sha256) = hashed?;
    Ok(Written { size, md5, sha256 })
}

type Digests = ([u8; 16], Option<[u8; 32]>);

fn hash_blocking(rx: flume::Receiver<Piece>, sha256: bool) -> std::io::Result<Digests> {
    let mut md5 = Md5::new();
    let mut sha = sha256.then(Sha256::new);
    loop {
        match rx.recv() {
            Ok(Piece::Data(chunks)) => {
                for chunk in &chunks {
                    md5.update(chunk);
                    if let Some(sha) = sha.as_mut() {
                        sha.update(chunk);
                    }
                }
            }
            Ok(Piece::End) => break,
            Err(_) => return Err(ended_early()),
        }
    }
    Ok((md5.finalize().into(), sha.map(|s| s.finalize().into())))
}

fn ended_early() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "request body ended early",
    )
}

/// Write the body to `tmp`, then fsync and rename it to `dest`; returns its size.
fn write_blocking(
    rx: flume::Receiver<Piece>,
    tmp: &std::path::Path,
    dest: &std::path::Path,
) -> std::io::Result<u64> {
    let mut file = std::fs::File::create(tmp)?;
    let result = (|| {
        let mut size = 0u64;
        let mut flusher = Flusher::default();
        loop {
            match rx.recv() {
                Ok(Piece::Data(chunks)) => {
                    for chunk in chunks {
                        file.write_all(&chunk)?;
                        size += chunk.len() as u64;
                    }
                    flusher.written(&file, size)?;
                }
                Ok(Piece::End) => break,
                Err(_) => return Err(ended_early()),
            }
        }
        flusher.finish()?;
        file.sync_all()?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(tmp, dest)?;
        Ok(size)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    result
}

/// Background flushes of a file being written: one at a time, each of everything written so
/// far, started every [`FLUSH_STEP`] bytes. Without them the kernel would hold the whole body
/// in dirty pages and the final fsync would write all of it while the client waits.
#[derive(Default)]
struct Flusher {
    flushed_at: u64,
    thread: Option<(
        mpsc::SyncSender<()>,
        std::thread::JoinHandle<std::io::Result<()>>,
    )>,
}

impl Flusher {
    fn written(&mut self, file: &std::fs::File, size: u64) -> std::io::Result<()> {
        if size - self.flushed_at < FLUSH_STEP {
            return Ok(());
        }
        self.flushed_at = size;
        if self.thread.is_none() {
            let clone = file.try_clone()?;
            let (tx, rx) = mpsc::sync_channel::<()>(1);
            let handle = std::thread::Builder::new()
                .name("body-flush".into())
                .spawn(move || {
                    while rx.recv().is_ok() {
                        clone.sync_data()?;
                    }
                    Ok(())
                })?;
            self.thread = Some((tx, handle));
        }
        if let Some((tx, _)) = &self.thread {
            // A flush still running covers this request well enough: skip rather than queue.
            let _ = tx.try_send(());
        }
        Ok(())
    }

    fn finish(self) -> std::io::Result<()> {
        match self.thread {
            Some((tx, handle)) => {
                drop(tx);
                handle
                    .join()
                    .map_err(|_| std::io::Error::other("body flush thread panicked"))?
            }
            None => Ok(()),
        }
    }
}
