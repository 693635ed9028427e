//! Warm environments per function: reused one invocation at a time, a new one started when all
//! are busy, retired when the configuration changes, stopped after an idle period.

use crate::environment::{outcome_parts, EnvSpec, Environment};
use crate::runtime_api::Invocation;
use crate::runtimes::Interpreters;
use bytes::Bytes;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Lambda allows a function's initialisation this long, apart from its timeout.
const INIT_ALLOWANCE: Duration = Duration::from_secs(10);

/// How CloudEmu runs functions.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub interpreters: Interpreters,
    /// Where environments' trees are unpacked.
    pub work_dir: PathBuf,
    /// Idle environments are stopped after this long.
    pub idle_timeout: Duration,
    /// Multiplies Lambda's asynchronous retry delays (1 and 2 minutes); 1 is AWS's timing.
    pub async_retry_scale: f64,
    /// Where function logs are kept (see `logs`); `None` keeps none (memory mode).
    pub log_dir: Option<PathBuf>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            interpreters: Interpreters::default(),
            // Unique per server: several may share a process (tests), each clearing its own.
            work_dir: std::env::temp_dir().join(format!(
                "cloudemu-lambda-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            )),
            idle_timeout: Duration::from_secs(300),
            async_retry_scale: 1.0,
            log_dir: None,
        }
    }
}

/// Temp work dirs (`cloudemu-lambda-<pid>-<id>`, memory mode) of processes that no longer
/// exist: a `kill -9` or an abandoned test process cannot clean up after itself.
fn sweep_stale_temp_dirs(work_dir: &std::path::Path) {
    const PREFIX: &str = "cloudemu-lambda-";
    let (Some(parent), true) = (
        work_dir.parent(),
        std::path::Path::new("/proc/self").exists(),
    ) else {
        return;
    };
    if !work_dir
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(PREFIX))
    {
        return;
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

pub struct Executor {
    opts: ExecOptions,
    idle: Mutex<HashMap<String, Vec<Arc<Environment>>>>,
    /// Invocations in flight per function, for reserved concurrency.
    busy: Mutex<HashMap<String, i64>>,
    reaper: AtomicBool,
}

/// One unit of a function's concurrency, given back when dropped.
pub struct Slot {
    exec: Arc<Executor>,
    key: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.exec.busy.lock() {
            if let Some(n) = busy.get_mut(&self.key) {
                *n -= 1;
                if *n <= 0 {
                    busy.remove(&self.key);
                }
            }
        }
    }
}

impl Drop for Executor {
    /// The server is stopping: stop every environment and remove their trees.
    fn drop(&mut self) {
        if let Ok(mut idle) = self.idle.lock() {
            for e in idle.drain().flat_map(|(_, l)| l) {
                e.stop();
            }
        }
        let _ = std::fs::remove_dir_all(&self.opts.work_dir);
    }
}

/// One invocation's result as Invoke reports it.
pub struct RunResult {
    pub payload: Bytes,
    pub function_error: bool,
    pub log: Vec<u8>,
}

pub struct RunRequest {
    pub request_id: String,
    pub function_arn: String,
    pub payload: Bytes,
    pub client_context: Option<String>,
    /// Sent to the runtime as `Lambda-Runtime-Cognito-Identity` when present.
    pub cognito_identity: Option<String>,
    pub timeout_secs: i64,
    pub memory_size: i64,
    pub version: String,
}

fn error_doc(kind: &str, message: String) -> Bytes {
    Bytes::from(serde_json::json!({"errorType": kind, "errorMessage": message}).to_string())
}

impl Executor {
    pub fn new(opts: ExecOptions) -> Arc<Self> {
        // Environments never outlive the process: clear what a crash left behind.
        let _ = std::fs::remove_dir_all(&opts.work_dir);
        sweep_stale_temp_dirs(&opts.work_dir);
        Arc::new(Self {
            opts,
            idle: Mutex::new(HashMap::new()),
            busy: Mutex::new(HashMap::new()),
            reaper: AtomicBool::new(false),
        })
    }

