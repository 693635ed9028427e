//! Access control lists: canned ACLs (`x-amz-acl`), grant headers (`x-amz-grant-*`) and
//! AccessControlPolicy bodies, stored per bucket and per object version and returned by
//! Get{Bucket,Object}Acl. Stored, not enforced (no request is authorized by them). Buckets
//! whose ObjectOwnership is BucketOwnerEnforced (the default since 2023) refuse any ACL but
//! the owner's full control, and BlockPublicAcls (also on by default) public ones, as S3 does.

use crate::buckets::owner;
use crate::errors::S3Error;
use crate::S3;
use cloudemu_core::RequestContext;
use serde::Deserialize;
use serde_json::{json, Value};

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
const PERMISSIONS: &[&str] = &["FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"];

/// The ACL members a request may carry as headers.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AclHeaders {
    #[serde(rename = "ACL")]
    pub acl: Option<String>,
    #[serde(rename = "GrantFullControl")]
    pub grant_full_control: Option<String>,
    #[serde(rename = "GrantRead")]
    pub grant_read: Option<String>,
    #[serde(rename = "GrantReadACP")]
    pub grant_read_acp: Option<String>,
    #[serde(rename = "GrantWrite")]
    pub grant_write: Option<String>,
    #[serde(rename = "GrantWriteACP")]
    pub grant_write_acp: Option<String>,
}

fn user(id: &str, permission: &str) -> Value {
    json!({"Grantee": {"ID": id, "Type": "CanonicalUser"}, "Permission": permission})
}

fn group(uri: &str, permission: &str) -> Value {
    json!({"Grantee": {"URI": uri, "Type": "Group"}, "Permission": permission})
}

/// A policy document: the owner and its grants.
fn policy(owner_id: &str, grants: Vec<Value>) -> Value {
    json!({"Owner": {"ID": owner_id}, "Grants": grants})
}

/// What an ACL nobody set says: the owner has full control.
pub(crate) fn default_policy(owner_account: &str) -> Value {
    let id = owner(owner_account).id;
    policy(&id, vec![user(&id, "FULL_CONTROL")])
}

/// `id="…", uri="…", emailAddress="…"` as grants of one permission.
fn parse_grant_header(header: &str, raw: &str, permission: &str) -> Result<Vec<Value>, S3Error> {
    let bad = || S3Error::InvalidArgument {
        message: "Argument format not recognized".into(),
        name: header.to_string(),
        value: raw.to_string(),
    };
    let mut out = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (k, v) = item.split_once('=').ok_or_else(bad)?;
        let v = v.trim().trim_matches('"');
        let grantee = match k.trim().to_ascii_lowercase().as_str() {
            "id" => json!({"ID": v, "Type": "CanonicalUser"}),
            "uri" => json!({"URI": v, "Type": "Group"}),
            "emailaddress" => json!({"EmailAddress": v, "Type": "AmazonCustomerByEmail"}),
            _ => return Err(bad()),
        };
        out.push(json!({"Grantee": grantee, "Permission": permission}));
    }
    Ok(out)
}

impl AclHeaders {
    fn has_grants(&self) -> bool {
        self.grant_full_control.is_some()
            || self.grant_read.is_some()
            || self.grant_read_acp.is_some()
            || self.grant_write.is_some()
            || self.grant_write_acp.is_some()
    }

