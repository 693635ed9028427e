//! Amazon S3: buckets and objects. Bodies stream to and from the object store; metadata lives
//! in SQLite. Bucket names are global, as in AWS; each bucket records its owner and region.

mod acl;
mod attributes;
mod buckets;
mod checksum;
mod conditions;
mod configs;
mod control;
mod copy;
mod errors;
mod ingest;
mod listing;
mod lock;
mod multipart;
mod names;
mod objects;
mod public;
mod shapes;
mod tagging;
mod versions;

use cloudemu_core::{
    typed, BoxFuture, RequestContext, Service, ServiceError, ServiceRequest, ServiceResponse,
};
use cloudemu_storage::s3::S3Store;
use cloudemu_storage::ObjectStore;
use serde_json::Value;

pub use control::S3Control;
pub use errors::S3Error;

#[derive(Clone)]
pub struct S3 {
    store: S3Store,
    objects: ObjectStore,
}

impl S3 {
    pub fn new(store: S3Store, objects: ObjectStore) -> Self {
        Self { store, objects }
    }
}

pub const OPERATIONS: &[&str] = &[
    "AbortMultipartUpload",
    "CompleteMultipartUpload",
    "CopyObject",
    "CreateBucket",
    "CreateMultipartUpload",
    "DeleteBucket",
    "DeleteBucketCors",
    "DeleteBucketEncryption",
    "DeleteBucketLifecycle",
    "DeleteBucketOwnershipControls",
    "DeleteBucketPolicy",
    "DeleteBucketReplication",
    "DeleteBucketTagging",
    "DeleteBucketWebsite",
    "DeleteObject",
    "DeleteObjectTagging",
    "DeleteObjects",
    "DeletePublicAccessBlock",
    "GetBucketAccelerateConfiguration",
    "GetBucketAcl",
    "GetBucketCors",
    "GetBucketEncryption",
    "GetBucketLifecycleConfiguration",
    "GetBucketLocation",
    "GetBucketLogging",
    "GetBucketNotificationConfiguration",
    "GetBucketOwnershipControls",
    "GetBucketPolicy",
    "GetBucketPolicyStatus",
    "GetBucketReplication",
    "GetBucketRequestPayment",
    "GetBucketTagging",
    "GetBucketVersioning",
    "GetBucketWebsite",
    "GetObject",
    "GetObjectAcl",
    "GetObjectAttributes",
    "GetObjectLegalHold",
    "GetObjectLockConfiguration",
    "GetObjectRetention",
    "GetObjectTagging",
    "GetPublicAccessBlock",
    "HeadBucket",
    "HeadObject",
    "ListBuckets",
    "ListMultipartUploads",
    "ListObjects",
    "ListObjectVersions",
    "ListObjectsV2",
    "ListParts",
    "PutBucketAccelerateConfiguration",
    "PutBucketAcl",
    "PutBucketCors",
    "PutBucketEncryption",
    "PutBucketLifecycleConfiguration",
    "PutBucketLogging",
    "PutBucketNotificationConfiguration",
    "PutBucketOwnershipControls",
    "PutBucketPolicy",
    "PutBucketReplication",
    "PutBucketRequestPayment",
    "PutBucketTagging",
    "PutBucketVersioning",
    "PutBucketWebsite",
    "PutObject",
    "PutObjectAcl",
    "PutObjectLegalHold",
    "PutObjectLockConfiguration",
    "PutObjectRetention",
    "PutObjectTagging",
    "PutPublicAccessBlock",
    "UploadPart",
    "UploadPartCopy",
];

/// Route an operation to its typed handler; `$h` is a method of `S3`.
macro_rules! route {
    ($self:ident, $ctx:ident, $input:ident, $h:ident) => {
        typed($input, |i| async move { Ok($self.$h($ctx, i).await?) }).await
    };
}

/// An input the typed layer cannot represent: the client's request, not a server fault.
fn bad_input(e: serde_json::Error) -> ServiceError {
    ServiceError::client(
        "InvalidArgument",
        400,
        format!("The request could not be read: {e}"),
    )
}

