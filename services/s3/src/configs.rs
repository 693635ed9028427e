//! Bucket sub-resources: each configuration is stored as the document the client sent and
//! returned as written; an unset one answers AWS's own "not configured" error, or the default
//! AWS reports (encryption, request payment, logging, …).

use crate::errors::S3Error;
use crate::tagging::{check_tags, tags_of};
use crate::S3;
use cloudemu_storage::s3::BucketRecord;
use serde_json::{json, Map, Value};

/// What an unset configuration answers.
enum Unset {
    /// AWS's error code and message.
    Error(&'static str, &'static str),
    /// The document AWS reports for a bucket that was never configured.
    Default(fn(&BucketRecord) -> Value),
}

struct Config {
    kind: &'static str,
    put: &'static str,
    get: &'static str,
    delete: Option<&'static str>,
    /// The Put input member that carries the document.
    payload: &'static str,
    /// The Get output member the document goes in; `None` when its members are the output's.
    wrap: Option<&'static str>,
    unset: Unset,
}

const CONFIGS: &[Config] = &[
    Config {
        kind: "policy",
        put: "PutBucketPolicy",
        get: "GetBucketPolicy",
        delete: Some("DeleteBucketPolicy"),
        payload: "Policy",
        wrap: Some("Policy"),
        unset: Unset::Error("NoSuchBucketPolicy", "The bucket policy does not exist"),
    },
    Config {
        kind: "cors",
        put: "PutBucketCors",
        get: "GetBucketCors",
        delete: Some("DeleteBucketCors"),
        payload: "CORSConfiguration",
        wrap: None,
        unset: Unset::Error(
            "NoSuchCORSConfiguration",
            "The CORS configuration does not exist",
        ),
    },
    Config {
        kind: "website",
        put: "PutBucketWebsite",
        get: "GetBucketWebsite",
        delete: Some("DeleteBucketWebsite"),
        payload: "WebsiteConfiguration",
        wrap: None,
        unset: Unset::Error(
            "NoSuchWebsiteConfiguration",
            "The specified bucket does not have a website configuration",
        ),
    },
    Config {
        kind: "lifecycle",
        put: "PutBucketLifecycleConfiguration",
        get: "GetBucketLifecycleConfiguration",
        delete: Some("DeleteBucketLifecycle"),
        payload: "LifecycleConfiguration",
        wrap: None,
        unset: Unset::Error(
            "NoSuchLifecycleConfiguration",
            "The lifecycle configuration does not exist",
        ),
    },
    Config {
        kind: "replication",
        put: "PutBucketReplication",
        get: "GetBucketReplication",
        delete: Some("DeleteBucketReplication"),
        payload: "ReplicationConfiguration",
        wrap: Some("ReplicationConfiguration"),
        unset: Unset::Error(
            "ReplicationConfigurationNotFoundError",
            "The replication configuration was not found",
        ),
    },
    Config {
        kind: "encryption",
        put: "PutBucketEncryption",
        get: "GetBucketEncryption",
        delete: Some("DeleteBucketEncryption"),
        payload: "ServerSideEncryptionConfiguration",
        wrap: Some("ServerSideEncryptionConfiguration"),
        // Every bucket is encrypted with SSE-S3 unless configured otherwise.
        unset: Unset::Default(|_| {
            json!({"Rules": [{
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                "BucketKeyEnabled": false
            }]})
        }),
    },
    Config {
        kind: "object-lock",
        put: "PutObjectLockConfiguration",
        get: "GetObjectLockConfiguration",
        delete: None,
        payload: "ObjectLockConfiguration",
        wrap: Some("ObjectLockConfiguration"),
        unset: Unset::Error(
            "ObjectLockConfigurationNotFoundError",
            "Object Lock configuration does not exist for this bucket",
        ),
    },
    Config {
        kind: "public-access-block",
        put: "PutPublicAccessBlock",
        get: "GetPublicAccessBlock",
        delete: Some("DeletePublicAccessBlock"),
        payload: "PublicAccessBlockConfiguration",
        wrap: Some("PublicAccessBlockConfiguration"),
        unset: Unset::Error(
            "NoSuchPublicAccessBlockConfiguration",
            "The public access block configuration was not found",
        ),
    },
    Config {
        kind: "ownership-controls",
        put: "PutBucketOwnershipControls",
        get: "GetBucketOwnershipControls",
        delete: Some("DeleteBucketOwnershipControls"),
        payload: "OwnershipControls",
        wrap: Some("OwnershipControls"),
        unset: Unset::Error(
            "OwnershipControlsNotFoundError",
            "The bucket ownership controls were not found",
        ),
    },
    Config {
        kind: "tagging",
        put: "PutBucketTagging",
        get: "GetBucketTagging",
        delete: Some("DeleteBucketTagging"),
        payload: "Tagging",
        wrap: None,
        unset: Unset::Error("NoSuchTagSet", "The TagSet does not exist"),
    },
    Config {
        kind: "logging",
        put: "PutBucketLogging",
        get: "GetBucketLogging",
        delete: None,
        payload: "BucketLoggingStatus",
        wrap: None,
        unset: Unset::Default(|_| json!({})),
    },
    Config {
        kind: "accelerate",
        put: "PutBucketAccelerateConfiguration",
        get: "GetBucketAccelerateConfiguration",
        delete: None,
        payload: "AccelerateConfiguration",
        wrap: None,
        unset: Unset::Default(|_| json!({})),
    },
    Config {
        kind: "request-payment",
        put: "PutBucketRequestPayment",
        get: "GetBucketRequestPayment",
        delete: None,
        payload: "RequestPaymentConfiguration",
        wrap: None,
        unset: Unset::Default(|_| json!({"Payer": "BucketOwner"})),
    },
    Config {
        kind: "notification",
        put: "PutBucketNotificationConfiguration",
        get: "GetBucketNotificationConfiguration",
        delete: None,
        payload: "NotificationConfiguration",
        wrap: None,
        unset: Unset::Default(|_| json!({})),
    },
    Config {
        kind: "versioning",
        put: "PutBucketVersioning",
        get: "GetBucketVersioning",
        delete: None,
        payload: "VersioningConfiguration",
        wrap: None,
        // A bucket that was never configured reports an empty configuration, no Status.
        unset: Unset::Default(|_| json!({})),
    },
];

