//! Which service a request is for, in AWS clients' addressing order: SigV4 credential scope,
//! `X-Amz-Target` prefix, path prefix, Host, form `Action`/`Version`, and S3 last.

use cloudemu_protocol::{Headers, Protocol};

/// What the request told us before its body is read.
pub struct RequestInfo<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a Headers,
    /// Host header without the port.
    pub host: &'a str,
}

/// The service a request addresses and the protocol it speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRoute {
    pub service: &'static str,
    pub protocol: Protocol,
}

/// The signing name and region of a SigV4 credential scope, from the `Authorization` header or
/// a presigned URL's `X-Amz-Credential`.
pub fn credential_scope(info: &RequestInfo<'_>) -> Option<CredentialScope> {
    let cred = if let Some(auth) = info.headers.get("authorization") {
        let start = auth.find("Credential=")? + "Credential=".len();
        let rest = &auth[start..];
        rest.split([',', ' ']).next()?.to_string()
    } else {
        cloudemu_protocol::query::decode_form(info.query)
            .into_iter()
            .find(|(k, _)| k == "X-Amz-Credential")?
            .1
    };
    let mut parts = cred.split('/');
    let access_key = parts.next()?.to_string();
    let _date = parts.next()?;
    let region = parts.next()?.to_string();
    let service = parts.next()?.to_string();
    Some(CredentialScope {
        access_key,
        region,
        service,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key: String,
    pub region: String,
    pub service: String,
}

/// `X-Amz-Target` prefixes of the JSON services (the model's `targetPrefix`) and the JSON dialect
/// of query services (from overlays).
const TARGET_PREFIXES: &[(&str, &str)] = &[
    ("AmazonSQS", "sqs"),
    ("DynamoDB_20120810", "dynamodb"),
    ("DynamoDBStreams_20120810", "dynamodbstreams"),
    ("TrentService", "kms"),
    ("AWSSecurityTokenServiceV20110615", "sts"),
];

/// Path prefixes of REST services whose paths are unambiguous.
const PATH_PREFIXES: &[(&str, &str)] = &[
    ("/2015-03-31/", "lambda"),
    ("/2016-08-19/", "lambda"),
    ("/2017-03-31/", "lambda"),
    ("/2017-10-31/", "lambda"),
    ("/2018-10-31/", "lambda"),
    ("/2019-09-25/", "lambda"),
    ("/2019-09-30/", "lambda"),
    ("/2020-04-22/", "lambda"),
    ("/2020-06-30/", "lambda"),
    ("/2021-10-31/", "lambda"),
    ("/v20180820/", "s3control"),
];

/// Query-protocol `Version` values.
const QUERY_VERSIONS: &[(&str, &str)] = &[
    ("2011-06-15", "sts"),
    ("2010-05-08", "iam"),
    ("2012-11-05", "sqs"),
];

fn protocol_of(service: &str, json_target: bool, form_action: bool) -> Protocol {
    match service {
        // STS also speaks awsJson1_0 (its Smithy model's target prefix); IAM only query.
        "sts" if json_target => Protocol::Json,
        "sts" | "iam" => Protocol::Query,
        "sqs" if form_action && !json_target => Protocol::Query,
        "sqs" | "dynamodb" | "dynamodbstreams" | "kms" => Protocol::Json,
        "lambda" => Protocol::RestJson,
        _ => Protocol::RestXml,
    }
}

fn from_target(target: &str) -> Option<&'static str> {
    let prefix = target.split('.').next()?;
    TARGET_PREFIXES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, s)| *s)
}

/// Map a SigV4 signing name to a service, using the rest of the request where one signing name
/// covers several services (`s3` for S3 and S3 Control, `dynamodb` for DynamoDB and Streams).
fn from_signing_name(
    name: &str,
    info: &RequestInfo<'_>,
    target: Option<&str>,
) -> Option<&'static str> {
    Some(match name {
        "sts" => "sts",
        "iam" => "iam",
        "sqs" => "sqs",
        "kms" => "kms",
        "lambda" => "lambda",
        "s3" | "s3-control" => {
            if info.path.starts_with("/v20180820/")
                || info.host.contains(".s3-control.")
                || name == "s3-control"
            {
                "s3control"
            } else {
                "s3"
            }
        }
        "dynamodb" => match target.and_then(from_target) {
            Some("dynamodbstreams") => "dynamodbstreams",
            _ => "dynamodb",
        },
        _ => return None,
    })
}

/// Why no service could be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrecognized {
    pub description: String,
}

