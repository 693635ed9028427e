//! The rest protocols against the real S3, S3 Control and Lambda models.

use crate::{
    parse_request, serialize_error, serialize_output, Headers, HttpRequest, Protocol, ResponseMeta,
    ServiceModel, WireError,
};
use serde_json::json;

fn load(service: &str) -> ServiceModel {
    ServiceModel::from_json(
        cloudemu_models::model_json(service).expect("model"),
        cloudemu_models::overlay_json(service),
    )
    .expect("loads")
}

fn route(
    m: &ServiceModel,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
) -> String {
    let h = Headers(
        headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let req = HttpRequest {
        method,
        path,
        query,
        headers: &h,
        body: b"",
    };
    super::match_request(m, &req)
        .map(|(op, _)| op.name.clone())
        .unwrap_or_default()
}

const META: ResponseMeta<'static> = ResponseMeta {
    request_id: "req-1",
};

#[test]
fn routes_real_s3_requests() {
    let s3 = load("s3");
    let cases = [
        ("GET", "/", "", "ListBuckets"),
        ("PUT", "/b", "", "CreateBucket"),
        ("HEAD", "/b", "", "HeadBucket"),
        ("GET", "/b", "", "ListObjects"),
        ("GET", "/b", "list-type=2&prefix=a%2F", "ListObjectsV2"),
        ("GET", "/b", "versions", "ListObjectVersions"),
        ("GET", "/b", "uploads", "ListMultipartUploads"),
        ("GET", "/b", "location", "GetBucketLocation"),
        ("GET", "/b", "lifecycle", "GetBucketLifecycleConfiguration"),
        ("PUT", "/b", "tagging", "PutBucketTagging"),
        ("POST", "/b", "delete", "DeleteObjects"),
        ("PUT", "/b/k", "", "PutObject"),
        ("GET", "/b/dir/", "", "GetObject"),
        ("GET", "/b/k", "x-id=GetObject", "GetObject"),
        ("GET", "/b/k", "uploadId=u", "ListParts"),
        ("POST", "/b/k", "uploads", "CreateMultipartUpload"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", "UploadPart"),
        ("POST", "/b/k", "uploadId=u", "CompleteMultipartUpload"),
        ("DELETE", "/b/k", "uploadId=u", "AbortMultipartUpload"),
        ("DELETE", "/b/k", "", "DeleteObject"),
        ("GET", "/b/k", "tagging", "GetObjectTagging"),
    ];
    for (method, path, query, want) in cases {
        assert_eq!(
            route(&s3, method, path, query, &[]),
            want,
            "{method} {path}?{query}"
        );
    }
    let copy = [("x-amz-copy-source", "/src/k")];
    assert_eq!(route(&s3, "PUT", "/b/k", "", &copy), "CopyObject");
    assert_eq!(
        route(&s3, "PUT", "/b/k", "partNumber=1&uploadId=u", &copy),
        "UploadPartCopy"
    );
}

#[test]
fn routes_real_lambda_and_s3control_requests() {
    let lambda = load("lambda");
    assert_eq!(
        route(
            &lambda,
            "POST",
            "/2015-03-31/functions/f/invocations",
            "",
            &[]
        ),
        "Invoke"
    );
    assert_eq!(
        route(&lambda, "GET", "/2015-03-31/functions/", "", &[]),
        "ListFunctions"
    );
    assert_eq!(
        route(&lambda, "GET", "/2015-03-31/functions", "", &[]),
        "ListFunctions"
    );
    assert_eq!(
        route(&lambda, "POST", "/2015-03-31/functions", "", &[]),
        "CreateFunction"
    );
    assert_eq!(
        route(
            &lambda,
            "GET",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af",
            "",
            &[]
        ),
        "GetFunction"
    );
    let control = load("s3control");
    assert_eq!(
        route(
            &control,
            "GET",
            "/v20180820/tags/arn:aws:s3:us-east-1:1:job/x",
            "",
            &[]
        ),
        "ListTagsForResource"
    );
    assert_eq!(
        route(&control, "GET", "/v20180820/jobs/j1/tagging", "", &[]),
        "GetJobTagging"
    );
}

#[test]
fn s3_put_object_and_list_round_trip() {
    let s3 = load("s3");
    let op = s3.operation("PutObject").expect("op");
    let h = Headers(vec![
        ("content-type".into(), "text/plain".into()),
        ("x-amz-meta-color".into(), "blue".into()),
        ("content-length".into(), "5".into()),
    ]);
    let req = HttpRequest {
        method: "PUT",
        path: "/b/a%20b//c/",
        query: "",
        headers: &h,
        body: b"hello",
    };
    let v = parse_request(&s3, Protocol::RestXml, op, &req).expect("parses");
    assert_eq!(
        v,
        json!({"Bucket": "b", "Key": "a b//c/", "ContentLength": 5, "ContentType": "text/plain",
               "Metadata": {"color": "blue"}})
    );

    let op = s3.operation("ListObjectsV2").expect("op");
    let out = json!({"Name": "b", "KeyCount": 1, "IsTruncated": false,
        "Contents": [{"Key": "k", "Size": 5, "LastModified": 1_422_172_800}]});
    let resp = serialize_output(&s3, Protocol::RestXml, op, &out, META);
    let body = String::from_utf8(resp.body).expect("utf8");
    assert!(
        body.contains(r#"xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#),
        "{body}"
    );
    assert!(
        body.contains("<Contents><Key>k</Key><LastModified>2015-01-25T08:00:00Z</LastModified>"),
        "{body}"
    );
    assert!(resp
        .headers
        .iter()
        .any(|(k, v)| k == "x-amz-request-id" && v == "req-1"));

    let op = s3.operation("GetObject").expect("op");
    let out = json!({"ContentType": "image/png", "ContentLength": 3, "Metadata": {"a": "1"},
        "LastModified": 1_422_172_800});
    let resp = serialize_output(&s3, Protocol::RestXml, op, &out, META);
    assert!(resp.body.is_empty());
    let get = |n: &str| {
        resp.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("Content-Type"), Some("image/png"));
    assert_eq!(get("Last-Modified"), Some("Sun, 25 Jan 2015 08:00:00 GMT"));
    assert_eq!(get("x-amz-meta-a"), Some("1"));
    assert_eq!(
        resp.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .count(),
        1
    );
}

#[test]
fn s3_errors_are_bare() {
    let s3 = load("s3");
    let mut fields = serde_json::Map::new();
    fields.insert("Key".into(), json!("k"));
    let err = WireError {
        code: "NoSuchKey".into(),
        message: "gone".into(),
        status: 404,
        sender_fault: true,
        fields,
    };
    let resp = serialize_error(&s3, Protocol::RestXml, &err, META);
    let body = String::from_utf8(resp.body).expect("utf8");
    assert_eq!(resp.status, 404);
    assert!(body.contains("<Error><Code>NoSuchKey</Code><Message>gone</Message><Key>k</Key><RequestId>req-1</RequestId>"), "{body}");
    let control = load("s3control");
    let resp = serialize_error(&control, Protocol::RestXml, &err, META);
    let body = String::from_utf8(resp.body).expect("utf8");
    assert!(
        body.contains("<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchKey</Code>"),
        "{body}"
    );
}

#[test]
fn lambda_invoke_and_errors() {
    let lambda = load("lambda");
    let op = lambda.operation("Invoke").expect("op");
    let h = Headers(vec![(
        "x-amz-invocation-type".into(),
        "RequestResponse".into(),
    )]);
    let req = HttpRequest {
        method: "POST",
        path: "/2015-03-31/functions/f/invocations",
        query: "Qualifier=1",
        headers: &h,
        body: b"{\"a\":1}",
    };
    let v = parse_request(&lambda, Protocol::RestJson, op, &req).expect("parses");
    assert_eq!(
        v,
        json!({"FunctionName": "f", "InvocationType": "RequestResponse", "Qualifier": "1", "Payload": "eyJhIjoxfQ=="})
    );
    let resp = serialize_output(
        &lambda,
        Protocol::RestJson,
        op,
        &json!({"StatusCode": 200, "Payload": "eyJhIjoxfQ==", "ExecutedVersion": "$LATEST"}),
        META,
    );
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (200, &b"{\"a\":1}"[..])
    );

    let op = lambda.operation("CreateFunction").expect("op");
    let resp = serialize_output(
        &lambda,
        Protocol::RestJson,
        op,
        &json!({"FunctionName": "f"}),
        META,
    );
    assert_eq!(resp.status, 201);

    let err = WireError {
        code: "ResourceNotFoundException".into(),
        message: "nope".into(),
        status: 404,
        sender_fault: true,
        fields: serde_json::Map::new(),
    };
    let resp = serialize_error(&lambda, Protocol::RestJson, &err, META);
    let body: serde_json::Value = serde_json::from_slice(&resp.body).expect("json");
    assert_eq!(body["Message"], "nope");
    assert!(resp
        .headers
        .iter()
        .any(|(k, v)| k == "X-Amzn-ErrorType" && v == "ResourceNotFoundException"));
}

#[test]
fn malformed_inputs_are_errors_not_panics() {
    let s3 = load("s3");
    let op = s3.operation("PutBucketTagging").expect("op");
    let h = Headers::default();
    let req = HttpRequest {
        method: "PUT",
        path: "/b",
        query: "tagging",
        headers: &h,
        body: b"<Tagging><TagSet>",
    };
    assert!(parse_request(&s3, Protocol::RestXml, op, &req).is_err());
    let op = s3.operation("ListObjectsV2").expect("op");
    let req = HttpRequest {
        method: "GET",
        path: "/b",
        query: "list-type=2&max-keys=lots",
        headers: &h,
        body: b"",
    };
    assert!(parse_request(&s3, Protocol::RestXml, op, &req).is_err());
    let lambda = load("lambda");
    let op = lambda.operation("CreateFunction").expect("op");
    let req = HttpRequest {
        method: "POST",
        path: "/2015-03-31/functions",
        query: "",
        headers: &h,
        body: b"{\"FunctionName\": 5}",
    };
    assert!(parse_request(&lambda, Protocol::RestJson, op, &req).is_err());
    let req = HttpRequest {
        method: "POST",
        path: "/2015-03-31/functions",
        query: "",
        headers: &h,
        body: b"[1,",
    };
    assert!(parse_request(&lambda, Protocol::RestJson, op, &req).is_err());
}
