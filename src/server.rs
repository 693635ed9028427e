//! The HTTP server: admin endpoints under `/_cloudemu/` (and LocalStack's health path), every
//! other request to the gateway.

use crate::config::Config;
use crate::gateway::dispatch;
use crate::registry::{Registry, ServiceState};
use actix_web::{web, App, HttpResponse, HttpServer};
use cloudemu_core::Service;
use cloudemu_storage::{Storage, StorageMode};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct AppState {
    pub config: Config,
    pub registry: Registry,
    pub storage: Storage,
    pub started: Instant,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("storage: {0}")]
    Storage(#[from] cloudemu_storage::StorageError),
    #[error("{0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// A started server.
pub struct Running {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    storage: Storage,
    state: web::Data<AppState>,
}

impl Running {
    /// Stop accepting, let in-flight requests finish (bounded by the shutdown timeout), then
    /// close the database cleanly.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
        // Workers may drop their services after the process is gone: release their
        // processes and scratch files now.
        for s in self.state.registry.implemented() {
            s.shutdown().await;
        }
        self.storage.close().await;
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }
}

/// Every service CloudEmu implements: the one place a new service is registered.
pub fn implemented_services(storage: &Storage, config: &Config) -> Vec<Arc<dyn Service>> {
    vec![
        Arc::new(cloudemu_sts::Sts::new(storage.sts())),
        Arc::new(cloudemu_iam::Iam::new(storage.iam())),
        Arc::new(cloudemu_kms::Kms::new(storage.kms())),
        Arc::new(cloudemu_dynamodb::DynamoDb::new(storage.dynamodb())),
        Arc::new(cloudemu_dynamodb::DynamoDbStreams::new(storage.dynamodb())),
        Arc::new(cloudemu_sqs::Sqs::new(storage.sqs())),
        Arc::new(cloudemu_s3::S3::new(storage.s3(), storage.objects.clone())),
        Arc::new(cloudemu_s3::S3Control::new(cloudemu_s3::S3::new(
            storage.s3(),
            storage.objects.clone(),
        ))),
        Arc::new(cloudemu_lambda::Lambda::with_options(
            storage.lambda(),
            lambda_options(storage, config),
        )),
    ]
}

/// Where Lambda unpacks execution environments (under the data dir, or a temp dir in memory
/// mode) and which interpreters it runs.
fn lambda_options(storage: &Storage, config: &Config) -> cloudemu_lambda::ExecOptions {
    let mut opts = cloudemu_lambda::ExecOptions {
        interpreters: cloudemu_lambda::Interpreters {
            python: config.lambda_python.clone(),
            node: config.lambda_node.clone(),
        },
        idle_timeout: Duration::from_secs(config.lambda_idle_seconds),
        async_retry_scale: config.lambda_async_retry_scale,
        ..Default::default()
    };
    if let StorageMode::Disk(dir) = storage.mode() {
        opts.work_dir = dir.join("lambda-environments");
        opts.log_dir = Some(dir.join("lambda-logs"));
    }
    opts
}

/// Give every service the in-process client (cloudemu_core::internal) once all are built and
/// the address is known; services start their background work (pollers, retry queues) here.
fn attach_internal_client(state: &web::Data<AppState>, addr: SocketAddr) {
    let client = cloudemu_core::InternalClient::new();
    let ip = if addr.ip().is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        addr.ip()
    };
    client.install(
        Arc::new(crate::internal::RegistryCaller {
            state: Arc::downgrade(&state.clone().into_inner()),
        }),
        SocketAddr::new(ip, addr.port()).to_string(),
    );
    for id in state.registry.enabled() {
        if let Some(svc) = state.registry.service(id) {
            svc.attach(client.clone());
        }
    }
}

/// Open storage, build the service registry and start serving.
pub async fn start(config: Config) -> Result<Running, StartError> {
    crate::registry::check_names(&config.services).map_err(StartError::Config)?;
    let mode = if config.in_memory {
        StorageMode::Memory
    } else {
        StorageMode::Disk(config.data_dir.clone())
    };
    let storage = Storage::open(mode).await?;
    let registry = Registry::new(implemented_services(&storage, &config), &config.services);
    let state = web::Data::new(AppState {
        config: config.clone(),
        registry,
        storage: storage.clone(),
        started: Instant::now(),
    });

    let app_state = state.clone();
    let bind_addr = format!("{}:{}", config.host, config.port);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .route("/_cloudemu/health", web::get().to(health))
            .route("/_cloudemu/reset", web::post().to(reset))
            .route("/_cloudemu/sqs/messages", web::get().to(sqs_messages))
            .route("/_cloudemu/lambda/code/{id}", web::get().to(lambda_code))
            .route("/_localstack/health", web::get().to(localstack_health))
            .route("/_localstack/health", web::head().to(HttpResponse::Ok))
            .default_service(web::to(dispatch::handle))
            .wrap_fn(|mut req, srv| {
                crate::gateway::header_map::compact(req.headers_mut());
                actix_web::dev::Service::call(srv, req)
            })
    })
    // Signals are handled by the binary, so embedding (tests) never installs handlers.
    .disable_signals()
    .shutdown_timeout(config.shutdown_timeout);
    if let Some(w) = config.workers {
        server = server.workers(w.max(1));
    }
    let server = server.bind(&bind_addr).map_err(|source| StartError::Bind {
        addr: bind_addr.clone(),
        source,
    })?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| StartError::Bind {
            addr: bind_addr.clone(),
            source: std::io::Error::other("no address bound"),
        })?;
    attach_internal_client(&state, addr);
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);

    let data = match storage.mode() {
        StorageMode::Disk(dir) => dir.display().to_string(),
        StorageMode::Memory => "in-memory".to_string(),
    };
    tracing::info!(
        "CloudEmu {} listening on http://{addr} (data: {data}; services: {})",
        env!("CARGO_PKG_VERSION"),
        state.registry.enabled().join(", ")
    );
    Ok(Running {
        addr,
        handle,
        task,
        storage,
        state,
    })
}

