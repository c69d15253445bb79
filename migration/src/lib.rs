//! Schema migrations, applied automatically at start-up; a database that has a migration this
//! binary does not know (a newer version wrote it) is refused. Written with sea-query's
//! builders, which run unchanged on SQLite and PostgreSQL; what they cannot say (partial
//! indexes, SQLite's FTS5 index, table rebuilds and schema edits, PostgreSQL's `pg_trgm`) is
//! raw SQL, one text per backend where the two differ.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_groups;
mod m20261126_000002_create_users;
mod m20261126_000003_create_activation_codes;
mod m20261126_000004_create_llm_configs;
mod m20261126_000005_create_llm_prompt_templates;
mod m20261126_000006_create_llm_call_logs;
mod m20261126_000007_create_app_settings;
mod m20261126_000008_create_group_usage;
mod m20261126_000009_create_call_stats_hourly;
mod m20261126_000010_index_call_logs_status_time;
mod m20261130_000011_call_logs_interrupted_status;
mod m20261130_000012_create_instances_and_reservations;
mod m20261130_000020_users_credentials_changed_at;
mod m20261130_000030_create_api_keys;
mod m20261130_000031_reasoning_configs_upstream_ids;
mod m20261130_000032_group_config_access;
mod m20261130_000033_config_fallbacks;
mod m20261130_000034_create_config_key_states;
mod m20261130_000035_config_circuit_breaker;
mod m20261130_000036_group_cost_budgets;
mod m20261130_000037_create_rate_limits;
mod m20261130_000040_call_currency;
mod m20261130_000041_create_webhooks;
mod m20261130_000042_create_alerts;
mod m20261130_000043_create_alert_deliveries;
mod m20261130_000045_call_log_search;
mod m20261130_000046_index_call_logs_group_status;
mod m20261130_000047_call_logs_fewer_index_writes;
mod m20261130_000048_drop_group_usage_cost;
mod m20261130_000049_call_log_search_without_sizes;
mod m20261130_000050_call_log_list_indexes;
mod m20261130_000051_call_log_search_in_batches;
mod m20261130_000052_call_logs_ascending_indexes;
mod m20261130_000056_webhook_recent_sends;
mod m20261201_000057_call_log_search_without_positions;
mod m20261201_000058_call_log_status_check_without_list;
mod timestamps;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_groups::Migration),
            Box::new(m20261126_000002_create_users::Migration),
            Box::new(m20261126_000003_create_activation_codes::Migration),
            Box::new(m20261126_000004_create_llm_configs::Migration),
            Box::new(m20261126_000005_create_llm_prompt_templates::Migration),
            Box::new(m20261126_000006_create_llm_call_logs::Migration),
            Box::new(m20261126_000007_create_app_settings::Migration),
            Box::new(m20261126_000008_create_group_usage::Migration),
            Box::new(m20261126_000009_create_call_stats_hourly::Migration),
            Box::new(m20261126_000010_index_call_logs_status_time::Migration),
            Box::new(m20261130_000011_call_logs_interrupted_status::Migration),
            Box::new(m20261130_000012_create_instances_and_reservations::Migration),
            Box::new(m20261130_000020_users_credentials_changed_at::Migration),
            Box::new(m20261130_000030_create_api_keys::Migration),
            Box::new(m20261130_000031_reasoning_configs_upstream_ids::Migration),
            Box::new(m20261130_000032_group_config_access::Migration),
            Box::new(m20261130_000033_config_fallbacks::Migration),
            Box::new(m20261130_000034_create_config_key_states::Migration),
            Box::new(m20261130_000035_config_circuit_breaker::Migration),
            Box::new(m20261130_000036_group_cost_budgets::Migration),
            Box::new(m20261130_000037_create_rate_limits::Migration),
            Box::new(m20261130_000040_call_currency::Migration),
            Box::new(m20261130_000041_create_webhooks::Migration),
            Box::new(m20261130_000042_create_alerts::Migration),
            Box::new(m20261130_000043_create_alert_deliveries::Migration),
            Box::new(m20261130_000045_call_log_search::Migration),
            Box::new(m20261130_000046_index_call_logs_group_status::Migration),
            Box::new(m20261130_000047_call_logs_fewer_index_writes::Migration),
            Box::new(m20261130_000048_drop_group_usage_cost::Migration),
            Box::new(m20261130_000049_call_log_search_without_sizes::Migration),
            Box::new(m20261130_000050_call_log_list_indexes::Migration),
            Box::new(m20261130_000051_call_log_search_in_batches::Migration),
            Box::new(m20261130_000052_call_logs_ascending_indexes::Migration),
            Box::new(m20261130_000056_webhook_recent_sends::Migration),
            Box::new(m20261201_000057_call_log_search_without_positions::Migration),
            Box::new(m20261201_000058_call_log_status_check_without_list::Migration),
        ]
    }
}