    /// The policy these headers set, if they set one. `owner_account` owns the resource;
    /// `bucket_owner` owns its bucket (for the bucket-owner-* canned ACLs).
    pub(crate) fn policy(
        &self,
        owner_account: &str,
        bucket_owner: &str,
    ) -> Result<Option<Value>, S3Error> {
        let id = owner(owner_account).id;
        let mut grants = vec![user(&id, "FULL_CONTROL")];
        if let Some(canned) = self.acl.as_deref() {
            if self.has_grants() {
                return Err(S3Error::InvalidRequest(
                    "Specifying both Canned ACLs and Header Grants is not allowed".into(),
                ));
            }
            let bucket_owner = owner(bucket_owner).id;
            match canned {
                // EC2's read grant (aws-exec-read) has no grantee CloudEmu could name.
                "private" | "aws-exec-read" => {}
                "public-read" => grants.push(group(ALL_USERS, "READ")),
                "public-read-write" => {
                    grants.push(group(ALL_USERS, "READ"));
                    grants.push(group(ALL_USERS, "WRITE"));
                }
                "authenticated-read" => grants.push(group(AUTHENTICATED_USERS, "READ")),
                "log-delivery-write" => {
                    grants.push(group(LOG_DELIVERY, "WRITE"));
                    grants.push(group(LOG_DELIVERY, "READ_ACP"));
                }
                "bucket-owner-read" if bucket_owner != id => {
                    grants.push(user(&bucket_owner, "READ"))
                }
                "bucket-owner-full-control" if bucket_owner != id => {
                    grants.push(user(&bucket_owner, "FULL_CONTROL"))
                }
                "bucket-owner-read" | "bucket-owner-full-control" => {}
                other => {
                    return Err(S3Error::InvalidArgument {
                        message: String::new(),
                        name: "x-amz-acl".into(),
                        value: other.to_string(),
                    })
                }
            }
            return Ok(Some(policy(&id, grants)));
        }
        if !self.has_grants() {
            return Ok(None);
        }
        let mut grants = Vec::new();
        for (header, raw, permission) in [
            (
                "x-amz-grant-full-control",
                &self.grant_full_control,
                "FULL_CONTROL",
            ),
            ("x-amz-grant-read", &self.grant_read, "READ"),
            ("x-amz-grant-read-acp", &self.grant_read_acp, "READ_ACP"),
            ("x-amz-grant-write", &self.grant_write, "WRITE"),
            ("x-amz-grant-write-acp", &self.grant_write_acp, "WRITE_ACP"),
        ] {
            if let Some(raw) = raw {
                grants.extend(parse_grant_header(header, raw, permission)?);
            }
        }
        Ok(Some(policy(&id, grants)))
    }
}

/// An AccessControlPolicy body as S3 checks it: known permissions, and each grantee named
/// the way its type requires.
fn check_policy_body(doc: &Value, owner_account: &str) -> Result<Value, S3Error> {
    let malformed = || S3Error::MalformedAcl;
    let grants = doc
        .get("Grants")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for g in &grants {
        let permission = g.get("Permission").and_then(Value::as_str).unwrap_or("");
        if !PERMISSIONS.contains(&permission) {
            return Err(malformed());
        }
        let grantee = g.get("Grantee").ok_or_else(malformed)?;
        let has = |k: &str| grantee.get(k).and_then(Value::as_str).is_some();
        let ok = match grantee.get("Type").and_then(Value::as_str) {
            Some("CanonicalUser") => has("ID"),
            Some("Group") => has("URI"),
            Some("AmazonCustomerByEmail") => has("EmailAddress"),
            _ => false,
        };
        if !ok {
            return Err(malformed());
        }
    }
    let owner_id = doc
        .pointer("/Owner/ID")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| owner(owner_account).id);
    Ok(policy(&owner_id, grants))
}

/// Whether a policy grants nothing beyond the owner's own full control (all a bucket with
/// ACLs disabled accepts).
fn owner_only(p: &Value, owner_account: &str) -> bool {
    let id = owner(owner_account).id;
    p.get("Grants").and_then(Value::as_array).is_none_or(|gs| {
        gs.iter().all(|g| {
            g.pointer("/Grantee/ID").and_then(Value::as_str) == Some(id.as_str())
                && g.get("Permission").and_then(Value::as_str) == Some("FULL_CONTROL")
        })
    })
}

fn str_of<'a>(input: &'a Value, k: &str) -> &'a str {
    input.get(k).and_then(Value::as_str).unwrap_or("")
}

impl S3 {
    /// Whether the bucket takes this ACL: ACLs are disabled when its ObjectOwnership is
    /// BucketOwnerEnforced (400), and public ones blocked by BlockPublicAcls (403).
    async fn check_acl(&self, bucket: &str, p: &Value, owner_account: &str) -> Result<(), S3Error> {
        if owner_only(p, owner_account) {
            return Ok(());
        }
        if let Some(doc) = self.store.get_config(bucket, "ownership-controls").await? {
            if doc.contains("BucketOwnerEnforced") {
                return Err(S3Error::AccessControlListNotSupported);
            }
        }
        let public = p.get("Grants").and_then(Value::as_array).is_some_and(|gs| {
            gs.iter().any(|g| {
                matches!(
                    g.pointer("/Grantee/URI").and_then(Value::as_str),
                    Some(ALL_USERS | AUTHENTICATED_USERS)
                )
            })
        });
        if public
            && self
                .public_access_blocked(bucket, "BlockPublicAcls")
                .await?
        {
            return Err(S3Error::AccessDenied);
        }
        Ok(())
    }