/// Decide the service. `form` holds the decoded form/query parameters when the request is a
/// form post or carries `Action` in its query string (read by the caller only when needed);
/// `scope` is the SigV4 credential scope of a signed request.
pub fn route(
    info: &RequestInfo<'_>,
    form: Option<&[(String, String)]>,
    scope: Option<&CredentialScope>,
) -> Result<ServiceRoute, Unrecognized> {
    let target = info.headers.get("x-amz-target");
    let action = form.and_then(|f| {
        f.iter()
            .find(|(k, _)| k == "Action")
            .map(|(_, v)| v.as_str())
    });
    let json_target = target.is_some();
    let done = |service: &'static str| ServiceRoute {
        service,
        protocol: protocol_of(service, json_target, action.is_some()),
    };

    if let Some(scope) = scope {
        if let Some(s) = from_signing_name(&scope.service, info, target) {
            return Ok(done(s));
        }
    }
    if let Some(s) = target.and_then(from_target) {
        return Ok(done(s));
    }
    if let Some((_, s)) = PATH_PREFIXES.iter().find(|(p, _)| info.path.starts_with(p)) {
        return Ok(done(s));
    }
    if info.host.contains(".s3-control.") {
        return Ok(done("s3control"));
    }
    if let Some(form) = form {
        let version = form
            .iter()
            .find(|(k, _)| k == "Version")
            .map(|(_, v)| v.as_str());
        if let Some((_, s)) = version.and_then(|v| QUERY_VERSIONS.iter().find(|(qv, _)| *qv == v)) {
            return Ok(done(s));
        }
    }
    if target.is_some() || scope.is_some() || action.is_some() {
        // The request says which service it wants, and it is none we know.
        return Err(Unrecognized {
            description: format!(
                "signing name {:?}, X-Amz-Target {:?}, Action {:?}",
                scope.map(|s| s.service.as_str()),
                target,
                action
            ),
        });
    }
    // Unsigned REST requests without other marks are S3 (browsers, presigned-less curl).
    Ok(done("s3"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(
        info: &RequestInfo<'_>,
        form: Option<&[(String, String)]>,
    ) -> Result<ServiceRoute, Unrecognized> {
        route(info, form, credential_scope(info).as_ref())
    }

    fn info<'a>(headers: &'a Headers, path: &'a str, host: &'a str) -> RequestInfo<'a> {
        RequestInfo {
            method: "POST",
            path,
            query: "",
            headers,
            host,
        }
    }

    fn auth(service: &str) -> Headers {
        Headers(vec![(
            "authorization".into(),
            format!("AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/{service}/aws4_request, SignedHeaders=host, Signature=abc"),
        )])
    }

    #[test]
    fn signing_name_decides_first() {
        let h = auth("sts");
        assert_eq!(
            routed(&info(&h, "/", "localhost"), None).map(|r| r.service),
            Ok("sts")
        );
        let scope = credential_scope(&info(&h, "/", "localhost")).expect("scope");
        assert_eq!(scope.region, "eu-west-1");
        assert_eq!(scope.access_key, "AKID");
        let h = auth("s3");
        assert_eq!(
            routed(&info(&h, "/v20180820/tags/arn", "localhost"), None).map(|r| r.service),
            Ok("s3control")
        );
        assert_eq!(
            routed(&info(&h, "/bucket/key", "localhost"), None).map(|r| r.service),
            Ok("s3")
        );
    }

    #[test]
    fn target_then_path_then_form_then_s3() {
        let h = Headers(vec![(
            "x-amz-target".into(),
            "DynamoDB_20120810.ListTables".into(),
        )]);
        let r = routed(&info(&h, "/", "localhost"), None).expect("routes");
        assert_eq!((r.service, r.protocol), ("dynamodb", Protocol::Json));
        let h = Headers::default();
        assert_eq!(
            routed(&info(&h, "/2015-03-31/functions", "localhost"), None).map(|r| r.service),
            Ok("lambda")
        );
        let form = vec![
            ("Action".to_string(), "ListRoles".to_string()),
            ("Version".to_string(), "2010-05-08".to_string()),
        ];
        let r = routed(&info(&h, "/", "localhost"), Some(&form)).expect("routes");
        assert_eq!((r.service, r.protocol), ("iam", Protocol::Query));
        assert_eq!(
            routed(&info(&h, "/bucket", "localhost"), None).map(|r| r.service),
            Ok("s3")
        );
    }

    #[test]
    fn unknown_services_are_named() {
        let h = auth("pinpoint");
        let err = routed(&info(&h, "/", "localhost"), None).expect_err("unknown");
        assert!(err.description.contains("pinpoint"));
    }
}
