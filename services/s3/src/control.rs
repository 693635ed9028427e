//! S3 Control's resource tagging (`/v20180820/tags/{arn}`), which the Terraform AWS provider
//! (≥ 6.23) uses for `aws_s3_bucket` tags. General purpose buckets only; they share their tags
//! with S3's bucket tagging.

use crate::tagging::check_tags;
use crate::S3;
use cloudemu_core::{
    BoxFuture, RequestContext, Service, ServiceError, ServiceRequest, ServiceResponse,
};
use serde_json::{json, Value};

pub struct S3Control {
    s3: S3,
}

impl S3Control {
    pub fn new(s3: S3) -> Self {
        Self { s3 }
    }
}

pub const CONTROL_OPERATIONS: &[&str] = &["ListTagsForResource", "TagResource", "UntagResource"];

fn text(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

impl S3Control {
    /// The bucket a resource ARN names, checked to belong to the calling account.
    async fn bucket_of(&self, input: &Value, operation: &str) -> Result<String, ServiceError> {
        let arn = text(input, "ResourceArn");
        let Some(bucket) = arn
            .strip_prefix("arn:")
            .and_then(|r| r.split_once(":s3:::"))
            .map(|(_, b)| b.to_string())
            .filter(|b| !b.is_empty() && !b.contains('/'))
        else {
            // Access points, jobs, Storage Lens: not served yet.
            return Err(ServiceError::not_implemented("s3control", operation));
        };
        let b = self.s3.bucket(&bucket).await?;
        if b.account_id != text(input, "AccountId") {
            return Err(ServiceError::client("AccessDenied", 403, "Access Denied"));
        }
        Ok(bucket)
    }

    async fn run(&self, operation: &str, input: Value) -> Result<Value, ServiceError> {
        let bucket = self.bucket_of(&input, operation).await?;
        let mut tags = self.s3.bucket_tags(&bucket).await?;
        match operation {
            "ListTagsForResource" => Ok(json!({
                "Tags": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()
            })),
            "TagResource" => {
                let new = input
                    .get("Tags")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|t| (text(t, "Key"), text(t, "Value")));
                for (k, v) in new {
                    match tags.iter_mut().find(|(ek, _)| *ek == k) {
                        Some(slot) => slot.1 = v,
                        None => tags.push((k, v)),
                    }
                }
                check_tags(&tags, 50).map_err(ServiceError::from)?;
                self.s3.set_bucket_tags(&bucket, &tags).await?;
                Ok(json!({}))
            }
            "UntagResource" => {
                let remove: Vec<String> = input
                    .get("TagKeys")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect();
                tags.retain(|(k, _)| !remove.contains(k));
                self.s3.set_bucket_tags(&bucket, &tags).await?;
                Ok(json!({}))
            }
            other => Err(ServiceError::not_implemented("s3control", other)),
        }
    }
}

impl Service for S3Control {
    fn id(&self) -> &'static str {
        "s3control"
    }

    fn operations(&self) -> &'static [&'static str] {
        CONTROL_OPERATIONS
    }

    fn call<'a>(
        &'a self,
        _ctx: &'a RequestContext,
        operation: &'a str,
        request: ServiceRequest,
    ) -> BoxFuture<'a, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            self.run(operation, request.input)
                .await
                .map(ServiceResponse::from)
        })
    }
}