    /// Take a unit of the function's concurrency; `None` when its reservation is used up.
    pub fn acquire(self: &Arc<Self>, key: &str, reserved: Option<i64>) -> Option<Slot> {
        let mut busy = self.busy.lock().ok()?;
        let n = busy.entry(key.to_string()).or_insert(0);
        if reserved.is_some_and(|limit| *n >= limit) {
            return None;
        }
        *n += 1;
        Some(Slot {
            exec: self.clone(),
            key: key.to_string(),
        })
    }

    /// A warm environment of this revision, if one is idle; older revisions are stopped.
    fn take_idle(&self, key: &str, revision: &str) -> Option<Arc<Environment>> {
        let mut idle = self.idle.lock().ok()?;
        let list = idle.get_mut(key)?;
        list.retain(|e| {
            let keep = e.is_alive() && e.revision_id == revision;
            if !keep {
                e.stop();
            }
            keep
        });
        list.pop()
    }

    fn release(&self, key: &str, env: Arc<Environment>) {
        if !env.is_alive() {
            return;
        }
        if let Ok(mut t) = env.last_used.lock() {
            *t = Instant::now();
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.entry(key.to_string()).or_default().push(env);
        }
    }

    /// Stop every environment of a function (deleted functions).
    pub fn retire(&self, key: &str) {
        if let Some(list) = self.idle.lock().ok().and_then(|mut i| i.remove(key)) {
            for e in list {
                e.stop();
            }
        }
    }

