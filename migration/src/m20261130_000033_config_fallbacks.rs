use sea_orm_migration::prelude::*;

use crate::timestamps::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum LlmConfigs {
    Table,
    FallbackConfigIds,
}

#[derive(DeriveIden, Clone, Copy)]
enum LlmCallLogs {
    Table,
    FallbackAttempts,
}

/// A config's fallbacks (a JSON array of config ids, tried in order when it fails before
/// answering), and in each record the attempts that failed before the answering config.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            LlmConfigs::Table,
            ColumnDef::new(LlmConfigs::FallbackConfigIds).text().null(),
        )
        .await?;
        add_column(
            manager,
            LlmCallLogs::Table,
            ColumnDef::new(LlmCallLogs::FallbackAttempts)
                .json_binary()
                .null(),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, LlmCallLogs::Table, LlmCallLogs::FallbackAttempts).await?;
        drop_column(manager, LlmConfigs::Table, LlmConfigs::FallbackConfigIds).await
    }
}
