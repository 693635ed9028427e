//! AWS Lambda. This increment is the control plane for functions: code zips are stored and
//! served back; execution (Runtime API, runtimes, Invoke) follows in its own modules.

mod code;
mod errors;
mod functions;
mod names;
mod shapes;

use cloudemu_core::{
    typed, BoxFuture, RequestContext, Service, ServiceError, ServiceRequest, ServiceResponse,
};
use cloudemu_storage::lambda::LambdaStore;
use serde_json::Value;

pub use errors::LambdaError;

pub struct Lambda {
    store: LambdaStore,
}

impl Lambda {
    pub fn new(store: LambdaStore) -> Self {
        Self { store }
    }
}

pub const OPERATIONS: &[&str] = &[
    "CreateFunction",
    "DeleteFunction",
    "GetFunction",
    "GetFunctionConfiguration",
    "ListFunctions",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
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
                other => Err(ServiceError::not_implemented("lambda", other)),
            };
            output.map(ServiceResponse::from)
        })
    }
}
