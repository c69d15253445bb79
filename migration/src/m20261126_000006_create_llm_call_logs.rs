use sea_orm_migration::prelude::*;

use crate::{
    m20261126_000001_create_groups::Groups, m20261126_000002_create_users::Users,
    m20261126_000004_create_llm_configs::LlmConfigs,
    m20261126_000005_create_llm_prompt_templates::LlmPromptTemplates, timestamps::flag,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum LlmCallLogs {
    Table,
    Id,
    ConfigId,
    TemplateId,
    GroupId,
    ActivationCode,
    UserId,
    ConfigName,
    Provider,
    Model,
    RequestMessages,
    RequestParams,
    ResponseContent,
    ResponseData,
    Status,
    ErrorCode,
    ErrorMessage,
    TokensUsed,
    PromptTokens,
    CompletionTokens,
    TokensEstimated,
    Cost,
    RetryCount,
    IsStream,
    CallTime,
    DurationMs,
}

/// The requirements' indexes: newest-first per config, per group and overall.
fn index_by(name: &str, leading: Option<LlmCallLogs>) -> IndexCreateStatement {
    let mut statement = Index::create();
    statement.name(name).table(LlmCallLogs::Table);
    if let Some(column) = leading {
        statement.col(column);
    }
    statement
        .col((LlmCallLogs::CallTime, IndexOrder::Desc))
        .to_owned()
}

fn set_null_fk(
    column: LlmCallLogs,
    table: impl IntoIden,
    id: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(LlmCallLogs::Table, column)
        .to(table, id)
        // A record outlives what it refers to: it keeps its snapshot of names.
        .on_delete(ForeignKeyAction::SetNull)
        .to_owned()
}

/// The table's columns (no foreign keys), as first created and as rebuilt later; `statuses`
/// are the values the `status` check allows.
pub(crate) fn table(name: impl IntoIden, statuses: &[&'static str]) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(
            ColumnDef::new(LlmCallLogs::Id)
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(ColumnDef::new(LlmCallLogs::ConfigId).integer())
        .col(ColumnDef::new(LlmCallLogs::TemplateId).integer())
        .col(ColumnDef::new(LlmCallLogs::GroupId).integer())
        .col(ColumnDef::new(LlmCallLogs::ActivationCode).string_len(32))
        .col(ColumnDef::new(LlmCallLogs::UserId).integer())
        .col(
            ColumnDef::new(LlmCallLogs::ConfigName)
                .string_len(100)
                .not_null(),
        )
        .col(
            ColumnDef::new(LlmCallLogs::Provider)
                .string_len(50)
                .not_null(),
        )
        .col(
            ColumnDef::new(LlmCallLogs::Model)
                .string_len(100)
                .not_null(),
        )
        .col(
            ColumnDef::new(LlmCallLogs::RequestMessages)
                .json_binary()
                .not_null(),
        )
        .col(ColumnDef::new(LlmCallLogs::RequestParams).json_binary())
        .col(ColumnDef::new(LlmCallLogs::ResponseContent).text())
        .col(ColumnDef::new(LlmCallLogs::ResponseData).json_binary())
        .col(
            ColumnDef::new(LlmCallLogs::Status)
                .string_len(20)
                .not_null()
                .check((
                    "check_status",
                    Expr::col(LlmCallLogs::Status).is_in(statuses.iter().copied()),
                )),
        )
        .col(ColumnDef::new(LlmCallLogs::ErrorCode).string_len(64))
        .col(ColumnDef::new(LlmCallLogs::ErrorMessage).text())
        .col(ColumnDef::new(LlmCallLogs::TokensUsed).integer())
        .col(ColumnDef::new(LlmCallLogs::PromptTokens).integer())
        .col(ColumnDef::new(LlmCallLogs::CompletionTokens).integer())
        .col(flag(LlmCallLogs::TokensEstimated, false))
        .col(
            ColumnDef::new(LlmCallLogs::Cost)
                .double()
                .not_null()
                .default(0.0),
        )
        .col(
            ColumnDef::new(LlmCallLogs::RetryCount)
                .integer()
                .not_null()
                .default(0),
        )
        .col(flag(LlmCallLogs::IsStream, false))
        .col(
            ColumnDef::new(LlmCallLogs::CallTime)
                .timestamp_with_time_zone()
                .not_null()
                .default(Expr::current_timestamp()),
        )
        .col(ColumnDef::new(LlmCallLogs::DurationMs).integer())
        .to_owned()
}

/// The requirements' indexes.
pub(crate) fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index_by("idx_llm_call_logs_config", Some(LlmCallLogs::ConfigId)),
        index_by("idx_llm_call_logs_group", Some(LlmCallLogs::GroupId)),
        index_by("idx_llm_call_logs_time", None),
        Index::create()
            .name("idx_llm_call_logs_activation")
            .table(LlmCallLogs::Table)
            .col(LlmCallLogs::ActivationCode)
            .to_owned(),
        Index::create()
            .name("idx_llm_call_logs_status")
            .table(LlmCallLogs::Table)
            .col(LlmCallLogs::Status)
            .to_owned(),
    ]
}

/// Adds the references to configs, templates, groups and users; a record outlives what it
/// refers to (the reference becomes NULL, the snapshot of names stays).
pub(crate) fn with_references(create: &mut TableCreateStatement) {
    for (column, parent, id) in [
        (
            LlmCallLogs::ConfigId,
            LlmConfigs::Table.into_iden(),
            LlmConfigs::Id.into_iden(),
        ),
        (
            LlmCallLogs::TemplateId,
            LlmPromptTemplates::Table.into_iden(),
            LlmPromptTemplates::Id.into_iden(),
        ),
        (
            LlmCallLogs::GroupId,
            Groups::Table.into_iden(),
            Groups::Id.into_iden(),
        ),
        (
            LlmCallLogs::UserId,
            Users::Table.into_iden(),
            Users::Id.into_iden(),
        ),
    ] {
        create.foreign_key(&mut set_null_fk(column, parent, id));
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut create = table(LlmCallLogs::Table, &["success", "error"]);
        with_references(&mut create);
        manager.create_table(create).await?;
        for statement in indexes() {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LlmCallLogs::Table).to_owned())
            .await
    }
}
