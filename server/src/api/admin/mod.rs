//! Admin-only resources under `/api/admin`, one file per resource. Every handler takes
//! `AdminAuth`, so an ordinary user, a sub-account or a client token gets 403.

pub mod activation_codes;
pub mod alerts;
pub mod api_keys;
pub mod configs;
mod csv;
pub mod groups;
mod log_filters;
pub mod logs;
pub mod settings;
pub mod stats;
pub mod templates;
pub mod users;
