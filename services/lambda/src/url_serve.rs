//! Serving function URLs: a request under `<url-id>.lambda-url.<region>.<host>` becomes a
//! payload format 2.0 event, the function's answer becomes the HTTP response, as Lambda does.

use crate::errors::LambdaError;
use crate::shapes::InvokeRequest;
use crate::url_shapes::FunctionUrlConfig;
use crate::Lambda;
use base64::Engine;
use bytes::Bytes;
use cloudemu_core::{HostedRequest, HostedResponse, RequestContext};
use serde_json::{json, Map, Value};

const MARK: &str = ".lambda-url.";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The URL id and region a host (without port) names, and the rest (CloudEmu's own host).
fn parse_host(host: &str) -> Option<(&str, &str, &str)> {
    let i = host.find(MARK)?;
    let id = &host[..i];
    let (region, base) = host[i + MARK.len()..].split_once('.')?;
    let ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric());
    (ok && !region.is_empty()).then_some((id, region, base))
}

pub(crate) fn claims(host: &str) -> bool {
    parse_host(host).is_some()
}

fn message(status: u16, text: &str) -> HostedResponse {
    HostedResponse::json(status, &json!({"Message": text}))
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Bodies of these types reach the function as text; any other is base64, as on Lambda.
fn is_text(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        let ct = ct.to_ascii_lowercase();
        ct.starts_with("text/")
            || ["json", "xml", "javascript", "x-www-form-urlencoded"]
                .iter()
                .any(|t| ct.contains(t))
    })
}

fn header<'a>(req: &'a HostedRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The payload format 2.0 event for a request.
fn event(req: &HostedRequest, url_id: &str, region: &str, account: Option<&str>) -> Value {
    let mut headers = Map::new();
    let mut cookies: Vec<Value> = Vec::new();
    for (k, v) in &req.headers {
        if k == "cookie" {
            cookies.extend(v.split(';').map(|c| json!(c.trim())));
            continue;
        }
        match headers.get_mut(k) {
            Some(Value::String(s)) => {
                s.push(',');
                s.push_str(v);
            }
            _ => {
                headers.insert(k.clone(), json!(v));
            }
        }
    }
    headers
        .entry("x-forwarded-for")
        .or_insert_with(|| json!(req.source_ip));
    headers
        .entry("x-forwarded-proto")
        .or_insert_with(|| json!("http"));
    let mut query = Map::new();
    for pair in req.query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (decode(k), decode(v));
        match query.get_mut(&k) {
            Some(Value::String(s)) => {
                s.push(',');
                s.push_str(&v);
            }
            _ => {
                query.insert(k, json!(v));
            }
        }
    }
    let now = chrono::Utc::now();
    let domain = format!("{url_id}.lambda-url.{region}.on.aws");
    let mut context = json!({
        "accountId": account.unwrap_or("anonymous"),
        "apiId": url_id,
        "domainName": domain,
        "domainPrefix": url_id,
        "http": {
            "method": req.method,
            "path": req.path,
            "protocol": req.protocol,
            "sourceIp": req.source_ip,
            "userAgent": header(req, "user-agent").unwrap_or_default(),
        },
        "requestId": req.request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(acct) = account {
        context["authorizer"] = json!({"iam": {
            "accessKey": access_key(req),
            "accountId": acct,
            "callerId": acct,
            "cognitoIdentity": null,
            "principalOrgId": null,
            "userArn": format!("arn:aws:iam::{acct}:root"),
            "userId": acct,
        }});
    }
    let mut e = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": req.path,
        "rawQueryString": req.query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        e["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        e["queryStringParameters"] = Value::Object(query);
    }
    if !req.body.is_empty() {
        match std::str::from_utf8(&req.body) {
            Ok(text) if is_text(header(req, "content-type")) => e["body"] = json!(text),
            _ => {
                e["body"] = json!(b64().encode(&req.body));
                e["isBase64Encoded"] = json!(true);
            }
        }
    }
    e
}

/// The access key of a SigV4-signed request (header or presigned query).
fn access_key(req: &HostedRequest) -> Option<String> {
    let cred = header(req, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .map(str::to_string)
        .or_else(|| {
            req.query
                .split('&')
                .find_map(|p| p.strip_prefix("X-Amz-Credential="))
                .map(decode)
        })?;
    cred.split('/').next().map(str::to_string)
}

/// The function's answer as the HTTP response: a `statusCode` object is taken apart, any
/// other JSON is a 200 `application/json` body.
fn http_response(payload: &[u8]) -> HostedResponse {
    let plain = || HostedResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: Bytes::copy_from_slice(payload),
    };
    let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(payload) else {
        return plain();
    };
    let Some(status) = doc.get("statusCode") else {
        return plain();
    };
    let status = status
        .as_u64()
        .or_else(|| status.as_str().and_then(|s| s.parse().ok()))
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..600).contains(s));
    let Some(status) = status else {
        return message(502, "Internal Server Error");
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(Value::Object(h)) = doc.get("headers") {
        for (k, v) in h {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            headers.push((k.to_ascii_lowercase(), v));
        }
    }
    if !headers.iter().any(|(k, _)| k == "content-type") {
        headers.push(("content-type".into(), "application/json".into()));
    }
    if let Some(Value::Array(cookies)) = doc.get("cookies") {
        for c in cookies.iter().filter_map(Value::as_str) {
            headers.push(("set-cookie".into(), c.to_string()));
        }
    }
    let body = match doc.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if doc.get("isBase64Encoded") == Some(&json!(true)) => {
            match b64().decode(s) {
                Ok(b) => Bytes::from(b),
                Err(_) => return message(502, "Internal Server Error"),
            }
        }
        Some(Value::String(s)) => Bytes::from(s.clone()),
        Some(other) => Bytes::from(other.to_string()),
    };
    HostedResponse {
        status,
        headers,
        body,
    }
}