/// What S3 sets on a new bucket (since April 2023): ACLs disabled, public access blocked.
pub fn initial(object_ownership: Option<&str>) -> Vec<(&'static str, String)> {
    vec![
        (
            "ownership-controls",
            json!({"Rules": [{"ObjectOwnership": object_ownership.unwrap_or("BucketOwnerEnforced")}]})
                .to_string(),
        ),
        (
            "public-access-block",
            json!({
                "BlockPublicAcls": true,
                "IgnorePublicAcls": true,
                "BlockPublicPolicy": true,
                "RestrictPublicBuckets": true
            })
            .to_string(),
        ),
    ]
}

/// Checks S3 makes on a document before storing it.
fn check(kind: &str, doc: &Value) -> Result<(), S3Error> {
    match kind {
        "policy" => {
            let text = doc.as_str().unwrap_or("");
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(_)) => Ok(()),
                _ => Err(S3Error::MalformedPolicy(
                    "Policies must be valid JSON and the first byte must be '{'".into(),
                )),
            }
        }
        "cors" => {
            let rules = doc.get("CORSRules").and_then(Value::as_array);
            let Some(rules) = rules.filter(|r| !r.is_empty()) else {
                return Err(S3Error::MalformedXml);
            };
            for r in rules {
                for m in r
                    .get("AllowedMethods")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let m = m.as_str().unwrap_or("");
                    if !matches!(m, "GET" | "PUT" | "HEAD" | "POST" | "DELETE") {
                        return Err(S3Error::InvalidRequest(format!(
                            "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
                        )));
                    }
                }
            }
            Ok(())
        }
        "tagging" => check_tags(&tags_of(doc), 50),
        "lifecycle" => check_lifecycle(doc),
        // A bucket can be Enabled or Suspended, never set back to unversioned; S3 rejects any
        // other Status (or none) as malformed. MFADelete is stored and echoed (MFA tokens
        // are not checked, as no credential is).
        "versioning" => match doc.get("Status").and_then(Value::as_str) {
            Some("Enabled" | "Suspended") => match doc.get("MFADelete").and_then(Value::as_str) {
                None | Some("Enabled" | "Disabled") => Ok(()),
                Some(_) => Err(S3Error::MalformedXml),
            },
            _ => Err(S3Error::MalformedXml),
        },
        _ => Ok(()),
    }
}

