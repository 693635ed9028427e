//! Execution environments: one function process each, its own directory tree (task root,
//! runtime dir), its own Runtime API endpoint, one invocation at a time.

use crate::runtime_api::{self, Invocation, Outcome, RuntimeApi};
use crate::runtimes::{launch, Interpreters};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{mpsc, oneshot};

/// Everything needed to start an environment for one function configuration.
pub struct EnvSpec {
    pub function_name: String,
    pub version: String,
    pub runtime: String,
    pub handler: String,
    pub memory_size: i64,
    pub region: String,
    pub account_id: String,
    /// The configuration revision the environment runs; a newer one retires it.
    pub revision_id: String,
    pub variables: BTreeMap<String, String>,
    pub log_group: String,
    /// Where the function's own SDK calls go (CloudEmu itself).
    pub endpoint_url: String,
    pub code_zip: Bytes,
    /// The function's layers' zips, in its order; extracted into the environment's own `opt`.
    pub layers: Vec<Bytes>,
}

pub struct Environment {
    pub revision_id: String,
    invocations: mpsc::Sender<Invocation>,
    api: Arc<RuntimeApi>,
    kill: Mutex<Option<oneshot::Sender<()>>>,
    alive: Arc<AtomicBool>,
    logs: Arc<Mutex<Vec<u8>>>,
    pub last_used: Mutex<Instant>,
    /// The function process, for `Max Memory Used`.
    pub pid: Option<u32>,
    /// The environment's log stream in the data dir (none in memory mode).
    pub log: Option<crate::logs::LogWriter>,
}

/// Keep at most this much unread log per environment (the tail is what callers see).
const LOG_KEEP: usize = 64 * 1024;

fn unzip(zip: &[u8], into: &Path) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))
        .map_err(|e| format!("Could not unzip the deployment package: {e}"))?;
    archive
        .extract(into)
        .map_err(|e| format!("Could not unzip the deployment package: {e}"))?;
    #[cfg(unix)]
    {
        // Zips made without unix modes still need an executable bootstrap.
        use std::os::unix::fs::PermissionsExt;
        let bootstrap = into.join("bootstrap");
        if let Ok(meta) = std::fs::metadata(&bootstrap) {
            let mut p = meta.permissions();
            p.set_mode(p.mode() | 0o755);
            let _ = std::fs::set_permissions(&bootstrap, p);
        }
    }
    Ok(())
}

fn pump<R: AsyncRead + Unpin + Send + 'static>(reader: R, logs: Arc<Mutex<Vec<u8>>>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::debug!(target: "lambda::function", "{line}");
            if let Ok(mut l) = logs.lock() {
                l.extend_from_slice(line.as_bytes());
                l.push(b'\n');
                if l.len() > LOG_KEEP {
                    let cut = l.len() - LOG_KEEP;
                    l.drain(..cut);
                }
            }
        }
    });
}

