//! Typed inputs and outputs of the function URL operations (model member names).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A function URL's configuration as Lambda returns it; stored without `FunctionUrl`, which
/// is built from the host the caller used.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionUrlConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_url: Option<String>,
    pub function_arn: String,
    pub auth_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors: Option<Value>,
    pub creation_time: String,
    /// CreateFunctionUrlConfig's answer has no LastModifiedTime.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_time: Option<String>,
    pub invoke_mode: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFunctionUrlConfigRequest {
    pub function_name: String,
    pub qualifier: Option<String>,
    pub auth_type: String,
    pub cors: Option<Value>,
    pub invoke_mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateFunctionUrlConfigRequest {
    pub function_name: String,
    pub qualifier: Option<String>,
    pub auth_type: Option<String>,
    pub cors: Option<Value>,
    pub invoke_mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionUrlRequest {
    pub function_name: String,
    pub qualifier: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListFunctionUrlConfigsRequest {
    pub function_name: String,
    pub marker: Option<String>,
    pub max_items: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListFunctionUrlConfigsResponse {
    pub function_url_configs: Vec<FunctionUrlConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}