/// Lifecycle rules as S3 validates them: a Status of exactly `Enabled` or `Disabled`, and IDs
/// of at most 255 characters that no two rules share.
fn check_lifecycle(doc: &Value) -> Result<(), S3Error> {
    let rules = doc.get("Rules").and_then(Value::as_array);
    let invalid = |message: &str| S3Error::InvalidArgument {
        message: message.into(),
        name: String::new(),
        value: String::new(),
    };
    let mut ids = std::collections::HashSet::new();
    for r in rules.into_iter().flatten() {
        if !matches!(
            r.get("Status").and_then(Value::as_str),
            Some("Enabled" | "Disabled")
        ) {
            return Err(S3Error::MalformedXml);
        }
        if !lifecycle_dates(r).all(at_midnight_utc) {
            return Err(invalid("'Date' must be at midnight GMT"));
        }
        if let Some(id) = r.get("ID").and_then(Value::as_str) {
            if id.chars().count() > 255 {
                return Err(invalid("ID length should not exceed allowed limit of 255"));
            }
            if !ids.insert(id) {
                return Err(invalid(
                    "Rule ID must be unique. Found same ID for more than one rule",
                ));
            }
        }
    }
    Ok(())
}

/// The Dates of a rule's expiration and transitions (`Transitions` in
/// PutBucketLifecycleConfiguration, `Transition` in the older PutBucketLifecycle).
fn lifecycle_dates(rule: &Value) -> impl Iterator<Item = &Value> {
    let expiration = rule.get("Expiration").into_iter();
    let transitions = ["Transitions", "Transition"]
        .into_iter()
        .flat_map(|k| match rule.get(k) {
            Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
            Some(one) => vec![one],
            None => Vec::new(),
        });
    expiration.chain(transitions).filter_map(|v| v.get("Date"))
}

/// A lifecycle Date names a day: its instant (any offset) must fall on midnight UTC. The
/// protocol layer has already parsed it to epoch seconds (a malformed one never gets here).
fn at_midnight_utc(date: &Value) -> bool {
    date.as_f64().is_some_and(|s| s.rem_euclid(86_400.0) == 0.0)
}

/// S3 names every lifecycle rule: one sent without an ID reads back with a generated one.
fn name_lifecycle_rules(doc: &mut Value) {
    use base64::Engine;
    for r in doc
        .get_mut("Rules")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Value::Object(m) = r {
            if m.get("ID")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                let id = base64::engine::general_purpose::STANDARD
                    .encode(uuid::Uuid::new_v4().to_string());
                m.insert("ID".into(), Value::String(id));
            }
        }
    }
}

/// The lifecycle member (an `x-amz-transition-default-minimum-object-size` header on the wire).
const TRANSITION_DEFAULT: &str = "TransitionDefaultMinimumObjectSize";

/// PutBucketLifecycleConfiguration's transition default: what the client sent, or
/// `all_storage_classes_128K`, S3's default since September 2024.
fn transition_default_size(input: &Value) -> String {
    match input.get(TRANSITION_DEFAULT).and_then(Value::as_str) {
        None | Some("") => "all_storage_classes_128K".into(),
        Some(v) => v.into(),
    }
}

impl S3 {
    /// Serve a configuration operation, or `None` if `operation` is not one.
    pub(crate) async fn config_call(
        &self,
        operation: &str,
        input: &Value,
    ) -> Option<Result<Value, S3Error>> {
        let bucket = input.get("Bucket").and_then(Value::as_str).unwrap_or("");
        for c in CONFIGS {
            if c.put == operation {
                return Some(self.put_config(c, bucket, input).await);
            }
            if c.get == operation {
                return Some(self.get_config(c, bucket).await);
            }
            if c.delete == Some(operation) {
                return Some(self.delete_config(c, bucket).await);
            }
        }
        None
    }

