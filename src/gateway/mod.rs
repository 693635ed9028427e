//! The gateway: every AWS request goes through `dispatch::handle`.

pub mod body;
pub mod dispatch;
pub mod header_map;
pub mod identity;
pub mod payload;
pub mod presign;
pub mod route;
pub mod s3_cors;
pub mod s3_host;
