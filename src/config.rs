//! The one place configuration is read: command-line flags, each also an env var.

use clap::{Parser, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "cloudemu",
    version,
    about = "AWS services on one port, in one binary"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "CLOUDEMU_HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "CLOUDEMU_PORT", default_value_t = 4566)]
    pub port: u16,

    /// Directory for durable state (SQLite database and object files).
    #[arg(long, env = "CLOUDEMU_DATA_DIR", default_value = ".cloudemu")]
    pub data_dir: PathBuf,

    /// Keep all state in memory; nothing is written to disk.
    #[arg(long, env = "CLOUDEMU_IN_MEMORY")]
    pub in_memory: bool,

    /// Services to serve, comma-separated (default: all).
    #[arg(long, env = "CLOUDEMU_SERVICES", value_delimiter = ',')]
    pub services: Vec<String>,

    /// Region for requests that do not name one.
    #[arg(long, env = "CLOUDEMU_REGION", default_value = "us-east-1")]
    pub region: String,

    /// Account for requests whose access key names none.
    #[arg(long, env = "CLOUDEMU_ACCOUNT_ID", default_value = "000000000000")]
    pub account_id: String,

    /// Log filter (`info`, `debug`, `cloudemu=debug,sqlx=warn`, …).
    #[arg(long, env = "CLOUDEMU_LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Log line format.
    #[arg(long, env = "CLOUDEMU_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CLOUDEMU_WORKERS")]
    pub workers: Option<usize>,

    /// Seconds in-flight requests get to finish on shutdown.
    #[arg(long, env = "CLOUDEMU_SHUTDOWN_TIMEOUT", default_value_t = 10)]
    pub shutdown_timeout: u64,

    /// Extra host names under which `<bucket>.<name>` addresses an S3 bucket
    /// (virtual-hosted style); `localhost` and any `*.s3.*` host always work.
    #[arg(long, env = "CLOUDEMU_S3_HOSTNAMES", value_delimiter = ',')]
    pub s3_hostnames: Vec<String>,

    /// Python interpreter Lambda's python3.x functions run on (a venv's python works).
    #[arg(long, env = "CLOUDEMU_LAMBDA_PYTHON", default_value = "python3")]
    pub lambda_python: String,

    /// Node.js executable for Lambda's nodejs functions.
    #[arg(long, env = "CLOUDEMU_LAMBDA_NODE", default_value = "node")]
    pub lambda_node: String,

    /// Seconds an idle Lambda execution environment stays warm before it is stopped.
    #[arg(long, env = "CLOUDEMU_LAMBDA_IDLE_SECONDS", default_value_t = 300)]
    pub lambda_idle_seconds: u64,

    /// Multiplies Lambda's waits between asynchronous retries (1 and 2 minutes on AWS);
    /// 0.01 makes them 0.6 s and 1.2 s for tests.
    #[arg(long, env = "CLOUDEMU_LAMBDA_ASYNC_RETRY_SCALE", default_value_t = 1.0)]
    pub lambda_async_retry_scale: f64,
}

impl Config {
    /// Defaults as the command line gives them, for embedding (tests, benchmarks).
    pub fn defaults() -> Self {
        Self::parse_from(["cloudemu"])
    }
}
