//! Buckets: create (with AWS's location-constraint and ownership rules), head, list, delete,
//! location.

use crate::errors::S3Error;
use crate::names::check_bucket_name;
use crate::shapes::*;
use crate::S3;
use base64::Engine;
use cloudemu_core::RequestContext;
use cloudemu_storage::s3::{BucketCreation, BucketDeletion, BucketRecord};

/// The region whose buckets have no location constraint.
const US_EAST_1: &str = "us-east-1";

/// Page size of ListBuckets when the caller gives none (S3 lists up to 10,000 buckets).
const MAX_BUCKETS: i64 = 10_000;

pub(crate) fn bucket_arn(name: &str) -> String {
    format!("arn:aws:s3:::{name}")
}

impl S3 {
    /// The bucket, or `NoSuchBucket`. S3 names are global: any account may address any bucket
    /// (CloudEmu does not evaluate bucket policies).
    pub(crate) async fn bucket(&self, name: &str) -> Result<BucketRecord, S3Error> {
        self.store
            .get_bucket(name)
            .await?
            .ok_or_else(|| S3Error::NoSuchBucket(name.to_string()))
    }

    pub(crate) async fn create_bucket(
        &self,
        ctx: &RequestContext,
        input: CreateBucketRequest,
    ) -> Result<CreateBucketOutput, S3Error> {
        check_bucket_name(&input.bucket)?;
        let constraint = input
            .create_bucket_configuration
            .and_then(|c| c.location_constraint)
            .filter(|c| !c.is_empty());
        let region = bucket_region(&ctx.region, constraint.as_deref())?;
        let object_lock = input.object_lock_enabled_for_bucket.unwrap_or(false);
        let rec = BucketRecord {
            name: input.bucket.clone(),
            account_id: ctx.account_id.clone(),
            region: region.clone(),
            created_at: now(),
            object_lock,
            ownership: input.object_ownership.clone(),
            // Object Lock needs versions: S3 turns versioning on with it.
            versioning: object_lock.then(|| "Enabled".to_string()),
        };
        let mut configs = crate::configs::initial(input.object_ownership.as_deref());
        if let Some(p) = input.acl.policy(&ctx.account_id, &ctx.account_id)? {
            // New buckets have ACLs disabled unless created with another ObjectOwnership.
            let enforced = matches!(
                input.object_ownership.as_deref(),
                None | Some("BucketOwnerEnforced")
            );
            let owner_only = input.acl.acl.as_deref().is_some_and(|a| a == "private");
            if enforced && !owner_only {
                return Err(S3Error::InvalidBucketAclWithObjectOwnership);
            }
            configs.push(("acl", p.to_string()));
        }
        if object_lock {
            configs.push(("versioning", r#"{"Status":"Enabled"}"#.to_string()));
        }
        match self.store.create_bucket(&rec, &configs).await? {
            BucketCreation::Created => {}
            BucketCreation::Exists(existing) if existing.account_id != ctx.account_id => {
                return Err(S3Error::BucketAlreadyExists(input.bucket));
            }
            // us-east-1 keeps its legacy answer: re-creating your own bucket there succeeds.
            BucketCreation::Exists(existing)
                if existing.region == US_EAST_1 && region == US_EAST_1 => {}
            BucketCreation::Exists(_) => {
                return Err(S3Error::BucketAlreadyOwnedByYou(input.bucket));
            }
        }
        let location = if region == US_EAST_1 {
            format!("/{}", input.bucket)
        } else {
            format!("http://{}.s3.{region}.amazonaws.com/", input.bucket)
        };
        Ok(CreateBucketOutput {
            location,
            bucket_arn: bucket_arn(&input.bucket),
        })
    }

    pub(crate) async fn head_bucket(
        &self,
        _ctx: &RequestContext,
        input: BucketInput,
    ) -> Result<HeadBucketOutput, S3Error> {
        let b = self.bucket(&input.bucket).await?;
        Ok(HeadBucketOutput {
            bucket_region: b.region,
            bucket_arn: bucket_arn(&b.name),
            bucket_location_type: None,
        })
    }

    pub(crate) async fn get_bucket_location(
        &self,
        _ctx: &RequestContext,
        input: BucketInput,
    ) -> Result<GetBucketLocationOutput, S3Error> {
        let b = self.bucket(&input.bucket).await?;
        Ok(GetBucketLocationOutput {
            location_constraint: (b.region != US_EAST_1).then_some(b.region),
        })
    }

    pub(crate) async fn delete_bucket(
        &self,
        _ctx: &RequestContext,
        input: BucketInput,
    ) -> Result<(), S3Error> {
        match self.store.delete_bucket(&input.bucket).await? {
            (BucketDeletion::Deleted, parts) => {
                for id in parts {
                    self.free_body(&id).await;
                }
                Ok(())
            }
            (BucketDeletion::NotFound, _) => Err(S3Error::NoSuchBucket(input.bucket)),
            (BucketDeletion::NotEmpty, _) => Err(S3Error::BucketNotEmpty(input.bucket)),
        }
    }

    pub(crate) async fn list_buckets(
        &self,
        ctx: &RequestContext,
        input: ListBucketsRequest,
    ) -> Result<ListBucketsOutput, S3Error> {
        let max = match input.max_buckets {
            None => MAX_BUCKETS,
            Some(n) if (1..=MAX_BUCKETS).contains(&n) => n,
            Some(n) => {
                return Err(S3Error::InvalidArgument {
                    message: "Argument max-buckets must be an integer between 1 and 10000".into(),
                    name: "max-buckets".into(),
                    value: n.to_string(),
                })
            }
        };
        let after = match &input.continuation_token {
            Some(t) => decode_token(t).ok_or_else(|| S3Error::InvalidArgument {
                message: "The continuation token provided is incorrect".into(),
                name: "continuation-token".into(),
                value: t.clone(),
            })?,
            None => String::new(),
        };
        let prefix = input.prefix.clone().unwrap_or_default();
        let mut found = Vec::new();
        let mut cursor = after;
        // Region filtering happens after the page query, so keep reading until a page is full.
        loop {
            let page = self
                .store
                .list_buckets(&ctx.account_id, &prefix, &cursor, max + 1)
                .await?;
            let exhausted = page.len() as i64 <= max;
            for b in page {
                cursor = b.name.clone();
                if input.bucket_region.as_deref().is_none_or(|r| r == b.region) {
                    found.push(b);
                }
            }
            if exhausted || found.len() as i64 > max {
                break;
            }
        }
        let truncated = found.len() as i64 > max;
        found.truncate(max as usize);
        let continuation_token = truncated
            .then(|| found.last().map(|b| encode_token(&b.name)))
            .flatten();
        Ok(ListBucketsOutput {
            buckets: found
                .into_iter()
                .map(|b| BucketEntry {
                    bucket_arn: bucket_arn(&b.name),
                    creation_date: timestamp(b.created_at),
                    name: b.name,
                    bucket_region: b.region,
                })
                .collect(),
            owner: owner(&ctx.account_id),
            continuation_token,
            prefix: input.prefix,
        })
    }
}

/// Where a new bucket lives, by AWS's rules: the request's region must agree with the
/// constraint, except at us-east-1, which takes any other region's constraint.
fn bucket_region(request_region: &str, constraint: Option<&str>) -> Result<String, S3Error> {
    if let Some(c) = constraint.filter(|c| *c != "EU" && !looks_like_region(c)) {
        return Err(S3Error::InvalidLocationConstraint(c.to_string()));
    }
    match constraint {
        None if request_region == US_EAST_1 => Ok(US_EAST_1.to_string()),
        None => Err(S3Error::IllegalLocationConstraint("unspecified".into())),
        Some(US_EAST_1) => Err(S3Error::InvalidLocationConstraint(US_EAST_1.into())),
        // The legacy name of eu-west-1.
        Some("EU") if request_region == US_EAST_1 || request_region == "eu-west-1" => {
            Ok("eu-west-1".to_string())
        }
        Some(c) if request_region == US_EAST_1 || request_region == c => Ok(c.to_string()),
        Some(c) => Err(S3Error::IllegalLocationConstraint(c.to_string())),
    }
}

/// `eu-west-2`, `us-gov-west-1`, `ap-southeast-5`: letters, dash-separated, a final digit.
fn looks_like_region(c: &str) -> bool {
    let parts: Vec<&str> = c.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

pub(crate) fn now() -> f64 {
    let t = chrono::Utc::now();
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_millis()) / 1000.0
}

pub(crate) fn timestamp(secs: f64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis((secs * 1000.0).round() as i64).unwrap_or_default()
}

/// An account's canonical user id: 64 hex characters, stable per account.
pub(crate) fn owner(account: &str) -> Owner {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("cloudemu-canonical-user:{account}").as_bytes());
    Owner {
        id: digest.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// Continuation tokens are opaque to clients: the last name or key, base64-encoded.
pub(crate) fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(last)
}

pub(crate) fn decode_token(token: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    String::from_utf8(raw).ok()
}

#[cfg(test)]
mod tests {
    use super::bucket_region;

    #[test]
    fn location_constraints_follow_aws_rules() {
        assert_eq!(
            bucket_region("us-east-1", None).ok().as_deref(),
            Some("us-east-1")
        );
        assert_eq!(
            bucket_region("us-east-1", Some("eu-west-2"))
                .ok()
                .as_deref(),
            Some("eu-west-2")
        );
        assert_eq!(
            bucket_region("eu-west-2", Some("eu-west-2"))
                .ok()
                .as_deref(),
            Some("eu-west-2")
        );
        assert!(bucket_region("eu-west-2", None).is_err());
        assert!(bucket_region("eu-west-2", Some("eu-west-1")).is_err());
        assert!(bucket_region("us-east-1", Some("us-east-1")).is_err());
        assert!(bucket_region("us-east-1", Some("mars-1")).is_err());
        assert!(bucket_region("us-east-1", Some("EU")).is_ok());
    }
}
