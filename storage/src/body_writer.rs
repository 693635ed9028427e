//! Writing a body to a file at disk speed. The async side only receives chunks and hands the
//! same batches (reference-counted, never copied) to two blocking threads: one hashes (MD5 is
//! the costliest thing in a PUT: ~1.6 s of CPU per GiB here, so it gets a core to itself), the
//! other writes, with O_DIRECT where the filesystem allows it (see [`Sink`]). Receiving,
//! hashing and writing overlap. Through the page cache, a third thread flushes what is already
//! written while the rest arrives, so the final fsync waits for the tail only, not for the
//! whole body. The channels are bounded: memory stays flat whatever the body's size.

use crate::Result;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
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
    let mut md5 = crate::body_md5::BodyMd5::new()?;
    let mut sha = sha256.then(Sha256::new);
    loop {
        match rx.recv() {
            Ok(Piece::Data(chunks)) => {
                for chunk in &chunks {
                    md5.update(chunk)?;
                    if let Some(sha) = sha.as_mut() {
                        sha.update(chunk);
                    }
                }
            }
            Ok(Piece::End) => break,
            Err(_) => return Err(ended_early()),
        }
    }
    Ok((md5.finish()?, sha.map(|s| s.finalize().into())))
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
    let mut sink = Sink::create(tmp)?;
    let result = (|| {
        loop {
            match rx.recv() {
                Ok(Piece::Data(chunks)) => {
                    for chunk in &chunks {
                        sink.write(chunk)?;
                    }
                }
                Ok(Piece::End) => break,
                Err(_) => return Err(ended_early()),
            }
        }
        let size = sink.finish()?;
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

/// Bytes per direct write: the disk here takes 1 MiB writes at ~1.9 GB/s, 256 KiB at ~1.3.
const DIRECT_WRITE: usize = 1024 * 1024;
/// O_DIRECT wants the buffer's address, the length and the file offset aligned to the
/// device's logical block; 4 KiB covers every common one.
const DIRECT_ALIGN: usize = 4096;

/// Where a body's bytes go. Through the page cache, writing costs the kernel a copy into
/// freshly allocated pages: on this VM 1 GiB took 1.1-2.6 s of system CPU that way (host
/// faults on every new page), more than the MD5, and it was what held a 1 GiB PUT under
/// 500 MB/s. With O_DIRECT the disk reads our one reused, aligned buffer instead (dd: 0.07 s
/// of CPU for 1 GiB). Filesystems without O_DIRECT (tmpfs, some overlays) get the page cache.
enum Sink {
    Direct {
        file: std::fs::File,
        path: PathBuf,
        /// Over-allocated by [`DIRECT_ALIGN`]; the aligned window starts at `start`.
        buf: Vec<u8>,
        start: usize,
        filled: usize,
        /// Bytes already written to the file (always a multiple of `DIRECT_WRITE`).
        written: u64,
    },
    Buffered {
        file: std::fs::File,
        size: u64,
        flusher: Flusher,
    },
}

impl Sink {
    fn create(path: &std::path::Path) -> std::io::Result<Self> {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let direct = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .custom_flags(libc::O_DIRECT)
                .open(path);
            if let Ok(file) = direct {
                let buf = vec![0u8; DIRECT_WRITE + DIRECT_ALIGN];
                let start = buf.as_ptr().align_offset(DIRECT_ALIGN);
                return Ok(Sink::Direct {
                    file,
                    path: path.to_path_buf(),
                    buf,
                    start,
                    filled: 0,
                    written: 0,
                });
            }
        }
        Ok(Sink::Buffered {
            file: std::fs::File::create(path)?,
            size: 0,
            flusher: Flusher::default(),
        })
    }

    fn write(&mut self, mut data: &[u8]) -> std::io::Result<()> {
        loop {
            match self {
                Sink::Buffered {
                    file,
                    size,
                    flusher,
                } => {
                    file.write_all(data)?;
                    *size += data.len() as u64;
                    return flusher.written(file, *size);
                }
                Sink::Direct {
                    file,
                    buf,
                    start,
                    filled,
                    written,
                    ..
                } => {
                    let window = &mut buf[*start..*start + DIRECT_WRITE];
                    let n = data.len().min(DIRECT_WRITE - *filled);
                    window[*filled..*filled + n].copy_from_slice(&data[..n]);
                    *filled += n;
                    data = &data[n..];
                    if *filled == DIRECT_WRITE {
                        match file.write_all(window) {
                            Ok(()) => {
                                *written += DIRECT_WRITE as u64;
                                *filled = 0;
                            }
                            Err(e) if refused_direct(&e) => self.fall_back_to_page_cache()?,
                            Err(e) => return Err(e),
                        }
                    }
                    if data.is_empty() {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Write what is left, sync data and size; returns the file's size.
    fn finish(mut self) -> std::io::Result<u64> {
        if let Sink::Direct {
            file,
            buf,
            start,
            filled,
            written,
            ..
        } = &mut self
        {
            if *filled > 0 {
                // The tail goes out padded to a whole block; the padding is cut off below.
                let padded = filled.next_multiple_of(DIRECT_ALIGN);
                let window = &mut buf[*start..*start + padded];
                window[*filled..].fill(0);
                match file.write_all(window) {
                    Ok(()) => {
                        let size = *written + *filled as u64;
                        file.set_len(size)?;
                        file.sync_all()?;
                        return Ok(size);
                    }
                    Err(e) if refused_direct(&e) => {
                        // Now buffered: finish that way.
                        self.fall_back_to_page_cache()?;
                        return self.finish();
                    }
                    Err(e) => return Err(e),
                }
            } else {
                file.sync_all()?;
                return Ok(*written);
            }
        }
        let Sink::Buffered {
            file,
            size,
            flusher,
        } = self
        else {
            return Err(std::io::Error::other("the body sink is in neither mode"));
        };
        flusher.finish()?;
        file.sync_all()?;
        Ok(size)
    }

    /// The filesystem took O_DIRECT at open but refuses its writes: carry on through the page
    /// cache from where the direct writes stopped, with what is still buffered.
    fn fall_back_to_page_cache(&mut self) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        let Sink::Direct {
            path,
            buf,
            start,
            filled,
            written,
            ..
        } = self
        else {
            return Ok(());
        };
        let pending = buf[*start..*start + *filled].to_vec();
        let size = *written;
        let mut file = std::fs::OpenOptions::new().write(true).open(&*path)?;
        file.seek(SeekFrom::Start(size))?;
        *self = Sink::Buffered {
            file,
            size,
            flusher: Flusher::default(),
        };
        self.write(&pending)
    }
}

fn refused_direct(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::InvalidInput
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

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest as _, Md5};

    /// Deterministic bytes that differ at every offset, so a shifted or padded block shows.
    fn body(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4093) as u8).collect()
    }

    async fn store(data: &[u8], chunk: usize, dir: &std::path::Path) -> (Written, Vec<u8>) {
        let chunks: Vec<std::io::Result<Bytes>> = data
            .chunks(chunk.max(1))
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let (tmp, dest) = (dir.join("tmp"), dir.join("out/body"));
        let written = write_file(
            futures_util::stream::iter(chunks),
            tmp.clone(),
            dest.clone(),
            true,
        )
        .await
        .expect("write");
        assert!(!tmp.exists(), "the temporary file was renamed");
        (written, std::fs::read(&dest).expect("read back"))
    }

    #[tokio::test]
    async fn bodies_of_every_awkward_size_are_stored_byte_for_byte() {
        let dir = tempfile::tempdir().expect("dir");
        let sizes = [
            0,
            1,
            DIRECT_ALIGN - 1,
            DIRECT_ALIGN,
            DIRECT_ALIGN + 1,
            DIRECT_WRITE - 1,
            DIRECT_WRITE,
            DIRECT_WRITE + 1,
            3 * DIRECT_WRITE + 12_345,
        ];
        for size in sizes {
            // Network reads arrive in odd sizes: none lines up with a block.
            for chunk in [1000, 65_537] {
                let data = body(size);
                let (written, stored) = store(&data, chunk, dir.path()).await;
                assert_eq!(written.size, size as u64, "size {size}");
                assert_eq!(stored.len(), size, "file length for {size}");
                assert!(stored == data, "content for size {size}, chunks of {chunk}");
                assert_eq!(written.md5, <[u8; 16]>::from(Md5::digest(&data)));
                assert_eq!(
                    written.sha256,
                    Some(<[u8; 32]>::from(Sha256::digest(&data)))
                );
            }
        }
    }

    /// What a filesystem that refuses direct writes gets: the page-cache path, from where the
    /// direct writes stopped.
    #[test]
    fn a_refused_direct_write_carries_on_through_the_page_cache() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("body");
        let data = body(2 * DIRECT_WRITE + 777);
        let mut sink = Sink::create(&path).expect("create");
        sink.write(&data[..DIRECT_WRITE + 10]).expect("first part");
        sink.fall_back_to_page_cache().expect("fall back");
        assert!(matches!(sink, Sink::Buffered { .. }));
        sink.write(&data[DIRECT_WRITE + 10..]).expect("rest");
        assert_eq!(sink.finish().expect("finish"), data.len() as u64);
        assert!(std::fs::read(&path).expect("read") == data);
    }
}