    /// The ACL document a write stores from its headers, refused when the bucket has ACLs
    /// disabled and the ACL grants anyone but the owner.
    pub(crate) async fn acl_for_write(
        &self,
        headers: &AclHeaders,
        owner_account: &str,
        bucket: &cloudemu_storage::s3::BucketRecord,
    ) -> Result<Option<String>, S3Error> {
        let Some(p) = headers.policy(owner_account, &bucket.account_id)? else {
            return Ok(None);
        };
        // bucket-owner-full-control is what a BucketOwnerEnforced bucket expects of writers.
        if headers.acl.as_deref() != Some("bucket-owner-full-control") {
            self.check_acl(&bucket.name, &p, owner_account).await?;
        }
        Ok(Some(p.to_string()))
    }

    /// The policy a Put*Acl request sets: from its headers or its body (not both).
    fn requested_policy(
        &self,
        input: &Value,
        owner_account: &str,
        bucket_owner: &str,
    ) -> Result<Value, S3Error> {
        let headers: AclHeaders = serde_json::from_value(input.clone()).unwrap_or_default();
        let from_headers = headers.policy(owner_account, bucket_owner)?;
        match (from_headers, input.get("AccessControlPolicy")) {
            (Some(_), Some(_)) => Err(S3Error::UnexpectedContent),
            (Some(p), None) => Ok(p),
            (None, Some(body)) => check_policy_body(body, owner_account),
            (None, None) => Err(S3Error::MissingSecurityHeader),
        }
    }

    pub(crate) async fn put_bucket_acl(
        &self,
        _ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, S3Error> {
        let b = self.bucket(str_of(&input, "Bucket")).await?;
        let p = self.requested_policy(&input, &b.account_id, &b.account_id)?;
        self.check_acl(&b.name, &p, &b.account_id).await?;
        if !self
            .store
            .put_config(&b.name, "acl", &p.to_string())
            .await?
        {
            return Err(S3Error::NoSuchBucket(b.name));
        }
        Ok(json!({}))
    }

    pub(crate) async fn put_object_acl(
        &self,
        _ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, S3Error> {
        let (bucket, key) = (str_of(&input, "Bucket"), str_of(&input, "Key"));
        let version = input.get("VersionId").and_then(Value::as_str);
        let b = self.bucket(bucket).await?;
        let o = self.object_version(bucket, key, version, "PUT").await?;
        let p = self.requested_policy(&input, &o.owner_account, &b.account_id)?;
        self.check_acl(bucket, &p, &o.owner_account).await?;
        if !self
            .store
            .set_object_acl(bucket, key, Some(&o.version_id), Some(&p.to_string()))
            .await?
        {
            return Err(S3Error::NoSuchKey(key.to_string()));
        }
        Ok(match crate::versions::version_header(&o, version) {
            Some(v) => json!({"VersionId": v}),
            None => json!({}),
        })
    }

    /// Get{Bucket,Object}Acl: what was stored, else the owner's full control.
    pub(crate) async fn get_acl(&self, input: Value) -> Result<Value, S3Error> {
        let (bucket, key) = (str_of(&input, "Bucket"), str_of(&input, "Key"));
        let b = self.bucket(bucket).await?;
        let (stored, owner_account) = if key.is_empty() {
            (self.store.get_config(bucket, "acl").await?, b.account_id)
        } else {
            let version = input.get("VersionId").and_then(Value::as_str);
            let o = self.object_version(bucket, key, version, "GET").await?;
            (o.acl, o.owner_account)
        };
        Ok(stored
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_else(|| default_policy(&owner_account)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_acls_and_grant_headers() {
        let h = AclHeaders {
            acl: Some("public-read".into()),
            ..Default::default()
        };
        let p = h
            .policy("123456789012", "123456789012")
            .expect("ok")
            .expect("set");
        assert_eq!(p["Grants"].as_array().map(Vec::len), Some(2));
        assert!(!owner_only(&p, "123456789012"));
        let h = AclHeaders {
            grant_read: Some(
                r#"uri="http://acs.amazonaws.com/groups/global/AllUsers", id="abc""#.into(),
            ),
            ..Default::default()
        };
        let p = h
            .policy("123456789012", "123456789012")
            .expect("ok")
            .expect("set");
        assert_eq!(p["Grants"][1]["Grantee"]["ID"], "abc");
        let both = AclHeaders {
            acl: Some("private".into()),
            grant_read: Some(r#"id="x""#.into()),
            ..Default::default()
        };
        assert!(both.policy("1", "1").is_err());
        assert!(owner_only(&default_policy("1"), "1"));
    }
}
