use sea_orm_migration::prelude::*;

use crate::timestamps::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum LlmConfigs {
    Table,
    ReasoningModel,
}

#[derive(DeriveIden, Clone, Copy)]
enum LlmCallLogs {
    Table,
    UpstreamId,
}

/// A config's "reasoning model" switch (its sampling defaults are not sent: o-series,
/// gpt-5 and thinking models refuse them), and the upstream's id of each answer in its
/// record. One column per ALTER, as SQLite requires.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            LlmConfigs::Table,
            ColumnDef::new(LlmConfigs::ReasoningModel)
                .boolean()
                .not_null()
                .default(false),
        )
        .await?;
        add_column(
            manager,
            LlmCallLogs::Table,
            ColumnDef::new(LlmCallLogs::UpstreamId)
                .string_len(200)
                .null(),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, LlmCallLogs::Table, LlmCallLogs::UpstreamId).await?;
        drop_column(manager, LlmConfigs::Table, LlmConfigs::ReasoningModel).await
    }
}
