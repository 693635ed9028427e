//! Operation routing for the rest protocols: `requestUri` templates matched against the raw path
//! and query string.

use crate::{Headers, HttpRequest, Operation, ServiceModel, ShapeType};
use percent_encoding::percent_decode_str;

/// One path segment of a template.
enum Seg<'a> {
    Literal(&'a str),
    /// `prefix{name}suffix`; greedy (`{name+}`) labels may span several segments.
    Label {
        prefix: &'a str,
        name: &'a str,
        suffix: &'a str,
        greedy: bool,
    },
}

struct Template<'a> {
    segs: Vec<Seg<'a>>,
    /// Literal query keys, with the value they must have when the template gives one.
    query: Vec<(&'a str, Option<&'a str>)>,
}

fn parse_template(uri: &str) -> Template<'_> {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let path = path.strip_prefix('/').unwrap_or(path);
    let segs = path
        .split('/')
        .map(|s| match (s.find('{'), s.rfind('}')) {
            (Some(open), Some(close)) if open < close => {
                let inner = &s[open + 1..close];
                let (name, greedy) = match inner.strip_suffix('+') {
                    Some(n) => (n, true),
                    None => (inner, false),
                };
                Seg::Label {
                    prefix: &s[..open],
                    name,
                    suffix: &s[close + 1..],
                    greedy,
                }
            }
            _ => Seg::Literal(s),
        })
        .collect();
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (p, None),
        })
        .collect();
    Template { segs, query }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Decoded `key=value` pairs of a raw query string, in order. `+` is a space, as in forms.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

/// Match template segments against raw path segments, collecting decoded labels.
fn match_segs(segs: &[Seg<'_>], path: &[&str], labels: &mut Vec<(String, String)>) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        // A trailing slash on the request is tolerated (`/2015-03-31/functions/`).
        return path.is_empty() || path == [""];
    };
    match first {
        Seg::Literal(lit) => match path.split_first() {
            Some((p, prest)) if decode(p) == *lit => match_segs(rest, prest, labels),
            // ... and so is a missing one when the template ends with a slash.
            None if lit.is_empty() && rest.is_empty() => true,
            _ => false,
        },
        Seg::Label {
            prefix,
            name,
            suffix,
            greedy: false,
        } => {
            let Some((p, prest)) = path.split_first() else {
                return false;
            };
            let Some(mid) = p.strip_prefix(prefix).and_then(|m| m.strip_suffix(suffix)) else {
                return false;
            };
            if mid.is_empty() {
                return false;
            }
            let mark = labels.len();
            labels.push((name.to_string(), decode(mid)));
            if match_segs(rest, prest, labels) {
                return true;
            }
            labels.truncate(mark);
            false
        }
        Seg::Label {
            prefix,
            name,
            suffix,
            greedy: true,
        } => {
            // Longest first: a greedy label takes as many segments as the rest allows.
            for take in (1..=path.len()).rev() {
                let joined = path[..take].join("/");
                let Some(mid) = joined
                    .strip_prefix(prefix)
                    .and_then(|m| m.strip_suffix(suffix))
                else {
                    continue;
                };
                if mid.is_empty() {
                    continue;
                }
                let mark = labels.len();
                labels.push((name.to_string(), decode(mid)));
                if match_segs(rest, &path[take..], labels) {
                    return true;
                }
                labels.truncate(mark);
            }
            false
        }
    }
}

fn split_path(raw_path: &str) -> Vec<&str> {
    raw_path
        .strip_prefix('/')
        .unwrap_or(raw_path)
        .split('/')
        .collect()
}

/// The decoded URI labels of `op`'s template for `raw_path`, or `None` when it does not match.
pub fn extract_labels(op: &Operation, raw_path: &str) -> Option<Vec<(String, String)>> {
    let t = parse_template(&op.http.request_uri);
    let mut labels = Vec::new();
    match_segs(&t.segs, &split_path(raw_path), &mut labels).then_some(labels)
}

/// Find the operation whose `requestUri` template matches `method` + raw `path` + raw `query`.
/// Returns the operation and its decoded URI labels.
///
/// Among several matches the most specific wins: more literal path characters, then more
/// literal query keys, then the one whose required query members are present (S3's `ListParts`
/// over `GetObject` when `uploadId` is given), then fewer required headers (`PutObject` over
/// `CopyObject`: headers are not known here, see [`match_request`]), then non-deprecated, then
/// model order.
pub fn match_operation<'m>(
    model: &'m ServiceModel,
    method: &str,
    path: &str,
    query: &str,
) -> Option<(&'m Operation, Vec<(String, String)>)> {
    best_match(model, method, path, query, None)
}

