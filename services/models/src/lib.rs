//! AWS service models as botocore ships them (documentation stripped) plus CloudEmu's overlays.
//!
//! The models are embedded in the binary and parsed lazily by the protocol engine, so start-up
//! does not pay for services nobody calls. `scripts/update-models.py` regenerates `data/`.

/// The botocore release the files in `data/` come from.
pub const BOTOCORE_VERSION: &str = "1.43.11";

macro_rules! models {
    ($($id:literal),* $(,)?) => {
        /// Every service id whose model is embedded.
        pub const SERVICES: &[&str] = &[$($id),*];

        /// botocore's `service-2.json` for a CloudEmu service id.
        pub fn model_json(service: &str) -> Option<&'static str> {
            match service {
                $($id => Some(include_str!(concat!("../data/", $id, ".json"))),)*
                _ => None,
            }
        }

        /// CloudEmu's overlay for a service: facts a server needs that the model lacks.
        pub fn overlay_json(service: &str) -> Option<&'static str> {
            match service {
                $($id => Some(include_str!(concat!("../overlay/", $id, ".json"))),)*
                _ => None,
            }
        }
    };
}

/// A second model for services AWS now models in another protocol than their oldest clients
/// still speak: SQS's query-protocol model (result wrappers, flattened names, XML namespace)
/// from botocore 1.31.80, the last release that modelled SQS over query.
pub fn query_model_json(service: &str) -> Option<&'static str> {
    match service {
        "sqs" => Some(include_str!("../data/sqs-query.json")),
        _ => None,
    }
}

models!(
    "sts",
    "iam",
    "sqs",
    "s3",
    "s3control",
    "dynamodb",
    "dynamodbstreams",
    "kms",
    "lambda",
);
