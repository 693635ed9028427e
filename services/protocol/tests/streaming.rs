//! Which operations carry streaming payloads, read from the real models.

use cloudemu_protocol::{streaming_input_member, streaming_output_member, ServiceModel};

fn model(id: &str) -> ServiceModel {
    ServiceModel::from_json(cloudemu_models::model_json(id).expect("model"), None).expect("loads")
}

#[test]
fn s3_and_lambda_streaming_payloads() {
    let s3 = model("s3");
    let op = |m: &ServiceModel, n: &str| m.operation(n).cloned().expect("operation");
    assert_eq!(
        streaming_input_member(&s3, &op(&s3, "PutObject")),
        Some("Body")
    );
    assert_eq!(
        streaming_input_member(&s3, &op(&s3, "UploadPart")),
        Some("Body")
    );
    assert_eq!(
        streaming_output_member(&s3, &op(&s3, "GetObject")),
        Some("Body")
    );
    assert_eq!(
        streaming_input_member(&s3, &op(&s3, "PutBucketTagging")),
        None
    );
    assert_eq!(
        streaming_output_member(&s3, &op(&s3, "ListObjectsV2")),
        None
    );
    let iam = model("iam");
    assert_eq!(streaming_input_member(&iam, &op(&iam, "CreateRole")), None);
}
