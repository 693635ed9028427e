//! Typed inputs and outputs of the operations served, with the model's member names.

use cloudemu_core::serde_helpers::{epoch_seconds, epoch_seconds_opt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketInput {
    pub bucket: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateBucketConfiguration {
    pub location_constraint: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateBucketRequest {
    pub bucket: String,
    pub create_bucket_configuration: Option<CreateBucketConfiguration>,
    pub object_lock_enabled_for_bucket: Option<bool>,
    pub object_ownership: Option<String>,
    #[serde(flatten)]
    pub acl: crate::acl::AclHeaders,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateBucketOutput {
    pub location: String,
    pub bucket_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HeadBucketOutput {
    pub bucket_region: String,
    pub bucket_arn: String,
    pub bucket_location_type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetBucketLocationOutput {
    /// Absent for us-east-1, as S3 answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_constraint: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListBucketsRequest {
    pub max_buckets: Option<i64>,
    pub continuation_token: Option<String>,
    pub prefix: Option<String>,
    pub bucket_region: Option<String>,
}

#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Owner {
    #[serde(rename = "ID")]
    pub id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketEntry {
    pub name: String,
    #[serde(with = "epoch_seconds")]
    pub creation_date: chrono::DateTime<chrono::Utc>,
    pub bucket_region: String,
    pub bucket_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListBucketsOutput {
    pub buckets: Vec<BucketEntry>,
    pub owner: Owner,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// Object headers shared by PutObject, CreateMultipartUpload and CopyObject (REPLACE).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutObjectRequest {
    pub bucket: String,
    pub key: String,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    pub content_length: Option<i64>,
    #[serde(rename = "ContentMD5")]
    pub content_md5: Option<String>,
    pub content_type: Option<String>,
    pub checksum_algorithm: Option<String>,
    #[serde(rename = "ChecksumCRC32")]
    pub checksum_crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C")]
    pub checksum_crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME")]
    pub checksum_crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1")]
    pub checksum_sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256")]
    pub checksum_sha256: Option<String>,
    pub expires: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    pub storage_class: Option<String>,
    pub tagging: Option<String>,
    #[serde(flatten)]
    pub acl: crate::acl::AclHeaders,
    #[serde(flatten)]
    pub lock: crate::lock::LockHeaders,
}

impl PutObjectRequest {
    /// The checksum members given as headers, by member name.
    pub fn checksums(&self) -> serde_json::Map<String, serde_json::Value> {
        [
            ("ChecksumCRC32", &self.checksum_crc32),
            ("ChecksumCRC32C", &self.checksum_crc32c),
            ("ChecksumCRC64NVME", &self.checksum_crc64nvme),
            ("ChecksumSHA1", &self.checksum_sha1),
            ("ChecksumSHA256", &self.checksum_sha256),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v.into())))
        .collect()
    }

    /// The object these headers describe, without its body.
    pub fn into_template(
        self,
        owner: &str,
    ) -> Result<cloudemu_storage::s3::ObjectRecord, crate::errors::S3Error> {
        let tags = match self.tagging.as_deref() {
            Some(h) => crate::tagging::parse_tagging_header(h)?,
            None => Vec::new(),
        };
        crate::tagging::check_tags(&tags, 10)?;
        Ok(cloudemu_storage::s3::ObjectRecord {
            bucket: self.bucket,
            key: self.key,
            content_type: self.content_type,
            content_encoding: self.content_encoding.filter(|e| !e.is_empty()),
            content_disposition: self.content_disposition,
            content_language: self.content_language,
            cache_control: self.cache_control,
            expires: self.expires,
            user_metadata: self.metadata.into_iter().collect(),
            storage_class: self.storage_class.filter(|s| s != "STANDARD"),
            owner_account: owner.to_string(),
            tags,
            ..Default::default()
        })
    }
}

/// The checksum members every object output carries.
#[derive(Debug, Default, Serialize)]
pub struct ChecksumFields {
    #[serde(rename = "ChecksumCRC32", skip_serializing_if = "Option::is_none")]
    pub crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C", skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME", skip_serializing_if = "Option::is_none")]
    pub crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1", skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256", skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutObjectOutput {
    #[serde(rename = "ETag")]
    pub etag: String,
    pub server_side_encryption: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(flatten)]
    pub checksum: ChecksumFields,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetObjectRequest {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    pub checksum_mode: Option<String>,
    pub range: Option<String>,
    pub part_number: Option<i64>,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<f64>,
    pub if_unmodified_since: Option<f64>,
    pub response_cache_control: Option<String>,
    pub response_content_disposition: Option<String>,
    pub response_content_encoding: Option<String>,
    pub response_content_language: Option<String>,
    pub response_content_type: Option<String>,
    #[serde(default, with = "epoch_seconds_opt")]
    pub response_expires: Option<chrono::DateTime<chrono::Utc>>,
}

/// GetObject's and HeadObject's headers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectHeaders {
    pub accept_ranges: String,
    #[serde(with = "epoch_seconds")]
    pub last_modified: chrono::DateTime<chrono::Utc>,
    pub content_length: i64,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    pub content_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_range: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_count: Option<i64>,
    pub server_side_encryption: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_lock_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_lock_retain_until_date: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_lock_legal_hold_status: Option<String>,
    #[serde(flatten)]
    pub checksum: ChecksumFields,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectInput {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    pub bypass_governance_retention: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectIdentifier {
    pub key: String,
    pub version_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Delete {
    #[serde(default)]
    pub objects: Vec<ObjectIdentifier>,
    pub quiet: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteObjectsRequest {
    pub bucket: String,
    pub delete: Delete,
    pub bypass_governance_retention: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeletedObject {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_marker: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_marker_version_id: Option<String>,
}

/// DeleteObject's headers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteObjectOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_marker: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteError {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteObjectsOutput {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<DeletedObject>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<DeleteError>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListObjectsRequest {
    pub bucket: String,
    pub delimiter: Option<String>,
    pub encoding_type: Option<String>,
    pub max_keys: Option<i64>,
    pub prefix: Option<String>,
    /// v1
    pub marker: Option<String>,
    /// v2
    pub continuation_token: Option<String>,
    pub fetch_owner: Option<bool>,
    pub start_after: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectEntry {
    pub key: String,
    #[serde(with = "epoch_seconds")]
    pub last_modified: chrono::DateTime<chrono::Utc>,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checksum_algorithm: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
    pub size: i64,
    pub storage_class: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommonPrefix {
    pub prefix: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListObjectsOutput {
    pub is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<ObjectEntry>,
    pub name: String,
    pub prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    pub max_keys: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub common_prefixes: Vec<CommonPrefix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListObjectsV2Output {
    pub is_truncated: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<ObjectEntry>,
    pub name: String,
    pub prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    pub max_keys: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub common_prefixes: Vec<CommonPrefix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<String>,
    pub key_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_continuation_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateMultipartUploadRequest {
    #[serde(flatten)]
    pub object: PutObjectRequest,
    pub checksum_type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateMultipartUploadOutput {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub server_side_encryption: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadPartRequest {
    #[serde(flatten)]
    pub object: PutObjectRequest,
    pub part_number: i64,
    pub upload_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadPartOutput {
    #[serde(rename = "ETag")]
    pub etag: String,
    pub server_side_encryption: String,
    #[serde(flatten)]
    pub checksum: ChecksumFields,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompletedPart {
    #[serde(rename = "ETag")]
    pub etag: Option<String>,
    pub part_number: Option<i64>,
    #[serde(rename = "ChecksumCRC32")]
    pub checksum_crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C")]
    pub checksum_crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME")]
    pub checksum_crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1")]
    pub checksum_sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256")]
    pub checksum_sha256: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompletedMultipartUpload {
    #[serde(default)]
    pub parts: Vec<CompletedPart>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompleteMultipartUploadRequest {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub multipart_upload: Option<CompletedMultipartUpload>,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub mpu_object_size: Option<i64>,
    #[serde(rename = "ChecksumCRC32")]
    pub checksum_crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C")]
    pub checksum_crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME")]
    pub checksum_crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1")]
    pub checksum_sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256")]
    pub checksum_sha256: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompleteMultipartUploadOutput {
    pub location: String,
    pub bucket: String,
    pub key: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    pub server_side_encryption: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(flatten)]
    pub checksum: ChecksumFields,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadInput {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub max_parts: Option<i64>,
    pub part_number_marker: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PartEntry {
    pub part_number: i64,
    #[serde(with = "epoch_seconds")]
    pub last_modified: chrono::DateTime<chrono::Utc>,
    #[serde(rename = "ETag")]
    pub etag: String,
    pub size: i64,
    #[serde(flatten)]
    pub checksum: ChecksumFields,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListPartsOutput {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub part_number_marker: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_part_number_marker: Option<String>,
    pub max_parts: i64,
    pub is_truncated: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartEntry>,
    pub initiator: Owner,
    pub owner: Owner,
    pub storage_class: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMultipartUploadsRequest {
    pub bucket: String,
    pub delimiter: Option<String>,
    pub key_marker: Option<String>,
    pub max_uploads: Option<i64>,
    pub prefix: Option<String>,
    pub upload_id_marker: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadEntry {
    pub upload_id: String,
    pub key: String,
    #[serde(with = "epoch_seconds")]
    pub initiated: chrono::DateTime<chrono::Utc>,
    pub storage_class: String,
    pub owner: Owner,
    pub initiator: Owner,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMultipartUploadsOutput {
    pub bucket: String,
    pub key_marker: String,
    pub upload_id_marker: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_key_marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_upload_id_marker: Option<String>,
    pub prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    pub max_uploads: i64,
    pub is_truncated: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uploads: Vec<UploadEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub common_prefixes: Vec<CommonPrefix>,
}

/// The copy-source members CopyObject and UploadPartCopy share.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CopySource {
    pub copy_source: String,
    pub copy_source_if_match: Option<String>,
    pub copy_source_if_none_match: Option<String>,
    pub copy_source_if_modified_since: Option<f64>,
    pub copy_source_if_unmodified_since: Option<f64>,
    pub copy_source_range: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CopyObjectRequest {
    #[serde(flatten)]
    pub object: PutObjectRequest,
    #[serde(flatten)]
    pub source: CopySource,
    pub metadata_directive: Option<String>,
    pub tagging_directive: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CopyObjectResult {
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(with = "epoch_seconds")]
    pub last_modified: chrono::DateTime<chrono::Utc>,
    #[serde(flatten)]
    pub checksum: ChecksumFields,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CopyObjectOutput {
    pub copy_object_result: CopyObjectResult,
    pub server_side_encryption: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_source_version_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadPartCopyRequest {
    pub bucket: String,
    pub key: String,
    pub part_number: i64,
    pub upload_id: String,
    #[serde(flatten)]
    pub source: CopySource,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadPartCopyOutput {
    pub copy_part_result: CopyObjectResult,
    pub server_side_encryption: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_source_version_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListObjectVersionsRequest {
    pub bucket: String,
    pub delimiter: Option<String>,
    pub encoding_type: Option<String>,
    pub key_marker: Option<String>,
    pub max_keys: Option<i64>,
    pub prefix: Option<String>,
    pub version_id_marker: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectVersionEntry {
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checksum_algorithm: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
    pub size: i64,
    pub storage_class: String,
    pub key: String,
    pub version_id: String,
    pub is_latest: bool,
    #[serde(with = "epoch_seconds")]
    pub last_modified: chrono::DateTime<chrono::Utc>,
    pub owner: Owner,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteMarkerEntry {
    pub owner: Owner,
    pub key: String,
    pub version_id: String,
    pub is_latest: bool,
    #[serde(with = "epoch_seconds")]
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListObjectVersionsOutput {
    pub is_truncated: bool,
    pub key_marker: String,
    pub version_id_marker: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_key_marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_version_id_marker: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<ObjectVersionEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delete_markers: Vec<DeleteMarkerEntry>,
    pub name: String,
    pub prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    pub max_keys: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub common_prefixes: Vec<CommonPrefix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<String>,
}
