//! CloudEmu: AWS services on one port, in one binary.
//!
//! `main.rs` and the integration tests both start the server through [`start`].

pub mod backlog;
pub mod config;
pub mod gateway;
pub mod internal;
pub mod logging;
pub mod registry;
pub mod server;

pub use config::Config;
pub use server::{start, Running, StartError};
