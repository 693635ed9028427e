//! The shared test server and client setup every service's tests use.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use cloudemu::{Config, Running};
use std::path::Path;

pub struct TestServer {
    running: Option<Running>,
    pub endpoint: String,
}

fn config(data_dir: Option<&Path>) -> Config {
    let mut c = Config::defaults();
    c.port = 0;
    c.workers = Some(2);
    c.shutdown_timeout = 5;
    match data_dir {
        Some(d) => c.data_dir = d.to_path_buf(),
        None => c.in_memory = true,
    }
    c
}

impl TestServer {
    /// A server with in-memory state.
    pub async fn memory() -> Self {
        Self::start(config(None)).await
    }

    /// An in-memory server with a changed configuration.
    pub async fn memory_with(change: impl FnOnce(&mut Config)) -> Self {
        let mut c = config(None);
        change(&mut c);
        Self::start(c).await
    }

    /// A server over an existing data dir (restart tests).
    pub async fn disk_at(dir: &Path) -> Self {
        Self::start(config(Some(dir))).await
    }

    /// A server over an existing data dir with a changed configuration.
    pub async fn disk_at_with(dir: &Path, change: impl FnOnce(&mut Config)) -> Self {
        let mut c = config(Some(dir));
        change(&mut c);
        Self::start(c).await
    }

    async fn start(config: Config) -> Self {
        let running = cloudemu::start(config).await.expect("server starts");
        let endpoint = format!("http://{}", running.addr);
        Self {
            running: Some(running),
            endpoint,
        }
    }

    /// SDK configuration for this server with the given access key (a 12-digit key selects
    /// that account).
    pub fn sdk_config_with(
        &self,
        access_key: &str,
        secret: &str,
        token: Option<String>,
    ) -> SdkConfig {
        SdkConfig::builder()
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                access_key,
                secret,
                token,
                None,
                "cloudemu-tests",
            )))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .behavior_version(BehaviorVersion::latest())
            .build()
    }

    pub fn sdk_config(&self) -> SdkConfig {
        self.sdk_config_with("test", "test", None)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint)
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// A raw HTTP client for requests SDKs will not send.
pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}