impl Service for S3 {
    fn id(&self) -> &'static str {
        "s3"
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    /// The gateway answers CORS from a bucket's configuration ([`S3::cors_configuration`]).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        request: ServiceRequest,
    ) -> BoxFuture<'a, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            let input = request.input;
            if let Some(out) = self.config_call(operation, &input).await {
                return Ok(ServiceResponse::from(out?));
            }
            let output: Result<Value, ServiceError> = match operation {
                "CreateBucket" => route!(self, ctx, input, create_bucket),
                "HeadBucket" => route!(self, ctx, input, head_bucket),
                "GetBucketLocation" => route!(self, ctx, input, get_bucket_location),
                "DeleteBucket" => route!(self, ctx, input, delete_bucket),
                "ListBuckets" => route!(self, ctx, input, list_buckets),
                "ListObjects" => route!(self, ctx, input, list_objects),
                "ListObjectsV2" => route!(self, ctx, input, list_objects_v2),
                "ListObjectVersions" => route!(self, ctx, input, list_object_versions),
                "HeadObject" => route!(self, ctx, input, head_object),
                "GetObjectAttributes" => route!(self, ctx, input, get_object_attributes),
                "DeleteObject" => route!(self, ctx, input, delete_object),
                "DeleteObjects" => route!(self, ctx, input, delete_objects),
                "CreateMultipartUpload" => route!(self, ctx, input, create_multipart_upload),
                "CompleteMultipartUpload" => {
                    route!(self, ctx, input, complete_multipart_upload)
                }
                "AbortMultipartUpload" => route!(self, ctx, input, abort_multipart_upload),
                "ListParts" => route!(self, ctx, input, list_parts),
                "CopyObject" => route!(self, ctx, input, copy_object),
                "PutObjectTagging" => Ok(self.put_object_tagging(ctx, input).await?),
                "GetObjectTagging" => Ok(self.get_object_tagging(ctx, input).await?),
                "DeleteObjectTagging" => Ok(self.delete_object_tagging(ctx, input).await?),
                "GetBucketPolicyStatus" => Ok(self.get_bucket_policy_status(input).await?),
                "GetBucketAcl" | "GetObjectAcl" => Ok(self.get_acl(input).await?),
                "PutBucketAcl" => Ok(self.put_bucket_acl(ctx, input).await?),
                "PutObjectAcl" => Ok(self.put_object_acl(ctx, input).await?),
                "PutObjectRetention" => Ok(self.put_object_retention(ctx, input).await?),
                "GetObjectRetention" => Ok(self.get_object_retention(ctx, input).await?),
                "PutObjectLegalHold" => Ok(self.put_object_legal_hold(ctx, input).await?),
                "GetObjectLegalHold" => Ok(self.get_object_legal_hold(ctx, input).await?),
                "UploadPartCopy" => route!(self, ctx, input, upload_part_copy),
                "ListMultipartUploads" => route!(self, ctx, input, list_multipart_uploads),
                "UploadPart" => {
                    let input: shapes::UploadPartRequest =
                        serde_json::from_value(input).map_err(bad_input)?;
                    ingest::require_length(request.chunked_transfer, input.object.content_length)?;
                    let out = self
                        .upload_part(ctx, input, request.body, request.trailer)
                        .await?;
                    serde_json::to_value(out).map_err(ServiceError::internal)
                }
                "PutObject" => {
                    let input: shapes::PutObjectRequest =
                        serde_json::from_value(input).map_err(bad_input)?;
                    ingest::require_length(request.chunked_transfer, input.content_length)?;
                    let out = self
                        .put_object(ctx, input, request.body, request.trailer)
                        .await?;
                    serde_json::to_value(out).map_err(ServiceError::internal)
                }
                "GetObject" => {
                    let input = serde_json::from_value(input).map_err(bad_input)?;
                    let (output, body) = self.get_object(ctx, input).await?;
                    return Ok(ServiceResponse {
                        output,
                        encoded: Vec::new(),
                        body,
                        headers: Vec::new(),
                    });
                }
                other => Err(ServiceError::not_implemented("s3", other)),
            };
            output.map(ServiceResponse::from)
        })
    }
}
