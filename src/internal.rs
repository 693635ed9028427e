//! The in-process [`Caller`] behind every service's `InternalClient`: one service calling
//! another's operation through the same checks a client request passes (operation known to the
//! model and served, required members, model validation), minus HTTP and serialization.

use crate::gateway::dispatch::missing_parameter;
use crate::server::AppState;
use cloudemu_core::internal::{unavailable, Caller};
use cloudemu_core::{
    Body, BoxFuture, RequestContext, ServiceError, ServiceRequest, ServiceResponse, Trailer,
};
use cloudemu_protocol::validate;
use serde_json::Value;
use std::sync::Weak;

/// Holds the server state weakly: services hold the client, and the state holds the services,
/// so a strong reference would keep a stopped server alive (and its pollers running).
pub struct RegistryCaller {
    pub state: Weak<AppState>,
}

impl Caller for RegistryCaller {
    fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        service: &'a str,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            let state = self
                .state
                .upgrade()
                .ok_or_else(|| unavailable("the server has stopped"))?;
            let svc = state
                .registry
                .service(service)
                .cloned()
                .ok_or_else(|| unavailable(&format!("service {service} is not enabled")))?;
            let model = state
                .registry
                .model(service)
                .ok_or_else(|| unavailable(&format!("service {service} has no model")))?;
            let op = model
                .operation(operation)
                .ok_or_else(|| ServiceError::not_implemented(service, operation))?;
            if !svc.operations().contains(&op.name.as_str()) {
                return Err(ServiceError::not_implemented(service, operation));
            }
            if let Some(e) = missing_parameter(&model, op, &input) {
                return Err(ServiceError {
                    code: e.code,
                    message: e.message,
                    status: e.status,
                    sender_fault: e.sender_fault,
                    fields: e.fields,
                });
            }
            let violations = validate::validate_input(&model, op, &input);
            if !violations.is_empty() {
                let code = model
                    .overlay
                    .validation_error_code
                    .as_deref()
                    .unwrap_or("ValidationException");
                return Err(ServiceError::client(
                    code,
                    400,
                    validate::message(&violations),
                ));
            }
            let request = ServiceRequest {
                input,
                body: Body::Empty,
                trailer: Trailer::default(),
                chunked_transfer: false,
            };
            svc.call(ctx, &op.name, request).await
        })
    }
}
