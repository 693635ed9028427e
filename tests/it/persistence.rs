//! State survives a clean restart and a `kill -9`; SIGTERM stops the server cleanly.

use crate::harness::TestServer;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;

#[tokio::test]
async fn roles_survive_a_clean_restart() {
    let keep = tempfile::tempdir().expect("dir");
    let data = keep.path().join("data");

    let first = TestServer::disk_at(&data).await;
    let iam = aws_sdk_iam::Client::new(&first.sdk_config());
    iam.create_role()
        .role_name("durable")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect("CreateRole");
    iam.put_role_policy()
        .role_name("durable")
        .policy_name("p")
        .policy_document(TRUST)
        .send()
        .await
        .expect("PutRolePolicy");
    first.stop().await;

    let second = TestServer::disk_at(&data).await;
    let iam = aws_sdk_iam::Client::new(&second.sdk_config());
    let role = iam
        .get_role()
        .role_name("durable")
        .send()
        .await
        .expect("GetRole after restart");
    assert_eq!(role.role().map(|r| r.role_name()), Some("durable"));
    let names = iam
        .list_role_policies()
        .role_name("durable")
        .send()
        .await
        .expect("policies");
    assert_eq!(names.policy_names(), ["p"]);
    second.stop().await;
}

/// Start the real binary on a free port (port 0) and read the bound port from its start-up
/// line, so parallel tests never race for a port.
pub(crate) fn spawn_binary(data: &std::path::Path) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudemu"))
        .args(["--port", "0", "--log-format", "text", "--data-dir"])
        .arg(data)
        .env("CLOUDEMU_LOG_LEVEL", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn cloudemu");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = tx.send(port.parse::<u16>().unwrap_or(0));
            }
        }
    });
    let port = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("start-up line with the bound address");
    (child, port)
}

async fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = format!("http://127.0.0.1:{port}/_cloudemu/health");
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(&url).await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("server on port {port} did not become healthy");
}

fn client(port: u16) -> aws_sdk_iam::Client {
    let conf = aws_config::SdkConfig::builder()
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("test", "test", None, None, "t"),
            ),
        )
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    aws_sdk_iam::Client::new(&conf)
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut child, port) = spawn_binary(dir.path());
    wait_healthy(port).await;
    let iam = client(port);
    for i in 0..20 {
        iam.create_role()
            .role_name(format!("k9-{i}"))
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .expect("CreateRole");
    }
    child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    child.wait().expect("reaped");

    let (mut child, port) = spawn_binary(dir.path());
    wait_healthy(port).await;
    let roles = client(port).list_roles().send().await.expect("ListRoles");
    let mut names: Vec<&str> = roles.roles().iter().map(|r| r.role_name()).collect();
    names.sort_by_key(|n| n.trim_start_matches("k9-").parse::<u32>().unwrap_or(0));
    let expected: Vec<String> = (0..20).map(|i| format!("k9-{i}")).collect();
    assert_eq!(names, expected);
    child.kill().expect("stop");
    child.wait().expect("reaped");
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut child, port) = spawn_binary(dir.path());
    wait_healthy(port).await;
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            assert!(status.success(), "exit status {status:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A clean stop checkpoints the WAL into the database file.
    let wal = dir.path().join("cloudemu.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0);
}
