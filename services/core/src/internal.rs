//! Services calling services, in process: the SQS poller behind a Lambda event source mapping,
//! Lambda reading its code from S3, asynchronous invocations delivering to their destinations,
//! and later SNS or S3 notifications.
//!
//! A service never reaches into another service's crate or tables (DESIGN.md): it calls the
//! other service's *operation* by name with a model-shaped JSON input, exactly what a client
//! request becomes after parsing. The [`Caller`] behind an [`InternalClient`] is installed once
//! by the binary after every service is built, and runs the same checks as the gateway (the
//! operation exists in the model, required members, model validation) before `Service::call`,
//! so an internal call cannot reach a service with input a client could not send. There is no
//! HTTP, no serialization and no signature on this path.
//!
//! A service that wants the client keeps the one handed to [`crate::Service::attach`].

use crate::{BoxFuture, RequestContext, ServiceError, ServiceResponse};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

/// What runs an internal call: the binary implements it over its service registry.
pub trait Caller: Send + Sync {
    /// Run `operation` of `service` for `ctx`'s account and region. `input` is the operation's
    /// input in model member names (blobs base64, timestamps epoch seconds), as the protocol
    /// layer would have parsed it.
    fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        service: &'a str,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<ServiceResponse, ServiceError>>;
}

/// The error a call gets when no caller is installed yet, or the server is shutting down.
pub const UNAVAILABLE: &str = "ServiceUnavailableException";

#[derive(Default)]
struct Inner {
    caller: OnceLock<Arc<dyn Caller>>,
    /// `host:port` the server answers on, for contexts built here (functions get it as their
    /// AWS_ENDPOINT_URL, SQS builds queue URLs from it).
    host: OnceLock<String>,
}

/// A cheap, cloneable handle to the in-process caller.
#[derive(Clone, Default)]
pub struct InternalClient(Arc<Inner>);

impl InternalClient {
    pub fn new() -> Self {
        Self::default()
    }

    /// Install the caller and the server's address (once; later calls are ignored).
    pub fn install(&self, caller: Arc<dyn Caller>, host: String) {
        let _ = self.0.caller.set(caller);
        let _ = self.0.host.set(host);
    }

    /// Make this handle call through what `other` calls through (a service that built its own
    /// handle before `Service::attach` adopts the one it is given).
    pub fn install_from(&self, other: &InternalClient) {
        if let (Some(caller), Some(host)) = (other.0.caller.get(), other.0.host.get()) {
            self.install(caller.clone(), host.clone());
        }
    }

    pub fn is_installed(&self) -> bool {
        self.0.caller.get().is_some()
    }

    /// A context acting in `account`/`region` for an internal `operation`, with a fresh request
    /// id and the server's own address as host.
    pub fn context(&self, account: &str, region: &str, operation: &str) -> RequestContext {
        RequestContext {
            request_id: uuid::Uuid::new_v4().to_string(),
            account_id: account.to_string(),
            region: region.to_string(),
            access_key_id: None,
            host: self
                .0
                .host
                .get()
                .cloned()
                .unwrap_or_else(|| "localhost:4566".to_string()),
            operation: operation.to_string(),
        }
    }

    /// Call `service`'s `operation`; the answer is the output value tree and any body.
    pub async fn call(
        &self,
        ctx: &RequestContext,
        service: &str,
        operation: &str,
        input: Value,
    ) -> Result<ServiceResponse, ServiceError> {
        let Some(caller) = self.0.caller.get() else {
            return Err(unavailable("no in-process caller is installed"));
        };
        let mut ctx = ctx.clone();
        ctx.operation = operation.to_string();
        caller.call(&ctx, service, operation, input).await
    }

    /// [`Self::call`] for operations without a streamed body: just the output.
    pub async fn call_value(
        &self,
        ctx: &RequestContext,
        service: &str,
        operation: &str,
        input: Value,
    ) -> Result<Value, ServiceError> {
        self.call(ctx, service, operation, input)
            .await?
            .into_output()
            .map_err(|e| ServiceError::internal(format!("output member: {e}")))
    }
}

/// The error for a call that cannot run (no caller, server stopped).
pub fn unavailable(why: &str) -> ServiceError {
    ServiceError {
        code: UNAVAILABLE.into(),
        message: why.into(),
        status: 503,
        sender_fault: false,
        fields: Default::default(),
    }
}
