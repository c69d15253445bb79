//! Fewer index entries written per call record.
//!
//! - `idx_llm_call_logs_status` goes: every query it served (a status alone, or with a time
//!   range) is served by `idx_llm_call_logs_status_time`, which starts with the same column.
//! - The API-key and activation-code indexes only hold records that have one: a call is made
//!   either with an API key or with an activation code, so each record skipped one of the two
//!   before as a NULL entry. Their filters (`col = ?`, and the `ON DELETE SET NULL` of an API
//!   key) imply `IS NOT NULL`, so SQLite and PostgreSQL still use them.

use sea_orm_migration::prelude::*;

use crate::timestamps::execute_all;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "DROP INDEX IF EXISTS idx_llm_call_logs_status",
    "DROP INDEX IF EXISTS idx_llm_call_logs_api_key",
    "CREATE INDEX idx_llm_call_logs_api_key ON llm_call_logs (api_key_id, call_time DESC) \
     WHERE api_key_id IS NOT NULL",
    "DROP INDEX IF EXISTS idx_llm_call_logs_activation",
    "CREATE INDEX idx_llm_call_logs_activation ON llm_call_logs (activation_code) \
     WHERE activation_code IS NOT NULL",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS idx_llm_call_logs_activation",
    "CREATE INDEX idx_llm_call_logs_activation ON llm_call_logs (activation_code)",
    "DROP INDEX IF EXISTS idx_llm_call_logs_api_key",
    "CREATE INDEX idx_llm_call_logs_api_key ON llm_call_logs (api_key_id, call_time DESC)",
    "CREATE INDEX idx_llm_call_logs_status ON llm_call_logs (status)",
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
