use sea_orm_migration::prelude::*;

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
        manager
            .alter_table(
                Table::alter()
                    .table(LlmConfigs::Table)
                    .add_column(
                        ColumnDef::new(LlmConfigs::ReasoningModel)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LlmCallLogs::Table)
                    .add_column(
                        ColumnDef::new(LlmCallLogs::UpstreamId)
                            .string_len(200)
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
                    .drop_column(LlmCallLogs::UpstreamId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LlmConfigs::Table)
                    .drop_column(LlmConfigs::ReasoningModel)
                    .to_owned(),
            )
            .await
    }
}
