//! cryo-daemon: the `cryod` build daemon as a library.
//!
//! - [`config`]: configuration layers (file < env < flags).
//! - [`server`]: state-dir lock, listeners, graceful shutdown.
//! - [`http`]: the versioned JSON API, one module per endpoint group.
//! - [`services`]: the composition root: every service built once, and their wiring.
//!
//! The binary (`src/bin/cryod.rs`) only parses flags, sets up logging and calls
//! [`server::run`].

pub mod auth;
pub mod build;
pub mod cache;
pub mod campaign;
pub mod clock;
pub mod config;
pub mod drv;
pub mod explain;
pub mod http;
pub mod mirror;
pub mod project;
pub mod publish;
pub mod request;
pub mod server;
pub mod services;
pub mod table;
pub mod verify;