/// [`match_operation`] that also weighs required header members against the request's headers
/// (S3's `CopyObject` vs `PutObject`, `UploadPartCopy` vs `UploadPart`).
pub fn match_request<'m>(
    model: &'m ServiceModel,
    req: &HttpRequest<'_>,
) -> Option<(&'m Operation, Vec<(String, String)>)> {
    best_match(model, req.method, req.path, req.query, Some(req.headers))
}

/// Specificity of a match, compared lexicographically (see [`match_operation`]).
type Score = [i64; 7];
type Labels = Vec<(String, String)>;

fn best_match<'m>(
    model: &'m ServiceModel,
    method: &str,
    path: &str,
    query: &str,
    headers: Option<&Headers>,
) -> Option<(&'m Operation, Vec<(String, String)>)> {
    let segs = split_path(path);
    let params = parse_query(query);
    let mut best: Option<(Score, &'m Operation, Labels)> = None;
    for (index, op) in model.operations.values().enumerate() {
        if !op.http.method.eq_ignore_ascii_case(method) {
            continue;
        }
        let t = parse_template(&op.http.request_uri);
        let query_ok = t.query.iter().all(|(k, v)| {
            params
                .iter()
                .any(|(pk, pv)| pk == k && v.is_none_or(|v| pv == v))
        });
        if !query_ok {
            continue;
        }
        let mut labels = Vec::new();
        if !match_segs(&t.segs, &segs, &mut labels) {
            continue;
        }
        let literal_chars: usize = t
            .segs
            .iter()
            .map(|s| match s {
                Seg::Literal(l) => l.len() + 1,
                Seg::Label { prefix, suffix, .. } => prefix.len() + suffix.len() + 1,
            })
            .sum();
        let (query_ok, query_present, header_ok, header_balance) =
            required_bindings(model, op, &params, headers);
        let score = [
            literal_chars as i64,
            t.query.len() as i64,
            i64::from(query_ok),
            query_present,
            i64::from(header_ok),
            header_balance,
            i64::from(!op.deprecated) * 1_000_000 - index as i64,
        ];
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, op, labels));
        }
    }
    best.map(|(_, op, labels)| (op, labels))
}

