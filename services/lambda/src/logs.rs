//! Function logs kept in the data dir, laid out for a CloudWatch Logs service to serve:
//! `<dir>/<account>/<region>/<log group>/<log stream>.jsonl`, group and stream names
//! percent-encoded (they contain `/`, `[`, `$`), one JSON log event per line
//! (`{"timestamp": <epoch ms>, "message": "<line>\n"}`) as Lambda sends them to CloudWatch:
//! `START`, the function's output, `END` and `REPORT`. One stream per execution environment,
//! named as Lambda names them (`2024/01/31/[$LATEST]<32 hex>`). Memory mode keeps none.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// Everything but `A-Z a-z 0-9 - _ .` is encoded, so a name is always one safe path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// Where one stream's events go.
pub fn stream_path(dir: &Path, account: &str, region: &str, group: &str, stream: &str) -> PathBuf {
    dir.join(account)
        .join(region)
        .join(utf8_percent_encode(group, SEGMENT).to_string())
        .join(format!("{}.jsonl", utf8_percent_encode(stream, SEGMENT)))
}

/// The stream name Lambda gives an environment.
pub fn stream_name(version: &str) -> String {
    format!(
        "{}/[{version}]{}",
        chrono::Utc::now().format("%Y/%m/%d"),
        uuid::Uuid::new_v4().simple()
    )
}

/// Appends one environment's events to its stream file, in order, off the async threads.
pub struct LogWriter {
    tx: mpsc::UnboundedSender<Vec<u8>>,
}

impl LogWriter {
    pub fn open(path: PathBuf) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        tokio::spawn(async move {
            while let Some(events) = rx.recv().await {
                let path = path.clone();
                let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)?
                        .write_all(&events)
                })
                .await;
                if let Ok(Err(e)) = written {
                    tracing::warn!(error = %e, "could not write a function's log");
                }
            }
        });
        Self { tx }
    }

    /// Queue one invocation's log: the `START` line stamped when it started, the rest now.
    pub fn write(&self, log: &[u8], started_ms: i64) {
        let now = chrono::Utc::now().timestamp_millis();
        let mut out = Vec::with_capacity(log.len() + 64);
        for (i, line) in String::from_utf8_lossy(log).lines().enumerate() {
            let ts = if i == 0 { started_ms } else { now };
            let event = serde_json::json!({"timestamp": ts, "message": format!("{line}\n")});
            out.extend_from_slice(event.to_string().as_bytes());
            out.push(b'\n');
        }
        let _ = self.tx.send(out);
    }
}

/// The peak resident memory of a process in MB (Linux), for `Max Memory Used`.
pub fn max_memory_mb(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb.div_ceil(1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_single_path_segments() {
        let p = stream_path(
            Path::new("/d"),
            "000000000000",
            "us-east-1",
            "/aws/lambda/f-1",
            "2024/01/31/[$LATEST]abc",
        );
        assert_eq!(
            p,
            Path::new("/d/000000000000/us-east-1/%2Faws%2Flambda%2Ff-1/2024%2F01%2F31%2F%5B%24LATEST%5Dabc.jsonl")
        );
        let s = stream_name("3");
        assert!(s.contains("/[3]") && s.len() == "2024/01/31/[3]".len() + 32);
    }
}
