//! Amazon DynamoDB: tables, items and the expression language, over SQLite with DynamoDB's key
//! order. Business logic only; the protocol engine parses and serializes JSON 1.0.

mod batch;
mod errors;
mod expr;
mod indexes;
mod items;
mod keys;
mod legacy;
mod number;
mod partiql;
mod query;
mod settings;
mod shapes;
mod streams;
mod table;
mod tables;
mod transact;
mod ttl;
mod types;

use cloudemu_core::{
    typed, typed_response, BoxFuture, RequestContext, Service, ServiceError, ServiceRequest,
    ServiceResponse,
};
use cloudemu_storage::dynamodb::DynamoDbStore;
use cloudemu_storage::dynamodb::TableRow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub use errors::DynamoError;
pub use streams::{DynamoDbStreams, STREAM_OPERATIONS};

use expr::eval::values_equal as eval_equal;

/// ClientRequestTokens seen in the last 10 minutes: (account, region, token) -> (request
/// fingerprint, when). In memory for requests in flight; a committed token is also stored
/// with its writes (`ddb_request_tokens`), so a restart keeps the window.
type Tokens = HashMap<(String, String, String), (String, Instant)>;

/// A table's stored row and its definition parsed from it.
type ParsedMeta = (Arc<TableRow>, Arc<table::TableMeta>);

pub struct DynamoDb {
    store: DynamoDbStore,
    tokens: Mutex<Tokens>,
    /// Parsed table definitions by table id, with the stored row they came from: every item
    /// request needs its table's definition, and parsing the JSON each time cost more than
    /// the item work itself. The stored row is compared on each use, so an updated table
    /// re-parses.
    metas: Mutex<HashMap<i64, ParsedMeta>>,
}

impl DynamoDb {
    /// Also starts the TTL sweeper when called inside a Tokio runtime (the server always is).
    pub fn new(store: DynamoDbStore) -> Self {
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(ttl::sweep_forever(store.clone()));
        }
        Self {
            store,
            tokens: Mutex::new(HashMap::new()),
            metas: Mutex::new(HashMap::new()),
        }
    }
}

pub const OPERATIONS: &[&str] = &[
    "BatchGetItem",
    "BatchWriteItem",
    "CreateTable",
    "DeleteTable",
    "DescribeContinuousBackups",
    "DescribeEndpoints",
    "DescribeLimits",
    "DescribeTable",
    "DescribeTimeToLive",
    "BatchExecuteStatement",
    "ExecuteStatement",
    "ExecuteTransaction",
    "DeleteItem",
    "GetItem",
    "PutItem",
    "Query",
    "Scan",
    "UpdateItem",
    "ListTables",
    "ListTagsOfResource",
    "TagResource",
    "TransactGetItems",
    "TransactWriteItems",
    "UntagResource",
    "UpdateContinuousBackups",
    "UpdateTable",
    "UpdateTimeToLive",
];

/// Route an operation to its typed handler; `$h` is a method of `DynamoDb`.
macro_rules! route {
    ($self:ident, $ctx:ident, $input:ident, $h:ident) => {
        typed($input, |i| async move { Ok($self.$h($ctx, i).await?) })
            .await
            .map(ServiceResponse::from)
    };
}

/// `route!` for a handler that builds its whole response (items passed through as JSON text).
macro_rules! route_response {
    ($self:ident, $ctx:ident, $input:ident, $h:ident) => {
        typed_response($input, |i| async move { Ok($self.$h($ctx, i).await?) }).await
    };
}

impl Service for DynamoDb {
    fn id(&self) -> &'static str {
        "dynamodb"
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
            match operation {
                "CreateTable" => route!(self, ctx, input, create_table),
                "DescribeTable" => route!(self, ctx, input, describe_table),
                "ListTables" => route!(self, ctx, input, list_tables),
                "DeleteTable" => route!(self, ctx, input, delete_table),
                "UpdateTable" => route!(self, ctx, input, update_table),
                "TagResource" => route!(self, ctx, input, tag_resource),
                "UntagResource" => route!(self, ctx, input, untag_resource),
                "ListTagsOfResource" => route!(self, ctx, input, list_tags_of_resource),
                "DescribeTimeToLive" => route!(self, ctx, input, describe_time_to_live),
                "UpdateTimeToLive" => route!(self, ctx, input, update_time_to_live),
                "DescribeContinuousBackups" => {
                    route!(self, ctx, input, describe_continuous_backups)
                }
                "UpdateContinuousBackups" => route!(self, ctx, input, update_continuous_backups),
                "PutItem" => route!(self, ctx, input, put_item),
                "GetItem" => route_response!(self, ctx, input, get_item),
                "DeleteItem" => route!(self, ctx, input, delete_item),
                "UpdateItem" => route!(self, ctx, input, update_item),
                "Query" => route_response!(self, ctx, input, query),
                "Scan" => route_response!(self, ctx, input, scan),
                "BatchGetItem" => route_response!(self, ctx, input, batch_get_item),
                "BatchWriteItem" => route!(self, ctx, input, batch_write_item),
                "TransactWriteItems" => route!(self, ctx, input, transact_write_items),
                "TransactGetItems" => route!(self, ctx, input, transact_get_items),
                "ExecuteStatement" => route!(self, ctx, input, execute_statement),
                "BatchExecuteStatement" => route!(self, ctx, input, batch_execute_statement),
                "ExecuteTransaction" => route!(self, ctx, input, execute_transaction),
                "DescribeLimits" => Ok(self.describe_limits().await?.into()),
                "DescribeEndpoints" => Ok(self.describe_endpoints(ctx).await?.into()),
                other => Err(ServiceError::not_implemented("dynamodb", other)),
            }
        })
    }
}
