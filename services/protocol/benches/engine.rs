//! What interpreting botocore models at run time costs: loading each model (paid once, on a
//! service's first request) and one parse + validate + serialize round per protocol.
//! A plain timing loop, no framework: `cargo bench -p cloudemu-protocol`.

use cloudemu_protocol::{
    parse_request, serialize_output, validate, Headers, HttpRequest, Protocol, ResponseMeta,
    ServiceModel,
};
use std::hint::black_box;
use std::time::Instant;

fn time<F: FnMut()>(iters: u32, mut f: F) -> f64 {
    f();
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed().as_secs_f64() * 1e6 / f64::from(iters)
}

fn model(id: &str) -> ServiceModel {
    ServiceModel::from_json(
        cloudemu_models::model_json(id).expect("model"),
        cloudemu_models::overlay_json(id),
    )
    .expect("loads")
}

fn main() {
    println!("model load (once per service, on first use):");
    for id in cloudemu_models::SERVICES {
        let json = cloudemu_models::model_json(id).expect("model");
        let us = time(20, || {
            black_box(ServiceModel::from_json(json, None).expect("loads"));
        });
        println!(
            "  {id:16} {:7} KiB {:8.2} ms",
            json.len() / 1024,
            us / 1000.0
        );
    }

    println!("per request (parse + validate + serialize), µs:");
    let iam = model("iam");
    let op = iam.operation("CreateRole").expect("op");
    let headers = Headers(vec![(
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    )]);
    let body = b"Action=CreateRole&Version=2010-05-08&RoleName=bench-role&Path=%2Fsvc%2F&AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%7D&Tags.member.1.Key=a&Tags.member.1.Value=b";
    let output = serde_json::json!({"Role": {"Path": "/svc/", "RoleName": "bench-role", "RoleId": "AROAAAAAAAAAAAAAAAAAA",
        "Arn": "arn:aws:iam::000000000000:role/svc/bench-role", "CreateDate": 1.7e9,
        "AssumeRolePolicyDocument": "%7B%7D", "MaxSessionDuration": 3600,
        "Tags": [{"Key": "a", "Value": "b"}]}});
    let us = time(20_000, || {
        let req = HttpRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body,
        };
        let input = parse_request(&iam, Protocol::Query, op, &req).expect("parses");
        assert!(validate::validate_input(&iam, op, &input).is_empty());
        black_box(serialize_output(
            &iam,
            Protocol::Query,
            op,
            &output,
            ResponseMeta { request_id: "r" },
        ));
    });
    println!("  query    IAM CreateRole        {us:8.2}");

    let ddb = model("dynamodb");
    let op = ddb.operation("PutItem").expect("op");
    let headers = Headers::default();
    let body = br#"{"TableName":"bench","Item":{"pk":{"S":"user#1"},"sk":{"N":"42"},"name":{"S":"Ada"},"tags":{"SS":["a","b"]}},"ReturnValues":"NONE"}"#;
    let us = time(20_000, || {
        let req = HttpRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body,
        };
        let input = parse_request(&ddb, Protocol::Json, op, &req).expect("parses");
        assert!(validate::validate_input(&ddb, op, &input).is_empty());
        black_box(serialize_output(
            &ddb,
            Protocol::Json,
            op,
            &serde_json::json!({}),
            ResponseMeta { request_id: "r" },
        ));
    });
    println!("  json     DynamoDB PutItem      {us:8.2}");

    let s3 = model("s3");
    let headers = Headers(vec![("x-amz-meta-owner".into(), "ada".into())]);
    let us = time(20_000, || {
        let (op, _) =
            cloudemu_protocol::rest::match_operation(&s3, "GET", "/bucket/photos/2026/cat.jpg", "")
                .expect("routes");
        let req = HttpRequest {
            method: "GET",
            path: "/bucket/photos/2026/cat.jpg",
            query: "",
            headers: &headers,
            body: b"",
        };
        let input = parse_request(&s3, Protocol::RestXml, op, &req).expect("parses");
        black_box(validate::validate_input(&s3, op, &input));
    });
    println!("  rest-xml S3 GetObject (route+parse) {us:8.2}");
}