async fn health(state: web::Data<AppState>) -> HttpResponse {
    let services: serde_json::Map<String, serde_json::Value> = state
        .registry
        .states()
        .into_iter()
        .map(|(id, s)| (id.to_string(), json!(s.as_str())))
        .collect();
    let (mode, dir) = match state.storage.mode() {
        StorageMode::Disk(d) => ("disk", Some(d.display().to_string())),
        StorageMode::Memory => ("memory", None),
    };
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.started.elapsed().as_secs_f64(),
        "storage": { "mode": mode, "data_dir": dir },
        "services": services,
    }))
}

/// LocalStack's health shape, so scripts and CI actions that wait on LocalStack work unchanged.
/// Only services that answer real calls are listed as `running`.
async fn localstack_health(state: web::Data<AppState>) -> HttpResponse {
    let services: serde_json::Map<String, serde_json::Value> = state
        .registry
        .states()
        .into_iter()
        .filter_map(|(id, s)| match s {
            ServiceState::Running => Some((id.to_string(), json!("running"))),
            ServiceState::Disabled => Some((id.to_string(), json!("disabled"))),
            ServiceState::NotImplemented => None,
        })
        .collect();
    HttpResponse::Ok().json(json!({
        "services": services,
        "edition": "community",
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

async fn reset(state: web::Data<AppState>) -> HttpResponse {
    match state.storage.reset().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "reset": true })),
        Err(e) => {
            tracing::error!(error = %e, "reset failed");
            HttpResponse::InternalServerError()
                .json(json!({ "reset": false, "error": e.to_string() }))
        }
    }
}

/// `GET /_cloudemu/sqs/messages?QueueUrl=…[&Region=…]`: a queue's messages without changing
/// their visibility, for tests that peek.
async fn sqs_messages(
    req: actix_web::HttpRequest,
    query: web::Query<std::collections::HashMap<String, String>>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Some(sqs) = state
        .registry
        .service("sqs")
        .and_then(|s| s.as_any())
        .and_then(|a| a.downcast_ref::<cloudemu_sqs::Sqs>())
    else {
        return HttpResponse::NotFound().json(json!({"error": "SQS is not enabled"}));
    };
    let Some(url) = query.get("QueueUrl") else {
        return HttpResponse::BadRequest().json(json!({"error": "QueueUrl is required"}));
    };
    let ctx = cloudemu_core::RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        account_id: state.config.account_id.clone(),
        region: query
            .get("Region")
            .cloned()
            .unwrap_or_else(|| state.config.region.clone()),
        access_key_id: None,
        host: req.connection_info().host().to_string(),
        operation: "PeekMessages".into(),
    };
    match sqs.peek_messages(&ctx, url).await {
        Ok(messages) => HttpResponse::Ok().json(json!({ "Messages": messages })),
        Err(e) => {
            let e = cloudemu_core::ServiceError::from(e);
            HttpResponse::build(
                actix_web::http::StatusCode::from_u16(e.status)
                    .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
            )
            .json(json!({ "__type": e.code, "message": e.message }))
        }
    }
}

/// A function's deployment package: where GetFunction's `Code.Location` points (AWS hands out a
/// presigned S3 URL; ours is served here). The id is an unguessable object id.
async fn lambda_code(state: web::Data<AppState>, id: web::Path<String>) -> HttpResponse {
    match state.storage.lambda().read_code(&id).await {
        Ok(Some(zip)) => HttpResponse::Ok().content_type("application/zip").body(zip),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(e) => {
            tracing::error!(error = %e, "reading a function's code failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// Wait for SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// How long the binary waits for a clean stop before giving up.
pub fn stop_deadline(config: &Config) -> Duration {
    Duration::from_secs(config.shutdown_timeout + 5)
}
