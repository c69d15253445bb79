use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum LlmCallLogs {
    Table,
    Status,
    CallTime,
}

/// "Errors, newest first" (alone or within a date range) reads this index in order instead
/// of sorting every error; the plain status index is too coarse for it on a large log.
pub(crate) fn index() -> IndexCreateStatement {
    Index::create()
        .name("idx_llm_call_logs_status_time")
        .table(LlmCallLogs::Table)
        .col(LlmCallLogs::Status)
        .col((LlmCallLogs::CallTime, IndexOrder::Desc))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(index()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_llm_call_logs_status_time")
                    .table(LlmCallLogs::Table)
                    .to_owned(),
            )
            .await
    }
}