impl Environment {
    /// Unpack the code, start the Runtime API endpoint and the process.
    pub async fn start(
        spec: &EnvSpec,
        interp: &Interpreters,
        work_dir: &Path,
        log_dir: Option<&Path>,
    ) -> Result<Arc<Self>, String> {
        let root = work_dir.join(uuid::Uuid::new_v4().simple().to_string());
        let task_root = root.join("task");
        let runtime_dir = root.join("runtime");
        let launch = launch(&spec.runtime, interp, &task_root, &runtime_dir)?;
        let zip = spec.code_zip.clone();
        let (tr, rd) = (task_root.clone(), runtime_dir.clone());
        let ric = launch.ric;
        let opt = root.join("opt");
        let (layers, layers_into) = (spec.layers.clone(), opt.clone());
        tokio::task::spawn_blocking(move || -> Result<(), String> {
            crate::layers::extract_layers(&layers, &layers_into)?;
            std::fs::create_dir_all(&tr).map_err(|e| e.to_string())?;
            std::fs::create_dir_all(&rd).map_err(|e| e.to_string())?;
            if let Some((name, body)) = ric {
                std::fs::write(rd.join(name), body).map_err(|e| e.to_string())?;
            }
            unzip(&zip, &tr)
        })
        .await
        .map_err(|e| e.to_string())??;

        let (addr, invocations, api) = runtime_api::serve().await.map_err(|e| e.to_string())?;
        let mut cmd = tokio::process::Command::new(&launch.program);
        cmd.args(&launch.args)
            .current_dir(&task_root)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // The function's own variables first: Lambda's reserved ones cannot be overridden.
        cmd.envs(&spec.variables);
        let region = spec.region.as_str();
        let log_stream = crate::logs::stream_name(&spec.version);
        let reserved: Vec<(&str, String)> = vec![
            (
                "PATH",
                std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
            ),
            ("LANG", "en_US.UTF-8".into()),
            ("TZ", ":UTC".into()),
            ("LAMBDA_TASK_ROOT", task_root.display().to_string()),
            ("LAMBDA_RUNTIME_DIR", runtime_dir.display().to_string()),
            ("AWS_LAMBDA_RUNTIME_API", addr.to_string()),
            ("_HANDLER", spec.handler.clone()),
            ("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", spec.runtime)),
            ("AWS_LAMBDA_FUNCTION_NAME", spec.function_name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION", spec.version.clone()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                spec.memory_size.to_string(),
            ),
            ("AWS_LAMBDA_LOG_GROUP_NAME", spec.log_group.clone()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream.clone()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
            ("AWS_REGION", region.into()),
            ("AWS_DEFAULT_REGION", region.into()),
            // A 12-digit access key selects the function's own account in CloudEmu.
            ("AWS_ACCESS_KEY_ID", spec.account_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", "cloudemu".into()),
            ("AWS_SESSION_TOKEN", "cloudemu".into()),
            ("AWS_ENDPOINT_URL", spec.endpoint_url.clone()),
        ];
        cmd.envs(reserved);
        let host_path =
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
        cmd.envs(crate::layers::search_paths(
            &spec.runtime,
            &opt,
            &task_root,
            &host_path,
        ));
        let mut child = cmd.spawn().map_err(|e| {
            format!(
                "CloudEmu could not start {} for {}: {e}",
                launch.program.display(),
                spec.runtime
            )
        })?;
        let logs = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = child.stdout.take() {
            pump(out, logs.clone());
        }
        if let Some(err) = child.stderr.take() {
            pump(err, logs.clone());
        }
        let (kill_tx, kill_rx) = oneshot::channel();
        let alive = Arc::new(AtomicBool::new(true));
        let env = Arc::new(Self {
            revision_id: spec.revision_id.clone(),
            invocations,
            api: api.clone(),
            kill: Mutex::new(Some(kill_tx)),
            alive: alive.clone(),
            logs,
            last_used: Mutex::new(Instant::now()),
            pid: child.id(),
            log: log_dir.map(|d| {
                crate::logs::LogWriter::open(crate::logs::stream_path(
                    d,
                    &spec.account_id,
                    &spec.region,
                    &spec.log_group,
                    &log_stream,
                ))
            }),
        });
        tokio::spawn(watch(child, kill_rx, alive, api, root));
        Ok(env)
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Stop the process (timeouts, idle reaping, retired revisions).
    pub fn stop(&self) {
        self.alive.store(false, Ordering::SeqCst);
        if let Some(k) = self.kill.lock().ok().and_then(|mut k| k.take()) {
            let _ = k.send(());
        }
    }

    /// Hand an invocation to the runtime; the outcome arrives on its reply channel.
    pub async fn submit(&self, inv: Invocation) -> bool {
        self.invocations.send(inv).await.is_ok()
    }

    /// Log output since the last call.
    pub fn take_logs(&self) -> Vec<u8> {
        self.logs
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }

    pub fn init_error(&self) -> Option<Bytes> {
        self.api.init_error()
    }
}

/// Wait for the process to end (or kill it), settle what it left unanswered, clean its tree.
async fn watch(
    mut child: tokio::process::Child,
    kill: oneshot::Receiver<()>,
    alive: Arc<AtomicBool>,
    api: Arc<RuntimeApi>,
    root: PathBuf,
) {
    let status = tokio::select! {
        s = child.wait() => s.ok(),
        _ = kill => {
            let _ = child.kill().await;
            None
        }
    };
    alive.store(false, Ordering::SeqCst);
    let how = match status {
        Some(s) => match s.code() {
            Some(c) => format!("exit status {c}"),
            None => "signal: killed".to_string(),
        },
        None => "signal: killed".to_string(),
    };
    api.process_exited(|id| {
        Bytes::from(
            serde_json::json!({
                "errorType": "Runtime.ExitError",
                "errorMessage": format!("RequestId: {id} Error: Runtime exited with error: {how}"),
            })
            .to_string(),
        )
    });
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(root)).await;
}

/// An outcome's payload and whether it is a function error.
pub fn outcome_parts(o: Outcome) -> (Bytes, bool) {
    match o {
        Outcome::Response(b) => (b, false),
        Outcome::FunctionError(b) | Outcome::RuntimeError(b) => (b, true),
    }
}
