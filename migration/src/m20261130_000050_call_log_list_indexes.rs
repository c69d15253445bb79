//! Two call-log list filters that read far more records than their page:
//!
//! - An activation code's records, newest first: its index held the code alone, so a page
//!   read (and sorted) every record of the code. The index now also holds the call time,
//!   so a page reads its own entries only. Same entries as before (records with a code),
//!   each a timestamp longer.
//! - A config's failed calls (`status` error or interrupted), usually within a date range:
//!   the config's index walked every call of the config, successes included, to find few
//!   or none. A partial index holds only the calls that did not succeed (about 2 % of the
//!   records in the benchmark; the cost of a success is nothing). The list adds the implied
//!   `status <> 'success'` to a config's search for failures so that both databases know
//!   they may use it.

use sea_orm_migration::prelude::*;

use crate::timestamps::execute_all;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "DROP INDEX IF EXISTS idx_llm_call_logs_activation",
    "CREATE INDEX idx_llm_call_logs_activation ON llm_call_logs (activation_code, call_time DESC) \
     WHERE activation_code IS NOT NULL",
    "CREATE INDEX idx_llm_call_logs_config_failed ON llm_call_logs (config_id, call_time DESC) \
     WHERE status <> 'success'",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS idx_llm_call_logs_config_failed",
    "DROP INDEX IF EXISTS idx_llm_call_logs_activation",
    "CREATE INDEX idx_llm_call_logs_activation ON llm_call_logs (activation_code) \
     WHERE activation_code IS NOT NULL",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(manager, DOWN).await
    }
}
