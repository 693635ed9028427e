//! CORS for S3 buckets, as a browser sees it: preflight `OPTIONS` answered from the bucket's
//! CORS configuration, and `Access-Control-*` headers on actual requests whose origin and
//! method a rule allows. HTTP-only, so it lives here; the rules are the stored configuration.

use serde_json::Value;

/// One CORS rule of a bucket's configuration (the stored document's `CORSRules` items).
struct Rule<'a>(&'a Value);

fn list<'a>(v: &'a Value, k: &str) -> impl Iterator<Item = &'a str> {
    v.get(k)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// A CORS pattern: at most one `*`, matching any run of characters.
fn matches(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let (p, v) = if ignore_case {
        (pattern.to_ascii_lowercase(), value.to_ascii_lowercase())
    } else {
        (pattern.to_string(), value.to_string())
    };
    match p.split_once('*') {
        None => p == v,
        Some((head, tail)) => {
            v.len() >= head.len() + tail.len() && v.starts_with(head) && v.ends_with(tail)
        }
    }
}

impl Rule<'_> {
    fn allows(&self, origin: &str, method: &str, headers: &[&str]) -> bool {
        list(self.0, "AllowedOrigins").any(|o| matches(o, origin, false))
            && list(self.0, "AllowedMethods").any(|m| m == method)
            && headers
                .iter()
                .all(|h| list(self.0, "AllowedHeaders").any(|a| matches(a, h.trim(), true)))
    }

    fn headers(&self, origin: &str, requested: Option<&str>) -> Vec<(String, String)> {
        let wildcard = list(self.0, "AllowedOrigins").any(|o| o == "*");
        let mut out = vec![
            (
                "Access-Control-Allow-Origin".to_string(),
                if wildcard {
                    "*".into()
                } else {
                    origin.to_string()
                },
            ),
            (
                "Access-Control-Allow-Methods".into(),
                list(self.0, "AllowedMethods")
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "Vary".into(),
                "Origin, Access-Control-Request-Headers, Access-Control-Request-Method".into(),
            ),
        ];
        if !wildcard {
            out.push(("Access-Control-Allow-Credentials".into(), "true".into()));
        }
        if let Some(h) = requested.filter(|h| !h.trim().is_empty()) {
            out.push(("Access-Control-Allow-Headers".into(), h.to_string()));
        }
        let expose: Vec<&str> = list(self.0, "ExposeHeaders").collect();
        if !expose.is_empty() {
            out.push(("Access-Control-Expose-Headers".into(), expose.join(", ")));
        }
        if let Some(age) = self.0.get("MaxAgeSeconds").and_then(Value::as_i64) {
            out.push(("Access-Control-Max-Age".into(), age.to_string()));
        }
        out
    }
}

/// The bucket a path-style path names.
pub fn bucket_of_path(path: &str) -> Option<String> {
    let first = path.trim_start_matches('/').split('/').next()?;
    let b = percent_encoding::percent_decode_str(first)
        .decode_utf8()
        .ok()?
        .into_owned();
    (!b.is_empty()).then_some(b)
}

/// What a preflight gets.
pub enum Preflight {
    Allowed(Vec<(String, String)>),
    /// 403 AccessForbidden with this message.
    Forbidden(&'static str),
    /// 400: the preflight lacks Origin or Access-Control-Request-Method.
    Incomplete(&'static str),
}

pub fn preflight(
    config: Option<&Value>,
    origin: Option<&str>,
    method: Option<&str>,
    request_headers: Option<&str>,
) -> Preflight {
    let Some(origin) = origin else {
        return Preflight::Incomplete("Insufficient information. Origin request header needed.");
    };
    let Some(method) = method else {
        return Preflight::Incomplete("Invalid Access-Control-Request-Method: null");
    };
    let Some(config) = config else {
        return Preflight::Forbidden("CORSResponse: CORS is not enabled for this bucket.");
    };
    let headers: Vec<&str> = request_headers
        .map(|h| {
            h.split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .collect()
        })
        .unwrap_or_default();
    match rules(config).find(|r| r.allows(origin, method, &headers)) {
        Some(rule) => Preflight::Allowed(rule.headers(origin, request_headers)),
        None => Preflight::Forbidden(
            "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
        ),
    }
}

/// Headers for an actual (non-preflight) request from `origin`.
pub fn actual(config: &Value, origin: &str, method: &str) -> Vec<(String, String)> {
    rules(config)
        .find(|r| r.allows(origin, method, &[]))
        .map(|r| r.headers(origin, None))
        .unwrap_or_default()
}

fn rules(config: &Value) -> impl Iterator<Item = Rule<'_>> {
    config
        .get("CORSRules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(Rule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn preflights_follow_the_rules() {
        let config = json!({"CORSRules": [{
            "AllowedOrigins": ["https://*.example.com"],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["x-amz-*", "content-type"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 300
        }]});
        let ok = preflight(
            Some(&config),
            Some("https://app.example.com"),
            Some("PUT"),
            Some("Content-Type, x-amz-meta-a"),
        );
        let Preflight::Allowed(h) = ok else {
            panic!("allowed")
        };
        assert!(h.contains(&(
            "Access-Control-Allow-Origin".into(),
            "https://app.example.com".into()
        )));
        assert!(h.contains(&("Access-Control-Max-Age".into(), "300".into())));
        assert!(matches!(
            preflight(Some(&config), Some("https://evil.test"), Some("PUT"), None),
            Preflight::Forbidden(_)
        ));
        assert!(matches!(
            preflight(
                Some(&config),
                Some("https://a.example.com"),
                Some("DELETE"),
                None
            ),
            Preflight::Forbidden(_)
        ));
        assert!(matches!(
            preflight(None, Some("https://a.example.com"), Some("GET"), None),
            Preflight::Forbidden(_)
        ));
        assert!(matches!(
            preflight(Some(&config), None, Some("GET"), None),
            Preflight::Incomplete(_)
        ));
        assert!(actual(&config, "https://a.example.com", "GET")
            .iter()
            .any(|(k, _)| k == "Access-Control-Expose-Headers"));
        assert!(actual(&config, "https://a.example.com", "DELETE").is_empty());
    }
}
