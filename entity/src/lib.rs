//! SeaORM entities, one file per table. These are storage rows only: API objects are
//! separate DTOs in the server, so a column can never leak into a response by accident.

pub mod activation_codes;
pub mod alert_deliveries;
pub mod alerts;
pub mod api_keys;
pub mod app_settings;
pub mod call_stats_hourly;
pub mod config_key_states;
pub mod group_usage;
pub mod groups;
pub mod instances;
pub mod llm_call_logs;
pub mod llm_configs;
pub mod llm_prompt_templates;
pub mod quota_reservations;
pub mod rate_limits;
pub mod users;
pub mod webhooks;