    async fn put_config(&self, c: &Config, bucket: &str, input: &Value) -> Result<Value, S3Error> {
        let b = self.bucket(bucket).await?;
        let Some(doc) = input.get(c.payload) else {
            return Err(S3Error::MissingRequestBody);
        };
        check(c.kind, doc)?;
        if c.kind == "policy" {
            let policy = serde_json::from_str(doc.as_str().unwrap_or("")).unwrap_or(Value::Null);
            self.refuse_public_policy(bucket, &policy).await?;
        }
        let stored = if c.kind == "object-lock" {
            crate::lock::check_configuration(doc)?;
            // Object Lock can be turned on for an existing bucket once it is versioned.
            if b.versioning.as_deref() != Some("Enabled") {
                return Err(S3Error::InvalidBucketState(
                    "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration".into(),
                ));
            }
            self.store
                .enable_object_lock(bucket, &doc.to_string())
                .await?
        } else if c.kind == "versioning" {
            let status = doc
                .get("Status")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if b.object_lock && status != "Enabled" {
                return Err(S3Error::InvalidBucketState(
                    "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.".into(),
                ));
            }
            // The state every write reads lives on the bucket row; the document is echoed.
            self.store
                .set_versioning(bucket, status, &doc.to_string())
                .await?
        } else if c.kind == "lifecycle" {
            // The transition default travels in a header, beside the document; S3 keeps it with
            // the rules and reports it on every read (Terraform waits until it reads back).
            let size = transition_default_size(input);
            let mut doc = doc.clone();
            name_lifecycle_rules(&mut doc);
            if let Value::Object(m) = &mut doc {
                m.insert(TRANSITION_DEFAULT.into(), Value::String(size.clone()));
            }
            if !self
                .store
                .put_config(bucket, c.kind, &doc.to_string())
                .await?
            {
                return Err(S3Error::NoSuchBucket(bucket.to_string()));
            }
            return Ok(json!({ TRANSITION_DEFAULT: size }));
        } else {
            self.store
                .put_config(bucket, c.kind, &doc.to_string())
                .await?
        };
        if !stored {
            return Err(S3Error::NoSuchBucket(bucket.to_string()));
        }
        Ok(Value::Object(Map::new()))
    }

    async fn get_config(&self, c: &Config, bucket: &str) -> Result<Value, S3Error> {
        let b = self.bucket(bucket).await?;
        let doc = match self.store.get_config(bucket, c.kind).await? {
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                S3Error::Storage(cloudemu_storage::StorageError::Io(std::io::Error::other(e)))
            })?,
            None => match (&c.unset, c.kind) {
                // A bucket created with Object Lock reports it enabled.
                (_, "object-lock") if b.object_lock => json!({"ObjectLockEnabled": "Enabled"}),
                (Unset::Default(f), _) => f(&b),
                (Unset::Error(code, message), _) => {
                    return Err(S3Error::NotConfigured {
                        code,
                        message,
                        bucket: bucket.to_string(),
                    })
                }
            },
        };
        Ok(match c.wrap {
            Some(member) => json!({ member: doc }),
            None => doc,
        })
    }

    async fn delete_config(&self, c: &Config, bucket: &str) -> Result<Value, S3Error> {
        self.bucket(bucket).await?;
        self.store.delete_config(bucket, c.kind).await?;
        Ok(Value::Object(Map::new()))
    }

    /// A bucket's CORS configuration (as PutBucketCors stored it), for the gateway to answer
    /// browsers' preflights and decorate responses; `None` when unset or unreadable.
    pub async fn cors_configuration(&self, bucket: &str) -> Option<Value> {
        match self.store.get_config(bucket, "cors").await {
            Ok(doc) => serde_json::from_str(&doc?).ok(),
            Err(e) => {
                tracing::warn!(error = %e, "reading a bucket's CORS configuration failed");
                None
            }
        }
    }

    /// A bucket's tags (for S3 Control), empty when it has none.
    pub(crate) async fn bucket_tags(&self, bucket: &str) -> Result<Vec<(String, String)>, S3Error> {
        self.bucket(bucket).await?;
        Ok(match self.store.get_config(bucket, "tagging").await? {
            Some(text) => tags_of(&serde_json::from_str(&text).unwrap_or(Value::Null)),
            None => Vec::new(),
        })
    }

    /// Replace a bucket's tags (S3 Control); an empty set removes them.
    pub(crate) async fn set_bucket_tags(
        &self,
        bucket: &str,
        tags: &[(String, String)],
    ) -> Result<(), S3Error> {
        check_tags(tags, 50)?;
        if tags.is_empty() {
            self.store.delete_config(bucket, "tagging").await?;
            return Ok(());
        }
        let doc = json!({"TagSet": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()});
        if !self
            .store
            .put_config(bucket, "tagging", &doc.to_string())
            .await?
        {
            return Err(S3Error::NoSuchBucket(bucket.to_string()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_configuration_operation_is_registered() {
        for c in super::CONFIGS {
            for op in [Some(c.put), Some(c.get), c.delete].into_iter().flatten() {
                assert!(crate::OPERATIONS.contains(&op), "{op}");
            }
        }
    }
}
