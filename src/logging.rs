//! tracing setup: one line per request at info (see `gateway::dispatch`), text or JSON.

use crate::config::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

pub fn init(config: &Config) {
    // actix's own start/stop chatter stays out of the way unless asked for by name.
    let directives = if config.log_level.contains("actix") {
        config.log_level.clone()
    } else {
        format!("{},actix_server=warn", config.log_level)
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Colour only for people: CI logs and files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let _ = match config.log_format {
        LogFormat::Text => builder.try_init(),
        // Flat objects: the request line carries its own request id.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}
