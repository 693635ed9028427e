//! Output members handed over as JSON text serialize exactly as the same members in the value
//! tree would, in every protocol.

use cloudemu_protocol::{
    serialize_output, serialize_output_encoded, Protocol, ResponseMeta, ServiceModel,
};
use serde_json::{json, Value};

fn model(id: &str) -> ServiceModel {
    ServiceModel::from_json(
        cloudemu_models::model_json(id).expect("model"),
        cloudemu_models::overlay_json(id),
    )
    .expect("loads")
}

const META: ResponseMeta<'static> = ResponseMeta { request_id: "r1" };

/// `output` serialized whole, and with `members` taken out of it and given as text.
fn both(m: &ServiceModel, protocol: Protocol, op: &str, output: Value, members: &[&str]) {
    let op = m.operation(op).expect("operation");
    let whole = serialize_output(m, protocol, op, &output, META);
    let mut rest = output.clone();
    let mut encoded = Vec::new();
    for name in members {
        let v = rest
            .as_object_mut()
            .expect("object")
            .remove(*name)
            .expect("member");
        encoded.push((name.to_string(), serde_json::to_string(&v).expect("json")));
    }
    let split = serialize_output_encoded(m, protocol, op, &rest, &encoded, META);
    assert_eq!(
        String::from_utf8_lossy(&split.body),
        String::from_utf8_lossy(&whole.body)
    );
    assert_eq!(split.headers, whole.headers);
    assert_eq!(split.status, whole.status);
}

#[test]
fn json_members_given_as_text_are_written_in_model_order() {
    let ddb = model("dynamodb");
    let items = json!([
        {"pk": {"S": "a"}, "n": {"N": "1"}, "m": {"M": {"x": {"L": [{"BOOL": true}, {"NULL": true}]}}}},
        {"pk": {"S": "b\"\u{e9}"}, "b": {"B": "AAE="}, "ss": {"SS": ["x", "y"]}}
    ]);
    // Items comes first in the model, Count and ScannedCount after it.
    both(
        &ddb,
        Protocol::Json,
        "Query",
        json!({"Items": items, "Count": 2, "ScannedCount": 3,
               "LastEvaluatedKey": {"pk": {"S": "b"}}}),
        &["Items"],
    );
    both(
        &ddb,
        Protocol::Json,
        "Query",
        json!({"Items": [], "Count": 0, "ScannedCount": 0}),
        &["Items"],
    );
    both(
        &ddb,
        Protocol::Json,
        "GetItem",
        json!({"Item": {"pk": {"S": "a"}}, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}}),
        &["Item"],
    );
    // A member the model does not define is not written, text or not.
    let op = ddb.operation("GetItem").expect("GetItem");
    let r = serialize_output_encoded(
        &ddb,
        Protocol::Json,
        op,
        &json!({}),
        &[("Internal".into(), "1".into())],
        META,
    );
    assert_eq!(r.body, b"{}");
}

#[test]
fn other_protocols_parse_members_given_as_text() {
    let iam = model("iam");
    both(
        &iam,
        Protocol::Query,
        "ListRoles",
        json!({"Roles": [{"RoleName": "r", "Path": "/", "RoleId": "AROA1", "Arn": "arn:aws:iam::1:role/r",
                          "CreateDate": 0}], "IsTruncated": false}),
        &["Roles"],
    );
}