/// The CORS headers for an allowed origin (`None` when the URL has no CORS or the origin is
/// not allowed).
fn cors_headers(cors: Option<&Value>, origin: Option<&str>) -> Option<Vec<(String, String)>> {
    let (cors, origin) = (cors?, origin?);
    let list = |k: &str| -> Vec<String> {
        cors.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let origins = list("AllowOrigins");
    if !origins.iter().any(|o| o == "*" || o == origin) {
        return None;
    }
    let mut h = vec![(
        "access-control-allow-origin".to_string(),
        if origins.iter().any(|o| o == "*") && cors.get("AllowCredentials") != Some(&json!(true)) {
            "*".to_string()
        } else {
            origin.to_string()
        },
    )];
    if cors.get("AllowCredentials") == Some(&json!(true)) {
        h.push(("access-control-allow-credentials".into(), "true".into()));
    }
    let expose = list("ExposeHeaders");
    if !expose.is_empty() {
        h.push(("access-control-expose-headers".into(), expose.join(",")));
    }
    Some(h)
}

impl Lambda {
    pub(crate) async fn serve_url(&self, req: HostedRequest) -> HostedResponse {
        let host_only = req
            .host
            .rsplit_once(':')
            .map_or(req.host.as_str(), |(h, _)| h);
        let Some((url_id, region, _)) = parse_host(host_only) else {
            return message(403, "Forbidden");
        };
        let record = match self.store.url_by_id(url_id).await {
            Ok(Some(r)) if r.region == region => r,
            Ok(_) => return message(403, "Forbidden"),
            Err(e) => {
                tracing::error!(error = %e, "reading a function URL failed");
                return message(500, "Internal Server Error");
            }
        };
        let Ok(config) = serde_json::from_str::<FunctionUrlConfig>(&record.config) else {
            return message(500, "Internal Server Error");
        };
        let origin = header(&req, "origin");
        let cors = cors_headers(config.cors.as_ref(), origin);
        // Preflights are answered from the URL's CORS configuration, never the function.
        if req.method == "OPTIONS" && config.cors.is_some() {
            if let Some(mut h) = cors {
                if let Some(c) = &config.cors {
                    let joined = |k: &str| {
                        c.get(k).and_then(Value::as_array).map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                    };
                    if let Some(m) = joined("AllowMethods") {
                        h.push(("access-control-allow-methods".into(), m));
                    }
                    if let Some(hd) = joined("AllowHeaders") {
                        h.push(("access-control-allow-headers".into(), hd));
                    }
                    if let Some(age) = c.get("MaxAge").and_then(Value::as_i64) {
                        h.push(("access-control-max-age".into(), age.to_string()));
                    }
                }
                return HostedResponse {
                    status: 200,
                    headers: h,
                    body: Bytes::new(),
                };
            }
            return HostedResponse {
                status: 200,
                headers: Vec::new(),
                body: Bytes::new(),
            };
        }
        // AWS_IAM URLs need a signed request (signatures are not verified, as nowhere else).
        let caller = access_key(&req);
        let account = match config.auth_type.as_str() {
            "AWS_IAM" => match &caller {
                None => return message(403, "Forbidden"),
                Some(k) if k.len() == 12 && k.bytes().all(|b| b.is_ascii_digit()) => {
                    Some(k.clone())
                }
                Some(_) => Some(record.account_id.clone()),
            },
            _ => None,
        };
        let event = event(&req, url_id, region, account.as_deref());
        // The function's own SDK calls go to CloudEmu itself, not to the URL's host.
        let base = req
            .host
            .split_once(MARK)
            .and_then(|(_, rest)| rest.split_once('.'))
            .map_or(req.host.clone(), |(_, b)| b.to_string());
        let ctx = RequestContext {
            request_id: req.request_id.clone(),
            account_id: record.account_id.clone(),
            region: record.region.clone(),
            access_key_id: None,
            host: base,
            operation: "Invoke".into(),
        };
        let input: InvokeRequest = match serde_json::from_value(json!({
            "FunctionName": record.function_name,
            "Qualifier": (record.qualifier != "$LATEST").then_some(&record.qualifier),
            "Payload": b64().encode(event.to_string()),
        })) {
            Ok(i) => i,
            Err(_) => return message(500, "Internal Server Error"),
        };
        let mut resp = match self.invoke(&ctx, input).await {
            Ok(out) if out.function_error.is_none() => {
                let payload = out
                    .payload
                    .as_deref()
                    .and_then(|p| b64().decode(p).ok())
                    .unwrap_or_default();
                http_response(&payload)
            }
            Ok(_) => message(502, "Internal Server Error"),
            Err(LambdaError::Throttled) => message(429, "Rate Exceeded."),
            Err(LambdaError::PayloadTooLarge) => message(413, "Request Entity Too Large"),
            Err(e) => {
                tracing::warn!(error = %e, "function URL invocation failed");
                message(502, "Internal Server Error")
            }
        };
        resp.headers
            .push(("x-amzn-requestid".into(), req.request_id.clone()));
        if let Some(h) = cors_headers(config.cors.as_ref(), origin) {
            resp.headers.extend(h);
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_name_url_ids_and_regions() {
        assert_eq!(
            parse_host("abc123.lambda-url.us-east-1.localhost"),
            Some(("abc123", "us-east-1", "localhost"))
        );
        assert_eq!(parse_host("localhost"), None);
        assert_eq!(parse_host(".lambda-url.us-east-1.localhost"), None);
        assert_eq!(parse_host("a.b.lambda-url.us-east-1.x"), None);
    }

    #[test]
    fn answers_become_http_responses_as_lambda_makes_them() {
        let r = http_response(
            br#"{"statusCode":201,"headers":{"X-A":"1"},"body":"hi","cookies":["a=1","b=2"]}"#,
        );
        assert_eq!(r.status, 201);
        assert_eq!(r.body.as_ref(), b"hi");
        assert!(r.headers.contains(&("x-a".into(), "1".into())));
        let cookies: Vec<_> = r
            .headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .collect();
        assert_eq!(cookies.len(), 2);
        let bin = http_response(br#"{"statusCode":200,"body":"AAEC","isBase64Encoded":true}"#);
        assert_eq!(bin.body.as_ref(), &[0u8, 1, 2]);
        let bare = http_response(br#"{"message":"hello"}"#);
        assert_eq!(bare.status, 200);
        assert_eq!(bare.body.as_ref(), br#"{"message":"hello"}"#);
        assert!(bare
            .headers
            .contains(&("content-type".into(), "application/json".into())));
    }
}
