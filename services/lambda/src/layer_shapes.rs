//! Typed inputs and outputs of the layer operations (model member names).

use serde::{Deserialize, Serialize};

/// A layer version as Lambda describes it; also the document stored per version (without
/// `Content.Location`, which is built from the caller's host).
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersion {
    pub content: LayerContent,
    pub layer_arn: String,
    pub layer_version_arn: String,
    pub description: String,
    /// Lambda's own format: `2024-01-01T00:00:00.000+0000`.
    pub created_date: String,
    pub version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatible_runtimes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatible_architectures: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct LayerContent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub code_sha256: String,
    pub code_size: i64,
}

/// A version in ListLayerVersions and ListLayers.
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersionsListItem {
    pub layer_version_arn: String,
    pub version: i64,
    pub description: String,
    pub created_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatible_runtimes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatible_architectures: Option<Vec<String>>,
}

impl From<LayerVersion> for LayerVersionsListItem {
    fn from(v: LayerVersion) -> Self {
        Self {
            layer_version_arn: v.layer_version_arn,
            version: v.version,
            description: v.description,
            created_date: v.created_date,
            compatible_runtimes: v.compatible_runtimes,
            license_info: v.license_info,
            compatible_architectures: v.compatible_architectures,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct LayerContentInput {
    pub zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    pub s3_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishLayerVersionRequest {
    pub layer_name: String,
    pub description: Option<String>,
    pub content: LayerContentInput,
    pub compatible_runtimes: Option<Vec<String>>,
    pub license_info: Option<String>,
    pub compatible_architectures: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersionRequest {
    pub layer_name: String,
    pub version_number: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersionByArnRequest {
    pub arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListLayersRequest {
    pub compatible_runtime: Option<String>,
    pub compatible_architecture: Option<String>,
    pub marker: Option<String>,
    pub max_items: Option<usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListLayerVersionsRequest {
    pub layer_name: String,
    pub compatible_runtime: Option<String>,
    pub compatible_architecture: Option<String>,
    pub marker: Option<String>,
    pub max_items: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayersListItem {
    pub layer_name: String,
    pub layer_arn: String,
    pub latest_matching_version: LayerVersionsListItem,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListLayersResponse {
    pub layers: Vec<LayersListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListLayerVersionsResponse {
    pub layer_versions: Vec<LayerVersionsListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddLayerVersionPermissionRequest {
    pub layer_name: String,
    pub version_number: i64,
    pub statement_id: String,
    pub action: String,
    pub principal: String,
    pub organization_id: Option<String>,
    pub revision_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveLayerVersionPermissionRequest {
    pub layer_name: String,
    pub version_number: i64,
    pub statement_id: String,
    pub revision_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddLayerVersionPermissionResponse {
    pub statement: String,
    pub revision_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersionPolicy {
    pub policy: String,
    pub revision_id: String,
}
