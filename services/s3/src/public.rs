//! Whether a bucket policy is "public" as S3 Block Public Access defines it (user guide,
//! "The meaning of public"): S3 starts from public and calls a policy non-public only when
//! every Allow statement grants to fixed principals, or is pinned by a condition on a fixed
//! value of one of a few limiting keys. BlockPublicPolicy refuses such policies on
//! PutBucketPolicy; GetBucketPolicyStatus reports the verdict.

use crate::errors::S3Error;
use crate::S3;
use serde_json::{json, Value};

/// Condition keys that, pinned to fixed values, make a statement non-public (lower case:
/// condition keys are case-insensitive).
const LIMITING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:userid",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

/// Is this policy document public?
pub(crate) fn is_public_policy(policy: &Value) -> bool {
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    statements.into_iter().any(statement_is_public)
}

fn statement_is_public(s: &Value) -> bool {
    // Deny statements grant nothing.
    if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
        return false;
    }
    // "Everyone but these" is everyone.
    let open = s.get("NotPrincipal").is_some() || s.get("Principal").is_some_and(principal_is_open);
    open && !pinned_by_condition(s.get("Condition"))
}

/// `*`, a wildcard or policy variable in any principal, or a federated (web identity)
/// principal, which anyone with such an identity can become.
fn principal_is_open(p: &Value) -> bool {
    match p {
        Value::String(v) => !is_fixed(v),
        Value::Object(m) => m.iter().any(|(kind, v)| {
            kind.eq_ignore_ascii_case("Federated") || values(v).iter().any(|v| !is_fixed(v))
        }),
        _ => true,
    }
}

/// A value with no wildcard and no policy variable.
fn is_fixed(v: &str) -> bool {
    !v.is_empty() && !v.contains('*') && !v.contains('?') && !v.contains("${")
}

/// A principal's or condition's value(s) as text (an account id may be written as a number).
fn values(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Number(n) => vec![n.to_string()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Array(list) => list.iter().flat_map(values).collect(),
        _ => Vec::new(),
    }
}

/// Does a condition restrict the statement to fixed values of a limiting key? Only positive
/// matches pin (a negated operator, `...IfExists` or `ForAllValues:` lets other callers in).
fn pinned_by_condition(condition: Option<&Value>) -> bool {
    let Some(Value::Object(ops)) = condition else {
        return false;
    };
    ops.iter().any(|(op, keys)| {
        let op = op.strip_prefix("ForAnyValue:").unwrap_or(op);
        let positive = matches!(
            op,
            "StringEquals"
                | "StringEqualsIgnoreCase"
                | "StringLike"
                | "ArnEquals"
                | "ArnLike"
                | "IpAddress"
        );
        let Value::Object(keys) = keys else {
            return false;
        };
        positive
            && keys.iter().any(|(key, v)| {
                let key = key.to_ascii_lowercase();
                let vals = values(v);
                LIMITING_KEYS.contains(&key.as_str())
                    && !vals.is_empty()
                    && vals.iter().all(|v| fixed_for(&key, v))
            })
    })
}

/// Is `v` a fixed value of `key`? Source IPs must be narrow enough; an access point ARN may
/// end in `accesspoint/*` as long as its account is fixed.
fn fixed_for(key: &str, v: &str) -> bool {
    match key {
        "aws:sourceip" => narrow_cidr(v),
        "s3:dataaccesspointarn" => is_fixed(v.strip_suffix(":accesspoint/*").unwrap_or(v)),
        _ => is_fixed(v),
    }
}

/// A CIDR no broader than /8 (IPv4) or /32 (IPv6); S3 calls broader ranges public.
fn narrow_cidr(v: &str) -> bool {
    let (addr, prefix) = match v.split_once('/') {
        Some((a, p)) => match p.parse::<u8>() {
            Ok(p) => (a, Some(p)),
            Err(_) => return false,
        },
        None => (v, None),
    };
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => prefix.is_none_or(|p| (8..=32).contains(&p)),
        Ok(std::net::IpAddr::V6(_)) => prefix.is_none_or(|p| (32..=128).contains(&p)),
        Err(_) => false,
    }
}

