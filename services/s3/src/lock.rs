//! Object Lock: retention (GOVERNANCE / COMPLIANCE until a date) and legal holds per object
//! version, set by headers on writes, by the bucket's default retention, or by
//! Put{ObjectRetention,ObjectLegalHold}; a locked version cannot be deleted (AccessDenied),
//! except GOVERNANCE with `x-amz-bypass-governance-retention`.

use crate::errors::S3Error;
use crate::S3;
use cloudemu_core::RequestContext;
use cloudemu_storage::s3::{BucketRecord, ObjectRecord};
use serde_json::{json, Value};

const DAY: f64 = 86_400.0;

/// The Object Lock members a write may carry.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct LockHeaders {
    #[serde(rename = "ObjectLockMode")]
    pub mode: Option<String>,
    #[serde(rename = "ObjectLockRetainUntilDate")]
    pub until: Option<f64>,
    #[serde(rename = "ObjectLockLegalHoldStatus")]
    pub legal_hold: Option<String>,
}

/// The lock a new version starts with.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Lock {
    pub mode: Option<String>,
    pub until: Option<f64>,
    pub legal_hold: Option<String>,
}

fn missing_configuration() -> S3Error {
    S3Error::InvalidRequest("Bucket is missing Object Lock Configuration".into())
}

fn check_mode(mode: &str) -> Result<(), S3Error> {
    match mode {
        "GOVERNANCE" | "COMPLIANCE" => Ok(()),
        _ => Err(S3Error::MalformedXml),
    }
}

fn in_future(until: f64) -> Result<(), S3Error> {
    if until <= crate::buckets::now() {
        return Err(S3Error::InvalidArgument {
            message: "The retain until date must be in the future!".into(),
            name: "RetainUntilDate".into(),
            value: until.to_string(),
        });
    }
    Ok(())
}

/// A PutObjectLockConfiguration document as S3 checks it: Enabled, and a default retention
/// (if any) with a mode and exactly one positive period.
pub(crate) fn check_configuration(doc: &Value) -> Result<(), S3Error> {
    if doc.get("ObjectLockEnabled").and_then(Value::as_str) != Some("Enabled") {
        return Err(S3Error::MalformedXml);
    }
    let Some(d) = doc.pointer("/Rule/DefaultRetention") else {
        return Ok(());
    };
    check_mode(d.get("Mode").and_then(Value::as_str).unwrap_or(""))?;
    let (field, period) = match (d.get("Days"), d.get("Years")) {
        (Some(n), None) => ("Days", n.as_i64().unwrap_or(0)),
        (None, Some(n)) => ("Years", n.as_i64().unwrap_or(0)),
        _ => return Err(S3Error::MalformedXml),
    };
    if period <= 0 {
        // As AWS words it: the field is named, its value is not echoed.
        return Err(S3Error::InvalidArgument {
            message: "Default retention period must be a positive integer value.".into(),
            name: field.into(),
            value: String::new(),
        });
    }
    Ok(())
}

/// Whether a version may be deleted now: not under legal hold, not retained (GOVERNANCE
/// retention gives way to the bypass header).
pub(crate) fn check_deletable(o: &ObjectRecord, bypass: bool) -> Result<(), S3Error> {
    if o.legal_hold.as_deref() == Some("ON") {
        return Err(S3Error::AccessDenied);
    }
    let retained = o.lock_until.is_some_and(|u| u > crate::buckets::now());
    match o.lock_mode.as_deref() {
        Some("COMPLIANCE") if retained => Err(S3Error::AccessDenied),
        Some("GOVERNANCE") if retained && !bypass => Err(S3Error::AccessDenied),
        _ => Ok(()),
    }
}

fn str_of<'a>(input: &'a Value, k: &str) -> &'a str {
    input.get(k).and_then(Value::as_str).unwrap_or("")
}

impl S3 {
    /// The lock a write gives its new version: the headers', else the bucket's default
    /// retention. Lock headers on a bucket without Object Lock are refused.
    pub(crate) async fn lock_for_write(
        &self,
        bucket: &BucketRecord,
        h: &LockHeaders,
    ) -> Result<Lock, S3Error> {
        let asked = h.mode.is_some() || h.until.is_some() || h.legal_hold.is_some();
        if !bucket.object_lock {
            return if asked {
                Err(missing_configuration())
            } else {
                Ok(Lock::default())
            };
        }
        if let Some(s) = h.legal_hold.as_deref() {
            if !matches!(s, "ON" | "OFF") {
                return Err(S3Error::InvalidArgument {
                    message: "Legal Hold must be either of 'ON' or 'OFF'".into(),
                    name: "x-amz-object-lock-legal-hold".into(),
                    value: s.to_string(),
                });
            }
        }
        let (mode, until) = match (&h.mode, h.until) {
            (Some(m), Some(u)) => {
                check_mode(m).map_err(|_| S3Error::InvalidArgument {
                    message: "Unknown wormMode directive.".into(),
                    name: "x-amz-object-lock-mode".into(),
                    value: m.clone(),
                })?;
                in_future(u)?;
                (Some(m.clone()), Some(u))
            }
            (None, None) => self.default_retention(&bucket.name).await?,
            _ => {
                return Err(S3Error::InvalidArgument {
                    message: "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied".into(),
                    name: "x-amz-object-lock-retain-until-date".into(),
                    value: String::new(),
                })
            }
        };
        Ok(Lock {
            mode,
            until,
            legal_hold: h.legal_hold.clone(),
        })
    }