    /// The server is stopping: stop every warm environment and remove the environments'
    /// trees now (busy ones' processes die with their tasks).
    pub async fn shutdown(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            for e in idle.drain().flat_map(|(_, l)| l) {
                e.stop();
            }
        }
        let dir = self.opts.work_dir.clone();
        // A process being killed may still create a file: retry briefly.
        for _ in 0..20 {
            let d = dir.clone();
            let gone = tokio::task::spawn_blocking(move || {
                let _ = std::fs::remove_dir_all(&d);
                !d.exists()
            })
            .await
            .unwrap_or(true);
            if gone {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stop environments idle for longer than the idle timeout.
    fn reap(&self) {
        let limit = self.opts.idle_timeout;
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        for list in idle.values_mut() {
            list.retain(|e| {
                let fresh = e
                    .last_used
                    .lock()
                    .map(|t| t.elapsed() < limit)
                    .unwrap_or(false);
                let keep = fresh && e.is_alive();
                if !keep {
                    e.stop();
                }
                keep
            });
        }
        idle.retain(|_, l| !l.is_empty());
    }

    fn start_reaper(self: &Arc<Self>) {
        if self.reaper.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let Some(exec) = weak.upgrade() else { return };
                exec.reap();
            }
        });
    }

    /// Run one invocation on a warm or new environment. `spec` builds what a cold start needs.
    pub async fn run<F, Fut>(
        self: &Arc<Self>,
        key: &str,
        revision: &str,
        spec: F,
        req: RunRequest,
    ) -> RunResult
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<EnvSpec, String>>,
    {
        self.start_reaper();
        let started = Instant::now();
        let started_ms = chrono::Utc::now().timestamp_millis();
        let (env, cold) = match self.take_idle(key, revision) {
            Some(e) => (e, false),
            None => {
                let started_env = match spec().await {
                    Ok(s) => {
                        Environment::start(
                            &s,
                            &self.opts.interpreters,
                            &self.opts.work_dir,
                            self.opts.log_dir.as_deref(),
                        )
                        .await
                    }
                    Err(e) => Err(e),
                };
                match started_env {
                    Ok(e) => (e, true),
                    Err(message) => {
                        tracing::warn!(%message, "lambda environment did not start");
                        return RunResult {
                            payload: error_doc("Runtime.InvalidEntrypoint", message.clone()),
                            function_error: true,
                            log: format!("{message}\n").into_bytes(),
                        };
                    }
                }
            }
        };
        let id = req.request_id.clone();
        let timeout = Duration::from_secs(req.timeout_secs.max(1) as u64);
        let (tx, mut rx) = oneshot::channel();
        let (picked_tx, picked_rx) = oneshot::channel();
        let _ = env.take_logs();
        let submitted = env
            .submit(Invocation {
                request_id: id.clone(),
                payload: req.payload,
                function_arn: req.function_arn,
                timeout_ms: timeout.as_millis() as u64,
                client_context: req.client_context,
                cognito_identity: req.cognito_identity,
                reply: tx,
                picked: picked_tx,
            })
            .await;
        let init_limit = if cold { INIT_ALLOWANCE } else { timeout };
        let mut timed_out = false;
        let mut picked_at: Option<Instant> = None;
        let exited = |env: &Environment| {
            (
                env.init_error().unwrap_or_else(|| {
                    error_doc(
                        "Runtime.ExitError",
                        format!("RequestId: {id} Error: Runtime exited"),
                    )
                }),
                true,
            )
        };
        let (payload, function_error) = if !submitted {
            exited(&env)
        } else {
            // Phase one: the runtime takes the invocation (a cold one initialises first).
            // If the process died instead, the outcome is already on `rx`.
            let picked = tokio::time::timeout(init_limit, picked_rx).await;
            if picked.is_ok() {
                picked_at = Some(Instant::now());
            }
            match picked {
                Err(_) => {
                    env.stop();
                    (
                        error_doc(
                            "Runtime.InitError",
                            format!(
                                "RequestId: {id} Error: the runtime did not ask for the \
                                 invocation within {} seconds",
                                init_limit.as_secs()
                            ),
                        ),
                        true,
                    )
                }
                Ok(_) => match tokio::time::timeout(timeout, &mut rx).await {
                    Ok(Ok(outcome)) => outcome_parts(outcome),
                    Ok(Err(_)) => exited(&env),
                    Err(_) => {
                        timed_out = true;
                        env.stop();
                        (
                            error_doc(
                                "Sandbox.Timedout",
                                format!(
                                    "RequestId: {id} Error: Task timed out after {:.2} seconds",
                                    timeout.as_secs_f64()
                                ),
                            ),
                            true,
                        )
                    }
                },
            }
        };
        // Let the last lines the function printed reach the log before it is cut.
        tokio::task::yield_now().await;
        // Duration counts from when the runtime took the invocation; a cold start's
        // initialisation is reported apart, as Lambda does.
        let elapsed = picked_at.unwrap_or(started).elapsed().as_secs_f64() * 1000.0;
        let init = picked_at
            .filter(|_| cold)
            .map(|p| {
                format!(
                    "Init Duration: {:.2} ms\t",
                    (p - started).as_secs_f64() * 1000.0
                )
            })
            .unwrap_or_default();
        let max_memory = crate::logs::max_memory_mb(env.pid)
            .map(|mb| format!("Max Memory Used: {mb} MB\t"))
            .unwrap_or_default();
        let mut log = format!("START RequestId: {id} Version: {}\n", req.version).into_bytes();
        log.extend(env.take_logs());
        if timed_out {
            log.extend(
                format!(
                    "{} {id} Task timed out after {:.2} seconds\n",
                    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                    timeout.as_secs_f64()
                )
                .into_bytes(),
            );
        }
        log.extend(
            format!(
                "END RequestId: {id}\nREPORT RequestId: {id}\tDuration: {elapsed:.2} ms\t\
                 Billed Duration: {} ms\tMemory Size: {} MB\t{max_memory}{init}\n",
                elapsed.ceil() as u64,
                req.memory_size
            )
            .into_bytes(),
        );
        if let Some(w) = &env.log {
            w.write(&log, started_ms);
        }
        self.release(key, env);
        RunResult {
            payload,
            function_error,
            log,
        }
    }
}
