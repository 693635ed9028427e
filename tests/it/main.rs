//! CloudEmu's integration tests: one binary, every case against a real server on 127.0.0.1:0
//! through real clients (the AWS SDK for Rust, raw HTTP where SDKs will not go).

mod backlog;
mod dynamodb;
mod dynamodb_reads;
mod gateway;
mod harness;
mod iam;
mod kms;
mod lambda;
mod lambda_layers;
mod lambda_logs;
mod lambda_urls;
mod persistence;
mod robustness;
mod s3;
mod s3_conformance;
mod s3_inline;
mod s3_length;
mod s3_public;
mod s3_versioning;
mod s3_writes;
mod sqs;
mod sts;
