//! llm-proxy: a large-model API proxy with encrypted provider keys, call records,
//! quotas and an embedded admin UI. `main.rs` is a thin shell around [`cli::run`].

pub mod alerts;
pub mod allow;
pub mod api;
pub mod auth;
pub mod banner;
pub mod bootstrap;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod crypto;
pub mod db;
pub mod error;
pub mod guard;
pub mod headers;
pub mod log_text;
pub mod logging;
pub mod memo;
pub mod metrics;
pub mod parse_errors;
pub mod process;
pub mod providers;
pub mod quotas;
pub mod relay;
pub mod secret;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod state;
pub mod validate;
pub mod web;
