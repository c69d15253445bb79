use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum LlmCallLogs {
    Table,
    GroupId,
    Status,
    CallTime,
}

const NAME: &str = "idx_llm_call_logs_group_status";

/// "One group's successes (or errors)": the page's total is counted inside this index alone,
/// and the page reads it newest first. Without it the count went through the status index
/// and looked up every success's row (~400 ms on a million records).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(LlmCallLogs::Table)
                    .col(LlmCallLogs::GroupId)
                    .col(LlmCallLogs::Status)
                    .col((LlmCallLogs::CallTime, IndexOrder::Desc))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME)
                    .table(LlmCallLogs::Table)
                    .to_owned(),
            )
            .await
    }
}