/// How well the request satisfies the operation's required query and header members:
/// (all required query present, how many present, all required headers present, required
/// headers present minus those missing or unknown).
fn required_bindings(
    model: &ServiceModel,
    op: &Operation,
    params: &[(String, String)],
    headers: Option<&Headers>,
) -> (bool, i64, bool, i64) {
    let Some(shape) = op.input.as_ref().and_then(|r| model.shape(&r.shape)) else {
        return (true, 0, true, 0);
    };
    let (mut q_ok, mut q_present, mut h_present, mut h_missing) = (true, 0, 0, 0);
    for name in &shape.required {
        let Some(m) = shape.members.get(name) else {
            continue;
        };
        let wire = m.location_name.as_deref().unwrap_or(name);
        match m.location.as_deref() {
            Some("querystring") => {
                let is_map = model.shape(&m.shape).map(|s| s.kind) == Some(ShapeType::Map);
                if is_map || params.iter().any(|(k, _)| k == wire) {
                    q_present += 1;
                } else {
                    q_ok = false;
                }
            }
            Some("header") => match headers.and_then(|h| h.get(wire)) {
                Some(_) => h_present += 1,
                None => h_missing += 1,
            },
            _ => {}
        }
    }
    (q_ok, q_present, h_missing == 0, h_present - h_missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ServiceModel {
        let ops = [
            ("ListObjects", "GET", "/{Bucket}"),
            ("ListObjectsV2", "GET", "/{Bucket}?list-type=2"),
            ("GetBucketTagging", "GET", "/{Bucket}?tagging"),
            ("GetObject", "GET", "/{Bucket}/{Key+}"),
            ("ListParts", "GET", "/{Bucket}/{Key+}"),
            ("CopyObject", "PUT", "/{Bucket}/{Key+}"),
            ("PutObject", "PUT", "/{Bucket}/{Key+}"),
            ("CreateBucket", "PUT", "/{Bucket}"),
            ("ListBuckets", "GET", "/"),
            (
                "Invoke",
                "POST",
                "/2015-03-31/functions/{FunctionName}/invocations",
            ),
            ("ListFunctions", "GET", "/2015-03-31/functions/"),
            ("GetFunction", "GET", "/2015-03-31/functions/{FunctionName}"),
            ("TagResource", "POST", "/v20180820/tags/{ResourceArn+}"),
        ];
        let mut operations = serde_json::Map::new();
        for (name, method, uri) in ops {
            let input = match name {
                "ListParts" => serde_json::json!({"shape": "ListPartsRequest"}),
                "CopyObject" => serde_json::json!({"shape": "CopyObjectRequest"}),
                _ => serde_json::json!({"shape": "Empty"}),
            };
            operations.insert(
                name.into(),
                serde_json::json!({"name": name, "http": {"method": method, "requestUri": uri}, "input": input}),
            );
        }
        let doc = serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "rest-xml"},
            "operations": operations,
            "shapes": {
                "Empty": {"type": "structure", "members": {}},
                "S": {"type": "string"},
                "ListPartsRequest": {"type": "structure", "required": ["UploadId"], "members": {
                    "UploadId": {"shape": "S", "location": "querystring", "locationName": "uploadId"}}},
                "CopyObjectRequest": {"type": "structure", "required": ["CopySource"], "members": {
                    "CopySource": {"shape": "S", "location": "header", "locationName": "x-amz-copy-source"}}}
            }
        });
        ServiceModel::from_json(&doc.to_string(), None).expect("model")
    }

    fn route(
        m: &ServiceModel,
        method: &str,
        path: &str,
        query: &str,
    ) -> (String, Vec<(String, String)>) {
        let (op, labels) = match_operation(m, method, path, query).expect("matches");
        (op.name.clone(), labels)
    }

    #[test]
    fn routes_s3_style_templates() {
        let m = model();
        assert_eq!(route(&m, "GET", "/b", "").0, "ListObjects");
        assert_eq!(
            route(&m, "GET", "/b", "list-type=2&prefix=x").0,
            "ListObjectsV2"
        );
        assert_eq!(route(&m, "GET", "/b", "tagging").0, "GetBucketTagging");
        assert_eq!(route(&m, "GET", "/b", "list-type=1").0, "ListObjects");
        assert_eq!(route(&m, "GET", "/", "").0, "ListBuckets");
        assert_eq!(route(&m, "PUT", "/b", "").0, "CreateBucket");
        assert_eq!(route(&m, "PUT", "/b/", "").0, "CreateBucket");
        assert_eq!(route(&m, "GET", "/b/k", "uploadId=1").0, "ListParts");
        assert_eq!(route(&m, "PUT", "/b/k", "").0, "PutObject");
        let (op, labels) = route(&m, "GET", "/b/a//b%20c/", "");
        assert_eq!(op, "GetObject");
        assert_eq!(
            labels,
            vec![
                ("Bucket".into(), "b".into()),
                ("Key".into(), "a//b c/".into())
            ]
        );
        let (_, labels) = route(&m, "GET", "/b/../x%2Fy", "");
        assert_eq!(labels[1].1, "../x/y");
    }

    #[test]
    fn header_aware_routing() {
        let m = model();
        let h = Headers(vec![("x-amz-copy-source".into(), "/a/b".into())]);
        let req = HttpRequest {
            method: "PUT",
            path: "/b/k",
            query: "",
            headers: &h,
            body: b"",
        };
        assert_eq!(
            match_request(&m, &req).map(|(o, _)| o.name.as_str()),
            Some("CopyObject")
        );
    }

    #[test]
    fn routes_lambda_and_control_templates() {
        let m = model();
        let (op, labels) = route(&m, "POST", "/2015-03-31/functions/my-fn/invocations", "");
        assert_eq!((op.as_str(), labels[0].1.as_str()), ("Invoke", "my-fn"));
        assert_eq!(
            route(&m, "GET", "/2015-03-31/functions/", "").0,
            "ListFunctions"
        );
        assert_eq!(
            route(&m, "GET", "/2015-03-31/functions", "").0,
            "ListFunctions"
        );
        assert_eq!(
            route(&m, "GET", "/2015-03-31/functions/f", "").0,
            "GetFunction"
        );
        let (_, labels) = route(&m, "POST", "/v20180820/tags/arn:aws:s3:::b/x", "");
        assert_eq!(labels[0].1, "arn:aws:s3:::b/x");
        assert!(match_operation(&m, "DELETE", "/b", "").is_none());
    }
}
