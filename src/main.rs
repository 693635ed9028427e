use clap::Parser;
use cloudemu::{config::Config, logging, server};
use std::process::ExitCode;

// The main runtime only hosts start-up and shutdown; actix runs its own worker threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let config = Config::parse();
    logging::init(&config);
    let deadline = server::stop_deadline(&config);
    let running = match cloudemu::start(config).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    server::shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight requests");
    if tokio::time::timeout(deadline, running.stop())
        .await
        .is_err()
    {
        tracing::warn!("shutdown timed out");
        return ExitCode::FAILURE;
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
