//! Presigned URLs (SigV4 query authentication): `X-Amz-Date` + `X-Amz-Expires` bound how long
//! a URL works, for every service. Signatures themselves are not checked (CloudEmu accepts
//! any credentials), but an expired URL is refused as AWS refuses it.

use cloudemu_core::ServiceError;

/// The longest validity SigV4 allows: seven days.
const MAX_EXPIRES: i64 = 604_800;

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Check a presigned request's lifetime at `now`; `Ok` for requests that are not presigned.
pub fn check(
    params: &[(String, String)],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Box<ServiceError>> {
    let (Some(date), Some(expires)) = (param(params, "X-Amz-Date"), param(params, "X-Amz-Expires"))
    else {
        return Ok(());
    };
    let bad = |msg: &str| {
        Box::new(ServiceError::client(
            "AuthorizationQueryParametersError",
            400,
            msg,
        ))
    };
    let expires: i64 = expires
        .parse()
        .map_err(|_| bad("X-Amz-Expires should be a number"))?;
    // Out-of-range lifetimes are refused as access errors, as S3 refuses them.
    let denied = |msg: &str| Box::new(ServiceError::client("AccessDenied", 403, msg));
    if expires < 0 {
        return Err(denied("X-Amz-Expires must be non-negative"));
    }
    if expires > MAX_EXPIRES {
        return Err(denied(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ));
    }
    let signed = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| bad("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""))?
        .and_utc();
    let deadline = signed + chrono::Duration::seconds(expires);
    if now > deadline {
        let fmt = "%Y-%m-%dT%H:%M:%SZ";
        return Err(Box::new(
            ServiceError::client("AccessDenied", 403, "Request has expired")
                .with_field("X-Amz-Expires", expires.to_string())
                .with_field("Expires", deadline.format(fmt).to_string())
                .with_field("ServerTime", now.format(fmt).to_string()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(date: &str, exp: &str) -> Vec<(String, String)> {
        vec![
            ("X-Amz-Date".into(), date.into()),
            ("X-Amz-Expires".into(), exp.into()),
        ]
    }

    #[test]
    fn expiry_is_enforced() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:10:00Z")
            .expect("date")
            .to_utc();
        assert!(check(&p("20260101T000000Z", "3600"), now).is_ok());
        let err = check(&p("20260101T000000Z", "60"), now).expect_err("expired");
        assert_eq!((err.code.as_str(), err.status), ("AccessDenied", 403));
        assert_eq!(err.message, "Request has expired");
        assert!(check(&p("20260101T000000Z", "604801"), now).is_err());
        assert!(check(&p("garbage", "60"), now).is_err());
        assert!(check(&[], now).is_ok());
    }
}
