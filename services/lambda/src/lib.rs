//! AWS Lambda without Docker: the control plane for functions, and execution as local child
//! processes speaking the real Lambda Runtime API to an endpoint CloudEmu serves on 127.0.0.1.

mod account;
mod aliases;
mod async_invoke;
mod code;
mod environment;
mod errors;
mod event_filter;
mod event_invoke_config;
mod event_sources;
mod executor;
mod functions;
mod invoke;
mod layer_shapes;
mod layers;
mod logs;
mod names;
mod permissions;
mod runtime_api;
mod runtimes;
mod s3_code;
mod shapes;
mod sqs_poller;
mod url_serve;
mod url_shapes;
mod urls;
mod versions;

use cloudemu_core::{
    typed, BoxFuture, RequestContext, Service, ServiceError, ServiceRequest, ServiceResponse,
};
use cloudemu_storage::lambda::LambdaStore;
use serde_json::Value;
use std::sync::Arc;

pub use errors::LambdaError;
pub use executor::ExecOptions;
pub use runtimes::Interpreters;

pub struct Lambda {
    store: LambdaStore,
    exec: Arc<executor::Executor>,
    /// Calls into other services (SQS for event sources, S3 for code), set by `attach`.
    client: cloudemu_core::InternalClient,
    pollers: Arc<sqs_poller::Pollers>,
    async_invoker: Arc<async_invoke::AsyncInvoker>,
}

impl Lambda {
    pub fn new(store: LambdaStore) -> Self {
        Self::with_options(store, ExecOptions::default())
    }

    pub fn with_options(store: LambdaStore, opts: ExecOptions) -> Self {
        let async_invoker = Arc::new(async_invoke::AsyncInvoker::new(opts.async_retry_scale));
        Self {
            async_invoker,
            store,
            exec: executor::Executor::new(opts),
            client: cloudemu_core::InternalClient::new(),
            pollers: Arc::default(),
        }
    }
}

pub const OPERATIONS: &[&str] = &[
    "AddLayerVersionPermission",
    "AddPermission",
    "CreateAlias",
    "CreateEventSourceMapping",
    "CreateFunction",
    "CreateFunctionUrlConfig",
    "DeleteAlias",
    "DeleteEventSourceMapping",
    "DeleteFunction",
    "DeleteFunctionConcurrency",
    "DeleteFunctionEventInvokeConfig",
    "DeleteFunctionUrlConfig",
    "DeleteLayerVersion",
    "GetAccountSettings",
    "GetAlias",
    "GetEventSourceMapping",
    "GetFunction",
    "GetFunctionCodeSigningConfig",
    "GetFunctionConcurrency",
    "GetFunctionConfiguration",
    "GetFunctionEventInvokeConfig",
    "GetFunctionUrlConfig",
    "GetLayerVersion",
    "GetLayerVersionByArn",
    "GetLayerVersionPolicy",
    "GetPolicy",
    "Invoke",
    "ListAliases",
    "ListEventSourceMappings",
    "ListFunctionEventInvokeConfigs",
    "ListFunctionUrlConfigs",
    "ListFunctions",
    "ListLayerVersions",
    "ListLayers",
    "ListTags",
    "ListVersionsByFunction",
    "PublishLayerVersion",
    "PublishVersion",
    "PutFunctionConcurrency",
    "PutFunctionEventInvokeConfig",
    "RemoveLayerVersionPermission",
    "RemovePermission",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateEventSourceMapping",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "UpdateFunctionEventInvokeConfig",
    "UpdateFunctionUrlConfig",
];

/// Route an operation to its typed handler; `$h` is a method of `Lambda`.
macro_rules! route {
    ($self:ident, $ctx:ident, $input:ident, $h:ident) => {
        typed($input, |i| async move { Ok($self.$h($ctx, i).await?) }).await
    };
}

impl Service for Lambda {
    fn id(&self) -> &'static str {
        "lambda"
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn attach(&self, client: cloudemu_core::InternalClient) {
        self.client.install_from(&client);
        if self
            .pollers
            .attach(client.clone(), self.store.esm())
            .is_some()
        {
            let pollers = self.pollers.clone();
            tokio::spawn(async move { pollers.resume().await });
        }
        self.async_invoker.attach(client, self.store.esm());
    }

    fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        request: ServiceRequest,
    ) -> BoxFuture<'a, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            let input = request.input;
            let output: Result<Value, ServiceError> = match operation {
                "CreateFunction" => route!(self, ctx, input, create_function),
                "GetFunction" => route!(self, ctx, input, get_function),
                "GetFunctionConfiguration" => {
                    route!(self, ctx, input, get_function_configuration)
                }
                "ListFunctions" => route!(self, ctx, input, list_functions),
                "UpdateFunctionCode" => route!(self, ctx, input, update_function_code),
                "UpdateFunctionConfiguration" => {
                    route!(self, ctx, input, update_function_configuration)
                }
                "DeleteFunction" => route!(self, ctx, input, delete_function),
                "GetAccountSettings" => route!(self, ctx, input, get_account_settings),
                "GetFunctionCodeSigningConfig" => {
                    route!(self, ctx, input, get_function_code_signing_config)
                }
                "PublishVersion" => route!(self, ctx, input, publish_version),
                "ListVersionsByFunction" => route!(self, ctx, input, list_versions_by_function),
                "ListTags" => route!(self, ctx, input, list_tags),
                "PutFunctionConcurrency" => route!(self, ctx, input, put_function_concurrency),
                "GetFunctionConcurrency" => route!(self, ctx, input, get_function_concurrency),
                "DeleteFunctionConcurrency" => {
                    route!(self, ctx, input, delete_function_concurrency)
                }
                "CreateAlias" => route!(self, ctx, input, create_alias),
                "GetAlias" => route!(self, ctx, input, get_alias),
                "ListAliases" => route!(self, ctx, input, list_aliases),
                "UpdateAlias" => route!(self, ctx, input, update_alias),
                "DeleteAlias" => route!(self, ctx, input, delete_alias),
                "AddPermission" => route!(self, ctx, input, add_permission),
                "RemovePermission" => route!(self, ctx, input, remove_permission),
                "GetPolicy" => route!(self, ctx, input, get_policy),
                "TagResource" => route!(self, ctx, input, tag_resource),
                "UntagResource" => route!(self, ctx, input, untag_resource),
                "CreateEventSourceMapping" => {
                    route!(self, ctx, input, create_event_source_mapping)
                }
                "GetEventSourceMapping" => route!(self, ctx, input, get_event_source_mapping),
                "ListEventSourceMappings" => {
                    route!(self, ctx, input, list_event_source_mappings)
                }
                "UpdateEventSourceMapping" => {
                    route!(self, ctx, input, update_event_source_mapping)
                }
                "DeleteEventSourceMapping" => {
                    route!(self, ctx, input, delete_event_source_mapping)
                }
                "PutFunctionEventInvokeConfig" => {
                    route!(self, ctx, input, put_function_event_invoke_config)
                }
                "UpdateFunctionEventInvokeConfig" => {
                    route!(self, ctx, input, update_function_event_invoke_config)
                }
                "GetFunctionEventInvokeConfig" => {
                    route!(self, ctx, input, get_function_event_invoke_config)
                }
                "DeleteFunctionEventInvokeConfig" => {
                    route!(self, ctx, input, delete_function_event_invoke_config)
                }
                "ListFunctionEventInvokeConfigs" => {
                    route!(self, ctx, input, list_function_event_invoke_configs)
                }
                "PublishLayerVersion" => route!(self, ctx, input, publish_layer_version),
                "GetLayerVersion" => route!(self, ctx, input, get_layer_version),
                "GetLayerVersionByArn" => route!(self, ctx, input, get_layer_version_by_arn),
                "ListLayers" => route!(self, ctx, input, list_layers),
                "ListLayerVersions" => route!(self, ctx, input, list_layer_versions),
                "DeleteLayerVersion" => route!(self, ctx, input, delete_layer_version),
                "AddLayerVersionPermission" => {
                    route!(self, ctx, input, add_layer_version_permission)
                }
                "RemoveLayerVersionPermission" => {
                    route!(self, ctx, input, remove_layer_version_permission)
                }
                "GetLayerVersionPolicy" => route!(self, ctx, input, get_layer_version_policy),
                "CreateFunctionUrlConfig" => route!(self, ctx, input, create_function_url_config),
                "GetFunctionUrlConfig" => route!(self, ctx, input, get_function_url_config),
                "UpdateFunctionUrlConfig" => route!(self, ctx, input, update_function_url_config),
                "DeleteFunctionUrlConfig" => route!(self, ctx, input, delete_function_url_config),
                "ListFunctionUrlConfigs" => route!(self, ctx, input, list_function_url_configs),
                "Invoke" => {
                    // The payload is the function's JSON answer, whatever the model's blob says.
                    let out = route!(self, ctx, input, invoke)?;
                    let mut resp = ServiceResponse::from(out);
                    resp.headers
                        .push(("Content-Type".into(), "application/json".into()));
                    return Ok(resp);
                }
                other => Err(ServiceError::not_implemented("lambda", other)),
            };
            output.map(ServiceResponse::from)
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.exec.shutdown())
    }

    fn claims_host(&self, host: &str) -> bool {
        url_serve::claims(host)
    }

    fn serve_hosted(
        &self,
        request: cloudemu_core::HostedRequest,
    ) -> BoxFuture<'_, cloudemu_core::HostedResponse> {
        Box::pin(self.serve_url(request))
    }
}