    /// The bucket's default retention, as a mode and a date counted from now.
    async fn default_retention(
        &self,
        bucket: &str,
    ) -> Result<(Option<String>, Option<f64>), S3Error> {
        let doc = self
            .store
            .get_config(bucket, "object-lock")
            .await?
            .and_then(|d| serde_json::from_str::<Value>(&d).ok());
        let Some(d) = doc
            .as_ref()
            .and_then(|d| d.pointer("/Rule/DefaultRetention"))
        else {
            return Ok((None, None));
        };
        let days = match (
            d.get("Days").and_then(Value::as_i64),
            d.get("Years").and_then(Value::as_i64),
        ) {
            (Some(days), _) => days as f64,
            (None, Some(years)) => years as f64 * 365.0,
            _ => return Ok((None, None)),
        };
        let mode = d.get("Mode").and_then(Value::as_str).map(str::to_string);
        Ok((mode, Some(crate::buckets::now() + days * DAY)))
    }

    /// The bucket (which must have Object Lock) and the version a lock request names.
    async fn locked_target(&self, input: &Value) -> Result<ObjectRecord, S3Error> {
        let (bucket, key) = (str_of(input, "Bucket"), str_of(input, "Key"));
        let b = self.bucket(bucket).await?;
        if !b.object_lock {
            return Err(missing_configuration());
        }
        let version = input.get("VersionId").and_then(Value::as_str);
        self.object_version(bucket, key, version, "PUT").await
    }

    pub(crate) async fn put_object_retention(
        &self,
        _ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, S3Error> {
        let o = self.locked_target(&input).await?;
        let r = input.get("Retention").cloned().unwrap_or(Value::Null);
        let mode = r.get("Mode").and_then(Value::as_str);
        let until = r.get("RetainUntilDate").and_then(Value::as_f64);
        match (mode, until) {
            (Some(m), Some(u)) => {
                check_mode(m)?;
                in_future(u)?;
            }
            (None, None) => {}
            _ => return Err(S3Error::MalformedXml),
        }
        let bypass = input
            .get("BypassGovernanceRetention")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        // A retention in force may only be extended in the same mode; any other change
        // (shorter, removed, or another mode) needs the bypass header under GOVERNANCE and
        // is refused under COMPLIANCE.
        if let (Some(old_mode), Some(old_until)) = (o.lock_mode.as_deref(), o.lock_until) {
            if old_until > crate::buckets::now() {
                let weaker = match (mode, until) {
                    (Some(m), Some(u)) => u < old_until || m != old_mode,
                    _ => true,
                };
                if weaker && (old_mode == "COMPLIANCE" || !bypass) {
                    return Err(S3Error::AccessDenied);
                }
            }
        }
        self.store
            .set_object_retention(&o.bucket, &o.key, Some(&o.version_id), mode, until)
            .await?;
        Ok(json!({}))
    }

    pub(crate) async fn get_object_retention(
        &self,
        _ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, S3Error> {
        let o = self.locked_target(&input).await?;
        match (o.lock_mode, o.lock_until) {
            (Some(m), Some(u)) => Ok(json!({"Retention": {"Mode": m, "RetainUntilDate": u}})),
            _ => Err(S3Error::NoObjectLockConfiguration),
        }
    }

    pub(crate) async fn put_object_legal_hold(
        &self,
        _ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, S3Error> {
        let o = self.locked_target(&input).await?;
        let status = input
            .pointer("/LegalHold/Status")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !matches!(status, "ON" | "OFF") {
            return Err(S3Error::MalformedXml);
        }
        self.store
            .set_object_legal_hold(&o.bucket, &o.key, Some(&o.version_id), status)
            .await?;
        Ok(json!({}))
    }

    pub(crate) async fn get_object_legal_hold(
        &self,
        _ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, S3Error> {
        let o = self.locked_target(&input).await?;
        match o.legal_hold {
            Some(s) => Ok(json!({"LegalHold": {"Status": s}})),
            None => Err(S3Error::NoObjectLockConfiguration),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_and_deletability() {
        assert!(check_configuration(&json!({"ObjectLockEnabled": "Enabled"})).is_ok());
        let rule =
            |d: Value| json!({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": d}});
        assert!(check_configuration(&rule(json!({"Mode": "GOVERNANCE", "Days": 1}))).is_ok());
        assert!(
            check_configuration(&rule(json!({"Mode": "GOVERNANCE", "Days": 1, "Years": 1})))
                .is_err()
        );
        assert!(check_configuration(&rule(json!({"Mode": "GOVERNANCE", "Days": 0}))).is_err());
        assert!(check_configuration(&rule(json!({"Mode": "X", "Days": 1}))).is_err());
        let far = crate::buckets::now() + DAY;
        let gov = ObjectRecord {
            lock_mode: Some("GOVERNANCE".into()),
            lock_until: Some(far),
            ..Default::default()
        };
        assert!(check_deletable(&gov, false).is_err());
        assert!(check_deletable(&gov, true).is_ok());
        let comp = ObjectRecord {
            lock_mode: Some("COMPLIANCE".into()),
            ..gov.clone()
        };
        assert!(check_deletable(&comp, true).is_err());
        let held = ObjectRecord {
            legal_hold: Some("ON".into()),
            ..Default::default()
        };
        assert!(check_deletable(&held, true).is_err());
    }
}
