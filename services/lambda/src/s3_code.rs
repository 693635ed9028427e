//! Deployment packages named by S3Bucket/S3Key/S3ObjectVersion, read from CloudEmu's own S3
//! through S3's GetObject operation (the in-process client), as Lambda copies them at create
//! or update time.

use crate::code::{accept_zip_bytes, ZipPackage};
use crate::errors::LambdaError;
use crate::Lambda;
use cloudemu_core::RequestContext;
use serde_json::json;

/// Lambda's limit on a package taken from S3 (its unzipped limit bounds the zip too).
const MAX_S3_PACKAGE: usize = 262_144_000;

/// Where a request says the code is.
pub struct CodeSource {
    pub zip_file: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_key: Option<String>,
    pub s3_object_version: Option<String>,
}

impl Lambda {
    /// The package a request names: `ZipFile`, or an S3 object. `None` when it names neither.
    pub(crate) async fn package(
        &self,
        ctx: &RequestContext,
        src: CodeSource,
    ) -> Result<Option<ZipPackage>, LambdaError> {
        if let Some(zip) = src.zip_file {
            return crate::code::accept_zip(&zip).map(Some);
        }
        let (Some(bucket), Some(key)) = (src.s3_bucket, src.s3_key) else {
            return Ok(None);
        };
        let mut input = json!({"Bucket": bucket, "Key": key});
        if let Some(v) = src.s3_object_version {
            input["VersionId"] = json!(v);
        }
        let s3_ctx = self
            .client
            .context(&ctx.account_id, &ctx.region, "GetObject");
        let resp = self
            .client
            .call(&s3_ctx, "s3", "GetObject", input)
            .await
            .map_err(|e| {
                LambdaError::InvalidParameter(format!(
                    "Error occurred while GetObject. S3 Error Code: {}. S3 Error Message: {}",
                    e.code, e.message
                ))
            })?;
        let bytes = resp.body.collect(MAX_S3_PACKAGE).await.map_err(|_| {
            LambdaError::InvalidParameter(format!(
                "Unzipped size must be smaller than {MAX_S3_PACKAGE} bytes"
            ))
        })?;
        accept_zip_bytes(bytes.to_vec()).map(Some)
    }
}
