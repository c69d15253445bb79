//! One module per page; dialogs that belong to a page sit beside it.

pub mod alerts;
pub mod api_keys;
pub mod codes;
pub mod config_dialog;
pub mod config_keys;
pub mod config_routing;
pub mod config_test;
pub mod configs;
pub mod dashboard;
pub mod group_access;
pub mod groups;
pub mod log_detail;
pub mod login;
pub mod logs;
pub mod notice;
pub mod password;
pub mod settings;
pub mod settings_rates;
pub mod stats;
pub mod template_form;
pub mod templates;
pub mod users;
