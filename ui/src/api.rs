//! Talking to the server: envelope decoding (pure), the DTOs, and the HTTP client.

pub mod client;
pub mod envelope;
pub mod models;

pub use client::Api;
pub use envelope::ApiError;