/// A stored PublicAccessBlock flag (booleans, or their text from an older document).
fn flag(config: &Value, name: &str) -> bool {
    match config.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

impl S3 {
    /// Is this Block Public Access setting (`BlockPublicAcls`, `BlockPublicPolicy`…) on for
    /// the bucket? Off when the bucket has no configuration.
    pub(crate) async fn public_access_blocked(
        &self,
        bucket: &str,
        setting: &str,
    ) -> Result<bool, S3Error> {
        let Some(text) = self.store.get_config(bucket, "public-access-block").await? else {
            return Ok(false);
        };
        let config: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(flag(&config, setting))
    }

    /// PutBucketPolicy on a bucket whose BlockPublicPolicy is on refuses a public policy (a
    /// policy already attached stays, as in AWS).
    pub(crate) async fn refuse_public_policy(
        &self,
        bucket: &str,
        policy: &Value,
    ) -> Result<(), S3Error> {
        if is_public_policy(policy)
            && self
                .public_access_blocked(bucket, "BlockPublicPolicy")
                .await?
        {
            return Err(S3Error::AccessDenied);
        }
        Ok(())
    }

    /// GetBucketPolicyStatus: whether the bucket's policy is public.
    pub(crate) async fn get_bucket_policy_status(&self, input: Value) -> Result<Value, S3Error> {
        // GetBucketPolicy's own answer, with its NoSuchBucket / NoSuchBucketPolicy errors.
        let got = match self.config_call("GetBucketPolicy", &input).await {
            Some(got) => got?,
            None => Value::Null,
        };
        let policy = got
            .get("Policy")
            .and_then(Value::as_str)
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or(Value::Null);
        Ok(json!({"PolicyStatus": {"IsPublic": is_public_policy(&policy)}}))
    }
}

#[cfg(test)]
mod tests {
    use super::is_public_policy;
    use serde_json::{json, Value};

    fn one(statement: Value) -> bool {
        is_public_policy(&json!({"Version": "2012-10-17", "Statement": [statement]}))
    }

    fn allow(principal: Value, condition: Option<Value>) -> Value {
        let mut s = json!({
            "Effect": "Allow",
            "Principal": principal,
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*"
        });
        if let Some(c) = condition {
            s["Condition"] = c;
        }
        s
    }

    #[test]
    fn everyone_is_public() {
        assert!(one(allow(json!("*"), None)));
        assert!(one(allow(json!({"AWS": "*"}), None)));
        assert!(one(allow(
            json!({"AWS": ["arn:aws:iam::111122223333:root", "*"]}),
            None
        )));
        assert!(one(allow(json!({"CanonicalUser": "*"}), None)));
        // A single statement object, not a list.
        assert!(is_public_policy(
            &json!({"Statement": allow(json!("*"), None)})
        ));
    }

    #[test]
    fn named_principals_are_not_public() {
        assert!(!one(allow(
            json!({"AWS": "arn:aws:iam::111122223333:root"}),
            None
        )));
        assert!(!one(allow(
            json!({"AWS": ["111122223333", "arn:aws:iam::444455556666:role/r"]}),
            None
        )));
        assert!(!one(allow(
            json!({"Service": "cloudtrail.amazonaws.com"}),
            None
        )));
        assert!(!one(allow(
            json!({"CanonicalUser": "79a59df900b949e55d96a1e698fbace"}),
            None
        )));
    }

    #[test]
    fn wildcards_variables_and_federation_are_public() {
        assert!(one(allow(json!({"AWS": "arn:aws:iam::*:root"}), None)));
        assert!(one(allow(
            json!({"AWS": "arn:aws:iam::${aws:username}:root"}),
            None
        )));
        assert!(one(allow(json!({"Federated": "graph.facebook.com"}), None)));
        let mut s = allow(json!("x"), None);
        s.as_object_mut().expect("object").remove("Principal");
        s["NotPrincipal"] = json!({"AWS": "arn:aws:iam::111122223333:root"});
        assert!(one(s));
    }

    #[test]
    fn deny_statements_never_make_a_policy_public() {
        let mut s = allow(json!("*"), None);
        s["Effect"] = json!("Deny");
        assert!(!one(s));
    }

    #[test]
    fn fixed_limiting_conditions_pin_everyone() {
        for (op, key, value) in [
            ("StringEquals", "aws:SourceVpc", json!("vpc-91237329")),
            ("StringEquals", "aws:SourceVpce", json!("vpce-1a2b3c4d")),
            ("StringEquals", "aws:SourceAccount", json!("111122223333")),
            ("StringEquals", "aws:SourceAccount", json!(111122223333u64)),
            ("StringEquals", "aws:SourceOwner", json!("111122223333")),
            (
                "ArnEquals",
                "aws:SourceArn",
                json!("arn:aws:sns:us-east-1:111122223333:t"),
            ),
            ("StringEquals", "aws:PrincipalOrgID", json!("o-abc123")),
            (
                "StringEquals",
                "aws:PrincipalAccount",
                json!(["111122223333", "444455556666"]),
            ),
            ("StringLike", "aws:userid", json!("AROAEXAMPLEID:alice")),
            ("IpAddress", "aws:SourceIp", json!("192.0.2.0/24")),
            (
                "IpAddress",
                "aws:SourceIp",
                json!(["10.0.0.0/8", "2001:db8::/32", "198.51.100.7"]),
            ),
            ("ForAnyValue:StringEquals", "aws:SourceVpc", json!("vpc-1")),
            ("StringEquals", "AWS:SOURCEVPC", json!("vpc-1")),
            (
                "ArnLike",
                "s3:DataAccessPointArn",
                json!("arn:aws:s3:us-west-2:123456789012:accesspoint/*"),
            ),
        ] {
            let c = json!({ op: { key: value } });
            assert!(!one(allow(json!("*"), Some(c.clone()))), "{c}");
        }
    }

    #[test]
    fn loose_conditions_leave_everyone_public() {
        for c in [
            // Wildcards and variables are not fixed values.
            json!({"StringLike": {"aws:SourceVpc": "vpc-*"}}),
            json!({"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}}),
            json!({"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}),
            json!({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:t"}}),
            json!({"ArnLike": {"s3:DataAccessPointArn": "arn:aws:s3:us-west-2:*:accesspoint/*"}}),
            // Ranges broader than /8 (IPv4) or /32 (IPv6), or not a CIDR at all.
            json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
            json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}}),
            json!({"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "64.0.0.0/2"]}}),
            json!({"IpAddress": {"aws:SourceIp": "2001::/16"}}),
            json!({"IpAddress": {"aws:SourceIp": "not-an-ip"}}),
            // Keys that do not limit who calls.
            json!({"StringEquals": {"s3:prefix": "home/"}}),
            json!({"Bool": {"aws:SecureTransport": "true"}}),
            // Negated or optional matches let everyone else in.
            json!({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}),
            json!({"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
            json!({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}),
            json!({"ForAllValues:StringEquals": {"aws:SourceVpc": "vpc-1"}}),
            json!({"Null": {"aws:SourceVpc": "false"}}),
        ] {
            assert!(one(allow(json!("*"), Some(c.clone()))), "{c}");
        }
    }

    #[test]
    fn one_public_statement_makes_the_policy_public() {
        let named = allow(json!({"Service": "cloudtrail.amazonaws.com"}), None);
        let everyone = allow(json!("*"), None);
        assert!(is_public_policy(
            &json!({"Statement": [named.clone(), everyone]})
        ));
        assert!(!is_public_policy(&json!({"Statement": [named]})));
        assert!(!is_public_policy(&json!({"Version": "2012-10-17"})));
    }
}
