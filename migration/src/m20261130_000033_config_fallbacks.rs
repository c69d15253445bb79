use sea_orm_migration::prelude::*;

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
        manager
            .alter_table(
                Table::alter()
                    .table(LlmConfigs::Table)
                    .add_column(ColumnDef::new(LlmConfigs::FallbackConfigIds).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LlmCallLogs::Table)
                    .add_column(
                        ColumnDef::new(LlmCallLogs::FallbackAttempts)
                            .json_binary()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LlmCallLogs::Table)
                    .drop_column(LlmCallLogs::FallbackAttempts)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LlmConfigs::Table)
                    .drop_column(LlmConfigs::FallbackConfigIds)
                    .to_owned(),
            )
            .await
    }
}
