//! The end-to-end tests: the real `llm-proxy` binary on loopback ports, driven over HTTP (and
//! in Chromium), against a fake upstream that speaks every provider's wire format. One test
//! crate, so the whole suite links once; each module below is one area. (`fuzz_corpus` is the
//! exception: it runs the fuzz targets' properties on their committed inputs, in process.)
//!
//! Database: SQLite in a temporary folder, or PostgreSQL when `LLM_PROXY_TEST_DATABASE_URL`
//! is set (see `common`).

mod common;
#[path = "../support/fake_upstream.rs"]
mod fake_upstream;

mod admin_api;
mod alerts;
mod api_keys;
mod browser;
mod console;
mod contract;
mod fuzz_corpus;
mod governance;
mod lifecycle;
mod log_search;
mod metrics;
mod openapi_snapshot;
mod providers_wire;
mod relay;
mod roles;
mod schemathesis;
mod sdk;
mod secrets;
mod security;
mod startup;
mod transport;
mod ui_bundle;
mod v1;
mod web;
